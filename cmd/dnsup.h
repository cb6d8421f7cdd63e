/* SPDX-License-Identifier: MIT */
/*
 * dnsup.h - the upstream servers the daemon gives to dns/: where they come
 * from (--dns-upstream, else a resolv.conf: --resolv-conf or
 * /etc/resolv.conf), the split-DNS routes (--dns-upstream-for, replaced by
 * SIGHUP and PUT /policy), the outbound policy they must pass (only IPv4
 * servers the policy allows are used; a route whose servers are all refused
 * keeps its names failing rather than sending them to the default
 * upstreams), and the watch that follows the resolv.conf.
 *
 * The watch: when the upstreams came from a resolv.conf, an inotify fd on
 * the loop watches the directory of the file and, link by link, the
 * directory of each symlink target (systemd-resolved and NetworkManager
 * replace /etc/resolv.conf or its target with a rename). An event for one
 * of those names arms a VG_DNSUP_SETTLE_MS timer; when it fires the chain
 * is resolved again (watches added and removed to match), the file is read,
 * and when its servers differ from those in force they replace them
 * (dns_set_upstreams(): the cache stays) and a line is logged. A file that
 * is missing or has no server keeps the servers in force. No watch when
 * --dns-upstream was given.
 *
 * Ownership: struct vg_dnsup is embedded in the daemon; it owns @want (the
 * servers and routes as configured, before the policy) and the inotify fd.
 * It keeps pointers to the loop, the log, the DNS service and the policy in
 * force, which must outlive it. Everything runs on the loop's thread.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one.
 */
#ifndef VGATE_CMD_DNSUP_H
#define VGATE_CMD_DNSUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cmd/log.h"
#include "cmd/options.h"
#include "dns/dns.h"
#include "forwarder/forwarder.h"
#include "netstack/loop.h"

#define VG_DNSUP_LINKS_MAX 8  /* symlinks followed from the resolv.conf path */
#define VG_DNSUP_SETTLE_MS 50 /* from the first event to re-reading the file */

/**
 * struct vg_dnsup_watch - one watched directory entry of the chain
 * @wd:		inotify watch of the directory, -1 when none
 * @name:	the entry (the file or a symlink) in it
 */
struct vg_dnsup_watch {
	int wd;
	char name[NAME_MAX + 1];
};

/**
 * struct vg_dnsup - the daemon's DNS upstreams
 * @log:	the daemon's log
 * @loop:	event loop (vg_dnsup_start()), NULL before
 * @dns:	the DNS service (vg_dnsup_start()), NULL before
 * @policy:	the outbound policy in force (vg_dnsup_start())
 * @want:	heap: upstreams, their timeout/attempts and routes as configured
 * @resolv:	the resolv.conf the upstreams came from, "" with --dns-upstream
 * @io:		the inotify fd (io.fd -1 when none)
 * @timer:	the settle timer
 * @armed:	@timer is running
 * @w:		the chain: the file, then each symlink target
 * @nw:		entries in @w
 */
struct vg_dnsup {
	struct vg_log *log;
	struct vg_loop *loop;
	struct dns *dns;
	const struct fwd_policy *policy;
	struct dns_config *want;
	char resolv[PATH_MAX];
	struct vg_io io;
	struct vg_timer timer;
	bool armed;
	struct vg_dnsup_watch w[VG_DNSUP_LINKS_MAX + 1];
	int nw;
};

/**
 * vg_dnsup_init() - the upstreams and routes of the options (@u zeroed
 * before; safe to vg_dnsup_free() whatever this returns)
 * @u:		state
 * @o:		options
 * @log:	the daemon's log (kept)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 (a bad --dns-upstream, an unreadable --resolv-conf)
 */
int vg_dnsup_init(struct vg_dnsup *u, const struct vg_options *o, struct vg_log *log, char *err,
		  size_t errlen);

/**
 * vg_dnsup_filter() - the servers of @u->want that @p allows into @cfg's
 * upstream fields (upstreams, timeout, attempts, routes); each refused one
 * is logged
 * @u:		state
 * @p:		outbound policy
 * @cfg:	config to fill
 */
void vg_dnsup_filter(const struct vg_dnsup *u, const struct fwd_policy *p, struct dns_config *cfg);

/**
 * vg_dnsup_start() - go live: keep @loop, @dns and @policy for the changes
 * to come, and start following the resolv.conf (when the upstreams
 * came from one)
 * @u:		state
 * @loop:	event loop
 * @dns:	DNS service
 * @policy:	the policy in force (read at each change)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 (no inotify)
 */
int vg_dnsup_start(struct vg_dnsup *u, struct vg_loop *loop, struct dns *dns,
		   const struct fwd_policy *policy, char *err, size_t errlen);

/**
 * vg_dnsup_set_routes() - replace the split-DNS routes and apply them
 * @u:		state
 * @specs:	"DOMAIN=ADDR[:PORT]" strings
 * @n:		their number
 * @err:	one-line error (nothing changed)
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_dnsup_set_routes(struct vg_dnsup *u, const char *const *specs, size_t n, char *err,
			size_t errlen);

/**
 * vg_dnsup_apply() - give the DNS service @u->want through the policy in
 * force (after a policy or route change)
 * @u:	state
 */
void vg_dnsup_apply(struct vg_dnsup *u);

/**
 * vg_dnsup_format() - "ADDR:PORT" or "[V6]:PORT"
 * @s:		server
 * @out:	text
 * @len:	its size (64 is enough)
 */
void vg_dnsup_format(const struct dns_upstream *s, char *out, size_t len);

/**
 * vg_dnsup_free() - stop the watch, free @want
 * @u:	state (afterwards zeroed, io.fd -1)
 */
void vg_dnsup_free(struct vg_dnsup *u);

#endif
