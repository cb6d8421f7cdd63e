/* SPDX-License-Identifier: MIT */
/*
 * ratelimit.c - the fixed-window limiter of ratelimit.h: one counter per
 * calendar second, reset when the clock enters another second; and the
 * first-hit-then-every-interval counter of budgets (vg_hitlog_hit()).
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

bool vg_hitlog_hit(struct vg_hitlog *h, uint64_t interval_ms, uint64_t now_ms, uint64_t *hits)
{
	h->hits++;
	if (h->last_ms && now_ms + 1 - h->last_ms < interval_ms)
		return false;
	h->last_ms = now_ms + 1;
	*hits = h->hits;
	h->hits = 0;
	return true;
}
