/* SPDX-License-Identifier: MIT */
/*
 * tcp.c - TCP NAT: each guest flow re-originated from a host socket, and
 * host → guest port-forward flows, spliced both ways with backpressure.
 *
 * One struct fwd_tcp per flow (allocated at the guest's SYN, or at the host
 * accept for port forwards; freed exactly once, in tcp_end()). It owns the
 * host socket; the netstack owns the struct ns_flow, which tcp_end() closes
 * or resets unless the netstack already reported it gone (tcp_closed).
 *
 * Plain mode (outbound): the SYN callback checks the policy, the filter's
 * SYN verdict and the flow limit,
 * starts a non-blocking connect and defers the SYN. Connected → the SYN is
 * resumed with ACCEPT (the guest sees a real handshake; tcp_accept then finds
 * the record by the guest's 4-tuple); refused/unreachable → RST; no answer
 * within cfg.connect_ms → the SYN is dropped (the guest times out as it
 * would on a real network).
 *
 * Filter mode (where the SNI allowlist plugs in): when the installed
 * fwd_filter wants a flow, the SYN is accepted at once, the guest's first
 * bytes are shown to filter->inspect() WITHOUT consuming them (copied from
 * the start with ns_flow_copy() into fwd->inspect_buf, up to the filter's
 * max_bytes whatever the number of segments; at max_bytes without a
 * verdict the flow is denied), and only an ALLOW verdict starts the host
 * connect; the splice then
 * sends those bytes first, so the replay needs no copy. A flow that ends
 * before any verdict (filter timeout, guest reset) is reported to
 * filter->ended(), so the filter can count and log it.
 *
 * Splice: guest → host peeks lwIP's pbufs as an iovec and sendmsg()s them
 * once per loop turn (flows with new bytes wait on fwd->tcp_dirty, flushed
 * by the loop-idle callback fwd_tcp_flush(), so a burst of segments costs
 * one system call). A stream transport hands over only a few segments per
 * turn, so a flow whose unread bytes are fewer than FWD_HOLD_BYTES and
 * not "pushed" (ns_flow_pushed(): no PSH, so the guest's sender has more
 * right behind them, and less than half the receive window) stays on
 * the list for later turns, at most FWD_HOLD_MS (fwd->hold), and the host
 * gets fewer, larger writes;
 * only what the socket took is consumed (which reopens the guest's window);
 * a short write arms EPOLLOUT. Host → guest reads into the forwarder's one
 * bounce buffer no more than ns_flow_sndbuf() allows (the guest's window
 * and the netstack's buffer budget), so ns_flow_write() always takes all of
 * it; with no send space EPOLLIN is dropped (the host's kernel keeps the
 * backlog) and resumed from tcp_sent. FIN maps to shutdown(SHUT_WR) and host EOF to
 * ns_flow_shutdown(); when both directions are finished the flow is closed.
 * A guest RST resets the host socket (SO_LINGER 0) and a host reset resets
 * the guest flow. Idle flows (no byte either way for cfg.tcp_idle_ms) and
 * stuck set-ups (cfg.connect_ms, or the filter's timeout) are reaped by the
 * forwarder's sweep timer from the two lists, oldest first. A SYN the
 * outbound policy refuses is reset and reported to cfg.denied. A SYN to a
 * martian destination (fwd_martian()) is reset before any policy; a policy
 * reload resets the flows it now denies (fwd_tcp_revoke()).
 *
 * SYN floods and fairness: a flow is half-open from the guest's SYN until
 * both handshakes are done (T_CONNECTING, T_ACCEPTING, T_FILTER_ACCEPT,
 * T_FILTER_CONNECT); half-open flows are on fwd->tcp_half and on their
 * source's half list (source.c), oldest first. Before a new SYN is set up,
 * its source keeps fewer than half_src_max of them and all sources fewer
 * than half_max: the oldest goes first (RST to the guest, host socket
 * closed, the netstack's half-open pcb reset by ns_syn_cancel()), so a
 * spoofed-source flood churns through the oldest and new SYNs still get
 * through. At the flow bound, a SYN from a source holding fewer flows than
 * the source holding the most (by more than one) evicts that source's
 * least recently active flow (RST both ways) instead of being refused: no
 * source can keep another out of the table, and shares converge to equal.
 * Both are O(1) per SYN; every drop is counted.
 *
 * Guest API: a flow to gateway_ip:cfg.guest_api_port (the gateway service
 * fwd_attach() registered, SYNs through fwd_tcp_api_syn()) is a plain-mode
 * flow whose host socket is an AF_UNIX connect to cfg.guest_api_path (which
 * completes or fails at once); the policy and the filter are skipped, since
 * it never leaves vgate. Any other flow to the gateway's address is reset.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FWD_TCP_IOV       128
#define FWD_H2G_READS     16
#define FWD_FLUSH_BYTES   (128u * 1024)
#define FWD_HOLD_BYTES	  (64u * 1024) /* guest bytes gathered for one host write */
#define FWD_HOLD_MS	  1	       /* ... for at most this long (fwd->hold) */
#define FWD_RESUME_SNDBUF (32u * 1024) /* resume reading the host with this much room */

enum tcp_state {
	T_CONNECTING,     /* plain: guest SYN deferred, host connect in flight */
	T_ACCEPTING,      /* plain: host connected, SYN accepted, awaiting tcp_accept */
	T_FILTER_ACCEPT,  /* filter: SYN accepted, awaiting tcp_accept */
	T_INSPECT,        /* filter: showing the guest's first bytes to the filter */
	T_FILTER_WAIT,    /* filter: waiting for fwd_filter_decide() */
	T_FILTER_CONNECT, /* filter: allowed, host connect in flight */
	T_GUEST_CONNECT,  /* port forward: host accepted, connecting to the guest */
	T_SPLICE,
};

struct fwd_tcp {
	struct fwd_entry ent; /* guest tuple; on fwd->tcp_pending or tcp_active */
	struct fwd_lnode dirty; /* on fwd->tcp_dirty when next/prev are set */
	struct fwd *fwd;
	struct ns_flow *flow; /* NULL before accept and once the netstack dropped it */
	struct vg_io io;      /* registration of fd; io.fd < 0 when not registered */
	int fd;               /* host socket, -1 before the connect */
	enum tcp_state state;
	uint64_t token;    /* deferred SYN (T_CONNECTING) */
	uint64_t id;       /* filter id */
	uint64_t deadline; /* pending states */
	struct ns_addr src, dst;
	bool g_shut;    /* guest EOF forwarded: shutdown(SHUT_WR) done */
	bool h_eof;     /* host EOF seen: FIN queued to the guest */
	bool h_paused;  /* not reading the host: no send space to the guest */
	bool h_blocked; /* host socket full: EPOLLOUT armed */
	bool fin_pending; /* host EOF to pass on once the guest's data went */
	bool inbound;   /* port forward */
	bool is_half;   /* on fwd->tcp_half and its source's half list */
	struct fwd_entry half; /* on fwd->tcp_half while half-open */
	struct fwd_entry sref; /* on its source's half or est list */
	struct fwd_src *srec;  /* its source's accounting (NULL: port forward) */
};

static void tcp_on_io(void *arg, uint32_t events);

static void dirty_del(struct fwd_tcp *t)
{
	if (!t->dirty.next)
		return;
	t->dirty.prev->next = t->dirty.next;
	t->dirty.next->prev = t->dirty.prev;
	t->dirty.prev = t->dirty.next = NULL;
}

static void dirty_add(struct fwd_tcp *t)
{
	struct fwd_lnode *head = &t->fwd->tcp_dirty;

	if (t->dirty.next)
		return;
	t->dirty.prev = head->prev;
	t->dirty.next = head;
	head->prev->next = &t->dirty;
	head->prev = &t->dirty;
}

static bool pending_state(enum tcp_state s)
{
	return s != T_SPLICE;
}

static bool half_state(enum tcp_state s)
{
	return s == T_CONNECTING || s == T_ACCEPTING || s == T_FILTER_ACCEPT ||
	       s == T_FILTER_CONNECT;
}

/* keep @t's half-open list membership in step with its state */
static void half_sync(struct fwd_tcp *t)
{
	bool half = half_state(t->state) && !t->inbound;
	uint64_t now;

	if (half == t->is_half)
		return;
	now = vg_loop_now(t->fwd->loop);
	if (half)
		fwd_list_push(&t->fwd->tcp_half, &t->half, now);
	else
		fwd_list_del(&t->fwd->tcp_half, &t->half);
	if (t->srec)
		fwd_src_move(t->srec, &t->sref, half, now);
	t->is_half = half;
}

static struct fwd_list *tcp_list(struct fwd_tcp *t)
{
	return pending_state(t->state) ? &t->fwd->tcp_pending : &t->fwd->tcp_active;
}

/**
 * io_set() - register, modify or unregister the host socket so that epoll
 * watches exactly @events (none: unregistered, so a HUP cannot spin)
 * @t:		flow
 * @events:	EPOLLIN/EPOLLOUT
 *
 * Return: 0, or -1 when epoll refused
 */
static int io_set(struct fwd_tcp *t, uint32_t events)
{
	struct vg_loop *loop = t->fwd->loop;

	if (t->fd < 0)
		return 0;
	if (!events) {
		vg_io_del(loop, &t->io);
		return 0;
	}
	if (t->io.fd < 0)
		return vg_io_add(loop, &t->io, t->fd, events, tcp_on_io, t) < 0 ? -1 : 0;
	return vg_io_mod(loop, &t->io, events) < 0 ? -1 : 0;
}

static int io_update(struct fwd_tcp *t)
{
	uint32_t ev = 0;

	if (t->state == T_SPLICE) {
		if (!t->h_eof && !t->h_paused)
			ev |= EPOLLIN;
		if (t->h_blocked)
			ev |= EPOLLOUT;
	} else if (t->state == T_CONNECTING || t->state == T_FILTER_CONNECT) {
		ev = EPOLLOUT;
	}
	return io_set(t, ev);
}

/**
 * tcp_end() - end a flow and free its record (the one place that does)
 * @t:		flow, invalid afterwards
 * @rst:	reset both sides (else FIN / graceful close)
 * @syn:	for a deferred SYN: NS_SYN_RESET or NS_SYN_DROP; for an accepted
 *		SYN whose handshake is pending, NS_SYN_RESET resets it too
 */
static void tcp_end(struct fwd_tcp *t, bool rst, enum ns_syn_verdict syn)
{
	struct fwd *fwd = t->fwd;

	if (t->state == T_CONNECTING && t->token && fwd->ns)
		ns_syn_resume(fwd->ns, t->token, syn);
	/* an accepted SYN whose handshake is pending: its pcb goes too, unless
	 * @syn says to leave it to the netstack's bounded half-open table */
	if ((t->state == T_ACCEPTING || t->state == T_FILTER_ACCEPT) && !t->flow && rst &&
	    syn == NS_SYN_RESET && fwd->ns)
		ns_syn_cancel(fwd->ns, &t->src, &t->dst);
	if (t->flow) {
		struct ns_flow *f = t->flow;

		t->flow = NULL;
		if (rst)
			ns_flow_reset(f);
		else
			ns_flow_close(f);
	}
	if (t->fd >= 0) {
		vg_io_del(fwd->loop, &t->io);
		if (rst) {
			struct linger lg = { 1, 0 };

			setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(t->fd);
		t->fd = -1;
	}
	dirty_del(t);
	if (t->is_half)
		fwd_list_del(&fwd->tcp_half, &t->half);
	if (t->srec)
		fwd_src_del(&fwd->srcs, t->srec, &t->sref, t->is_half);
	fwd_list_del(tcp_list(t), &t->ent);
	fwd_table_del(&fwd->tcp_tab, &t->ent);
	fwd->st.tcp_active--;
	free(t);
}

/**
 * tcp_end_filtered() - tcp_end(), and when the flow was still waiting for the
 * filter's verdict, tell the filter why it ended (fwd_filter.ended)
 * @t:		flow, invalid afterwards
 * @rst:	as for tcp_end()
 * @syn:	as for tcp_end()
 * @why:	timeout (the sweep) or closed (by the guest or the netstack)
 */
static void tcp_end_filtered(struct fwd_tcp *t, bool rst, enum ns_syn_verdict syn,
			     enum fwd_filter_end why)
{
	struct fwd *fwd = t->fwd;
	struct ns_addr src = t->src, dst = t->dst;
	uint64_t id = t->id;
	bool tell =
	    t->state == T_FILTER_ACCEPT || t->state == T_INSPECT || t->state == T_FILTER_WAIT;

	tcp_end(t, rst, syn);
	/* after tcp_end(): the filter sees a flow that is already gone */
	if (tell && fwd->has_filter && fwd->filter.ended)
		fwd->filter.ended(fwd->filter.ctx, id, &src, &dst, why);
}

/* move @t to @state, switching lists when it leaves the pending states */
static void set_state(struct fwd_tcp *t, enum tcp_state state)
{
	uint64_t now = vg_loop_now(t->fwd->loop);

	fwd_list_del(tcp_list(t), &t->ent);
	t->state = state;
	fwd_list_push(tcp_list(t), &t->ent, now);
	half_sync(t);
}

static int sock_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/* a flow to the control API's guest socket (see forwarder.h; IPv4 only) */
static bool guest_api_flow(const struct fwd *fwd, const struct ns_addr *dst)
{
	return fwd->cfg.guest_api_port && !ns_addr_is_v6(dst) && dst->ip == fwd->cfg.gateway_ip &&
	       dst->port == fwd->cfg.guest_api_port;
}

/**
 * guest_api_connect() - connect @t's host socket to cfg.guest_api_path
 * @t:	flow to the guest API
 *
 * A unix stream connect does not block: it completes, or fails with
 * EAGAIN when the listener's backlog is full.
 *
 * Return: 0 connected, or a positive errno (ECONNREFUSED when nobody listens)
 */
static int guest_api_connect(struct fwd_tcp *t)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	_Static_assert(sizeof(sun.sun_path) == sizeof(t->fwd->cfg.guest_api_path),
		       "guest_api_path must fit sun_path");
	memcpy(sun.sun_path, t->fwd->cfg.guest_api_path, sizeof(sun.sun_path));
	sun.sun_path[sizeof(sun.sun_path) - 1] = '\0';
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	t->fd = fd;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return 0;
	return errno == ENOENT || errno == EAGAIN ? ECONNREFUSED : errno;
}

/**
 * host_connect() - open the host socket (of the destination's family) and
 * start a non-blocking connect to the mapped destination
 * @t:	flow (dst set)
 *
 * Return: 0 connected, 1 in progress, or a positive errno on failure (a
 * host without a route to it: ENETUNREACH, refused like a closed port)
 */
static int host_connect(struct fwd_tcp *t)
{
	struct fwd *fwd = t->fwd;
	struct ns_addr d = fwd_dialled(fwd, &t->dst);
	struct sockaddr_storage ss;
	socklen_t slen;
	int one = 1, fd;

	if (guest_api_flow(fwd, &t->dst))
		return guest_api_connect(t);
	fd = socket(ns_addr_is_v6(&d) ? AF_INET6 : AF_INET,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fwd->cfg.keepalive_ms) {
		int idle = fwd->cfg.keepalive_ms >= 2000 ? (int)(fwd->cfg.keepalive_ms / 1000) : 1;

		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	}
	slen = fwd_sockaddr(&ss, &d);
	t->fd = fd;
	if (connect(fd, (struct sockaddr *)&ss, slen) == 0)
		return 0;
	if (errno == EINPROGRESS) {
		if (vg_io_add(fwd->loop, &t->io, fd, EPOLLOUT, tcp_on_io, t) < 0)
			return ENOMEM;
		return 1;
	}
	return errno;
}

static bool refused_errno(int err)
{
	return err == ECONNREFUSED || err == ENETUNREACH || err == EHOSTUNREACH ||
	       err == EACCES || err == EPERM || err == EADDRNOTAVAIL;
}

/**
 * host_error() - the host socket failed while splicing: reset the guest
 * @t:		flow, freed
 * @err:	errno
 */
static void host_error(struct fwd_tcp *t, int err)
{
	if (err == ECONNRESET || err == EPIPE)
		t->fwd->st.tcp_resets++;
	else
		t->fwd->st.tcp_errors++;
	tcp_end(t, true, NS_SYN_RESET);
}

/**
 * tcp_fail() - a local failure (epoll, memory in the stack): count an
 * error and reset the flow
 * @t:	flow (freed)
 */
static void tcp_fail(struct fwd_tcp *t)
{
	t->fwd->st.tcp_errors++;
	tcp_end(t, true, NS_SYN_RESET);
}

/**
 * io_update_or_fail() - io_update(); tcp_fail() when epoll refuses
 * @t:	flow
 *
 * Return: false when @t was freed
 */
static bool io_update_or_fail(struct fwd_tcp *t)
{
	if (io_update(t) < 0) {
		tcp_fail(t);
		return false;
	}
	return true;
}

static void splice_touch(struct fwd_tcp *t)
{
	uint64_t now = vg_loop_now(t->fwd->loop);

	fwd_list_touch(&t->fwd->tcp_active, &t->ent, now);
	if (t->srec)
		fwd_list_touch(&t->srec->est, &t->sref, now);
}

/**
 * pump_g2h() - move the guest's unread bytes to the host socket, forward
 * the guest's FIN when everything went
 * @t:	splicing flow
 *
 * Return: false when @t was freed
 */
static bool pump_g2h(struct fwd_tcp *t)
{
	struct fwd *fwd = t->fwd;
	size_t avail = 0;

	t->h_blocked = false;
	for (;;) {
		struct iovec iov[FWD_TCP_IOV];
		struct msghdr mh = { 0 };
		int n = FWD_TCP_IOV;
		ssize_t w;

		avail = ns_flow_peek(t->flow, iov, &n);
		if (!avail)
			break;
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		w = sendmsg(t->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				t->h_blocked = true;
				break;
			}
			host_error(t, errno);
			return false;
		}
		ns_flow_consume(t->flow, (size_t)w);
		fwd->st.tcp_bytes_out += (uint64_t)w;
		fwd->st.tcp_writes_out++;
		splice_touch(t);
		if ((size_t)w < avail) {
			t->h_blocked = true;
			break;
		}
	}
	if (!t->h_blocked && !t->g_shut && ns_flow_eof(t->flow)) {
		shutdown(t->fd, SHUT_WR);
		t->g_shut = true;
		if (t->h_eof) {
			tcp_end(t, false, NS_SYN_DROP);
			return false;
		}
	}
	if (!t->h_blocked && t->fin_pending && !ns_flow_pending(t->flow)) {
		t->fin_pending = false;
		ns_flow_shutdown(t->flow);
	}
	return io_update_or_fail(t);
}

/**
 * pump_h2g() - read from the host socket no more than the guest's send
 * space, forward host EOF as FIN
 * @t:	splicing flow
 *
 * Return: false when @t was freed
 */
static bool pump_h2g(struct fwd_tcp *t)
{
	struct fwd *fwd = t->fwd;
	int i;

	for (i = 0; i < FWD_H2G_READS && !t->h_eof; i++) {
		size_t room = ns_flow_sndbuf(t->flow);
		ssize_t r;
		long w;

		if (!room) {
			t->h_paused = true;
			break;
		}
		if (room > FWD_BOUNCE_BYTES)
			room = FWD_BOUNCE_BYTES;
		r = recv(t->fd, fwd->bounce, room, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			host_error(t, errno);
			return false;
		}
		if (r == 0) {
			t->h_eof = true;
			if (t->g_shut) {
				tcp_end(t, false, NS_SYN_DROP);
				return false;
			}
			/*
			 * FIN to the guest only once its pending bytes went to
			 * the host: lwIP must never reach LAST_ACK while the
			 * flow still holds data (it would drop the flow).
			 */
			if (t->h_blocked || ns_flow_pending(t->flow))
				t->fin_pending = true;
			else
				ns_flow_shutdown(t->flow);
			break;
		}
		w = ns_flow_write(t->flow, fwd->bounce, (size_t)r);
		if (w != r) {
			/* out of memory in the stack: the bytes can't be kept */
			tcp_fail(t);
			return false;
		}
		fwd->st.tcp_bytes_in += (uint64_t)r;
		splice_touch(t);
		if ((size_t)r < room)
			break; /* drained */
	}
	return io_update_or_fail(t);
}

/**
 * start_splice() - both sides are connected: enter T_SPLICE and move what
 * is already waiting (the guest's bytes replay first in filter mode)
 * @t:	flow with flow and fd set
 */
static void start_splice(struct fwd_tcp *t)
{
	t->h_paused = t->h_blocked = false;
	set_state(t, T_SPLICE);
	if (t->fwd->cfg.keepalive_ms)
		ns_flow_set_keepalive(t->flow, t->fwd->cfg.keepalive_ms);
	if (pump_g2h(t))
		io_update_or_fail(t);
}

/* host connect finished (T_CONNECTING / T_FILTER_CONNECT) */
static void connect_done(struct fwd_tcp *t, int err)
{
	struct fwd *fwd = t->fwd;

	if (err) {
		if (refused_errno(err))
			fwd->st.tcp_refused++;
		else if (fwd_fd_exhausted(err)) {
			fwd->st.fd_exhausted++;
			fwd_budget_hit(fwd, "fd limit");
		} else
			fwd->st.tcp_errors++;
		/* a timeout on the host side looks like one to the guest */
		tcp_end(t, true, err == ETIMEDOUT ? NS_SYN_DROP : NS_SYN_RESET);
		return;
	}
	if (t->state == T_CONNECTING) {
		uint64_t token = t->token;

		t->token = 0;
		set_state(t, T_ACCEPTING);
		t->deadline = vg_loop_now(fwd->loop) + fwd->cfg.connect_ms;
		io_set(t, 0);
		ns_syn_resume(fwd->ns, token, NS_SYN_ACCEPT);
		return;
	}
	start_splice(t);
}

static void tcp_on_io(void *arg, uint32_t events)
{
	struct fwd_tcp *t = arg;

	if (t->state == T_CONNECTING || t->state == T_FILTER_CONNECT) {
		connect_done(t, sock_error(t->fd));
		return;
	}
	if (t->state != T_SPLICE) {
		io_set(t, 0);
		return;
	}
	if (events & EPOLLERR) {
		int err = sock_error(t->fd);

		if (err) {
			host_error(t, err);
			return;
		}
	}
	if ((events & EPOLLOUT) && t->h_blocked && !pump_g2h(t))
		return;
	if ((events & (EPOLLIN | EPOLLHUP)) && !t->h_eof && !t->h_paused)
		pump_h2g(t);
}

/* ---- netstack callbacks ---- */

static struct fwd_tcp *tcp_alloc(struct fwd *fwd, const struct ns_addr *src,
				 const struct ns_addr *dst, bool hash)
{
	struct fwd_tcp *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fwd = fwd;
	t->fd = -1;
	t->io.fd = -1;
	t->src = *src;
	t->dst = *dst;
	t->ent.key = fwd_key_of(src, dst);
	if (fwd_table_add(&fwd->tcp_tab, &t->ent, hash) < 0) {
		free(t);
		return NULL;
	}
	/* guest flows (hashed) count against their source, on est until half_sync() */
	if (hash)
		t->srec = fwd_src_add(&fwd->srcs, src, &t->sref, false, vg_loop_now(fwd->loop));
	fwd->st.tcp_active++;
	fwd->st.tcp_total++;
	return t;
}

/**
 * drop_oldest() - end the oldest flow of a half-open list, counted
 * @fwd:	forwarder
 * @l:		fwd->tcp_half, or a source's half list
 * @global:	which of the two (its node, its counter)
 */
static void drop_oldest(struct fwd *fwd, struct fwd_list *l, bool global)
{
	struct fwd_entry *e = fwd_list_first(l);
	struct fwd_tcp *t;

	if (!e)
		return;
	t = global ? fwd_container_of(e, struct fwd_tcp, half) : fwd_container_of(e, struct fwd_tcp, sref);
	if (global)
		fwd->st.tcp_half_dropped++;
	else
		fwd->st.tcp_half_src_dropped++;
	fwd_budget_hit(fwd, global ? "tcp half-open bound" : "tcp half-open bound per source");
	/* a connecting one is reset; an accepted SYN keeps its pending
	 * handshake in the netstack (fwd_tcp_accept() connects it late) */
	tcp_end_filtered(t, true,
			 t->state == T_ACCEPTING || t->state == T_FILTER_ACCEPT ? NS_SYN_DROP
										 : NS_SYN_RESET,
			 FWD_FILTER_END_CLOSED);
}

/**
 * half_make_room() - before a new flow of guest source @ip: keep that
 * source under half_src_max half-open flows and all under half_max, the
 * oldest dropped first (RST to the guest, host socket closed)
 * @fwd:	forwarder
 * @ip:		guest source, either family
 */
static void half_make_room(struct fwd *fwd, const struct ns_addr *ip)
{
	struct fwd_src *src = fwd_src_find(&fwd->srcs, ip);

	if (src && src->half.n >= fwd->half_src_max)
		drop_oldest(fwd, &src->half, false);
	if (fwd->tcp_half.n >= fwd->half_max)
		drop_oldest(fwd, &fwd->tcp_half, true);
}

/**
 * evict_for() - at the flow bound, make room for a new flow of @ip when
 * another source holds more than one flow more than @ip does: that source's
 * least recently active flow (its oldest half-open one if it has no other)
 * is reset
 * @fwd:	forwarder
 * @ip:		guest source of the new SYN, either family
 *
 * Return: true when a flow was evicted
 */
static bool evict_for(struct fwd *fwd, const struct ns_addr *ip)
{
	struct fwd_src *src = fwd_src_find(&fwd->srcs, ip), *top = fwd_src_top(&fwd->srcs);
	size_t mine = src ? src->flows : 0;
	struct fwd_entry *e;

	if (!top || top == src || top->flows <= mine + 1)
		return false;
	e = fwd_list_first(&top->est);
	if (!e)
		e = fwd_list_first(&top->half);
	if (!e)
		return false;
	fwd->st.tcp_evicted++;
	fwd_budget_hit(fwd, "tcp flow budget (evicting for another source)");
	tcp_end_filtered(fwd_container_of(e, struct fwd_tcp, sref), true, NS_SYN_RESET,
			 FWD_FILTER_END_CLOSED);
	return true;
}

/**
 * pending_start() - a new record enters its first pending state: its
 * deadline (the filter's timeout for a flow the filter inspects, else
 * cfg.connect_ms), a filter id if inspected, on tcp_pending (and tcp_half)
 * @t:		record from new_flow()
 * @state:	T_CONNECTING, T_FILTER_ACCEPT, T_INSPECT or T_FILTER_CONNECT
 */
static void pending_start(struct fwd_tcp *t, enum tcp_state state)
{
	struct fwd *fwd = t->fwd;
	uint64_t now = vg_loop_now(fwd->loop);
	bool filtered = state == T_FILTER_ACCEPT || state == T_INSPECT;

	t->state = state;
	if (filtered)
		t->id = ++fwd->filter_seq;
	t->deadline = now + (filtered ? fwd->filter.timeout_ms : fwd->cfg.connect_ms);
	fwd_list_push(&fwd->tcp_pending, &t->ent, now);
	half_sync(t);
}

/**
 * new_flow() - the checks of a new guest flow (the gateway's own ports,
 * martians, the policy, the filter's SYN verdict), room in the half-open
 * and flow bounds, and its record
 * @fwd:	forwarder
 * @src:	guest endpoint
 * @dst:	destination
 * @api:	a flow to the guest API's gateway port
 *
 * Return: the record (state T_CONNECTING, on no list), or NULL: refused
 * (counted)
 */
static struct fwd_tcp *new_flow(struct fwd *fwd, const struct ns_addr *src,
				const struct ns_addr *dst, bool api)
{
	struct fwd_tcp *t;

	if (fwd_is_gateway(fwd, dst) && !api) {
		fwd->st.tcp_refused++; /* the gateway's own ports are not forwarded */
		return NULL;
	}
	if (!api && fwd_martian_dst(fwd, dst)) {
		fwd->st.tcp_martian++; /* before any policy: 0.0.0.0 and :: are loopback */
		fwd_martian_hit(fwd, FWD_TCP, dst);
		return NULL;
	}
	if (!api && !fwd_allowed(fwd, dst)) {
		fwd->st.tcp_denied++;
		fwd_report_denied(fwd, FWD_TCP, src, dst);
		return NULL;
	}
	if (!api && fwd->has_filter && fwd->filter.syn &&
	    !fwd->filter.syn(fwd->filter.ctx, src, dst))
		return NULL;
	half_make_room(fwd, src);
	if (fwd_table_full(&fwd->tcp_tab) && !evict_for(fwd, src)) {
		fwd->st.tcp_over_limit++;
		fwd_budget_hit(fwd, "tcp flow budget");
		return NULL;
	}
	t = tcp_alloc(fwd, src, dst, true);
	if (!t)
		fwd->st.tcp_errors++;
	return t;
}

/* whether the filter inspects this flow's first bytes before connecting out */
static bool filter_wants(struct fwd *fwd, const struct ns_addr *src, const struct ns_addr *dst)
{
	return fwd->has_filter && fwd->filter.wants && fwd->filter.wants(fwd->filter.ctx, src, dst);
}

/**
 * tcp_syn() - a guest SYN for a new flow: set the flow up or refuse it
 * @fwd:	forwarder
 * @token:	the netstack's token for a deferred SYN
 * @src:	guest endpoint
 * @dst:	destination
 * @api:	a flow to the guest API's gateway port
 *
 * Return: the netstack's SYN verdict
 */
static enum ns_syn_verdict tcp_syn(struct fwd *fwd, uint64_t token, const struct ns_addr *src,
				   const struct ns_addr *dst, bool api)
{
	struct fwd_entry *old;
	struct fwd_tcp *t;
	struct fwd_key k;
	int rc;

	/* the netstack has no live pcb for this tuple: any record is stale */
	k = fwd_key_of(src, dst);
	old = fwd_table_find(&fwd->tcp_tab, &k);
	if (old)
		tcp_end_filtered(fwd_container_of(old, struct fwd_tcp, ent), true, NS_SYN_DROP,
				 FWD_FILTER_END_CLOSED);
	t = new_flow(fwd, src, dst, api);
	if (!t)
		return NS_SYN_RESET;
	fwd_guest6_seen(fwd, src);
	if (!api && filter_wants(fwd, src, dst)) {
		pending_start(t, T_FILTER_ACCEPT);
		return NS_SYN_ACCEPT;
	}
	pending_start(t, T_CONNECTING);
	rc = host_connect(t);
	if (rc == 1) {
		t->token = token;
		return NS_SYN_DEFER;
	}
	if (rc == 0) {
		set_state(t, T_ACCEPTING);
		io_set(t, 0);
		return NS_SYN_ACCEPT;
	}
	if (refused_errno(rc)) {
		fwd->st.tcp_refused++;
	} else if (fwd_fd_exhausted(rc)) {
		fwd->st.fd_exhausted++;
		fwd_budget_hit(fwd, "fd limit");
	} else {
		fwd->st.tcp_errors++;
	}
	tcp_end(t, true, NS_SYN_RESET);
	return NS_SYN_RESET;
}

/* the foreign flows' tcp_syn (struct ns_handler) */
enum ns_syn_verdict fwd_tcp_syn(void *ctx, uint64_t token, const struct ns_addr *src,
				const struct ns_addr *dst)
{
	return tcp_syn(ctx, token, src, dst, false);
}

/* the tcp_syn of the guest API's gateway port (registered for that port only) */
enum ns_syn_verdict fwd_tcp_api_syn(void *ctx, uint64_t token, const struct ns_addr *src,
				    const struct ns_addr *dst)
{
	return tcp_syn(ctx, token, src, dst, true);
}

/**
 * late_accept() - the guest completed a handshake whose half-open record is
 * gone (dropped at the half-open bound, or timed out): the guest is real,
 * so the flow is set up now, the host connect after the handshake as in
 * filter mode (the guest's bytes wait in the netstack meanwhile)
 * @fwd:	forwarder
 * @f:		the new flow
 * @src:	guest endpoint
 * @dst:	destination
 *
 * Return: the flow's record, or NULL (the netstack resets the flow)
 */
static void *late_accept(struct fwd *fwd, struct ns_flow *f, const struct ns_addr *src,
			 const struct ns_addr *dst)
{
	bool api = guest_api_flow(fwd, dst);
	struct fwd_tcp *t = new_flow(fwd, src, dst, api);
	int rc;

	if (!t)
		return NULL;
	fwd->st.tcp_late++;
	t->flow = f;
	if (!api && filter_wants(fwd, src, dst)) {
		pending_start(t, T_INSPECT);
		return t;
	}
	pending_start(t, T_FILTER_CONNECT);
	rc = host_connect(t);
	if (rc == 1)
		return t; /* connect_done() starts the splice */
	if (rc == 0) {
		set_state(t, T_SPLICE);
		if (fwd->cfg.keepalive_ms)
			ns_flow_set_keepalive(f, fwd->cfg.keepalive_ms);
		if (io_update(t) == 0)
			return t;
	}
	t->flow = NULL; /* the netstack resets it when we return NULL */
	if (refused_errno(rc))
		fwd->st.tcp_refused++;
	else
		fwd->st.tcp_errors++;
	tcp_end(t, true, NS_SYN_RESET);
	return NULL;
}

void *fwd_tcp_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
		     const struct ns_addr *dst)
{
	struct fwd *fwd = ctx;
	struct fwd_entry *e;
	struct fwd_tcp *t;
	struct fwd_key k;

	k = fwd_key_of(src, dst);
	e = fwd_table_find(&fwd->tcp_tab, &k);
	if (!e)
		return late_accept(fwd, f, src, dst);
	t = fwd_container_of(e, struct fwd_tcp, ent);
	if (t->flow || (t->state != T_ACCEPTING && t->state != T_FILTER_ACCEPT))
		return NULL;
	t->flow = f;
	if (t->state == T_FILTER_ACCEPT) {
		t->state = T_INSPECT;
		half_sync(t);
		return t;
	}
	/* splice starts from the loop: the flow's user pointer is set on return */
	t->h_paused = t->h_blocked = false;
	set_state(t, T_SPLICE);
	if (fwd->cfg.keepalive_ms)
		ns_flow_set_keepalive(f, fwd->cfg.keepalive_ms);
	if (io_update(t) < 0) {
		t->flow = NULL; /* the netstack resets it when we return NULL */
		tcp_end(t, true, NS_SYN_RESET);
		return NULL;
	}
	return t;
}

/**
 * fwd_tcp_abandoned() - the netstack's half-open flow for @src -> @dst died
 * before the handshake completed (the guest reset it: its kernel had no
 * socket for the SYN-ACK; or lwIP's SYN_RCVD timeout, or the half-open
 * bound): end the record waiting for it, resetting its host connection, so
 * it does not hold a flow slot and an fd until cfg.connect_ms
 * @ctx:	forwarder
 * @src:	guest endpoint
 * @dst:	destination
 */
void fwd_tcp_abandoned(void *ctx, const struct ns_addr *src, const struct ns_addr *dst)
{
	struct fwd *fwd = ctx;
	struct fwd_key k = fwd_key_of(src, dst);
	struct fwd_entry *e = fwd_table_find(&fwd->tcp_tab, &k);
	struct fwd_tcp *t;

	if (!e)
		return;
	t = fwd_container_of(e, struct fwd_tcp, ent);
	if (t->flow || (t->state != T_ACCEPTING && t->state != T_FILTER_ACCEPT))
		return; /* a newer flow of the same tuple, or not waiting for one */
	fwd->st.tcp_abandoned++;
	tcp_end_filtered(t, true, NS_SYN_DROP, FWD_FILTER_END_CLOSED);
}

/**
 * filter_verdict() - act on a filter decision
 * @t:	flow in T_INSPECT or T_FILTER_WAIT
 * @v:	verdict
 */
static void filter_verdict(struct fwd_tcp *t, enum fwd_filter_verdict v)
{
	struct fwd *fwd = t->fwd;
	int rc;

	switch (v) {
	case FWD_FILTER_ALLOW:
		if (!fwd_allowed(fwd, &t->dst)) {
			/* the policy changed while the filter was deciding */
			fwd->st.tcp_denied++;
			fwd_report_denied(fwd, FWD_TCP, &t->src, &t->dst);
			tcp_end(t, true, NS_SYN_RESET);
			return;
		}
		t->state = T_FILTER_CONNECT;
		half_sync(t);
		t->deadline = vg_loop_now(fwd->loop) + fwd->cfg.connect_ms;
		rc = host_connect(t);
		if (rc == 0)
			start_splice(t);
		else if (rc != 1)
			connect_done(t, rc);
		return;
	case FWD_FILTER_WAIT:
		t->state = T_FILTER_WAIT;
		return;
	case FWD_FILTER_DENY:
		fwd->st.tcp_denied++;
		tcp_end(t, true, NS_SYN_RESET);
		return;
	default:
		break;
	}
}

/**
 * inspect() - show the guest's bytes so far (from the start, up to
 * filter.max_bytes) to the filter and act on its verdict
 * @t:	flow in T_INSPECT
 */
static void inspect(struct fwd_tcp *t)
{
	struct fwd *fwd = t->fwd;
	bool eof = ns_flow_eof(t->flow);
	enum fwd_filter_verdict v;
	size_t len;

	if (!ns_flow_pending(t->flow) && !eof)
		return;
	if (!fwd->inspect_buf)
		fwd->inspect_buf = malloc(fwd->filter.max_bytes);
	if (!fwd->inspect_buf) {
		fwd->st.tcp_errors++;
		tcp_end(t, true, NS_SYN_RESET);
		return;
	}
	len = ns_flow_copy(t->flow, fwd->inspect_buf, fwd->filter.max_bytes);
	v = fwd->filter.inspect(fwd->filter.ctx, t->id, &t->src, &t->dst, fwd->inspect_buf, len,
				eof);
	if (v == FWD_FILTER_MORE && (eof || len >= fwd->filter.max_bytes))
		v = FWD_FILTER_DENY;
	filter_verdict(t, v);
}

static void fwd_tcp_recv(void *user)
{
	struct fwd_tcp *t = user;

	/*
	 * Write at the end of the loop turn (one sendmsg for all segments),
	 * or now when a large amount waits, so the guest's window reopens
	 * while it still has data in flight.
	 */
	if (t->state == T_SPLICE && !t->h_blocked) {
		if (ns_flow_pending(t->flow) >= FWD_FLUSH_BYTES)
			pump_g2h(t);
		else
			dirty_add(t);
	}
	else if (t->state == T_INSPECT)
		inspect(t);
}

/**
 * fwd_tcp_flush() - move the guest bytes received this loop turn to the
 * host sockets; a flow with fewer than FWD_HOLD_BYTES and no PSH waits for
 * more (see the file comment) unless @late
 * @fwd:	forwarder
 * @late:	fwd->hold fired: every waiting flow writes now
 */
void fwd_tcp_flush(struct fwd *fwd, bool late)
{
	struct fwd_lnode *head = &fwd->tcp_dirty, turn = {.prev = &turn, .next = &turn};
	bool held = false;

	if (head->next != head) {
		/* this turn's list; a flow that waits goes back on fwd->tcp_dirty */
		turn.next = head->next;
		turn.prev = head->prev;
		turn.next->prev = turn.prev->next = &turn;
		head->next = head->prev = head;
	}
	while (turn.next != &turn) {
		struct fwd_tcp *t = fwd_container_of(turn.next, struct fwd_tcp, dirty);

		dirty_del(t);
		if (t->state != T_SPLICE || !t->flow || t->h_blocked)
			continue;
		if (!late && ns_flow_pending(t->flow) < FWD_HOLD_BYTES &&
		    !ns_flow_pushed(t->flow)) {
			dirty_add(t);
			held = true;
			continue;
		}
		pump_g2h(t);
	}
	vg_timer_bound(fwd->loop, &fwd->hold, held, FWD_HOLD_MS);
}

static void fwd_tcp_sent(void *user)
{
	struct fwd_tcp *t = user;

	size_t room;

	if (t->state != T_SPLICE || !t->h_paused)
		return;
	/* or less room than that once the queue is no longer than it (a small
	 * guest window, or the buffer budget's floor) */
	room = ns_flow_sndbuf(t->flow);
	if (room >= FWD_RESUME_SNDBUF || (room && ns_flow_queued(t->flow) <= room)) {
		t->h_paused = false;
		io_update_or_fail(t);
	}
}

static void fwd_tcp_closed(void *user, enum ns_close_reason reason)
{
	struct fwd_tcp *t = user;

	t->flow = NULL; /* gone in the netstack */
	if (t->state == T_GUEST_CONNECT)
		t->fwd->st.fwd_tcp_failed++;
	if (reason == NS_CLOSED_RESET)
		t->fwd->st.tcp_resets++;
	else if (reason == NS_CLOSED_ABORTED)
		t->fwd->st.tcp_timeouts++;
	tcp_end_filtered(t, reason != NS_CLOSED_NORMAL, NS_SYN_RESET, FWD_FILTER_END_CLOSED);
}

static void fwd_tcp_connected(void *user)
{
	struct fwd_tcp *t = user;

	if (t->state != T_GUEST_CONNECT)
		return;
	t->fwd->st.fwd_tcp_accepted++;
	start_splice(t);
}

const struct ns_flow_ops fwd_tcp_ops = {
    .recv = fwd_tcp_recv,
    .sent = fwd_tcp_sent,
    .closed = fwd_tcp_closed,
    .connected = fwd_tcp_connected,
};

/* ---- port forwarding: a host connection accepted by a listener ---- */

/**
 * fwd_tcp_inbound() - connect a host connection to the guest port of a
 * forward (its guest address, or the guest's current lease)
 * @fwd:	forwarder
 * @fd:		accepted non-blocking socket (owned from now on)
 * @spec:	the forward; one on an IPv6 host address without a guest
 *		address goes over IPv6, from the IPv6 host alias to the guest's
 *		IPv6 address, when both are known, else over IPv4
 *
 * Return: 0, or -1 (the host connection was reset)
 */
int fwd_tcp_inbound(struct fwd *fwd, int fd, const struct fwd_forward *spec)
{
	struct ns_addr src, dst;
	struct fwd_tcp *t = NULL;
	bool ok = fwd_inbound_ends(fwd, spec, &src, &dst);

	if (ok && !fwd_table_full(&fwd->tcp_tab))
		t = tcp_alloc(fwd, &src, &dst, false);
	else if (ok) {
		fwd->st.tcp_over_limit++;
		fwd_budget_hit(fwd, "tcp flow budget");
	}
	if (!t) {
		struct linger lg = { 1, 0 };

		fwd->st.fwd_tcp_failed++;
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		return -1;
	}
	t->fd = fd;
	t->inbound = true;
	t->state = T_GUEST_CONNECT;
	t->deadline = vg_loop_now(fwd->loop) + fwd->cfg.connect_ms;
	fwd_list_push(&fwd->tcp_pending, &t->ent, vg_loop_now(fwd->loop));
	t->flow = ns_flow_connect(fwd->ns, &src, &dst, &fwd_tcp_ops, t);
	if (!t->flow) {
		fwd->st.fwd_tcp_failed++;
		tcp_end(t, true, NS_SYN_RESET);
		return -1;
	}
	return 0;
}

/* ---- timers, filter decisions, teardown ---- */

/**
 * fwd_tcp_sweep() - time out stuck set-ups and idle flows
 * @fwd:	forwarder
 * @now:	loop time
 */
void fwd_tcp_sweep(struct fwd *fwd, uint64_t now)
{
	struct fwd_lnode *n, *next;
	struct fwd_entry *e;

	for (n = fwd->tcp_pending.head.next; n != &fwd->tcp_pending.head; n = next) {
		struct fwd_tcp *t = fwd_container_of(n, struct fwd_tcp, ent.lru);

		next = n->next;
		if (now < t->deadline)
			continue;
		fwd->st.tcp_timeouts++;
		tcp_end_filtered(t, true, NS_SYN_DROP, FWD_FILTER_END_TIMEOUT);
	}
	if (!fwd->cfg.tcp_idle_ms)
		return;
	while ((e = fwd_list_expired(&fwd->tcp_active, now, fwd->cfg.tcp_idle_ms))) {
		fwd->st.tcp_timeouts++;
		tcp_end(fwd_container_of(e, struct fwd_tcp, ent), true, NS_SYN_DROP);
	}
}

int fwd_filter_decide(struct fwd *fwd, uint64_t id, enum fwd_filter_verdict verdict)
{
	struct fwd_lnode *n;

	if (verdict != FWD_FILTER_ALLOW && verdict != FWD_FILTER_DENY)
		return -1;
	for (n = fwd->tcp_pending.head.next; n != &fwd->tcp_pending.head; n = n->next) {
		struct fwd_tcp *t = fwd_container_of(n, struct fwd_tcp, ent.lru);

		if (t->id == id && t->state == T_FILTER_WAIT) {
			filter_verdict(t, verdict);
			return 0;
		}
	}
	return -1;
}

/**
 * fwd_tcp_revoke() - reset the guest flows the (new) outbound policy denies:
 * connecting (deferred SYN), accepting or splicing; RST to the guest and the
 * host socket closed. Port forwards, the guest API and flows under filter
 * inspection (checked again at the verdict) are kept.
 * @fwd:	forwarder
 */
void fwd_tcp_revoke(struct fwd *fwd)
{
	struct fwd_list *lists[2] = {&fwd->tcp_pending, &fwd->tcp_active};
	int i;

	for (i = 0; i < 2; i++) {
		struct fwd_lnode *n, *next;

		for (n = lists[i]->head.next; n != &lists[i]->head; n = next) {
			struct fwd_tcp *t = fwd_container_of(n, struct fwd_tcp, ent.lru);

			next = n->next;
			if (t->inbound || guest_api_flow(fwd, &t->dst))
				continue;
			if (t->state != T_CONNECTING && t->state != T_ACCEPTING &&
			    t->state != T_FILTER_CONNECT && t->state != T_SPLICE)
				continue;
			if (fwd_allowed(fwd, &t->dst))
				continue;
			fwd->st.tcp_revoked++;
			tcp_end(t, true, NS_SYN_RESET);
		}
	}
}

/**
 * fwd_tcp_free_all() - free every flow record and host socket; the netstack
 * must already be gone (ns_free() released its flows without callbacks)
 * @fwd:	forwarder
 */
void fwd_tcp_free_all(struct fwd *fwd)
{
	struct fwd_list *lists[2] = { &fwd->tcp_pending, &fwd->tcp_active };
	int i;

	for (i = 0; i < 2; i++) {
		struct fwd_entry *e;

		while ((e = fwd_list_first(lists[i]))) {
			struct fwd_tcp *t = fwd_container_of(e, struct fwd_tcp, ent);

			t->flow = NULL;
			t->token = 0;
			tcp_end(t, false, NS_SYN_DROP);
		}
	}
}
