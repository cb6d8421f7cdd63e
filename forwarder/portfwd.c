/* SPDX-License-Identifier: MIT */
/*
 * portfwd.c - host → guest port forwards: "tcp:ADDR:PORT:GUESTPORT" (or
 * "tcp:[IPV6]:PORT:GUESTPORT") parsing and a fixed table of
 * FWD_FORWARD_MAX listeners owned by struct fwd.
 *
 * A TCP listener accepts host connections and hands each to tcp.c, which
 * opens a connection from the gateway's stack to the guest (the guest's
 * address is the forward's own, or else its current DHCP lease; for a
 * listener on an IPv6 address without one, the guest's IPv6 address when
 * known, from the IPv6 host alias). An IPv6 listener is IPV6_V6ONLY. A
 * UDP listener's datagrams go to
 * udp.c, which keeps one mapping per host peer. Removing a forward closes
 * the listener only; established TCP flows continue, UDP mappings through
 * it are dropped. A TCP listener whose accept() fails with EMFILE/ENFILE
 * stops being polled (EPOLLIN off, so the level-triggered event cannot spin)
 * until the forwarder's sweep resumes it (fwd_listeners_resume(), 1 s).
 * A forward on a unix path (gvproxy's "unix" expose) is a stream listener
 * like a TCP one: created mode 0600 (umask 0177), never over an
 * existing file, unlinked when the forward is removed or vgate stops.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/netutil.h"

int fwd_forward_parse(const char *s, struct fwd_forward *out)
{
	char buf[96], host6[INET6_ADDRSTRLEN] = "", *f[4], *p;
	struct in_addr a;
	uint8_t a6[16];
	bool v6 = false;
	int n = 0;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	/* "PROTO:[IPV6]:PORT:GUESTPORT": the bracketed address has colons */
	p = strchr(buf, '[');
	if (p) {
		char *end = strchr(p, ']');

		if (p == buf || p[-1] != ':' || !end || end[1] != ':' ||
		    (size_t)(end - p - 1) >= sizeof(host6))
			return -1;
		memcpy(host6, p + 1, (size_t)(end - p - 1));
		host6[end - p - 1] = '\0';
		v6 = true;
		memmove(p, end + 1, strlen(end + 1) + 1); /* "PROTO::PORT:GUESTPORT" */
	}
	for (p = buf; n < 4; n++) {
		f[n] = p;
		p = strchr(p, ':');
		if (!p) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (p || n < 3 || (v6 && n != 4))
		return -1; /* too many or too few fields */
	memset(out, 0, sizeof(*out));
	if (!strcmp(f[0], "tcp"))
		out->proto = FWD_TCP;
	else if (!strcmp(f[0], "udp"))
		out->proto = FWD_UDP;
	else
		return -1;
	if (v6) {
		if (f[1][0] || inet_pton(AF_INET6, host6, a6) != 1)
			return -1;
		out->host = ns_addr_v6(a6, 0);
	} else if (n == 3) {
		out->host = ns_addr_v4(htonl(INADDR_LOOPBACK), 0);
	} else {
		if (inet_pton(AF_INET, f[1], &a) != 1)
			return -1;
		out->host = ns_addr_v4(a.s_addr, 0);
	}
	if (vg_port_parse_str(f[n - 2], &out->host.port) < 0 ||
	    vg_port_parse_str(f[n - 1], &out->guest_port) < 0)
		return -1;
	return 0;
}

/**
 * fwd_listeners_resume() - poll again the TCP listeners whose accept() hit
 * EMFILE/ENFILE (from the sweep, once a second: a still-exhausted listener
 * costs one failed accept a second, never a spin)
 * @fwd:	forwarder
 */
void fwd_listeners_resume(struct fwd *fwd)
{
	size_t i;

	for (i = 0; i < FWD_FORWARD_MAX; i++) {
		struct fwd_listener *l = &fwd->lst[i];

		if (l->fd >= 0 && l->paused && vg_io_mod(fwd->loop, &l->io, EPOLLIN) == 0)
			l->paused = false;
	}
}

/* whether @a and @b are the same forward: protocol, host address, path */
static bool forward_same(const struct fwd_forward *a, const struct fwd_forward *b)
{
	return a->proto == b->proto && ns_addr_eq(&a->host, &b->host) && !strcmp(a->path, b->path);
}

/* the listening socket of @f, bound; -1 with @err set */
static int listener_open(const struct fwd_forward *f, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd, one = 1;

	if (f->path[0]) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
		mode_t old;
		int r;

		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		memset(sun, 0, sizeof(*sun));
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, f->path, strlen(f->path) + 1);
		old = umask(0177); /* the socket file: 0600 */
		r = bind(fd, (struct sockaddr *)sun, sizeof(*sun));
		umask(old);
		if (r < 0 || listen(fd, 128) < 0) {
			snprintf(err, errlen, "port forward unix:%s: %s", f->path, strerror(errno));
			close(fd);
			return -1;
		}
		return fd;
	}
	fd = socket(ns_addr_is_v6(&f->host) ? AF_INET6 : AF_INET,
		    (f->proto == FWD_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ns_addr_is_v6(&f->host)) /* [::] is IPv6 only: 0.0.0.0 is its own forward */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	slen = fwd_sockaddr(&ss, &f->host);
	if (bind(fd, (struct sockaddr *)&ss, slen) < 0 ||
	    (f->proto == FWD_TCP && listen(fd, 128) < 0)) {
		char a[INET6_ADDRSTRLEN];

		if (ns_addr_is_v6(&f->host))
			inet_ntop(AF_INET6, f->host.ip6, a, sizeof(a));
		else
			inet_ntop(AF_INET, &f->host.ip, a, sizeof(a));
		snprintf(err, errlen, "port forward %s:%s%s%s:%u: %s", fwd_proto_name(f->proto),
			 ns_addr_is_v6(&f->host) ? "[" : "", a, ns_addr_is_v6(&f->host) ? "]" : "",
			 f->host.port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void listener_close(struct fwd_listener *l)
{
	l->paused = false;
	if (l->fd < 0)
		return;
	vg_io_del(l->fwd->loop, &l->io);
	close(l->fd);
	l->fd = -1;
	if (l->spec.path[0])
		unlink(l->spec.path);
	if (l->spec.proto == FWD_UDP)
		fwd_udp_drop_listener(l);
}

static void listener_io(void *arg, uint32_t events)
{
	struct fwd_listener *l = arg;
	int i;

	(void)events;
	if (l->spec.proto == FWD_UDP) {
		fwd_udp_inbound(l);
		return;
	}
	for (i = 0; i < 64 && l->fd >= 0; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (fwd_fd_exhausted(errno)) {
				/* level-triggered: polling on would spin. The
				 * sweep turns EPOLLIN back on within 1 s. */
				l->fwd->st.fd_exhausted++;
				l->fwd->st.lst_paused++;
				fwd_budget_hit(l->fwd, "fd limit (port-forward accept)");
				if (vg_io_mod(l->fwd->loop, &l->io, 0) == 0)
					l->paused = true;
			}
			break; /* EAGAIN: the next event */
		}
		fwd_tcp_inbound(l->fwd, fd, &l->spec);
	}
}

int fwd_forward_add(struct fwd *fwd, const struct fwd_forward *f, char *err, size_t errlen)
{
	struct fwd_listener *l = NULL;
	size_t i;
	int fd;

	if (f->guest_ip && (f->guest_ip == fwd->cfg.gateway_ip || f->guest_ip == fwd->cfg.host_ip ||
			    f->guest_ip == htonl(INADDR_BROADCAST))) {
		snprintf(err, errlen, "port forward %s:%u: the guest address is not a guest's",
			 fwd_forward_kind(f), f->host.port);
		return -1;
	}
	if (f->path[0] && (f->proto != FWD_TCP || !memchr(f->path, '\0', sizeof(f->path)))) {
		snprintf(err, errlen,
			 "port forward unix: a stream forward with a path under %d bytes",
			 FWD_PATH_MAX);
		return -1;
	}
	for (i = 0; i < FWD_FORWARD_MAX; i++) {
		struct fwd_listener *c = &fwd->lst[i];

		if (c->fd >= 0 && forward_same(&c->spec, f)) {
			if (f->path[0])
				snprintf(err, errlen, "port forward unix:%s exists", f->path);
			else
				snprintf(err, errlen, "port forward %s:%u exists",
					 fwd_proto_name(f->proto), f->host.port);
			return -1;
		}
		if (c->fd < 0 && !l)
			l = c;
	}
	if (!l) {
		snprintf(err, errlen, "too many port forwards (max %d)", FWD_FORWARD_MAX);
		return -1;
	}
	fd = listener_open(f, err, errlen);
	if (fd < 0)
		return -1;
	l->spec = *f;
	l->fd = fd;
	if (vg_io_add(fwd->loop, &l->io, fd, EPOLLIN, listener_io, l) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		close(fd);
		if (f->path[0])
			unlink(f->path);
		l->fd = -1;
		return -1;
	}
	return 0;
}

int fwd_forward_remove(struct fwd *fwd, const struct fwd_forward *key)
{
	size_t i;

	for (i = 0; i < FWD_FORWARD_MAX; i++) {
		struct fwd_listener *l = &fwd->lst[i];

		if (l->fd >= 0 && forward_same(&l->spec, key)) {
			listener_close(l);
			return 0;
		}
	}
	return -1;
}

size_t fwd_forward_list(const struct fwd *fwd, struct fwd_forward *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < FWD_FORWARD_MAX && n < max; i++)
		if (fwd->lst[i].fd >= 0)
			out[n++] = fwd->lst[i].spec;
	return n;
}

void fwd_listeners_close(struct fwd *fwd)
{
	size_t i;

	for (i = 0; i < FWD_FORWARD_MAX; i++)
		listener_close(&fwd->lst[i]);
}
