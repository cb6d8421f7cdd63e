/* SPDX-License-Identifier: MIT */
/*
 * netstack.c - creation, configuration and teardown of struct ns: the
 * config defaults and checks, ns_new() (DHCP server, lwIP engine, and the
 * callbacks that join the layers: transport frames go to ns_link_input(),
 * the engine's IP packets to ns_link_send_ip()), ns_free() in reverse
 * order, and the read-only views (stats, leases) and the capture hook.
 *
 * Call graph of netstack/'s files (no cycles; arrows point at the callee):
 * netstack.c -> link.c, transport.c, port.c (the engine), dhcp.c, budget.c,
 * common/;
 * link.c -> transport.c, input.c (the engine), dhcp.c, frame.c, log.c;
 * transport.c -> frame.c, log.c, and frames up through ns->frame_in only;
 * log.c -> common/ only;
 * the engine (engine.h) -> frame.c, and packets down through ns->ip_out only.
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
	ns->tr.io.fd = ns->tr.listen_io.fd = -1;
	ns->frame_in = ns_link_input; /* transport -> link */
	ns->ip_out = ns_link_send_ip; /* engine -> link */
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
	if (dhcp_init(&ns->dhcp, &dc) < 0 || ns_engine_init(ns) < 0) {
		dhcp_free(&ns->dhcp);
		free(ns);
		errno = ENOMEM;
		return NULL;
	}
	return ns;
}

void ns_free(struct ns *ns)
{
	if (!ns)
		return;
	ns_transport_close(ns);
	ns_engine_free(ns);
	dhcp_free(&ns->dhcp);
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
		out[n].expires_ms = l->bound ? l->expires_ms : 0;
		memcpy(out[n].hostname, l->hostname, sizeof(out[n].hostname));
		n++;
	}
	return n;
}

void ns_set_capture(struct ns *ns, void (*fn)(void *ctx, bool out, const uint8_t *f, size_t len),
		    void *ctx)
{
	ns->capture = fn;
	ns->capture_ctx = ctx;
}
