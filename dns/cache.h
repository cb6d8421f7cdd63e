/* SPDX-License-Identifier: MIT */
/*
 * cache.h - the DNS answer cache: a fixed pool of entries, a chained hash
 * table of entry indices and an intrusive doubly linked LRU list, so get,
 * put and remove are O(1). Modelled on unbound's util/storage/lruhash.h but
 * single-threaded and without locks.
 *
 * Key: (lower-case wire name, qkey); the class is always IN (the server
 * refuses other classes). The qkey is the query type plus DNS_KEY_CD for
 * queries with the CD bit: upstream validates (or not) as the client asked,
 * so a CD=1 answer (possibly bogus data, unchecked) never serves a CD=0
 * client and a CD=0 answer (SERVFAIL where upstream found it bogus) never
 * serves a CD=1 client; a CD query costs a second entry only when one is
 * made.
 *
 * DNSSEC and the DO bit: upstream is always asked with DO set, and the one
 * entry holds both what a DO client gets (the reply with its RRSIGs, and
 * NSEC/NSEC3 with their RRSIGs in negative answers) and, when the reply had
 * DNSSEC records, a second encoding without them for clients without DO
 * (struct dns_data in wire.h). So there is one entry per (name, type, CD)
 * for all clients, at up to twice the bytes for signed answers, which the
 * byte bound below counts like any data. The AD bit upstream set is kept
 * with the data and shown only to clients that set DO or AD.
 *
 * Each entry owns one struct dns_data, copied in on
 * put into exact-size slab storage (slab.h); the bytes held for data are
 * bounded by max_bytes (rounded up to whole slabs) and the entries by the
 * pool size fixed at init: when either is full, the least recently used
 * entries are evicted.
 *
 * Memory per entry: 40 bytes of entry, 4 bytes of hash bucket (load factor
 * <= 1) and the data block rounded up to 4 bytes, plus slab slack.
 *
 * Time is passed in by the caller (milliseconds, any epoch), so tests
 * control the clock. Expiry is lazy: an expired entry stays (for serve-stale)
 * until it is evicted, or until a get finds it more than stale_ms past expiry.
 *
 * Data leaving the cache (replaced, evicted, removed, flushed) is shown to
 * the retire callback first, which may copy it (the dns layer keeps
 * addresses of recent answers for the forwarder's grace period).
 */
#ifndef VGATE_DNS_CACHE_H
#define VGATE_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slab.h"
#include "wire.h"

#define CACHE_F_USED 0x01
#define CACHE_F_STALE 0x02   /* upstream failed: serve stale without waiting */
#define CACHE_F_RECHECK 0x04 /* @u holds the refresh time, not the TTL */

/**
 * struct cache_entry - one cached answer (pool element), 40 bytes
 * @hnext:	next index + 1 in the hash chain, 0 at the end
 * @prev:	LRU neighbour towards the head (more recent), index + 1
 * @next:	LRU neighbour towards the tail (older), index + 1
 * @hash:	wire_hash_key() of the key
 * @expire_ms:	when it expires
 * @d:		the answer (slab storage, owned); its name is the key name
 * @u:		@u.ttl_s, the TTL given at store time (after the cap), while
 *		CACHE_F_RECHECK is clear; @u.recheck, the earliest time of the
 *		next background refresh in ms after @expire_ms (saturated),
 *		once it is set. A refresh time is only set on an expired entry,
 *		and the TTL only matters while an entry is fresh; a put resets
 *		both. Use cache_ttl_s(), cache_set_recheck(), cache_recheck_due().
 * @type:	query type
 * @flags:	CACHE_F_*
 * @cd:		the key's DNS_KEY_CD bit: an answer to a CD query
 */
struct cache_entry {
	uint32_t hnext;
	uint32_t prev;
	uint32_t next;
	uint32_t hash;
	uint64_t expire_ms;
	struct dns_data *d;
	union {
		uint32_t ttl_s;
		uint32_t recheck;
	} u;
	uint16_t type;
	uint8_t flags;
	uint8_t cd;
};

_Static_assert(sizeof(struct cache_entry) <= 40, "cache entry grew");

/**
 * cache_ttl_s() - TTL the entry was stored with (0 once a refresh time is set)
 * @e:	entry
 *
 * Return: seconds
 */
static inline uint32_t cache_ttl_s(const struct cache_entry *e)
{
	return (e->flags & CACHE_F_RECHECK) ? 0 : e->u.ttl_s;
}

/**
 * cache_set_recheck() - set the earliest time of the next background refresh
 * @e:		entry, expired (@when >= @e->expire_ms; earlier is clamped)
 * @when:	time, ms
 */
static inline void cache_set_recheck(struct cache_entry *e, uint64_t when)
{
	uint64_t off = when > e->expire_ms ? when - e->expire_ms : 0;

	e->u.recheck = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
	e->flags |= CACHE_F_RECHECK;
}

/**
 * cache_recheck_due() - may a background refresh of @e start now?
 * @e:		entry
 * @now:	current time, ms
 *
 * Return: true when no refresh time is set or it has passed
 */
static inline bool cache_recheck_due(const struct cache_entry *e, uint64_t now)
{
	return !(e->flags & CACHE_F_RECHECK) || now >= e->expire_ms + e->u.recheck;
}

/**
 * cache_mark_stale() - upstream failed: serve @e stale and refresh from @when on
 * @e:		entry, expired
 * @when:	earliest time of the next refresh, ms
 */
static inline void cache_mark_stale(struct cache_entry *e, uint64_t when)
{
	e->flags |= CACHE_F_STALE;
	cache_set_recheck(e, when);
}

typedef void (*cache_retire_fn)(void *arg, struct cache_entry *e);

/**
 * struct dns_cache - the cache; embed it, then cache_init()
 * @pool:	capacity entries
 * @cap:	capacity
 * @buckets:	hash heads (index + 1), @nbuckets a power of two >= capacity
 *		(load factor <= 1: chains stay short, 4 bytes per entry)
 * @free_head:	free list through @hnext (index + 1) of released entries
 * @fresh:	entries handed out so far: @pool[@fresh..] were never used
 *		(taken in order, so an empty cache's pages stay untouched)
 * @lru_head:	most recently used (index + 1)
 * @lru_tail:	least recently used (index + 1)
 * @count:	entries in use
 * @data_bytes:	bytes held for data: slabs in use and large blocks
 * @slab:	storage of the data blocks, its budget is the byte bound
 * @stale_ms:	entries this long past expiry are dropped on get
 * @evictions:	LRU evictions so far
 * @expired:	entries dropped on get for being too old
 * @retire:	callback for data leaving the cache, or NULL
 * @retire_arg:	its argument
 */
struct dns_cache {
	struct cache_entry *pool;
	uint32_t cap;
	uint32_t *buckets;
	uint32_t nbuckets;
	uint32_t free_head;
	uint32_t fresh;
	uint32_t lru_head;
	uint32_t lru_tail;
	uint32_t count;
	size_t data_bytes;
	struct dns_slab slab;
	uint64_t stale_ms;
	uint64_t evictions;
	uint64_t expired;
	cache_retire_fn retire;
	void *retire_arg;
};

int cache_init(struct dns_cache *c, uint32_t capacity, size_t max_bytes, uint64_t stale_ms);
void cache_destroy(struct dns_cache *c);
struct cache_entry *cache_get(struct dns_cache *c, const uint8_t *name, size_t namelen,
			      uint32_t type, uint32_t hash, uint64_t now);
struct cache_entry *cache_peek(struct dns_cache *c, const uint8_t *name, size_t namelen,
			       uint32_t type, uint32_t hash);
struct cache_entry *cache_put(struct dns_cache *c, const struct dns_data *d, uint32_t type,
			      uint32_t hash, uint32_t ttl_s, uint64_t now);
void cache_remove(struct dns_cache *c, struct cache_entry *e);
void cache_flush(struct dns_cache *c);
size_t cache_bytes(const struct dns_cache *c);
size_t dns_data_size(const struct dns_data *d);

/**
 * dns_data_bytes() - exact size of a data block
 * @d:	block
 *
 * Return: bytes of header, name and RR data of both views
 */
static inline size_t dns_data_bytes(const struct dns_data *d)
{
	const uint8_t *p = d->bytes + d->namelen + d->len;

	return sizeof(*d) + d->namelen + d->len +
	       ((d->dflags & DATA_F_PLAIN) ? DNS_PLAIN_HDR + wire_get16(p) : 0);
}

/**
 * cache_first() - most recently used entry, for iteration
 * @c:	cache
 *
 * Return: entry or NULL
 */
static inline struct cache_entry *cache_first(struct dns_cache *c)
{
	return c->lru_head ? &c->pool[c->lru_head - 1] : NULL;
}

/**
 * cache_next() - next entry towards the LRU tail
 * @c:	cache
 * @e:	entry
 *
 * Return: entry or NULL
 */
static inline struct cache_entry *cache_next(struct dns_cache *c, struct cache_entry *e)
{
	return e->next ? &c->pool[e->next - 1] : NULL;
}

#endif /* VGATE_DNS_CACHE_H */
