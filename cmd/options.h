/* SPDX-License-Identifier: MIT */
/*
 * options.h - vgate's command line: every flag parsed and validated into
 * one struct vg_options before anything starts. Long options take one or
 * two dashes (gvproxy's convention is one). Errors are one line naming the
 * flag and the value; the caller exits with status 2.
 */
#ifndef VGATE_CMD_OPTIONS_H
#define VGATE_CMD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd/log.h"
#include "forwarder/forwarder.h"
#include "netstack/netstack.h"

#define VG_MAX_UPSTREAMS 8
#define VG_MAX_RECORDS   64

struct vg_options {
	const char *listen_qemu;
	const char *listen_vfkit;
	const char *tap_netns;
	const char *tap_name;
	int tap_fd;
	struct ns_config ns;
	enum vg_log_level log_level;
	const char *pid_file;
	struct fwd_policy policy;
	bool debug_tcp_echo;
	/* dns */
	const char *dns_upstream[VG_MAX_UPSTREAMS];
	size_t n_dns_upstream;
	const char *dns_record[VG_MAX_RECORDS];
	size_t n_dns_record;
	long dns_cache_size;
	long dns_max_ttl;
	long dns_fail_ttl;
	long dns_stale_max;
	const char *resolv_conf;
};

enum vg_parse_result { VG_PARSE_OK = 0, VG_PARSE_EXIT = 1, VG_PARSE_ERROR = -1 };

enum vg_parse_result vg_options_parse(int argc, char **argv, struct vg_options *o, FILE *out,
				      char *err, size_t errlen);
void vg_options_usage(FILE *out);

#endif
