/* SPDX-License-Identifier: MIT */
/*
 * budget.c - the buffer-memory budget of the netstack (ns_config.max_buffer_bytes,
 * --max-buffer-memory): one accountant for everything vgate buffers across
 * guest TCP flows. It calls only log.c; flow.c charges it, port.c gives it
 * the loop turn's end (ns_budget_idle()).
 *
 * Cost model (fixed): a flow is charged, as "held", the bytes lwIP keeps
 * queued towards the guest (sent but unacknowledged, or not yet sent) and
 * the guest's bytes the user has not consumed, each pbuf/segment counted
 * NS_BUDGET_PBUF_COST bytes on top; and, as "windows", the receive window
 * still open to the guest (the guest may fill it without asking, and the
 * out-of-order queue lives inside it). held + windows is what the limit
 * bounds; flow.c derives each flow's charge from its pcb and lists, and
 * moves the flow's struct ns_charge with ns_budget_move(), so the totals
 * are always the sum of the flows' charges.
 *
 * Over the limit, flows get no send space (the forwarder stops reading the
 * host socket) and no new receive window, except a small per-flow floor so
 * that every flow still makes progress; they wait on flow.c's list and are
 * woken when the total falls below the low-water mark (3/4 of the limit).
 * The first hit is logged at once, later ones at most every NS_LOG_MS,
 * with the number of hits in between (log.c, the netstack's one sink). When held memory
 * has fallen far below its recent high, the blocks lwIP's heap keeps for
 * reuse and free heap pages are given back to the system (vg_lwip_heap_trim(),
 * malloc_trim), at most once a second.
 */
#include "internal.h"

#include <string.h>

#include "netstack/lwip/heap.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define NS_BUDGET_TRIM_MS 1000u

void ns_budget_init(struct ns_budget *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit ? limit : NS_BUFFER_BYTES_DEFAULT;
	b->low = b->limit / 4 * 3;
}

void ns_budget_move(struct ns_budget *b, struct ns_charge *c, size_t held, size_t windows)
{
	size_t total;

	b->held = b->held - c->held + held;
	b->windows = b->windows - c->windows + windows;
	c->held = held;
	c->windows = windows;
	total = b->held + b->windows;
	if (total > b->high)
		b->high = total;
	if (b->held > b->held_peak)
		b->held_peak = b->held;
}

size_t ns_budget_room(const struct ns_budget *b)
{
	size_t total = b->held + b->windows;

	return total < b->limit ? b->limit - total : 0;
}

bool ns_budget_below_low(const struct ns_budget *b)
{
	return b->held + b->windows < b->low;
}

/**
 * ns_budget_hit() - a flow was held back by the limit: count it, and log
 * it at the first hit and then at most every NS_LOG_MS (ns_log_hit())
 * @ns:	netstack
 */
void ns_budget_hit(struct ns *ns)
{
	struct ns_budget *b = &ns->budget;

	b->hits++;
	ns_log_hit(ns, &b->hit_log,
		   "netstack: buffer memory budget (%zu bytes) reached: %zu held, %zu in open "
		   "windows; flows held back",
		   b->limit, b->held, b->windows);
}

void ns_budget_idle(struct ns_budget *b, uint64_t now_ms)
{
	if (b->held_peak < (1u << 20) || b->held > b->held_peak / 4)
		return;
	if (b->trim_ms && now_ms - b->trim_ms < NS_BUDGET_TRIM_MS)
		return;
	b->trim_ms = now_ms ? now_ms : 1;
	b->held_peak = b->held;
	vg_lwip_heap_trim();
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}
