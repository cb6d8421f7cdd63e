/* SPDX-License-Identifier: MIT */
/*
 * addr.c - the forwarder's address mapping, shared by tcp.c, udp.c and
 * portfwd.c, for both families: the address a guest destination is dialled
 * at (the host alias is 127.0.0.1, the IPv6 host alias ::1, with --nat64 a
 * 64:ff9b::a.b.c.d destination is dialled as IPv4 at a.b.c.d), the outbound
 * policy of that address, the gateway's own addresses, socket addresses
 * (sockaddr_in or sockaddr_in6), the guest's address for inbound port
 * forwards and the host alias they come from (IPv4: from the netstack's
 * DHCP leases; IPv6: the source of the guest's latest IPv6 flow), the
 * report of a flow the outbound policy refused, martian destinations and
 * budget hits (counted by the callers, logged here at a bounded rate).
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
#include <sys/socket.h>

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

/* whether the 16 bytes @a are all zero (an unset IPv6 address) */
static bool zero6(const uint8_t *a)
{
	static const uint8_t z[16];

	return !memcmp(a, z, 16);
}

/**
 * fwd_dialled() - the endpoint a guest destination is dialled at
 * @fwd:	forwarder
 * @dst:	destination the guest used
 *
 * Return: 127.0.0.1 for the host alias, ::1 for the IPv6 host alias
 * (cfg.host_ip6, when set), with cfg.nat64 the IPv4 address embedded in a
 * 64:ff9b::/96 destination (itself mapped as an IPv4 destination: the
 * host alias is 127.0.0.1), else @dst; the port unchanged
 */
struct ns_addr fwd_dialled(const struct fwd *fwd, const struct ns_addr *dst)
{
	struct ns_addr a = *dst;

	if (!ns_addr_is_v6(dst)) {
		a.ip = fwd_map_dst(fwd, dst->ip);
	} else if (fwd->cfg.nat64 && vg_nat64_is(dst->ip6)) {
		a = ns_addr_v4(fwd_map_dst(fwd, vg_nat64_extract(dst->ip6)), dst->port);
	} else if (!zero6(fwd->cfg.host_ip6) && !memcmp(dst->ip6, fwd->cfg.host_ip6, 16)) {
		memset(a.ip6, 0, 16);
		a.ip6[15] = 1;
	}
	return a;
}

/**
 * fwd_allowed() - whether the outbound policy lets a new flow to @dst out:
 * the policy of the family of the address dialled (fwd_dialled())
 * @fwd:	forwarder
 * @dst:	destination the guest used
 *
 * Return: true if allowed
 */
bool fwd_allowed(const struct fwd *fwd, const struct ns_addr *dst)
{
	struct ns_addr d = fwd_dialled(fwd, dst);

	if (ns_addr_is_v6(&d))
		return fwd_policy_allows6(&fwd->cfg.policy, d.ip6);
	return fwd_policy_allows(&fwd->cfg.policy, d.ip);
}

/**
 * fwd_is_gateway() - whether @dst is the gateway's own address (cfg.gateway_ip,
 * or cfg.gateway_ip6 when set): never forwarded
 * @fwd:	forwarder
 * @dst:	destination
 *
 * Return: true for the gateway
 */
bool fwd_is_gateway(const struct fwd *fwd, const struct ns_addr *dst)
{
	if (!ns_addr_is_v6(dst))
		return dst->ip == fwd->cfg.gateway_ip;
	return !zero6(fwd->cfg.gateway_ip6) && !memcmp(dst->ip6, fwd->cfg.gateway_ip6, 16);
}

/**
 * fwd_martian_dst() - fwd_martian() for either family: an IPv6 destination
 * is a martian when unspecified (::, which Linux connects to loopback),
 * multicast (ff00::/8), or the v4-mapped form of an IPv4 martian; with
 * cfg.nat64, a 64:ff9b::/96 destination whose embedded IPv4 address is one
 * @fwd:	forwarder
 * @dst:	destination as the guest sent it
 *
 * Return: true to drop
 */
bool fwd_martian_dst(const struct fwd *fwd, const struct ns_addr *dst)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	uint32_t ip;

	if (!ns_addr_is_v6(dst))
		return fwd_martian(dst->ip);
	if (fwd->cfg.nat64 && vg_nat64_is(dst->ip6))
		return fwd_martian(vg_nat64_extract(dst->ip6));
	if (zero6(dst->ip6) || dst->ip6[0] == 0xff)
		return true;
	if (memcmp(dst->ip6, mapped, 12))
		return false;
	memcpy(&ip, dst->ip6 + 12, 4);
	return fwd_martian(ip);
}

/**
 * fwd_sockaddr() - fill a socket address for @a
 * @ss:	a struct sockaddr_storage (void * keeps <sys/socket.h> out of
 *	internal.h)
 * @a:	endpoint, either family
 *
 * Return: the address's length (sizeof sockaddr_in or sockaddr_in6)
 */
unsigned int fwd_sockaddr(void *ss, const struct ns_addr *a)
{
	struct sockaddr_in6 *s6 = ss;

	if (!ns_addr_is_v6(a)) {
		fwd_set_sockaddr(ss, a->ip, a->port);
		return sizeof(struct sockaddr_in);
	}
	memset(s6, 0, sizeof(*s6));
	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, a->ip6, 16);
	s6->sin6_port = htons(a->port);
	return sizeof(*s6);
}

/**
 * fwd_sockaddr_addr() - the endpoint of a socket address
 * @ss:	a struct sockaddr_storage filled by the kernel
 * @ok:	set to false for a family other than AF_INET and AF_INET6
 *
 * Return: the endpoint
 */
struct ns_addr fwd_sockaddr_addr(const void *ss, bool *ok)
{
	const struct sockaddr_storage *st = ss;

	*ok = true;
	if (st->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = ss;

		return ns_addr_v4(s4->sin_addr.s_addr, ntohs(s4->sin_port));
	}
	if (st->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = ss;

		return ns_addr_v6(s6->sin6_addr.s6_addr, ntohs(s6->sin6_port));
	}
	*ok = false;
	return ns_addr_v4(0, 0);
}

/**
 * fwd_guest6_seen() - remember the source of a guest IPv6 flow as the
 * guest's address for port forwards over IPv6 (link-local sources are
 * not: forwards connect from the host alias in the guest's prefix)
 * @fwd:	forwarder
 * @src:	guest endpoint of a new flow
 */
void fwd_guest6_seen(struct fwd *fwd, const struct ns_addr *src)
{
	if (!ns_addr_is_v6(src) || (src->ip6[0] == 0xfe && (src->ip6[1] & 0xc0) == 0x80))
		return;
	fwd->guest6 = *src;
	fwd->guest6.port = 0;
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
 * @proto:	FWD_TCP, FWD_UDP or FWD_ICMP
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
 * fwd_inbound_ends() - the two ends of a port forward's flow to the guest:
 * from the host alias to the forward's guest address, else to the guest's
 * own (IPv4: the bound DHCP lease that expires last, the most recently
 * renewed). A forward on an IPv6 host address without a guest address goes
 * over IPv6, from the IPv6 host alias to the guest's IPv6 address, when
 * both are known; otherwise over IPv4.
 * @fwd:	forwarder
 * @spec:	the forward
 * @src:	set to the host alias (port 0)
 * @dst:	set to the guest address, with the forward's guest port
 *
 * Return: true, or false while the guest's address is unknown
 */
bool fwd_inbound_ends(const struct fwd *fwd, const struct fwd_forward *spec, struct ns_addr *src,
		      struct ns_addr *dst)
{
	bool ok = true;

	if (ns_addr_is_v6(&spec->host) && !spec->guest_ip && ns_addr_is_v6(&fwd->guest6) &&
	    !vg_ip6_unspecified(fwd->cfg.host_ip6)) {
		*src = ns_addr_v6(fwd->cfg.host_ip6, 0);
		*dst = fwd->guest6;
	} else {
		*src = ns_addr_v4(fwd->cfg.host_ip, 0);
		*dst = ns_addr_v4(spec->guest_ip, 0);
		if (!spec->guest_ip)
			ok = fwd->ns && ns_lease_latest(fwd->ns, &dst->ip) == 0;
	}
	dst->port = spec->guest_port;
	return ok;
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
 * @proto:	FWD_TCP, FWD_UDP or FWD_ICMP
 * @dst:	the destination, either family
 */
void fwd_martian_hit(struct fwd *fwd, enum fwd_proto proto, const struct ns_addr *dst)
{
	char line[192], a[INET6_ADDRSTRLEN];
	uint64_t hits;

	if (!vg_hitlog_hit(&fwd->martian_log, FWD_BUDGET_LOG_MS, vg_loop_now(fwd->loop), &hits) ||
	    !fwd->cfg.budget)
		return;
	if (ns_addr_is_v6(dst))
		inet_ntop(AF_INET6, dst->ip6, a, sizeof(a));
	else
		inet_ntop(AF_INET, &dst->ip, a, sizeof(a));
	snprintf(line, sizeof(line),
		 "forwarder: dropped guest %s to martian destination %s (%" PRIu64
		 " since the last such line)",
		 fwd_proto_name(proto), a, hits);
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
