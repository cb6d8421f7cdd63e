/* SPDX-License-Identifier: MIT */
/*
 * fdbudget.h - the daemon's file-descriptor budget: raise RLIMIT_NOFILE's
 * soft limit to its hard limit at start, then derive the forwarder's flow
 * bounds from the fds really available, keeping a reserve for what must
 * never fail.
 *
 * Every forwarded TCP flow and every UDP mapping holds one host socket, so
 * the bounds are fds: available = RLIMIT_NOFILE - fds open now - reserve,
 * split between TCP and UDP in the ratio of their configured maxima
 * (--max-flows, --max-udp-flows) and never above them. The reserve
 * (vg_fd_reserve()) covers: one socket per concurrent DNS upstream query
 * (dns max_inflight), the control API's listeners, MHD epoll/eventfd pairs
 * and its connection limits (host and guest), the transports (listener and
 * connection), the log file, the pcap file, the loop's epoll and signalfd,
 * and VG_FD_RESERVE_SLACK more for what the libraries open (resolv.conf,
 * /dev/urandom, the allowlist file at a reload).
 *
 * Return convention (cmd/'s): 0 or -1 with errno set; the pure helpers
 * return their value.
 */
#ifndef VGATE_CMD_FDBUDGET_H
#define VGATE_CMD_FDBUDGET_H

#include <stdint.h>

#define VG_FD_RESERVE_SLACK 32

/**
 * struct vg_fd_budget - what the budget was derived from, and the result
 * @limit:	RLIMIT_NOFILE soft limit after raising it
 * @open:	fds open when it was computed
 * @reserve:	fds kept for DNS, the API, transports, log, pcap
 * @tcp:	TCP flow bound (≤ the configured maximum, ≥ 1)
 * @udp:	UDP mapping bound (≤ the configured maximum, ≥ 1)
 */
struct vg_fd_budget {
	uint64_t limit;
	unsigned int open;
	unsigned int reserve;
	unsigned int tcp;
	unsigned int udp;
};

/**
 * vg_fd_raise_limit() - raise RLIMIT_NOFILE's soft limit to its hard limit
 * @limit:	set to the soft limit in force afterwards
 *
 * Return: 0, or -1 (errno set; @limit is then the unchanged soft limit)
 */
int vg_fd_raise_limit(uint64_t *limit);

/**
 * vg_fd_open_count() - the number of fds open now (/proc/self/fd)
 *
 * Return: the count, or 64 when /proc is not readable (a safe guess)
 */
unsigned int vg_fd_open_count(void);

/**
 * vg_fd_reserve() - the fds to keep for what must never fail (see above)
 * @dns_inflight:	the DNS resolver's bound on concurrent upstream queries
 *
 * Return: the reserve
 */
unsigned int vg_fd_reserve(unsigned int dns_inflight);

/**
 * vg_fd_budget_split() - the flow bounds from a limit, the fds open, the
 * reserve and the configured maxima (pure: unit-tested)
 * @b:		limit, open and reserve set; tcp and udp written
 * @max_tcp:	--max-flows
 * @max_udp:	--max-udp-flows
 */
void vg_fd_budget_split(struct vg_fd_budget *b, unsigned int max_tcp, unsigned int max_udp);

#endif
