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
 * flight; its completion answers it (answer_list())
 * @d:		service
 * @w:		the guest's waiter (copied)
 * @name:	lower-case wire name
 * @namelen:	its length
 * @neg_ttl:	the NODATA's TTL bound (its SOA minimum, or the cap)
 *
 * Return: true when @w was answered or queued; false when the caller
 *	   answers it with the NODATA (the cached A answer has no A record,
 *	   or the tables are full)
 */
static bool dns64_answer(struct dns *d, const struct dns_waiter *w, const uint8_t *name,
			 size_t namelen, uint32_t neg_ttl)
{
	uint64_t hn = wire_hash_name(d->seed, name, namelen), now = vg_loop_now(d->loop);
	uint32_t h = wire_hash_key(hn, DNS_TYPE_A), ttl;
	struct cache_entry *e = cache_get(&d->cache, name, namelen, DNS_TYPE_A, h, now);
	struct dns_waiter w64 = *w;

	if (e && now < e->expire_ms) {
		struct dns_data *syn = dns64_make(
		    d, name, namelen, e->d, remaining_s(e->expire_ms, now), neg_ttl, false, &ttl);

		if (!syn)
			return false;
		d->st.dns64_synth++;
		answer_waiter(d, w, name, namelen, DNS_TYPE_AAAA, syn, ttl, 0);
		free(syn);
		return true;
	}
	w64.dns64 = true;
	w64.neg_ttl = neg_ttl;
	return dns_wait(d, resolver_find(&d->res, name, namelen, DNS_TYPE_A, h), name, namelen,
			DNS_TYPE_A, h, &w64) == 0;
}

/*
 * answer_list - answer and free a detached waiter list. @data is a private
 * copy (or NULL), so callbacks may change the cache meanwhile. A stale
 * @data gets EDE Stale Answer, a failure (@data NULL) EDE @fail_ede.
 * With @divert (@data is an AAAA NODATA, DNS64 on), guest waiters go to
 * dns64_answer(); DNS64 waiters of an A query get the AAAA answer
 * synthesized (once) from @data.
 */
static void answer_list(struct dns *d, uint32_t head, const uint8_t *name, size_t namelen,
			uint16_t type, const struct dns_data *data, uint32_t ttl, bool stale,
			uint8_t fail_ede, bool divert)
{
	uint8_t ede = stale ? DNS_EDE_STALE : data ? 0 : fail_ede;
	uint32_t neg_ttl = data && data->ns ? ttl : d->cfg.max_ttl_s, syn_ttl = 0;
	struct dns_data *syn = NULL;
	bool syn_tried = false;

	while (head) {
		struct dns_waiter w = d->w[head - 1];

		d->w[head - 1].next = d->w_free;
		d->w_free = head;
		d->nwaiters--;
		head = w.next;
		if (divert && w.kind == W_GUEST && dns64_answer(d, &w, name, namelen, neg_ttl))
			continue;
		if (stale && w.kind == W_GUEST)
			d->st.stale_serves++;
		if (!w.dns64) {
			answer_waiter(d, &w, name, namelen, type, data, ttl, ede);
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

static struct dns_data *data_dup(const struct dns_data *s)
{
	size_t sz = dns_data_bytes(s);
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
	answer_list(d, head, name, namelen, type, ans, ans_ttl, stale, fail_ede,
		    data && head && dns64_want(d, type, f_cd) && dns64_nodata(data, d->scratch));
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
	answer_list(d, head, name, f->namelen, f->type, copy, d->cfg.max_ttl_s, true, 0, false);
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
	uint64_t hn, now;
	uint32_t h, kt;
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
	hn = wire_hash_name(d->seed, key, q.qnamelen);
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
	if (d->filter) {
		char text[DNS_NAME_TEXT_MAX];

		wire_name_to_text(key, text, sizeof(text));
		if (!d->filter(d->filter_ctx, text)) {
			d->st.filtered++;
			send_answer(d, c, &q, DNS_RCODE_NXDOMAIN, false, NULL, 0, DNS_EDE_BLOCKED);
			return;
		}
	}
	kt = q.qtype | ((q.flags & DNS_FLAG_CD) ? DNS_KEY_CD : 0);
	h = wire_hash_key(hn, kt);
	now = vg_loop_now(d->loop);
	e = cache_get(&d->cache, key, q.qnamelen, kt, h, now);
	if (e && now < e->expire_ms && dns64_want(d, q.qtype, (q.flags & DNS_FLAG_CD) != 0) &&
	    dns64_nodata(e->d, d->scratch)) {
		guest_waiter(&w, &q, c);
		if (dns64_answer(d, &w, key, q.qnamelen,
				 e->d->ns ? remaining_s(e->expire_ms, now) : d->cfg.max_ttl_s)) {
			d->st.hits++;
			return;
		}
	}
	if (e && now < e->expire_ms) {
		struct dns_data *data = e->d;
		bool prefetch = data->rcode != DNS_RCODE_SERVFAIL &&
				(e->expire_ms - now) * 2 < (uint64_t)cache_ttl_s(e) * 1000u;

		d->st.hits++;
		if (data->dflags & DATA_F_SYNTH)
			d->st.dns64_synth++;
		send_answer(d, c, &q, data->rcode, false, data, remaining_s(e->expire_ms, now), 0);
		if (prefetch && start_refresh(d, key, q.qnamelen, kt, h))
			d->st.prefetches++;
		return;
	}
	f = resolver_find(&d->res, key, q.qnamelen, kt, h);
	if (usable_stale(d, e, now) && ((e->flags & CACHE_F_STALE) || (f && f->client_done))) {
		d->st.stale_serves++;
		send_answer(d, c, &q, e->d->rcode, false, e->d, d->cfg.max_ttl_s, DNS_EDE_STALE);
		if (!f && cache_recheck_due(e, now)) {
			cache_set_recheck(e, now + (uint64_t)d->cfg.fail_ttl_s * 1000u);
			start_refresh(d, key, q.qnamelen, kt, h);
		}
		return;
	}
	d->st.misses++;
	guest_waiter(&w, &q, c);
	if (dns_wait(d, f, key, q.qnamelen, kt, h, &w) < 0) {
		/* tables full: the stale entry if there is one, else SERVFAIL */
		if (usable_stale(d, e, now)) {
			d->st.stale_serves++;
			send_answer(d, c, &q, e->d->rcode, false, e->d, d->cfg.max_ttl_s,
				    DNS_EDE_STALE);
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
