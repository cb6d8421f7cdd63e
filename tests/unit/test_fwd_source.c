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

static struct fwd_entry e[N];

Test(fwd_source, counts_lists_and_top)
{
	struct fwd_srcs s;
	struct fwd_src *a, *b;
	int i;

	cr_assert_eq(fwd_srcs_init(&s, N), 0);
	cr_assert_null(fwd_src_top(&s));
	a = fwd_src_add(&s, 1, &e[0], true, 10);
	cr_assert_not_null(a);
	cr_assert_eq(fwd_src_add(&s, 1, &e[1], true, 11), a);
	cr_assert_eq(fwd_src_add(&s, 1, &e[2], false, 12), a);
	b = fwd_src_add(&s, 2, &e[3], false, 13);
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
		fwd_src_add(&s, 2, &e[i], false, (uint64_t)(20 + i));
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
	cr_assert_null(fwd_src_find(&s, 1));
	cr_assert_eq(fwd_src_top(&s), b);
	fwd_src_del(&s, b, &e[5], false);
	fwd_src_del(&s, b, &e[6], false);
	cr_assert_null(fwd_src_top(&s));
	cr_assert_null(fwd_src_find(&s, 2));
	fwd_srcs_destroy(&s);
}

Test(fwd_source, pool_bounds_the_sources)
{
	struct fwd_srcs s;
	int i;

	cr_assert_eq(fwd_srcs_init(&s, N), 0);
	for (i = 0; i < N; i++)
		cr_assert_not_null(fwd_src_add(&s, (uint32_t)(100 + i), &e[i], false, 1));
	cr_assert_eq(s.top, 1);
	/* a record per flow at most: a ninth source has none left */
	{
		struct fwd_entry extra;

		cr_assert_null(fwd_src_add(&s, 999, &extra, false, 1));
	}
	fwd_srcs_destroy(&s);
}
