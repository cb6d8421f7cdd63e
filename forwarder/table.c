/* SPDX-License-Identifier: MIT */
/*
 * table.c - bounded flow hash and intrusive lists (see table.h). Nothing here
 * allocates except fwd_table_init() (the bucket array, once).
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void fwd_list_init(struct fwd_list *l)
{
	l->head.prev = l->head.next = &l->head;
	l->n = 0;
}

/**
 * fwd_list_push() - append @e at the tail (newest) with time @now
 * @l:		list
 * @e:		entry, not on any list
 * @now:	its new last_ms
 */
void fwd_list_push(struct fwd_list *l, struct fwd_entry *e, uint64_t now)
{
	struct fwd_lnode *n = &e->lru;

	e->last_ms = now;
	n->prev = l->head.prev;
	n->next = &l->head;
	l->head.prev->next = n;
	l->head.prev = n;
	e->listed = true;
	l->n++;
}

void fwd_list_del(struct fwd_list *l, struct fwd_entry *e)
{
	if (!e->listed)
		return;
	e->lru.prev->next = e->lru.next;
	e->lru.next->prev = e->lru.prev;
	e->lru.prev = e->lru.next = NULL;
	e->listed = false;
	l->n--;
}

/**
 * fwd_list_touch() - mark @e used at @now: move it to the tail
 * @l:		list @e is on
 * @e:		entry
 * @now:	time
 */
void fwd_list_touch(struct fwd_list *l, struct fwd_entry *e, uint64_t now)
{
	if (e->listed && e->last_ms == now)
		return; /* already the newest of this millisecond, or as good */
	fwd_list_del(l, e);
	fwd_list_push(l, e, now);
}

struct fwd_entry *fwd_list_first(const struct fwd_list *l)
{
	if (l->head.next == &l->head)
		return NULL;
	return fwd_container_of(l->head.next, struct fwd_entry, lru);
}

/**
 * fwd_list_expired() - the oldest entry if it is at least @timeout old
 * @l:		list in time order
 * @now:	current time
 * @timeout:	age limit
 *
 * Return: the entry to expire, or NULL when the oldest is still live
 */
struct fwd_entry *fwd_list_expired(const struct fwd_list *l, uint64_t now, uint64_t timeout)
{
	struct fwd_entry *e = fwd_list_first(l);

	if (e && now >= e->last_ms && now - e->last_ms >= timeout)
		return e;
	return NULL;
}

static size_t key_hash(const struct fwd_table *t, const struct fwd_key *k)
{
	uint64_t h = t->seed;

	if (k->v6) {
		uint64_t w[4];

		memcpy(w, k->sip6, 16);
		memcpy(w + 2, k->dip6, 16);
		h ^= (w[0] * 0xff51afd7ed558ccdull) ^ w[1];
		h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
		h ^= (w[2] * 0xff51afd7ed558ccdull) ^ w[3];
	}
	h ^= ((uint64_t)k->sip << 32 | k->dip) * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
	h ^= ((uint64_t)k->sport << 16 | k->dport) * 0x94d049bb133111ebull;
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 17) & t->mask;
}

static bool key_eq(const struct fwd_key *a, const struct fwd_key *b)
{
	return a->sip == b->sip && a->dip == b->dip && a->sport == b->sport &&
	       a->dport == b->dport && a->v6 == b->v6 &&
	       (!a->v6 || (!memcmp(a->sip6, b->sip6, 16) && !memcmp(a->dip6, b->dip6, 16)));
}

/**
 * fwd_table_init() - allocate the buckets for at most @max entries
 * @t:		table
 * @max:	cap (≥ 1)
 *
 * Return: 0, or -1 (out of memory)
 */
int fwd_table_init(struct fwd_table *t, size_t max)
{
	size_t nb = 16;

	memset(t, 0, sizeof(*t));
	if (!max)
		max = 1;
	while (nb < max && nb < ((size_t)1 << 24))
		nb <<= 1;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sizeof(*p) is one */
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets)
		return -1;
	t->mask = nb - 1;
	t->max = max;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x5851f42d4c957f2dull;
	return 0;
}

void fwd_table_destroy(struct fwd_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->n = 0;
}

bool fwd_table_full(const struct fwd_table *t)
{
	return t->n >= t->max;
}

/**
 * fwd_table_add() - count @e against the cap and, if @hash, index it by key
 * @t:		table
 * @e:		entry with key set
 * @hash:	index by key (refused if the key is already present)
 *
 * Return: 0, or -1 when full or a duplicate
 */
int fwd_table_add(struct fwd_table *t, struct fwd_entry *e, bool hash)
{
	if (t->n >= t->max)
		return -1;
	e->hashed = false;
	e->hnext = NULL;
	if (hash) {
		size_t b = key_hash(t, &e->key);

		if (fwd_table_find(t, &e->key))
			return -1;
		e->hnext = t->buckets[b];
		t->buckets[b] = e;
		e->hashed = true;
	}
	t->n++;
	return 0;
}

void fwd_table_del(struct fwd_table *t, struct fwd_entry *e)
{
	if (e->hashed) {
		struct fwd_entry **pp = &t->buckets[key_hash(t, &e->key)];

		while (*pp && *pp != e)
			pp = &(*pp)->hnext;
		if (*pp)
			*pp = e->hnext;
		e->hashed = false;
		e->hnext = NULL;
	}
	t->n--;
}

struct fwd_entry *fwd_table_find(const struct fwd_table *t, const struct fwd_key *k)
{
	struct fwd_entry *e;

	for (e = t->buckets[key_hash(t, k)]; e; e = e->hnext)
		if (key_eq(&e->key, k))
			return e;
	return NULL;
}
