/* SPDX-License-Identifier: MIT */
/*
 * options.c - command line parsing with getopt_long_only() (so -flag and
 * --flag both work), value validation, and --help text.
 */
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_LISTEN_QEMU = 256,
	OPT_LISTEN_VFKIT,
	OPT_TAP_NETNS,
	OPT_TAP_NAME,
	OPT_TAP_FD,
	OPT_SUBNET,
	OPT_GATEWAY_IP,
	OPT_HOST_IP,
	OPT_MTU,
	OPT_LOG_LEVEL,
	OPT_PID_FILE,
	OPT_HELP,
	OPT_VERSION,
	OPT_OUT_ALLOW,
	OPT_OUT_DENY,
	OPT_DEBUG_ECHO,
	OPT_DNS_UPSTREAM,
	OPT_DNS_RECORD,
	OPT_DNS_CACHE_SIZE,
	OPT_DNS_MAX_TTL,
	OPT_DNS_FAIL_TTL,
	OPT_DNS_STALE_MAX,
	OPT_RESOLV_CONF,
	OPT_DHCP_DOMAIN,
	OPT_DHCP_SEARCH,
	OPT_DHCP_LEASE,
};

static const struct option long_opts[] = {
	{ "listen-qemu", required_argument, NULL, OPT_LISTEN_QEMU },
	{ "listen-vfkit", required_argument, NULL, OPT_LISTEN_VFKIT },
	{ "tap-netns", required_argument, NULL, OPT_TAP_NETNS },
	{ "tap-name", required_argument, NULL, OPT_TAP_NAME },
	{ "tap-fd", required_argument, NULL, OPT_TAP_FD },
	{ "subnet", required_argument, NULL, OPT_SUBNET },
	{ "gateway-ip", required_argument, NULL, OPT_GATEWAY_IP },
	{ "host-ip", required_argument, NULL, OPT_HOST_IP },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "pid-file", required_argument, NULL, OPT_PID_FILE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "outbound-allow", required_argument, NULL, OPT_OUT_ALLOW },
	{ "outbound-deny", required_argument, NULL, OPT_OUT_DENY },
	{ "debug-tcp-echo", no_argument, NULL, OPT_DEBUG_ECHO },
	{ "dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM },
	{ "dns-record", required_argument, NULL, OPT_DNS_RECORD },
	{ "dns-cache-size", required_argument, NULL, OPT_DNS_CACHE_SIZE },
	{ "dns-max-ttl", required_argument, NULL, OPT_DNS_MAX_TTL },
	{ "dns-fail-ttl", required_argument, NULL, OPT_DNS_FAIL_TTL },
	{ "dns-stale-max", required_argument, NULL, OPT_DNS_STALE_MAX },
	{ "resolv-conf", required_argument, NULL, OPT_RESOLV_CONF },
	{ "dhcp-domain", required_argument, NULL, OPT_DHCP_DOMAIN },
	{ "dhcp-search", required_argument, NULL, OPT_DHCP_SEARCH },
	{ "dhcp-lease-time", required_argument, NULL, OPT_DHCP_LEASE },
	{ NULL, 0, NULL, 0 },
};

void vg_options_usage(FILE *out)
{
	fputs("Usage: vgate [OPTIONS]\n"
	      "A userspace network gateway for one VM: DHCP, DNS, NAT to host sockets.\n"
	      "Options take one or two dashes.\n"
	      "\n"
	      "Guest link (exactly one):\n"
	      "  --listen-qemu URI      unix:///PATH or tcp://127.0.0.1:PORT (QEMU -netdev stream)\n"
	      "  --listen-vfkit URI     unixgram:///PATH (vfkit, QEMU -netdev dgram)\n"
	      "  --tap-netns PATH       open a TAP inside this network namespace\n"
	      "  --tap-name NAME        TAP device name (default tap0)\n"
	      "  --tap-fd N             use an already open TAP file descriptor\n"
	      "\n"
	      "Network:\n"
	      "  --subnet CIDR          guest subnet (default 192.168.127.0/24)\n"
	      "  --gateway-ip IP        gateway address (default .1 of the subnet)\n"
	      "  --host-ip IP           host alias, reaches host loopback (default .254)\n"
	      "  --mtu N                link MTU, 576..65520 (default 1500)\n"
	      "  --dhcp-domain NAME     DHCP domain name option\n"
	      "  --dhcp-search LIST     DHCP domain search list (space separated)\n"
	      "  --dhcp-lease-time S    lease time in seconds (default 3600)\n"
	      "\n"
	      "Outbound policy:\n"
	      "  --outbound-allow CIDR  allow flows to CIDR (repeatable; any allow rule\n"
	      "                         makes everything else denied)\n"
	      "  --outbound-deny CIDR   deny flows to CIDR (repeatable)\n"
	      "\n"
	      "DNS:\n"
	      "  --dns-upstream A[:P]   upstream server (repeatable; default resolv.conf)\n"
	      "  --resolv-conf PATH     resolver config to read (default /etc/resolv.conf)\n"
	      "  --dns-record NAME=IP   static record (repeatable)\n"
	      "  --dns-cache-size N     cache entries (default 10000)\n"
	      "  --dns-max-ttl S        TTL cap in seconds (default 5)\n"
	      "  --dns-fail-ttl S       failure caching in seconds (default 1)\n"
	      "  --dns-stale-max S      serve-stale window in seconds (default 3600)\n"
	      "\n"
	      "Process:\n"
	      "  --log-level LEVEL      error, warn, info (default) or debug\n"
	      "  --pid-file PATH        write the pid here once ready\n"
	      "  --debug-tcp-echo       test behaviour: echo guest TCP flows back\n"
	      "  --help, --version\n",
	      out);
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = a.s_addr;
	return 0;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

enum vg_parse_result vg_options_parse(int argc, char **argv, struct vg_options *o, FILE *out,
				      char *err, size_t errlen)
{
	bool gw_set = false, host_set = false;
	int c, idx;
	long v;

	memset(o, 0, sizeof(*o));
	ns_config_defaults(&o->ns);
	fwd_policy_init(&o->policy);
	o->tap_fd = -1;
	o->tap_name = "tap0";
	o->log_level = VG_LOG_INFO;
	o->dns_cache_size = o->dns_max_ttl = o->dns_fail_ttl = o->dns_stale_max = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, ":", long_opts, &idx)) != -1) {
		const char *name = long_opts[idx].name;

		switch (c) {
		case OPT_LISTEN_QEMU:
			o->listen_qemu = optarg;
			break;
		case OPT_LISTEN_VFKIT:
			o->listen_vfkit = optarg;
			break;
		case OPT_TAP_NETNS:
			o->tap_netns = optarg;
			break;
		case OPT_TAP_NAME:
			if (!*optarg || strlen(optarg) >= 16) {
				snprintf(err, errlen, "invalid --tap-name '%s'", optarg);
				return VG_PARSE_ERROR;
			}
			o->tap_name = optarg;
			break;
		case OPT_TAP_FD:
			if (parse_long(optarg, 0, INT_MAX, &v) < 0) {
				snprintf(err, errlen, "invalid --tap-fd '%s'", optarg);
				return VG_PARSE_ERROR;
			}
			o->tap_fd = (int)v;
			break;
		case OPT_SUBNET: {
			uint32_t net;
			uint8_t prefix;

			if (fwd_cidr_parse(optarg, &net, &prefix) < 0 || !strchr(optarg, '/')) {
				snprintf(err, errlen, "invalid --subnet '%s' (expected A.B.C.D/N)",
					 optarg);
				return VG_PARSE_ERROR;
			}
			o->ns.subnet = net;
			o->ns.prefix = prefix;
			break;
		}
		case OPT_GATEWAY_IP:
		case OPT_HOST_IP:
			if (parse_ip(optarg, c == OPT_GATEWAY_IP ? &o->ns.gateway_ip
								  : &o->ns.host_ip) < 0) {
				snprintf(err, errlen, "invalid --%s '%s'", name, optarg);
				return VG_PARSE_ERROR;
			}
			if (c == OPT_GATEWAY_IP)
				gw_set = true;
			else
				host_set = true;
			break;
		case OPT_MTU:
			if (parse_long(optarg, NS_MTU_MIN, NS_MTU_MAX, &v) < 0) {
				snprintf(err, errlen, "invalid --mtu '%s' (expected %d..%d)", optarg,
					 NS_MTU_MIN, NS_MTU_MAX);
				return VG_PARSE_ERROR;
			}
			o->ns.mtu = (unsigned int)v;
			break;
		case OPT_LOG_LEVEL:
			if (vg_log_level_parse(optarg, &o->log_level) < 0) {
				snprintf(err, errlen,
					 "invalid --log-level '%s' (error, warn, info, debug)", optarg);
				return VG_PARSE_ERROR;
			}
			break;
		case OPT_PID_FILE:
			o->pid_file = optarg;
			break;
		case OPT_HELP:
			vg_options_usage(out);
			return VG_PARSE_EXIT;
		case OPT_VERSION:
			fprintf(out, "vgate %s\n", VGATE_VERSION);
			return VG_PARSE_EXIT;
		case OPT_OUT_ALLOW:
		case OPT_OUT_DENY:
			if (fwd_policy_add(&o->policy, c == OPT_OUT_ALLOW, optarg, err, errlen) < 0)
				return VG_PARSE_ERROR;
			break;
		case OPT_DEBUG_ECHO:
			o->debug_tcp_echo = true;
			break;
		case OPT_DNS_UPSTREAM:
			if (o->n_dns_upstream >= VG_MAX_UPSTREAMS) {
				snprintf(err, errlen, "too many --dns-upstream (max %d)",
					 VG_MAX_UPSTREAMS);
				return VG_PARSE_ERROR;
			}
			o->dns_upstream[o->n_dns_upstream++] = optarg;
			break;
		case OPT_DNS_RECORD:
			if (o->n_dns_record >= VG_MAX_RECORDS || !strchr(optarg, '=')) {
				snprintf(err, errlen, "invalid --dns-record '%s' (NAME=IP, max %d)",
					 optarg, VG_MAX_RECORDS);
				return VG_PARSE_ERROR;
			}
			o->dns_record[o->n_dns_record++] = optarg;
			break;
		case OPT_DNS_CACHE_SIZE:
		case OPT_DNS_MAX_TTL:
		case OPT_DNS_FAIL_TTL:
		case OPT_DNS_STALE_MAX: {
			long *dst = c == OPT_DNS_CACHE_SIZE ? &o->dns_cache_size
				    : c == OPT_DNS_MAX_TTL  ? &o->dns_max_ttl
				    : c == OPT_DNS_FAIL_TTL ? &o->dns_fail_ttl
							    : &o->dns_stale_max;
			long min = c == OPT_DNS_CACHE_SIZE ? 1 : 0;
			long max = c == OPT_DNS_CACHE_SIZE ? 10000000 : 86400 * 7;

			if (parse_long(optarg, min, max, dst) < 0) {
				snprintf(err, errlen, "invalid --%s '%s' (expected %ld..%ld)", name,
					 optarg, min, max);
				return VG_PARSE_ERROR;
			}
			break;
		}
		case OPT_RESOLV_CONF:
			o->resolv_conf = optarg;
			break;
		case OPT_DHCP_DOMAIN:
			if (strlen(optarg) >= sizeof(o->ns.domain)) {
				snprintf(err, errlen, "--dhcp-domain '%s' is too long", optarg);
				return VG_PARSE_ERROR;
			}
			strcpy(o->ns.domain, optarg);
			break;
		case OPT_DHCP_SEARCH:
			if (strlen(optarg) >= sizeof(o->ns.search)) {
				snprintf(err, errlen, "--dhcp-search '%s' is too long", optarg);
				return VG_PARSE_ERROR;
			}
			strcpy(o->ns.search, optarg);
			break;
		case OPT_DHCP_LEASE:
			if (parse_long(optarg, 60, 86400 * 365, &v) < 0) {
				snprintf(err, errlen, "invalid --dhcp-lease-time '%s' (60..31536000)",
					 optarg);
				return VG_PARSE_ERROR;
			}
			o->ns.lease_s = (uint32_t)v;
			break;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return VG_PARSE_ERROR;
		default:
			snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
			return VG_PARSE_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return VG_PARSE_ERROR;
	}
	/* addresses default to .1 and .254 of a non-default subnet */
	if (!gw_set)
		o->ns.gateway_ip = htonl(ntohl(o->ns.subnet) + 1);
	if (!host_set) {
		uint32_t bcast = ntohl(o->ns.subnet) | ~(0xffffffffu << (32 - o->ns.prefix));

		o->ns.host_ip = htonl(bcast - 1);
	}
	if ((o->listen_qemu != NULL) + (o->listen_vfkit != NULL) + (o->tap_netns != NULL) +
		    (o->tap_fd >= 0) !=
	    1) {
		snprintf(err, errlen, "exactly one of --listen-qemu, --listen-vfkit, --tap-netns, "
				      "--tap-fd is required");
		return VG_PARSE_ERROR;
	}
	if (ns_config_check(&o->ns, err, errlen) < 0)
		return VG_PARSE_ERROR;
	return VG_PARSE_OK;
}
