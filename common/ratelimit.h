/* SPDX-License-Identifier: MIT */
/*
 * ratelimit.h - a fixed-window rate limiter: at most N events per second of
 * a caller-supplied millisecond clock, counting what it refuses so the caller
 * can report "K suppressed" once the second is over. Part of the leaf module
 * common/ (library vgate_common).
 *
 * The caller embeds a struct vg_ratelimit in its own object (all zero is a
 * fresh limiter: no init call) and passes the limit and the clock (e.g.
 * vg_loop_now()) to each call; the limiter keeps no pointer and allocates
 * nothing. The window is the calendar second now_ms / 1000.
 *
 * struct vg_hitlog is the other shape budgets use: a line at the first hit,
 * then at most one per interval, each saying how many hits it covers.
 */
#ifndef VGATE_COMMON_RATELIMIT_H
#define VGATE_COMMON_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/**
 * struct vg_ratelimit - state of one limiter, owned by the caller
 * @sec:	the current window (now_ms / 1000)
 * @n:		events allowed in it so far
 * @dropped:	events refused in it so far
 */
struct vg_ratelimit {
	uint64_t sec;
	unsigned int n;
	uint64_t dropped;
};

/**
 * vg_ratelimit_allow() - account for one event
 * @r:		limiter
 * @per_s:	events allowed in one second
 * @now_ms:	the current time in milliseconds
 * @suppressed:	set to the count of events refused in the previous window
 *		when this event opens a new one, else to 0
 *
 * Return: true when the event is within the limit, false when refused
 */
bool vg_ratelimit_allow(struct vg_ratelimit *r, unsigned int per_s, uint64_t now_ms,
			uint64_t *suppressed);

/**
 * struct vg_hitlog - "a line at the first hit of a bound, then at most one
 * every interval while hits go on", owned by the caller (all zero: fresh)
 * @last_ms:	time of the last line plus one (0: none yet)
 * @hits:	hits since that line
 */
struct vg_hitlog {
	uint64_t last_ms;
	uint64_t hits;
};

/**
 * vg_hitlog_hit() - count one hit of a bound
 * @h:			state
 * @interval_ms:	at most one line per this many milliseconds
 * @now_ms:		the current time in milliseconds
 * @hits:		when a line is due: the hits it reports (this one
 *			included), and the count starts again
 *
 * Return: true when the caller should log a line now
 */
bool vg_hitlog_hit(struct vg_hitlog *h, uint64_t interval_ms, uint64_t now_ms, uint64_t *hits);

#endif
