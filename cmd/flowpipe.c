/* SPDX-License-Identifier: MIT */
/*
 * flowpipe.c - a socketpair end spliced into a netstack flow (see
 * flowpipe.h). One struct per connection: the flow, the pipe's end of the
 * socketpair and its loop registration, and the FIN state of each side.
 * The socket is polled for EPOLLIN only while the flow is connected and
 * has send space, and for EPOLLOUT only while guest bytes wait for it.
 * An adopted socket (vg_flowpipe_adopt()) is pumped the same way; the
 * hooks are called where the state changes (flow_connected(),
 * flow_closed(), pipe_close_fd()), never from vg_flowpipe_free().
 */
#include "flowpipe.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define PIPE_CHUNK  (32u << 10) /* bytes read from the socket at a time */
#define PIPE_ROUNDS 16		/* reads or writes per event, for fairness */

struct vg_flowpipe {
	struct vg_loop *loop;
	struct ns_flow *flow; /* NULL once gone */
	struct vg_io io;      /* the pipe's end; io.fd -1 once closed */
	bool connected;
	bool sock_eof;	/* the socket read EOF: FIN sent to the guest */
	bool guest_eof; /* the guest's FIN passed on as shutdown(SHUT_WR) */
	bool out_wait;	/* guest bytes wait for the socket to take them */
	uint32_t keepalive_ms;
	struct vg_flowpipe_hooks hooks; /* all NULL for vg_flowpipe_open() */
	bool freeing;			/* in vg_flowpipe_free(): no hooks */
};

static void pipe_close_fd(struct vg_flowpipe *p)
{
	int fd = p->io.fd;

	if (fd < 0)
		return;
	vg_io_del(p->loop, &p->io);
	close(fd);
	if (p->hooks.ended && !p->freeing)
		p->hooks.ended(p->hooks.user);
}

/* end the flow (close or reset) and the pipe's socket */
static void pipe_end(struct vg_flowpipe *p, bool reset)
{
	if (p->flow) {
		if (reset)
			ns_flow_reset(p->flow);
		else
			ns_flow_close(p->flow);
		p->flow = NULL;
	}
	pipe_close_fd(p);
}

static void pipe_events(struct vg_flowpipe *p)
{
	uint32_t ev = 0;

	if (p->io.fd < 0)
		return;
	if (p->connected && p->flow && !p->sock_eof && ns_flow_sndbuf(p->flow) > 0)
		ev |= EPOLLIN;
	if (p->out_wait)
		ev |= EPOLLOUT;
	(void)vg_io_mod(p->loop, &p->io, ev);
}

static void pipe_maybe_done(struct vg_flowpipe *p)
{
	if (p->sock_eof && p->guest_eof)
		pipe_end(p, false);
}

/**
 * guest_to_sock() - write the guest's unread bytes to the socket and
 * consume what it took; pass the guest's FIN on once everything is written
 * @p:	pipe
 */
static void guest_to_sock(struct vg_flowpipe *p)
{
	int i;

	p->out_wait = false;
	for (i = 0; i < PIPE_ROUNDS && p->flow && p->io.fd >= 0; i++) {
		struct iovec iov[8];
		int cnt = 8;
		size_t n = ns_flow_peek(p->flow, iov, &cnt);
		ssize_t w;

		if (n == 0) {
			if (ns_flow_eof(p->flow) && !p->guest_eof) {
				p->guest_eof = true;
				(void)shutdown(p->io.fd, SHUT_WR);
				pipe_maybe_done(p);
			}
			return;
		}
		w = writev(p->io.fd, iov, cnt);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				p->out_wait = true;
				return;
			}
			pipe_end(p, true); /* the caller's end is gone */
			return;
		}
		ns_flow_consume(p->flow, (size_t)w);
		if ((size_t)w < n) {
			p->out_wait = true;
			return;
		}
	}
	if (p->flow && ns_flow_pending(p->flow))
		p->out_wait = true; /* more next turn, through EPOLLOUT */
}

/**
 * sock_to_guest() - read from the socket no more than the flow can take
 * and write it to the guest; EOF becomes the guest's FIN
 * @p:	pipe
 */
static void sock_to_guest(struct vg_flowpipe *p)
{
	char buf[PIPE_CHUNK];
	int i;

	for (i = 0; i < PIPE_ROUNDS && p->flow && p->connected && !p->sock_eof; i++) {
		size_t room = ns_flow_sndbuf(p->flow);
		ssize_t r;

		if (!room)
			return; /* EPOLLIN off; ops.sent resumes */
		r = read(p->io.fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (r > 0) {
			if (ns_flow_write(p->flow, buf, (size_t)r) != r) {
				pipe_end(p, true);
				return;
			}
			continue;
		}
		if (r == 0) {
			p->sock_eof = true;
			ns_flow_shutdown(p->flow);
			pipe_maybe_done(p);
			return;
		}
		if (errno != EAGAIN && errno != EINTR)
			pipe_end(p, true);
		return;
	}
}

static void pipe_io(void *arg, uint32_t events)
{
	struct vg_flowpipe *p = arg;

	if (events & EPOLLERR) {
		pipe_end(p, true);
		return;
	}
	if (events & EPOLLOUT)
		guest_to_sock(p);
	if (events & (EPOLLIN | EPOLLHUP))
		sock_to_guest(p);
	if ((events & EPOLLHUP) && p->io.fd >= 0) {
		/* the caller closed its end: nothing more to carry either way */
		pipe_end(p, false);
		return;
	}
	pipe_events(p);
}

static void flow_recv(void *user)
{
	struct vg_flowpipe *p = user;

	guest_to_sock(p);
	pipe_events(p);
}

static void flow_sent(void *user)
{
	struct vg_flowpipe *p = user;

	sock_to_guest(p);
	pipe_events(p);
}

static void flow_connected(void *user)
{
	struct vg_flowpipe *p = user;

	p->connected = true;
	if (p->hooks.connected && p->hooks.connected(p->hooks.user, p->io.fd) < 0) {
		pipe_end(p, true);
		return;
	}
	if (p->keepalive_ms)
		ns_flow_set_keepalive(p->flow, p->keepalive_ms);
	sock_to_guest(p);
	pipe_events(p);
}

static void flow_closed(void *user, enum ns_close_reason reason)
{
	struct vg_flowpipe *p = user;

	if (!p->connected && p->hooks.failed && p->io.fd >= 0)
		p->hooks.failed(p->hooks.user, p->io.fd, reason);
	p->flow = NULL; /* gone: no call on it any more */
	pipe_close_fd(p);
}

static const struct ns_flow_ops pipe_ops = {
    .recv = flow_recv,
    .sent = flow_sent,
    .closed = flow_closed,
    .connected = flow_connected,
};

/**
 * pipe_start() - register @sock as the pipe's end and open the flow
 * @p:		pipe, zeroed but for its loop, keepalive and hooks
 * @ns:		netstack
 * @src:	source shown to the guest
 * @dst:	guest endpoint
 * @sock:	the pipe's end
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 with @sock not registered (and not closed)
 */
static int pipe_start(struct vg_flowpipe *p, struct ns *ns, const struct ns_addr *src,
		      const struct ns_addr *dst, int sock, char *err, size_t errlen)
{
	int rc = vg_io_add(p->loop, &p->io, sock, 0, pipe_io, p);

	if (rc < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(-rc));
		p->io.fd = -1;
		return -1;
	}
	p->flow = ns_flow_connect(ns, src, dst, &pipe_ops, p);
	if (!p->flow) {
		snprintf(err, errlen, "cannot open a connection to the guest: %s", strerror(errno));
		vg_io_del(p->loop, &p->io);
		p->io.fd = -1;
		return -1;
	}
	return 0;
}

/**
 * pipe_alloc() - a new, unstarted pipe
 * @loop:		event loop
 * @keepalive_ms:	the guest flow's keepalive
 * @hooks:		optional callbacks (copied), or NULL
 * @err:		"out of memory" on failure
 * @errlen:		its size
 *
 * Return: the pipe, or NULL
 */
static struct vg_flowpipe *pipe_alloc(struct vg_loop *loop, uint32_t keepalive_ms,
				      const struct vg_flowpipe_hooks *hooks, char *err,
				      size_t errlen)
{
	struct vg_flowpipe *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->loop = loop;
	p->io.fd = -1;
	p->keepalive_ms = keepalive_ms;
	if (hooks)
		p->hooks = *hooks;
	return p;
}

struct vg_flowpipe *vg_flowpipe_adopt(struct vg_loop *loop, struct ns *ns,
				      const struct ns_addr *src, const struct ns_addr *dst,
				      uint32_t keepalive_ms, int fd,
				      const struct vg_flowpipe_hooks *hooks, char *err,
				      size_t errlen)
{
	struct vg_flowpipe *p = pipe_alloc(loop, keepalive_ms, hooks, err, errlen);

	if (!p)
		return NULL;
	if (pipe_start(p, ns, src, dst, fd, err, errlen) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

struct vg_flowpipe *vg_flowpipe_open(struct vg_loop *loop, struct ns *ns, const struct ns_addr *src,
				     const struct ns_addr *dst, uint32_t keepalive_ms, int *fd,
				     char *err, size_t errlen)
{
	struct vg_flowpipe *p = pipe_alloc(loop, keepalive_ms, NULL, err, errlen);
	int sv[2];

	if (!p)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		free(p);
		return NULL;
	}
	if (pipe_start(p, ns, src, dst, sv[1], err, errlen) < 0) {
		close(sv[0]);
		close(sv[1]);
		free(p);
		return NULL;
	}
	*fd = sv[0];
	return p;
}

bool vg_flowpipe_connected(const struct vg_flowpipe *p)
{
	return p->connected;
}

void vg_flowpipe_free(struct vg_flowpipe *p)
{
	if (!p)
		return;
	p->freeing = true;
	pipe_end(p, false);
	free(p);
}
