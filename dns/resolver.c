/* SPDX-License-Identifier: MIT */
/*
 * resolver.c - upstream queries: one struct dns_inflight per key
 * (singleflight), each try on a fresh non-blocking socket.
 *
 * A resolution makes up to upstream_attempts rounds over the configured
 * servers, starting with the server that answered last. Each try opens a new
 * unconnected UDP socket (so the kernel picks a fresh random source port),
 * sends a query with a fresh random ID, and accepts a datagram only if it
 * comes from that server's address and port and carries our ID and exactly
 * our question; anything else is dropped and counted in stats.spoofed. A
 * truncated (TC) reply is retried over TCP to the same server. SERVFAIL,
 * REFUSED and malformed replies, ICMP errors and timeouts move on to the next
 * try; when all tries are spent, dns_finish() is called with no data.
 *
 * The per-query timer fires at the earlier of the try deadline and the
 * client-response deadline (client_timeout_ms after the start), at which
 * point dns_client_timeout() may answer the waiters from stale data while the
 * resolution carries on in the background.
 *
 * Packets are only ever sent to the addresses of cfg.upstreams.
 */
#include "internal.h"
#include "msg.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void try_next(struct dns_inflight *f);

/**
 * resolver_init() - allocate the in-flight pool and its hash table
 * @d:	service (cfg set)
 *
 * Return: 0 or -ENOMEM
 */
int resolver_init(struct dns *d)
{
	uint32_t i, n = d->cfg.max_inflight, nb = 16;

	while (nb < 2 * n)
		nb <<= 1;
	d->inf = calloc(n, sizeof(*d->inf));
	d->inf_buckets = calloc(nb, sizeof(*d->inf_buckets));
	if (!d->inf || !d->inf_buckets)
		return -ENOMEM;
	d->inf_nbuckets = nb;
	for (i = 0; i < n; i++) {
		struct dns_inflight *f = &d->inf[i];

		f->io.fd = -1;
		f->d = d;
		f->hnext = i + 2 <= n ? i + 2 : 0;
	}
	d->inf_free = n ? 1 : 0;
	return 0;
}

static void close_try(struct dns_inflight *f)
{
	if (f->io.fd >= 0) {
		int fd = f->io.fd;

		vg_io_del(f->d->loop, &f->io);
		close(fd);
		f->io.fd = -1;
	}
	free(f->tbuf);
	f->tbuf = NULL;
	f->tcp = false;
}

/**
 * resolver_free() - close every socket and free the tables; no callbacks
 * @d:	service
 */
void resolver_free(struct dns *d)
{
	uint32_t i;

	if (d->inf) {
		for (i = 0; i < d->cfg.max_inflight; i++) {
			if (!d->inf[i].used)
				continue;
			close_try(&d->inf[i]);
			vg_timer_stop(d->loop, &d->inf[i].timer);
		}
	}
	free(d->inf);
	free(d->inf_buckets);
}

/**
 * resolver_find() - the in-flight query for a key
 * @d:		service
 * @name:	lower-case wire name
 * @namelen:	its length
 * @type:	type
 * @hash:	key hash
 *
 * Return: the query or NULL
 */
struct dns_inflight *resolver_find(struct dns *d, const uint8_t *name, size_t namelen,
				   uint16_t type, uint32_t hash)
{
	uint32_t i = d->inf_buckets[hash & (d->inf_nbuckets - 1)];

	while (i) {
		struct dns_inflight *f = &d->inf[i - 1];

		if (f->hash == hash && f->type == type && f->namelen == namelen &&
		    !memcmp(f->name, name, namelen))
			return f;
		i = f->hnext;
	}
	return NULL;
}

static void on_timer(void *arg);

/**
 * resolver_start() - claim an in-flight slot for a key (nothing sent yet;
 * attach waiters, then call resolver_go())
 * @d:		service
 * @name:	lower-case wire name
 * @namelen:	its length
 * @type:	type
 * @hash:	key hash
 *
 * Return: the new query, or NULL when the table is full or there is no upstream
 */
struct dns_inflight *resolver_start(struct dns *d, const uint8_t *name, size_t namelen,
				    uint16_t type, uint32_t hash)
{
	struct dns_inflight *f;
	uint32_t *b;

	if (!d->inf_free || d->cfg.n_upstreams <= 0)
		return NULL;
	f = &d->inf[d->inf_free - 1];
	d->inf_free = f->hnext;
	b = &d->inf_buckets[hash & (d->inf_nbuckets - 1)];
	f->hnext = *b;
	*b = (uint32_t)(f - d->inf) + 1;
	f->hash = hash;
	f->type = type;
	f->namelen = (uint8_t)namelen;
	memcpy(f->name, name, namelen);
	f->used = true;
	f->tcp = false;
	f->tcp_sent = false;
	f->client_done = false;
	f->whead = f->wtail = f->nwait = 0;
	f->tries = 0;
	f->start_ms = vg_loop_now(d->loop);
	f->io.fd = -1;
	vg_timer_init(&f->timer, on_timer, f);
	d->ninflight++;
	return f;
}

/**
 * resolver_release() - free an in-flight slot (its waiters must be detached)
 * @d:	service
 * @f:	query
 */
void resolver_release(struct dns *d, struct dns_inflight *f)
{
	uint32_t *pp = &d->inf_buckets[f->hash & (d->inf_nbuckets - 1)];
	uint32_t i = (uint32_t)(f - d->inf) + 1;

	close_try(f);
	vg_timer_stop(d->loop, &f->timer);
	while (*pp && *pp != i)
		pp = &d->inf[*pp - 1].hnext;
	if (*pp)
		*pp = f->hnext;
	f->used = false;
	f->hnext = d->inf_free;
	d->inf_free = i;
	d->ninflight--;
}

static socklen_t up_sockaddr(const struct dns *d, int i, struct sockaddr_storage *ss)
{
	const struct dns_upstream *u = &d->cfg.upstreams[i];

	memset(ss, 0, sizeof(*ss));
	if (u->addr.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(u->port);
		memcpy(&s4->sin_addr, u->addr.a, 4);
		return sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(u->port);
		s6->sin6_scope_id = u->scope_id;
		memcpy(&s6->sin6_addr, u->addr.a, 16);
		return sizeof(*s6);
	}
}

static bool from_server(const struct dns *d, int i, const struct sockaddr_storage *from)
{
	const struct dns_upstream *u = &d->cfg.upstreams[i];

	if (from->ss_family != u->addr.family)
		return false;
	if (u->addr.family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)from;

		return ntohs(s4->sin_port) == u->port && !memcmp(&s4->sin_addr, u->addr.a, 4);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;

		return ntohs(s6->sin6_port) == u->port && !memcmp(&s6->sin6_addr, u->addr.a, 16);
	}
}

static int arm_timer(struct dns_inflight *f)
{
	struct dns *d = f->d;
	uint64_t now = vg_loop_now(d->loop), when = f->try_deadline;

	if (!f->client_done && f->start_ms + d->cfg.client_timeout_ms < when)
		when = f->start_ms + d->cfg.client_timeout_ms;
	return vg_timer_start(d->loop, &f->timer, when > now ? when - now : 0);
}

static uint16_t new_id(struct dns *d)
{
	uint16_t id;

	dns_rand(d, &id, sizeof(id));
	return id;
}

/* handle_reply - a reply that matched our query: store it or try the next server */
static void handle_reply(struct dns_inflight *f, const uint8_t *buf, size_t len)
{
	struct dns *d = f->d;
	struct dns_data *data = NULL;
	uint32_t ttl = 0;
	int r = msg_from_reply(buf, len, f->name, f->namelen, f->type, d->cfg.max_ttl_s,
			       d->cfg.fail_ttl_s, &data, &ttl);

	if (r == MSG_OK) {
		d->up_pref = f->server;
		dns_finish(d, f, data, ttl);
		return;
	}
	d->st.upstream_bad++;
	try_next(f);
}

static void on_tcp(void *arg, uint32_t events)
{
	struct dns_inflight *f = arg;
	struct dns *d = f->d;
	ssize_t n;

	if (!f->tcp_sent) {
		if (events & (EPOLLERR | EPOLLHUP)) {
			try_next(f);
			return;
		}
		n = write(f->io.fd, f->tbuf + f->tpos, f->tlen - f->tpos);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				try_next(f);
			return;
		}
		f->tpos += (size_t)n;
		if (f->tpos < f->tlen)
			return;
		f->tcp_sent = true;
		f->tlen = 0;
		vg_io_mod(d->loop, &f->io, EPOLLIN);
		return;
	}
	for (;;) {
		size_t need;

		n = read(f->io.fd, f->tbuf + f->tlen, 2 + DNS_MSG_MAX - f->tlen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			try_next(f);
			return;
		}
		if (n == 0) {
			try_next(f);
			return;
		}
		f->tlen += (size_t)n;
		if (f->tlen < 2)
			continue;
		need = 2u + wire_get16(f->tbuf);
		if (f->tlen < need)
			continue;
		if (wire_check_reply(f->tbuf + 2, need - 2, f->qid, f->name, f->namelen, f->type)) {
			d->st.spoofed++;
			try_next(f);
			return;
		}
		handle_reply(f, f->tbuf + 2, need - 2);
		return;
	}
}

/* start_tcp - retry the current server over TCP after a truncated UDP reply */
static void start_tcp(struct dns_inflight *f)
{
	struct dns *d = f->d;
	struct sockaddr_storage ss;
	socklen_t sl = up_sockaddr(d, f->server, &ss);
	size_t qlen;
	int fd;

	close_try(f);
	f->tbuf = malloc(2 + DNS_MSG_MAX);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!f->tbuf || fd < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
		goto fail;
	f->qid = new_id(d);
	qlen = wire_build_query(f->tbuf + 2, f->qid, f->name, f->namelen, f->type,
				d->cfg.edns_udp_size);
	wire_put16(f->tbuf, (uint16_t)qlen);
	f->tlen = qlen + 2;
	f->tpos = 0;
	f->tcp = true;
	f->tcp_sent = false;
	if (vg_io_add(d->loop, &f->io, fd, EPOLLOUT, on_tcp, f) < 0)
		goto fail;
	d->st.upstream_queries++;
	d->st.upstream_tcp++;
	f->try_deadline = vg_loop_now(d->loop) + d->cfg.upstream_timeout_ms;
	if (arm_timer(f) < 0) {
		close_try(f);
		dns_finish(d, f, NULL, 0);
	}
	return;
fail:
	if (fd >= 0)
		close(fd);
	free(f->tbuf);
	f->tbuf = NULL;
	try_next(f);
}

/**
 * resolver_udp_reply() - a UDP datagram from the current server of @f
 * @f:		query with a UDP try in progress
 * @buf:	the datagram (may be d->rx)
 * @len:	its length
 *
 * A reply with the wrong ID or question is counted as spoofed and dropped;
 * a truncated one starts the TCP retry; anything else is stored, or moves on
 * to the next try when unusable. Split out of on_udp() so the fuzz target
 * can feed replies without a network.
 *
 * Return: 0 when the reply was taken (@f may have been released), -1 when
 *	   it was dropped (@f unchanged)
 */
int resolver_udp_reply(struct dns_inflight *f, const uint8_t *buf, size_t len)
{
	struct dns *d = f->d;

	if (wire_check_reply(buf, len, f->qid, f->name, f->namelen, f->type)) {
		d->st.spoofed++;
		return -1;
	}
	if (buf[2] & (DNS_FLAG_TC >> 8)) {
		start_tcp(f);
		return 0;
	}
	handle_reply(f, buf, len);
	return 0;
}

static void on_udp(void *arg, uint32_t events)
{
	struct dns_inflight *f = arg;
	struct dns *d = f->d;
	int i;

	(void)events;
	for (i = 0; i < 16; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(f->io.fd, d->rx, sizeof(d->rx), 0, (struct sockaddr *)&from,
				     &fl);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ICMP unreachable and the like (IP_RECVERR): next server */
			try_next(f);
			return;
		}
		if (!from_server(d, f->server, &from)) {
			d->st.spoofed++;
			continue;
		}
		if (resolver_udp_reply(f, d->rx, (size_t)n) == 0)
			return;
	}
}

/* send_udp - one UDP try to f->server; returns 0 or -1 */
static int send_udp(struct dns_inflight *f)
{
	struct dns *d = f->d;
	struct sockaddr_storage ss;
	socklen_t sl = up_sockaddr(d, f->server, &ss);
	uint8_t q[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	size_t qlen;
	int fd, one = 1;

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	f->qid = new_id(d);
	qlen = wire_build_query(q, f->qid, f->name, f->namelen, f->type, d->cfg.edns_udp_size);
	if (sendto(fd, q, qlen, 0, (struct sockaddr *)&ss, sl) < 0 ||
	    vg_io_add(d->loop, &f->io, fd, EPOLLIN, on_udp, f) < 0) {
		close(fd);
		return -1;
	}
	d->st.upstream_queries++;
	return 0;
}

/*
 * try_next - start the next try, or finish with failure when all are spent.
 * May call dns_finish(), after which @f is released.
 */
static void try_next(struct dns_inflight *f)
{
	struct dns *d = f->d;
	unsigned int total = d->cfg.upstream_attempts * (unsigned int)d->cfg.n_upstreams;

	close_try(f);
	while (f->tries < total) {
		f->server = (int)((d->up_pref + f->tries) % (unsigned int)d->cfg.n_upstreams);
		f->tries++;
		if (send_udp(f) < 0)
			continue;
		f->try_deadline = vg_loop_now(d->loop) + d->cfg.upstream_timeout_ms;
		if (arm_timer(f) < 0)
			break;
		return;
	}
	close_try(f);
	dns_finish(d, f, NULL, 0);
}

/**
 * resolver_go() - send the first try of a new query
 * @f:	query from resolver_start(), waiters attached
 *
 * On immediate failure the waiters are answered before this returns and @f
 * is released.
 */
void resolver_go(struct dns_inflight *f)
{
	try_next(f);
}

static void on_timer(void *arg)
{
	struct dns_inflight *f = arg;
	struct dns *d = f->d;
	uint64_t now = vg_loop_now(d->loop);

	if (!f->client_done && now >= f->start_ms + d->cfg.client_timeout_ms) {
		f->client_done = true;
		dns_client_timeout(d, f);
	}
	if (now >= f->try_deadline) {
		d->st.upstream_timeouts++;
		try_next(f);
		return;
	}
	if (arm_timer(f) < 0) {
		close_try(f);
		dns_finish(d, f, NULL, 0);
	}
}
