/* SPDX-License-Identifier: MIT */
/*
 * zone.c - the static zone: the names vgate answers itself
 * (gateway.vgate.internal, host.vgate.internal, --dns-record and records
 * added at run time), their reverse (PTR) names, and the local zone suffix
 * under which every other name is NXDOMAIN without asking upstream; names
 * no static record holds are then tried in gvproxy's zones (gvzone.c).
 *
 * Records live in d->zone, a fixed array of DNS_MAX_RECORDS slots; each slot
 * keeps the lower-case wire name with its hash and the reverse name computed
 * once at zone_add(). Lookups are a linear scan (the zone is small and only
 * queried before the cache). This file builds answer sections but sends
 * nothing: zone_answer() fills a struct dns_data that dns.c sends, so the
 * zone depends only on wire.c.
 */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* ptr_name - the in-addr.arpa / ip6.arpa wire name of @a; Return: its length */
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

/**
 * zone_answer() - answer a query from the static records or the local zone
 * @d:		service
 * @q:		parsed query
 * @key:	its lower-case name
 * @hn:		wire_hash_name() of @key
 * @out:	for DNS_RCODE_NOERROR, the answer records (bytes[] holds only
 *		the RRs, namelen 0); room for DNS_BUF_SIZE bytes
 *
 * Records carry the TTL cap (cfg.max_ttl_s) as their TTL.
 *
 * Return: DNS_RCODE_NOERROR (possibly NODATA) or DNS_RCODE_NXDOMAIN (local
 *	   zone), or -ENOENT when the zone does not know the name
 */
int zone_answer(const struct dns *d, const struct dns_qinfo *q, const uint8_t *key, uint64_t hn,
		struct dns_data *out)
{
	uint8_t *rr = out->bytes;
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
				len += wire_put_rr(rr + len, DNS_TYPE_PTR, d->cfg.max_ttl_s,
						   z->name, z->namelen);
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
			len +=
			    wire_put_rr(rr + len, DNS_TYPE_A, d->cfg.max_ttl_s, z->rec.addr.a, 4);
			an++;
		} else if ((q->qtype == DNS_TYPE_AAAA || q->qtype == DNS_TYPE_ANY) &&
			   z->rec.addr.family == AF_INET6) {
			len += wire_put_rr(rr + len, DNS_TYPE_AAAA, d->cfg.max_ttl_s, z->rec.addr.a,
					   16);
			an++;
		}
	}
	if (!named) {
		int r = gvzone_answer(d, q, key, out);

		if (r != -ENOENT)
			return r;
		return in_local_zone(d, key, q->qnamelen) ? DNS_RCODE_NXDOMAIN : -ENOENT;
	}
	out->len = (uint16_t)len;
	out->an = (uint16_t)an;
	out->ns = out->ar = 0;
	out->ar_off = (uint16_t)len;
	out->rcode = 0;
	out->dflags = 0;
	out->ede = 0;
	out->namelen = 0; /* bytes[] holds only the RRs */
	return DNS_RCODE_NOERROR;
}

/**
 * zone_add() - add a static record
 * @d:		service
 * @name:	name, presentation format
 * @addr:	its address
 *
 * Return: 0, -EINVAL (bad name or family), -EEXIST, or -ENOSPC
 */
int zone_add(struct dns *d, const char *name, const struct dns_addr *addr)
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

/**
 * zone_addrs() - append the addresses of the static records of @key
 * @d:		service
 * @key:	lower-case wire name
 * @len:	its length
 * @out:	addresses; only the first @max are written
 * @max:	capacity of @out
 * @n:		count so far, incremented for every address (even past @max);
 *		records are unique, so nothing is deduplicated here
 *
 * Return: true when @key is a static name
 */
bool zone_addrs(const struct dns *d, const uint8_t *key, size_t len, struct dns_addr *out, int max,
		int *n)
{
	bool named = false;
	int i;

	for (i = 0; i < DNS_MAX_RECORDS; i++) {
		const struct dns_zrec *z = &d->zone[i];

		if (!z->used || z->namelen != len || memcmp(z->name, key, len))
			continue;
		named = true;
		if (*n < max) {
			struct dns_addr *o = &out[*n];

			memset(o, 0, sizeof(*o));
			o->family = z->rec.addr.family;
			memcpy(o->a, z->rec.addr.a, o->family == AF_INET ? 4 : 16);
		}
		(*n)++;
	}
	return named;
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
