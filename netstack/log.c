/* SPDX-License-Identifier: MIT */
/*
 * log.c - the netstack's log lines: a drop or a bound hit for the first
 * time, then at most one line per NS_LOG_MS for each kind (a struct
 * vg_hitlog in struct ns), each with the number of hits it covers, to the
 * sink set with ns_set_log(). The netstack has no logger of its own (it
 * knows nothing of cmd/): without a sink it only counts. A leaf: called
 * by link.c, transport.c and budget.c, calls nothing of the netstack.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

void ns_set_log(struct ns *ns, ns_log_fn fn, void *ctx)
{
	ns->log = fn;
	ns->log_ctx = fn ? ctx : NULL;
}

/**
 * ns_log_hit() - count a hit of @h; at the first and then at most every
 * NS_LOG_MS, log the formatted line with the hits it covers
 * @ns:		netstack
 * @h:		which kind of hit
 * @fmt:	printf format of the line
 */
void ns_log_hit(struct ns *ns, struct vg_hitlog *h, const char *fmt, ...)
{
	char line[256];
	uint64_t hits;
	va_list ap;
	int n;

	if (!vg_hitlog_hit(h, NS_LOG_MS, vg_loop_now(ns->loop), &hits) || !ns->log)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, " (%llu since the last such line)",
			 (unsigned long long)hits);
	ns->log(ns->log_ctx, line);
}
