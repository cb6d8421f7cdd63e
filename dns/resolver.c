/* SPDX-License-Identifier: MIT */
/*
 * resolver.c - upstream queries: one struct dns_inflight per key
 * (singleflight), each try on a fresh non-blocking socket.
 *
 * A resolution makes up to upstream_attempts rounds over its servers,
 * starting with the server of that list that answered last. Its servers are
 * those of the split-DNS route whose domain is the longest suffix of the
 * name (dns_config_route()), else the default upstreams; a route is never
 * left for the defaults. The list is chosen again at every try, so a try
 * after dns_set_upstreams() goes to the new servers; the current try keeps
 * its own copy of its server (f->up) for the reply checks. Each try opens a new
 * unconnected UDP socket (so the kernel picks a fresh random source port),
 * sends a query with a fresh random ID, and accepts a datagram only if it
 * comes from that server's address and port and carries our ID and exactly
 * our question; anything else is dropped and counted in stats.spoofed. A
 * truncated (TC) reply is retried over TCP to the same server. SERVFAIL,
 * REFUSED and malformed replies, ICMP errors and timeouts move on to the next
 * try; when all tries are spent, the done callback gets no data, and
 * f->ede says why: DNS_EDE_NETWORK when some server replied but unusably,
 * DNS_EDE_NO_AUTHORITY when none replied at all.
 *
 * Every query goes with EDNS DO set (wire_build_query()), and with CD when
 * the key has DNS_KEY_CD, whatever else the guest's OPT held.
 *
 * The per-query timer fires at the earlier of the try deadline and the
 * client-response deadline (client_timeout_ms after the start), at which
 * point the client_timeout callback may answer the waiters from stale data
 * while the resolution carries on in the background.
 *
 * Completion and the client deadline go to the callbacks registered at
 * resolver_init() (resolver.h), so this file calls nothing in dns.c: it
 * depends only on the loop, wire.c, msg.c and rand.c. Time is the loop's
 * (vg_loop_now()), so a manual loop clock drives timeouts in tests.
 *
 * Per-server counters (r->ust) are indexed by list and position; a try
 * started before resolver_reconfigure() (f->gen) is not counted.
 *
 * Packets are only ever sent to the addresses of cfg.upstreams and
 * cfg.routes[].servers.
 */
#include "resolver.h"
#include "msg.h"
#include "rand.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void try_next(struct dns_inflight *f);

/* servers_of - the server list of @route (-1: the default upstreams) */
static const struct dns_upstream *servers_of(const struct dns_config *cfg, int route, int *n)
{
	if (route < 0 || route >= cfg->n_routes) {
		*n = cfg->n_upstreams;
		return cfg->upstreams;
	}
	*n = cfg->routes[route].n_servers;
	return cfg->routes[route].servers;
}

/* counters of the current try's server, NULL when it predates a reconfigure */
static struct dns_upstream_stats *try_stats(struct dns_inflight *f)
{
	struct dns_resolver *r = f->r;

	if (f->gen != r->gen || f->server < 0 || f->server >= DNS_MAX_UPSTREAMS)
		return NULL;
	return &r->ust[f->route + 1][f->server];
}

#define COUNT(f, field)                                                                            \
	do {                                                                                       \
		struct dns_upstream_stats *s_ = try_stats(f);                                      \
		if (s_)                                                                            \
			s_->field++;                                                               \
	} while (0)

/**
 * resolver_init() - set up @r and allocate the in-flight pool and its hash table
 * @r:			resolver to set up (zeroed by the caller)
 * @loop:		event loop
 * @cfg:		config (upstreams, timeouts, max_inflight); kept by pointer
 * @st:			counters to bump; kept by pointer
 * @rng:		random pool for query IDs; kept by pointer
 * @cb:			the owner's callbacks (copied)
 *
 * On failure the caller still calls resolver_free().
 *
 * Return: 0 or -ENOMEM
 */
int resolver_init(struct dns_resolver *r, struct vg_loop *loop, const struct dns_config *cfg,
		  struct dns_stats *st, struct dns_rng *rng, const struct resolver_cb *cb)
{
	uint32_t n = cfg->max_inflight, nb = 16;

	r->loop = loop;
	r->cfg = cfg;
	r->st = st;
	r->rng = rng;
	r->cb = *cb;

	while (nb < 2 * n)
		nb <<= 1;
	r->inf = calloc(n, sizeof(*r->inf));
	r->buckets = calloc(nb, sizeof(*r->buckets));
	if (!r->inf || !r->buckets)
		return -ENOMEM;
	r->nbuckets = nb;
	r->free = r->fresh = 0; /* slots are set up when first taken */
	return 0;
}

static void close_try(struct dns_inflight *f)
{
	if (f->io.fd >= 0) {
		int fd = f->io.fd;

		vg_io_del(f->r->loop, &f->io);
		close(fd);
		f->io.fd = -1;
	}
	free(f->tbuf);
	f->tbuf = NULL;
	f->tcp = false;
}

/**
 * resolver_free() - close every socket and free the tables; no callbacks
 * @r:	resolver
 */
void resolver_free(struct dns_resolver *r)
{
	uint32_t i;

	if (r->inf) {
		for (i = 0; i < r->cfg->max_inflight; i++) {
			if (!r->inf[i].used)
				continue;
			close_try(&r->inf[i]);
			vg_timer_stop(r->loop, &r->inf[i].timer);
		}
	}
	free(r->inf);
	free(r->buckets);
}

/**
 * resolver_find() - the in-flight query for a key
 * @r:		resolver
 * @name:	lower-case wire name
 * @namelen:	its length
 * @type:	qkey: type, plus DNS_KEY_CD for a CD query
 * @hash:	key hash
 *
 * Return: the query or NULL
 */
struct dns_inflight *resolver_find(struct dns_resolver *r, const uint8_t *name, size_t namelen,
				   uint32_t type, uint32_t hash)
{
	uint32_t i = r->buckets[hash & (r->nbuckets - 1)];
	bool cd = (type & DNS_KEY_CD) != 0;

	while (i) {
		struct dns_inflight *f = &r->inf[i - 1];

		if (f->hash == hash && f->type == DNS_KEY_TYPE(type) && f->cd == cd &&
		    f->namelen == namelen &&
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
 * @r:		resolver
 * @name:	lower-case wire name
 * @namelen:	its length
 * @type:	qkey: type, plus DNS_KEY_CD for a CD query
 * @hash:	key hash
 *
 * Return: the new query, or NULL when the table is full or there is no upstream
 */
struct dns_inflight *resolver_start(struct dns_resolver *r, const uint8_t *name, size_t namelen,
				    uint32_t type, uint32_t hash)
{
	struct dns_inflight *f;
	uint32_t *b;
	int route = dns_config_route(r->cfg, name, namelen), nsrv;

	servers_of(r->cfg, route, &nsrv);
	if (nsrv <= 0)
		return NULL;
	if (r->free) {
		f = &r->inf[r->free - 1];
		r->free = f->hnext;
	} else if (r->fresh < r->cfg->max_inflight) {
		f = &r->inf[r->fresh++];
		f->r = r;
	} else {
		return NULL;
	}
	b = &r->buckets[hash & (r->nbuckets - 1)];
	f->hnext = *b;
	*b = (uint32_t)(f - r->inf) + 1;
	f->hash = hash;
	f->type = DNS_KEY_TYPE(type);
	f->cd = (type & DNS_KEY_CD) != 0;
	f->got_reply = false;
	f->ede = 0;
	f->namelen = (uint8_t)namelen;
	memcpy(f->name, name, namelen);
	f->used = true;
	f->tcp = false;
	f->tcp_sent = false;
	f->client_done = false;
	f->whead = f->wtail = f->nwait = 0;
	f->tries = 0;
	f->route = route;
	f->server = -1;
	f->start_ms = vg_loop_now(r->loop);
	f->io.fd = -1;
	vg_timer_init(&f->timer, on_timer, f);
	r->ninflight++;
	return f;
}

/**
 * resolver_release() - free an in-flight slot (its waiters must be detached)
 * @r:	resolver
 * @f:	query
 */
void resolver_release(struct dns_resolver *r, struct dns_inflight *f)
{
	uint32_t *pp = &r->buckets[f->hash & (r->nbuckets - 1)];
	uint32_t i = (uint32_t)(f - r->inf) + 1;

	close_try(f);
	vg_timer_stop(r->loop, &f->timer);
	while (*pp && *pp != i)
		pp = &r->inf[*pp - 1].hnext;
	if (*pp)
		*pp = f->hnext;
	f->used = false;
	f->hnext = r->free;
	r->free = i;
	r->ninflight--;
}

static socklen_t up_sockaddr(const struct dns_upstream *u, struct sockaddr_storage *ss)
{
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

static bool from_server(const struct dns_upstream *u, const struct sockaddr_storage *from)
{
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
	struct dns_resolver *r = f->r;
	uint64_t now = vg_loop_now(r->loop), when = f->try_deadline;

	if (!f->client_done && f->start_ms + r->cfg->client_timeout_ms < when)
		when = f->start_ms + r->cfg->client_timeout_ms;
	return vg_timer_start(r->loop, &f->timer, when > now ? when - now : 0);
}

/* new_id - a random query ID; Return: 0 or -errno (no randomness: no query) */
static int new_id(struct dns_resolver *r, uint16_t *id)
{
	return dns_rand(r->rng, id, sizeof(*id));
}

/* try_failed - the current try got an error (socket, ICMP, bad TCP reply) */
static void try_failed(struct dns_inflight *f)
{
	COUNT(f, errors);
	try_next(f);
}

/* handle_reply - a reply that matched our query: store it or try the next server */
static void handle_reply(struct dns_inflight *f, const uint8_t *buf, size_t len)
{
	struct dns_resolver *r = f->r;
	struct dns_data *data = NULL;
	uint32_t ttl = 0;
	int rc = msg_from_reply(buf, len, f->name, f->namelen, f->type, r->cfg->max_ttl_s,
				r->cfg->fail_ttl_s, &data, &ttl);

	if (rc == MSG_OK) {
		COUNT(f, answers);
		if (f->gen == r->gen)
			r->up_pref[f->route + 1] = f->server;
		r->cb.done(r->cb.ctx, f, data, ttl);
		return;
	}
	r->st->upstream_bad++;
	COUNT(f, errors);
	f->got_reply = true;
	try_next(f);
}

static void on_tcp(void *arg, uint32_t events)
{
	struct dns_inflight *f = arg;
	struct dns_resolver *r = f->r;
	ssize_t n;

	if (!f->tcp_sent) {
		if (events & (EPOLLERR | EPOLLHUP)) {
			try_failed(f);
			return;
		}
		n = write(f->io.fd, f->tbuf + f->tpos, f->tlen - f->tpos);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				try_failed(f);
			return;
		}
		f->tpos += (size_t)n;
		if (f->tpos < f->tlen)
			return;
		f->tcp_sent = true;
		f->tlen = 0;
		if (vg_io_mod(r->loop, &f->io, EPOLLIN) < 0)
			try_failed(f);
		return;
	}
	for (;;) {
		size_t need;

		n = read(f->io.fd, f->tbuf + f->tlen, 2 + DNS_MSG_MAX - f->tlen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			try_failed(f);
			return;
		}
		if (n == 0) {
			try_failed(f);
			return;
		}
		f->tlen += (size_t)n;
		if (f->tlen < 2)
			continue;
		need = 2u + wire_get16(f->tbuf);
		if (f->tlen < need)
			continue;
		if (wire_check_reply(f->tbuf + 2, need - 2, f->qid, f->name, f->namelen, f->type)) {
			r->st->spoofed++;
			try_failed(f);
			return;
		}
		handle_reply(f, f->tbuf + 2, need - 2);
		return;
	}
}

/* start_tcp - retry the current server over TCP after a truncated UDP reply */
static void start_tcp(struct dns_inflight *f)
{
	struct dns_resolver *r = f->r;
	struct sockaddr_storage ss;
	socklen_t sl = up_sockaddr(&f->up, &ss);
	size_t qlen;
	int fd;

	close_try(f);
	f->tbuf = malloc(2 + DNS_MSG_MAX);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!f->tbuf || fd < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
		goto fail;
	if (new_id(r, &f->qid) < 0)
		goto fail;
	qlen = wire_build_query(f->tbuf + 2, f->qid, f->name, f->namelen, f->type,
				r->cfg->edns_udp_size, f->cd);
	wire_put16(f->tbuf, (uint16_t)qlen);
	f->tlen = qlen + 2;
	f->tpos = 0;
	f->tcp = true;
	f->tcp_sent = false;
	if (vg_io_add(r->loop, &f->io, fd, EPOLLOUT, on_tcp, f) < 0)
		goto fail;
	r->st->upstream_queries++;
	r->st->upstream_tcp++;
	COUNT(f, queries);
	f->try_deadline = vg_loop_now(r->loop) + r->cfg->upstream_timeout_ms;
	if (arm_timer(f) < 0) {
		close_try(f);
		r->cb.done(r->cb.ctx, f, NULL, 0);
	}
	return;
fail:
	if (fd >= 0)
		close(fd);
	free(f->tbuf);
	f->tbuf = NULL;
	try_failed(f);
}

/**
 * resolver_udp_reply() - a UDP datagram from the current server of @f
 * @f:		query with a UDP try in progress
 * @buf:	the datagram (may be r->rx)
 * @len:	its length
 *
 * A reply with the wrong ID or question is counted as spoofed and dropped;
 * a truncated one starts the TCP retry; anything else is stored, or moves on
 * to the next try when unusable. Split out of on_udp() so the fuzz target
 * can feed replies without a network.
 *
 * Return: 0 when the reply was taken (@f may have been released), -EBADMSG
 *	   when it was dropped (@f unchanged)
 */
int resolver_udp_reply(struct dns_inflight *f, const uint8_t *buf, size_t len)
{
	struct dns_resolver *r = f->r;

	if (wire_check_reply(buf, len, f->qid, f->name, f->namelen, f->type)) {
		r->st->spoofed++;
		return -EBADMSG;
	}
	if (buf[2] & (DNS_FLAG_TC >> 8)) {
		f->got_reply = true; /* a TCP failure now is a network error */
		start_tcp(f);
		return 0;
	}
	handle_reply(f, buf, len);
	return 0;
}

static void on_udp(void *arg, uint32_t events)
{
	struct dns_inflight *f = arg;
	struct dns_resolver *r = f->r;
	int i;

	(void)events;
	for (i = 0; i < 16; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n =
		    recvfrom(f->io.fd, r->rx, sizeof(r->rx), 0, (struct sockaddr *)&from, &fl);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ICMP unreachable and the like (IP_RECVERR): next server */
			try_failed(f);
			return;
		}
		if (!from_server(&f->up, &from)) {
			r->st->spoofed++;
			continue;
		}
		if (resolver_udp_reply(f, r->rx, (size_t)n) == 0)
			return;
	}
}

/* send_udp - one UDP try to f->server; Return: 0 or -errno */
static int send_udp(struct dns_inflight *f)
{
	struct dns_resolver *r = f->r;
	struct sockaddr_storage ss;
	socklen_t sl = up_sockaddr(&f->up, &ss);
	uint8_t q[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	size_t qlen;
	int fd, one = 1, e;

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * Best effort: IP_RECVERR turns an ICMP error into a failed try at once;
	 * without it the same try just ends at its timeout.
	 */
	if (ss.ss_family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	else
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	e = new_id(r, &f->qid);
	if (e < 0)
		goto fail;
	qlen = wire_build_query(q, f->qid, f->name, f->namelen, f->type, r->cfg->edns_udp_size,
				f->cd);
	if (sendto(fd, q, qlen, 0, (struct sockaddr *)&ss, sl) < 0) {
		e = -errno;
		goto fail;
	}
	e = vg_io_add(r->loop, &f->io, fd, EPOLLIN, on_udp, f);
	if (e < 0)
		goto fail;
	r->st->upstream_queries++;
	COUNT(f, queries);
	return 0;
fail:
	close(fd);
	return e;
}

/*
 * try_next - start the next try, or finish with failure when all are spent.
 * May call the done callback, which releases @f.
 */
static void try_next(struct dns_inflight *f)
{
	struct dns_resolver *r = f->r;
	int route = dns_config_route(r->cfg, f->name, f->namelen), n;
	const struct dns_upstream *sv = servers_of(r->cfg, route, &n);
	unsigned int total = r->cfg->upstream_attempts * (unsigned int)n;

	close_try(f);
	while (f->tries < total) {
		f->route = route;
		f->server =
		    (int)(((unsigned int)r->up_pref[route + 1] + f->tries) % (unsigned int)n);
		f->gen = r->gen;
		f->up = sv[f->server];
		f->tries++;
		if (send_udp(f) < 0)
			continue;
		f->try_deadline = vg_loop_now(r->loop) + r->cfg->upstream_timeout_ms;
		if (arm_timer(f) < 0)
			break;
		return;
	}
	close_try(f);
	f->ede = f->got_reply ? DNS_EDE_NETWORK : DNS_EDE_NO_AUTHORITY;
	r->cb.done(r->cb.ctx, f, NULL, 0);
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

static bool up_eq(const struct dns_upstream *a, const struct dns_upstream *b)
{
	return a->addr.family == b->addr.family && a->port == b->port &&
	       a->scope_id == b->scope_id &&
	       !memcmp(a->addr.a, b->addr.a, a->addr.family == AF_INET ? 4 : 16);
}

/**
 * resolver_reconfigure() - the upstream lists in r->cfg were replaced:
 * carry the counters of servers that stayed (same domain, address, port),
 * zero the others, and forget which server answered last
 * @r:		resolver (r->cfg already holds the new lists)
 * @old:	the config before the change
 */
void resolver_reconfigure(struct dns_resolver *r, const struct dns_config *old)
{
	struct dns_upstream_stats(*prev)[DNS_MAX_UPSTREAMS] = malloc(sizeof(r->ust));
	int l, i, ol, oi;

	if (prev)
		memcpy(prev, r->ust, sizeof(r->ust));
	memset(r->ust, 0, sizeof(r->ust));
	memset(r->up_pref, 0, sizeof(r->up_pref));
	r->gen++;
	for (l = -1; prev && l < r->cfg->n_routes; l++) {
		int n, on;
		const struct dns_upstream *sv = servers_of(r->cfg, l, &n);

		for (i = 0; i < n; i++) {
			for (ol = -1; ol < old->n_routes; ol++) {
				const struct dns_upstream *osv = servers_of(old, ol, &on);

				if ((l < 0) != (ol < 0) ||
				    (l >= 0 &&
				     strcmp(r->cfg->routes[l].domain, old->routes[ol].domain)))
					continue;
				for (oi = 0; oi < on; oi++) {
					if (up_eq(&osv[oi], &sv[i])) {
						r->ust[l + 1][i] = prev[ol + 1][oi];
						break;
					}
				}
			}
		}
	}
	free(prev);
}

static void on_timer(void *arg)
{
	struct dns_inflight *f = arg;
	struct dns_resolver *r = f->r;
	uint64_t now = vg_loop_now(r->loop);

	if (!f->client_done && now >= f->start_ms + r->cfg->client_timeout_ms) {
		f->client_done = true;
		r->cb.client_timeout(r->cb.ctx, f);
	}
	if (now >= f->try_deadline) {
		r->st->upstream_timeouts++;
		COUNT(f, timeouts);
		try_next(f);
		return;
	}
	if (arm_timer(f) < 0) {
		close_try(f);
		r->cb.done(r->cb.ctx, f, NULL, 0);
	}
}
