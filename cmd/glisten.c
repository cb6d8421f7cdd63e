/* SPDX-License-Identifier: MIT */
/*
 * glisten.c - gvproxy's -listen (HTTP API + POST /connect on one socket)
 * and -listen-vpnkit endpoints (glisten.h has the contract).
 *
 * How: vgate binds, listens and accepts itself (a bounded number of
 * accepts per event; out of fds the listener pauses for
 * API_ACCEPT_PAUSE_MS, as the API's and the QEMU listener do). An
 * accepted connection takes a slot of the park table (fixed,
 * VG_GLISTEN_PARK_MAX; full: closed and counted) with its own one-shot
 * timer (VG_GLISTEN_PARK_MS; expired: closed and counted).
 *
 * -listen slots are polled edge-triggered (EPOLLIN | EPOLLRDHUP |
 * EPOLLET): the head is only peeked, so level-triggered polling would
 * report the same unread bytes again and again; each new arrival wakes
 * the slot once. On each wake the slot peeks up to VG_GLISTEN_HEAD_MAX
 * bytes into the object's one buffer (single-threaded) and classifies
 * them: another request goes to the API untouched; a complete /connect
 * head is read (exactly its length) and the connection offered to the
 * netstack as the link; a /connect request line whose head does not end
 * within the buffer is closed (bad_head); an incomplete head waits for
 * more, unless the client already shut its side (closed_early).
 *
 * Before that, vg_tunnel_parse() looks for gvproxy's "GET /tunnel": a
 * complete head is read exactly and the connection goes to the tunnel
 * table (cmd/tunnel.c), which answers it; one whose head does not end
 * within the buffer is closed (bad_head).
 *
 * -listen-vpnkit slots are level-triggered and run hyperkit's handshake:
 * read exactly VG_VPNKIT_INIT_LEN bytes, echo them, read exactly
 * VG_VPNKIT_CMD_LEN, answer VG_VPNKIT_REPLY_LEN (vg_vpnkit_reply()), then
 * the connection is offered to the netstack with 2-byte LE framing. The
 * reads never take more than the handshake, so frames sent right after it
 * reach the link's decoder. Writes that would block wait for EPOLLOUT;
 * everything is bounded by the slot's timer.
 */
#include "cmd/glisten.h"
#include "cmd/api.h"
#include "cmd/tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/httphead.h"
#include "common/sockuri.h"
#include "common/ratelimit.h"

#define GL_LISTENERS (VG_GLISTEN_MAX + 1) /* the -listen ones and -listen-vpnkit */
#define GL_LOG_MS    10000u		  /* at most one line of a kind this often */

struct vg_glisten;

/**
 * struct gl_listener - one listening socket
 * @g:		owner
 * @io:		its registration
 * @pause:	its pause when accept() finds no fd
 * @vpnkit:	the -listen-vpnkit socket (else a -listen one)
 * @api_only:	a -services one: every connection goes to the API
 * @uri:	as given, for log lines
 * @path:	unix socket path to remove at the end, or empty
 */
struct gl_listener {
	struct vg_glisten *g;
	struct vg_io io;
	struct vg_io_pause pause;
	bool vpnkit;
	bool api_only;
	const char *uri;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/**
 * struct gl_slot - one parked connection
 * @g:		owner
 * @used:	the slot holds a connection
 * @io:		its registration (the fd is @io.fd)
 * @timer:	its deadline
 * @l:		the listener it came from
 * @peer:	peer address (for the API)
 * @peer_len:	its length
 * @step:	vpnkit: 0 read hello, 1 echo it, 2 read command, 3 answer
 * @have:	vpnkit: bytes of the current read step received
 * @in:		vpnkit: hello then command
 * @out:	vpnkit: what is being written
 * @out_len:	its length
 * @out_off:	bytes of it written
 */
struct gl_slot {
	struct vg_glisten *g;
	bool used;
	struct vg_io io;
	struct vg_timer timer;
	const struct gl_listener *l;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int step;
	size_t have;
	uint8_t in[VG_VPNKIT_INIT_LEN + VG_VPNKIT_CMD_LEN];
	uint8_t out[VG_VPNKIT_REPLY_LEN];
	size_t out_len, out_off;
};

struct vg_glisten {
	struct vg_glisten_config cfg;
	struct gl_listener lst[GL_LISTENERS];
	size_t n_lst;
	struct gl_slot park[VG_GLISTEN_PARK_MAX];
	char head[VG_GLISTEN_HEAD_MAX];
	struct vg_glisten_stats st;
	struct vg_tunnels *tun;
	struct vg_hitlog log_fd, log_refused, log_full, log_drop;
};

/**
 * gl_hit() - log a bound or a drop: the first, then one line every
 * GL_LOG_MS with the count
 * @g:		object
 * @h:		the kind's rate limit
 * @what:	the line
 */
static void gl_hit(struct vg_glisten *g, struct vg_hitlog *h, const char *what)
{
	uint64_t hits;

	if (vg_hitlog_hit(h, GL_LOG_MS, vg_loop_now(g->cfg.loop), &hits))
		vg_log(g->cfg.log, VG_LOG_WARN, "listen: %s (%llu since the last such line)", what,
		       (unsigned long long)hits);
}

void vg_vpnkit_reply(uint8_t *out, const uint8_t *cmd, unsigned int mtu, const uint8_t *rnd)
{
	static const char known_uuid[] = "c3d68012-0208-11ea-9fd7-f2189899ab08";
	static const uint8_t known_mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xee};
	unsigned int frame = mtu + 14;

	memset(out, 0, VG_VPNKIT_REPLY_LEN);
	out[0] = 0x01;
	out[1] = (uint8_t)mtu;
	out[2] = (uint8_t)(mtu >> 8);
	out[3] = (uint8_t)frame;
	out[4] = (uint8_t)(frame >> 8);
	if (!memcmp(cmd + 1, known_uuid, 36)) {
		memcpy(out + 5, known_mac, 6);
	} else {
		memcpy(out + 5, rnd, 6);
		out[5] = (uint8_t)((out[5] | 0x02) & ~0x01); /* local, unicast */
	}
}

/**
 * gl_unpark() - free a slot, keeping its fd open
 * @s:	slot
 *
 * Return: the connection's fd
 */
static int gl_unpark(struct gl_slot *s)
{
	int fd = s->io.fd;

	vg_io_del(s->g->cfg.loop, &s->io);
	vg_timer_stop(s->g->cfg.loop, &s->timer);
	s->used = false;
	return fd;
}

/**
 * gl_drop() - close a parked connection and count why
 * @s:		slot
 * @counter:	the counter to bump
 */
static void gl_drop(struct gl_slot *s, uint64_t *counter)
{
	close(gl_unpark(s));
	(*counter)++;
}

/**
 * gl_to_link() - offer a connection whose handshake is done to the
 * netstack as the guest link
 * @s:		slot (freed)
 * @framing:	its length prefix
 */
static void gl_to_link(struct gl_slot *s, enum ns_framing framing)
{
	struct vg_glisten *g = s->g;
	const char *uri = s->l->uri;
	char err[160];
	int fd = gl_unpark(s);

	if (ns_attach_stream(g->cfg.ns, fd, -1, framing, err, sizeof(err)) < 0) {
		close(fd);
		g->st.connect_refused++;
		gl_hit(g, &g->log_refused,
		       "refused a guest connection: the link is taken by a live peer");
		return;
	}
	g->st.connect++;
	vg_log(g->cfg.log, VG_LOG_INFO, "listen: guest connected on %s (%s)", uri,
	       s->l->vpnkit ? "vpnkit" : "POST /connect");
}

/**
 * gl_http_event() - a parked -listen connection has new bytes (or closed)
 * @arg:	slot
 * @events:	epoll bits
 */
static void gl_http_event(void *arg, uint32_t events)
{
	struct gl_slot *s = arg;
	struct vg_glisten *g = s->g;
	struct vg_tunnel_req trq;
	enum vg_tunnel_kind tk;
	size_t head_len = 0;
	ssize_t n;

	n = recv(s->io.fd, g->head, sizeof(g->head), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(events & (EPOLLERR | EPOLLHUP)))
		return;
	if (n <= 0) {
		gl_drop(s, &g->st.closed_early);
		return;
	}
	tk = s->l->api_only ? VG_TUNNEL_NOT
			    : vg_tunnel_parse(g->head, (size_t)n, sizeof(g->head), &trq);
	switch (tk) {
	case VG_TUNNEL_NOT:
		break;
	case VG_TUNNEL_INCOMPLETE:
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			gl_drop(s, &g->st.closed_early);
		return;
	case VG_TUNNEL_TOO_LONG:
		gl_drop(s, &g->st.bad_head);
		gl_hit(g, &g->log_drop, "closed a GET /tunnel whose head does not end in 8 KiB");
		return;
	case VG_TUNNEL_REQUEST:
	case VG_TUNNEL_BAD:
	default:
		if (recv(s->io.fd, g->head, trq.head_len, MSG_DONTWAIT) != (ssize_t)trq.head_len) {
			gl_drop(s, &g->st.closed_early);
			return;
		}
		vg_tunnels_open(g->tun, gl_unpark(s), tk, &trq);
		return;
	}
	switch (s->l->api_only ? VG_HEAD_OTHER
			       : vg_http_head_classify(g->head, (size_t)n, sizeof(g->head), &head_len)) {
	case VG_HEAD_OTHER: {
		int fd = gl_unpark(s);

		g->st.http++;
		if (api_add_connection(g->cfg.api, fd, (struct sockaddr *)&s->peer, s->peer_len) <
		    0)
			gl_hit(g, &g->log_full, "the API refused a connection (connection limit)");
		return;
	}
	case VG_HEAD_CONNECT:
		/* the head is in the socket buffer (peeked): take exactly it */
		if (recv(s->io.fd, g->head, head_len, MSG_DONTWAIT) != (ssize_t)head_len) {
			gl_drop(s, &g->st.closed_early);
			return;
		}
		gl_to_link(s, g->cfg.framing);
		return;
	case VG_HEAD_TOO_LONG:
		gl_drop(s, &g->st.bad_head);
		gl_hit(g, &g->log_drop, "closed a POST /connect whose head does not end in 8 KiB");
		return;
	case VG_HEAD_INCOMPLETE:
	default:
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			gl_drop(s, &g->st.closed_early); /* no more is coming */
		return;
	}
}

/**
 * gl_vpnkit_write() - write what is pending of @s->out
 * @s:	slot
 *
 * Return: 1 when all of it is written, 0 when it waits for EPOLLOUT, -1
 *	   when the connection failed
 */
static int gl_vpnkit_write(struct gl_slot *s)
{
	while (s->out_off < s->out_len) {
		ssize_t n = send(s->io.fd, s->out + s->out_off, s->out_len - s->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			s->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return vg_io_mod(s->g->cfg.loop, &s->io, EPOLLOUT) < 0 ? -1 : 0;
		return -1;
	}
	return vg_io_mod(s->g->cfg.loop, &s->io, EPOLLIN) < 0 ? -1 : 1;
}

/**
 * gl_vpnkit_event() - one step of hyperkit's handshake (see the file comment)
 * @arg:	slot
 * @events:	epoll bits
 */
static void gl_vpnkit_event(void *arg, uint32_t events)
{
	struct gl_slot *s = arg;
	struct vg_glisten *g = s->g;
	int rc;

	(void)events;
	for (;;) {
		if (s->step == 0 || s->step == 2) {
			size_t want = s->step == 0 ? VG_VPNKIT_INIT_LEN : VG_VPNKIT_CMD_LEN;
			uint8_t *dst = s->in + (s->step == 0 ? 0 : VG_VPNKIT_INIT_LEN);
			ssize_t n = recv(s->io.fd, dst + s->have, want - s->have, MSG_DONTWAIT);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n <= 0) {
				gl_drop(s, &g->st.closed_early);
				return;
			}
			s->have += (size_t)n;
			if (s->have < want)
				continue;
			s->have = 0;
			if (s->step == 0) {
				memcpy(s->out, s->in, VG_VPNKIT_INIT_LEN);
				s->out_len = VG_VPNKIT_INIT_LEN;
			} else {
				uint8_t rnd[6] = {0x02, 0, 0, 0, 0, 1};

				if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) !=
				    (ssize_t)sizeof(rnd))
					vg_log(g->cfg.log, VG_LOG_DEBUG,
					       "listen: vpnkit: no random bytes, fixed MAC");
				vg_vpnkit_reply(s->out, s->in + VG_VPNKIT_INIT_LEN, g->cfg.mtu,
						rnd);
				s->out_len = VG_VPNKIT_REPLY_LEN;
			}
			s->out_off = 0;
			s->step++;
		}
		rc = gl_vpnkit_write(s);
		if (rc < 0) {
			gl_drop(s, &g->st.closed_early);
			return;
		}
		if (rc == 0)
			return;
		if (s->step == 3) {
			g->st.vpnkit_ok++;
			gl_to_link(s, NS_FRAMING_LE16);
			return;
		}
		s->step++; /* echo written: read the command */
	}
}

static void gl_timeout(void *arg)
{
	struct gl_slot *s = arg;

	gl_drop(s, &s->g->st.timeouts);
	gl_hit(s->g, &s->g->log_drop, "closed a connection that said nothing in time");
}

/**
 * gl_park() - give an accepted connection a slot, or close it
 * @l:		its listener
 * @fd:		the connection
 * @peer:	peer address
 * @plen:	its length
 */
static void gl_park(struct gl_listener *l, int fd, const struct sockaddr_storage *peer,
		    socklen_t plen)
{
	struct vg_glisten *g = l->g;
	struct gl_slot *s = NULL;
	size_t i;

	for (i = 0; i < VG_GLISTEN_PARK_MAX && !s; i++)
		if (!g->park[i].used)
			s = &g->park[i];
	if (!s) {
		close(fd);
		g->st.park_full++;
		gl_hit(g, &g->log_full, "closed a new connection: too many undecided ones");
		return;
	}
	memset(s, 0, sizeof(*s));
	s->g = g;
	s->l = l;
	s->io.fd = -1;
	memcpy(&s->peer, peer, plen <= sizeof(s->peer) ? plen : sizeof(s->peer));
	s->peer_len = plen <= sizeof(s->peer) ? plen : sizeof(s->peer);
	vg_timer_init(&s->timer, gl_timeout, s);
	if (vg_io_add(g->cfg.loop, &s->io, fd, l->vpnkit ? EPOLLIN : EPOLLIN | EPOLLRDHUP | EPOLLET,
		      l->vpnkit ? gl_vpnkit_event : gl_http_event, s) < 0 ||
	    vg_timer_start(g->cfg.loop, &s->timer, VG_GLISTEN_PARK_MS) < 0) {
		vg_io_del(g->cfg.loop, &s->io);
		close(fd);
		g->st.park_full++;
		return;
	}
	s->used = true;
}

static void gl_accept(void *arg, uint32_t events)
{
	struct gl_listener *l = arg;
	struct vg_glisten *g = l->g;
	int i;

	(void)events;
	for (i = 0; i < VG_GLISTEN_ACCEPTS_PER_EVENT; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd =
		    accept4(l->io.fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			g->st.accepted++;
			gl_park(l, fd, &ss, len);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			g->st.fd_exhausted++;
			gl_hit(g, &g->log_fd, "accept() found no free fd: the listener pauses");
			vg_io_pause(&l->pause, API_ACCEPT_PAUSE_MS);
		}
		return; /* EAGAIN: the next event */
	}
}

/**
 * gl_open() - create, bind and listen on one URI
 * @g:		object
 * @uri:	the URI
 * @vpnkit:	the -listen-vpnkit one
 * @api_only:	a -services one (the API only)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int gl_open(struct vg_glisten *g, const char *uri, bool vpnkit, bool api_only, char *err,
		   size_t errlen)
{
	struct gl_listener *l = &g->lst[g->n_lst];
	struct sockaddr_storage ss;
	socklen_t len;
	const char *flag = vpnkit ? "-listen-vpnkit" : api_only ? "-services" : "-listen";
	char why[200];
	int fd, one = 1, rc;

	if (vg_sock_uri_parse(uri, !vpnkit, &ss, &len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", flag, why);
		return -1;
	}
	memset(l, 0, sizeof(*l));
	l->g = g;
	l->api_only = api_only;
	l->uri = uri;
	l->vpnkit = vpnkit;
	l->io.fd = -1;
	if (ss.ss_family == AF_UNIX) {
		const char *path = ((struct sockaddr_un *)&ss)->sun_path;
		struct stat st;

		if (lstat(path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(err, errlen,
					 "%s '%s': the path exists and is not a socket", flag, uri);
				return -1;
			}
			unlink(path);
		}
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s '%s': socket: %s", flag, uri, strerror(errno));
		return -1;
	}
	if (ss.ss_family == AF_INET)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_UNIX) {
		mode_t old = umask(0177); /* 0600 from the first moment */

		rc = bind(fd, (struct sockaddr *)&ss, len);
		umask(old);
		if (rc == 0)
			strcpy(l->path, ((struct sockaddr_un *)&ss)->sun_path);
	} else {
		rc = bind(fd, (struct sockaddr *)&ss, len);
	}
	if (rc < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "%s: cannot listen on '%s': %s", flag, uri, strerror(errno));
		close(fd);
		if (l->path[0])
			unlink(l->path);
		return -1;
	}
	rc = vg_io_add(g->cfg.loop, &l->io, fd, EPOLLIN, gl_accept, l);
	if (rc < 0) {
		snprintf(err, errlen, "%s '%s': %s", flag, uri, strerror(-rc));
		close(fd);
		if (l->path[0])
			unlink(l->path);
		return -1;
	}
	vg_io_pause_init(&l->pause, g->cfg.loop, &l->io);
	g->n_lst++;
	vg_log(g->cfg.log, VG_LOG_INFO, "listen: %s on %s",
	       vpnkit ? "vpnkit" : api_only ? "API" : "API and /connect", uri);
	return 0;
}

struct vg_glisten *vg_glisten_new(const struct vg_glisten_config *cfg, char *err, size_t errlen)
{
	struct vg_glisten *g;
	size_t i;

	if (cfg->n_uris > VG_GLISTEN_MAX || (cfg->n_uris && !cfg->api)) {
		snprintf(err, errlen, "-listen: at most %d, and the API must run", VG_GLISTEN_MAX);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->cfg = *cfg;
	{
		struct vg_tunnel_config tc = {
		    .loop = cfg->loop,
		    .ns = cfg->ns,
		    .log = cfg->log,
		    .subnet = cfg->subnet,
		    .prefix = cfg->prefix,
		    .gateway_ip = cfg->gateway_ip,
		    .host_ip = cfg->host_ip,
		};

		g->tun = vg_tunnels_new(&tc);
	}
	if (!g->tun) {
		snprintf(err, errlen, "out of memory");
		free(g);
		return NULL;
	}
	for (i = 0; i < cfg->n_uris; i++)
		if (gl_open(g, cfg->uris[i], false, cfg->api_only && cfg->api_only[i], err,
			    errlen) < 0)
			goto fail;
	if (cfg->vpnkit_uri && gl_open(g, cfg->vpnkit_uri, true, false, err, errlen) < 0)
		goto fail;
	return g;
fail:
	vg_glisten_free(g);
	return NULL;
}

void vg_glisten_free(struct vg_glisten *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < VG_GLISTEN_PARK_MAX; i++)
		if (g->park[i].used)
			close(gl_unpark(&g->park[i]));
	vg_tunnels_free(g->tun);
	for (i = 0; i < g->n_lst; i++) {
		struct gl_listener *l = &g->lst[i];
		int fd = l->io.fd;

		vg_io_pause_stop(&l->pause);
		vg_io_del(g->cfg.loop, &l->io);
		if (fd >= 0)
			close(fd);
		if (l->path[0])
			unlink(l->path);
	}
	free(g);
}

void vg_glisten_get_stats(const struct vg_glisten *g, struct vg_glisten_stats *st)
{
	struct vg_tunnel_stats ts;

	*st = g->st;
	vg_tunnels_get_stats(g->tun, &ts);
	st->tunnel_ok = ts.ok;
	st->tunnel_bad_request = ts.bad_request;
	st->tunnel_refused = ts.refused;
	st->tunnel_full = ts.full;
	st->tunnel_timeouts = ts.timeouts;
	st->tunnel_active = ts.active;
}
