/* SPDX-License-Identifier: MIT */
/*
 * options.h - vgate's command line: every flag parsed and validated into
 * one struct vg_options before anything starts. Long options take one or
 * two dashes (gvproxy's convention is one). Errors are one line naming the
 * flag and the value; the caller exits with status 2.
 *
 * --config FILE (cmd/config.c) turns a YAML mapping into "--key=value"
 * arguments that are parsed first, then the real command line on top:
 * single-valued options on the command line win, repeatable ones (lists)
 * accumulate, file first. String options point into argv or into the
 * config's argument storage (o->cfg), which lives until vg_options_free().
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 * vg_options_parse() adds one value to it: VG_PARSE_EXIT (1) after --help
 * or --version, when the caller exits with status 0.
 */
#ifndef VGATE_CMD_OPTIONS_H
#define VGATE_CMD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd/guestfwd.h"
#include "cmd/gvproxy.h"
#include "cmd/log.h"
#include "cmd/sshfwd.h"
#include "forwarder/forwarder.h"
#include "forwarder/sni.h"
#include "netstack/netstack.h"

#define VG_MAX_UPSTREAMS    8
#define VG_MAX_RECORDS	    64
#define VG_MAX_UPSTREAM_FOR 64 /* --dns-upstream-for values (DNS_MAX_DOMAINS domains) */

/*
 * --guest-api: the guest reaches the API at gateway:80 (fixed: the SNI
 * filter lets port 80 through at the SYN), served from a second socket,
 * the --api path with this suffix
 */
#define VG_GUEST_API_PORT   80
#define VG_GUEST_API_SUFFIX ".guest"

#define VG_MAX_LISTEN 8 /* -listen URIs (VG_GLISTEN_MAX) */

struct vg_options {
	const char *listen_qemu;
	const char *listen_vfkit;
	const char *listen_bess;	   /* unixpacket:///PATH */
	const char *listen_vpnkit;	   /* unix:// or tcp:// */
	bool listen_stdio;		   /* -listen-stdio with a non-empty value */
	const char *notification;	   /* -notification unix:///PATH (cmd/gvnotify.h) */
	const char *listen[VG_MAX_LISTEN]; /* -listen URIs, checked */
	bool listen_api_only[VG_MAX_LISTEN]; /* that one is -services tcp:// (API only) */
	size_t n_listen;
	const char *tap_netns;
	const char *tap_name;
	int tap_fd;
	struct ns_config ns;
	enum vg_log_level log_level;
	const char *pid_file;
	struct fwd_policy policy;
	bool debug_tcp_echo;
	bool nat64; /* --nat64: DNS64 (dns/) and NAT64 (forwarder/) */
	/* forwarder */
	long max_flows;
	long max_udp_flows;
	long udp_idle_s;
	long tcp_idle_s;
	long max_half_open;
	long max_half_open_src;
	long connect_s;
	struct fwd_forward forward[FWD_FORWARD_MAX];
	size_t n_forward;
	struct sni_config sni; /* SNI allowlist filter (forwarder/sni.h) */
	/* dns */
	const char *dns_upstream[VG_MAX_UPSTREAMS];
	size_t n_dns_upstream;
	const char *dns_upstream_for[VG_MAX_UPSTREAM_FOR]; /* "DOMAIN=ADDR[:PORT]", checked */
	size_t n_dns_upstream_for;
	const char *dns_record[VG_MAX_RECORDS];
	size_t n_dns_record;
	long dns_cache_size;
	long dns_max_ttl;
	long dns_fail_ttl;
	long dns_stale_max;
	const char *resolv_conf;
	/* daemon (cmd/) */
	const char *config_file;
	struct vg_cfg_args *cfg; /* owned: strings of the config file's arguments */
	const char *api;	 /* unix:///PATH */
	bool guest_api;
	char guest_api_path[108]; /* with guest_api: the --api path + VG_GUEST_API_SUFFIX */
	struct vg_guest_fwd_rules guest_fwd; /* --guest-forwards (needs --guest-api) */
	bool guest_fwd_extra;		     /* one of its -local/-low-ports/-with-sni given */
	const char *log_file;
	const char *pcap_file;
	bool sandbox;
	int ssh_port; /* gvproxy -ssh-port: forward 127.0.0.1:N to guest :22; 0 = none */
	/* gvproxy -forward-sock/-dest/-user/-identity, paired by order: the
	 * i-th of each flag fills sshfwd[i]; options_finish() checks that the
	 * four counts agree (n_sshfwd is then the number of forwards) */
	struct vg_sshfwd_spec sshfwd[VG_SSHFWD_MAX];
	size_t n_fwd_sock, n_fwd_dest, n_fwd_user, n_fwd_identity;
	size_t n_sshfwd;
	bool gw_set, host_set;
	/* gvproxy compatibility (cmd/gvproxy.h) */
	bool gvproxy;			  /* started as "gvproxy", or --gvproxy-defaults */
	bool gv_config;			  /* the --config file was gvproxy's YAML */
	bool ssh_port_set;		  /* -ssh-port given (also -1) */
	bool ec2_metadata;		  /* -ec2-metadata-access: 169.254.169.254 allowed */
	uint32_t device_ip;		  /* -deviceIP (0: .2 of the subnet) */
	const char *gv_link[VG_GV_LINKS]; /* -listen-vpnkit, -listen-qemu, -listen-bess values */
};

enum vg_parse_result { VG_PARSE_OK = 0, VG_PARSE_EXIT = 1, VG_PARSE_ERROR = -1 };

enum vg_parse_result vg_options_parse(int argc, char **argv, struct vg_options *o, FILE *out,
				      char *err, size_t errlen);
void vg_options_usage(FILE *out);

/**
 * vg_options_free() - release what vg_options_parse() allocated (the config
 * file's arguments); @o's string options are invalid afterwards
 * @o:	options, may be zeroed
 */
void vg_options_free(struct vg_options *o);

/**
 * vg_options_forwards() - the port forwards @o asks for: each --forward,
 * then -ssh-port's 127.0.0.1:N -> guest :22
 * @o:		options
 * @out:	FWD_FORWARD_MAX entries
 *
 * Return: the number written
 */
size_t vg_options_forwards(const struct vg_options *o, struct fwd_forward *out);

/**
 * vg_dns_routes_check() - check a --dns-upstream-for list: each value's
 * syntax, at most DNS_MAX_DOMAINS domains, DNS_MAX_UPSTREAMS servers each
 * @specs:	"DOMAIN=ADDR[:PORT]" strings
 * @n:		their number
 * @err:	one-line error naming the value
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_dns_routes_check(const char *const *specs, size_t n, char *err, size_t errlen);

/**
 * vg_option_arg() - whether long option @name exists and takes a value
 * @name:	option name without dashes, e.g. "mtu"
 *
 * Return: 1 takes a value, 0 is a switch, -1 unknown
 */
int vg_option_arg(const char *name);

#endif
