/* SPDX-License-Identifier: MIT */
/*
 * opt_table.c - vgate's long options (opt_table.h) and vg_option_arg()
 * (options.h). Constant data; the option names are what the command line
 * and the config file's keys (cmd/config.c) accept.
 */
#include "opt_table.h"
#include "options.h"

#include <string.h>

const struct option vg_long_opts[] = {
    {"listen-qemu", required_argument, NULL, OPT_LISTEN_QEMU},
    {"listen-vfkit", required_argument, NULL, OPT_LISTEN_VFKIT},
    {"tap-netns", required_argument, NULL, OPT_TAP_NETNS},
    {"tap-name", required_argument, NULL, OPT_TAP_NAME},
    {"tap-fd", required_argument, NULL, OPT_TAP_FD},
    {"no-tap-offload", no_argument, NULL, OPT_NO_TAP_OFFLOAD},
    {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
    {"allow-peer-uid", required_argument, NULL, OPT_PEER_UID},
    {"subnet", required_argument, NULL, OPT_SUBNET},
    {"gateway-ip", required_argument, NULL, OPT_GATEWAY_IP},
    {"host-ip", required_argument, NULL, OPT_HOST_IP},
    {"device-ip", required_argument, NULL, OPT_DEVICE_IP},
    {"gateway-mac", required_argument, NULL, OPT_GATEWAY_MAC},
    {"dhcp-static-lease", required_argument, NULL, OPT_DHCP_STATIC},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"subnet6", required_argument, NULL, OPT_SUBNET6},
    {"no-ipv6", no_argument, NULL, OPT_NO_IPV6},
    {"dhcp6-stateless", no_argument, NULL, OPT_DHCP6_STATELESS},
    {"nat64", no_argument, NULL, OPT_NAT64},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"outbound-allow", required_argument, NULL, OPT_OUT_ALLOW},
    {"outbound-deny", required_argument, NULL, OPT_OUT_DENY},
    {"debug-tcp-echo", no_argument, NULL, OPT_DEBUG_ECHO},
    {"dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM},
    {"dns-upstream-for", required_argument, NULL, OPT_DNS_UPSTREAM_FOR},
    {"dns-record", required_argument, NULL, OPT_DNS_RECORD},
    {"dns-cache-size", required_argument, NULL, OPT_DNS_CACHE_SIZE},
    {"dns-max-ttl", required_argument, NULL, OPT_DNS_MAX_TTL},
    {"dns-fail-ttl", required_argument, NULL, OPT_DNS_FAIL_TTL},
    {"dns-stale-max", required_argument, NULL, OPT_DNS_STALE_MAX},
    {"resolv-conf", required_argument, NULL, OPT_RESOLV_CONF},
    {"dhcp-domain", required_argument, NULL, OPT_DHCP_DOMAIN},
    {"dhcp-search", required_argument, NULL, OPT_DHCP_SEARCH},
    {"dhcp-lease-time", required_argument, NULL, OPT_DHCP_LEASE},
    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
    {"max-udp-flows", required_argument, NULL, OPT_MAX_UDP_FLOWS},
    {"udp-idle-timeout", required_argument, NULL, OPT_UDP_IDLE},
    {"tcp-idle-timeout", required_argument, NULL, OPT_TCP_IDLE},
    {"max-buffer-memory", required_argument, NULL, OPT_MAX_BUFFER},
    {"max-half-open", required_argument, NULL, OPT_MAX_HALF_OPEN},
    {"max-half-open-per-source", required_argument, NULL, OPT_MAX_HALF_OPEN_SRC},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"forward", required_argument, NULL, OPT_FORWARD},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"api", required_argument, NULL, OPT_API},
    {"guest-api", no_argument, NULL, OPT_GUEST_API},
    {"guest-forwards", no_argument, NULL, OPT_GUEST_FWD},
    {"guest-forwards-local", required_argument, NULL, OPT_GUEST_FWD_LOCAL},
    {"guest-forwards-low-ports", no_argument, NULL, OPT_GUEST_FWD_LOW},
    {"guest-forwards-with-sni", no_argument, NULL, OPT_GUEST_FWD_SNI},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"sandbox", no_argument, NULL, OPT_SANDBOX},
    {"allow-sni", required_argument, NULL, OPT_SNI},
    {"allowlist-file", required_argument, NULL, OPT_SNI},
    {"sni-ports", required_argument, NULL, OPT_SNI},
    {"allow-dest", required_argument, NULL, OPT_SNI},
    {"sni-timeout", required_argument, NULL, OPT_SNI},
    {"sni-grace", required_argument, NULL, OPT_SNI},
    {"dns-filter", required_argument, NULL, OPT_SNI},
    /* gvproxy compatibility (cmd/gvproxy.h) */
    {"gvproxy-defaults", no_argument, NULL, OPT_GVPROXY_DEFAULTS},
    {"gatewayIP", required_argument, NULL, OPT_GATEWAY_IP},
    {"hostIP", required_argument, NULL, OPT_HOST_IP},
    {"deviceIP", required_argument, NULL, OPT_DEVICE_IP},
    {"ec2-metadata-access", no_argument, NULL, OPT_EC2_METADATA},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"ssh-port", required_argument, NULL, OPT_SSH_PORT},
    {"services", required_argument, NULL, OPT_API},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"forward-sock", required_argument, NULL, OPT_FORWARD_SOCK},
    {"forward-dest", required_argument, NULL, OPT_FORWARD_DEST},
    {"forward-user", required_argument, NULL, OPT_FORWARD_USER},
    {"forward-identity", required_argument, NULL, OPT_FORWARD_IDENTITY},
    {"listen-vpnkit", required_argument, NULL, OPT_LISTEN_VPNKIT},
    {"listen-bess", required_argument, NULL, OPT_LISTEN_BESS},
    {"listen-stdio", required_argument, NULL, OPT_LISTEN_STDIO},
    {"notification", required_argument, NULL, OPT_NOTIFICATION},
    {NULL, 0, NULL, 0},
};

int vg_option_arg(const char *name)
{
	const struct option *op;

	for (op = vg_long_opts; op->name; op++) {
		if (!strcmp(op->name, name))
			return op->has_arg == required_argument ? 1 : 0;
	}
	return -1;
}
