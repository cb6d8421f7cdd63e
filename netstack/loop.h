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
 * vg_loop_update_time() - re-read the monotonic clock
 * @l:	loop
 *
 * Return: the new vg_loop_now() value
 */
uint64_t vg_loop_update_time(struct vg_loop *l);

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
 * @io:	registration; io->fd is left as it was (the caller closes it)
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
 * vg_loop_run_once() - wait for events at most @max_wait_ms, dispatch them and
 * expired timers
 * @l:			loop
 * @max_wait_ms:	upper bound on the wait, -1 for "until the next timer"
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
