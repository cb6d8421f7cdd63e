/* SPDX-License-Identifier: MIT */
/*
 * test_budget.c - the netstack's buffer-memory accountant (netstack/budget.c):
 * charges move with each flow's record and always sum up, the room and the
 * low-water mark follow them, and the log line comes at the first hit and
 * then at most every 10 s with the hits in between.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "netstack/internal.h"

static int lines;
static char last[256];

static void sink(void *ctx, const char *line)
{
	(void)ctx;
	lines++;
	snprintf(last, sizeof(last), "%s", line);
}

Test(budget, charges_sum_up_and_bound_the_room)
{
	struct ns_budget b;
	struct ns_charge a = {0, 0}, c = {0, 0};

	ns_budget_init(&b, 1000);
	cr_assert_eq(b.limit, 1000);
	cr_assert_eq(b.low, 750);
	ns_budget_move(&b, &a, 300, 100);
	ns_budget_move(&b, &c, 200, 0);
	cr_assert_eq(b.held, 500);
	cr_assert_eq(b.windows, 100);
	cr_assert_eq(ns_budget_room(&b), 400);
	cr_assert(ns_budget_below_low(&b));
	ns_budget_move(&b, &a, 700, 200); /* a grows */
	cr_assert_eq(b.held, 900);
	cr_assert_eq(ns_budget_room(&b), 0, "over the limit: no room, not a wrap");
	cr_assert_not(ns_budget_below_low(&b));
	cr_assert_eq(b.high, 1100);
	ns_budget_move(&b, &a, 0, 0);
	ns_budget_move(&b, &c, 0, 0);
	cr_assert_eq(b.held + b.windows, 0);
	cr_assert_eq(b.high, 1100, "the high-water mark stays");
	ns_budget_init(&b, 0);
	cr_assert_eq(b.limit, NS_BUFFER_BYTES_DEFAULT);
}

Test(budget, log_line_first_hit_then_rate_limited)
{
	static struct ns ns; /* only what ns_log_hit() and the budget use */

	ns.loop = vg_loop_new(16);
	cr_assert_not_null(ns.loop);
	cr_assert_eq(vg_loop_set_clock(ns.loop, VG_CLOCK_MANUAL, 5000), 0);
	ns_budget_init(&ns.budget, 1 << 20);
	ns_set_log(&ns, sink, NULL);
	lines = 0;
	ns_budget_hit(&ns);
	cr_assert_eq(lines, 1);
	cr_assert_not_null(strstr(last, "buffer memory budget (1048576 bytes)"), "%s", last);
	vg_loop_advance(ns.loop, 1000);
	ns_budget_hit(&ns);
	vg_loop_advance(ns.loop, 8999);
	ns_budget_hit(&ns);
	cr_assert_eq(lines, 1, "within 10 s: counted, not logged");
	vg_loop_advance(ns.loop, 1);
	ns_budget_hit(&ns);
	cr_assert_eq(lines, 2);
	cr_assert_not_null(strstr(last, "flows held back (3 since the last such line)"), "%s", last);
	cr_assert_eq(ns.budget.hits, 4);
	vg_loop_free(ns.loop);
}
