/* SPDX-License-Identifier: MIT */
/*
 * loop.h - vgate's single-threaded event loop: epoll for file descriptors and
 * a binary min-heap of one-shot timers, with a millisecond monotonic clock.
 *
 * Everything in vgate runs on the one thread that calls vg_loop_run(); there
 * is no locking. The loop never allocates per event: a caller embeds a
 * struct vg_io or struct vg_timer in its own object, and the object must
 * outlive its registration (call vg_io_del() / vg_timer_stop() before freeing
 * it). Callbacks may add, modify or delete any registration, including their
 * own. The timer heap has a fixed capacity given to vg_loop_init().
 *
 * Clock: the loop's time (vg_loop_now()) is CLOCK_MONOTONIC in milliseconds,
 * read once per iteration. A test can switch a loop to a manual clock with
 * vg_loop_set_clock(); its time then moves only through vg_loop_advance(),
 * which runs the timers that come due, each at its own expiry time. Nothing
 * else changes: fds are still polled for real. Every vgate module takes its
 * time from the loop, so the manual clock controls all of them.
 *
 * Return convention of this layer: 0 (or a count) on success, -errno on
 * failure; nothing sets errno except vg_loop_new(), which returns NULL.
 */
#ifndef VGATE_LOOP_H
#define VGATE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_loop;

/**
 * typedef vg_io_fn - called when a registered fd is ready
 * @arg:	the pointer given at registration
 * @events:	EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP bits
 */
typedef void (*vg_io_fn)(void *arg, uint32_t events);

/**
 * typedef vg_timer_fn - called once when a timer expires
 * @arg:	the pointer given to vg_timer_init()
 */
typedef void (*vg_timer_fn)(void *arg);

/**
 * struct vg_io - one registered file descriptor, owned by the caller
 * @fd:		the descriptor, -1 when not registered
 * @events:	current epoll interest set
 * @fn:		callback
 * @arg:	callback argument
 */
struct vg_io {
	int fd;
	uint32_t events;
	vg_io_fn fn;
	void *arg;
};

/**
 * struct vg_timer - one-shot timer, owned by the caller
 * @when:	expiry, in vg_loop_now() milliseconds
 * @idx:	position in the heap, or -1 when not armed
 * @fn:		callback
 * @arg:	callback argument
 */
struct vg_timer {
	uint64_t when;
	int idx;
	vg_timer_fn fn;
	void *arg;
};

/**
 * vg_loop_new() - create an event loop
 * @max_timers:	capacity of the timer heap (fixed; vg_timer_start fails past it)
 *
 * Return: the loop, or NULL on error (errno set)
 */
struct vg_loop *vg_loop_new(size_t max_timers);

/**
 * vg_loop_free() - destroy a loop; registrations are forgotten, fds not closed
 * @l:	loop, may be NULL
 */
void vg_loop_free(struct vg_loop *l);

/**
 * vg_loop_now() - current time of the loop in milliseconds (monotonic)
 * @l:	loop
 *
 * The value is refreshed once per loop iteration and by vg_loop_update_time().
 *
 * Return: milliseconds since an arbitrary epoch
 */
uint64_t vg_loop_now(const struct vg_loop *l);

/**
 * vg_loop_update_time() - re-read the monotonic clock (no-op under a manual clock)
 * @l:	loop
 *
 * Return: the new vg_loop_now() value
 */
uint64_t vg_loop_update_time(struct vg_loop *l);

/**
 * enum vg_clock - where a loop takes its time from
 * @VG_CLOCK_MONOTONIC:	CLOCK_MONOTONIC (the default)
 * @VG_CLOCK_MANUAL:	only vg_loop_advance() moves the time (tests)
 */
enum vg_clock {
	VG_CLOCK_MONOTONIC,
	VG_CLOCK_MANUAL,
};

/**
 * vg_loop_set_clock() - choose the clock of @l
 * @l:		loop
 * @clock:	VG_CLOCK_MONOTONIC or VG_CLOCK_MANUAL
 * @start_ms:	for VG_CLOCK_MANUAL, the time to start from (vg_loop_now()
 *		value); ignored for VG_CLOCK_MONOTONIC, which re-reads the clock
 *
 * Armed timers keep their absolute expiry times, so switch before arming
 * any (right after vg_loop_new()). Under a manual clock vg_loop_run_once()
 * waits for fds at most @max_wait_ms (never "until the next timer") and
 * runs only timers that are due at the current manual time.
 *
 * Return: 0, or -EINVAL for an unknown @clock
 */
int vg_loop_set_clock(struct vg_loop *l, enum vg_clock clock, uint64_t start_ms);

/**
 * vg_loop_advance() - move a manual clock forward and run the timers that
 * come due
 * @l:	loop with VG_CLOCK_MANUAL
 * @ms:	how far
 *
 * Timers run in expiry order, and while each runs vg_loop_now() is its
 * expiry time, so a timer re-armed from its callback runs again within the
 * same advance if it comes due. Idle callbacks are not run. The time ends at
 * the old time + @ms.
 *
 * Return: number of timer callbacks run, or -EINVAL when @l's clock is not
 *	   manual
 */
int vg_loop_advance(struct vg_loop *l, uint64_t ms);

/**
 * vg_loop_next_timer() - expiry of the earliest armed timer
 * @l:		loop
 * @when:	set to its vg_loop_now() time
 *
 * Return: 0, or -ENOENT when no timer is armed
 */
int vg_loop_next_timer(const struct vg_loop *l, uint64_t *when);

/**
 * vg_io_add() - register @fd with the loop
 * @l:		loop
 * @io:		caller-owned registration record
 * @fd:		non-blocking file descriptor
 * @events:	EPOLLIN / EPOLLOUT interest
 * @fn:		callback
 * @arg:	callback argument
 *
 * Return: 0, or -errno
 */
int vg_io_add(struct vg_loop *l, struct vg_io *io, int fd, uint32_t events, vg_io_fn fn, void *arg);

/**
 * vg_io_mod() - change the interest set of a registered fd (no-op if unchanged)
 * @l:		loop
 * @io:		registration
 * @events:	new interest set
 *
 * Return: 0, or -errno
 */
int vg_io_mod(struct vg_loop *l, struct vg_io *io, uint32_t events);

/**
 * vg_io_del() - unregister; safe to call on an unregistered record
 * @l:	loop
 * @io:	registration; io->fd is set to -1, the fd itself stays open (the
 *	caller saves it beforehand and closes it)
 */
void vg_io_del(struct vg_loop *l, struct vg_io *io);

/**
 * vg_timer_init() - prepare a timer record (not armed)
 * @t:		timer
 * @fn:		callback
 * @arg:	callback argument
 */
void vg_timer_init(struct vg_timer *t, vg_timer_fn fn, void *arg);

/**
 * vg_timer_start() - arm (or re-arm) a timer @ms milliseconds from now
 * @l:	loop
 * @t:	initialised timer
 * @ms:	delay
 *
 * Return: 0, or -ENOSPC when the heap is full
 */
int vg_timer_start(struct vg_loop *l, struct vg_timer *t, uint64_t ms);

/**
 * vg_timer_stop() - disarm a timer; safe if not armed
 * @l:	loop
 * @t:	timer
 */
void vg_timer_stop(struct vg_loop *l, struct vg_timer *t);

/**
 * vg_timer_bound() - keep @t as the bound on a wait: armed @ms from now when
 * something starts waiting (an armed @t keeps its expiry, so it bounds the
 * oldest wait), stopped once nothing waits
 * @l:		loop
 * @t:		timer
 * @waiting:	something still waits for @t
 * @ms:		the longest wait
 *
 * Return: 0, or -ENOSPC when the heap is full (as vg_timer_start())
 */
int vg_timer_bound(struct vg_loop *l, struct vg_timer *t, bool waiting, uint64_t ms);

/**
 * vg_timer_armed() - whether @t is armed
 * @t:	timer
 *
 * Return: true if armed
 */
static inline bool vg_timer_armed(const struct vg_timer *t)
{
	return t->idx >= 0;
}

/**
 * struct vg_io_pause - stops polling one registration for a while, then
 * gives it back its interest set: a listening socket whose accept() fails
 * with EMFILE stays readable (level-triggered), so polling on would spin
 * @loop:	loop
 * @io:		the registration paused
 * @events:	its interest set, restored when the pause ends
 * @timer:	ends the pause
 * @paused:	a pause is running
 */
struct vg_io_pause {
	struct vg_loop *loop;
	struct vg_io *io;
	uint32_t events;
	struct vg_timer timer;
	bool paused;
};

/**
 * vg_io_pause_init() - prepare a pause record for @io (not paused)
 * @p:		record, owned by the caller beside @io
 * @l:		loop
 * @io:		registration
 */
void vg_io_pause_init(struct vg_io_pause *p, struct vg_loop *l, struct vg_io *io);

/**
 * vg_io_pause() - poll @p's registration for nothing during @ms, then for
 * the interest set it had (a second call while paused changes nothing)
 * @p:		initialised record; its io registered
 * @ms:		how long
 *
 * Return: 0, or -errno (the registration is then left as it was)
 */
int vg_io_pause(struct vg_io_pause *p, uint64_t ms);

/**
 * vg_io_pause_stop() - end a pause now without restoring anything (before
 * the registration is deleted); safe when not paused
 * @p:		record
 */
void vg_io_pause_stop(struct vg_io_pause *p);

/**
 * vg_loop_run_once() - wait for events at most @max_wait_ms, dispatch them and
 * expired timers
 * @l:			loop
 * @max_wait_ms:	upper bound on the wait, -1 for "until the next timer"
 *			(under a manual clock: -1 waits until an fd is ready)
 *
 * Return: number of fd events dispatched, or -errno on a fatal epoll error
 */
int vg_loop_run_once(struct vg_loop *l, int max_wait_ms);

/**
 * vg_loop_run() - run until vg_loop_stop() is called
 * @l:	loop
 *
 * Return: 0 when stopped, -errno on a fatal error
 */
int vg_loop_run(struct vg_loop *l);

/**
 * vg_loop_stop() - make vg_loop_run() return after the current iteration
 * @l:	loop
 */
void vg_loop_stop(struct vg_loop *l);

#define VG_LOOP_MAX_IDLE 8

/**
 * vg_loop_add_idle() - add a callback run at the end of every iteration
 * (e.g. flush output queued while handling the iteration's events)
 * @l:		loop
 * @fn:		callback
 * @arg:	argument
 *
 * Return: 0, or -ENOSPC past VG_LOOP_MAX_IDLE callbacks
 */
int vg_loop_add_idle(struct vg_loop *l, vg_timer_fn fn, void *arg);

/**
 * vg_loop_del_idle() - remove a callback added by vg_loop_add_idle()
 * @l:		loop
 * @fn:		callback
 * @arg:	argument
 */
void vg_loop_del_idle(struct vg_loop *l, vg_timer_fn fn, void *arg);

#endif /* VGATE_LOOP_H */
