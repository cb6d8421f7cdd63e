/* SPDX-License-Identifier: MIT */
/*
 * test_fwd_table.c - the forwarder's flow table and timeout lists
 * (forwarder/table.h): the hard cap, lookups by tuple, LRU touch order and
 * expiry with a controlled clock, as the UDP idle timeout and the TCP idle
 * sweep use them.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "forwarder/internal.h"

struct flow {
	struct fwd_entry ent;
	int id;
};

static struct fwd_key key(uint32_t i)
{
	struct fwd_key k = {.sip = 0x0a000002u, .dip = 0x7f000001u, .sport = (uint16_t)(1000 + i), .dport = 53};

	return k;
}

Test(fwd_table, cap_is_enforced)
{
	struct fwd_table t;
	struct flow f[9];
	int i;

	cr_assert_eq(fwd_table_init(&t, 8), 0);
	for (i = 0; i < 8; i++) {
		f[i].ent.key = key((uint32_t)i);
		cr_assert_eq(fwd_table_add(&t, &f[i].ent, true), 0);
	}
	cr_assert(fwd_table_full(&t));
	f[8].ent.key = key(8);
	cr_assert_eq(fwd_table_add(&t, &f[8].ent, true), -1, "9th entry over a cap of 8");
	cr_assert_eq(fwd_table_add(&t, &f[8].ent, false), -1, "unhashed entries count too");
	fwd_table_del(&t, &f[3].ent);
	cr_assert_not(fwd_table_full(&t));
	cr_assert_eq(fwd_table_add(&t, &f[8].ent, true), 0);
	cr_assert_null(fwd_table_find(&t, &f[3].ent.key));
	cr_assert_eq(fwd_table_find(&t, &f[8].ent.key), &f[8].ent);
	fwd_table_destroy(&t);
}

Test(fwd_table, duplicates_refused_and_lookup_exact)
{
	struct fwd_table t;
	struct flow a, b;
	struct fwd_key k;

	cr_assert_eq(fwd_table_init(&t, 16), 0);
	a.ent.key = key(1);
	b.ent.key = key(1);
	cr_assert_eq(fwd_table_add(&t, &a.ent, true), 0);
	cr_assert_eq(fwd_table_add(&t, &b.ent, true), -1);
	k = key(1);
	k.dport = 54;
	cr_assert_null(fwd_table_find(&t, &k));
	k = key(1);
	k.dip ^= 1;
	cr_assert_null(fwd_table_find(&t, &k));
	cr_assert_eq(t.n, 1);
	fwd_table_destroy(&t);
}

Test(fwd_table, many_entries_all_found)
{
	struct fwd_table t;
	struct flow *f = calloc(20000, sizeof(*f));
	uint32_t i;

	cr_assert_eq(fwd_table_init(&t, 20000), 0);
	for (i = 0; i < 20000; i++) {
		f[i].ent.key = (struct fwd_key){.sip = i * 7919u, .dip = 0x7f000001u, .sport = (uint16_t)i, .dport = 80};
		cr_assert_eq(fwd_table_add(&t, &f[i].ent, true), 0);
	}
	for (i = 0; i < 20000; i++)
		cr_assert_eq(fwd_table_find(&t, &f[i].ent.key), &f[i].ent);
	for (i = 0; i < 20000; i += 2)
		fwd_table_del(&t, &f[i].ent);
	for (i = 0; i < 20000; i++)
		cr_assert_eq(fwd_table_find(&t, &f[i].ent.key) != NULL, i % 2 == 1);
	cr_assert_eq(t.n, 10000);
	fwd_table_destroy(&t);
	free(f);
}

Test(fwd_list, lru_expiry_with_controlled_clock)
{
	struct fwd_list l;
	struct flow f[4];
	struct fwd_entry *e;
	uint64_t now = 1000;
	int i, expired = 0;

	fwd_list_init(&l);
	for (i = 0; i < 4; i++) {
		f[i].id = i;
		fwd_list_push(&l, &f[i].ent, now + (uint64_t)i * 10);
	}
	/* flow 0 sees traffic at t=1050: it becomes the newest */
	fwd_list_touch(&l, &f[0].ent, 1050);
	cr_assert_eq(fwd_list_first(&l), &f[1].ent);
	/* idle timeout 90: at t=1100, flows 1 (1010) and 2 (1020) are expired, 3 (1030) not */
	while ((e = fwd_list_expired(&l, 1110, 90))) {
		struct flow *x = fwd_container_of(e, struct flow, ent);

		cr_assert(x->id == 1 || x->id == 2, "expired %d", x->id);
		fwd_list_del(&l, e);
		expired++;
	}
	cr_assert_eq(expired, 2);
	cr_assert_eq(l.n, 2);
	cr_assert_null(fwd_list_expired(&l, 1119, 90));
	cr_assert_eq(fwd_list_expired(&l, 1120, 90), &f[3].ent);
	/* a clock that goes backwards never expires anything */
	cr_assert_null(fwd_list_expired(&l, 10, 0 + 1));
	fwd_list_del(&l, &f[3].ent);
	fwd_list_del(&l, &f[3].ent); /* twice: harmless */
	cr_assert_eq(l.n, 1);
	cr_assert_eq(fwd_list_first(&l), &f[0].ent);
	fwd_list_del(&l, &f[0].ent);
	cr_assert_null(fwd_list_first(&l));
}

Test(fwd_table, ipv6_keys)
{
	static const uint8_t g[16] = {0xfd, [15] = 2}, d1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	struct ns_addr src = ns_addr_v6(g, 40000), dst = ns_addr_v6(d1, 443);
	struct ns_addr v4s = ns_addr_v4(0, 40000), v4d = ns_addr_v4(0, 443);
	struct fwd_entry a = {0}, b = {0}, c = {0};
	struct fwd_table t;
	struct fwd_key k;

	cr_assert_eq(fwd_table_init(&t, 8), 0);
	a.key = fwd_key_of(&src, &dst);
	dst.ip6[15] = 2;
	b.key = fwd_key_of(&src, &dst);
	c.key = fwd_key_of(&v4s, &v4d); /* the same ports, ip 0: an IPv4 key */
	cr_assert_eq(fwd_table_add(&t, &a, true), 0);
	cr_assert_eq(fwd_table_add(&t, &b, true), 0);
	cr_assert_eq(fwd_table_add(&t, &c, true), 0);
	k = fwd_key_of(&src, &dst);
	cr_assert_eq(fwd_table_find(&t, &k), &b);
	dst.ip6[15] = 1;
	k = fwd_key_of(&src, &dst);
	cr_assert_eq(fwd_table_find(&t, &k), &a);
	k = fwd_key_of(&v4s, &v4d);
	cr_assert_eq(fwd_table_find(&t, &k), &c);
	dst.ip6[15] = 3;
	k = fwd_key_of(&src, &dst);
	cr_assert_null(fwd_table_find(&t, &k));
	fwd_table_destroy(&t);
}
