/* SPDX-License-Identifier: MIT */
/*
 * test_fwd_source.c - the forwarder's per-source TCP accounting
 * (forwarder/source.c): counts, the half-open and established lists in
 * order, the source holding the most as counts go up and down, and records
 * freed with their last flow.
 */
#include <criterion/criterion.h>

#include "forwarder/internal.h"

#define N 8
/* a guest source address: IPv4 @x */
#define A(x) (&(struct ns_addr){.ip = (x)})

static struct fwd_entry e[N];

Test(fwd_source, counts_lists_and_top)
{
	struct fwd_srcs s;
	struct fwd_src *a, *b;
	int i;

	cr_assert_eq(fwd_srcs_init(&s, N), 0);
	cr_assert_null(fwd_src_top(&s));
	a = fwd_src_add(&s, A(1), &e[0], true, 10);
	cr_assert_not_null(a);
	cr_assert_eq(fwd_src_add(&s, A(1), &e[1], true, 11), a);
	cr_assert_eq(fwd_src_add(&s, A(1), &e[2], false, 12), a);
	b = fwd_src_add(&s, A(2), &e[3], false, 13);
	cr_assert_neq(a, b);
	cr_assert_eq(a->flows, 3);
	cr_assert_eq(a->half.n, 2);
	cr_assert_eq(fwd_src_top(&s), a);
	cr_assert_eq(fwd_list_first(&a->half), &e[0]); /* oldest first */
	/* the oldest half-open one is established: it moves to est's tail */
	fwd_src_move(a, &e[0], false, 14);
	cr_assert_eq(fwd_list_first(&a->half), &e[1]);
	cr_assert_eq(fwd_list_first(&a->est), &e[2]);
	/* b overtakes a */
	for (i = 4; i < 7; i++)
		fwd_src_add(&s, A(2), &e[i], false, (uint64_t)(20 + i));
	cr_assert_eq(b->flows, 4);
	cr_assert_eq(fwd_src_top(&s), b);
	fwd_src_del(&s, b, &e[3], false);
	fwd_src_del(&s, b, &e[4], false);
	cr_assert_eq(b->flows, 2);
	cr_assert_eq(fwd_src_top(&s), a);
	/* a's last flows go: its record is freed, b is the top */
	fwd_src_del(&s, a, &e[0], false);
	fwd_src_del(&s, a, &e[1], true);
	fwd_src_del(&s, a, &e[2], false);
	cr_assert_null(fwd_src_find(&s, A(1)));
	cr_assert_eq(fwd_src_top(&s), b);
	fwd_src_del(&s, b, &e[5], false);
	fwd_src_del(&s, b, &e[6], false);
	cr_assert_null(fwd_src_top(&s));
	cr_assert_null(fwd_src_find(&s, A(2)));
	fwd_srcs_destroy(&s);
}

Test(fwd_source, pool_bounds_the_sources)
{
	struct fwd_srcs s;
	int i;

	cr_assert_eq(fwd_srcs_init(&s, N), 0);
	for (i = 0; i < N; i++)
		cr_assert_not_null(fwd_src_add(&s, A((uint32_t)(100 + i)), &e[i], false, 1));
	cr_assert_eq(s.top, 1);
	/* a record per flow at most: a ninth source has none left */
	{
		struct fwd_entry extra;

		cr_assert_null(fwd_src_add(&s, A(999), &extra, false, 1));
	}
	fwd_srcs_destroy(&s);
}

Test(fwd_source, ipv6_sources_apart)
{
	static const uint8_t g1[16] = {0xfd, [15] = 2}, g2[16] = {0xfd, [15] = 3};
	struct ns_addr a6 = ns_addr_v6(g1, 1000), b6 = ns_addr_v6(g2, 1000), z6;
	struct fwd_entry f[3];
	struct fwd_srcs s;
	struct fwd_src *a, *b, *c;

	memset(f, 0, sizeof(f));
	memset(z6.ip6, 0, sizeof(z6.ip6));
	z6 = ns_addr_v6(z6.ip6, 0);
	cr_assert_eq(fwd_srcs_init(&s, 8), 0);
	a = fwd_src_add(&s, &a6, &f[0], false, 1);
	a6.port = 2000; /* the port does not matter */
	cr_assert_eq(fwd_src_find(&s, &a6), a);
	b = fwd_src_add(&s, &b6, &f[1], false, 1);
	c = fwd_src_add(&s, A(0), &f[2], false, 1); /* 0.0.0.0 is not :: */
	cr_assert(a && b && c && a != b && b != c && a != c);
	cr_assert_null(fwd_src_find(&s, &z6));
	cr_assert_eq(a->flows, 1);
	fwd_src_del(&s, a, &f[0], false);
	cr_assert_null(fwd_src_find(&s, &a6));
	cr_assert_eq(fwd_src_find(&s, &b6), b);
	fwd_srcs_destroy(&s);
}
