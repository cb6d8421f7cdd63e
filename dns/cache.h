/* SPDX-License-Identifier: MIT */
/*
 * cache.h - the DNS answer cache: a fixed pool of entries, a chained hash
 * table of entry indices and an intrusive doubly linked LRU list, so get,
 * put and remove are O(1). Modelled on unbound's util/storage/lruhash.h but
 * single-threaded and without locks.
 *
 * Key: (lower-case wire name, type); the class is always IN (the server
 * refuses other classes). Each entry owns one struct dns_data (malloc'd by
 * the caller, handed over on put); the bytes of all data are bounded by
 * max_bytes and the entries by the pool size fixed at init: when either is
 * full, the least recently used entries are evicted.
 *
 * Time is passed in by the caller (milliseconds, any epoch), so tests
 * control the clock. Expiry is lazy: an expired entry stays (for serve-stale)
 * until it is evicted, or until a get finds it more than stale_ms past expiry.
 *
 * Data leaving the cache (replaced, evicted, removed, flushed) goes to the
 * retire callback, which takes ownership (the dns layer keeps addresses of
 * recent answers for the forwarder's grace period), or is freed.
 */
#ifndef VGATE_DNS_CACHE_H
#define VGATE_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define CACHE_F_USED 0x01
#define CACHE_F_STALE 0x02 /* upstream failed: serve stale without waiting */

/**
 * struct cache_entry - one cached answer (pool element)
 * @hnext:	next index + 1 in the hash chain, 0 at the end
 * @prev:	LRU neighbour towards the head (more recent), index + 1
 * @next:	LRU neighbour towards the tail (older), index + 1
 * @hash:	wire_hash_key() of the key
 * @type:	query type
 * @flags:	CACHE_F_*
 * @ttl_s:	TTL given at store time (after the cap)
 * @expire_ms:	when it expires
 * @recheck_ms:	in CACHE_F_STALE mode, earliest time of the next refresh
 * @d:		the answer; its name is the key name
 */
struct cache_entry {
	uint32_t hnext;
	uint32_t prev;
	uint32_t next;
	uint32_t hash;
	uint16_t type;
	uint8_t flags;
	uint32_t ttl_s;
	uint64_t expire_ms;
	uint64_t recheck_ms;
	struct dns_data *d;
};

typedef void (*cache_retire_fn)(void *arg, struct cache_entry *e);

/**
 * struct dns_cache - the cache; embed it, then cache_init()
 * @pool:	capacity entries
 * @cap:	capacity
 * @buckets:	hash heads (index + 1), @nbuckets a power of two >= capacity
 *		(load factor <= 1: chains stay short, 4 bytes per entry)
 * @free_head:	free list through @hnext (index + 1)
 * @lru_head:	most recently used (index + 1)
 * @lru_tail:	least recently used (index + 1)
 * @count:	entries in use
 * @data_bytes:	bytes of data blocks in use
 * @max_bytes:	bound on @data_bytes
 * @stale_ms:	entries this long past expiry are dropped on get
 * @evictions:	LRU evictions so far
 * @expired:	entries dropped on get for being too old
 * @retire:	callback for data leaving the cache, or NULL to free it
 * @retire_arg:	its argument
 */
struct dns_cache {
	struct cache_entry *pool;
	uint32_t cap;
	uint32_t *buckets;
	uint32_t nbuckets;
	uint32_t free_head;
	uint32_t lru_head;
	uint32_t lru_tail;
	uint32_t count;
	size_t data_bytes;
	size_t max_bytes;
	uint64_t stale_ms;
	uint64_t evictions;
	uint64_t expired;
	cache_retire_fn retire;
	void *retire_arg;
};

int cache_init(struct dns_cache *c, uint32_t capacity, size_t max_bytes, uint64_t stale_ms);
void cache_destroy(struct dns_cache *c);
struct cache_entry *cache_get(struct dns_cache *c, const uint8_t *name, size_t namelen,
			      uint16_t type, uint32_t hash, uint64_t now);
struct cache_entry *cache_peek(struct dns_cache *c, const uint8_t *name, size_t namelen,
			       uint16_t type, uint32_t hash);
struct cache_entry *cache_put(struct dns_cache *c, struct dns_data *d, uint16_t type,
			      uint32_t hash, uint32_t ttl_s, uint64_t now);
void cache_remove(struct dns_cache *c, struct cache_entry *e);
void cache_flush(struct dns_cache *c);
size_t cache_bytes(const struct dns_cache *c);
size_t dns_data_size(const struct dns_data *d);

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
