/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - vgate's one daemon context (struct vg_daemon) and the process
 * side around the network modules: the log file, --pcap, the control API
 * and its operations, SIGHUP reload of the config file, systemd readiness
 * (sd_notify), gvproxy's -notification lines and --sandbox.
 *
 * main() (cmd/main.c) sets the context up in this order, each step filling
 * its fields: the options, the log (vg_daemon_open_log()), the loop and
 * the signalfd, the forwarder, DNS, the SNI filter, the netstack, its
 * registrants (DNS on gateway:53, the forwarder or the TCP echo) and the
 * guest link, then vg_daemon_start() (pcap, API), the pid file and
 * vg_daemon_ready() (sandbox, READY=1). Whichever step fails, and after
 * the loop returns, main() calls vg_daemon_cleanup(), the ONE teardown:
 * it undoes what was set up, in reverse order, skipping what was not;
 * the one exception is the netstack, freed before its registrants (the
 * DNS gateway), since its flows call into them until it is gone.
 * vg_daemon_reload() runs on SIGHUP in between.
 *
 * Ownership: struct vg_daemon owns everything it points to (options, log
 * FILE, loop, modules, API, capture, the policy in force and the options
 * of the last reload; the SNI filter copies the strings of its settings).
 * Everything runs on the loop's thread.
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
#include "cmd/dnsup.h"
#include "cmd/glisten.h"
#include "cmd/gvnotify.h"
#include "cmd/log.h"
#include "cmd/options.h"
#include "cmd/sshfwd.h"
#include "common/ratelimit.h"
#include "dns/dns.h"
#include "forwarder/forwarder.h"
#include "forwarder/sni.h"
#include "netstack/netstack.h"

#define VG_EVENTS_PER_S SNI_LOG_PER_S /* blocked-flow events (and policy log lines) a second */

/* the fields in set-up order; NULL / -1 / false: not set up (yet) */
struct vg_daemon {
	int argc; /* the command line, re-parsed on reload */
	char **argv;
	struct vg_options opt; /* as parsed at start */
	struct vg_log log;
	FILE *log_fp; /* --log-file, NULL: stderr */
	struct vg_loop *loop;
	struct vg_io sig_io; /* signalfd; fd -1 when none */
	struct fwd *fwd;     /* NULL with --debug-tcp-echo */
	struct dns *dns;
	struct vg_dnsup dnsup;	/* upstreams, routes, the resolv.conf watch */
	struct sni_filter *sni; /* NULL without an allowlist */
	struct ns *ns;
	struct dns_gateway *dns_gw; /* the guest's DNS on gateway:53 */
	struct vg_sshfwd *sshfwd;   /* -forward-sock; NULL without */
	struct vg_capture *cap;
	struct api *api;
	struct vg_glisten *gl; /* -listen, -listen-vpnkit; NULL without */
	struct vg_gvnotify *gvn; /* -notification; NULL without */
	uint64_t nofile;  /* RLIMIT_NOFILE soft limit, raised at start */
	bool pid_written; /* opt.pid_file is ours to remove */
	bool sandboxed;
	/* run-time state */
	struct fwd_policy policy;
	struct vg_options *applied; /* options of the last reload, NULL: opt */
	struct vg_ratelimit ev_rl;  /* VG_EVENTS_PER_S events a second */
	int exit_code;
};

/**
 * vg_daemon_init() - an empty context: nothing set up yet (every pointer
 * NULL, every fd -1), safe to give to vg_daemon_cleanup()
 * @d:		context
 * @argc:	the command line
 * @argv:	its arguments (kept: reload parses them again)
 */
void vg_daemon_init(struct vg_daemon *d, int argc, char **argv);

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
 * vg_daemon_notify_open() - -notification: create the sender and watch the
 * guest link for it (connection_established/closed, hypervisor_error on
 * accept failures); before the link is attached, so a link that cannot be
 * set up is told (vg_daemon_hypervisor_error())
 * @d:		daemon (loop and netstack set)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0 (also without -notification), or -1
 */
int vg_daemon_notify_open(struct vg_daemon *d, char *err, size_t errlen);

/**
 * vg_daemon_hypervisor_error() - a hypervisor listener could not be set up:
 * queue hypervisor_error (sent by vg_daemon_cleanup(), the loop never runs)
 * @d:	daemon
 */
void vg_daemon_hypervisor_error(struct vg_daemon *d);

/**
 * vg_daemon_start() - open --pcap and --api (also when only -listen needs
 * the API), then the -listen and -listen-vpnkit endpoints
 * @d:		daemon (every given field set)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_daemon_start(struct vg_daemon *d, char *err, size_t errlen);

/**
 * vg_daemon_ready() - enter the sandbox (--sandbox) and tell systemd
 * (when NOTIFY_SOCKET is set) and -notification (ready) that vgate is ready
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
 * vg_daemon_cleanup() - the one teardown, on every exit path: tell systemd,
 * remove the pid file, close the API, flush and close the capture, close
 * the SSH socket forwards (their pipes are netstack flows), free the netstack, the SNI filter, DNS, the forwarder, the signalfd and the
 * loop, put the log back on stderr and close --log-file, free the options;
 * each only when it was set up. The netstack goes before every module
 * registered with or attached to it (the DNS gateway, the forwarder), so
 * none of its callbacks can reach a freed one.
 * @d:	daemon (afterwards as after vg_daemon_init())
 */
void vg_daemon_cleanup(struct vg_daemon *d);

/**
 * vg_daemon_sni_log() - the SNI filter's log sink (sni_log_fn)
 * @d:		struct vg_daemon
 * @warn:	level: warn (blocks) or info
 * @line:	one line from the filter (already rate-limited by it)
 */
void vg_daemon_sni_log(void *d, bool warn, const char *line);

/**
 * vg_daemon_sni_event() - the SNI filter's event sink (sni_event_fn): a
 * "blocked" event on GET /events with the filter's reason
 * @d:		struct vg_daemon
 * @ev:		the blocked flow
 */
void vg_daemon_sni_event(void *d, const struct sni_event *ev);

/**
 * vg_daemon_fwd_denied() - the forwarder's policy sink (fwd_denied_fn): one
 * log line and a "blocked" event with reason "outbound_policy"
 * @d:		struct vg_daemon
 * @ev:		the refused flow
 */
void vg_daemon_fwd_denied(void *d, const struct fwd_denied *ev);

#endif
