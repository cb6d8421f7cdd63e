/* SPDX-License-Identifier: MIT */
/*
 * opt_table.h - private to the options module (options.h is its
 * contract): the long option table, shared by the parser (options.c) and
 * vg_option_arg() (opt_table.c), which the config file reader
 * (config.c) asks which keys exist. A leaf: opt_table.c calls nothing, so
 * config.c no longer calls into options.c, which calls config.c.
 */
#ifndef VGATE_CMD_OPT_TABLE_H
#define VGATE_CMD_OPT_TABLE_H

#include <getopt.h>

/* getopt_long_only() values of the long options (struct option .val) */
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
	OPT_MAX_FLOWS,
	OPT_MAX_UDP_FLOWS,
	OPT_UDP_IDLE,
	OPT_TCP_IDLE,
	OPT_MAX_HALF_OPEN,
	OPT_MAX_HALF_OPEN_SRC,
	OPT_CONNECT_TIMEOUT,
	OPT_FORWARD,
	OPT_CONFIG,
	OPT_API,
	OPT_GUEST_API,
	OPT_LOG_FILE,
	OPT_PCAP,
	OPT_SANDBOX,
	OPT_DEBUG,
	OPT_SSH_PORT,
	OPT_UNSUPPORTED,
	OPT_SOCKET_MODE,
	OPT_PEER_UID,
	OPT_SNI, /* forwarder/sni.h options, by name */
	OPT_MAX_BUFFER,
	OPT_DNS_UPSTREAM_FOR,
	OPT_SUBNET6,
	OPT_NO_IPV6,
	OPT_NO_TAP_OFFLOAD,
	OPT_GVPROXY_DEFAULTS,
	OPT_DEVICE_IP,
	OPT_GATEWAY_MAC,
	OPT_DHCP_STATIC,
	OPT_EC2_METADATA,
	OPT_FORWARD_SOCK, /* gvproxy's SSH socket forwards (cmd/sshfwd.h) */
	OPT_FORWARD_DEST,
	OPT_FORWARD_USER,
	OPT_FORWARD_IDENTITY,
	OPT_LISTEN,	   /* gvproxy -listen: API + POST /connect (cmd/glisten.h) */
	OPT_LISTEN_VPNKIT, /* gvproxy -listen-vpnkit */
	OPT_LISTEN_BESS,   /* gvproxy -listen-bess unixpacket:// */
	OPT_LISTEN_STDIO,  /* gvproxy -listen-stdio: frames on stdin/stdout */
	OPT_NOTIFICATION,  /* gvproxy -notification unix:///PATH (cmd/gvnotify.h) */
	OPT_DHCP6_STATELESS,
	OPT_GUEST_FWD, /* --guest-forwards and its rules (cmd/guestfwd.h) */
	OPT_GUEST_FWD_LOCAL,
	OPT_GUEST_FWD_LOW,
	OPT_GUEST_FWD_SNI,
	OPT_NAT64, /* --nat64: DNS64 and NAT64 for IPv6-only guests */
};

/* every long option, NULL-terminated */
extern const struct option vg_long_opts[];

#endif
