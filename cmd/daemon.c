/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - log file, pcap, control API operations, SIGHUP reload,
 * sd_notify and sandbox (see daemon.h).
 *
 * Reload re-runs the whole option parser on the saved command line (which
 * re-reads --config), so the file is checked exactly as at start-up. What it
 * applies is a diff against the options applied last: static DNS records
 * and port forwards that came from the options are removed or added (those
 * added through the API are left alone); the policy, the SNI allowlist and
 * the split-DNS routes are replaced (also when PUT /policy changed them).
 * Options that need a restart (link, addresses, MTU, API, pcap,
 * --dns-upstream, turning the SNI filter on) are not applied.
 *
 * Lifecycle: vg_daemon_init() zeroes the context, main() fills it step by
 * step, vg_daemon_cleanup() frees whatever is set, newest first, except
 * that the netstack goes before the DNS gateway registered with it (its
 * flows call into its registrants until it is freed), and leaves the
 * context as vg_daemon_init() did.
 *
 * SNI settings: the filter copies the strings of the settings it is given,
 * so reloads and PUT /policy hand it settings they free afterwards.
 */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/notify.h"
#include "cmd/sandbox.h"

void vg_daemon_init(struct vg_daemon *d, int argc, char **argv)
{
	memset(d, 0, sizeof(*d));
	d->argc = argc;
	d->argv = argv;
	d->log.out = stderr;
	d->sig_io.fd = -1;
	d->dnsup.io.fd = -1;
	d->exit_code = 1;
}

int vg_daemon_open_log(struct vg_daemon *d, char *err, size_t errlen)
{
	FILE *f;

	if (!d->opt.log_file)
		return 0;
	f = fopen(d->opt.log_file, "ae");
	if (!f) {
		snprintf(err, errlen, "cannot open --log-file '%s': %s", d->opt.log_file,
			 strerror(errno));
		return -1;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	d->log_fp = f;
	d->log.out = f;
	return 0;
}

/* ---- API operations ---- */

static void op_fwd_stats(void *ctx, struct fwd_stats *st)
{
	struct vg_daemon *d = ctx;

	fwd_get_stats(d->fwd, st);
}

static int op_forward_add(void *ctx, const struct fwd_forward *f, char *err, size_t errlen)
{
	struct vg_daemon *d = ctx;

	return fwd_forward_add(d->fwd, f, err, errlen);
}

static int op_forward_remove(void *ctx, const struct fwd_forward *key)
{
	struct vg_daemon *d = ctx;

	return fwd_forward_remove(d->fwd, key);
}

static size_t op_forward_list(void *ctx, struct fwd_forward *out, size_t max)
{
	struct vg_daemon *d = ctx;

	return fwd_forward_list(d->fwd, out, max);
}

static const struct fwd_policy *op_policy_get(void *ctx)
{
	struct vg_daemon *d = ctx;

	return &d->policy;
}

/* true if @p has the built-in allow of -ec2-metadata-access */
static bool metadata_allowed(const struct fwd_policy *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->rules[i].builtin && p->rules[i].allow)
			return true;
	return false;
}

static void apply_policy(struct vg_daemon *d, const struct fwd_policy *p)
{
	d->policy = *p;
	if (d->fwd)
		fwd_set_policy(d->fwd, &d->policy); /* the SNI filter sits behind it */
	vg_dnsup_apply(&d->dnsup);		    /* DNS upstreams pass the policy too */
}

static int op_policy_set(void *ctx, const struct fwd_policy *p, char *err, size_t errlen)
{
	struct vg_daemon *d = ctx;
	struct fwd_policy *q;

	/* -ec2-metadata-access stays in force over a PUT /policy, which
	 * starts from fwd_policy_init() */
	if (!d->opt.ec2_metadata || metadata_allowed(p)) {
		apply_policy(d, p);
		return 0;
	}
	q = malloc(sizeof(*q));
	if (q)
		*q = *p;
	if (!q || fwd_policy_allow_metadata(q) < 0) {
		free(q);
		snprintf(err, errlen, "too many outbound rules with -ec2-metadata-access");
		return -1;
	}
	apply_policy(d, q);
	free(q);
	return 0;
}

static const struct sni_filter *op_sni(void *ctx)
{
	struct vg_daemon *d = ctx;

	return d->sni;
}

static int op_sni_set_allow(void *ctx, const char *const *patterns, size_t n, char *err,
			    size_t errlen)
{
	struct vg_daemon *d = ctx;
	struct sni_config *c;
	int rc;

	if (!d->sni) {
		snprintf(err, errlen, "the SNI filter is off");
		return -1;
	}
	if (n > SNI_MAX_ALLOW_ARGS) {
		snprintf(err, errlen, "at most %d patterns (use --allowlist-file)",
			 SNI_MAX_ALLOW_ARGS);
		return -1;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*c = *sni_filter_config(d->sni);
	if (n)
		memcpy(c->allow, patterns, n * sizeof(*patterns));
	c->n_allow = n;
	rc = sni_filter_reload(d->sni, c, err, errlen);
	free(c);
	return rc < 0 ? -1 : 0;
}

static const struct dns_config *op_dns_routes_get(void *ctx)
{
	struct vg_daemon *d = ctx;

	return d->dnsup.want;
}

static int op_dns_routes_set(void *ctx, const char *const *specs, size_t n, char *err,
			     size_t errlen)
{
	struct vg_daemon *d = ctx;

	return vg_dnsup_set_routes(&d->dnsup, specs, n, err, errlen);
}

static void op_extra_metrics(void *ctx, struct vg_metrics *ms)
{
	struct vg_daemon *d = ctx;
	struct sni_stats st;

	if (d->sshfwd) {
		struct vg_sshfwd_stats ss;

		vg_sshfwd_get_stats(d->sshfwd, &ss);
		vg_metrics_add_ssh(ms, &ss);
	}
	if (d->gl) {
		struct vg_glisten_stats gs;

		vg_glisten_get_stats(d->gl, &gs);
		vg_metrics_add_glisten(ms, &gs);
	}
	if (d->gvn) {
		struct vg_gvnotify_stats ns;

		vg_gvnotify_get_stats(d->gvn, &ns);
		vg_metrics_add_gvnotify(ms, &ns);
	}
	if (!d->sni)
		return;
	sni_filter_get_stats(d->sni, &st);
	vg_metrics_add_sni(ms, &st);
}

void vg_daemon_sni_log(void *ctx, bool warn, const char *line)
{
	struct vg_daemon *d = ctx;

	vg_log(&d->log, warn ? VG_LOG_WARN : VG_LOG_INFO, "%s", line);
}

/**
 * event_budget() - the shared rate limit of blocked-flow events and policy
 * log lines: at most VG_EVENTS_PER_S a second; what is over is counted and
 * reported in one line when the next second starts
 * @d:	daemon
 *
 * Return: true when one more may go out in this second
 */
static bool event_budget(struct vg_daemon *d)
{
	uint64_t dropped;
	bool ok = vg_ratelimit_allow(&d->ev_rl, VG_EVENTS_PER_S, d->loop ? vg_loop_now(d->loop) : 0,
				     &dropped);

	if (dropped)
		vg_log(&d->log, VG_LOG_WARN,
		       "events: %llu blocked-flow events suppressed (over %d a second)",
		       (unsigned long long)dropped, VG_EVENTS_PER_S);
	return ok;
}

void vg_daemon_sni_event(void *ctx, const struct sni_event *ev)
{
	struct vg_daemon *d = ctx;

	if (!d->api || !event_budget(d))
		return;
	api_event_blocked(d->api, fwd_proto_name(ev->proto), &ev->src, &ev->dst,
			  ev->name, sni_reason_name(ev->reason));
}

/* "A.B.C.D:PORT" or "[IPV6]:PORT" */
static void fmt_endpoint(const struct ns_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	bool v6 = ns_addr_is_v6(a);

	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)a->ip6 : (const void *)&a->ip, ip,
		  sizeof(ip));
	snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", ip, a->port);
}

void vg_daemon_fwd_denied(void *ctx, const struct fwd_denied *ev)
{
	struct vg_daemon *d = ctx;
	char s[INET6_ADDRSTRLEN + 8], t[INET6_ADDRSTRLEN + 8];
	const char *proto = fwd_proto_name(ev->proto);

	if (!event_budget(d))
		return;
	fmt_endpoint(&ev->src, s, sizeof(s));
	fmt_endpoint(&ev->dst, t, sizeof(t));
	vg_log(&d->log, VG_LOG_WARN, "policy: denied %s %s -> %s reason=outbound_policy", proto, s,
	       t);
	api_event_blocked(d->api, proto, &ev->src, &ev->dst, NULL, "outbound_policy");
}

/* the netstack's guest link events, as gvproxy's notifications */
static void on_link_event(void *ctx, enum ns_link_event ev, const uint8_t *mac)
{
	struct vg_daemon *d = ctx;

	switch (ev) {
	case NS_LINK_GUEST_UP:
		vg_gvnotify_send(d->gvn, VG_GVN_CONNECTION_ESTABLISHED, mac);
		break;
	case NS_LINK_GUEST_DOWN:
		vg_gvnotify_send(d->gvn, VG_GVN_CONNECTION_CLOSED, mac);
		break;
	case NS_LINK_ACCEPT_FAILED:
		vg_gvnotify_send(d->gvn, VG_GVN_HYPERVISOR_ERROR, NULL);
		break;
	}
}

int vg_daemon_notify_open(struct vg_daemon *d, char *err, size_t errlen)
{
	if (!d->opt.notification)
		return 0;
	d->gvn = vg_gvnotify_new(d->loop, d->opt.notification, &d->log, err, errlen);
	if (!d->gvn)
		return -1;
	ns_set_link_watch(d->ns, on_link_event, d);
	return 0;
}

void vg_daemon_hypervisor_error(struct vg_daemon *d)
{
	vg_gvnotify_send(d->gvn, VG_GVN_HYPERVISOR_ERROR, NULL);
}

int vg_daemon_start(struct vg_daemon *d, char *err, size_t errlen)
{
	d->policy = d->opt.policy;
	if (d->opt.pcap_file) {
		d->cap = vg_capture_open(d->loop, d->opt.pcap_file, err, errlen);
		if (!d->cap)
			return -1;
		ns_set_capture(d->ns, vg_capture_frame, d->cap);
	}
	if (d->opt.api || d->opt.n_listen) {
		struct api_config ac = {
		    .uri = d->opt.api,
		    .loop = d->loop,
		    .ns = d->ns,
		    .dns = d->dns,
		    .log = &d->log,
		    .ops = {.ctx = d,
			    .policy_get = op_policy_get,
			    .policy_set = op_policy_set,
			    .sni = op_sni,
			    .sni_set_allow = op_sni_set_allow,
			    .extra_metrics = op_extra_metrics,
			    .dns_routes_get = op_dns_routes_get,
			    .dns_routes_set = op_dns_routes_set},
		    .guest_path = d->opt.guest_api ? d->opt.guest_api_path : NULL,
		    .guest_fwd = d->opt.guest_fwd,
		};

		if (d->fwd) {
			ac.ops.fwd_stats = op_fwd_stats;
			ac.ops.forward_add = op_forward_add;
			ac.ops.forward_remove = op_forward_remove;
			ac.ops.forward_list = op_forward_list;
		}
		d->api = api_new(&ac, err, errlen);
		if (!d->api)
			return -1;
	}
	if (d->opt.n_listen || d->opt.listen_vpnkit) {
		struct vg_glisten_config gc = {
		    .loop = d->loop,
		    .ns = d->ns,
		    .api = d->api,
		    .log = &d->log,
		    .uris = d->opt.listen,
		    .api_only = d->opt.listen_api_only,
		    .n_uris = d->opt.n_listen,
		    .vpnkit_uri = d->opt.listen_vpnkit,
		    /* as gvproxy: /connect speaks QEMU's framing next to -listen-qemu */
		    .framing = d->opt.listen_qemu ? NS_FRAMING_QEMU : NS_FRAMING_LE16,
		    .mtu = d->opt.ns.mtu,
		    .subnet = d->opt.ns.subnet,
		    .prefix = d->opt.ns.prefix,
		    .gateway_ip = d->opt.ns.gateway_ip,
		    .host_ip = d->opt.ns.host_ip,
		};

		d->gl = vg_glisten_new(&gc, err, errlen);
		if (!d->gl) {
			vg_daemon_hypervisor_error(d); /* gvproxy's -listen is also the VM's */
			return -1;
		}
	}
	return 0;
}

int vg_daemon_ready(struct vg_daemon *d, char *err, size_t errlen)
{
	char ready[64];

	if (d->opt.sandbox) {
		if (vg_sandbox_enter(err, errlen) < 0)
			return -1;
		d->sandboxed = true;
		vg_log(&d->log, VG_LOG_INFO, "sandbox: seccomp filter installed");
	}
	/* a no-op returning 0 when NOTIFY_SOCKET is not set */
	snprintf(ready, sizeof(ready), "READY=1\nMAINPID=%d\nSTATUS=serving", (int)getpid());
	if (vg_notify(ready) < 0)
		vg_log(&d->log, VG_LOG_WARN, "sd_notify: cannot send to NOTIFY_SOCKET");
	/* sent when the loop runs: every listener is up by then */
	vg_gvnotify_send(d->gvn, VG_GVN_READY, NULL);
	return 0;
}

/* ---- reload ---- */

static void reopen_log(struct vg_daemon *d)
{
	FILE *f;

	if (!d->log_fp)
		return;
	f = fopen(d->opt.log_file, "ae");
	if (!f) {
		vg_log(&d->log, VG_LOG_ERROR, "cannot reopen --log-file '%s': %s", d->opt.log_file,
		       strerror(errno));
		return;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	d->log.out = f;
	fclose(d->log_fp);
	d->log_fp = f;
}

static bool has_string(const char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(list[i], s))
			return true;
	}
	return false;
}

/* same_strings - @a and @b hold the same strings in the same order */
static bool same_strings(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		if (strcmp(a[i], b[i]))
			return false;
	}
	return true;
}

/* records in @a's options but not in @b's: remove (add=false) or add */
static void diff_records(struct vg_daemon *d, const struct vg_options *a,
			 const struct vg_options *b, bool add)
{
	size_t i;

	for (i = 0; i < a->n_dns_record; i++) {
		struct dns_record r;
		int rc;

		if (has_string(b->dns_record, b->n_dns_record, a->dns_record[i]) ||
		    dns_parse_record(a->dns_record[i], &r) < 0)
			continue;
		if (add) {
			rc = dns_add_record(d->dns, r.name, &r.addr);
			if (rc < 0 && rc != -EEXIST)
				vg_log(&d->log, VG_LOG_WARN, "reload: cannot add dns-record '%s'",
				       a->dns_record[i]);
			else
				vg_log(&d->log, VG_LOG_INFO, "reload: dns-record %s added",
				       a->dns_record[i]);
		} else {
			dns_remove_record(d->dns, r.name, &r.addr);
			vg_log(&d->log, VG_LOG_INFO, "reload: dns-record %s removed",
			       a->dns_record[i]);
		}
	}
}

static bool has_forward(const struct fwd_forward *l, size_t n, const struct fwd_forward *f)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (l[i].proto == f->proto && ns_addr_eq(&l[i].host, &f->host) &&
		    l[i].guest_port == f->guest_port && l[i].guest_ip == f->guest_ip)
			return true;
	}
	return false;
}

static void diff_forwards(struct vg_daemon *d, const struct vg_options *old,
			  const struct vg_options *new)
{
	struct fwd_forward *a = calloc(2 * FWD_FORWARD_MAX, sizeof(*a));
	struct fwd_forward *b;
	char err[256];
	size_t na, nb, i;

	if (!a || !d->fwd) {
		free(a);
		return;
	}
	b = a + FWD_FORWARD_MAX;
	na = vg_options_forwards(old, a);
	nb = vg_options_forwards(new, b);
	for (i = 0; i < na; i++) {
		if (!has_forward(b, nb, &a[i]) &&
		    fwd_forward_remove(d->fwd, &a[i]) == 0)
			vg_log(&d->log, VG_LOG_INFO, "reload: forward of host port %u removed",
			       a[i].host.port);
	}
	for (i = 0; i < nb; i++) {
		if (has_forward(a, na, &b[i]))
			continue;
		if (fwd_forward_add(d->fwd, &b[i], err, sizeof(err)) < 0)
			vg_log(&d->log, VG_LOG_WARN, "reload: %s", err);
		else
			vg_log(&d->log, VG_LOG_INFO, "reload: forward host port %u -> guest %u",
			       b[i].host.port, b[i].guest_port);
	}
	free(a);
}

/* the reload state: the options of the last reload */
static void free_applied(struct vg_daemon *d)
{
	if (d->applied) {
		vg_options_free(d->applied);
		free(d->applied);
		d->applied = NULL;
	}
}

void vg_daemon_reload(struct vg_daemon *d)
{
	struct vg_options *cur = d->applied ? d->applied : &d->opt;
	struct vg_options *o = malloc(sizeof(*o));
	char err[512];

	reopen_log(d);
	if (!o) {
		vg_log(&d->log, VG_LOG_ERROR, "reload: out of memory");
		return;
	}
	vg_notify("RELOADING=1");
	if (vg_options_parse(d->argc, d->argv, o, stdout, err, sizeof(err)) != VG_PARSE_OK) {
		vg_log(&d->log, VG_LOG_ERROR, "reload: %s; keeping the running configuration", err);
		free(o);
		vg_notify("READY=1");
		return;
	}
	if (o->ns.mtu != cur->ns.mtu || o->ns.subnet != cur->ns.subnet ||
	    o->ns.prefix != cur->ns.prefix || o->ns.no_ipv6 != cur->ns.no_ipv6 ||
	    o->ns.dhcp6_stateless != cur->ns.dhcp6_stateless || o->nat64 != cur->nat64 ||
	    o->ns.no_tap_offload != cur->ns.no_tap_offload ||
	    memcmp(o->ns.subnet6, cur->ns.subnet6, sizeof(o->ns.subnet6)))
		vg_log(&d->log, VG_LOG_WARN,
		       "reload: link settings and --nat64 change only on restart");
	d->log.level = o->log_level;
	diff_records(d, cur, o, false);
	diff_records(d, o, cur, true);
	diff_forwards(d, cur, o);
	apply_policy(d, &o->policy);
	vg_log(&d->log, VG_LOG_INFO, "reload: policy has %zu allow and %zu deny rules",
	       o->policy.n_allow, fwd_policy_n_deny(&o->policy));
	/* as the policy: replaced also when PUT /policy changed them (checked by the parser) */
	if (vg_dnsup_set_routes(&d->dnsup, o->dns_upstream_for, o->n_dns_upstream_for, err,
				sizeof(err)) < 0)
		vg_log(&d->log, VG_LOG_ERROR, "reload: dns-upstream-for kept: %s", err);
	else
		vg_log(&d->log, VG_LOG_INFO, "reload: dns-upstream-for has %zu values",
		       o->n_dns_upstream_for);
	if (!same_strings(cur->dns_upstream, cur->n_dns_upstream, o->dns_upstream,
			  o->n_dns_upstream))
		vg_log(&d->log, VG_LOG_WARN, "reload: dns-upstream changes only on restart");
	if (d->sni) {
		if (sni_filter_reload(d->sni, &o->sni, err, sizeof(err)) < 0)
			vg_log(&d->log, VG_LOG_ERROR, "reload: allowlist kept: %s", err);
	} else if (sni_config_enabled(&o->sni)) {
		vg_log(&d->log, VG_LOG_WARN,
		       "reload: the SNI allowlist was off at start; turning it on needs a restart");
	}
	free_applied(d);
	d->applied = o;
	vg_log(&d->log, VG_LOG_INFO, "reload: done");
	vg_notify("READY=1");
}

void vg_daemon_cleanup(struct vg_daemon *d)
{
	if (d->loop)
		vg_notify("STOPPING=1");
	if (d->pid_written)
		unlink(d->opt.pid_file);
	d->pid_written = false;
	vg_glisten_free(d->gl); /* before the API it hands connections to */
	d->gl = NULL;
	api_free(d->api);
	d->api = NULL;
	if (d->cap) {
		ns_set_capture(d->ns, NULL, NULL);
		vg_capture_close(d->cap);
		d->cap = NULL;
	}
	free_applied(d);
	vg_sshfwd_free(d->sshfwd); /* its pipes hold netstack flows */
	d->sshfwd = NULL;
	if (d->ns)
		ns_set_link_watch(d->ns, NULL, NULL);
	vg_gvnotify_free(d->gvn); /* sends what is queued, without waiting */
	d->gvn = NULL;
	ns_free(d->ns); /* first of the modules: it calls into the others */
	d->ns = NULL;
	dns_gateway_free(d->dns_gw); /* after the netstack, before DNS */
	d->dns_gw = NULL;
	sni_filter_free(d->sni); /* before DNS and the forwarder it uses */
	d->sni = NULL;
	vg_dnsup_free(&d->dnsup); /* its watch is on the loop, it calls DNS */
	dns_free(d->dns);
	d->dns = NULL;
	fwd_free(d->fwd);
	d->fwd = NULL;
	if (d->sig_io.fd >= 0) {
		int fd = d->sig_io.fd;

		vg_io_del(d->loop, &d->sig_io);
		close(fd);
		d->sig_io.fd = -1;
	}
	vg_loop_free(d->loop);
	d->loop = NULL;
	if (d->log_fp) {
		d->log.out = stderr;
		fclose(d->log_fp);
		d->log_fp = NULL;
	}
	vg_options_free(&d->opt);
}
