/* SPDX-License-Identifier: MIT */
/*
 * transport.c - the hypervisor side: QEMU stream sockets (unix or TCP on
 * loopback), unixgram sockets (vfkit, QEMU dgram), bess SOCK_SEQPACKET
 * sockets, streams handed over already connected (gvproxy's /connect and
 * vpnkit, accepted by cmd/glisten.c; stdin/stdout for -listen-stdio) and
 * TAP devices, including opening a TAP inside another network namespace.
 *
 * Stream connections carry frames after a length prefix: 4-byte BE for
 * QEMU, 2-byte LE (gvproxy's "hyperkit" framing) for the others; the
 * decoder and the queue take the connection's framing when it becomes the
 * link. A seqpacket connection carries one frame per record (a record
 * longer than a frame is dropped as oversize; a 0-byte read is EOF).
 *
 * One guest link at a time. Reads are bounded per event (fairness) and
 * go up through ns->frame_in (ns_link_input()). Writes go through the transmit queue (frame.h) and
 * are flushed at the end of every loop iteration, or early when the queue
 * passes NS_FLUSH_BYTES; a partial write leaves the rest queued and waits
 * for EPOLLOUT, so a slow guest never blocks the loop.
 *
 * A stream listener keeps one live client: a new connection is closed at
 * once (transport_refused) while the current peer is alive, and replaces it
 * (the VM restarted; decoder and queue reset) when the current peer is dead:
 * EOF, HUP or an error already seen, or found now by poll() with POLLRDHUP
 * and a MSG_PEEK recv on the current fd. A unix client must be vgate's
 * euid, root (who can bypass the socket's mode anyway) or cfg.peer_uid
 * (SO_PEERCRED), unless cfg.peer_uid_any; tcp:// clients have no uid.
 *
 * Unix sockets are bound under a umask of ~cfg.socket_mode (0600 by
 * default), restored right after bind(): the mode is right from the first
 * moment the path exists (vgate is single-threaded). An existing path is
 * unlinked only if lstat() says it is a socket. The unixgram peer is locked
 * to the first named sender until it is gone (see tr_dgram_from()). The
 * listening unix socket is unlinked on ns_free(). An accept() out of fds
 * takes the listener off the poll set for NS_ACCEPT_PAUSE_MS (vg_io_pause):
 * it stays readable, so polling on would spin.
 *
 * A TAP opened with IFF_VNET_HDR carries a virtio-net header before each
 * frame (vnet.h): it goes out as its own iovec (vnet_tx() fills it) and is
 * read with the frame, checked by vnet_rx(). With offloads on, the receive
 * buffer holds a TCP super-segment (VNET_FRAME_MAX) and the engine is told
 * to send super-segments (ns_engine_set_gso()).
 *
 * Link events (ns_set_link_watch()): the first frame a connection delivers
 * reports NS_LINK_GUEST_UP with its source MAC (as gvproxy's switch learns
 * a VM's MAC from its first frame); dropping that connection, or losing the
 * unixgram peer, reports NS_LINK_GUEST_DOWN with the same MAC; an accept()
 * out of fds reports NS_LINK_ACCEPT_FAILED. Teardown reports nothing.
 */
#include "internal.h"
#include "vnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NS_READS_PER_EVENT 32
#define NS_FLUSH_BYTES	   (256u << 10)
/*
 * A stream socket's send buffer (the kernel doubles it): small enough that a
 * busy peer fills it, so vgate stops reading (tr_write_some()) and takes
 * the peer's ACKs in one batch when it wakes to refill, instead of waking
 * for each; deep enough (a quarter is left at the wake-up) to keep the peer busy.
 */
#define NS_STREAM_SNDBUF   (128 << 10)
#define NS_SOCKET_MODE	   0600
#define NS_PROBE_MS	   1000 /* at most one unixgram peer probe a second */
#define NS_SEND_IOV_MAX	   17	/* a virtio-net header, Ethernet header, 15 pbufs */

static void tr_flush_idle(void *arg);
static void tr_frame_event(void *arg, uint32_t events);

/**
 * set_err() - write a one-line error for the caller
 * @e:		errno value of the failure
 * @err:	buffer
 * @errlen:	its size
 * @fmt:	printf format
 *
 * Return: -@e (-EIO when @e is 0)
 */
__attribute__((format(printf, 4, 5))) static int set_err(int e, char *err, size_t errlen,
							 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return e ? -e : -EIO;
}

/**
 * tr_buffers() - allocate the receive buffer, queue and decoder once
 * @ns:		netstack
 * @stream:	the link may carry streams (a large receive buffer and the
 *		decoder); false for unixgram and TAP, one frame (after its
 *		virtio-net header, if any) per read
 *
 * Return: 0, or -1
 */
static int tr_buffers(struct ns *ns, bool stream)
{
	struct ns_transport *t = &ns->tr;

	if (t->rxbuf)
		return 0;
	t->rxbuf = malloc(stream ? NS_RXBUF_BYTES : t->vnet_hl + ns->rx_frame_max + 1);
	if (!t->rxbuf || txq_init(&t->txq, NS_TXQ_BYTES) < 0 ||
	    (stream && stream_dec_init(&t->dec, ns->max_frame) < 0))
		return -1;
	return vg_loop_add_idle(ns->loop, tr_flush_idle, ns);
}

void ns_set_link_watch(struct ns *ns, ns_link_watch_fn fn, void *ctx)
{
	ns->link_watch = fn;
	ns->link_watch_ctx = fn ? ctx : NULL;
}

/**
 * tr_deliver() - a frame from the link, up to ns->frame_in; the first one
 * of a connection reports NS_LINK_GUEST_UP
 * @ns:		netstack
 * @f:		frame
 * @len:	its length
 */
static void tr_deliver(struct ns *ns, const uint8_t *f, size_t len)
{
	struct ns_transport *t = &ns->tr;

	if (!t->guest_up && len >= 14) {
		t->guest_up = true;
		memcpy(t->guest_mac, f + 6, 6);
		if (ns->link_watch)
			ns->link_watch(ns->link_watch_ctx, NS_LINK_GUEST_UP, t->guest_mac);
	}
	ns->frame_in(ns, f, len);
}

/**
 * tr_guest_down() - the connection that reported NS_LINK_GUEST_UP is gone
 * @ns:	netstack
 */
static void tr_guest_down(struct ns *ns)
{
	struct ns_transport *t = &ns->tr;

	if (!t->guest_up)
		return;
	t->guest_up = false;
	if (ns->link_watch)
		ns->link_watch(ns->link_watch_ctx, NS_LINK_GUEST_DOWN, t->guest_mac);
}

static void tr_drop_conn(struct ns *ns)
{
	struct ns_transport *t = &ns->tr;
	int fd = t->io.fd;

	if (fd < 0)
		return;
	if (t->kind == NS_TR_STREAM && stream_dec_mid_frame(&t->dec))
		ns->st.drop_bad_length++; /* truncated length prefix or frame */
	/* vg_io_del() sets t->io.fd to -1: close the saved fd */
	vg_io_del(ns->loop, &t->io);
	close(fd);
	if (t->wio.fd >= 0) {
		fd = t->wio.fd;
		vg_io_del(ns->loop, &t->wio);
		close(fd);
	}
	stream_dec_reset(&t->dec);
	txq_clear(&t->txq);
	ns->st.transport_disconnects++;
	tr_guest_down(ns);
}

/**
 * tr_dgram_send_failed() - a datagram to the guest was undeliverable
 * @ns:		netstack
 * @err:	errno of sendto()/sendmsg()
 *
 * ECONNREFUSED or ENOENT on a unixgram link mean no socket is bound at the
 * locked peer's address any more: the lock is released, so the next sender
 * (the restarted VM) becomes the peer.
 */
static void tr_dgram_send_failed(struct ns *ns, int err)
{
	struct ns_transport *t = &ns->tr;

	if (t->kind == NS_TR_DGRAM && t->dgram_peer_known &&
	    (err == ECONNREFUSED || err == ENOENT)) {
		t->dgram_peer_known = false;
		ns->st.transport_peer_lost++;
		tr_guest_down(ns);
	}
}

/**
 * tr_write_some() - write queued frames to the guest until the fd blocks
 * @ns:	netstack
 *
 * Return: 0, or -1 when the connection failed and was dropped
 */
static int tr_write_some(struct ns *ns)
{
	struct ns_transport *t = &ns->tr;
	struct vg_io *w = t->wio.fd >= 0 ? &t->wio : &t->io;
	bool sock = t->wio.fd >= 0 ? t->wio_sock : t->io_sock;
	uint32_t base = w == &t->io ? EPOLLIN : 0;

	while (txq_len(&t->txq)) {
		const uint8_t *frame;
		size_t flen;
		ssize_t n;

		if (t->kind == NS_TR_STREAM) {
			if (sock)
				n = send(w->fd, t->txq.buf + t->txq.head, txq_len(&t->txq),
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			else
				n = write(w->fd, t->txq.buf + t->txq.head, txq_len(&t->txq));
			if (n > 0) {
				txq_advance(&t->txq, (size_t)n);
				continue;
			}
		} else {
			txq_peek_frame(&t->txq, &frame, &flen);
			if (t->kind == NS_TR_DGRAM)
				n = sendto(t->io.fd, frame, flen, MSG_DONTWAIT,
					   (struct sockaddr *)t->peer, t->peer_len);
			else if (t->kind == NS_TR_SEQPACKET)
				n = send(t->io.fd, frame, flen, MSG_NOSIGNAL | MSG_DONTWAIT);
			else
				n = write(t->io.fd, frame, flen);
			if (t->kind == NS_TR_SEQPACKET && n < 0 && errno != EAGAIN &&
			    errno != EINTR && errno != ENOBUFS && errno != EMSGSIZE) {
				tr_drop_conn(ns); /* the peer is gone */
				return -1;
			}
			if (n >= 0 || (errno != EAGAIN && errno != EINTR && errno != ENOBUFS)) {
				/* datagram sent, or undeliverable: either way it is done */
				if (n < 0) {
					ns->st.drop_no_link++;
					tr_dgram_send_failed(ns, errno);
				}
				txq_advance(&t->txq, flen + frame_prefix_len(t->txq.fmt));
				continue;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			/*
			 * A stream peer that cannot take more is also sending
			 * (ACKs, mostly) that could only queue more for it:
			 * read that when it has drained, in one batch, rather
			 * than wake for every frame it sends meanwhile.
			 */
			vg_io_mod(ns->loop, w, (t->kind == NS_TR_STREAM ? 0 : base) | EPOLLOUT);
			return 0;
		}
		tr_drop_conn(ns);
		return -1;
	}
	vg_io_mod(ns->loop, w, base);
	return 0;
}

static void tr_flush_idle(void *arg)
{
	ns_transport_flush(arg);
}

/**
 * ns_transport_flush() - push queued frames out now (end of a loop turn)
 * @ns:	netstack
 */
void ns_transport_flush(struct ns *ns)
{
	struct ns_transport *t = &ns->tr;
	const struct vg_io *w = t->wio.fd >= 0 ? &t->wio : &t->io;

	if (t->io.fd >= 0 && txq_len(&t->txq) && !(w->events & EPOLLOUT))
		tr_write_some(ns);
}

/**
 * ns_transport_room() - bytes of frames (with their headers) the guest's
 * queue takes now
 * @ns:		netstack
 *
 * Return: the queue's free bytes; SIZE_MAX without a guest (frames are
 * dropped as drop_no_link then, nothing would wait for room)
 */
size_t ns_transport_room(const struct ns *ns)
{
	const struct ns_transport *t = &ns->tr;

	if (t->io.fd < 0 || (t->kind == NS_TR_DGRAM && !t->dgram_peer_known))
		return SIZE_MAX;
	return t->txq.cap - txq_len(&t->txq);
}

/**
 * ns_transport_send() - queue a frame for the guest
 * @ns:		netstack
 * @iov:	frame pieces
 * @iovcnt:	count
 *
 * Return: 0 if queued, -1 if dropped (no guest, or queue full; counted)
 */
int ns_transport_send(struct ns *ns, const struct iovec *iov, int iovcnt)
{
	struct ns_transport *t = &ns->tr;
	struct iovec v[NS_SEND_IOV_MAX];
	uint8_t vh[VNET_HDR_MAX];

	if (t->io.fd < 0 || (t->kind == NS_TR_DGRAM && !t->dgram_peer_known)) {
		ns->st.drop_no_link++;
		return -1;
	}
	if (t->vnet_hl) {
		unsigned int segs = 0;

		if (iovcnt >= NS_SEND_IOV_MAX) {
			ns->st.drop_offload++;
			return -1;
		}
		if (ns->cfg.no_tap_offload)
			memset(vh, 0, t->vnet_hl);
		else
			segs = vnet_tx(vh, t->vnet_hl, iov, iovcnt, ns->cfg.mtu);
		if (segs) {
			ns->st.tx_gso_frames++;
			ns->st.tx_gso_segs += segs;
		}
		v[0].iov_base = vh;
		v[0].iov_len = t->vnet_hl;
		memcpy(v + 1, iov, sizeof(*iov) * (size_t)iovcnt);
		iov = v;
		iovcnt++;
	}
	if (t->kind != NS_TR_STREAM && !txq_len(&t->txq)) {
		/* one frame per syscall anyway: send it now, without a copy */
		struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
		ssize_t n;

		if (t->kind == NS_TR_DGRAM) {
			mh.msg_name = t->peer;
			mh.msg_namelen = t->peer_len;
			n = sendmsg(t->io.fd, &mh, MSG_DONTWAIT);
		} else if (t->kind == NS_TR_SEQPACKET) {
			n = sendmsg(t->io.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else {
			n = writev(t->io.fd, iov, iovcnt);
		}
		if (n >= 0)
			return 0;
		if (t->kind == NS_TR_SEQPACKET && errno != EAGAIN && errno != EINTR &&
		    errno != ENOBUFS) {
			ns->st.drop_no_link++;
			tr_drop_conn(ns); /* the peer is gone (EMSGSIZE cannot be: MTU bound) */
			return -1;
		}
		if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS) {
			ns->st.drop_no_link++;
			tr_dgram_send_failed(ns, errno);
			return -1;
		}
	}
	if (txq_push(&t->txq, iov, iovcnt) < 0)
		return -1;
	if (txq_len(&t->txq) >= NS_FLUSH_BYTES)
		ns_transport_flush(ns);
	return 0;
}

static void stream_frame(void *arg, const uint8_t *frame, size_t len)
{
	struct ns *ns = arg;

	tr_deliver(ns, frame, len);
}

/**
 * tr_log_desync() - the stream decoder met a length prefix that cannot be
 * QEMU framing (0, or above FRAME_STREAM_MAX_SANE): say so, rate-limited
 * (counted in stream_dec.desync, reported as transport_desync)
 * @ns:		netstack
 * @fatal:	the connection is being dropped (else the prefix was skipped)
 */
static void tr_log_desync(struct ns *ns, bool fatal)
{
	ns_log_hit(ns, &ns->log_desync,
		   "transport: stream desynchronised: length prefix %u is not a frame "
		   "(0 or above %u bytes, %s framing); %s",
		   (unsigned int)ns->tr.dec.last_bad, FRAME_STREAM_MAX_SANE,
		   ns->tr.dec.fmt == FRAME_LE16 ? "2-byte LE" : "QEMU",
		   fatal ? "connection dropped" : "skipped");
}

static void tr_stream_event(void *arg, uint32_t events)
{
	struct ns *ns = arg;
	struct ns_transport *t = &ns->tr;
	uint64_t desync;
	int i, rc;

	if (events & EPOLLOUT) {
		if (tr_write_some(ns) < 0)
			return;
		events |= EPOLLIN; /* reading paused while it was blocked */
	}
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	for (i = 0; i < NS_READS_PER_EVENT && t->io.fd >= 0; i++) {
		ssize_t n = read(t->io.fd, t->rxbuf, NS_RXBUF_BYTES); /* fd non-blocking */

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			tr_drop_conn(ns);
			return;
		}
		desync = t->dec.desync;
		rc = stream_dec_feed(&t->dec, t->rxbuf, (size_t)n, stream_frame, ns);
		if (t->dec.desync != desync)
			tr_log_desync(ns, rc < 0);
		if (rc < 0) {
			/* not QEMU framing: resynchronising is impossible */
			tr_drop_conn(ns);
			return;
		}
		if ((size_t)n < NS_RXBUF_BYTES)
			return; /* drained: level-triggered epoll says when there is more */
	}
}

/**
 * tr_wio_event() - the write side of a split (stdio) link: writable again,
 * or its reader is gone
 * @arg:	netstack
 * @events:	epoll bits
 */
static void tr_wio_event(void *arg, uint32_t events)
{
	struct ns *ns = arg;

	if (events & (EPOLLERR | EPOLLHUP)) {
		tr_drop_conn(ns);
		return;
	}
	if (events & EPOLLOUT)
		tr_write_some(ns);
}

/**
 * tr_peer_alive() - whether the current stream peer is still there
 * @fd:	the connection
 *
 * Non-blocking: poll() with a zero timeout for HUP, RDHUP or an error, and
 * when data is readable a MSG_PEEK recv to tell data from EOF.
 *
 * Return: true while the peer can still send to vgate
 */
static bool tr_peer_alive(int fd, bool sock)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	char c;
	ssize_t n;

	if (poll(&p, 1, 0) < 0)
		return true; /* cannot tell: keep the current one */
	if (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))
		return false;
	if (!(p.revents & POLLIN) || !sock)
		return true; /* a pipe with data (stdio): its EOF comes as POLLHUP */
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}

/**
 * tr_peer_uid_ok() - whether a new unix stream client may be the link
 * @ns:	netstack
 * @fd:	the accepted connection
 *
 * Return: true for vgate's own euid, root, cfg.peer_uid, any uid under
 *	   cfg.peer_uid_any, and for sockets without credentials (tcp://)
 */
static bool tr_peer_uid_ok(const struct ns *ns, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (ns->cfg.peer_uid_any || ns->tr.path[0] == '\0')
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr))
		return false;
	return cr.uid == geteuid() || cr.uid == 0 ||
	       (ns->cfg.peer_uid_set && cr.uid == ns->cfg.peer_uid);
}

/**
 * tr_link_busy() - whether a connection may not become the link now
 * @ns:	netstack
 *
 * A unixgram or TAP link is permanent; a stream or seqpacket connection
 * holds the link while its peer is alive, and a dead one is dropped here
 * (the VM restarted) so the new one can take its place.
 *
 * Return: true when the link is taken (the caller refuses its connection)
 */
static bool tr_link_busy(struct ns *ns)
{
	struct ns_transport *t = &ns->tr;

	if (t->kind == NS_TR_DGRAM || t->kind == NS_TR_TAP)
		return true;
	if (t->io.fd < 0)
		return false;
	if (tr_peer_alive(t->io.fd, t->io_sock) &&
	    (t->wio.fd < 0 || tr_peer_alive(t->wio.fd, t->wio_sock)))
		return true;
	tr_drop_conn(ns); /* the VM restarted: its old connection is dead */
	return false;
}

/**
 * tr_refused() - count and log a client refused because the link is taken
 * @ns:	netstack
 */
static void tr_refused(struct ns *ns)
{
	ns->st.transport_refused++;
	ns_log_hit(ns, &ns->log_refused,
		   "transport: refused a second hypervisor client while the link is alive");
}

/**
 * tr_take() - make a connected fd the link (the slot is free: tr_link_busy()
 * said so)
 * @ns:		netstack (buffers allocated for streams)
 * @fd:		non-blocking connection, read side (and write side unless @wfd)
 * @wfd:	another fd to write to (stdio), or -1
 * @kind:	NS_TR_STREAM or NS_TR_SEQPACKET
 * @fmt:	length prefix of a stream
 *
 * Return: 0, or -errno (nothing registered; the caller closes its fds)
 */
static int tr_take(struct ns *ns, int fd, int wfd, enum ns_transport_kind kind, enum frame_fmt fmt)
{
	struct ns_transport *t = &ns->tr;
	int one = 1, sz = 4 << 20, type, rc;
	socklen_t tl = sizeof(type);

	t->io_sock = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0;
	if (t->io_sock) {
		int wsz = kind == NS_TR_STREAM ? NS_STREAM_SNDBUF : sz;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &wsz, sizeof(wsz));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	}
	stream_dec_set_fmt(&t->dec, fmt);
	txq_set_fmt(&t->txq, kind == NS_TR_STREAM ? fmt : FRAME_BE32);
	rc = vg_io_add(ns->loop, &t->io, fd, EPOLLIN,
		       kind == NS_TR_STREAM ? tr_stream_event : tr_frame_event, ns);
	if (rc < 0)
		return rc;
	if (wfd >= 0) {
		tl = sizeof(type);
		t->wio_sock = getsockopt(wfd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0;
		rc = vg_io_add(ns->loop, &t->wio, wfd, 0, tr_wio_event, ns);
		if (rc < 0) {
			vg_io_del(ns->loop, &t->io);
			return rc;
		}
	}
	t->kind = kind;
	ns->st.transport_connects++;
	return 0;
}

static void tr_accept(void *arg, uint32_t events)
{
	struct ns *ns = arg;
	struct ns_transport *t = &ns->tr;
	int fd;

	(void)events;
	fd = accept4(t->listen_io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
			/* level-triggered: polling on would spin until an fd is free */
			ns->st.transport_fd_exhausted++;
			ns_log_hit(ns, &ns->log_accept,
				   "transport: accept() failed (%s): the hypervisor listener "
				   "pauses %u ms",
				   strerror(e), NS_ACCEPT_PAUSE_MS);
			vg_io_pause(&t->listen_pause, NS_ACCEPT_PAUSE_MS);
			if (ns->link_watch)
				ns->link_watch(ns->link_watch_ctx, NS_LINK_ACCEPT_FAILED, NULL);
		}
		return;
	}
	if (!tr_peer_uid_ok(ns, fd)) {
		close(fd);
		ns->st.transport_bad_uid++;
		ns_log_hit(ns, &ns->log_bad_uid,
			   "transport: refused a hypervisor client of a uid not allowed");
		return;
	}
	if (tr_link_busy(ns)) {
		close(fd); /* one live client: nobody takes the link over */
		tr_refused(ns);
		return;
	}
	if (tr_take(ns, fd, -1, t->listen_seqpacket ? NS_TR_SEQPACKET : NS_TR_STREAM, FRAME_BE32) <
	    0)
		close(fd);
}

int ns_attach_stream(struct ns *ns, int fd, int wfd, enum ns_framing framing, char *err,
		     size_t errlen)
{
	int fl, rc;

	if (framing != NS_FRAMING_QEMU && framing != NS_FRAMING_LE16)
		return set_err(EINVAL, err, errlen, "unknown stream framing %d", (int)framing);
	if (tr_link_busy(ns)) {
		tr_refused(ns);
		return set_err(EBUSY, err, errlen, "the guest link is taken by a live connection");
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return set_err(errno, err, errlen, "%s: %s", "stream fd", strerror(errno));
	if (wfd >= 0) {
		fl = fcntl(wfd, F_GETFL);
		if (fl < 0 || fcntl(wfd, F_SETFL, fl | O_NONBLOCK) < 0)
			return set_err(errno, err, errlen, "%s: %s", "stream write fd",
				       strerror(errno));
	}
	if (tr_buffers(ns, true) < 0)
		return set_err(ENOMEM, err, errlen, "out of memory");
	rc = tr_take(ns, fd, wfd, NS_TR_STREAM,
		     framing == NS_FRAMING_LE16 ? FRAME_LE16 : FRAME_BE32);
	if (rc < 0)
		return set_err(-rc, err, errlen, "cannot poll the stream: %s", strerror(-rc));
	return 0;
}

/**
 * parse_unix_uri() - fill a sockaddr_un from "SCHEME:///path"
 * @uri:	URI
 * @scheme:	"unix" or "unixgram"
 * @sun:	output
 *
 * Return: 0, or -1 if @uri does not match or the path is too long
 */
static int parse_unix_uri(const char *uri, const char *scheme, struct sockaddr_un *sun)
{
	size_t sl = strlen(scheme);
	const char *path;

	if (strncmp(uri, scheme, sl) || strncmp(uri + sl, "://", 3))
		return -1;
	path = uri + sl + 3;
	if (!*path || strlen(path) >= sizeof(sun->sun_path))
		return -1;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	return 0;
}

/**
 * tr_unix_clear() - make room for a unix socket at @path
 * @path:	socket path
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * Return: 0 when @path is free or was an old socket (unlinked), -EEXIST when
 *	   it is something else (left alone), -errno when it cannot be examined
 *	   or removed
 */
static int tr_unix_clear(const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		return set_err(errno, err, errlen, "cannot examine %s: %s", path, strerror(errno));
	}
	if (!S_ISSOCK(sb.st_mode))
		return set_err(EEXIST, err, errlen,
			       "%s exists and is not a socket: not replacing it", path);
	if (unlink(path) < 0)
		return set_err(errno, err, errlen, "cannot remove old socket %s: %s", path,
			       strerror(errno));
	return 0;
}

/**
 * tr_bind() - bind @fd; a unix socket gets cfg.socket_mode whatever the umask
 * @ns:		netstack
 * @fd:		socket
 * @sa:		address
 * @len:	its length
 *
 * Return: bind()'s result (errno set on failure)
 */
static int tr_bind(const struct ns *ns, int fd, const struct sockaddr *sa, socklen_t len)
{
	unsigned int mode = ns->cfg.socket_mode ? ns->cfg.socket_mode : NS_SOCKET_MODE;
	mode_t old;
	int rc, e;

	if (sa->sa_family != AF_UNIX)
		return bind(fd, sa, len);
	old = umask((mode_t)(~mode & 0777));
	rc = bind(fd, sa, len);
	e = errno;
	umask(old);
	errno = e;
	return rc;
}

/**
 * tr_link_free() - whether no link or listener is set up yet (each of
 * ns_listen_qemu(), ns_listen_bess(), ns_listen_vfkit() and ns_attach_tap()
 * sets one up, once; ns_attach_stream() may come on top of a listener)
 * @t:	transport
 *
 * Return: true when none is
 */
static bool tr_link_free(const struct ns_transport *t)
{
	return t->kind == NS_TR_NONE && t->listen_io.fd < 0 && t->io.fd < 0;
}

int ns_listen_qemu(struct ns *ns, const char *uri, char *err, size_t errlen)
{
	struct ns_transport *t = &ns->tr;
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd, one = 1, rc;

	if (!tr_link_free(t)) {
		return set_err(EBUSY, err, errlen, "only one guest link per vgate");
	}
	memset(&ss, 0, sizeof(ss));
	if (!strncmp(uri, "tcp://", 6)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		char host[64];
		unsigned int port;
		const char *colon = strrchr(uri + 6, ':');

		if (!colon || (size_t)(colon - uri - 6) >= sizeof(host) ||
		    /* the port is range-checked right after */
		    /* NOLINTNEXTLINE(cert-err34-c) */
		    sscanf(colon + 1, "%u", &port) != 1 || port == 0 || port > 65535) {
			return set_err(EINVAL, err, errlen, "bad --listen-qemu address '%s'", uri);
		}
		memcpy(host, uri + 6, (size_t)(colon - uri - 6));
		host[colon - uri - 6] = '\0';
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			return set_err(EINVAL, err, errlen, "bad --listen-qemu address '%s'", uri);
		}
		slen = sizeof(*sin);
	} else {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		if (parse_unix_uri(uri, "unix", sun) < 0) {
			return set_err(
			    EINVAL, err, errlen,
			    "bad --listen-qemu '%s': expected unix:///PATH or tcp://IP:PORT", uri);
		}
		rc = tr_unix_clear(sun->sun_path, err, errlen);
		if (rc < 0)
			return rc;
		memcpy(t->path, sun->sun_path, sizeof(t->path));
		slen = sizeof(*sun);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return set_err(errno, err, errlen, "%s: %s", "socket", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (tr_bind(ns, fd, (struct sockaddr *)&ss, slen) < 0 || listen(fd, 4) < 0) {
		int e = errno;

		close(fd);
		t->path[0] = '\0';
		return set_err(e, err, errlen, "cannot listen on %s: %s", uri, strerror(e));
	}
	if (tr_buffers(ns, true) < 0 ||
	    vg_io_add(ns->loop, &t->listen_io, fd, EPOLLIN, tr_accept, ns) < 0) {
		close(fd);
		return set_err(ENOMEM, err, errlen, "out of memory");
	}
	vg_io_pause_init(&t->listen_pause, ns->loop, &t->listen_io);
	return 0;
}

int ns_listen_bess(struct ns *ns, const char *uri, char *err, size_t errlen)
{
	struct ns_transport *t = &ns->tr;
	struct sockaddr_un sun;
	int fd, rc;

	if (!tr_link_free(t))
		return set_err(EBUSY, err, errlen, "only one guest link per vgate");
	if (parse_unix_uri(uri, "unixpacket", &sun) < 0)
		return set_err(EINVAL, err, errlen,
			       "bad --listen-bess '%s': expected unixpacket:///PATH", uri);
	rc = tr_unix_clear(sun.sun_path, err, errlen);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return set_err(errno, err, errlen, "%s: %s", "socket", strerror(errno));
	if (tr_bind(ns, fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 4) < 0) {
		int e = errno;

		close(fd);
		return set_err(e, err, errlen, "cannot listen on %s: %s", uri, strerror(e));
	}
	memcpy(t->path, sun.sun_path, sizeof(t->path));
	if (tr_buffers(ns, true) < 0 ||
	    vg_io_add(ns->loop, &t->listen_io, fd, EPOLLIN, tr_accept, ns) < 0) {
		close(fd);
		return set_err(ENOMEM, err, errlen, "out of memory");
	}
	vg_io_pause_init(&t->listen_pause, ns->loop, &t->listen_io);
	t->listen_seqpacket = true;
	return 0;
}

/**
 * tr_dgram_peer_gone() - probe the locked unixgram peer's address
 * @ns:	netstack
 *
 * connect() from a scratch socket checks that a socket is still bound at the
 * address without sending it anything. At most one probe per NS_PROBE_MS.
 *
 * Return: true when nothing is bound there any more (ECONNREFUSED, ENOENT)
 */
static bool tr_dgram_peer_gone(struct ns *ns)
{
	struct ns_transport *t = &ns->tr;
	uint64_t now = vg_loop_now(ns->loop);
	bool gone = false;
	int fd;

	if (t->probe_ms && now - t->probe_ms < NS_PROBE_MS)
		return false;
	t->probe_ms = now;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)t->peer, t->peer_len) < 0)
		gone = errno == ECONNREFUSED || errno == ENOENT;
	close(fd);
	return gone;
}

/**
 * tr_dgram_from() - the peer lock: may a datagram from @from be a frame?
 * @ns:		netstack
 * @from:	sender address
 * @flen:	its length
 *
 * The first named sender becomes the peer (replies go there). Later
 * datagrams from another address (or an unnamed sender) are refused while
 * the peer is there; if a probe finds it gone, the sender takes its place.
 * An unnamed first sender (no address to reply to) locks nothing.
 *
 * Return: true to take the datagram
 */
static bool tr_dgram_from(struct ns *ns, const struct sockaddr_storage *from, socklen_t flen)
{
	struct ns_transport *t = &ns->tr;
	bool named = flen > sizeof(sa_family_t) && flen <= sizeof(*t->peer);
	bool locked = t->dgram_peer_known && t->peer_len > sizeof(sa_family_t);

	if (locked && flen == t->peer_len && !memcmp(t->peer, from, flen))
		return true;
	if (locked && !tr_dgram_peer_gone(ns))
		return false;
	if (locked) {
		ns->st.transport_peer_lost++;
		t->dgram_peer_known = false;
		tr_guest_down(ns);
	}
	if (named || !t->dgram_peer_known) {
		memcpy(t->peer, from, flen <= sizeof(*t->peer) ? flen : sizeof(*t->peer));
		t->peer_len = flen <= sizeof(*t->peer) ? flen : sizeof(*t->peer);
		t->dgram_peer_known = flen > 0;
		t->probe_ms = 0;
	}
	return true;
}

/**
 * tr_read_vnet() - a frame read from a TAP with a virtio-net header: the
 * header checked (vnet_rx()), the frame passed up without it
 * @ns:		netstack
 * @n:		bytes read into the receive buffer, header included
 */
static void tr_read_vnet(struct ns *ns, size_t n)
{
	struct ns_transport *t = &ns->tr;
	size_t len = n - t->vnet_hl;
	enum vnet_rx_result r;
	bool partial;

	if (n < t->vnet_hl + ETH_HLEN_) {
		ns->st.drop_runt++;
		return;
	}
	if (len > ns->rx_frame_max) {
		ns->st.drop_oversize++;
		return;
	}
	r = vnet_rx(t->rxbuf, t->vnet_hl, t->rxbuf + t->vnet_hl, len, t->tso, &partial);
	if (r == VNET_RX_DROP) {
		ns->st.drop_offload++;
		return;
	}
	if (r == VNET_RX_PLAIN && len > ns->max_frame) {
		ns->st.drop_oversize++;
		return;
	}
	if (r == VNET_RX_SUPER)
		ns->st.rx_gso_frames++;
	ns->rx_csum_partial = partial;
	tr_deliver(ns, t->rxbuf + t->vnet_hl, len);
	ns->rx_csum_partial = false;
}

static void tr_frame_event(void *arg, uint32_t events)
{
	struct ns *ns = arg;
	struct ns_transport *t = &ns->tr;
	int i;

	if (events & EPOLLOUT) {
		if (tr_write_some(ns) < 0)
			return;
	}
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	for (i = 0; i < NS_READS_PER_EVENT && t->io.fd >= 0; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		if (t->kind == NS_TR_DGRAM)
			n = recvfrom(t->io.fd, t->rxbuf, ns->max_frame + 1,
				     MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &flen);
		else if (t->kind == NS_TR_SEQPACKET)
			n = recv(t->io.fd, t->rxbuf, ns->max_frame + 1, MSG_DONTWAIT | MSG_TRUNC);
		else
			n = read(t->io.fd, t->rxbuf, t->vnet_hl + ns->rx_frame_max + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (t->kind == NS_TR_SEQPACKET &&
		    (n == 0 || (n < 0 && errno != EAGAIN && errno != ENOBUFS))) {
			tr_drop_conn(ns); /* EOF or a dead peer: the listener takes the next */
			return;
		}
		if (n < 0)
			return; /* EAGAIN, or a transient error: wait for the next event */
		if (t->kind == NS_TR_DGRAM && !tr_dgram_from(ns, &from, flen)) {
			ns->st.drop_foreign_peer++;
			ns_log_hit(
			    ns, &ns->log_foreign_peer,
			    "transport: dropped a datagram not from the locked unixgram peer");
			continue;
		}
		if (t->vnet_hl) {
			tr_read_vnet(ns, (size_t)n);
			continue;
		}
		if ((size_t)n > ns->max_frame) {
			ns->st.drop_oversize++;
			continue;
		}
		tr_deliver(ns, t->rxbuf, (size_t)n);
	}
}

int ns_listen_vfkit(struct ns *ns, const char *uri, char *err, size_t errlen)
{
	struct ns_transport *t = &ns->tr;
	struct sockaddr_un sun;
	int fd, sz = 4 << 20, rc;

	if (!tr_link_free(t)) {
		return set_err(EBUSY, err, errlen, "only one guest link per vgate");
	}
	if (parse_unix_uri(uri, "unixgram", &sun) < 0) {
		return set_err(EINVAL, err, errlen,
			       "bad --listen-vfkit '%s': expected unixgram:///PATH", uri);
	}
	rc = tr_unix_clear(sun.sun_path, err, errlen);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return set_err(errno, err, errlen, "%s: %s", "socket", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (tr_bind(ns, fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		return set_err(e, err, errlen, "cannot bind %s: %s", uri, strerror(e));
	}
	memcpy(t->path, sun.sun_path, sizeof(t->path));
	t->peer = calloc(1, sizeof(*t->peer));
	if (!t->peer || tr_buffers(ns, false) < 0 ||
	    vg_io_add(ns->loop, &t->io, fd, EPOLLIN, tr_frame_event, ns) < 0) {
		close(fd);
		return set_err(ENOMEM, err, errlen, "out of memory");
	}
	t->kind = NS_TR_DGRAM;
	ns->st.transport_connects++;
	return 0;
}

/**
 * tap_offloads() - find whether a TAP fd carries a virtio-net header and,
 * unless cfg.no_tap_offload, offer the guest's kernel checksum offload and
 * TSO and tell the engine to send super-segments
 * @ns:		netstack
 * @fd:		the TAP (or anything else: a socket in the unit tests)
 *
 * Sets tr.vnet_hl (0: no header), tr.tso and ns->rx_frame_max.
 *
 * Return: 0, or -1 when the header has a size vgate cannot use
 */
static int tap_offloads(struct ns *ns, int fd)
{
	struct ns_transport *t = &ns->tr;
	struct ifreq ifr;
	int hl = VNET_HDR_MIN;

	memset(&ifr, 0, sizeof(ifr));
	t->vnet_hl = 0;
	t->tso = false;
	if (ioctl(fd, TUNGETIFF, &ifr) < 0 || !(ifr.ifr_flags & IFF_VNET_HDR))
		return 0;
	if (ioctl(fd, TUNGETVNETHDRSZ, &hl) < 0)
		hl = VNET_HDR_MIN;
	if (hl != VNET_HDR_MIN && hl != VNET_HDR_MAX) {
		/* a size we do not know how to fill: back to the plain header */
		hl = VNET_HDR_MIN;
		if (ioctl(fd, TUNSETVNETHDRSZ, &hl) < 0)
			return -1;
	}
	t->vnet_hl = (size_t)hl;
	if (ns->cfg.no_tap_offload) {
		/* a --tap-fd may come with offloads set: the kernel cuts its own */
		ioctl(fd, TUNSETOFFLOAD, 0);
		return 0;
	}
	t->tso = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0;
	if (t->tso)
		ns->rx_frame_max = VNET_FRAME_MAX;
	ns_engine_set_gso(ns, true);
	return 0;
}

int ns_attach_tap(struct ns *ns, int fd, char *err, size_t errlen)
{
	struct ns_transport *t = &ns->tr;
	int fl;

	if (!tr_link_free(t)) {
		return set_err(EBUSY, err, errlen, "only one guest link per vgate");
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return set_err(errno, err, errlen, "%s: %s", "tap fd", strerror(errno));
	if (tap_offloads(ns, fd) < 0)
		return set_err(EINVAL, err, errlen,
			       "tap fd %d: a virtio-net header of a size vgate cannot use", fd);
	if (tr_buffers(ns, false) < 0 ||
	    vg_io_add(ns->loop, &t->io, fd, EPOLLIN, tr_frame_event, ns) < 0) {
		return set_err(ENOMEM, err, errlen, "cannot use tap fd %d", fd);
	}
	t->kind = NS_TR_TAP;
	ns->st.transport_connects++;
	return 0;
}

int ns_open_tap_netns(const char *netns_path, const char *ifname, unsigned int mtu, bool offload,
		      char *err, size_t errlen)
{
	struct ifreq ifr;
	int self = -1, target = -1, fd = -1, sock = -1, rc = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return set_err(ENAMETOOLONG, err, errlen, "tap name '%s' is too long", ifname);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	target = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0) {
		rc = set_err(errno, err, errlen, "cannot open network namespace %s: %s", netns_path,
			     strerror(errno));
		goto out;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		rc = set_err(errno, err, errlen, "cannot enter network namespace %s: %s",
			     netns_path, strerror(errno));
		goto out;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = set_err(errno, err, errlen, "%s: %s", "/dev/net/tun", strerror(errno));
		goto back;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = set_err(errno, err, errlen, "TUNSETIFF %s: %s", ifname, strerror(errno));
		goto fail;
	}
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ifr.ifr_mtu = (int)mtu;
	if (sock < 0 || ioctl(sock, SIOCSIFMTU, &ifr) < 0) {
		rc = set_err(errno, err, errlen, "cannot set MTU of %s: %s", ifname,
			     strerror(errno));
		goto fail;
	}
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
		rc = set_err(errno, err, errlen, "SIOCGIFFLAGS %s: %s", ifname, strerror(errno));
		goto fail;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
		rc = set_err(errno, err, errlen, "cannot bring %s up: %s", ifname, strerror(errno));
		goto fail;
	}
	goto back;
fail:
	close(fd);
	fd = -1;
back:
	if (setns(self, CLONE_NEWNET) < 0) {
		/* we cannot go home: nothing else is safe */
		rc = set_err(errno, err, errlen, "cannot return to own namespace %s: %s",
			     "/proc/self/ns/net", strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	if (sock >= 0)
		close(sock);
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return rc < 0 ? rc : fd;
}

/**
 * ns_transport_close() - close the link and listener, unlink socket paths
 * @ns:	netstack
 */
void ns_transport_close(struct ns *ns)
{
	struct ns_transport *t = &ns->tr;
	int fd = t->io.fd;

	if (fd >= 0) {
		ns_transport_flush(ns);
		vg_io_del(ns->loop, &t->io); /* sets the fd to -1: close the saved one */
		close(fd);
	}
	fd = t->wio.fd;
	if (fd >= 0) {
		vg_io_del(ns->loop, &t->wio);
		close(fd);
	}
	fd = t->listen_io.fd;
	if (fd >= 0) {
		vg_io_pause_stop(&t->listen_pause);
		vg_io_del(ns->loop, &t->listen_io);
		close(fd);
	}
	if (t->path[0])
		unlink(t->path);
	if (t->rxbuf)
		vg_loop_del_idle(ns->loop, tr_flush_idle, ns);
	free(t->rxbuf);
	free(t->peer);
	txq_free(&t->txq);
	stream_dec_free(&t->dec);
	memset(t, 0, sizeof(*t));
	t->io.fd = t->wio.fd = t->listen_io.fd = -1;
}
