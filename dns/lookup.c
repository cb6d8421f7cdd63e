/* SPDX-License-Identifier: MIT */
/*
 * lookup.c - the forwarder's view of the DNS service: which addresses were
 * handed out for a name (dns_lookup_addrs) and asynchronous resolution of a
 * name to its A and AAAA addresses (dns_resolve, dns_resolve_cancel).
 *
 * dns_lookup_addrs() reads the static zone, the cache (entries expired less
 * than the grace ago, or in stale mode, still count) and the ring of kept
 * answers that recently left the cache. dns_resolve() answers from the zone
 * or fresh cache entries at once; otherwise each missing type becomes a
 * callback waiter of the one in-flight query for its key (dns_wait() in
 * dns.c, shared with guest queries), so a guest and the forwarder asking
 * for the same name cost one upstream query.
 *
 * Requests live in d->req, a fixed pool of cfg.max_resolves slots; a handle
 * is (generation << 32 | slot + 1), so a stale handle never cancels a later
 * request. A request holds a "setup reference" while its halves are being
 * started, so it cannot finish (and free its slot) before dns_resolve()
 * returns. This file calls into dns.c and zone.c; nothing calls back into
 * it except through the waiter callback it registers.
 */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static const uint16_t addr_types[2] = {DNS_TYPE_A, DNS_TYPE_AAAA};

/* add_addr - append @a unless already in @out; counts past @max */
static void add_addr(struct dns_addr *out, int max, int *n, int family, const uint8_t *a)
{
	struct dns_addr x = {.family = family};
	int i, lim = *n < max ? *n : max;

	memcpy(x.a, a, family == AF_INET ? 4 : 16);
	for (i = 0; i < lim; i++)
		if (dns_addr_equal(&out[i], &x))
			return;
	if (*n < max)
		out[*n] = x;
	(*n)++;
}

/* data_addrs_into - append the A or AAAA addresses of @data (after CNAMEs) */
static void data_addrs_into(struct dns *d, const struct dns_data *data, uint16_t type,
			    struct dns_addr *out, int max, int *n)
{
	uint8_t buf[32 * 16];
	int k, cnt = wire_data_addrs(data, type, d->scratch, buf, 32);

	for (k = 0; k < cnt && k < 32; k++)
		add_addr(out, max, n, type == DNS_TYPE_A ? AF_INET : AF_INET6,
			 buf + (size_t)k * (type == DNS_TYPE_A ? 4 : 16));
}

int dns_lookup_addrs(struct dns *d, const char *name, uint64_t grace_ms, struct dns_addr *out,
		     int max)
{
	uint8_t key[DNS_NAME_MAX];
	int len = wire_name_from_text(name, key), n = 0, t;
	uint64_t now = vg_loop_now(d->loop), hn;
	uint32_t i;

	if (len < 0)
		return -EINVAL;
	if (max < 0)
		max = 0;
	zone_addrs(d, key, (size_t)len, out, max, &n);
	hn = wire_hash_name(d->seed, key, (size_t)len);
	for (t = 0; t < 2; t++) {
		struct cache_entry *e = cache_peek(&d->cache, key, (size_t)len, addr_types[t],
						   wire_hash_key(hn, addr_types[t]));

		if (!e || e->d->rcode != DNS_RCODE_NOERROR)
			continue;
		if (now > e->expire_ms + grace_ms && !(e->flags & CACHE_F_STALE))
			continue;
		data_addrs_into(d, e->d, addr_types[t], out, max, &n);
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

/* req_finish - free slot @ri and call its callback (unless cancelled) */
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

/* data_status - a stored answer as a dns_resolve_fn status */
static int data_status(const struct dns_data *data)
{
	if (!data || data->rcode == DNS_RCODE_SERVFAIL)
		return -EIO;
	return data->rcode == DNS_RCODE_NXDOMAIN ? -ENOENT : data->rcode ? -EIO : 0;
}

/* on_half - dns_waiter_fn of a request's A or AAAA half */
static void on_half(struct dns *d, uint32_t ri, const struct dns_data *data, uint16_t type)
{
	req_done(d, ri, data_status(data), data, type);
}

uint64_t dns_resolve(struct dns *d, const char *name, dns_resolve_fn cb, void *arg)
{
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
	if (zone_addrs(d, key, (size_t)len, sa, DNS_RESOLVE_MAX_ADDRS, &sn)) {
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
		uint16_t type = addr_types[t];
		uint32_t h = wire_hash_key(hn, type);
		struct cache_entry *e = cache_get(&d->cache, key, (size_t)len, type, h, now);
		struct dns_waiter w = {.kind = W_CALLBACK, .u.cb = {on_half, ri}};

		if (e && now < e->expire_ms) {
			d->st.hits++;
			r->pending++;
			req_done(d, ri, data_status(e->d), e->d, type);
			continue;
		}
		d->st.misses++;
		r->pending++;
		if (dns_wait(d, resolver_find(&d->res, key, (size_t)len, type, h), key, (size_t)len,
			     type, h, &w) < 0)
			req_done(d, ri, -ENOSPC, NULL, type);
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
