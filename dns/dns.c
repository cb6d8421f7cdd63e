/* SPDX-License-Identifier: MIT */
/*
 * dns.c - the guest DNS server: query path, static zone, cache policy
 * (hits, prefetch, serve-stale, negative and failure caching), waiters of
 * in-flight queries, and the forwarder's lookup API.
 *
 * Query path (dns_query_in): parse strictly (wire.c) -> static records and
 * the local zone -> name filter -> cache. A fresh entry is a hit, answered
 * at once with its remaining TTL; past half its TTL it also starts a
 * background refresh (prefetch). An expired entry in "stale mode" (upstream
 * failed recently) is answered at once with TTL = the cap and refreshed in
 * the background at most once per fail_ttl. Anything else is a miss: the
 * query becomes a waiter of the one in-flight upstream query for its key.
 *
 * When an upstream query completes (dns_finish), the cache is updated and
 * every waiter is answered from the one reply, each with its own ID, EDNS
 * size, protocol and qname case. On failure, waiters get the stale entry if
 * there is one (and the entry enters stale mode), else SERVFAIL, which is
 * cached for fail_ttl. Waiters are detached and the in-flight slot released
 * before any callback runs, so callbacks may call back into dns.
 *
 * Answers leaving the cache are kept in a bounded ring for addr_keep_ms so
 * dns_lookup_addrs() can still vouch for addresses handed out just before a
 * refresh or eviction.
 */
#include "internal.h"
#include "msg.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/**
 * dns_rand() - random bytes from a getrandom() pool kept in @d
 * @d:		service
 * @buf:	destination
 * @len:	bytes (at most sizeof(d->rnd))
 */
void dns_rand(struct dns *d, void *buf, size_t len)
{
	if (d->rnd_pos + len > sizeof(d->rnd)) {
		size_t got = 0;

		while (got < sizeof(d->rnd)) {
			ssize_t n = getrandom(d->rnd + got, sizeof(d->rnd) - got, 0);

			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				break;
			}
			got += (size_t)n;
		}
		d->rnd_pos = 0;
	}
	memcpy(buf, d->rnd + d->rnd_pos, len);
	d->rnd_pos += (unsigned int)len;
}

/* ---- answers ---------------------------------------------------------- */

static void send_answer(struct dns *d, const struct dns_client *c, const struct dns_qinfo *q,
			int rcode, bool aa, const struct dns_data *data, uint32_t ttl)
{
	size_t limit = DNS_MSG_MAX, len;
	bool tc;

	if (c->proto != DNS_PROTO_TCP) {
		limit = DNS_UDP_MIN;
		if (q->edns) {
			limit = q->udp_size < d->cfg.edns_udp_size ? q->udp_size
								   : d->cfg.edns_udp_size;
			if (limit < DNS_UDP_MIN)
				limit = DNS_UDP_MIN;
		}
	}
	len = wire_build_answer(d->out, q, d->cfg.edns_udp_size, rcode, aa, data, ttl, limit, &tc);
	if (tc)
		d->st.truncated++;
	if ((rcode & 0xf) == DNS_RCODE_SERVFAIL)
		d->st.servfail_answers++;
	d->answer(d->answer_ctx, c, d->out, len);
}

static uint32_t remaining_s(uint64_t expire, uint64_t now)
{
	return expire > now ? (uint32_t)((expire - now + 999) / 1000) : 0;
}

/* ---- static records and local zone ------------------------------------ */

static int ptr_name(const struct dns_addr *a, uint8_t *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int i;

	if (a->family == AF_INET) {
		for (i = 3; i >= 0; i--) {
			char t[4];
			int n = 0, v = a->a[i];

			if (v >= 100)
				t[n++] = (char)('0' + v / 100);
			if (v >= 10)
				t[n++] = (char)('0' + (v / 10) % 10);
			t[n++] = (char)('0' + v % 10);
			out[o++] = (uint8_t)n;
			memcpy(out + o, t, (size_t)n);
			o += (size_t)n;
		}
		memcpy(out + o, "\007in-addr\004arpa", 14);
		return (int)o + 14;
	}
	for (i = 15; i >= 0; i--) {
		out[o++] = 1;
		out[o++] = (uint8_t)hex[a->a[i] & 0xf];
		out[o++] = 1;
		out[o++] = (uint8_t)hex[a->a[i] >> 4];
	}
	memcpy(out + o, "\003ip6\004arpa", 10);
	return (int)o + 10;
}

static bool in_local_zone(const struct dns *d, const uint8_t *name, size_t len)
{
	size_t o = 0, zl = (size_t)d->local_zone_len;

	if (!zl)
		return false;
	while (o < len && name[o]) {
		if (len - o == zl)
			return !memcmp(name + o, d->local_zone, zl);
		if (len - o < zl)
			return false;
		o += 1u + name[o];
	}
	return false;
}

/* rr_append - append one record with a pointer to the question name */
static size_t rr_append(uint8_t *p, uint16_t type, uint32_t ttl, const uint8_t *rdata,
			uint16_t rdlen)
{
	p[0] = 0xc0;
	p[1] = DNS_HDR_LEN;
	wire_put16(p + 2, type);
	wire_put16(p + 4, DNS_CLASS_IN);
	wire_put32(p + 6, ttl);
	wire_put16(p + 10, rdlen);
	memcpy(p + 12, rdata, rdlen);
	return 12u + rdlen;
}

/*
 * zone_answer - answer from static records or the local zone.
 * Return: true when answered.
 */
static bool zone_answer(struct dns *d, const struct dns_client *c, const struct dns_qinfo *q,
			const uint8_t *key, uint64_t hn)
{
	struct dns_data *data = (struct dns_data *)d->scratch;
	uint8_t *rr = data->bytes;
	size_t len = 0;
	bool named = false;
	int i, an = 0;

	for (i = 0; i < DNS_MAX_RECORDS; i++) {
		const struct dns_zrec *z = &d->zone[i];

		if (!z->used)
			continue;
		if (q->qtype == DNS_TYPE_PTR && z->ptrlen == q->qnamelen &&
		    !memcmp(z->ptr, key, z->ptrlen)) {
			named = true;
			if (len + 12 + z->namelen < DNS_MSG_MAX && an < 64) {
				len += rr_append(rr + len, DNS_TYPE_PTR, d->cfg.max_ttl_s, z->name,
						 z->namelen);
				an++;
			}
			continue;
		}
		if (z->hn != hn || z->namelen != q->qnamelen || memcmp(z->name, key, z->namelen))
			continue;
		named = true;
		if (an >= 64)
			continue;
		if ((q->qtype == DNS_TYPE_A || q->qtype == DNS_TYPE_ANY) &&
		    z->rec.addr.family == AF_INET) {
			len += rr_append(rr + len, DNS_TYPE_A, d->cfg.max_ttl_s, z->rec.addr.a, 4);
			an++;
		} else if ((q->qtype == DNS_TYPE_AAAA || q->qtype == DNS_TYPE_ANY) &&
			   z->rec.addr.family == AF_INET6) {
			len += rr_append(rr + len, DNS_TYPE_AAAA, d->cfg.max_ttl_s, z->rec.addr.a,
					 16);
			an++;
		}
	}
	if (!named) {
		if (!in_local_zone(d, key, q->qnamelen))
			return false;
		d->st.static_answers++;
		send_answer(d, c, q, DNS_RCODE_NXDOMAIN, true, NULL, 0);
		return true;
	}
	data->len = (uint16_t)len;
	data->an = (uint16_t)an;
	data->ns = data->ar = 0;
	data->ar_off = (uint16_t)len;
	data->rcode = 0;
	data->namelen = 0; /* bytes[] holds only the RRs */
	d->st.static_answers++;
	send_answer(d, c, q, DNS_RCODE_NOERROR, true, data, d->cfg.max_ttl_s);
	return true;
}

static int zone_add(struct dns *d, const char *name, const struct dns_addr *addr)
{
	uint8_t w[DNS_NAME_MAX];
	int n = wire_name_from_text(name, w), i, free_slot = -1;
	struct dns_zrec *z;


	if (n < 0 || (addr->family != AF_INET && addr->family != AF_INET6))
		return -EINVAL;
	for (i = 0; i < DNS_MAX_RECORDS; i++) {
		z = &d->zone[i];
		if (!z->used) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (z->namelen == n && !memcmp(z->name, w, (size_t)n) &&
		    z->rec.addr.family == addr->family &&
		    !memcmp(z->rec.addr.a, addr->a, addr->family == AF_INET ? 4 : 16))
			return -EEXIST;
	}
	if (free_slot < 0)
		return -ENOSPC;
	z = &d->zone[free_slot];
	memset(z, 0, sizeof(*z));
	z->namelen = (uint8_t)n;
	memcpy(z->name, w, (size_t)n);
	z->hn = wire_hash_name(d->seed, w, (size_t)n);
	z->ptrlen = (uint8_t)ptr_name(addr, z->ptr);
	wire_name_to_text(w, z->rec.name, sizeof(z->rec.name));
	z->rec.addr = *addr;
	z->used = true;
	return 0;
}

/* ---- waiters ------------------------------------------------------------ */

static bool waiter_add(struct dns *d, struct dns_inflight *f, int kind,
		       const struct dns_qinfo *q, const struct dns_client *c, uint32_t req)
{
	struct dns_waiter *w;
	uint32_t i;

	if (!d->w_free || f->nwait >= d->cfg.max_waiters_per_key)
		return false;
	i = d->w_free;
	w = &d->w[i - 1];
	d->w_free = w->next;
	memset(w, 0, sizeof(*w));
	w->kind = (uint8_t)kind;
	if (kind == W_GUEST) {
		unsigned int k;

		w->edns = q->edns;
		w->do_bit = q->do_bit;
		w->id = q->id;
		w->flags = q->flags;
		w->udp_size = q->udp_size;
		for (k = 0; k < q->qnamelen; k++)
			if (q->qname[k] >= 'A' && q->qname[k] <= 'Z')
				w->casemask[k >> 3] |= (uint8_t)(1u << (k & 7));
		w->u.c = *c;
	} else {
		w->u.req = req;
	}
	if (f->wtail)
		d->w[f->wtail - 1].next = i;
	else
		f->whead = i;
	f->wtail = i;
	f->nwait++;
	d->nwaiters++;
	return true;
}

static void req_done(struct dns *d, uint32_t ri, int status, const struct dns_data *data,
		     uint16_t type);

/* answer_waiter - answer one detached waiter from @data (NULL: SERVFAIL) */
static void answer_waiter(struct dns *d, const struct dns_waiter *w, const uint8_t *name,
			  size_t namelen, uint16_t type, const struct dns_data *data, uint32_t ttl)
{
	struct dns_qinfo q;
	unsigned int k;

	if (w->kind == W_RESOLVE) {
		int st = 0;

		if (!data || data->rcode == DNS_RCODE_SERVFAIL)
			st = -EIO;
		else if (data->rcode == DNS_RCODE_NXDOMAIN)
			st = -ENOENT;
		req_done(d, w->u.req, st, data, type);
		return;
	}
	q.id = w->id;
	q.flags = w->flags;
	memcpy(q.qname, name, namelen);
	for (k = 0; k < namelen; k++)
		if (w->casemask[k >> 3] & (1u << (k & 7)))
			q.qname[k] = (uint8_t)(q.qname[k] - 32);
	q.qnamelen = (uint8_t)namelen;
	q.qtype = type;
	q.qclass = DNS_CLASS_IN;
	q.edns = w->edns;
	q.do_bit = w->do_bit;
	q.udp_size = w->udp_size;
	q.has_question = true;
	if (!data)
		send_answer(d, &w->u.c, &q, DNS_RCODE_SERVFAIL, false, NULL, 0);
	else
		send_answer(d, &w->u.c, &q, data->rcode, false, data, ttl);
}

/*
 * answer_list - answer and free a detached waiter list. @data is a private
 * copy (or NULL), so callbacks may change the cache meanwhile.
 */
static void answer_list(struct dns *d, uint32_t head, const uint8_t *name, size_t namelen,
			uint16_t type, const struct dns_data *data, uint32_t ttl, bool stale)
{
	while (head) {
		struct dns_waiter w = d->w[head - 1];

		d->w[head - 1].next = d->w_free;
		d->w_free = head;
		d->nwaiters--;
		head = w.next;
		if (stale && w.kind == W_GUEST)
			d->st.stale_serves++;
		answer_waiter(d, &w, name, namelen, type, data, ttl);
	}
}

static struct dns_data *data_dup(const struct dns_data *s)
{
	size_t sz = sizeof(*s) + s->namelen + s->len;
	struct dns_data *c = malloc(sz);

	if (c)
		memcpy(c, s, sz);
	return c;
}

static bool usable_stale(const struct dns *d, const struct cache_entry *e, uint64_t now)
{
	return e && e->d->rcode != DNS_RCODE_SERVFAIL &&
	       now <= e->expire_ms + (uint64_t)d->cfg.stale_max_s * 1000u;
}

/**
 * dns_finish() - an upstream resolution ended: update the cache, release the
 * in-flight slot and answer its waiters
 * @d:		service
 * @f:		the query (released here)
 * @data:	stored answer (ownership taken), or NULL when upstream failed
 * @ttl:	its TTL
 */
void dns_finish(struct dns *d, struct dns_inflight *f, struct dns_data *data, uint32_t ttl)
{
	uint8_t name[DNS_NAME_MAX];
	size_t namelen = f->namelen;
	uint16_t type = f->type;
	uint32_t hash = f->hash, head = f->whead, ans_ttl = ttl;
	uint64_t now = vg_loop_now(d->loop);
	struct dns_data *ans = NULL;
	struct cache_entry *e;
	bool stale = false;

	memcpy(name, f->name, namelen);
	f->whead = f->wtail = f->nwait = 0;
	resolver_release(d, f);
	e = cache_peek(&d->cache, name, namelen, type, hash);
	if (data) {
		cache_put(&d->cache, data, type, hash, ttl, now);
		ans = data; /* the cache keeps its own copy */
	} else {
		d->st.upstream_failures++;
		if (e && now < e->expire_ms) {
			/* failed prefetch: the entry is still good */
			ans_ttl = remaining_s(e->expire_ms, now);
			ans = head ? data_dup(e->d) : NULL;
		} else if (usable_stale(d, e, now)) {
			cache_mark_stale(e, now + (uint64_t)d->cfg.fail_ttl_s * 1000u);
			ans_ttl = d->cfg.max_ttl_s;
			ans = head ? data_dup(e->d) : NULL;
			stale = true;
		} else {
			struct dns_data *sf = dns_data_new(name, namelen, DNS_RCODE_SERVFAIL, NULL, 0,
							   0, 0, 0, 0);

			if (sf)
				cache_put(&d->cache, sf, type, hash, d->cfg.fail_ttl_s, now);
			free(sf);
			ans = NULL;
		}
	}
	answer_list(d, head, name, namelen, type, ans, ans_ttl, stale);
	free(ans);
}

/**
 * dns_client_timeout() - the client-response time of @f passed: answer its
 * waiters from a stale entry if there is one; the query carries on
 * @d:	service
 * @f:	query (stays in flight)
 */
void dns_client_timeout(struct dns *d, struct dns_inflight *f)
{
	uint64_t now = vg_loop_now(d->loop);
	struct cache_entry *e = cache_peek(&d->cache, f->name, f->namelen, f->type, f->hash);
	struct dns_data *copy;
	uint8_t name[DNS_NAME_MAX];
	uint32_t head;

	if (!f->whead || !usable_stale(d, e, now))
		return;
	copy = data_dup(e->d);
	if (!copy)
		return;
	memcpy(name, f->name, f->namelen);
	head = f->whead;
	f->whead = f->wtail = f->nwait = 0;
	answer_list(d, head, name, f->namelen, f->type, copy, d->cfg.max_ttl_s, true);
	free(copy);
}

/* ---- query path ---------------------------------------------------------- */

static void start_refresh(struct dns *d, const uint8_t *key, size_t len, uint16_t type,
			  uint32_t h)
{
	struct dns_inflight *f;

	if (resolver_find(d, key, len, type, h))
		return;
	f = resolver_start(d, key, len, type, h);
	if (f)
		resolver_go(f);
}

/**
 * dns_query_in() - see dns.h
 * @d:		service
 * @c:		client
 * @msg:	query
 * @len:	its length
 */
void dns_query_in(struct dns *d, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	struct dns_qinfo q;
	uint8_t key[DNS_NAME_MAX];
	struct cache_entry *e;
	struct dns_inflight *f;
	uint64_t hn, now;
	uint32_t h;
	bool created = false;
	int r;

	d->st.queries++;
	r = wire_parse_query(msg, len, &q);
	if (r == WIRE_DROP) {
		d->st.malformed++;
		return;
	}
	if (r) {
		if (r == DNS_RCODE_NOTIMP)
			d->st.notimp++;
		else
			d->st.malformed++;
		send_answer(d, c, &q, r, false, NULL, 0);
		return;
	}
	if (q.qclass != DNS_CLASS_IN || q.qtype == DNS_TYPE_AXFR || q.qtype == DNS_TYPE_IXFR ||
	    q.qtype == DNS_TYPE_OPT) {
		d->st.notimp++;
		send_answer(d, c, &q, q.qclass != DNS_CLASS_IN ? DNS_RCODE_REFUSED : DNS_RCODE_NOTIMP,
			    false, NULL, 0);
		return;
	}
	wire_name_lower(q.qname, q.qnamelen, key);
	hn = wire_hash_name(d->seed, key, q.qnamelen);
	if (zone_answer(d, c, &q, key, hn))
		return;
	if (d->filter) {
		char text[DNS_NAME_TEXT_MAX];

		wire_name_to_text(key, text, sizeof(text));
		if (!d->filter(d->filter_ctx, text)) {
			d->st.filtered++;
			send_answer(d, c, &q, DNS_RCODE_NXDOMAIN, false, NULL, 0);
			return;
		}
	}
	h = wire_hash_key(hn, q.qtype);
	now = vg_loop_now(d->loop);
	e = cache_get(&d->cache, key, q.qnamelen, q.qtype, h, now);
	if (e && now < e->expire_ms) {
		struct dns_data *data = e->d;
		bool prefetch = data->rcode != DNS_RCODE_SERVFAIL &&
				(e->expire_ms - now) * 2 < (uint64_t)cache_ttl_s(e) * 1000u;

		d->st.hits++;
		send_answer(d, c, &q, data->rcode, false, data, remaining_s(e->expire_ms, now));
		if (prefetch && !resolver_find(d, key, q.qnamelen, q.qtype, h)) {
			f = resolver_start(d, key, q.qnamelen, q.qtype, h);
			if (f) {
				d->st.prefetches++;
				resolver_go(f);
			}
		}
		return;
	}
	f = resolver_find(d, key, q.qnamelen, q.qtype, h);
	if (usable_stale(d, e, now) && ((e->flags & CACHE_F_STALE) || (f && f->client_done))) {
		d->st.stale_serves++;
		send_answer(d, c, &q, e->d->rcode, false, e->d, d->cfg.max_ttl_s);
		if (!f && cache_recheck_due(e, now)) {
			cache_set_recheck(e, now + (uint64_t)d->cfg.fail_ttl_s * 1000u);
			start_refresh(d, key, q.qnamelen, q.qtype, h);
		}
		return;
	}
	d->st.misses++;
	if (!f) {
		f = resolver_start(d, key, q.qnamelen, q.qtype, h);
		created = true;
	}
	if (!f || !waiter_add(d, f, W_GUEST, &q, c, 0)) {
		if (f && created)
			resolver_release(d, f);
		d->st.dropped++;
		if (usable_stale(d, e, now)) {
			d->st.stale_serves++;
			send_answer(d, c, &q, e->d->rcode, false, e->d, d->cfg.max_ttl_s);
		} else {
			send_answer(d, c, &q, DNS_RCODE_SERVFAIL, false, NULL, 0);
		}
		return;
	}
	if (created)
		resolver_go(f);
}

/* ---- lifecycle ------------------------------------------------------------ */

static void kept_clear(struct dns *d)
{
	uint32_t i;

	if (!d->kept)
		return;
	for (i = 0; i < d->cfg.addr_keep_max; i++) {
		free(d->kept[i].d);
		d->kept[i].d = NULL;
	}
}

/* retire - data leaving the cache; keep a copy of recent positive A/AAAA answers */
static void retire(void *arg, struct cache_entry *e)
{
	struct dns *d = arg;
	struct dns_kept *k;
	struct dns_data *copy;

	if (!d->cfg.addr_keep_max || (e->type != DNS_TYPE_A && e->type != DNS_TYPE_AAAA) ||
	    e->d->rcode != DNS_RCODE_NOERROR || !e->d->an)
		return;
	copy = data_dup(e->d);
	if (!copy)
		return;
	k = &d->kept[d->kept_pos];
	free(k->d);
	k->d = copy;
	k->type = e->type;
	k->expire_ms = e->expire_ms;
	d->kept_pos = (d->kept_pos + 1) % d->cfg.addr_keep_max;
}

size_t dns_timers_needed(const struct dns_config *cfg)
{
	return cfg->max_inflight;
}

struct dns *dns_new(struct vg_loop *loop, const struct dns_config *cfg, dns_answer_fn answer,
		    void *ctx)
{
	struct dns *d;
	uint32_t i;
	int r, n;

	if (!loop || !cfg || !answer || !cfg->cache_size || !cfg->max_inflight ||
	    !cfg->max_waiters || !cfg->upstream_attempts || cfg->n_upstreams < 0 ||
	    cfg->n_upstreams > DNS_MAX_UPSTREAMS || cfg->n_records < 0 ||
	    cfg->n_records > DNS_MAX_CFG_RECORDS) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->loop = loop;
	d->cfg = *cfg;
	d->answer = answer;
	d->answer_ctx = ctx;
	d->rnd_pos = sizeof(d->rnd);
	dns_rand(d, &d->seed, sizeof(d->seed));
	r = cache_init(&d->cache, cfg->cache_size, cfg->cache_max_bytes,
		       (uint64_t)cfg->stale_max_s * 1000u);
	if (r < 0)
		goto fail;
	d->cache.retire = retire;
	d->cache.retire_arg = d;
	d->w = calloc(cfg->max_waiters, sizeof(*d->w));
	d->req = calloc(cfg->max_resolves ? cfg->max_resolves : 1, sizeof(*d->req));
	d->nreq = cfg->max_resolves;
	d->kept = calloc(cfg->addr_keep_max ? cfg->addr_keep_max : 1, sizeof(*d->kept));
	d->zone = calloc(DNS_MAX_RECORDS, sizeof(*d->zone));
	if (!d->w || !d->req || !d->kept || !d->zone) {
		r = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < cfg->max_waiters; i++)
		d->w[i].next = i + 2 <= cfg->max_waiters ? i + 2 : 0;
	d->w_free = 1;
	if (cfg->local_zone[0]) {
		n = wire_name_from_text(cfg->local_zone, d->local_zone);
		if (n < 0) {
			r = -EINVAL;
			goto fail;
		}
		d->local_zone_len = n;
	}
	for (n = 0; n < cfg->n_records; n++) {
		r = zone_add(d, cfg->records[n].name, &cfg->records[n].addr);
		if (r < 0 && r != -EEXIST)
			goto fail;
	}
	r = resolver_init(d);
	if (r < 0)
		goto fail;
	return d;
fail:
	dns_free(d);
	errno = -r;
	return NULL;
}

void dns_free(struct dns *d)
{
	if (!d)
		return;
	resolver_free(d);
	if (d->cache.pool)
		cache_destroy(&d->cache);
	kept_clear(d);
	free(d->kept);
	free(d->w);
	free(d->req);
	free(d->zone);
	free(d);
}

void dns_set_filter(struct dns *d, bool (*allowed)(void *ctx, const char *name), void *ctx)
{
	d->filter = allowed;
	d->filter_ctx = ctx;
}

int dns_add_record(struct dns *d, const char *name, const struct dns_addr *addr)
{
	return zone_add(d, name, addr);
}

int dns_remove_record(struct dns *d, const char *name, const struct dns_addr *addr)
{
	uint8_t w[DNS_NAME_MAX];
	int n = wire_name_from_text(name, w), i, removed = 0;

	if (n < 0)
		return 0;
	for (i = 0; i < DNS_MAX_RECORDS; i++) {
		struct dns_zrec *z = &d->zone[i];

		if (!z->used || z->namelen != n || memcmp(z->name, w, (size_t)n))
			continue;
		if (addr && (addr->family != z->rec.addr.family ||
			     memcmp(addr->a, z->rec.addr.a, addr->family == AF_INET ? 4 : 16)))
			continue;
		z->used = false;
		removed++;
	}
	return removed;
}

void dns_list_records(struct dns *d, void (*fn)(void *ctx, const struct dns_record *r), void *ctx)
{
	int i;

	for (i = 0; i < DNS_MAX_RECORDS; i++)
		if (d->zone[i].used)
			fn(ctx, &d->zone[i].rec);
}

void dns_get_stats(const struct dns *d, struct dns_stats *out)
{
	size_t kb = 0;
	uint32_t i;

	*out = d->st;
	out->evictions = d->cache.evictions;
	out->expired = d->cache.expired;
	out->entries = d->cache.count;
	for (i = 0; i < d->cfg.addr_keep_max; i++)
		if (d->kept[i].d)
			kb += dns_data_size(d->kept[i].d);
	out->bytes = cache_bytes(&d->cache) + kb;
	out->inflight = d->ninflight;
	out->waiters = d->nwaiters;
}

void dns_cache_foreach(struct dns *d, void (*fn)(void *ctx, const struct dns_cache_item *it),
		       void *ctx)
{
	uint64_t now = vg_loop_now(d->loop);
	struct cache_entry *e;

	for (e = cache_first(&d->cache); e; e = cache_next(&d->cache, e)) {
		char text[DNS_NAME_TEXT_MAX];
		struct dns_cache_item it;

		wire_name_to_text(dns_data_name(e->d), text, sizeof(text));
		it.name = text;
		it.type = e->type;
		it.rcode = e->d->rcode;
		it.negative = e->d->rcode != DNS_RCODE_NOERROR || !e->d->an;
		it.ttl_s = e->expire_ms > now ? (int64_t)remaining_s(e->expire_ms, now)
					      : -(int64_t)((now - e->expire_ms) / 1000u);
		it.ancount = e->d->an;
		fn(ctx, &it);
	}
}

void dns_cache_flush(struct dns *d)
{
	cache_flush(&d->cache);
	kept_clear(d);
}

/* ---- forwarder lookup API ------------------------------------------------ */

static void add_addr(struct dns_addr *out, int max, int *n, int family, const uint8_t *a)
{
	size_t al = family == AF_INET ? 4 : 16;
	int i, lim = *n < max ? *n : max;

	for (i = 0; i < lim; i++)
		if (out[i].family == family && !memcmp(out[i].a, a, al))
			return;
	if (*n < max) {
		memset(&out[*n], 0, sizeof(out[*n]));
		out[*n].family = family;
		memcpy(out[*n].a, a, al);
	}
	(*n)++;
}

static void data_addrs_into(struct dns *d, const struct dns_data *data, uint16_t type,
			    struct dns_addr *out, int max, int *n)
{
	uint8_t buf[32 * 16];
	int k, cnt = wire_data_addrs(data, type, d->scratch, buf, 32);

	for (k = 0; k < cnt && k < 32; k++)
		add_addr(out, max, n, type == DNS_TYPE_A ? AF_INET : AF_INET6,
			 buf + (size_t)k * (type == DNS_TYPE_A ? 4 : 16));
}

/* static_addrs - addresses of static records of @key; Return: true if named */
static bool static_addrs(struct dns *d, const uint8_t *key, size_t len, struct dns_addr *out,
			 int max, int *n)
{
	bool named = false;
	int i;

	for (i = 0; i < DNS_MAX_RECORDS; i++) {
		const struct dns_zrec *z = &d->zone[i];

		if (!z->used || z->namelen != len || memcmp(z->name, key, len))
			continue;
		named = true;
		add_addr(out, max, n, z->rec.addr.family, z->rec.addr.a);
	}
	return named;
}

int dns_lookup_addrs(struct dns *d, const char *name, uint64_t grace_ms, struct dns_addr *out,
		     int max)
{
	static const uint16_t types[2] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	uint8_t key[DNS_NAME_MAX];
	int len = wire_name_from_text(name, key), n = 0, t;
	uint64_t now = vg_loop_now(d->loop), hn;
	uint32_t i;

	if (len < 0)
		return -EINVAL;
	if (max < 0)
		max = 0;
	static_addrs(d, key, (size_t)len, out, max, &n);
	hn = wire_hash_name(d->seed, key, (size_t)len);
	for (t = 0; t < 2; t++) {
		struct cache_entry *e = cache_peek(&d->cache, key, (size_t)len, types[t],
						   wire_hash_key(hn, types[t]));

		if (!e || e->d->rcode != DNS_RCODE_NOERROR)
			continue;
		if (now > e->expire_ms + grace_ms && !(e->flags & CACHE_F_STALE))
			continue;
		data_addrs_into(d, e->d, types[t], out, max, &n);
	}
	for (i = 0; i < d->cfg.addr_keep_max; i++) {
		const struct dns_kept *k = &d->kept[i];

		if (!k->d || k->d->namelen != len || now > k->expire_ms + grace_ms ||
		    now > k->expire_ms + d->cfg.addr_keep_ms ||
		    memcmp(dns_data_name(k->d), key, (size_t)len))
			continue;
		data_addrs_into(d, k->d, k->type, out, max, &n);
	}
	return n;
}

static void req_finish(struct dns *d, uint32_t ri)
{
	struct dns_req *r = &d->req[ri];
	struct dns_addr addrs[DNS_RESOLVE_MAX_ADDRS];
	dns_resolve_fn cb = r->cb;
	void *arg = r->arg;
	int n = r->n < DNS_RESOLVE_MAX_ADDRS ? r->n : DNS_RESOLVE_MAX_ADDRS;
	int status = r->status;

	memcpy(addrs, r->addrs, sizeof(addrs[0]) * (size_t)n);
	r->used = false;
	if (cb)
		cb(arg, status, addrs, n);
}

/*
 * req_done - one half (or the setup reference) of a resolve request ended.
 * Status: a success of either half wins; else -ENOENT before -EIO/-ENOSPC.
 */
static void req_done(struct dns *d, uint32_t ri, int status, const struct dns_data *data,
		     uint16_t type)
{
	struct dns_req *r = &d->req[ri];

	if (data && data->rcode == DNS_RCODE_NOERROR)
		data_addrs_into(d, data, type, r->addrs, DNS_RESOLVE_MAX_ADDRS, &r->n);
	if (status == 0 || (r->status != 0 && status == -ENOENT))
		r->status = status;
	if (--r->pending == 0)
		req_finish(d, ri);
}

uint64_t dns_resolve(struct dns *d, const char *name, dns_resolve_fn cb, void *arg)
{
	static const uint16_t types[2] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	uint8_t key[DNS_NAME_MAX];
	int len = wire_name_from_text(name, key), t;
	uint64_t now = vg_loop_now(d->loop), hn;
	struct dns_req *r = NULL;
	uint32_t ri;
	struct dns_addr sa[DNS_RESOLVE_MAX_ADDRS];
	int sn = 0;

	if (len < 0) {
		cb(arg, -EINVAL, NULL, 0);
		return 0;
	}
	if (static_addrs(d, key, (size_t)len, sa, DNS_RESOLVE_MAX_ADDRS, &sn)) {
		cb(arg, 0, sa, sn < DNS_RESOLVE_MAX_ADDRS ? sn : DNS_RESOLVE_MAX_ADDRS);
		return 0;
	}
	for (ri = 0; ri < d->nreq; ri++) {
		if (!d->req[ri].used) {
			r = &d->req[ri];
			break;
		}
	}
	if (!r) {
		d->st.dropped++;
		cb(arg, -ENOSPC, NULL, 0);
		return 0;
	}
	r->used = true;
	r->gen++;
	r->cb = cb;
	r->arg = arg;
	r->n = 0;
	r->status = -EIO;
	r->pending = 1; /* setup reference */
	hn = wire_hash_name(d->seed, key, (size_t)len);
	for (t = 0; t < 2; t++) {
		uint32_t h = wire_hash_key(hn, types[t]);
		struct cache_entry *e = cache_get(&d->cache, key, (size_t)len, types[t], h, now);
		struct dns_inflight *f;
		bool created = false;

		if (e && now < e->expire_ms) {
			d->st.hits++;
			r->pending++;
			req_done(d, ri, e->d->rcode == DNS_RCODE_NOERROR ? 0
				 : e->d->rcode == DNS_RCODE_NXDOMAIN	  ? -ENOENT
									  : -EIO,
				 e->d, types[t]);
			continue;
		}
		d->st.misses++;
		f = resolver_find(d, key, (size_t)len, types[t], h);
		if (!f) {
			f = resolver_start(d, key, (size_t)len, types[t], h);
			created = true;
		}
		r->pending++;
		if (!f || !waiter_add(d, f, W_RESOLVE, NULL, NULL, ri)) {
			if (f && created)
				resolver_release(d, f);
			d->st.dropped++;
			req_done(d, ri, -ENOSPC, NULL, types[t]);
			continue;
		}
		if (created)
			resolver_go(f);
	}
	if (--r->pending == 0) {
		req_finish(d, ri);
		return 0;
	}
	return (uint64_t)r->gen << 32 | (ri + 1);
}

void dns_resolve_cancel(struct dns *d, uint64_t h)
{
	uint32_t ri = (uint32_t)h, gen = (uint32_t)(h >> 32);

	if (!ri || ri > d->nreq)
		return;
	if (d->req[ri - 1].used && d->req[ri - 1].gen == gen)
		d->req[ri - 1].cb = NULL;
}
