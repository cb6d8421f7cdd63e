/* SPDX-License-Identifier: MIT */
/*
 * loop.c - epoll event loop with a fixed-capacity timer min-heap.
 *
 * The heap stores pointers to caller-owned struct vg_timer records; each
 * record knows its own index so vg_timer_stop() is O(log n). Expired timers
 * are popped before their callback runs, so a callback may re-arm itself.
 * Deleting an fd inside a callback is safe: epoll results for a deleted
 * record are skipped by checking io->fd against the fd recorded at dispatch.
 *
 * The clock is l->now, refreshed from CLOCK_MONOTONIC after each wait. A
 * manual clock (tests) is one flag: vg_loop_update_time() leaves l->now
 * alone and vg_loop_advance() moves it timer by timer; the monotonic path
 * pays one predictable branch per iteration.
 *
 * struct vg_io_pause (a timer and the saved interest set) takes a
 * registration off the poll set for a while: listeners out of fds.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define VG_LOOP_MAX_EVENTS 128

struct vg_loop {
	int epfd;
	bool stop;
	bool manual; /* VG_CLOCK_MANUAL: l->now moves only by vg_loop_advance() */
	uint64_t now;
	struct vg_timer **heap;
	size_t nheap;
	size_t capheap;
	struct {
		vg_timer_fn fn;
		void *arg;
	} idle[VG_LOOP_MAX_IDLE];
	/* records dispatched in the current batch; cleared entries were deleted */
	struct vg_io *batch[VG_LOOP_MAX_EVENTS];
	int nbatch;
};

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct vg_loop *vg_loop_new(size_t max_timers)
{
	struct vg_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sizeof(*p) is one */
	l->heap = calloc(max_timers ? max_timers : 1, sizeof(*l->heap));
	l->capheap = max_timers;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!l->heap || l->epfd < 0) {
		int e = errno;

		free(l->heap);
		if (l->epfd >= 0)
			close(l->epfd);
		free(l);
		errno = e ? e : ENOMEM;
		return NULL;
	}
	l->now = monotonic_ms();
	return l;
}

void vg_loop_free(struct vg_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->heap);
	free(l);
}

uint64_t vg_loop_now(const struct vg_loop *l)
{
	return l->now;
}

uint64_t vg_loop_update_time(struct vg_loop *l)
{
	if (!l->manual)
		l->now = monotonic_ms();
	return l->now;
}

int vg_loop_set_clock(struct vg_loop *l, enum vg_clock clock, uint64_t start_ms)
{
	switch (clock) {
	case VG_CLOCK_MONOTONIC:
		l->manual = false;
		l->now = monotonic_ms();
		return 0;
	case VG_CLOCK_MANUAL:
		l->manual = true;
		l->now = start_ms;
		return 0;
	}
	return -EINVAL;
}

int vg_loop_next_timer(const struct vg_loop *l, uint64_t *when)
{
	if (!l->nheap)
		return -ENOENT;
	*when = l->heap[0]->when;
	return 0;
}

int vg_io_add(struct vg_loop *l, struct vg_io *io, int fd, uint32_t events, vg_io_fn fn, void *arg)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	io->fd = fd;
	io->events = events;
	io->fn = fn;
	io->arg = arg;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		io->fd = -1;
		return -errno;
	}
	return 0;
}

int vg_io_mod(struct vg_loop *l, struct vg_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	if (io->fd < 0)
		return -EBADF;
	if (io->events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

void vg_io_del(struct vg_loop *l, struct vg_io *io)
{
	int i;

	if (io->fd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	for (i = 0; i < l->nbatch; i++)
		if (l->batch[i] == io)
			l->batch[i] = NULL;
	io->fd = -1;
}

void vg_timer_init(struct vg_timer *t, vg_timer_fn fn, void *arg)
{
	t->when = 0;
	t->idx = -1;
	t->fn = fn;
	t->arg = arg;
}

/* vg_io_pause's timer: poll the registration again for what it had */
static void pause_end(void *arg)
{
	struct vg_io_pause *p = arg;

	p->paused = false;
	if (p->io->fd >= 0)
		vg_io_mod(p->loop, p->io, p->events);
}

void vg_io_pause_init(struct vg_io_pause *p, struct vg_loop *l, struct vg_io *io)
{
	p->loop = l;
	p->io = io;
	p->events = 0;
	p->paused = false;
	vg_timer_init(&p->timer, pause_end, p);
}

int vg_io_pause(struct vg_io_pause *p, uint64_t ms)
{
	uint32_t events = p->io->events;
	int rc;

	if (p->paused)
		return 0;
	rc = vg_timer_start(p->loop, &p->timer, ms);
	if (rc < 0)
		return rc;
	rc = vg_io_mod(p->loop, p->io, 0);
	if (rc < 0) {
		vg_timer_stop(p->loop, &p->timer);
		return rc;
	}
	p->events = events;
	p->paused = true;
	return 0;
}

void vg_io_pause_stop(struct vg_io_pause *p)
{
	if (p->loop)
		vg_timer_stop(p->loop, &p->timer);
	p->paused = false;
}

static void heap_set(struct vg_loop *l, size_t i, struct vg_timer *t)
{
	l->heap[i] = t;
	t->idx = (int)i;
}

static void heap_up(struct vg_loop *l, size_t i)
{
	struct vg_timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (l->heap[parent]->when <= t->when)
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void heap_down(struct vg_loop *l, size_t i)
{
	struct vg_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (t->when <= l->heap[c]->when)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

int vg_timer_bound(struct vg_loop *l, struct vg_timer *t, bool waiting, uint64_t ms)
{
	if (!waiting) {
		vg_timer_stop(l, t);
		return 0;
	}
	return t->idx >= 0 ? 0 : vg_timer_start(l, t, ms);
}

void vg_timer_stop(struct vg_loop *l, struct vg_timer *t)
{
	size_t i;
	struct vg_timer *last;

	if (t->idx < 0)
		return;
	i = (size_t)t->idx;
	t->idx = -1;
	last = l->heap[--l->nheap];
	if (i == l->nheap)
		return;
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, (size_t)last->idx);
}

int vg_timer_start(struct vg_loop *l, struct vg_timer *t, uint64_t ms)
{
	vg_timer_stop(l, t);
	if (l->nheap >= l->capheap)
		return -ENOSPC;
	t->when = l->now + ms;
	heap_set(l, l->nheap++, t);
	heap_up(l, (size_t)t->idx);
	return 0;
}

static void run_timers(struct vg_loop *l)
{
	while (l->nheap && l->heap[0]->when <= l->now) {
		struct vg_timer *t = l->heap[0];

		vg_timer_stop(l, t);
		t->fn(t->arg);
	}
}

int vg_loop_advance(struct vg_loop *l, uint64_t ms)
{
	uint64_t end = l->now + ms;
	int n = 0;

	if (!l->manual)
		return -EINVAL;
	while (l->nheap && l->heap[0]->when <= end) {
		struct vg_timer *t = l->heap[0];

		if (t->when > l->now)
			l->now = t->when;
		vg_timer_stop(l, t);
		t->fn(t->arg);
		n++;
	}
	l->now = end;
	return n;
}

int vg_loop_run_once(struct vg_loop *l, int max_wait_ms)
{
	struct epoll_event ev[VG_LOOP_MAX_EVENTS];
	int timeout = max_wait_ms;
	int n, i;

	if (l->nheap && !l->manual) {
		uint64_t when = l->heap[0]->when;
		int until = when > l->now ? (int)(when - l->now) : 0;

		if (until > 60000)
			until = 60000;
		if (timeout < 0 || until < timeout)
			timeout = until;
	}
	n = epoll_wait(l->epfd, ev, VG_LOOP_MAX_EVENTS, timeout);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	vg_loop_update_time(l);
	for (i = 0; i < n; i++)
		l->batch[i] = ev[i].data.ptr;
	l->nbatch = n;
	for (i = 0; i < n; i++) {
		struct vg_io *io = l->batch[i];

		if (io)
			io->fn(io->arg, ev[i].events);
	}
	l->nbatch = 0;
	run_timers(l);
	for (i = 0; i < VG_LOOP_MAX_IDLE; i++)
		if (l->idle[i].fn)
			l->idle[i].fn(l->idle[i].arg);
	return n;
}

int vg_loop_run(struct vg_loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int r = vg_loop_run_once(l, -1);

		if (r < 0)
			return r;
	}
	return 0;
}

void vg_loop_stop(struct vg_loop *l)
{
	l->stop = true;
}

int vg_loop_add_idle(struct vg_loop *l, vg_timer_fn fn, void *arg)
{
	int i;

	for (i = 0; i < VG_LOOP_MAX_IDLE; i++) {
		if (!l->idle[i].fn) {
			l->idle[i].fn = fn;
			l->idle[i].arg = arg;
			return 0;
		}
	}
	return -ENOSPC;
}

void vg_loop_del_idle(struct vg_loop *l, vg_timer_fn fn, void *arg)
{
	int i;

	for (i = 0; i < VG_LOOP_MAX_IDLE; i++)
		if (l->idle[i].fn == fn && l->idle[i].arg == arg)
			l->idle[i].fn = NULL;
}
