/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - the process side of vgate around the network modules: the log
 * file, --pcap, the control API and its operations, SIGHUP reload of the
 * config file, systemd readiness (sd_notify) and --sandbox.
 *
 * main() builds the loop, DNS, forwarder and netstack, fills the first
 * block of struct vg_daemon, and calls, in order:
 *	vg_daemon_open_log()	right after the options (before anything logs)
 *	vg_daemon_start()	after the guest link is attached (pcap, API)
 *	(pid file)
 *	vg_daemon_ready()	sandbox, then READY=1 to systemd
 *	vg_daemon_reload()	on SIGHUP
 *	vg_daemon_stop()	after the loop returns, before the modules are freed
 *	vg_daemon_close_log()	last
 *
 * Ownership: struct vg_daemon references (never frees) the loop, modules,
 * startup options and logger given by main(); it owns the log FILE, the
 * API, the capture, the policy in force and the options of the last reload
 * (the SNI filter copies the strings of its settings). Everything runs on
 * the loop's thread.
 *
 * Events: blocked flows reach GET /events as structs, from the SNI filter
 * (vg_daemon_sni_event()) and from the forwarder's outbound policy
 * (vg_daemon_fwd_denied()), at most VG_EVENTS_PER_S a second together.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 */
#ifndef VGATE_CMD_DAEMON_H
#define VGATE_CMD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd/api.h"
#include "cmd/capture.h"
#include "cmd/log.h"
#include "cmd/options.h"
#include "common/ratelimit.h"
#include "dns/dns.h"
#include "forwarder/forwarder.h"
#include "forwarder/sni.h"
#include "netstack/netstack.h"

#define VG_EVENTS_PER_S SNI_LOG_PER_S /* blocked-flow events (and policy log lines) a second */

struct vg_daemon {
	/* given by main() */
	int argc;
	char **argv;
	struct vg_options *opt;
	struct vg_log *log;
	struct vg_loop *loop;
	struct ns *ns;
	struct dns *dns;
	struct fwd *fwd;	/* NULL with --debug-tcp-echo */
	struct sni_filter *sni; /* NULL without an allowlist */
	/* owned */
	FILE *log_fp;
	struct api *api;
	struct vg_capture *cap;
	struct fwd_policy policy;
	struct vg_options *applied; /* options of the last reload, NULL: *opt */
	bool sandboxed;
	struct vg_ratelimit ev_rl; /* VG_EVENTS_PER_S events a second */
};

/**
 * vg_daemon_open_log() - send the log to --log-file when given
 * @d:		daemon (opt and log set)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_daemon_open_log(struct vg_daemon *d, char *err, size_t errlen);

/**
 * vg_daemon_start() - open --pcap and --api
 * @d:		daemon (every given field set)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_daemon_start(struct vg_daemon *d, char *err, size_t errlen);

/**
 * vg_daemon_ready() - enter the sandbox (--sandbox) and tell systemd
 * (when NOTIFY_SOCKET is set) that vgate is ready
 * @d:		daemon
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_daemon_ready(struct vg_daemon *d, char *err, size_t errlen);

/**
 * vg_daemon_reload() - SIGHUP: reopen the log file, re-read the config file
 * and the command line, and apply what can change at run time (policy, SNI
 * allowlist, static DNS records, port forwards, log level) without touching
 * flows. A config with errors is logged and ignored; an allowlist that does
 * not load is logged and the running one kept.
 * @d:	daemon
 */
void vg_daemon_reload(struct vg_daemon *d);

/**
 * vg_daemon_stop() - tell systemd, close the API, flush and close the
 * capture; free the reload state (call sni_filter_free() afterwards, never
 * sni_filter_reload())
 * @d:	daemon
 */
void vg_daemon_stop(struct vg_daemon *d);

/**
 * vg_daemon_sni_log() - the SNI filter's log sink (sni_log_fn)
 * @d:		daemon
 * @warn:	level: warn (blocks) or info
 * @line:	one line from the filter (already rate-limited by it)
 */
void vg_daemon_sni_log(struct vg_daemon *d, bool warn, const char *line);

/**
 * vg_daemon_sni_event() - the SNI filter's event sink (sni_event_fn): a
 * "blocked" event on GET /events with the filter's reason
 * @d:		daemon
 * @ev:		the blocked flow
 */
void vg_daemon_sni_event(struct vg_daemon *d, const struct sni_event *ev);

/**
 * vg_daemon_fwd_denied() - the forwarder's policy sink (fwd_denied_fn): one
 * log line and a "blocked" event with reason "outbound_policy"
 * @d:		daemon
 * @ev:		the refused flow
 */
void vg_daemon_fwd_denied(struct vg_daemon *d, const struct fwd_denied *ev);

/**
 * vg_daemon_close_log() - back to stderr, close --log-file (last of all)
 * @d:	daemon
 */
void vg_daemon_close_log(struct vg_daemon *d);

#endif
