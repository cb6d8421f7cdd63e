/* SPDX-License-Identifier: MIT */
/*
 * fwd.c - the forwarder's life cycle (fwd_new → ns_new → fwd_attach, which
 * registers with the netstack → ... → ns_free → fwd_free), the once-a-second
 * sweep timer that expires TCP set-ups, idle TCP flows and idle UDP mappings
 * (and resumes port-forward listeners paused on EMFILE),
 * the loop-idle callback that flushes guest bytes to host sockets, stats and
 * where the filter is installed. (Address mapping is in addr.c, a leaf that
 * tcp.c, udp.c and portfwd.c call, so that none of them calls back into this
 * file.)
 *
 * struct fwd owns: the flow tables (bucket arrays sized once from the
 * limits), the shared bounce buffer, the listeners, and through tcp.c/udp.c
 * every flow record and host socket.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fwd_config_defaults(struct fwd_config *c)
{
	memset(c, 0, sizeof(*c));
	fwd_policy_init(&c->policy);
	c->host_ip = htonl(0xc0a87ffeu);    /* 192.168.127.254 */
	c->gateway_ip = htonl(0xc0a87f01u); /* 192.168.127.1 */
	c->max_flows = FWD_MAX_FLOWS_DEFAULT;
	c->max_udp_flows = FWD_MAX_UDP_FLOWS_DEFAULT;
	c->tcp_idle_ms = FWD_TCP_IDLE_MS_DEFAULT;
	c->udp_idle_ms = FWD_UDP_IDLE_MS_DEFAULT;
	c->connect_ms = FWD_CONNECT_MS_DEFAULT;
	c->max_half_open = FWD_HALF_OPEN_DEFAULT;
	c->max_half_open_src = FWD_HALF_OPEN_SRC_DEFAULT;
	c->keepalive_ms = FWD_KEEPALIVE_MS_DEFAULT;
}

/**
 * fwd_sweep() - the once-a-second timer: expire set-ups, idle flows and
 * idle mappings, then re-arm
 * @arg:	forwarder
 *
 * Re-arming cannot find the heap full (this timer's slot was just freed),
 * but if it ever does, fwd_idle() retries on the next loop turn rather than
 * the sweep stopping for good.
 */
static void fwd_sweep(void *arg)
{
	struct fwd *fwd = arg;
	uint64_t now = vg_loop_now(fwd->loop);

	fwd_tcp_sweep(fwd, now);
	fwd_udp_sweep(fwd, now);
	fwd_ping_sweep(fwd, now);
	fwd_listeners_resume(fwd); /* those paused on EMFILE/ENFILE */
	fwd->sweep_unarmed = vg_timer_start(fwd->loop, &fwd->sweep, FWD_SWEEP_MS) < 0;
}

/* fwd->hold: flows waiting to gather guest bytes write them now */
static void fwd_hold(void *arg)
{
	fwd_tcp_flush(arg, true);
}

/**
 * fwd_idle() - once per loop turn: flush guest bytes to host sockets
 * (fwd_tcp_flush()) and re-arm a sweep timer that could not be re-armed
 * @arg:	forwarder
 */
static void fwd_idle(void *arg)
{
	struct fwd *fwd = arg;

	fwd_tcp_flush(fwd, false);
	if (fwd->sweep_unarmed)
		fwd->sweep_unarmed = vg_timer_start(fwd->loop, &fwd->sweep, FWD_SWEEP_MS) < 0;
}

struct fwd *fwd_new(struct vg_loop *loop, const struct fwd_config *cfg)
{
	struct fwd *fwd = calloc(1, sizeof(*fwd));
	size_t i;

	if (!fwd)
		return NULL;
	fwd->loop = loop;
	fwd->cfg = *cfg;
	vg_timer_init(&fwd->sweep, fwd_sweep, fwd);
	vg_timer_init(&fwd->hold, fwd_hold, fwd);
	if (!fwd->cfg.max_flows)
		fwd->cfg.max_flows = 1;
	if (!fwd->cfg.max_udp_flows)
		fwd->cfg.max_udp_flows = 1;
	if (!fwd->cfg.udp_idle_ms)
		fwd->cfg.udp_idle_ms = FWD_UDP_IDLE_MS_DEFAULT;
	if (!fwd->cfg.connect_ms)
		fwd->cfg.connect_ms = FWD_CONNECT_MS_DEFAULT;
	fwd_list_init(&fwd->tcp_pending);
	fwd_list_init(&fwd->tcp_half);
	/* half-open flows: at most half the flow bound, below the netstack's SYN hold */
	fwd->half_max = fwd->cfg.max_half_open ? fwd->cfg.max_half_open : FWD_HALF_OPEN_DEFAULT;
	if (fwd->half_max > fwd->cfg.max_flows / 2)
		fwd->half_max = fwd->cfg.max_flows / 2;
	if (fwd->half_max > NS_SYN_HOLD_MAX - 1)
		fwd->half_max = NS_SYN_HOLD_MAX - 1;
	if (!fwd->half_max)
		fwd->half_max = 1;
	fwd->half_src_max = fwd->cfg.max_half_open_src ? fwd->cfg.max_half_open_src : fwd->half_max;
	if (fwd->half_src_max > fwd->half_max)
		fwd->half_src_max = fwd->half_max;
	fwd_list_init(&fwd->tcp_active);
	fwd_list_init(&fwd->udp_lru);
	fwd_list_init(&fwd->ping_lru);
	fwd->tcp_dirty.prev = fwd->tcp_dirty.next = &fwd->tcp_dirty;
	for (i = 0; i < FWD_FORWARD_MAX; i++) {
		fwd->lst[i].fd = -1;
		fwd->lst[i].io.fd = -1;
		fwd->lst[i].fwd = fwd;
	}
	fwd->bounce = malloc(FWD_BOUNCE_BYTES);
	if (!fwd->bounce || fwd_table_init(&fwd->tcp_tab, fwd->cfg.max_flows) < 0 ||
	    fwd_table_init(&fwd->udp_tab, fwd->cfg.max_udp_flows) < 0 ||
	    fwd_table_init(&fwd->udp_peer_tab, fwd->cfg.max_udp_flows) < 0 ||
	    fwd_srcs_init(&fwd->srcs, fwd->cfg.max_flows) < 0) {
		fwd_free(fwd);
		errno = ENOMEM;
		return NULL;
	}
	if (vg_timer_start(loop, &fwd->sweep, FWD_SWEEP_MS) < 0 ||
	    vg_loop_add_idle(loop, fwd_idle, fwd) < 0) {
		fwd_free(fwd);
		errno = ENOSPC;
		return NULL;
	}
	fwd->idle_added = true;
	return fwd;
}

int fwd_attach(struct fwd *fwd, struct ns *ns, char *err, size_t errlen)
{
	struct ns_handler h = {
	    .ctx = fwd,
	    .tcp_syn = fwd_tcp_syn,
	    .tcp_accept = fwd_tcp_accept,
	    .tcp_abandoned = fwd_tcp_abandoned,
	    .udp_recv = fwd_udp_recv,
	    .echo = fwd_ping_echo,
	    .ops = fwd_tcp_ops,
	};
	size_t i;
	int r;

	fwd->ns = ns;
	r = ns_register_foreign(ns, &h);
	if (r < 0) {
		snprintf(err, errlen, "forwarder: cannot take the guest's flows: %s", strerror(-r));
		return -1;
	}
	if (fwd->cfg.guest_api_port) {
		/* TCP only, no filter and no policy: it never leaves vgate */
		h.tcp_syn = fwd_tcp_api_syn;
		h.udp_recv = NULL;
		h.echo = NULL;
		r = ns_register_service(ns, fwd->cfg.guest_api_port, &h);
		if (r < 0) {
			snprintf(err, errlen, "guest API: cannot serve gateway port %u: %s",
				 fwd->cfg.guest_api_port, strerror(-r));
			return -1;
		}
	}
	for (i = 0; i < fwd->cfg.n_forwards; i++)
		if (fwd_forward_add(fwd, &fwd->cfg.forwards[i], err, errlen) < 0)
			return -1;
	return 0;
}

void fwd_free(struct fwd *fwd)
{
	if (!fwd)
		return;
	fwd->ns = NULL; /* gone already (ns_free first): no callback, no flow call */
	vg_timer_stop(fwd->loop, &fwd->sweep);
	vg_timer_stop(fwd->loop, &fwd->hold);
	if (fwd->idle_added)
		vg_loop_del_idle(fwd->loop, fwd_idle, fwd);
	fwd_listeners_close(fwd);
	if (fwd->tcp_tab.buckets)
		fwd_tcp_free_all(fwd);
	if (fwd->udp_tab.buckets)
		fwd_udp_free_all(fwd);
	fwd_ping_free_all(fwd);
	fwd_table_destroy(&fwd->tcp_tab);
	fwd_srcs_destroy(&fwd->srcs);
	fwd_table_destroy(&fwd->udp_tab);
	fwd_table_destroy(&fwd->udp_peer_tab);
	free(fwd->bounce);
	free(fwd->inspect_buf);
	free(fwd);
}

void fwd_set_policy(struct fwd *fwd, const struct fwd_policy *p)
{
	fwd->cfg.policy = *p;
	fwd_tcp_revoke(fwd);
	fwd_udp_revoke(fwd);
	fwd_ping_revoke(fwd);
}

void fwd_get_stats(const struct fwd *fwd, struct fwd_stats *st)
{
	*st = fwd->st;
	st->tcp_max = fwd->tcp_tab.max;
	st->tcp_half_open = fwd->tcp_half.n;
	st->tcp_half_max = fwd->half_max;
	st->udp_max = fwd->udp_tab.max;
}

void fwd_set_filter(struct fwd *fwd, const struct fwd_filter *flt)
{
	size_t max = fwd->filter.max_bytes;

	fwd->has_filter = flt && flt->inspect;
	if (!fwd->has_filter)
		return;
	fwd->filter = *flt;
	if (!fwd->filter.max_bytes)
		fwd->filter.max_bytes = FWD_FILTER_MAX_DEF;
	if (fwd->filter.max_bytes != max) { /* sized again at the next inspection */
		free(fwd->inspect_buf);
		fwd->inspect_buf = NULL;
	}
	if (!fwd->filter.timeout_ms)
		fwd->filter.timeout_ms = FWD_FILTER_MS_DEF;
}

void fwd_stats_format(const struct fwd_stats *s, char *buf, size_t len)
{
	snprintf(buf, len,
		 "tcp_active=%" PRIu64 " tcp_total=%" PRIu64 " tcp_bytes_out=%" PRIu64
		 " tcp_bytes_in=%" PRIu64 " tcp_writes_out=%" PRIu64 " tcp_refused=%" PRIu64
		 " tcp_denied=%" PRIu64 " tcp_over_limit=%" PRIu64 " tcp_timeouts=%" PRIu64
		 " tcp_resets=%" PRIu64 " tcp_errors=%" PRIu64 " udp_active=%" PRIu64
		 " udp_total=%" PRIu64 " udp_pkts_out=%" PRIu64 " udp_pkts_in=%" PRIu64
		 " udp_bytes_out=%" PRIu64 " udp_bytes_in=%" PRIu64 " udp_denied=%" PRIu64
		 " udp_over_limit=%" PRIu64 " udp_refused=%" PRIu64 " udp_expired=%" PRIu64
		 " udp_errors=%" PRIu64 " fwd_tcp_accepted=%" PRIu64 " fwd_tcp_failed=%" PRIu64
		 " fwd_udp_pkts=%" PRIu64 " tcp_martian=%" PRIu64 " udp_martian=%" PRIu64
		 " tcp_revoked=%" PRIu64 " udp_revoked=%" PRIu64 " udp_evicted=%" PRIu64
		 " fd_exhausted=%" PRIu64 " tcp_half_open=%" PRIu64 " tcp_half_dropped=%" PRIu64
		 " tcp_half_src_dropped=%" PRIu64 " tcp_evicted=%" PRIu64 " tcp_late=%" PRIu64
		 " tcp_abandoned=%" PRIu64 " icmp_active=%" PRIu64 " icmp_total=%" PRIu64
		 " icmp_raw=%" PRIu64 " icmp_pkts_out=%" PRIu64 " icmp_pkts_in=%" PRIu64
		 " icmp_denied=%" PRIu64 " icmp_filtered=%" PRIu64 " icmp_martian=%" PRIu64
		 " icmp_errors=%" PRIu64 " icmp_evicted=%" PRIu64 " icmp_expired=%" PRIu64
		 " icmp_revoked=%" PRIu64 " icmp_over_limit=%" PRIu64,
		 s->tcp_active, s->tcp_total, s->tcp_bytes_out, s->tcp_bytes_in, s->tcp_writes_out,
		 s->tcp_refused, s->tcp_denied, s->tcp_over_limit, s->tcp_timeouts, s->tcp_resets,
		 s->tcp_errors, s->udp_active, s->udp_total, s->udp_pkts_out, s->udp_pkts_in,
		 s->udp_bytes_out, s->udp_bytes_in, s->udp_denied, s->udp_over_limit,
		 s->udp_refused, s->udp_expired, s->udp_errors, s->fwd_tcp_accepted,
		 s->fwd_tcp_failed, s->fwd_udp_pkts, s->tcp_martian, s->udp_martian, s->tcp_revoked,
		 s->udp_revoked, s->udp_evicted, s->fd_exhausted, s->tcp_half_open,
		 s->tcp_half_dropped, s->tcp_half_src_dropped, s->tcp_evicted, s->tcp_late,
		 s->tcp_abandoned, s->icmp_active, s->icmp_total, s->icmp_raw, s->icmp_pkts_out,
		 s->icmp_pkts_in, s->icmp_denied, s->icmp_filtered, s->icmp_martian, s->icmp_errors,
		 s->icmp_evicted, s->icmp_expired, s->icmp_revoked, s->icmp_over_limit);
}
