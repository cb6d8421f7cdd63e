/* SPDX-License-Identifier: MIT */
/*
 * ratelimit.c - the fixed-window limiter of ratelimit.h: one counter per
 * calendar second, reset when the clock enters another second.
 */
#include "common/ratelimit.h"

bool vg_ratelimit_allow(struct vg_ratelimit *r, unsigned int per_s, uint64_t now_ms,
			uint64_t *suppressed)
{
	uint64_t sec = now_ms / 1000;

	*suppressed = 0;
	if (sec != r->sec) {
		*suppressed = r->dropped;
		r->sec = sec;
		r->n = 0;
		r->dropped = 0;
	}
	if (r->n >= per_s) {
		r->dropped++;
		return false;
	}
	r->n++;
	return true;
}
