/* SPDX-License-Identifier: MIT */
/*
 * netstack.c - creation, configuration and teardown of struct ns: the
 * config defaults and checks, ns_new() (DHCP and DHCPv6 servers, lwIP
 * engine, and the callbacks that join the layers: transport frames go to
 * ns_link_input(), the engine's IP packets to ns_link_send_ip()), ns_free() in reverse
 * order, and the read-only views (stats, leases) and the capture hook.
 *
 * Call graph of netstack/'s files (no cycles; arrows point at the callee):
 * netstack.c -> link.c, transport.c, port.c (the engine), dhcp.c, budget.c,
 * common/;
 * link.c -> transport.c, input.c (the engine), dhcp.c, dhcp6.c, ndp.c, frame.c,
 * log.c;
 * ndp.c -> frame.c, common/;
 * transport.c -> frame.c, log.c, and frames up through ns->frame_in only;
 * log.c -> common/ only;
 * the engine (engine.h) -> frame.c, packets down through ns->ip_out only, and
 * the room in the guest's queue through ns->tx_room.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"

static uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

void ns_config_defaults(struct ns_config *c)
{
	static const uint8_t mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd};

	memset(c, 0, sizeof(*c));
	c->subnet = ip4(192, 168, 127, 0);
	c->prefix = 24;
	c->gateway_ip = ip4(192, 168, 127, 1);
	c->host_ip = ip4(192, 168, 127, 254);
	memcpy(c->gw_mac, mac, 6);
	c->mtu = NS_MTU_DEFAULT;
	c->lease_s = 3600;
	c->max_buffer_bytes = NS_BUFFER_BYTES_DEFAULT;
	inet_pton(AF_INET6, "fd00:7661:7465::", c->subnet6); /* NS_SUBNET6_DEFAULT */
	c->prefix6 = 64;
}

/* the @n bytes at @a are all zero (@n at most 16) */
static bool ip6_zero(const uint8_t *a, size_t n)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, n);
}

/**
 * config_check6() - validate and complete the IPv6 part of a config
 * @c:		config
 * @err:	message buffer
 * @errlen:	its size
 *
 * Return: 0, or -EINVAL with @err set
 */
static int config_check6(struct ns_config *c, char *err, size_t errlen)
{
	if (c->mtu < NS_MTU_MIN6)
		c->no_ipv6 = true; /* IPv6 needs 1280 */
	if (c->prefix6 != 64) {
		snprintf(err, errlen, "IPv6 subnet prefix /%u: must be /64 (SLAAC)", c->prefix6);
		return -EINVAL;
	}
	memset(c->subnet6 + 8, 0, 8);
	if (c->subnet6[0] == 0xff || (c->subnet6[0] == 0xfe && (c->subnet6[1] & 0xc0) == 0x80) ||
	    ip6_zero(c->subnet6, 16)) {
		snprintf(err, errlen, "IPv6 subnet: must be a unicast, not link-local, prefix");
		return -EINVAL;
	}
	if (ip6_zero(c->gateway6, 16)) {
		memcpy(c->gateway6, c->subnet6, 8);
		c->gateway6[15] = 1;
	}
	if (ip6_zero(c->host6, 16)) {
		memcpy(c->host6, c->subnet6, 8);
		c->host6[14] = 0x02; /* PREFIX::254, as IPv4's .254 reads */
		c->host6[15] = 0x54;
	}
	if (memcmp(c->gateway6, c->subnet6, 8) || memcmp(c->host6, c->subnet6, 8) ||
	    !memcmp(c->gateway6, c->host6, 16) || ip6_zero(c->gateway6 + 8, 8) ||
	    ip6_zero(c->host6 + 8, 8)) {
		snprintf(err, errlen,
			 "IPv6 gateway and host alias must be distinct host addresses "
			 "of the IPv6 subnet");
		return -EINVAL;
	}
	return 0;
}

/**
 * static_leases_check() - the static DHCP leases of @c: inside the DHCP
 * range, not the gateway or host alias, no MAC or address twice
 * @c:		config (DHCP range set)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -EINVAL with @err set
 */
static int static_leases_check(const struct ns_config *c, char *err, size_t errlen)
{
	size_t i, j;

	if (c->n_dhcp_static > NS_DHCP_STATIC_MAX) {
		snprintf(err, errlen, "too many static DHCP leases (max %d)", NS_DHCP_STATIC_MAX);
		return -EINVAL;
	}
	for (i = 0; i < c->n_dhcp_static; i++) {
		uint32_t ip = c->dhcp_static[i].ip;
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &ip, a, sizeof(a));
		if (ntohl(ip) < ntohl(c->dhcp_first) || ntohl(ip) > ntohl(c->dhcp_last) ||
		    ip == c->gateway_ip || ip == c->host_ip) {
			snprintf(err, errlen,
				 "static DHCP lease %s: not a guest address of the DHCP range", a);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (c->dhcp_static[j].ip == ip ||
			    !memcmp(c->dhcp_static[j].mac, c->dhcp_static[i].mac, 6)) {
				snprintf(err, errlen,
					 "static DHCP lease %s: address or MAC given twice", a);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int ns_config_check(struct ns_config *c, char *err, size_t errlen)
{
	uint32_t m, bcast;

	if (c->prefix < 8 || c->prefix > 30) {
		snprintf(err, errlen, "subnet prefix /%u: must be between /8 and /30", c->prefix);
		return -EINVAL;
	}
	m = vg_ip4_mask(c->prefix);
	c->subnet &= m;
	bcast = vg_ip4_broadcast(c->subnet, c->prefix);
	if (!vg_ip4_in_subnet(c->gateway_ip, c->subnet, c->prefix) || c->gateway_ip == c->subnet ||
	    c->gateway_ip == bcast) {
		snprintf(err, errlen, "gateway IP is not a host address of the subnet");
		return -EINVAL;
	}
	if (!vg_ip4_in_subnet(c->host_ip, c->subnet, c->prefix) || c->host_ip == c->subnet ||
	    c->host_ip == bcast || c->host_ip == c->gateway_ip) {
		snprintf(err, errlen,
			 "host IP must be a host address of the subnet, not the gateway");
		return -EINVAL;
	}
	if (c->mtu < NS_MTU_MIN || c->mtu > NS_MTU_MAX) {
		snprintf(err, errlen, "MTU %u: must be between %d and %d", c->mtu, NS_MTU_MIN,
			 NS_MTU_MAX);
		return -EINVAL;
	}
	if (!c->dhcp_first)
		c->dhcp_first = htonl(ntohl(c->subnet) + 2);
	if (!c->dhcp_last)
		c->dhcp_last = htonl(ntohl(bcast) - 2);
	if (!vg_ip4_in_subnet(c->dhcp_first, c->subnet, c->prefix) ||
	    !vg_ip4_in_subnet(c->dhcp_last, c->subnet, c->prefix) ||
	    ntohl(c->dhcp_last) < ntohl(c->dhcp_first)) {
		snprintf(err, errlen, "DHCP range is not inside the subnet");
		return -EINVAL;
	}
	if (!c->lease_s)
		c->lease_s = 3600;
	if (static_leases_check(c, err, errlen) < 0)
		return -EINVAL;
	return config_check6(c, err, errlen);
}

/**
 * dhcp6_setup() - start the DHCPv6 server on the guest /64 (leases
 * PREFIX::100 upward, DNS the gateway's PREFIX::1, the search list the RA's
 * DNSSL has) and tell the RA whether to set the M flag
 * @ns:	netstack, its IPv6 link set up (ns_link_init6())
 *
 * Return: 0, or a negative errno from dhcp6_init()
 */
static int dhcp6_setup(struct ns *ns)
{
	const struct ns_config *cfg = &ns->cfg;
	struct dhcp6_config c;
	int rc;

	memset(&c, 0, sizeof(c));
	memcpy(c.server_mac, cfg->gw_mac, 6);
	memcpy(c.prefix, cfg->subnet6, 16);
	memcpy(c.dns, cfg->gateway6, 16);
	c.first = DHCP6_FIRST_DEFAULT;
	c.count = DHCP6_LEASES_DEFAULT;
	c.lease_s = cfg->lease_s;
	c.search = cfg->search[0] ? cfg->search : cfg->domain;
	c.stateful = !cfg->dhcp6_stateless;
	rc = dhcp6_init(&ns->dhcp6, &c);
	if (rc < 0)
		return rc;
	ndp_set_managed(&ns->nd, dhcp6_ra_flags(&ns->dhcp6) & DHCP6_RA_MANAGED);
	return 0;
}

struct ns *ns_new(struct vg_loop *loop, const struct ns_config *cfg)
{
	struct dhcp_config dc;
	struct ns *ns = calloc(1, sizeof(*ns));

	if (!ns)
		return NULL;
	ns->loop = loop;
	ns->cfg = *cfg;
	ns->netmask = vg_ip4_mask(cfg->prefix);
	ns->max_frame = ETH_MAX_FRAME(cfg->mtu);
	ns->rx_frame_max = ns->max_frame;
	ns->tr.io.fd = ns->tr.wio.fd = ns->tr.listen_io.fd = -1;
	ns->frame_in = ns_link_input; /* transport -> link */
	ns->ip_out = ns_link_send_ip; /* engine -> link */
	ns->ip6_out = ns_link_send_ip6;
	ns->tx_room = ns_transport_room; /* engine -> transport: a query only */
	ns_budget_init(&ns->budget, cfg->max_buffer_bytes);
	memset(&dc, 0, sizeof(dc));
	dc.server_ip = cfg->gateway_ip;
	dc.netmask = ns->netmask;
	dc.router = cfg->gateway_ip;
	dc.dns = cfg->gateway_ip;
	dc.first = cfg->dhcp_first;
	dc.last = cfg->dhcp_last;
	dc.lease_s = cfg->lease_s;
	dc.mtu = (uint16_t)cfg->mtu;
	dc.domain = cfg->domain;
	dc.search = cfg->search;
	dc.n_statics = 0;
	for (; dc.n_statics < cfg->n_dhcp_static && dc.n_statics < DHCP_MAX_STATIC;
	     dc.n_statics++) {
		memcpy(dc.statics[dc.n_statics].mac, cfg->dhcp_static[dc.n_statics].mac, 6);
		dc.statics[dc.n_statics].ip = cfg->dhcp_static[dc.n_statics].ip;
	}
	if (dhcp_init(&ns->dhcp, &dc) < 0 || ns_engine_init(ns) < 0) {
		dhcp_free(&ns->dhcp);
		free(ns);
		errno = ENOMEM;
		return NULL;
	}
	ns_link_init6(ns);
	if (!cfg->no_ipv6 && dhcp6_setup(ns) < 0) {
		ns_free(ns);
		errno = ENOMEM;
		return NULL;
	}
	return ns;
}

void ns_free(struct ns *ns)
{
	if (!ns)
		return;
	ns_link_free6(ns);
	ns_transport_close(ns);
	ns_engine_free(ns);
	dhcp_free(&ns->dhcp);
	dhcp6_free(&ns->dhcp6);
	free(ns);
}

void ns_get_stats(const struct ns *ns, struct ns_stats *st)
{
	*st = ns->st;
	st->drop_tx_queue = ns->tr.txq.dropped;
	st->drop_oversize += ns->tr.dec.oversize;
	st->drop_bad_length += ns->tr.dec.bad_length;
	st->transport_desync = ns->tr.dec.desync;
	st->tx_queued_bytes = txq_len(&ns->tr.txq);
	st->buffer_limit = ns->budget.limit;
	st->buffer_held = ns->budget.held;
	st->buffer_windows = ns->budget.windows;
	st->buffer_high = ns->budget.high;
	st->buffer_hits = ns->budget.hits;
	st->buffer_paused = ns->budget.paused;
	st->drop_nd = ns->nd.st.bad;
	st->nd_ns_in = ns->nd.st.ns_in;
	st->nd_na_out = ns->nd.st.na_out;
	st->nd_dad_defended = ns->nd.st.dad_defended;
	st->nd_dad_seen = ns->nd.st.dad_seen;
	st->nd_na_in = ns->nd.st.na_in;
	st->nd_conflict = ns->nd.st.conflict;
	st->nd_ns_out = ns->nd.st.ns_out;
	st->nd_rs_in = ns->nd.st.rs_in;
	st->nd_rs_limited = ns->nd.st.rs_limited;
	st->nd_ra_out = ns->nd.st.ra_out;
	st->nd_ignored = ns->nd.st.ignored;
}

size_t ns_neighbours(const struct ns *ns, struct ns_neighbour *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < NS_NEIGH_MAX && n < max; i++) {
		const struct ns_neigh *g = &ns->neigh[i];

		if (!g->seen_ms)
			continue;
		out[n].ip = g->ip;
		memcpy(out[n].mac, g->mac, 6);
		out[n].seen_ms = g->seen_ms;
		n++;
	}
	return n;
}

size_t ns_leases(const struct ns *ns, struct ns_lease *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < ns->dhcp.nleases && n < max; i++) {
		const struct dhcp_lease *l;
		uint32_t ip;

		if (!(l = dhcp_lease_at(&ns->dhcp, i, &ip)))
			continue;
		memcpy(out[n].mac, l->mac, 6);
		out[n].ip = ip;
		out[n].family = NS_AF_INET;
		memset(out[n].ip6, 0, sizeof(out[n].ip6));
		out[n].expires_ms = l->bound ? l->expires_ms : 0;
		memcpy(out[n].hostname, l->hostname, sizeof(out[n].hostname));
		n++;
	}
	for (i = 0; i < ns->dhcp6.cfg.count && n < max; i++) {
		const struct dhcp6_lease *l;

		if (!(l = dhcp6_lease_at(&ns->dhcp6, i, vg_loop_now(ns->loop), out[n].ip6)))
			continue;
		memcpy(out[n].mac, l->mac, 6);
		out[n].ip = 0;
		out[n].family = NS_AF_INET6;
		out[n].expires_ms = l->state == DHCP6_LEASE_BOUND ? l->expires_ms : 0;
		memcpy(out[n].hostname, l->hostname, sizeof(out[n].hostname));
		n++;
	}
	return n;
}

int ns_lease_latest(const struct ns *ns, uint32_t *ip)
{
	uint64_t best = 0;
	bool found = false;
	size_t i;

	for (i = 0; i < ns->dhcp.nleases; i++) {
		const struct dhcp_lease *l;
		uint32_t a;

		l = dhcp_lease_at(&ns->dhcp, i, &a);
		if (l && l->bound && l->expires_ms && l->expires_ms >= best) {
			best = l->expires_ms;
			*ip = a;
			found = true;
		}
	}
	return found ? 0 : -ENOENT;
}

void ns_set_capture(struct ns *ns, void (*fn)(void *ctx, bool out, const uint8_t *f, size_t len),
		    void *ctx)
{
	ns->capture = fn;
	ns->capture_ctx = ctx;
}
