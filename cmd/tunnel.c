/* SPDX-License-Identifier: MIT */
/*
 * tunnel.c - gvproxy's /tunnel (see tunnel.h).
 *
 * How: a fixed table of VG_TUNNEL_MAX slots. vg_tunnels_open() checks the
 * address, takes a free slot (none: 503), adopts the client's socket into
 * a flowpipe towards guest IP:PORT and arms the slot's timer for
 * VG_TUNNEL_CONNECT_MS. The pipe's hooks drive the rest: connected ->
 * write "OK", stop the timer; failed -> write the 502; ended -> the slot
 * is done, and its timer re-armed at 0 ms frees the pipe on the next loop
 * turn (a pipe is not freed from inside its own hooks). The timer firing
 * while the guest has not answered writes the 504 and frees the pipe.
 *
 * The head is parsed in tunnelhead.c (its own object, so the unit test
 * links it without the netstack).
 *
 * Error replies are one short send() on a socket nothing was written to
 * yet, so they fit its buffer; a client that is gone just misses it.
 */
#include "cmd/tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/flowpipe.h"

#define TN_KEEPALIVE_MS 30000u /* a guest gone without a word is noticed */

struct vg_tunnels;

/**
 * struct tn_slot - one tunnel
 * @t:		owner
 * @used:	the slot holds a tunnel
 * @connected:	the guest answered ("OK" written)
 * @done:	the pipe closed its socket: free it on the timer
 * @fd:		the client's socket (owned by @pipe)
 * @pipe:	the splice
 * @timer:	the connect deadline, then "free now"
 */
struct tn_slot {
	struct vg_tunnels *t;
	bool used;
	bool connected;
	bool done;
	int fd;
	struct vg_flowpipe *pipe;
	struct vg_timer timer;
};

struct vg_tunnels {
	struct vg_tunnel_config cfg;
	struct tn_slot s[VG_TUNNEL_MAX];
	struct vg_tunnel_stats st;
};

/* ---- the table ---- */

/**
 * tn_reply() - send an HTTP error response on @fd (best effort, one send)
 * @fd:		client socket
 * @status:	HTTP status
 * @reason:	its reason phrase
 * @msg:	body (a newline is added)
 */
static void tn_reply(int fd, int status, const char *reason, const char *msg)
{
	char buf[384];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
			 status, reason, strlen(msg) + 1, msg);

	if (n > 0 && (size_t)n < sizeof(buf))
		(void)send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* free the slot's pipe (closing the client's socket if still open) */
static void tn_release(struct tn_slot *s)
{
	vg_timer_stop(s->t->cfg.loop, &s->timer);
	vg_flowpipe_free(s->pipe);
	s->pipe = NULL;
	s->used = false;
	s->t->st.active--;
}

static int tn_connected(void *user, int fd)
{
	struct tn_slot *s = user;

	vg_timer_stop(s->t->cfg.loop, &s->timer);
	if (send(fd, "OK", 2, MSG_NOSIGNAL | MSG_DONTWAIT) != 2)
		return -1; /* the client is gone: reset the guest's side */
	s->connected = true;
	s->t->st.ok++;
	return 0;
}

static void tn_failed(void *user, int fd, enum ns_close_reason reason)
{
	struct tn_slot *s = user;

	s->t->st.refused++;
	tn_reply(fd, 502, "Bad Gateway",
		 reason == NS_CLOSED_RESET ? "the guest refused the connection"
					   : "the connection to the guest failed");
}

static void tn_ended(void *user)
{
	struct tn_slot *s = user;

	s->done = true;
	vg_timer_stop(s->t->cfg.loop, &s->timer);
	if (vg_timer_start(s->t->cfg.loop, &s->timer, 0) < 0)
		vg_log(s->t->cfg.log, VG_LOG_WARN,
		       "tunnel: no timer left: a finished tunnel waits for vgate's exit");
}

static void tn_timer(void *arg)
{
	struct tn_slot *s = arg;

	if (!s->done && !s->connected) {
		s->t->st.timeouts++;
		tn_reply(s->fd, 504, "Gateway Timeout", "the guest did not answer in time");
	}
	tn_release(s);
}

/* whether @ip (network order) may be a guest of the subnet */
static bool tn_guest_addr(const struct vg_tunnel_config *c, uint32_t ip)
{
	uint32_t mask = c->prefix ? htonl(~0u << (32 - c->prefix)) : 0;

	return (ip & mask) == (c->subnet & mask) && ip != c->gateway_ip && ip != c->host_ip &&
	       (ip & ~mask) != 0 && (ip & ~mask) != ~mask;
}

void vg_tunnels_open(struct vg_tunnels *t, int fd, enum vg_tunnel_kind kind,
		     const struct vg_tunnel_req *rq)
{
	static const struct vg_flowpipe_hooks base = {
	    .connected = tn_connected, .failed = tn_failed, .ended = tn_ended};
	struct vg_flowpipe_hooks hooks = base;
	struct ns_addr src, dst;
	struct tn_slot *s = NULL;
	char err[160];
	size_t i;

	if (kind != VG_TUNNEL_REQUEST || !tn_guest_addr(&t->cfg, rq->ip)) {
		t->st.bad_request++;
		tn_reply(fd, 400, "Bad Request",
			 kind != VG_TUNNEL_REQUEST ? rq->why
						   : "ip is not a guest address of the subnet");
		close(fd);
		return;
	}
	for (i = 0; i < VG_TUNNEL_MAX && !s; i++)
		if (!t->s[i].used)
			s = &t->s[i];
	if (!s) {
		t->st.full++;
		tn_reply(fd, 503, "Service Unavailable", "too many tunnels open");
		close(fd);
		return;
	}
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->fd = fd;
	vg_timer_init(&s->timer, tn_timer, s);
	if (vg_timer_start(t->cfg.loop, &s->timer, VG_TUNNEL_CONNECT_MS) < 0) {
		t->st.full++;
		tn_reply(fd, 503, "Service Unavailable", "no timer left");
		close(fd);
		return;
	}
	src = ns_addr_v4(t->cfg.gateway_ip, 0);
	dst = ns_addr_v4(rq->ip, rq->port);
	hooks.user = s;
	s->pipe = vg_flowpipe_adopt(t->cfg.loop, t->cfg.ns, &src, &dst, TN_KEEPALIVE_MS, fd, &hooks,
				    err, sizeof(err));
	if (!s->pipe) {
		vg_timer_stop(t->cfg.loop, &s->timer);
		t->st.refused++;
		tn_reply(fd, 502, "Bad Gateway", err);
		close(fd);
		return;
	}
	s->used = true;
	t->st.active++;
}

struct vg_tunnels *vg_tunnels_new(const struct vg_tunnel_config *cfg)
{
	struct vg_tunnels *t = calloc(1, sizeof(*t));

	if (t)
		t->cfg = *cfg;
	return t;
}

void vg_tunnels_free(struct vg_tunnels *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < VG_TUNNEL_MAX; i++)
		if (t->s[i].used)
			tn_release(&t->s[i]);
	free(t);
}

void vg_tunnels_get_stats(const struct vg_tunnels *t, struct vg_tunnel_stats *st)
{
	*st = t->st;
}
