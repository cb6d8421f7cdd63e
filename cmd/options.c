/* SPDX-License-Identifier: MIT */
/*
 * options.c - command line parsing with getopt_long_only() (so -flag and
 * --flag both work), value validation, and --help text.
 *
 * Parsing runs in passes over one struct vg_options: defaults, then the
 * config file's arguments (cmd/config.c, when --config is on the command
 * line), then the command line, then the checks that need everything
 * (exactly one guest link, derived addresses). The option table itself
 * is in opt_table.c, a leaf that config.c also reads (no config.c <->
 * options.c cycle).
 */
#include "options.h"
#include "config.h"
#include "opt_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/gvnotify.h"
#include "common/netutil.h"
#include "common/sockuri.h"
#include "dns/dns.h"

void vg_options_usage(FILE *out)
{
	fputs("Usage: vgate [OPTIONS]\n"
	      "A userspace network gateway for one VM: DHCP, DNS, NAT to host sockets.\n"
	      "Options take one or two dashes.\n"
	      "\n"
	      "Guest link (one of these):\n"
	      "  --listen-qemu URI      unix:///PATH or tcp://127.0.0.1:PORT (QEMU -netdev stream)\n"
	      "  --listen-vfkit URI     unixgram:///PATH (vfkit, QEMU -netdev dgram)\n"
	      "  --listen-bess URI      unixpacket:///PATH (bess: one frame per packet)\n"
	      "  --listen-stdio VALUE   frames on stdin/stdout (2-byte LE lengths) when\n"
	      "                         VALUE is not empty\n"
	      "  --listen URI           HTTP API + gvproxy's POST /connect (frames with\n"
	      "                         2-byte LE lengths, QEMU's with --listen-qemu);\n"
	      "                         unix://PATH, tcp://IP:PORT, vsock://CID:PORT,\n"
	      "                         vsock://:PORT (repeatable; may be the only link)\n"
	      "  --listen-vpnkit URI    unix:// or tcp://: vpnkit handshake, then frames\n"
	      "  --tap-netns PATH       open a TAP inside this network namespace\n"
	      "  --tap-name NAME        TAP device name (default tap0)\n"
	      "  --tap-fd N             use an already open TAP file descriptor\n"
	      "  --no-tap-offload       no checksum offload or GSO on the TAP (default: on\n"
	      "                         with --tap-netns, and on a --tap-fd with a vnet header)\n"
	      "  --socket-mode MODE     mode of the unix socket (octal, default 0600)\n"
	      "  --allow-peer-uid UID   also accept QEMU connections from UID (or 'any');\n"
	      "                         default: vgate's own uid and root only\n"
	      "\n"
	      "Network:\n"
	      "  --subnet CIDR          guest subnet (default 192.168.127.0/24)\n"
	      "  --gateway-ip IP        gateway address (default .1 of the subnet)\n"
	      "  --host-ip IP           host alias, reaches host loopback (default .254)\n"
	      "  --mtu N                link MTU, 576..65520 (default 1500)\n"
	      "  --subnet6 PREFIX/64    guest IPv6 prefix, SLAAC (default fd00:7661:7465::/64);\n"
	      "                         gateway ::1 in it and fe80::1, host alias ::254\n"
	      "  --no-ipv6              IPv4 only: drop IPv6 frames, no Router Advertisements\n"
	      "                         (also when --mtu is below 1280)\n"
	      "  --dhcp6-stateless      DHCPv6 gives DNS and the search list only, no\n"
	      "                         addresses (default: IA_NA leases from PREFIX::100)\n"
	      "  --nat64                DNS64 and NAT64: AAAA answers 64:ff9b::a.b.c.d for\n"
	      "                         names with only A records, guest IPv6 flows to\n"
	      "                         64:ff9b::/96 dialled over IPv4 (IPv6-only guests)\n"
	      "  --dhcp-domain NAME     DHCP domain name option\n"
	      "  --dhcp-search LIST     DHCP domain search list (space separated)\n"
	      "  --dhcp-lease-time S    lease time in seconds (default 3600)\n"
	      "\n"
	      "Outbound policy:\n"
	      "  --outbound-allow CIDR  allow flows to CIDR (repeatable; any allow rule\n"
	      "                         makes everything else denied)\n"
	      "  --outbound-deny CIDR   deny flows to CIDR (repeatable)\n"
	      "\n"
	      "SNI allowlist (on when a pattern or file is given; inside the outbound policy):\n"
	      "  --allow-sni PATTERN    allow TLS to NAME or *.SUFFIX (repeatable; *.a.b matches\n"
	      "                         x.a.b and x.y.a.b, not a.b) when the destination is an\n"
	      "                         address vgate's DNS gave out for that name\n"
	      "  --allowlist-file FILE  patterns, one a line, # comments (reloaded on SIGHUP)\n"
	      "  --sni-ports LIST       TCP ports checked by SNI (default 443; port 80 by Host)\n"
	      "  --allow-dest CIDR[:PORT][/tcp|/udp|/icmp]  also allow this (repeatable); all\n"
	      "                         other ports, UDP and ping are refused, UDP to SNI ports\n"
	      "                         (QUIC) too; a rule without a port or with /icmp lets\n"
	      "                         ping through; IPv6: 2001:db8::/32/udp, [2001:db8::1]:8080\n"
	      "  --sni-timeout T        wait at most T for a ClientHello (default 5s)\n"
	      "  --sni-grace T          addresses count T after their DNS TTL (default 5m)\n"
	      "  --dns-filter on|off    NXDOMAIN for names off the allowlist (default on)\n"
	      "\n"
	      "Forwarding:\n"
	      "  --forward P:ADDR:PORT:GPORT  host ADDR:PORT → guest GPORT, P = tcp or udp\n"
	      "                         (repeatable), e.g. tcp:127.0.0.1:2222:22\n"
	      "  --max-flows N          TCP flows at once (default 16384)\n"
	      "  --max-udp-flows N      UDP mappings at once (default 4096)\n"
	      "  --tcp-idle-timeout S   close TCP flows idle S seconds (default 7200, 0 = never)\n"
	      "  --connect-timeout S    give up a TCP connect after S seconds (default 30)\n"
	      "  --max-half-open N      TCP flows still connecting at once (default 1000;\n"
	      "                         the oldest is reset for a new one)\n"
	      "  --max-half-open-per-source N  the same per guest address (default 500)\n"
	      "  --udp-idle-timeout S   forget UDP mappings idle S seconds (default 90)\n"
	      "  --max-buffer-memory SIZE  bytes all TCP flows may buffer together, with\n"
	      "                         K, M or G (binary) suffix (default 64M, at least 1M)\n"
	      "\n"
	      "DNS:\n"
	      "  --dns-upstream A[:P]   upstream server (repeatable; default resolv.conf)\n"
	      "  --dns-upstream-for DOMAIN=A[:P]  names at or under DOMAIN go to A only\n"
	      "                         (split DNS; repeatable: more servers, more domains;\n"
	      "                         the longest matching domain wins)\n"
	      "  --resolv-conf PATH     resolver config to read (default /etc/resolv.conf);\n"
	      "                         without --dns-upstream it is watched and followed\n"
	      "  --dns-record NAME=IP   static record (repeatable)\n"
	      "  --dns-cache-size N     cache entries (default 10000)\n"
	      "  --dns-max-ttl S        TTL cap in seconds (default 5)\n"
	      "  --dns-fail-ttl S       failure caching in seconds (default 1)\n"
	      "  --dns-stale-max S      serve-stale window in seconds (default 3600)\n"
	      "\n"
	      "Control:\n"
	      "  --api unix:///PATH     HTTP/JSON control API on a unix socket (mode 0600)\n"
	      "  --guest-api            also serve it read-only (GET only) to the guest at\n"
	      "                         http://GATEWAY-IP/ (port 80; needs --api)\n"
	      "  --guest-forwards       let the guest POST gvproxy's /services/forwarder/\n"
	      "                         expose and unexpose there (needs --guest-api):\n"
	      "                         the remote must be the guest, the local address\n"
	      "                         127.0.0.1 or one of --guest-forwards-local\n"
	      "  --guest-forwards-local ADDR  also allow ADDR (0.0.0.0: all; repeatable)\n"
	      "  --guest-forwards-low-ports   allow local ports below 1024\n"
	      "  --guest-forwards-with-sni    allow them while the SNI allowlist is on\n"
	      "\n"
	      "Process:\n"
	      "  --config FILE          YAML file with the same keys as these options;\n"
	      "                         options on the command line win; SIGHUP reloads it\n"
	      "  --log-level LEVEL      error, warn, info (default) or debug\n"
	      "  --log-file PATH        log here instead of stderr (reopened on SIGHUP)\n"
	      "  --pid-file PATH        write the pid here once ready\n"
	      "  --pcap FILE            write every guest frame to FILE (pcap)\n"
	      "  --sandbox              seccomp filter: only the syscalls vgate needs\n"
	      "  --debug-tcp-echo       test behaviour: echo guest TCP flows back\n"
	      "  --help, --version\n"
	      "\n"
	      "gvproxy compatibility (every gvproxy flag is accepted, see vgate(1)):\n"
	      "  --gvproxy-defaults     gvproxy's defaults (also when started as 'gvproxy'):\n"
	      "                         -ssh-port 2222, the static lease of 5a:94:ef:e4:0c:ee,\n"
	      "                         the resolv.conf's search list; an existing socket\n"
	      "                         path is refused; --config may be gvproxy's YAML\n"
	      "  --device-ip IP         that static lease's address (default .2)\n"
	      "  --gateway-mac MAC      the gateway's MAC (default 5a:94:ef:e4:0c:dd)\n"
	      "  --dhcp-static-lease MAC=IP  always lease IP to MAC (repeatable, max 16)\n"
	      "  --ec2-metadata-access  allow flows to 169.254.169.254 (denied by default)\n"
	      "  -debug (= --log-level debug), -services URI (= --api URI),\n"
	      "  -listen, -listen-vpnkit, -listen-bess, -listen-stdio: gvproxy's\n"
	      "  transports (Guest link above),\n"
	      "  -ssh-port N (forward 127.0.0.1:N to the guest's port 22; -1: none),\n"
	      "  -gatewayIP, -hostIP, -deviceIP (= --gateway-ip, --host-ip, --device-ip),\n"
	      "  -mtu 0 (= 1500),\n"
	      "  -notification unix:///PATH: gvproxy's JSON lines (ready,\n"
	      "  connection_established, connection_closed, hypervisor_error) to PATH,\n"
	      "  -forward-sock PATH -forward-dest GUESTPATH -forward-user U\n"
	      "  -forward-identity KEY (repeatable, paired by order): the unix socket\n"
	      "  PATH (mode 0600) reaches GUESTPATH in the guest over SSH to its port 22.\n",
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

/**
 * parse_size() - a byte count with an optional binary suffix (K, M, G,
 * optionally followed by "iB" or "B"), e.g. 64M, 16MiB, 1048576
 * @s:		text
 * @min:	smallest allowed
 * @max:	largest allowed
 * @out:	the value
 *
 * Return: 0, or -1 when @s is not such a size in the range
 */
static int parse_size(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1ull << 10;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		break;
	default:
		break;
	}
	if (mult > 1) {
		end++;
		if (*end == 'i')
			end++;
	}
	if (*end == 'B')
		end++;
	if (*end || v > max / mult || v * mult < min)
		return -1;
	*out = v * mult;
	return 0;
}

/* the options that take a whole number in a range, stored in a long */
static const struct {
	int opt;
	size_t off; /* of the long in struct vg_options */
	long min, max;
} ranged[] = {
    {OPT_MAX_FLOWS, offsetof(struct vg_options, max_flows), 1, 1000000},
    {OPT_MAX_UDP_FLOWS, offsetof(struct vg_options, max_udp_flows), 1, 1000000},
    {OPT_UDP_IDLE, offsetof(struct vg_options, udp_idle_s), 1, 86400 * 7},
    {OPT_TCP_IDLE, offsetof(struct vg_options, tcp_idle_s), 0, 86400 * 7},
    {OPT_MAX_HALF_OPEN, offsetof(struct vg_options, max_half_open), 1, NS_SYN_HOLD_MAX - 1},
    {OPT_MAX_HALF_OPEN_SRC, offsetof(struct vg_options, max_half_open_src), 1,
     NS_SYN_HOLD_MAX - 1},
    {OPT_CONNECT_TIMEOUT, offsetof(struct vg_options, connect_s), 1, 3600},
    {OPT_DNS_CACHE_SIZE, offsetof(struct vg_options, dns_cache_size), 1, 10000000},
    {OPT_DNS_MAX_TTL, offsetof(struct vg_options, dns_max_ttl), 0, 86400 * 7},
    {OPT_DNS_FAIL_TTL, offsetof(struct vg_options, dns_fail_ttl), 0, 86400 * 7},
    {OPT_DNS_STALE_MAX, offsetof(struct vg_options, dns_stale_max), 0, 86400 * 7},
};

/**
 * parse_ranged() - set the long behind one of the ranged[] options
 * @o:		options being built
 * @opt:	the option
 * @name:	its long name, for the message
 * @s:		its value
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 with @err set when @s is not a number in the range
 */
static int parse_ranged(struct vg_options *o, int opt, const char *name, const char *s, char *err,
			size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(ranged) / sizeof(ranged[0]); i++) {
		if (ranged[i].opt != opt)
			continue;
		if (parse_long(s, ranged[i].min, ranged[i].max,
			       (long *)((char *)o + ranged[i].off)) < 0) {
			snprintf(err, errlen, "invalid --%s '%s' (expected %ld..%ld)", name, s,
				 ranged[i].min, ranged[i].max);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "option --%s has no range", name);
	return -1;
}

/* the options stored as given: a string (a pointer into argv) or a flag */
static const struct {
	int opt;
	size_t off; /* of the const char * or bool in struct vg_options */
	bool flag;
} plain[] = {
    {OPT_LISTEN_QEMU, offsetof(struct vg_options, listen_qemu), false},
    {OPT_LISTEN_VFKIT, offsetof(struct vg_options, listen_vfkit), false},
    {OPT_LISTEN_BESS, offsetof(struct vg_options, listen_bess), false},
    {OPT_TAP_NETNS, offsetof(struct vg_options, tap_netns), false},
    {OPT_PID_FILE, offsetof(struct vg_options, pid_file), false},
    {OPT_RESOLV_CONF, offsetof(struct vg_options, resolv_conf), false},
    {OPT_CONFIG, offsetof(struct vg_options, config_file), false},
    {OPT_LOG_FILE, offsetof(struct vg_options, log_file), false},
    {OPT_PCAP, offsetof(struct vg_options, pcap_file), false},
    {OPT_SANDBOX, offsetof(struct vg_options, sandbox), true},
    {OPT_DEBUG_ECHO, offsetof(struct vg_options, debug_tcp_echo), true},
    /* checked against --api in options_finish() */
    {OPT_GUEST_API, offsetof(struct vg_options, guest_api), true},
    {OPT_GUEST_FWD, offsetof(struct vg_options, guest_fwd.on), true},
    {OPT_GUEST_FWD_LOW, offsetof(struct vg_options, guest_fwd.low_ports), true},
    {OPT_GUEST_FWD_SNI, offsetof(struct vg_options, guest_fwd.with_sni), true},
    {OPT_GVPROXY_DEFAULTS, offsetof(struct vg_options, gvproxy), true},
};

/**
 * set_plain() - apply @opt if it is one of the plain[] options
 * @o:		options being built
 * @opt:	the option
 * @arg:	its value (kept), or NULL for a flag
 *
 * Return: true if @opt was one of them
 */
static bool set_plain(struct vg_options *o, int opt, const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *field = (char *)o + plain[i].off;

		if (plain[i].opt != opt)
			continue;
		if (plain[i].flag)
			*(bool *)field = true;
		else
			*(const char **)field = arg;
		return true;
	}
	return false;
}

/**
 * parse_static_lease() - one --dhcp-static-lease MAC=IP into o->ns
 * @o:		options being built
 * @s:		the value
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 (the range and duplicates are ns_config_check()'s)
 */
static int parse_static_lease(struct vg_options *o, const char *s, char *err, size_t errlen)
{
	const char *eq = strchr(s, '=');
	char mac[18];
	size_t n = o->ns.n_dhcp_static;

	if (!eq || eq - s != 17) {
		snprintf(err, errlen, "invalid --dhcp-static-lease '%s' (MAC=IP)", s);
		return -1;
	}
	memcpy(mac, s, 17);
	mac[17] = '\0';
	if (n >= NS_DHCP_STATIC_MAX) {
		snprintf(err, errlen, "too many --dhcp-static-lease (max %d)", NS_DHCP_STATIC_MAX);
		return -1;
	}
	if (vg_mac_parse(mac, o->ns.dhcp_static[n].mac) < 0 || (o->ns.dhcp_static[n].mac[0] & 1) ||
	    parse_ip(eq + 1, &o->ns.dhcp_static[n].ip) < 0) {
		snprintf(err, errlen, "invalid --dhcp-static-lease '%s' (MAC=IP)", s);
		return -1;
	}
	o->ns.n_dhcp_static++;
	return 0;
}

static void options_init(struct vg_options *o)
{
	memset(o, 0, sizeof(*o));
	ns_config_defaults(&o->ns);
	fwd_policy_init(&o->policy);
	sni_config_defaults(&o->sni);
	o->tap_fd = -1;
	o->tap_name = "tap0";
	o->log_level = VG_LOG_INFO;
	o->dns_cache_size = o->dns_max_ttl = o->dns_fail_ttl = o->dns_stale_max = -1;
	o->max_flows = FWD_MAX_FLOWS_DEFAULT;
	o->max_udp_flows = FWD_MAX_UDP_FLOWS_DEFAULT;
	o->udp_idle_s = FWD_UDP_IDLE_MS_DEFAULT / 1000;
	o->tcp_idle_s = FWD_TCP_IDLE_MS_DEFAULT / 1000;
	o->max_half_open = FWD_HALF_OPEN_DEFAULT;
	o->max_half_open_src = FWD_HALF_OPEN_SRC_DEFAULT;
	o->connect_s = FWD_CONNECT_MS_DEFAULT / 1000;
}

/**
 * parse_pass() - apply one argument vector to @o
 * @argc:	argument count (argv[0] is skipped)
 * @argv:	arguments; string options keep pointers into it
 * @o:		options being built
 * @out:	where --help and --version print
 * @bad:	on error, the index of the offending argument
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: VG_PARSE_OK, VG_PARSE_EXIT (--help/--version), VG_PARSE_ERROR
 */
/**
 * sshfwd_option() - one -forward-sock/-dest/-user/-identity value: the next
 * of its kind, paired by order with the other three flags' values
 * @o:		options
 * @opt:	OPT_FORWARD_SOCK, _DEST, _USER or _IDENTITY
 * @val:	the value
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 past VG_SSHFWD_MAX values or for an empty one
 */
static int sshfwd_option(struct vg_options *o, int opt, const char *val, char *err, size_t errlen)
{
	static const char *const names[] = {"-forward-sock", "-forward-dest", "-forward-user",
					    "-forward-identity"};
	size_t *counts[] = {&o->n_fwd_sock, &o->n_fwd_dest, &o->n_fwd_user, &o->n_fwd_identity};
	int k = opt - OPT_FORWARD_SOCK;
	struct vg_sshfwd_spec *sp;

	if (*counts[k] >= VG_SSHFWD_MAX) {
		snprintf(err, errlen, "too many %s (max %d)", names[k], VG_SSHFWD_MAX);
		return -1;
	}
	if (!*val) {
		snprintf(err, errlen, "%s needs a value", names[k]);
		return -1;
	}
	sp = &o->sshfwd[(*counts[k])++];
	if (k == 0)
		sp->sock = val;
	else if (k == 1)
		sp->dest = val;
	else if (k == 2)
		sp->user = val;
	else
		sp->identity = val;
	return 0;
}

static enum vg_parse_result parse_pass(int argc, char **argv, struct vg_options *o, FILE *out,
				       int *bad, char *err, size_t errlen)
{
	int c, idx;
	long v;

	optind = 1;
	opterr = 0;
	*bad = 0;
	for (idx = -1; (c = getopt_long_only(argc, argv, "+:", vg_long_opts, &idx)) != -1;
	     idx = -1) {
		/* idx is only set for a recognised long option */
		const char *name = idx >= 0 ? vg_long_opts[idx].name : "?";

		*bad = optind - 1;
		if (idx >= 0 && c != ':' && vg_gvproxy_note(o, name, optarg, err, errlen) < 0)
			return VG_PARSE_ERROR;
		if (set_plain(o, c, optarg))
			continue;
		switch (c) {
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
		case OPT_SOCKET_MODE: {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);

			if (!*optarg || *end || m > 0777 || (m & 0600) != 0600) {
				snprintf(err, errlen,
					 "invalid --socket-mode '%s' (octal, 0600..0777, owner rw)",
					 optarg);
				return VG_PARSE_ERROR;
			}
			o->ns.socket_mode = (unsigned int)m;
			break;
		}
		case OPT_PEER_UID:
			if (!strcmp(optarg, "any")) {
				o->ns.peer_uid_any = true;
			} else if (parse_long(optarg, 0, UINT32_MAX - 1, &v) < 0) {
				snprintf(err, errlen, "invalid --allow-peer-uid '%s'", optarg);
				return VG_PARSE_ERROR;
			} else {
				o->ns.peer_uid = (uint32_t)v;
				o->ns.peer_uid_set = true;
			}
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
		case OPT_SUBNET6: {
			uint8_t net6[16], prefix;

			if (fwd_cidr6_parse(optarg, net6, &prefix) < 0 || !strchr(optarg, '/') ||
			    prefix != 64) {
				snprintf(err, errlen, "invalid --subnet6 '%s' (expected an IPv6 /64)",
					 optarg);
				return VG_PARSE_ERROR;
			}
			memcpy(o->ns.subnet6, net6, 16);
			o->ns.prefix6 = prefix;
			break;
		}
		case OPT_NO_IPV6:
			o->ns.no_ipv6 = true;
			break;
		case OPT_NO_TAP_OFFLOAD:
			o->ns.no_tap_offload = true;
			break;
		case OPT_DHCP6_STATELESS:
			o->ns.dhcp6_stateless = true;
			break;
		case OPT_NAT64:
			o->nat64 = true;
			break;
		case OPT_GATEWAY_IP:
		case OPT_HOST_IP:
			if (parse_ip(optarg, c == OPT_GATEWAY_IP ? &o->ns.gateway_ip
								  : &o->ns.host_ip) < 0) {
				snprintf(err, errlen, "invalid --%s '%s'", name, optarg);
				return VG_PARSE_ERROR;
			}
			if (c == OPT_GATEWAY_IP)
				o->gw_set = true;
			else
				o->host_set = true;
			break;
		case OPT_DEVICE_IP:
			if (parse_ip(optarg, &o->device_ip) < 0 || !o->device_ip) {
				snprintf(err, errlen, "invalid --%s '%s'", name, optarg);
				return VG_PARSE_ERROR;
			}
			break;
		case OPT_GATEWAY_MAC:
			if (vg_mac_parse(optarg, o->ns.gw_mac) < 0 || (o->ns.gw_mac[0] & 1)) {
				snprintf(err, errlen,
					 "invalid --gateway-mac '%s' (expected a unicast "
					 "xx:xx:xx:xx:xx:xx)",
					 optarg);
				return VG_PARSE_ERROR;
			}
			break;
		case OPT_DHCP_STATIC:
			if (parse_static_lease(o, optarg, err, errlen) < 0)
				return VG_PARSE_ERROR;
			break;
		case OPT_EC2_METADATA:
			if (!o->ec2_metadata && fwd_policy_allow_metadata(&o->policy) < 0) {
				snprintf(err, errlen, "too many outbound rules (max %d)",
					 FWD_POLICY_MAX);
				return VG_PARSE_ERROR;
			}
			o->ec2_metadata = true;
			break;
		case OPT_MTU:
			if (!strcmp(optarg, "0")) { /* gvproxy's "default" */
				o->ns.mtu = 1500;
				break;
			}
			if (parse_long(optarg, NS_MTU_MIN, NS_MTU_MAX, &v) < 0) {
				snprintf(err, errlen,
					 "invalid --mtu '%s' (expected %d..%d, or 0: 1500)", optarg,
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
		case OPT_MAX_FLOWS:
		case OPT_MAX_UDP_FLOWS:
		case OPT_UDP_IDLE:
		case OPT_TCP_IDLE:
		case OPT_MAX_HALF_OPEN:
		case OPT_MAX_HALF_OPEN_SRC:
		case OPT_CONNECT_TIMEOUT:
		case OPT_DNS_CACHE_SIZE:
		case OPT_DNS_MAX_TTL:
		case OPT_DNS_FAIL_TTL:
		case OPT_DNS_STALE_MAX:
			if (parse_ranged(o, c, name, optarg, err, errlen) < 0)
				return VG_PARSE_ERROR;
			break;
		case OPT_MAX_BUFFER: {
			unsigned long long b;

			if (parse_size(optarg, NS_BUFFER_BYTES_MIN, SIZE_MAX / 2, &b) < 0) {
				snprintf(err, errlen,
					 "invalid --max-buffer-memory '%s' (a size such as 64M, "
					 "at least 1M)",
					 optarg);
				return VG_PARSE_ERROR;
			}
			o->ns.max_buffer_bytes = (size_t)b;
			break;
		}
		case OPT_FORWARD:
			if (o->n_forward >= FWD_FORWARD_MAX ||
			    fwd_forward_parse(optarg, &o->forward[o->n_forward]) < 0) {
				snprintf(err, errlen,
					 "invalid --forward '%s' (tcp|udp:ADDR:PORT:GUESTPORT, max %d)",
					 optarg, FWD_FORWARD_MAX);
				return VG_PARSE_ERROR;
			}
			o->n_forward++;
			break;
		case OPT_DNS_UPSTREAM:
			if (o->n_dns_upstream >= VG_MAX_UPSTREAMS) {
				snprintf(err, errlen, "too many --dns-upstream (max %d)",
					 VG_MAX_UPSTREAMS);
				return VG_PARSE_ERROR;
			}
			o->dns_upstream[o->n_dns_upstream++] = optarg;
			break;
		case OPT_DNS_UPSTREAM_FOR: {
			char dom[256];
			struct dns_upstream u;
			const char *why = "";

			if (dns_parse_upstream_for(optarg, dom, &u, &why) < 0) {
				snprintf(err, errlen,
					 "invalid --dns-upstream-for '%s': %s (DOMAIN=ADDR[:PORT])",
					 optarg, why);
				return VG_PARSE_ERROR;
			}
			if (o->n_dns_upstream_for >= VG_MAX_UPSTREAM_FOR) {
				snprintf(err, errlen, "too many --dns-upstream-for (max %d)",
					 VG_MAX_UPSTREAM_FOR);
				return VG_PARSE_ERROR;
			}
			o->dns_upstream_for[o->n_dns_upstream_for++] = optarg;
			break;
		}
		case OPT_DNS_RECORD:
			if (o->n_dns_record >= VG_MAX_RECORDS || !strchr(optarg, '=')) {
				snprintf(err, errlen, "invalid --dns-record '%s' (NAME=IP, max %d)",
					 optarg, VG_MAX_RECORDS);
				return VG_PARSE_ERROR;
			}
			o->dns_record[o->n_dns_record++] = optarg;
			break;
		case OPT_DHCP_DOMAIN:
		case OPT_DHCP_SEARCH: {
			char *dst = c == OPT_DHCP_DOMAIN ? o->ns.domain : o->ns.search;
			size_t cap =
			    c == OPT_DHCP_DOMAIN ? sizeof(o->ns.domain) : sizeof(o->ns.search);

			if (strlen(optarg) >= cap) {
				snprintf(err, errlen, "--%s '%s' is too long", name, optarg);
				return VG_PARSE_ERROR;
			}
			strcpy(dst, optarg);
			break;
		}
		case OPT_DHCP_LEASE:
			if (parse_long(optarg, 60, 86400 * 365, &v) < 0) {
				snprintf(err, errlen, "invalid --dhcp-lease-time '%s' (60..31536000)",
					 optarg);
				return VG_PARSE_ERROR;
			}
			o->ns.lease_s = (uint32_t)v;
			break;
		case OPT_API:
			if (!strcmp(name, "services") && !strncmp(optarg, "tcp://", 6)) {
				/* gvproxy's -services on TCP: the API alone on a -listen socket */
				struct sockaddr_storage ss;
				socklen_t sl;
				char why[200];

				if (vg_sock_uri_parse(optarg, false, &ss, &sl, why, sizeof(why)) < 0) {
					snprintf(err, errlen, "invalid -%s: %s", name, why);
					return VG_PARSE_ERROR;
				}
				if (o->n_listen >= VG_MAX_LISTEN) {
					snprintf(err, errlen, "too many --listen (max %d)", VG_MAX_LISTEN);
					return VG_PARSE_ERROR;
				}
				o->listen_api_only[o->n_listen] = true;
				o->listen[o->n_listen++] = optarg;
				break;
			}
			if (strncmp(optarg, "unix://", 7) || !optarg[7]) {
				snprintf(err, errlen, "invalid --%s '%s' (expected unix:///PATH)", name,
					 optarg);
				return VG_PARSE_ERROR;
			}
			o->api = optarg;
			break;
		case OPT_LISTEN:
		case OPT_LISTEN_VPNKIT: {
			struct sockaddr_storage ss;
			socklen_t sl;
			char why[200];

			if (vg_sock_uri_parse(optarg, c == OPT_LISTEN, &ss, &sl, why,
					      sizeof(why)) < 0) {
				snprintf(err, errlen, "invalid --%s: %s", name, why);
				return VG_PARSE_ERROR;
			}
			if (c == OPT_LISTEN_VPNKIT) {
				o->listen_vpnkit = optarg;
			} else if (o->n_listen >= VG_MAX_LISTEN) {
				snprintf(err, errlen, "too many --listen (max %d)", VG_MAX_LISTEN);
				return VG_PARSE_ERROR;
			} else {
				o->listen[o->n_listen++] = optarg;
			}
			break;
		}
		case OPT_GUEST_FWD_LOCAL:
			if (vg_guest_fwd_add_local(&o->guest_fwd, optarg, err, errlen) < 0)
				return VG_PARSE_ERROR;
			o->guest_fwd_extra = true;
			break;
		case OPT_LISTEN_STDIO:
			/* gvproxy: any non-empty value turns it on; the value is unused */
			o->listen_stdio = optarg[0] != '\0';
			break;
		case OPT_NOTIFICATION:
			if (vg_gvnotify_uri_check(optarg, err, errlen) < 0)
				return VG_PARSE_ERROR;
			o->notification = optarg;
			break;
		case OPT_DEBUG:
			o->log_level = VG_LOG_DEBUG;
			break;
		case OPT_SSH_PORT: {
			uint16_t port;

			o->ssh_port_set = true;
			/* gvproxy uses -1 for "no ssh forward" */
			if (!strcmp(optarg, "-1")) {
				o->ssh_port = 0;
				break;
			}
			if (vg_port_parse_str(optarg, &port) < 0) {
				snprintf(err, errlen, "invalid --ssh-port '%s' (expected 1..65535)",
					 optarg);
				return VG_PARSE_ERROR;
			}
			o->ssh_port = port;
			break;
		}
		case OPT_SNI:
			if (sni_config_option(&o->sni, name, optarg, err, errlen) != 0)
				return VG_PARSE_ERROR;
			break;
		case OPT_FORWARD_SOCK:
		case OPT_FORWARD_DEST:
		case OPT_FORWARD_USER:
		case OPT_FORWARD_IDENTITY:
			if (sshfwd_option(o, c, optarg, err, errlen) < 0)
				return VG_PARSE_ERROR;
			break;
		case OPT_UNSUPPORTED:
			snprintf(err, errlen, "option -%s is not supported by vgate (see vgate(1))",
				 name);
			return VG_PARSE_ERROR;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return VG_PARSE_ERROR;
		default:
			snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
			return VG_PARSE_ERROR;
		}
	}
	if (optind < argc) {
		*bad = optind;
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return VG_PARSE_ERROR;
	}
	return VG_PARSE_OK;
}

void vg_options_free(struct vg_options *o)
{
	vg_cfg_args_free(o->cfg);
	o->cfg = NULL;
}

/**
 * vg_dns_routes_check() - the bounds of a --dns-upstream-for list: at most
 * DNS_MAX_DOMAINS domains with at most DNS_MAX_UPSTREAMS servers each
 * @specs:	"DOMAIN=ADDR[:PORT]" strings
 * @n:		their number
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_dns_routes_check(const char *const *specs, size_t n, char *err, size_t errlen)
{
	struct dns_config *c = malloc(sizeof(*c));
	size_t i;
	int rc = 0;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->n_routes = 0;
	for (i = 0; i < n && !rc; i++) {
		char dom[256];
		struct dns_upstream u;
		const char *why = "";

		if (dns_parse_upstream_for(specs[i], dom, &u, &why) < 0) {
			snprintf(err, errlen,
				 "invalid --dns-upstream-for '%s': %s (DOMAIN=ADDR[:PORT])",
				 specs[i], why);
			rc = -1;
			break;
		}
		switch (dns_config_add_route(c, dom, &u)) {
		case 0:
			break;
		case -ENOSPC:
			snprintf(err, errlen, "too many --dns-upstream-for domains (max %d)",
				 DNS_MAX_DOMAINS);
			rc = -1;
			break;
		case -E2BIG:
			snprintf(err, errlen,
				 "too many --dns-upstream-for servers for '%s' (max %d)", dom,
				 DNS_MAX_UPSTREAMS);
			rc = -1;
			break;
		default:
			snprintf(err, errlen, "invalid --dns-upstream-for '%s'", specs[i]);
			rc = -1;
			break;
		}
	}
	free(c);
	return rc;
}

/* the checks and derived values that need every pass applied */
static enum vg_parse_result options_finish(struct vg_options *o, char *err, size_t errlen)
{
	int links;

	if (vg_dns_routes_check(o->dns_upstream_for, o->n_dns_upstream_for, err, errlen) < 0)
		return VG_PARSE_ERROR;
	/* addresses default to .1 and .254 of a non-default subnet */
	if (!o->gw_set)
		o->ns.gateway_ip = htonl(ntohl(o->ns.subnet) + 1);
	if (!o->host_set) {
		uint32_t bcast = ntohl(vg_ip4_broadcast(o->ns.subnet, o->ns.prefix));

		o->ns.host_ip = htonl(bcast - 1);
	}
	links = (o->listen_qemu != NULL) + (o->listen_vfkit != NULL) + (o->listen_bess != NULL) +
		(o->tap_netns != NULL) + (o->tap_fd >= 0) + o->listen_stdio;
	if (links > 1 || (links == 0 && !o->n_listen && !o->listen_vpnkit)) {
		snprintf(err, errlen,
			 "one guest link: exactly one of --listen-qemu, --listen-vfkit, "
			 "--listen-bess, --listen-stdio, --tap-netns, --tap-fd, or --listen / "
			 "--listen-vpnkit alone (POST /connect, vpnkit)");
		return VG_PARSE_ERROR;
	}
	/* -listen-vpnkit with -listen-qemu or -listen-bess: vg_gvproxy_note() */
	if (vg_gvproxy_defaults(o, err, errlen) < 0 || ns_config_check(&o->ns, err, errlen) < 0)
		return VG_PARSE_ERROR;
	if (o->n_fwd_dest != o->n_fwd_sock || o->n_fwd_user != o->n_fwd_sock ||
	    o->n_fwd_identity != o->n_fwd_sock) {
		snprintf(err, errlen,
			 "-forward-sock, -forward-dest, -forward-user and -forward-identity pair "
			 "by order: give each the same number of times (now %zu, %zu, %zu, %zu)",
			 o->n_fwd_sock, o->n_fwd_dest, o->n_fwd_user, o->n_fwd_identity);
		return VG_PARSE_ERROR;
	}
	o->n_sshfwd = o->n_fwd_sock;
	if ((o->guest_fwd_extra || o->guest_fwd.low_ports || o->guest_fwd.with_sni) &&
	    !o->guest_fwd.on) {
		snprintf(err, errlen,
			 "--guest-forwards-local, -low-ports and -with-sni need --guest-forwards");
		return VG_PARSE_ERROR;
	}
	if (o->guest_fwd.on && !o->guest_api) {
		snprintf(err, errlen, "--guest-forwards needs --guest-api (and --api)");
		return VG_PARSE_ERROR;
	}
	if (o->guest_api) {
		if (!o->api) {
			snprintf(err, errlen, "--guest-api needs --api unix:///PATH");
			return VG_PARSE_ERROR;
		}
		if (o->debug_tcp_echo) {
			snprintf(err, errlen, "--guest-api cannot be used with --debug-tcp-echo");
			return VG_PARSE_ERROR;
		}
		if (strlen(o->api + 7) + strlen(VG_GUEST_API_SUFFIX) >= sizeof(o->guest_api_path)) {
			snprintf(err, errlen, "--api path too long for --guest-api: '%s'", o->api);
			return VG_PARSE_ERROR;
		}
		snprintf(o->guest_api_path, sizeof(o->guest_api_path), "%s%s", o->api + 7,
			 VG_GUEST_API_SUFFIX);
	}
	return VG_PARSE_OK;
}

enum vg_parse_result vg_options_parse(int argc, char **argv, struct vg_options *o, FILE *out,
				      char *err, size_t errlen)
{
	enum vg_parse_result r;
	bool gvproxy;
	char msg[400];
	int bad;

	/* first pass over the command line only to learn --config */
	options_init(o);
	o->gvproxy = vg_gvproxy_named(argv[0]);
	r = parse_pass(argc, argv, o, out, &bad, err, errlen);
	if (r != VG_PARSE_OK)
		return r;
	if (o->config_file) {
		const char *path = o->config_file;
		struct vg_cfg_args *cfg = vg_cfg_args_load(path, o->gvproxy, err, errlen);

		if (!cfg)
			return VG_PARSE_ERROR;
		gvproxy = o->gvproxy;
		options_init(o);
		o->gvproxy = gvproxy;
		o->gv_config = cfg->gvproxy;
		o->cfg = cfg;
		r = parse_pass(cfg->argc, cfg->argv, o, out, &bad, msg, sizeof(msg));
		if (r == VG_PARSE_EXIT || r == VG_PARSE_ERROR) {
			if (r == VG_PARSE_ERROR)
				snprintf(err, errlen, "%s:%d: %s", path,
					 bad > 0 && bad < cfg->argc ? cfg->line[bad] : 0, msg);
			vg_options_free(o);
			return r;
		}
		r = parse_pass(argc, argv, o, out, &bad, err, errlen);
		if (r != VG_PARSE_OK) {
			vg_options_free(o);
			return r;
		}
	}
	r = options_finish(o, err, errlen);
	if (r != VG_PARSE_OK)
		vg_options_free(o);
	return r;
}

size_t vg_options_forwards(const struct vg_options *o, struct fwd_forward *out)
{
	size_t i, n = 0;

	for (i = 0; i < o->n_forward && n < FWD_FORWARD_MAX; i++)
		out[n++] = o->forward[i];
	if (o->ssh_port > 0 && n < FWD_FORWARD_MAX) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].proto = FWD_TCP;
		out[n].host.ip = htonl(INADDR_LOOPBACK);
		out[n].host.port = (uint16_t)o->ssh_port;
		out[n].guest_port = 22;
		n++;
	}
	return n;
}
