/* SPDX-License-Identifier: MIT */
/*
 * dns.c - the guest DNS server: query path, cache policy (hits, prefetch,
 * serve-stale, negative and failure caching), the waiters of in-flight
 * queries (singleflight), and the service's lifecycle and introspection.
 * The static zone is zone.c, the forwarder's lookup API lookup.c, the
 * upstream tries resolver.c.
 *
 * Query path (dns_query_in): parse strictly (wire.c) -> static records and
 * the local zone (zone.c) -> name filter -> cache. A fresh entry is a hit,
 * answered at once with its remaining TTL; past half its TTL it also starts
 * a background refresh (prefetch). An expired entry in "stale mode"
 * (upstream failed recently) is answered at once with TTL = the cap and
 * refreshed in the background at most once per fail_ttl. Anything else is a
 * miss: the query becomes a waiter of the one in-flight upstream query for
 * its key (dns_wait, also used by lookup.c for dns_resolve()).
 *
 * When an upstream query completes (dns_finish, the resolver's done
 * callback), the cache is updated and every waiter is answered from the one
 * reply, each with its own ID, EDNS size, protocol and qname case; callback
 * waiters get the answer data. On failure, waiters get the stale entry if
 * there is one (and the entry enters stale mode), else SERVFAIL, which is
 * cached for fail_ttl. Waiters are detached and the in-flight slot released
 * before any callback runs, so callbacks may call back into dns.
 *
 * DNSSEC and EDNS (cache.h has the storage side): the cache key carries the
 * query's CD bit (DNS_KEY_CD), the answer view follows DO, AD follows DO/AD
 * (wire.c). Answers vgate makes itself carry an Extended DNS Error for
 * EDNS clients: Blocked for names the filter refused, Stale Answer for
 * stale serves, No Reachable Authority / Network Error on SERVFAIL after
 * upstream failed (kept with the cached SERVFAIL, so its hits say it too).
 *
 * DNS64 (--nat64, dns64.c synthesizes): every answer a guest gets from
 * the cache or from upstream, fresh, prefetched or stale, passes through
 * respond() (serve() for answers given at once), so an AAAA NODATA is
 * synthesized from the A answer on each of those paths alike; a stale
 * NODATA from the A answer at hand (fresh or stale) without waiting for
 * upstream. A PTR query for an ip6.arpa name in 64:ff9b::/96 switches its
 * key to the in-addr.arpa name of the embedded IPv4 address (the static
 * zone, the filter, the cache and upstream then see that name as they see
 * any query), and respond() answers its waiter (ptr64) with a CNAME to
 * that name plus its answer, under the guest's own question.
 *
 * Answers leaving the cache are kept in a bounded ring for addr_keep_ms so
 * dns_lookup_addrs() can still vouch for addresses handed out just before a
 * refresh or eviction. All times are the loop's (vg_loop_now()).
 */
#include "internal.h"
#include "msg.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* ---- answers ---------------------------------------------------------- */

/**
 * ede_text() - the EXTRA-TEXT vgate sends with an Extended DNS Error
 * @code:	DNS_EDE_*
 *
 * Return: static text (at most DNS_EDE_TEXT_MAX bytes)
 */
static const char *ede_text(uint8_t code)
{
	switch (code) {
	case DNS_EDE_STALE:
		return "upstream failed; this answer has expired";
	case DNS_EDE_BLOCKED:
		return "name not on the vgate allowlist";
	case DNS_EDE_NO_AUTHORITY:
		return "no upstream DNS server replied";
	case DNS_EDE_NETWORK:
		return "upstream DNS servers sent no usable reply";
	default:
		return "";
	}
}

/**
 * send_answer() - build an answer to a guest query and hand it to the sink
 * @d:		service
 * @c:		client
 * @q:		the query
 * @rcode:	response code
 * @aa:		AA bit (static answers)
 * @data:	stored sections, or NULL
 * @ttl:	TTL for them
 * @ede:	DNS_EDE_* code to attach for EDNS clients, 0 for none (then a
 *		SERVFAIL @data's own code, if any, is used)
 */
static void send_answer(struct dns *d, const struct dns_client *c, const struct dns_qinfo *q,
			int rcode, bool aa, const struct dns_data *data, uint32_t ttl, uint8_t ede)
{
	size_t limit = DNS_MSG_MAX, len;
	struct wire_ede e;
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
	if (!ede && data)
		ede = data->ede;
	e.code = ede;
	e.text = ede_text(ede);
	if (ede && q->edns)
		d->st.ede_answers++;
	len = wire_build_answer(d->out, q, d->cfg.edns_udp_size, rcode, aa, data, ttl,
				ede ? &e : NULL, limit, &tc);
	if (tc)
		d->st.truncated++;
	if ((rcode & 0xf) == DNS_RCODE_SERVFAIL)
		d->st.servfail_answers++;
	if (d->answer)
		d->answer(d->answer_ctx, c, d->out, len);
}

static uint32_t remaining_s(uint64_t expire, uint64_t now)
{
	return expire > now ? (uint32_t)((expire - now + 999) / 1000) : 0;
}

/* ---- waiters ------------------------------------------------------------ */

/* guest_waiter - the waiter record of a guest query */
static void guest_waiter(struct dns_waiter *w, const struct dns_qinfo *q,
			 const struct dns_client *c)
{
	unsigned int k;

	memset(w, 0, sizeof(*w));
	w->kind = W_GUEST;
	w->edns = q->edns;
	w->do_bit = q->do_bit;
	w->id = q->id;
	w->flags = q->flags;
	w->udp_size = q->udp_size;
	for (k = 0; k < q->qnamelen; k++)
		if (q->qname[k] >= 'A' && q->qname[k] <= 'Z')
			w->casemask[k >> 3] |= (uint8_t)(1u << (k & 7));
	w->u.c = *c;
}

/* waiter_add - queue a copy of @tmpl on @f; Return: 0 or -ENOSPC */
static int waiter_add(struct dns *d, struct dns_inflight *f, const struct dns_waiter *tmpl)
{
	struct dns_waiter *w;
	uint32_t i;

	if (f->nwait >= d->cfg.max_waiters_per_key)
		return -ENOSPC;
	if (d->w_free) {
		i = d->w_free;
		w = &d->w[i - 1];
		d->w_free = w->next;
	} else if (d->w_fresh < d->cfg.max_waiters) {
		i = ++d->w_fresh;
		w = &d->w[i - 1];
	} else {
		return -ENOSPC;
	}
	*w = *tmpl;
	w->next = 0;
	if (f->wtail)
		d->w[f->wtail - 1].next = i;
	else
		f->whead = i;
	f->wtail = i;
	f->nwait++;
	d->nwaiters++;
	return 0;
}

/**
 * dns_wait() - make @w a waiter of the in-flight query for a key, starting
 * that query when there is none
 * @d:		service
 * @f:		the key's in-flight query (resolver_find()), or NULL
 * @key:	lower-case wire name
 * @len:	its length
 * @type:	qkey: query type, plus DNS_KEY_CD for a CD query
 * @h:		key hash
 * @w:		waiter to copy in
 *
 * A newly started query is sent before this returns, and may even fail and
 * answer @w at once.
 *
 * Return: 0, or -ENOSPC when the in-flight or waiter tables are full
 *	   (counted in stats.dropped; @w was not queued)
 */
int dns_wait(struct dns *d, struct dns_inflight *f, const uint8_t *key, size_t len, uint32_t type,
	     uint32_t h, const struct dns_waiter *w)
{
	bool created = false;

	if (!f) {
		f = resolver_start(&d->res, key, len, type, h);
		created = true;
	}
	if (!f || waiter_add(d, f, w) < 0) {
		if (f && created)
			resolver_release(&d->res, f);
		d->st.dropped++;
		return -ENOSPC;
	}
	if (created)
		resolver_go(f);
	return 0;
}

/*
 * answer_waiter - answer one detached waiter from @data (NULL: SERVFAIL),
 * with Extended DNS Error @ede (0: none)
 */
static void answer_waiter(struct dns *d, const struct dns_waiter *w, const uint8_t *name,
			  size_t namelen, uint16_t type, const struct dns_data *data, uint32_t ttl,
			  uint8_t ede)
{
	struct dns_qinfo q;
	unsigned int k;

	if (w->kind == W_CALLBACK) {
		w->u.cb.fn(d, w->u.cb.arg, data, type);
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
		send_answer(d, &w->u.c, &q, DNS_RCODE_SERVFAIL, false, NULL, 0, ede);
	else
		send_answer(d, &w->u.c, &q, data->rcode, false, data, ttl, ede);
}

/* data_dup - a private copy of stored answer @s, NULL on ENOMEM */
static struct dns_data *data_dup(const struct dns_data *s)
{
	size_t sz = dns_data_bytes(s);
	struct dns_data *c = malloc(sz);

	if (c)
		memcpy(c, s, sz);
	return c;
}

/* usable_stale - whether expired entry @e may still be served (RFC 8767) */
static bool usable_stale(const struct dns *d, const struct cache_entry *e, uint64_t now)
{
	return e && e->d->rcode != DNS_RCODE_SERVFAIL &&
	       now <= e->expire_ms + (uint64_t)d->cfg.stale_max_s * 1000u;
}

/* ---- DNS64 (RFC 6147) ------------------------------------------------------ */

/* dns64_want - whether a query of @type (CD bit @cd) gets DNS64 */
static bool dns64_want(const struct dns *d, uint16_t type, bool cd)
{
	return d->cfg.dns64 && type == DNS_TYPE_AAAA && !cd;
}

/**
 * dns64_make() - the synthesized AAAA answer of a name from its A answer,
 * cached (unless @stale) under the name's AAAA key in place of its NODATA
 * @d:		service
 * @name:	lower-case wire name
 * @namelen:	its length
 * @a:		the A answer
 * @a_ttl:	its TTL (remaining)
 * @neg_ttl:	the AAAA NODATA's TTL bound (its SOA minimum, or the cap)
 * @stale:	@a is a stale answer: do not cache the result
 * @ttl:	set to the TTL of the result
 *
 * Return: the answer (to free()), or NULL when @a has no A record
 */
static struct dns_data *dns64_make(struct dns *d, const uint8_t *name, size_t namelen,
				   const struct dns_data *a, uint32_t a_ttl, uint32_t neg_ttl,
				   bool stale, uint32_t *ttl)
{
	uint64_t hn = wire_hash_name(d->seed, name, namelen);
	struct dns_data *syn;
	struct dns_view v;

	if (a->rcode != DNS_RCODE_NOERROR || !a->an)
		return NULL;
	*ttl = a_ttl < neg_ttl ? a_ttl : neg_ttl;
	if (*ttl > d->cfg.max_ttl_s)
		*ttl = d->cfg.max_ttl_s;
	dns_data_view(a, true, &v);
	/* d->out is free here: no answer is being built */
	syn = dns64_synth(name, namelen, v.rr, v.len, v.an, *ttl, d->out);
	if (syn && !stale)
		(void)cache_put(&d->cache, syn, DNS_TYPE_AAAA, wire_hash_key(hn, DNS_TYPE_AAAA),
				*ttl, vg_loop_now(d->loop));
	return syn;
}

/**
 * dns64_nodata_answer() - answer a DNS64 waiter that got nothing to
 * synthesize (the A query failed or had no A record): the name's AAAA
 * NODATA from the cache, else an empty NOERROR
 * @d:		service
 * @w:		the waiter (a guest AAAA query)
 * @name:	lower-case wire name
 * @namelen:	its length
 */
static void dns64_nodata_answer(struct dns *d, const struct dns_waiter *w, const uint8_t *name,
				size_t namelen)
{
	static const struct dns_data empty;
	uint64_t hn = wire_hash_name(d->seed, name, namelen), now = vg_loop_now(d->loop);
	struct cache_entry *e =
	    cache_peek(&d->cache, name, namelen, DNS_TYPE_AAAA, wire_hash_key(hn, DNS_TYPE_AAAA));

	if (e && e->d->rcode == DNS_RCODE_NOERROR && now < e->expire_ms)
		answer_waiter(d, w, name, namelen, DNS_TYPE_AAAA, e->d,
			      remaining_s(e->expire_ms, now), 0);
	else
		answer_waiter(d, w, name, namelen, DNS_TYPE_AAAA, &empty, 0, 0);
}

/**
 * dns64_answer() - answer a guest AAAA query whose answer is NODATA by
 * DNS64: from the name's fresh A answer at once, else by queueing it (as
 * a DNS64 waiter) on the A query of the name, started when none is in
 * flight; its completion answers it (answer_list()). A stale NODATA (the
 * upstream is failing) is synthesized at once from the A answer, fresh or
 * stale, never queued; the answer is then stale too (not cached, EDE Stale
 * Answer)
 * @d:		service
 * @w:		the guest's waiter (copied)
 * @name:	lower-case wire name
 * @namelen:	its length
 * @neg_ttl:	the NODATA's TTL bound (its SOA minimum, or the cap)
 * @stale:	the NODATA is a stale answer
 *
 * Return: true when @w was answered or queued; false when the caller
 *	   answers it with the NODATA (the cached A answer has no A record,
 *	   a stale NODATA has no usable A answer, or the tables are full)
 */
static bool dns64_answer(struct dns *d, const struct dns_waiter *w, const uint8_t *name,
			 size_t namelen, uint32_t neg_ttl, bool stale)
{
	uint64_t hn = wire_hash_name(d->seed, name, namelen), now = vg_loop_now(d->loop);
	uint32_t h = wire_hash_key(hn, DNS_TYPE_A), ttl;
	struct cache_entry *e = cache_get(&d->cache, name, namelen, DNS_TYPE_A, h, now);
	struct dns_waiter w64 = *w;
	bool fresh = e && now < e->expire_ms;

	if (fresh || (stale && usable_stale(d, e, now))) {
		uint32_t a_ttl = fresh ? remaining_s(e->expire_ms, now) : d->cfg.max_ttl_s;
		struct dns_data *syn =
		    dns64_make(d, name, namelen, e->d, a_ttl, neg_ttl, stale || !fresh, &ttl);

		if (!syn)
			return false;
		d->st.dns64_synth++;
		answer_waiter(d, w, name, namelen, DNS_TYPE_AAAA, syn, ttl,
			      stale || !fresh ? DNS_EDE_STALE : 0);
		free(syn);
		return true;
	}
	if (stale)
		return false;
	w64.dns64 = true;
	w64.neg_ttl = neg_ttl;
	return dns_wait(d, resolver_find(&d->res, name, namelen, DNS_TYPE_A, h), name, namelen,
			DNS_TYPE_A, h, &w64) == 0;
}

/**
 * ptr64_respond() - answer a guest PTR query of an ip6.arpa name in the
 * NAT64 prefix (a ptr64 waiter) from the answer of its in-addr.arpa name:
 * a CNAME to that name plus the answer's records, its rcode kept
 * @d:		service
 * @w:		the waiter
 * @name:	the in-addr.arpa name (lower case)
 * @namelen:	its length
 * @data:	its PTR answer, NULL when upstream failed
 * @ttl:	TTL for the answer
 * @ede:	Extended DNS Error, 0 for none
 */
static void ptr64_respond(struct dns *d, const struct dns_waiter *w, const uint8_t *name,
			  size_t namelen, const struct dns_data *data, uint32_t ttl, uint8_t ede)
{
	uint8_t alias[DNS_NAME_MAX];
	size_t alen = dns64_ptr_alias(name, namelen, alias);
	struct dns_data *syn = NULL;
	struct dns_view v;

	if (!alen) { /* cannot happen: @name came from dns64_ptr_target() */
		d->st.dropped++;
		return;
	}
	if (data && data->rcode != DNS_RCODE_SERVFAIL) {
		dns_data_view(data, true, &v);
		/* d->out is free here: no answer is being built */
		syn = msg_alias(alias, alen, DNS_TYPE_PTR, name, namelen, data->rcode, &v, d->out);
	} else if (data) {
		syn = data_dup(data); /* a cached SERVFAIL, with its EDE */
	}
	answer_waiter(d, w, alias, alen, DNS_TYPE_PTR, syn, ttl, ede);
	free(syn);
}

/**
 * respond() - answer a waiter from the answer of its key, as cached or as
 * upstream sent it: the one place where those answers meet DNS64, whether
 * fresh, a prefetch's or stale. A guest AAAA query (DNS64 on, no CD)
 * whose answer is NODATA goes to dns64_answer(), a ptr64 waiter gets the
 * synthesized PTR answer; everything else is answered as it is
 * @d:		service
 * @w:		the waiter (detached, or built for a query answered at once)
 * @name:	lower-case wire name of the key
 * @namelen:	its length
 * @type:	the key's query type
 * @data:	the answer, or NULL (SERVFAIL)
 * @ttl:	its TTL
 * @ede:	Extended DNS Error, 0 for none
 * @stale:	@data is a stale answer
 */
static void respond(struct dns *d, const struct dns_waiter *w, const uint8_t *name, size_t namelen,
		    uint16_t type, const struct dns_data *data, uint32_t ttl, uint8_t ede,
		    bool stale)
{
	if (w->kind == W_GUEST && w->ptr64) {
		ptr64_respond(d, w, name, namelen, data, ttl, ede);
		return;
	}
	if (w->kind == W_GUEST && data && dns64_want(d, type, (w->flags & DNS_FLAG_CD) != 0) &&
	    dns64_nodata(data, d->scratch) &&
	    dns64_answer(d, w, name, namelen, data->ns ? ttl : d->cfg.max_ttl_s, stale))
		return;
	if (w->kind == W_GUEST && data && (data->dflags & DATA_F_SYNTH))
		d->st.dns64_synth++;
	answer_waiter(d, w, name, namelen, type, data, ttl, ede);
}

/*
 * answer_list - answer and free a detached waiter list. @data is a private
 * copy (or NULL), so callbacks may change the cache meanwhile. A stale
 * @data gets EDE Stale Answer, a failure (@data NULL) EDE @fail_ede.
 * Waiters go through respond() (DNS64 for AAAA NODATA and ptr64 waiters);
 * DNS64 waiters of an A query get the AAAA answer synthesized (once) from
 * @data.
 */
static void answer_list(struct dns *d, uint32_t head, const uint8_t *name, size_t namelen,
			uint16_t type, const struct dns_data *data, uint32_t ttl, bool stale,
			uint8_t fail_ede)
{
	uint8_t ede = stale ? DNS_EDE_STALE : data ? 0 : fail_ede;
	struct dns_data *syn = NULL;
	bool syn_tried = false;
	uint32_t syn_ttl = 0;

	while (head) {
		struct dns_waiter w = d->w[head - 1];

		d->w[head - 1].next = d->w_free;
		d->w_free = head;
		d->nwaiters--;
		head = w.next;
		if (stale && w.kind == W_GUEST)
			d->st.stale_serves++;
		if (!w.dns64) {
			respond(d, &w, name, namelen, type, data, ttl, ede, stale);
			continue;
		}
		if (!syn_tried && data)
			syn = dns64_make(d, name, namelen, data, ttl, w.neg_ttl, stale, &syn_ttl);
		syn_tried = true;
		if (!syn) {
			dns64_nodata_answer(d, &w, name, namelen);
			continue;
		}
		d->st.dns64_synth++;
		answer_waiter(d, &w, name, namelen, DNS_TYPE_AAAA, syn, syn_ttl, ede);
	}
	free(syn);
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
	uint8_t name[DNS_NAME_MAX], fail_ede = f->ede;
	size_t namelen = f->namelen;
	uint16_t type = f->type;
	bool f_cd = f->cd;
	uint32_t key = type | (f_cd ? DNS_KEY_CD : 0);
	uint32_t hash = f->hash, head = f->whead, ans_ttl = ttl;
	uint64_t now = vg_loop_now(d->loop);
	struct dns_data *ans = NULL;
	struct cache_entry *e;
	bool stale = false;

	memcpy(name, f->name, namelen);
	f->whead = f->wtail = f->nwait = 0;
	resolver_release(&d->res, f);
	e = cache_peek(&d->cache, name, namelen, key, hash);
	if (data) {
		/* a failed put only leaves the answer uncached; waiters still get it */
		(void)cache_put(&d->cache, data, key, hash, ttl, now);
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

			if (sf) {
				sf->ede = fail_ede;
				(void)cache_put(&d->cache, sf, key, hash, d->cfg.fail_ttl_s, now);
			}
			free(sf);
			ans = NULL;
		}
	}
	answer_list(d, head, name, namelen, type, ans, ans_ttl, stale, fail_ede);
	free(ans);
}

/**
 * client_timeout() - resolver_timeout_fn: the client-response time of @f
 * passed: answer its waiters from a stale entry if there is one; the query
 * carries on
 * @arg:	service
 * @f:		query (stays in flight)
 */
static void client_timeout(void *arg, struct dns_inflight *f)
{
	struct dns *d = arg;
	uint64_t now = vg_loop_now(d->loop);
	struct cache_entry *e = cache_peek(&d->cache, f->name, f->namelen,
					   f->type | (f->cd ? DNS_KEY_CD : 0), f->hash);
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
	answer_list(d, head, name, f->namelen, f->type, copy, d->cfg.max_ttl_s, true, 0);
	free(copy);
}

/* ---- query path ---------------------------------------------------------- */

/*
 * start_refresh - start a background query for a key (no waiters) unless one
 * is in flight. Return: true when one was started.
 */
static bool start_refresh(struct dns *d, const uint8_t *key, size_t len, uint32_t type, uint32_t h)
{
	struct dns_inflight *f;

	if (resolver_find(&d->res, key, len, type, h))
		return false;
	f = resolver_start(&d->res, key, len, type, h);
	if (!f)
		return false;
	resolver_go(f);
	return true;
}

/**
 * zone_dns64() - DNS64 for a static name without AAAA records: its A
 * records (static records, gvproxy zones) as synthesized AAAA, with the
 * cap as TTL, AA set; a name without A records too gets its empty answer
 * @d:		service
 * @c:		client
 * @q:		the guest's AAAA query
 * @key:	its lower-case name
 * @hn:		wire_hash_name() of @key
 */
static void zone_dns64(struct dns *d, const struct dns_client *c, const struct dns_qinfo *q,
		       const uint8_t *key, uint64_t hn)
{
	struct dns_data *zdata = (struct dns_data *)d->scratch, *syn = NULL;
	struct dns_qinfo qa = *q;

	qa.qtype = DNS_TYPE_A;
	if (zone_answer(d, &qa, key, hn, zdata) == DNS_RCODE_NOERROR && zdata->an)
		syn = dns64_synth(key, q->qnamelen, dns_data_rr(zdata), zdata->len, zdata->an,
				  d->cfg.max_ttl_s, d->out);
	if (syn)
		d->st.dns64_synth++;
	send_answer(d, c, q, DNS_RCODE_NOERROR, true, syn, d->cfg.max_ttl_s, 0);
	free(syn);
}

/**
 * blocked() - whether the name filter refuses @key; if so @q is answered
 * NXDOMAIN with EDE Blocked
 * @d:		service
 * @c:		client
 * @q:		the guest's query
 * @key:	lower-case wire name to judge (the query's, or the in-addr.arpa
 *		name a PTR is synthesized from)
 *
 * Return: true when @q was answered so
 */
static bool blocked(struct dns *d, const struct dns_client *c, const struct dns_qinfo *q,
		    const uint8_t *key)
{
	char text[DNS_NAME_TEXT_MAX];

	if (!d->filter)
		return false;
	wire_name_to_text(key, text, sizeof(text));
	if (d->filter(d->filter_ctx, text))
		return false;
	d->st.filtered++;
	send_answer(d, c, q, DNS_RCODE_NXDOMAIN, false, NULL, 0, DNS_EDE_BLOCKED);
	return true;
}

/**
 * ptr64_static() - PTR synthesis from the static zone: when in-addr.arpa
 * name @y is the reverse name of a static record (the gateway, the host
 * alias, --dns-record, gvproxy's zones) or in the local zone, @q is
 * answered at once (AA) with the CNAME to @y and those records
 * @d:		service
 * @c:		client
 * @q:		the guest's PTR query of an ip6.arpa name in the NAT64 prefix
 * @x:		its lower-case name
 * @y:		the in-addr.arpa name (dns64_ptr_target())
 * @ylen:	its length
 *
 * Return: true when @q was answered; false when the zone does not know @y
 */
static bool ptr64_static(struct dns *d, const struct dns_client *c, const struct dns_qinfo *q,
			 const uint8_t *x, const uint8_t *y, size_t ylen)
{
	struct dns_data *zdata = (struct dns_data *)d->scratch, *syn;
	struct dns_view v = {0};
	struct dns_qinfo qy = *q;
	int r;

	memcpy(qy.qname, y, ylen);
	qy.qnamelen = (uint8_t)ylen;
	r = zone_answer(d, &qy, y, wire_hash_name(d->seed, y, ylen), zdata);
	if (r < 0)
		return false;
	d->st.static_answers++;
	if (r == DNS_RCODE_NOERROR)
		dns_data_view(zdata, true, &v);
	/* d->out is free here: no answer is being built */
	syn = msg_alias(x, q->qnamelen, DNS_TYPE_PTR, y, ylen, r, &v, d->out);
	send_answer(d, c, q, syn ? r : DNS_RCODE_SERVFAIL, true, syn, d->cfg.max_ttl_s, 0);
	free(syn);
	return true;
}

/**
 * serve() - answer a guest query at once from the stored answer of its
 * key (a hit, or a stale answer): straight to the client, or through
 * respond() when DNS64 may apply (an AAAA query, or a synthesized PTR)
 * @d:		service
 * @c:		client
 * @q:		the query
 * @key:	lower-case wire name of the key (for @ptr64 the in-addr.arpa name)
 * @klen:	its length
 * @ptr64:	@q is a PTR query synthesized from the PTR answer of @key
 * @data:	the stored answer
 * @ttl:	its TTL
 * @stale:	@data is a stale answer (EDE Stale Answer)
 */
static void serve(struct dns *d, const struct dns_client *c, const struct dns_qinfo *q,
		  const uint8_t *key, size_t klen, bool ptr64, const struct dns_data *data,
		  uint32_t ttl, bool stale)
{
	uint8_t ede = stale ? DNS_EDE_STALE : 0;
	struct dns_waiter w;

	if (!ptr64 && !dns64_want(d, q->qtype, (q->flags & DNS_FLAG_CD) != 0)) {
		send_answer(d, c, q, data->rcode, false, data, ttl, ede);
		return;
	}
	guest_waiter(&w, q, c);
	w.ptr64 = ptr64;
	respond(d, &w, key, klen, q->qtype, data, ttl, ede, stale);
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
	struct dns_data *zdata = (struct dns_data *)d->scratch;
	struct dns_waiter w;
	bool ptr64 = false;
	uint64_t hn, now;
	uint32_t h, kt;
	size_t klen;
	int r;

	d->st.queries++;
	r = wire_parse_query(msg, len, &q);
	if (r == WIRE_DROP) {
		d->st.malformed++;
		return;
	}
	if (q.opt_cookie)
		d->st.edns_cookie++;
	if (q.opt_ecs)
		d->st.edns_ecs++;
	d->st.edns_other_opts += q.opt_other;
	if (r) {
		if (r == DNS_RCODE_NOTIMP)
			d->st.notimp++;
		else if (r == DNS_RCODE_BADVERS)
			d->st.badvers++;
		else
			d->st.malformed++;
		send_answer(d, c, &q, r, false, NULL, 0, 0);
		return;
	}
	if (q.do_bit)
		d->st.do_queries++;
	if (q.flags & DNS_FLAG_CD)
		d->st.cd_queries++;
	if (q.qclass != DNS_CLASS_IN || q.qtype == DNS_TYPE_AXFR || q.qtype == DNS_TYPE_IXFR ||
	    q.qtype == DNS_TYPE_OPT) {
		d->st.notimp++;
		send_answer(d, c, &q, q.qclass != DNS_CLASS_IN ? DNS_RCODE_REFUSED : DNS_RCODE_NOTIMP,
			    false, NULL, 0, 0);
		return;
	}
	wire_name_lower(q.qname, q.qnamelen, key);
	klen = q.qnamelen;
	hn = wire_hash_name(d->seed, key, klen);
	r = zone_answer(d, &q, key, hn, zdata);
	if (r == DNS_RCODE_NOERROR && !zdata->an &&
	    dns64_want(d, q.qtype, (q.flags & DNS_FLAG_CD) != 0)) {
		d->st.static_answers++;
		zone_dns64(d, c, &q, key, hn);
		return;
	}
	if (r >= 0) {
		d->st.static_answers++;
		if (r == DNS_RCODE_NOERROR)
			send_answer(d, c, &q, r, true, zdata, d->cfg.max_ttl_s, 0);
		else
			send_answer(d, c, &q, r, true, NULL, 0, 0);
		return;
	}
	if (blocked(d, c, &q, key))
		return;
	if (d->cfg.dns64 && q.qtype == DNS_TYPE_PTR && !(q.flags & DNS_FLAG_CD)) {
		/* PTR synthesis: from here on the key is the in-addr.arpa name */
		uint8_t y[DNS_NAME_MAX];
		size_t ylen = dns64_ptr_target(key, klen, y);

		if (ylen) {
			if (ptr64_static(d, c, &q, key, y, ylen) || blocked(d, c, &q, y))
				return;
			memcpy(key, y, ylen);
			klen = ylen;
			hn = wire_hash_name(d->seed, key, klen);
			ptr64 = true;
		}
	}
	kt = q.qtype | ((q.flags & DNS_FLAG_CD) ? DNS_KEY_CD : 0);
	h = wire_hash_key(hn, kt);
	now = vg_loop_now(d->loop);
	e = cache_get(&d->cache, key, klen, kt, h, now);
	if (e && now < e->expire_ms) {
		struct dns_data *data = e->d;
		bool prefetch = data->rcode != DNS_RCODE_SERVFAIL &&
				(e->expire_ms - now) * 2 < (uint64_t)cache_ttl_s(e) * 1000u;

		d->st.hits++;
		serve(d, c, &q, key, klen, ptr64, data, remaining_s(e->expire_ms, now), false);
		if (prefetch && start_refresh(d, key, klen, kt, h))
			d->st.prefetches++;
		return;
	}
	f = resolver_find(&d->res, key, klen, kt, h);
	if (usable_stale(d, e, now) && ((e->flags & CACHE_F_STALE) || (f && f->client_done))) {
		d->st.stale_serves++;
		serve(d, c, &q, key, klen, ptr64, e->d, d->cfg.max_ttl_s, true);
		if (!f && cache_recheck_due(e, now)) {
			cache_set_recheck(e, now + (uint64_t)d->cfg.fail_ttl_s * 1000u);
			start_refresh(d, key, klen, kt, h);
		}
		return;
	}
	d->st.misses++;
	guest_waiter(&w, &q, c);
	w.ptr64 = ptr64;
	if (dns_wait(d, f, key, klen, kt, h, &w) < 0) {
		/* tables full: the stale entry if there is one, else SERVFAIL */
		if (usable_stale(d, e, now)) {
			d->st.stale_serves++;
			serve(d, c, &q, key, klen, ptr64, e->d, d->cfg.max_ttl_s, true);
		} else {
			send_answer(d, c, &q, DNS_RCODE_SERVFAIL, false, NULL, 0, 0);
		}
	}
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

/* on_done - resolver_done_fn: an upstream resolution ended */
static void on_done(void *arg, struct dns_inflight *f, struct dns_data *data, uint32_t ttl)
{
	dns_finish(arg, f, data, ttl);
}

size_t dns_timers_needed(const struct dns_config *cfg)
{
	return cfg->max_inflight;
}

/* upstreams_ok - the upstream counts of @cfg are within their bounds */
static bool upstreams_ok(const struct dns_config *cfg)
{
	int i;

	if (!cfg->upstream_attempts || cfg->n_upstreams < 0 ||
	    cfg->n_upstreams > DNS_MAX_UPSTREAMS || cfg->n_routes < 0 ||
	    cfg->n_routes > DNS_MAX_DOMAINS)
		return false;
	for (i = 0; i < cfg->n_routes; i++) {
		const struct dns_domain_route *r = &cfg->routes[i];

		if (r->n_servers < 0 || r->n_servers > DNS_MAX_UPSTREAMS || r->wirelen < 2)
			return false;
	}
	return true;
}

int dns_set_upstreams(struct dns *d, const struct dns_config *src)
{
	struct dns_config *old;

	if (!upstreams_ok(src))
		return -EINVAL;
	old = malloc(sizeof(*old));
	if (!old)
		return -ENOMEM;
	*old = d->cfg;
	memcpy(d->cfg.upstreams, src->upstreams, sizeof(d->cfg.upstreams));
	d->cfg.n_upstreams = src->n_upstreams;
	memcpy(d->cfg.routes, src->routes, sizeof(d->cfg.routes));
	d->cfg.n_routes = src->n_routes;
	d->cfg.upstream_timeout_ms = src->upstream_timeout_ms;
	d->cfg.upstream_attempts = src->upstream_attempts;
	resolver_reconfigure(&d->res, old);
	free(old);
	return 0;
}

int dns_get_upstream_stats(const struct dns *d, struct dns_upstream_stats *out, int max)
{
	int l, i, n = 0;

	for (l = -1; l < d->cfg.n_routes; l++) {
		const struct dns_upstream *sv = l < 0 ? d->cfg.upstreams : d->cfg.routes[l].servers;
		int ns = l < 0 ? d->cfg.n_upstreams : d->cfg.routes[l].n_servers;

		for (i = 0; i < ns; i++, n++) {
			if (n >= max)
				continue;
			out[n] = d->res.ust[l + 1][i];
			out[n].domain = l < 0 ? "" : d->cfg.routes[l].domain;
			out[n].server = sv[i];
		}
	}
	return n;
}

struct dns *dns_new(struct vg_loop *loop, const struct dns_config *cfg, dns_answer_fn answer,
		    void *ctx)
{
	struct dns *d;
	int r, n;

	if (!loop || !cfg || !cfg->cache_size || !cfg->max_inflight || !cfg->max_waiters ||
	    !upstreams_ok(cfg) || cfg->n_records < 0 || cfg->n_records > DNS_MAX_CFG_RECORDS) {
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
	dns_rng_init(&d->rng);
	r = dns_rand(&d->rng, &d->seed, sizeof(d->seed));
	if (r < 0)
		goto fail;
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
	/* w_free and w_fresh 0: the waiters are taken in order, untouched till then */
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
	r = resolver_init(&d->res, loop, &d->cfg, &d->st, &d->rng,
			  &(struct resolver_cb){on_done, client_timeout, d});
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
	resolver_free(&d->res);
	if (d->cache.pool)
		cache_destroy(&d->cache);
	kept_clear(d);
	free(d->kept);
	free(d->w);
	free(d->req);
	free(d->zone);
	gvzone_free(d);
	free(d);
}

void dns_set_filter(struct dns *d, bool (*allowed)(void *ctx, const char *name), void *ctx)
{
	d->filter = allowed;
	d->filter_ctx = ctx;
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
	out->inflight = d->res.ninflight;
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
		it.cd = e->cd != 0;
		it.dnssec = (e->d->dflags & DATA_F_PLAIN) != 0;
		it.ad = (e->d->dflags & DATA_F_AD) != 0;
		fn(ctx, &it);
	}
}

void dns_cache_flush(struct dns *d)
{
	cache_flush(&d->cache);
	kept_clear(d);
}
