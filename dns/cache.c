/* SPDX-License-Identifier: MIT */
/*
 * cache.c - fixed-capacity LRU hash of DNS answers (see cache.h).
 *
 * Indices are stored + 1 so that 0 means "none"; the pool, the bucket
 * array and the slab arena are set up once in cache_init(). A put copies the
 * answer into an exact-size slab block; the slab allocator accounts whole
 * slabs and the heap footprint of large blocks, so cache_bytes() is what the
 * cache really holds.
 */
#include "cache.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/**
 * dns_data_size() - heap bytes used by a malloc'd data block
 * @d:	block from malloc
 *
 * Return: bytes, allocator overhead included
 */
size_t dns_data_size(const struct dns_data *d)
{
	return malloc_usable_size((void *)d) + sizeof(size_t);
}

/**
 * cache_init() - allocate the pool and the hash table
 * @c:		cache to set up
 * @capacity:	number of entries (>= 1)
 * @max_bytes:	bound on bytes held for data (rounded up to whole slabs)
 * @stale_ms:	how long past expiry entries are kept for serve-stale
 *
 * Return: 0, or -ENOMEM / -EINVAL
 */
int cache_init(struct dns_cache *c, uint32_t capacity, size_t max_bytes, uint64_t stale_ms)
{
	uint32_t nb = 16;

	memset(c, 0, sizeof(*c));
	if (capacity == 0 || capacity > (1u << 28))
		return -EINVAL;
	while (nb < capacity)
		nb <<= 1;
	c->pool = calloc(capacity, sizeof(*c->pool));
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (!c->pool || !c->buckets || slab_init(&c->slab, max_bytes) < 0) {
		free(c->pool);
		free(c->buckets);
		c->pool = NULL;
		c->buckets = NULL;
		return -ENOMEM;
	}
	c->cap = capacity;
	c->nbuckets = nb;
	c->stale_ms = stale_ms; /* free_head and fresh 0: the pool is taken in order */
	return 0;
}

static void release_data(struct dns_cache *c, struct cache_entry *e)
{
	if (!e->d)
		return;
	if (c->retire)
		c->retire(c->retire_arg, e);
	slab_free(&c->slab, e->d, dns_data_bytes(e->d));
	c->data_bytes = slab_bytes(&c->slab);
	e->d = NULL;
}

/**
 * cache_destroy() - free everything (data goes to retire as usual)
 * @c:	cache
 */
void cache_destroy(struct dns_cache *c)
{
	cache_flush(c);
	slab_destroy(&c->slab);
	free(c->pool);
	free(c->buckets);
	c->pool = NULL;
	c->buckets = NULL;
}

static inline uint32_t idx(const struct dns_cache *c, const struct cache_entry *e)
{
	return (uint32_t)(e - c->pool) + 1;
}

static void lru_unlink(struct dns_cache *c, struct cache_entry *e)
{
	if (e->prev)
		c->pool[e->prev - 1].next = e->next;
	else
		c->lru_head = e->next;
	if (e->next)
		c->pool[e->next - 1].prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = 0;
}

static void lru_push_front(struct dns_cache *c, struct cache_entry *e)
{
	uint32_t i = idx(c, e);

	e->prev = 0;
	e->next = c->lru_head;
	if (c->lru_head)
		c->pool[c->lru_head - 1].prev = i;
	else
		c->lru_tail = i;
	c->lru_head = i;
}

static struct cache_entry *lookup(struct dns_cache *c, const uint8_t *name, size_t namelen,
				  uint32_t type, uint32_t hash)
{
	uint32_t i = c->buckets[hash & (c->nbuckets - 1)];
	uint8_t cd = (type & DNS_KEY_CD) ? 1 : 0;

	while (i) {
		struct cache_entry *e = &c->pool[i - 1];

		if (e->hash == hash && e->type == DNS_KEY_TYPE(type) && e->cd == cd &&
		    e->d->namelen == namelen &&
		    !memcmp(dns_data_name(e->d), name, namelen))
			return e;
		i = e->hnext;
	}
	return NULL;
}

/* unhash - take @e out of its hash chain and return it to the free list */
static void unhash(struct dns_cache *c, struct cache_entry *e)
{
	uint32_t *pp = &c->buckets[e->hash & (c->nbuckets - 1)], i = idx(c, e);

	while (*pp && *pp != i)
		pp = &c->pool[*pp - 1].hnext;
	if (*pp)
		*pp = e->hnext;
	e->flags = 0;
	e->hnext = c->free_head;
	c->free_head = i;
	c->count--;
}

/**
 * cache_remove() - drop an entry, returning it to the pool
 * @c:	cache
 * @e:	entry in use
 */
void cache_remove(struct dns_cache *c, struct cache_entry *e)
{
	lru_unlink(c, e);
	release_data(c, e);
	unhash(c, e);
}

/**
 * cache_peek() - find an entry without touching the LRU order or expiry
 * @c:		cache
 * @name:	lower-case wire name
 * @namelen:	its length
 * @type:	qkey: type, plus DNS_KEY_CD for a CD query
 * @hash:	wire_hash_key() of (name, qkey)
 *
 * Return: entry or NULL
 */
struct cache_entry *cache_peek(struct dns_cache *c, const uint8_t *name, size_t namelen,
			       uint32_t type, uint32_t hash)
{
	return lookup(c, name, namelen, type, hash);
}

/**
 * cache_get() - find an entry and mark it most recently used
 * @c:		cache
 * @name:	lower-case wire name
 * @namelen:	its length
 * @type:	qkey: type, plus DNS_KEY_CD for a CD query
 * @hash:	wire_hash_key() of (name, qkey)
 * @now:	current time, ms
 *
 * An entry more than stale_ms past its expiry is removed (lazy expiry) and
 * not returned. A returned entry may be expired: compare e->expire_ms.
 *
 * Return: entry or NULL
 */
struct cache_entry *cache_get(struct dns_cache *c, const uint8_t *name, size_t namelen,
			      uint32_t type, uint32_t hash, uint64_t now)
{
	struct cache_entry *e = lookup(c, name, namelen, type, hash);

	if (!e)
		return NULL;
	if (now > e->expire_ms + c->stale_ms) {
		cache_remove(c, e);
		c->expired++;
		return NULL;
	}
	if (c->lru_head != idx(c, e)) {
		lru_unlink(c, e);
		lru_push_front(c, e);
	}
	return e;
}

static void evict_tail(struct dns_cache *c)
{
	cache_remove(c, &c->pool[c->lru_tail - 1]);
	c->evictions++;
}

/**
 * cache_put() - store a copy of an answer, replacing any entry of the same key
 * @c:		cache
 * @d:		answer (copied; the caller keeps it)
 * @type:	qkey: type, plus DNS_KEY_CD for a CD query; the name is d's name
 * @hash:	wire_hash_key() of (name, qkey)
 * @ttl_s:	TTL, already capped by the caller
 * @now:	current time, ms
 *
 * Least recently used entries are evicted while the pool is full or the
 * slab budget has no room for the block. Each eviction is O(1) and frees
 * one entry that an earlier put stored, so a put is O(1) amortized.
 *
 * Return: the entry (most recently used), or NULL when @d could not be
 *	   stored (larger than the whole budget, or out of memory)
 */
struct cache_entry *cache_put(struct dns_cache *c, const struct dns_data *d, uint32_t type,
			      uint32_t hash, uint32_t ttl_s, uint64_t now)
{
	size_t sz = dns_data_bytes(d);
	struct cache_entry *e;
	struct dns_data *copy;

	if (sz > c->slab.budget)
		return NULL;
	e = lookup(c, dns_data_name(d), d->namelen, type, hash);
	if (e) {
		release_data(c, e);
		lru_unlink(c, e);
	}
	while (!(copy = slab_alloc(&c->slab, sz)) && c->lru_tail)
		evict_tail(c);
	if (!copy) {
		if (e)
			unhash(c, e); /* its data is gone and it is off the LRU */
		return NULL;
	}
	memcpy(copy, d, sz);
	if (!e) {
		if (!c->free_head && c->fresh < c->cap) {
			e = &c->pool[c->fresh++];
		} else {
			if (!c->free_head)
				evict_tail(c);
			e = &c->pool[c->free_head - 1];
			c->free_head = e->hnext;
		}
		e->hash = hash;
		e->type = DNS_KEY_TYPE(type);
		e->cd = (type & DNS_KEY_CD) ? 1 : 0;
		e->hnext = c->buckets[hash & (c->nbuckets - 1)];
		c->buckets[hash & (c->nbuckets - 1)] = idx(c, e);
		c->count++;
	}
	e->flags = CACHE_F_USED;
	e->d = copy;
	e->u.ttl_s = ttl_s;
	e->expire_ms = now + (uint64_t)ttl_s * 1000u;
	c->data_bytes = slab_bytes(&c->slab);
	lru_push_front(c, e);
	return e;
}

/**
 * cache_flush() - remove every entry
 * @c:	cache
 */
void cache_flush(struct dns_cache *c)
{
	while (c->lru_tail)
		cache_remove(c, &c->pool[c->lru_tail - 1]);
}

/**
 * cache_bytes() - memory held by the cache: pool, buckets, slab tables and data
 * @c:	cache
 *
 * Return: bytes
 */
size_t cache_bytes(const struct dns_cache *c)
{
	return (size_t)c->cap * sizeof(*c->pool) + (size_t)c->nbuckets * sizeof(*c->buckets) +
	       slab_meta_bytes(&c->slab) + c->data_bytes;
}
