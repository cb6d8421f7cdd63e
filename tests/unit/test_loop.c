/* SPDX-License-Identifier: MIT */
/*
 * test_loop.c - the event loop's timers and its manual (virtual) clock:
 * timers run at their own expiry, in order, re-arming from a callback,
 * stopping another timer from a callback, vg_loop_next_timer(), fds still
 * polled for real under a manual clock, and the monotonic default.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "netstack/loop.h"

static struct vg_loop *L;

struct rec {
	int n;
	uint64_t at[16];
	uint64_t rearm; /* re-arm by this much while n < max */
	int max;
	struct vg_timer *victim; /* stop this one when called */
	struct vg_timer *self;
};

static void on_timer(void *arg)
{
	struct rec *r = arg;

	cr_assert_lt(r->n, 16);
	r->at[r->n++] = vg_loop_now(L);
	if (r->victim)
		vg_timer_stop(L, r->victim);
	if (r->rearm && r->n < r->max)
		cr_assert_eq(vg_timer_start(L, r->self, r->rearm), 0);
}

static void setup(void)
{
	L = vg_loop_new(8);
	cr_assert_not_null(L);
}

static void teardown(void)
{
	vg_loop_free(L);
}

TestSuite(loop, .init = setup, .fini = teardown, .timeout = 10);

Test(loop, monotonic_by_default)
{
	uint64_t t0 = vg_loop_now(L);

	cr_assert_gt(t0, 0);
	cr_assert_geq(vg_loop_update_time(L), t0);
	cr_assert_eq(vg_loop_advance(L, 10), -EINVAL, "only a manual clock advances");
	cr_assert_eq(vg_loop_set_clock(L, (enum vg_clock)7, 0), -EINVAL);
}

Test(loop, manual_clock_stands_still)
{
	cr_assert_eq(vg_loop_set_clock(L, VG_CLOCK_MANUAL, 5000), 0);
	cr_assert_eq(vg_loop_now(L), 5000);
	cr_assert_eq(vg_loop_update_time(L), 5000);
	cr_assert_geq(vg_loop_run_once(L, 0), 0);
	cr_assert_eq(vg_loop_now(L), 5000, "an iteration does not move it");
	cr_assert_eq(vg_loop_advance(L, 250), 0);
	cr_assert_eq(vg_loop_now(L), 5250);
	cr_assert_eq(vg_loop_set_clock(L, VG_CLOCK_MONOTONIC, 0), 0);
	cr_assert_neq(vg_loop_now(L), 5250, "back on CLOCK_MONOTONIC");
}

Test(loop, timer_runs_exactly_when_due)
{
	struct vg_timer t;
	struct rec r = {0};

	vg_loop_set_clock(L, VG_CLOCK_MANUAL, 1000);
	vg_timer_init(&t, on_timer, &r);
	cr_assert_eq(vg_timer_start(L, &t, 100), 0);
	cr_assert_eq(vg_loop_advance(L, 99), 0);
	cr_assert_eq(r.n, 0);
	cr_assert(vg_timer_armed(&t));
	cr_assert_eq(vg_loop_advance(L, 1), 1);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.at[0], 1100);
	cr_assert_not(vg_timer_armed(&t));
	cr_assert_eq(vg_loop_advance(L, 1000), 0, "one-shot");
	cr_assert_eq(vg_loop_now(L), 2100);
}

Test(loop, timers_in_order_each_at_its_expiry)
{
	struct vg_timer t[3];
	struct rec r[3] = {0};
	static const uint64_t ms[3] = {30, 10, 20};
	int i;

	vg_loop_set_clock(L, VG_CLOCK_MANUAL, 0);
	for (i = 0; i < 3; i++) {
		vg_timer_init(&t[i], on_timer, &r[i]);
		cr_assert_eq(vg_timer_start(L, &t[i], ms[i]), 0);
	}
	cr_assert_eq(vg_loop_advance(L, 100), 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(r[i].n, 1);
		cr_assert_eq(r[i].at[0], ms[i]);
	}
	cr_assert_eq(vg_loop_now(L), 100);
}

Test(loop, rearm_from_callback_within_one_advance)
{
	struct vg_timer t;
	struct rec r = {.rearm = 10, .max = 16, .self = &t};

	vg_loop_set_clock(L, VG_CLOCK_MANUAL, 0);
	vg_timer_init(&t, on_timer, &r);
	vg_timer_start(L, &t, 10);
	cr_assert_eq(vg_loop_advance(L, 35), 3);
	cr_assert_eq(r.at[0], 10);
	cr_assert_eq(r.at[1], 20);
	cr_assert_eq(r.at[2], 30);
	cr_assert(vg_timer_armed(&t));
	cr_assert_eq(vg_loop_advance(L, 5), 1);
	cr_assert_eq(r.at[3], 40);
}

Test(loop, callback_stops_a_timer_due_at_the_same_advance)
{
	struct vg_timer a, b;
	struct rec ra = {.victim = &b}, rb = {0};

	vg_loop_set_clock(L, VG_CLOCK_MANUAL, 0);
	vg_timer_init(&a, on_timer, &ra);
	vg_timer_init(&b, on_timer, &rb);
	vg_timer_start(L, &a, 10);
	vg_timer_start(L, &b, 20);
	cr_assert_eq(vg_loop_advance(L, 50), 1);
	cr_assert_eq(ra.n, 1);
	cr_assert_eq(rb.n, 0, "stopped before it came due");
}

Test(loop, next_timer)
{
	struct vg_timer a, b;
	struct rec r = {0};
	uint64_t when = 0;

	vg_loop_set_clock(L, VG_CLOCK_MANUAL, 100);
	cr_assert_eq(vg_loop_next_timer(L, &when), -ENOENT);
	vg_timer_init(&a, on_timer, &r);
	vg_timer_init(&b, on_timer, &r);
	vg_timer_start(L, &a, 50);
	vg_timer_start(L, &b, 20);
	cr_assert_eq(vg_loop_next_timer(L, &when), 0);
	cr_assert_eq(when, 120);
	vg_timer_stop(L, &b);
	cr_assert_eq(vg_loop_next_timer(L, &when), 0);
	cr_assert_eq(when, 150);
}

Test(loop, heap_full)
{
	struct vg_timer t[9];
	struct rec r = {0};
	int i;

	vg_loop_set_clock(L, VG_CLOCK_MANUAL, 0);
	for (i = 0; i < 9; i++)
		vg_timer_init(&t[i], on_timer, &r);
	for (i = 0; i < 8; i++)
		cr_assert_eq(vg_timer_start(L, &t[i], (uint64_t)i), 0);
	cr_assert_eq(vg_timer_start(L, &t[8], 1), -ENOSPC);
	cr_assert_eq(vg_timer_start(L, &t[3], 1), 0, "re-arming an armed timer needs no room");
}

static int io_calls;

static void on_io(void *arg, uint32_t events)
{
	int fd = *(int *)arg;
	char c;

	(void)events;
	cr_assert_eq(read(fd, &c, 1), 1);
	io_calls++;
}

Test(loop, manual_clock_still_polls_fds_and_ignores_timers_for_the_wait)
{
	struct vg_timer t;
	struct rec r = {0};
	struct vg_io io;
	int p[2];

	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	vg_loop_set_clock(L, VG_CLOCK_MANUAL, 0);
	vg_timer_init(&t, on_timer, &r);
	vg_timer_start(L, &t, 0);
	cr_assert_eq(vg_io_add(L, &io, p[0], EPOLLIN, on_io, &p[0]), 0);
	cr_assert_eq(write(p[1], "x", 1), 1);
	cr_assert_eq(vg_loop_run_once(L, 1000), 1);
	cr_assert_eq(io_calls, 1);
	cr_assert_eq(r.n, 1, "a timer due now runs in the iteration");
	vg_timer_start(L, &t, 60000);
	cr_assert_eq(vg_loop_run_once(L, 0), 0, "returns at once: no real wait for timers");
	cr_assert_eq(r.n, 1);
	vg_io_del(L, &io);
	close(p[0]);
	close(p[1]);
}
