/* SPDX-License-Identifier: MIT */
/*
 * test_dns_cache.c - dns/cache.c with a controlled clock: LRU order and
 * eviction at capacity, byte budget, replacement, lazy expiry past the
 * stale window, retire hook.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dns/cache.h"
#include "dns/msg.h"

struct key {
	uint8_t w[DNS_NAME_MAX];
	int n;
	uint32_t h;
};

static struct key mk(const char *name, uint16_t type)
{
	struct key k;

	k.n = wire_name_from_text(name, k.w);
	cr_assert_gt(k.n, 0);
	k.h = wire_hash_key(wire_hash_name(1, k.w, (size_t)k.n), type);
	return k;
}

static struct cache_entry *put(struct dns_cache *c, const char *name, uint32_t ttl, uint64_t now)
{
	struct key k = mk(name, DNS_TYPE_A);
	uint8_t rr[16] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 1, 2, 3, 4 };
	struct dns_data *d = dns_data_new(k.w, (size_t)k.n, 0, rr, sizeof(rr), 1, 0, 0, 16);
	struct cache_entry *e = cache_put(c, d, DNS_TYPE_A, k.h, ttl, now);

	free(d); /* the cache stores a copy */
	return e;
}

static struct cache_entry *get(struct dns_cache *c, const char *name, uint64_t now)
{
	struct key k = mk(name, DNS_TYPE_A);

	return cache_get(c, k.w, (size_t)k.n, DNS_TYPE_A, k.h, now);
}

Test(cache, lru_order_and_eviction)
{
	struct dns_cache c;
	char n[32];
	int i;

	cr_assert_eq(cache_init(&c, 4, 1 << 20, 1000), 0);
	for (i = 0; i < 4; i++) {
		snprintf(n, sizeof(n), "n%d.test", i);
		cr_assert_not_null(put(&c, n, 5, 0));
	}
	cr_assert_eq(c.count, 4);
	/* touch n0: n1 becomes the LRU */
	cr_assert_not_null(get(&c, "n0.test", 1));
	cr_assert_not_null(put(&c, "n4.test", 5, 2));
	cr_assert_eq(c.count, 4);
	cr_assert_eq(c.evictions, 1);
	cr_assert_null(get(&c, "n1.test", 3));
	cr_assert_not_null(get(&c, "n0.test", 3));
	cr_assert_not_null(get(&c, "n2.test", 3));
	/* order now (MRU first): n2 n0 n4 n3 */
	{
		const char *want[] = { "n2.test", "n0.test", "n4.test", "n3.test" };
		struct cache_entry *e = cache_first(&c);

		for (i = 0; i < 4; i++, e = cache_next(&c, e)) {
			struct key k = mk(want[i], DNS_TYPE_A);

			cr_assert_not_null(e);
			cr_assert_eq(memcmp(dns_data_name(e->d), k.w, (size_t)k.n), 0, "pos %d", i);
		}
		cr_assert_null(e);
	}
	cr_assert_not_null(put(&c, "n5.test", 5, 4));
	cr_assert_null(get(&c, "n3.test", 5));
	cr_assert_eq(c.evictions, 2);
	cache_destroy(&c);
}

Test(cache, replace_same_key)
{
	struct dns_cache c;
	struct cache_entry *e;

	cr_assert_eq(cache_init(&c, 2, 1 << 20, 1000), 0);
	put(&c, "a.test", 5, 0);
	e = put(&c, "a.test", 3, 1000);
	cr_assert_eq(c.count, 1);
	cr_assert_eq(cache_ttl_s(e), 3);
	cr_assert_eq(e->expire_ms, 4000);
	cr_assert_eq(c.evictions, 0);
	cache_destroy(&c);
}

Test(cache, types_are_separate_keys)
{
	struct dns_cache c;
	struct key a = mk("x.test", DNS_TYPE_A), aaaa = mk("x.test", DNS_TYPE_AAAA);

	cr_assert_eq(cache_init(&c, 8, 1 << 20, 1000), 0);
	put(&c, "x.test", 5, 0);
	cr_assert_not_null(cache_get(&c, a.w, (size_t)a.n, DNS_TYPE_A, a.h, 0));
	cr_assert_null(cache_get(&c, aaaa.w, (size_t)aaaa.n, DNS_TYPE_AAAA, aaaa.h, 0));
	cache_destroy(&c);
}

Test(cache, lazy_expiry)
{
	struct dns_cache c;
	struct cache_entry *e;

	cr_assert_eq(cache_init(&c, 8, 1 << 20, 10000), 0);
	put(&c, "a.test", 5, 1000);
	e = get(&c, "a.test", 5999);
	cr_assert_not_null(e);
	cr_assert_lt(5999, e->expire_ms);
	/* expired but inside the stale window: still there, caller sees expiry */
	e = get(&c, "a.test", 6000);
	cr_assert_not_null(e);
	cr_assert_geq(6000, e->expire_ms);
	cr_assert_eq(c.count, 1);
	/* nothing is removed until someone looks */
	cr_assert_eq(c.count, 1);
	cr_assert_null(get(&c, "a.test", 16001));
	cr_assert_eq(c.count, 0);
	cr_assert_eq(c.expired, 1);
	cache_destroy(&c);
}

Test(cache, byte_budget)
{
	struct dns_cache c;
	char n[32];
	int i;
	size_t one;

	/* one 41-byte block (44 in its class) takes a whole slab; 2 slabs hold 184 */
	cr_assert_eq(cache_init(&c, 1000, 1 << 20, 1000), 0);
	put(&c, "y999.test", 5, 0);
	one = c.data_bytes;
	cr_assert_eq(one, SLAB_SIZE);
	cr_assert_eq(sizeof(struct dns_data), 14u);
	cr_assert_eq(dns_data_bytes(c.pool[c.lru_head - 1].d), 14u + 11u + 16u);
	cache_destroy(&c);
	cr_assert_eq(cache_init(&c, 1000, 2 * SLAB_SIZE, 1000), 0);
	for (i = 0; i < 500; i++) {
		snprintf(n, sizeof(n), "y%03d.test", i);
		cr_assert_not_null(put(&c, n, 5, (uint64_t)i));
		cr_assert_leq(c.data_bytes, 2 * SLAB_SIZE);
	}
	cr_assert_eq(c.count, 2 * ((SLAB_SIZE - 16) / 44));
	cr_assert_eq(c.evictions, 500 - c.count);
	/* the most recent names survived */
	cr_assert_not_null(get(&c, "y499.test", 500));
	cr_assert_null(get(&c, "y000.test", 500));
	cache_destroy(&c);
}

Test(cache, exact_size_blocks)
{
	struct dns_cache c;
	char n[32];
	int i;

	/* 10,000 answers of 53 bytes take 56 bytes each plus slab headers */
	cr_assert_eq(cache_init(&c, 10000, 8u << 20, 1000), 0);
	for (i = 0; i < 10000; i++) {
		snprintf(n, sizeof(n), "host%05d.example.com", i);
		cr_assert_not_null(put(&c, n, 5, 0));
	}
	cr_assert_eq(c.count, 10000);
	cr_assert_eq(c.data_bytes,
		     (size_t)SLAB_SIZE * ((10000 + (SLAB_SIZE - 16) / 56 - 1) / ((SLAB_SIZE - 16) / 56)));
	cr_assert_leq(cache_bytes(&c), 1u << 20);
	cache_flush(&c);
	cr_assert_eq(c.data_bytes, 0);
	cache_destroy(&c);
}

Test(cache, large_blocks_and_mixed_classes)
{
	struct dns_cache c;
	static uint8_t rr[3000];
	struct key k;
	struct dns_data *d;
	char n[32];
	int i;

	cr_assert_eq(cache_init(&c, 64, 8 * SLAB_SIZE, 1000), 0);
	for (i = 0; i < 300; i++) {
		size_t len = (size_t)(i * 37) % sizeof(rr);

		snprintf(n, sizeof(n), "m%d.test", i % 80);
		k = mk(n, DNS_TYPE_A);
		d = dns_data_new(k.w, (size_t)k.n, 0, rr, len, 0, 0, 0, (uint16_t)len);
		cr_assert_not_null(cache_put(&c, d, DNS_TYPE_A, k.h, 5, (uint64_t)i));
		free(d);
		cr_assert_leq(c.data_bytes, 8 * SLAB_SIZE);
		cr_assert_leq(c.count, 64);
	}
	/* a block over the whole budget is refused, the cache is unchanged */
	k = mk("huge.test", DNS_TYPE_A);
	d = dns_data_new(k.w, (size_t)k.n, 0, NULL, 0, 0, 0, 0, 0);
	{
		struct dns_data *big = realloc(d, sizeof(*d) + (size_t)k.n + 65000);

		if (!big)
			free(d);
		cr_assert_not_null(big);
		d = big;
	}
	d->len = 65000;
	cr_assert_null(cache_put(&c, d, DNS_TYPE_A, k.h, 5, 400));
	free(d);
	cache_flush(&c);
	cr_assert_eq(c.data_bytes, 0);
	cr_assert_eq(c.slab.used, 0);
	cache_destroy(&c);
}

static int retired;

static void on_retire(void *arg, struct cache_entry *e)
{
	(void)arg;
	retired++;
	cr_assert_not_null(e->d); /* valid during the call, owned by the cache */
}

Test(cache, retire_and_flush)
{
	struct dns_cache c;

	cr_assert_eq(cache_init(&c, 2, 1 << 20, 1000), 0);
	c.retire = on_retire;
	retired = 0;
	put(&c, "a.test", 5, 0);
	put(&c, "a.test", 5, 0); /* replaced */
	put(&c, "b.test", 5, 0);
	put(&c, "c.test", 5, 0); /* evicts a */
	cr_assert_eq(retired, 2);
	cache_flush(&c);
	cr_assert_eq(retired, 4);
	cr_assert_eq(c.count, 0);
	cr_assert_eq(c.data_bytes, 0);
	cache_destroy(&c);
}
