/* SPDX-License-Identifier: MIT */
/*
 * addr.c - the forwarder's address mapping, shared by tcp.c, udp.c and
 * portfwd.c: the address a guest destination is dialled at (the host alias
 * is 127.0.0.1), socket addresses, the guest's address for inbound port
 * forwards (from the netstack's DHCP leases), the report of a flow the
 * outbound policy refused, martian destinations and budget hits (counted by
 * the callers, logged here at a bounded rate).
 *
 * A leaf of forwarder/: it calls only the netstack and common/, never
 * another forwarder file, so the files that use it form no call cycle with
 * fwd.c. Stateless: everything lives in struct fwd (internal.h).
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/netutil.h"

/**
 * fwd_map_dst() - the address a guest destination is dialled at
 * @fwd:	forwarder
 * @ip:		destination the guest used (network order)
 *
 * Return: 127.0.0.1 for the host alias, else @ip
 */
uint32_t fwd_map_dst(const struct fwd *fwd, uint32_t ip)
{
	return vg_host_alias_dial(fwd->cfg.host_ip, ip);
}

/**
 * fwd_set_sockaddr() - fill a struct sockaddr_in
 * @sin_:	the struct sockaddr_in (void * keeps <netinet/in.h> out of
 *		internal.h)
 * @ip:		address (network order)
 * @port:	port (host order)
 */
void fwd_set_sockaddr(void *sin_, uint32_t ip, uint16_t port)
{
	struct sockaddr_in *sin = sin_;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = ip;
	sin->sin_port = htons(port);
}

/**
 * fwd_report_denied() - tell cfg.denied (when set) that the outbound policy
 * refused a new guest flow
 * @fwd:	forwarder
 * @proto:	FWD_TCP or FWD_UDP
 * @src:	guest endpoint
 * @dst:	destination the guest dialled
 */
void fwd_report_denied(struct fwd *fwd, enum fwd_proto proto, const struct ns_addr *src,
		       const struct ns_addr *dst)
{
	struct fwd_denied ev = {.proto = proto, .src = *src, .dst = *dst};

	if (fwd->cfg.denied)
		fwd->cfg.denied(fwd->cfg.denied_ctx, &ev);
}

/**
 * fwd_guest_addr() - the guest's address for port forwards: the bound DHCP
 * lease that expires last (the most recently renewed)
 * @fwd:	forwarder
 * @ok:		set to false when the guest has no lease
 *
 * Return: the address (port 0)
 */
struct ns_addr fwd_guest_addr(const struct fwd *fwd, bool *ok)
{
	struct ns_addr a = ns_addr_v4(0, 0);

	*ok = fwd->ns && ns_lease_latest(fwd->ns, &a.ip) == 0;
	return a;
}

/**
 * fwd_martian() - whether a guest destination must never be dialled:
 * 0.0.0.0/8 (Linux connects 0.0.0.0 to loopback, past any policy on
 * 127.0.0.0/8), multicast 224.0.0.0/4, and 240.0.0.0/4 with the limited
 * broadcast 255.255.255.255
 * @ip:	destination as the guest sent it (network order)
 *
 * Return: true to drop
 */
bool fwd_martian(uint32_t ip)
{
	uint32_t h = ntohl(ip);

	return (h >> 24) == 0 || (h >> 28) == 0xe || (h >> 28) == 0xf;
}

/**
 * fwd_fd_exhausted() - whether a socket()/accept() errno means "out of fds"
 * @err:	errno
 *
 * Return: true for EMFILE (the process's limit) or ENFILE (the system's)
 */
bool fwd_fd_exhausted(int err)
{
	return err == EMFILE || err == ENFILE;
}

/**
 * fwd_martian_hit() - tell cfg.budget of a flow to a martian destination
 * dropped (the caller counts it): at the first, then at most every
 * FWD_BUDGET_LOG_MS
 * @fwd:	forwarder
 * @proto:	FWD_TCP or FWD_UDP
 * @ip:		the destination (network order)
 */
void fwd_martian_hit(struct fwd *fwd, enum fwd_proto proto, uint32_t ip)
{
	const uint8_t *b = (const uint8_t *)&ip;
	char line[160];
	uint64_t hits;

	if (!vg_hitlog_hit(&fwd->martian_log, FWD_BUDGET_LOG_MS, vg_loop_now(fwd->loop), &hits) ||
	    !fwd->cfg.budget)
		return;
	snprintf(line, sizeof(line),
		 "forwarder: dropped guest %s to martian destination %u.%u.%u.%u (%" PRIu64
		 " since the last such line)",
		 proto == FWD_TCP ? "TCP" : "UDP", b[0], b[1], b[2], b[3], hits);
	fwd->cfg.budget(fwd->cfg.budget_ctx, line);
}

/**
 * fwd_budget_hit() - count a hit of a flow bound or of the fd supply and
 * tell cfg.budget at the first one, then at most every FWD_BUDGET_LOG_MS
 * @fwd:	forwarder
 * @what:	which bound ("tcp flow budget", "udp flow budget", "fds")
 */
void fwd_budget_hit(struct fwd *fwd, const char *what)
{
	char line[192];
	uint64_t hits;

	if (!vg_hitlog_hit(&fwd->budget_log, FWD_BUDGET_LOG_MS, vg_loop_now(fwd->loop), &hits))
		return;
	snprintf(line, sizeof(line),
		 "forwarder: %s reached (tcp max %zu, udp max %zu): %" PRIu64
		 " flows refused or evicted since the last report",
		 what, fwd->tcp_tab.max, fwd->udp_tab.max, hits);
	if (fwd->cfg.budget)
		fwd->cfg.budget(fwd->cfg.budget_ctx, line);
}
