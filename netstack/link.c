/* SPDX-License-Identifier: MIT */
/*
 * link.c - the guest's Ethernet segment as vgate sees it: frame validation,
 * ARP (vgate answers for the gateway and the host alias), a small neighbour
 * table learnt from the guest's frames, the DHCP server's I/O, and the IPv4
 * sanity checks before packets reach the engine.
 *
 * The guest is not trusted: an IPv4 packet whose source is not a plausible
 * guest address (inside the subnet, not the network or broadcast address,
 * not the gateway or the host alias) is dropped and counted (drop_bad_src)
 * before anything else looks at it: no neighbour learnt, no DHCP, no
 * engine. The one exception is DHCP from 0.0.0.0 to the server (a client
 * without an address). ARP is answered as before; its sender is learnt as a
 * neighbour only when it is such a plausible address.
 *
 * IPv6 (unless ns_config.no_ipv6): the fixed header and the extension
 * headers are checked (ip6_upper()), then
 *  - Neighbour Discovery (ICMPv6 133-137) to a gateway address or a
 *    link-scope group goes to ndp.c, never to lwIP; its answer frame is
 *    sent from here;
 *  - packets to other groups and to other link-local addresses are
 *    dropped and counted (drop_ip6_dst: MLD reports, mDNS, ...);
 *  - the source must be a plausible guest address (link-local, or in the
 *    /64, not the gateway's), else drop_bad_src6; the sender is learnt;
 *  - packets to the gateway (fe80::1, PREFIX::1, all-nodes, its
 *    solicited-node group) go to the engine's lwIP (ICMPv6 echo, the
 *    gateway's ports), after a checksum check of ICMPv6 and without
 *    fragments (drop_ip6_frag); packets to other addresses go to the
 *    engine as foreign traffic (ns_engine_input6()).
 * UDP to port 547 (DHCPv6) to a gateway address or ff02::1:2 goes to the
 * DHCPv6 server (dhcp6.c) before the engine, its answer sent from here.
 * The RA timer (ns_link_init6()) sends unsolicited Router Advertisements
 * on ndp_ra_next_ms()'s schedule once the guest has sent an IPv6 packet;
 * they carry the M flag when the DHCPv6 server hands out addresses.
 *
 * Every frame from a transport enters through ns_link_input(); frames to the
 * guest leave through link_send_iov() into the transport's queue. Nothing
 * here allocates per packet.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"
#include "vnet.h"

#define IPPROTO_UDP_	 17
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* whether @ip is on the guest's subnet */
static bool on_link(const struct ns *ns, uint32_t ip)
{
	return vg_ip4_in_subnet(ip, ns->cfg.subnet, ns->cfg.prefix);
}

/**
 * neigh_learn() - remember that @ip is at @mac (guest side)
 * @ns:		netstack
 * @ip:		address, network order
 * @mac:	hardware address
 */
static void neigh_learn(struct ns *ns, uint32_t ip, const uint8_t *mac)
{
	struct ns_neigh *oldest = &ns->neigh[0];
	uint64_t now = vg_loop_now(ns->loop);
	int i;

	if (!ip || !on_link(ns, ip) || ip == ns->cfg.gateway_ip || ip == ns->cfg.host_ip ||
	    (mac[0] & 1))
		return;
	for (i = 0; i < NS_NEIGH_MAX; i++) {
		struct ns_neigh *n = &ns->neigh[i];

		if (n->ip == ip) {
			memcpy(n->mac, mac, 6);
			n->seen_ms = now;
			return;
		}
		if (n->seen_ms < oldest->seen_ms)
			oldest = n;
	}
	oldest->ip = ip;
	memcpy(oldest->mac, mac, 6);
	oldest->seen_ms = now;
}

static const uint8_t *neigh_lookup(struct ns *ns, uint32_t ip)
{
	int i;

	for (i = 0; i < NS_NEIGH_MAX; i++)
		if (ns->neigh[i].ip == ip && ns->neigh[i].seen_ms)
			return ns->neigh[i].mac;
	return NULL;
}

/**
 * link_send_iov() - queue an Ethernet frame for the guest, then show it to
 * the capture hook as the transport left it (with TAP offloads, vnet_tx()
 * has rewritten a TCP checksum to its pseudo-header sum)
 * @ns:		netstack
 * @iov:	frame pieces, starting with the Ethernet header
 * @iovcnt:	count
 */
static void link_send_iov(struct ns *ns, const struct iovec *iov, int iovcnt)
{
	size_t len = 0;
	int i;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (ns_transport_send(ns, iov, iovcnt) == 0) {
		ns->st.tx_frames++;
		ns->st.tx_bytes += len;
	}
	if (ns->capture) {
		uint8_t buf[VNET_FRAME_MAX]; /* a super-segment with TAP offloads */
		size_t off = 0;

		for (i = 0; i < iovcnt && off + iov[i].iov_len <= sizeof(buf); i++) {
			memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		ns->capture(ns->capture_ctx, true, buf, off);
	}
}

static void eth_header(uint8_t *h, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(h, dst, 6);
	memcpy(h + 6, src, 6);
	h[12] = (uint8_t)(type >> 8);
	h[13] = (uint8_t)type;
}

static void arp_send(struct ns *ns, uint16_t op, const uint8_t *dst_mac, uint32_t sender_ip,
		     const uint8_t *target_mac, uint32_t target_ip)
{
	uint8_t f[42];
	struct iovec iov = {f, sizeof(f)};

	eth_header(f, dst_mac, ns->cfg.gw_mac, ETHERTYPE_ARP);
	f[14] = 0;
	f[15] = 1; /* Ethernet */
	f[16] = 0x08;
	f[17] = 0x00; /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	f[20] = (uint8_t)(op >> 8);
	f[21] = (uint8_t)op;
	memcpy(f + 22, ns->cfg.gw_mac, 6);
	memcpy(f + 28, &sender_ip, 4);
	memcpy(f + 32, target_mac, 6);
	memcpy(f + 38, &target_ip, 4);
	link_send_iov(ns, &iov, 1);
}

/**
 * ns_link_send_ip() - send an IPv4 packet to @next_hop on the guest link
 * @ns:		netstack
 * @next_hop:	guest address (or a broadcast address), network order
 * @iov:	the IP packet
 * @iovcnt:	count (at most 15)
 *
 * When the guest's MAC is not known yet an ARP request goes out and the
 * packet is dropped (counted); TCP retransmits, and every guest talks first.
 *
 * Return: 0, or -1 if dropped
 */
int ns_link_send_ip(struct ns *ns, uint32_t next_hop, const struct iovec *iov, int iovcnt)
{
	uint32_t bcast = ns->cfg.subnet | ~ns->netmask;
	struct iovec v[16];
	uint8_t h[ETH_HLEN_];
	const uint8_t *mac;

	if (iovcnt > 15)
		return -1;
	if (next_hop == 0xffffffffu || next_hop == bcast)
		mac = bcast_mac;
	else if (!(mac = neigh_lookup(ns, next_hop))) {
		static const uint8_t zero[6];

		ns->st.drop_no_neigh++;
		if (on_link(ns, next_hop))
			arp_send(ns, 1, bcast_mac, ns->cfg.gateway_ip, zero, next_hop);
		return -1;
	}
	eth_header(h, mac, ns->cfg.gw_mac, ETHERTYPE_IPV4);
	v[0].iov_base = h;
	v[0].iov_len = sizeof(h);
	memcpy(v + 1, iov, sizeof(*iov) * (size_t)iovcnt);
	link_send_iov(ns, v, iovcnt + 1);
	return 0;
}

static void arp_input(struct ns *ns, const uint8_t *f, size_t len)
{
	uint32_t sip, tip;
	uint16_t op;

	if (len < 42 || f[14] != 0 || f[15] != 1 || f[16] != 0x08 || f[17] != 0 || f[18] != 6 ||
	    f[19] != 4) {
		ns->st.drop_bad_arp++;
		return;
	}
	op = (uint16_t)(f[20] << 8 | f[21]);
	memcpy(&sip, f + 28, 4);
	memcpy(&tip, f + 38, 4);
	if (!(f[22] & 1))
		neigh_learn(ns, sip, f + 22);
	if (op == 1 && (tip == ns->cfg.gateway_ip || tip == ns->cfg.host_ip) && sip != tip) {
		arp_send(ns, 2, f + 22, tip, f + 22, sip);
		ns->st.arp_replies++;
	} else if (op != 1 && op != 2) {
		ns->st.drop_bad_arp++;
	}
}

/**
 * dhcp_send() - wrap a DHCP answer in UDP/IPv4/Ethernet and send it
 * @ns:	netstack
 * @r:	the answer
 */
static void dhcp_send(struct ns *ns, const struct dhcp_reply *r)
{
	uint8_t h[ETH_HLEN_ + 20 + 8];
	uint8_t *ip = h + ETH_HLEN_, *udp = ip + 20;
	uint16_t tot = (uint16_t)(20 + 8 + r->len), ulen = (uint16_t)(8 + r->len);
	struct iovec iov[2] = {{h, sizeof(h)}, {(void *)r->data, r->len}};
	uint32_t sum;

	eth_header(h, r->dst_mac, ns->cfg.gw_mac, ETHERTYPE_IPV4);
	vg_ip4_header(ip, tot, IPPROTO_UDP_, ns->cfg.gateway_ip, r->dst_ip);
	udp[0] = 0;
	udp[1] = DHCP_SERVER_PORT;
	udp[2] = 0;
	udp[3] = DHCP_CLIENT_PORT;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	udp[6] = udp[7] = 0;
	/* pseudo header + UDP header + payload */
	sum = csum_partial(ip + 12, 8, 0);
	sum += IPPROTO_UDP_ + ulen;
	sum = csum_partial(udp, 8, sum);
	sum = csum_partial(r->data, r->len, sum);
	sum = csum_fold(sum);
	if (!sum)
		sum = 0xffff;
	udp[6] = (uint8_t)(sum >> 8);
	udp[7] = (uint8_t)sum;
	link_send_iov(ns, iov, 2);
}

static void dhcp_count(struct ns *ns)
{
	const struct dhcp_stats *d = &ns->dhcp.st;

	ns->st.dhcp_discover = d->discover;
	ns->st.dhcp_offer = d->offer;
	ns->st.dhcp_request = d->request;
	ns->st.dhcp_ack = d->ack;
	ns->st.dhcp_nak = d->nak;
	ns->st.dhcp_release = d->release;
	ns->st.dhcp_decline = d->decline;
	ns->st.dhcp_inform = d->inform;
	ns->st.dhcp_bad = d->bad;
}

/**
 * src_plausible() - whether @src may be the source of a guest packet
 * @ns:		netstack
 * @src:	address, network order
 *
 * Return: true for a host address of the subnet other than the gateway's and
 *	   the host alias
 */
static bool src_plausible(const struct ns *ns, uint32_t src)
{
	uint32_t bcast = ns->cfg.subnet | ~ns->netmask;

	return on_link(ns, src) && src != ns->cfg.subnet && src != bcast &&
	       src != ns->cfg.gateway_ip && src != ns->cfg.host_ip;
}

/**
 * ipv4_input() - validate an IPv4 packet from the guest and dispatch it
 * @ns:		netstack
 * @src_mac:	Ethernet source
 * @ip:		IP header
 * @len:	bytes from the IP header to the end of the frame
 */
static void ipv4_input(struct ns *ns, const uint8_t *src_mac, const uint8_t *ip, size_t len)
{
	size_t hlen, tot;
	uint32_t src, dst, bcast = ns->cfg.subnet | ~ns->netmask;
	uint16_t frag;
	bool local, dhcp;

	if (len < 20 || (ip[0] >> 4) != 4) {
		ns->st.drop_bad_ip++;
		return;
	}
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	tot = (size_t)ip[2] << 8 | ip[3];
	if (hlen < 20 || tot < hlen || tot > len || csum_fold(csum_partial(ip, hlen, 0)) != 0) {
		ns->st.drop_bad_ip++;
		return;
	}
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	frag = (uint16_t)((ip[6] << 8 | ip[7]) & 0x3fff);
	/* DHCP: from 0.0.0.0 or a leased address, to broadcast or to us */
	dhcp = ip[9] == IPPROTO_UDP_ && !frag && tot >= hlen + 8 && ip[hlen + 2] == 0 &&
	       ip[hlen + 3] == DHCP_SERVER_PORT &&
	       (dst == 0xffffffffu || dst == bcast || dst == ns->cfg.gateway_ip);
	if (!src_plausible(ns, src) && !(dhcp && src == 0)) {
		ns->st.drop_bad_src++; /* spoofed, martian or not the guest's */
		ns_log_hit(ns, &ns->log_bad_src,
			   "link: dropped a packet from %u.%u.%u.%u: not a plausible guest source",
			   ip[12], ip[13], ip[14], ip[15]);
		return;
	}
	neigh_learn(ns, src, src_mac);

	if (dhcp) {
		struct dhcp_reply r;
		size_t ulen = (size_t)ip[hlen + 4] << 8 | ip[hlen + 5];

		if (ulen < 8 || ulen > tot - hlen) {
			ns->st.dhcp_bad++;
			ns->dhcp.st.bad++;
			return;
		}
		if (dhcp_input(&ns->dhcp, vg_loop_now(ns->loop), ip + hlen + 8, ulen - 8, &r) > 0)
			dhcp_send(ns, &r);
		dhcp_count(ns);
		return;
	}
	if (src == 0 || (ip[12] & 0xf0) == 0xe0 || src == 0xffffffffu) {
		ns->st.drop_bad_ip++; /* martian source (a subnet in 224/4 or the like) */
		ns_log_hit(ns, &ns->log_martian_src,
			   "link: dropped a packet from martian source %u.%u.%u.%u", ip[12], ip[13],
			   ip[14], ip[15]);
		return;
	}
	local = dst == ns->cfg.gateway_ip || dst == bcast || dst == 0xffffffffu ||
		(ip[16] & 0xf0) == 0xe0;
	if (!local && frag) {
		/* a fragment of a datagram to elsewhere: reassemble first */
		ns_engine_input_frag(ns, ip, tot);
		return;
	}
	ns_engine_input(ns, ip, tot, local);
}

/* whether @a is a multicast group of the gateway: all-nodes, all-routers,
 * all-DHCP-agents (ff02::1:2), or the solicited-node group of its addresses */
static bool ip6_our_group(const struct ns *ns, const uint8_t *a)
{
	static const uint8_t nodes[16] = {0xff, 0x02, [15] = 1};
	static const uint8_t routers[16] = {0xff, 0x02, [15] = 2};
	static const uint8_t dhcp6[16] = {0xff, 0x02, [13] = 1, [15] = 2};
	static const uint8_t sol[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	if (!memcmp(a, nodes, 16) || !memcmp(a, routers, 16) || !memcmp(a, dhcp6, 16))
		return true;
	if (memcmp(a, sol, sizeof(sol)))
		return false;
	return !memcmp(a + 13, ns->cfg.gateway6 + 13, 3) ||
	       !memcmp(a + 13, ns->cfg.host6 + 13, 3) || !memcmp(a + 13, ns->nd.cfg.gw_ll + 13, 3);
}

/**
 * icmp6_ok() - whether an ICMPv6 message to the gateway is whole and its
 * checksum right (lwIP checks again; this counts the drop)
 * @ip:		IPv6 packet
 * @len:	its length
 * @off:	offset of the ICMPv6 message
 *
 * Return: true when it may go on
 */
static bool icmp6_ok(const uint8_t *ip, size_t len, size_t off)
{
	uint32_t sum;

	if (off + 4 > len)
		return false;
	sum = csum_ip6_pseudo(ip, (uint32_t)(len - off), IP6_NH_ICMP6);
	return csum_fold(csum_partial(ip + off, len - off, sum)) == 0;
}

static void log_bad_src6(struct ns *ns, const uint8_t *src)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(AF_INET6, src, a, sizeof(a)))
		strcpy(a, "?");
	ns_log_hit(ns, &ns->log_bad_src,
		   "link: dropped an IPv6 packet from %s: not a plausible guest source", a);
}

static void ra_start(struct ns *ns);

/**
 * nd_input() - a Neighbour Discovery message: to ndp.c, its answer sent
 * @ns:		netstack
 * @src_mac:	Ethernet source
 * @ip:		IPv6 packet
 * @len:	its length
 * @off:	offset of the ICMPv6 message
 */
static void nd_input(struct ns *ns, const uint8_t *src_mac, const uint8_t *ip, size_t len,
		     size_t off)
{
	const uint8_t *src = ip + 8, *dst = ip + 24;
	struct ndp_frame out;

	/* to a gateway address or a link-scope group; the guest's DAD comes from :: */
	if (!ndp_is_ours(&ns->nd, dst) && !(dst[0] == 0xff && (dst[1] & 0x0f) == 2)) {
		ns->st.drop_ip6_dst++;
		return;
	}
	if (!vg_ip6_unspecified(src) && !ndp_src_plausible(&ns->nd, src)) {
		ns->st.drop_bad_src6++;
		log_bad_src6(ns, src);
		return;
	}
	ns->st.ip6_rx++;
	ra_start(ns);
	ndp_learn(&ns->nd, vg_loop_now(ns->loop), src, src_mac);
	if (ndp_input(&ns->nd, vg_loop_now(ns->loop), src_mac, ip, len, off, &out) > 0) {
		struct iovec iov = {out.data, out.len};

		link_send_iov(ns, &iov, 1);
	}
}

static void dhcp6_count(struct ns *ns)
{
	const struct dhcp6_stats *d = &ns->dhcp6.st;

	ns->st.dhcp6_solicit = d->solicit;
	ns->st.dhcp6_request = d->request;
	ns->st.dhcp6_confirm = d->confirm;
	ns->st.dhcp6_renew = d->renew;
	ns->st.dhcp6_rebind = d->rebind;
	ns->st.dhcp6_release = d->release;
	ns->st.dhcp6_decline = d->decline;
	ns->st.dhcp6_inform = d->inform;
	ns->st.dhcp6_advertise = d->advertise;
	ns->st.dhcp6_reply = d->reply;
	ns->st.dhcp6_no_addrs = d->no_addrs;
	ns->st.dhcp6_bad = d->bad;
	ns->st.dhcp6_ignored = d->ignored;
}

/**
 * dhcp6_send() - wrap a DHCPv6 answer in UDP/IPv6/Ethernet and send it
 * @ns:		netstack
 * @mac:	the client's MAC (the request's Ethernet source)
 * @src:	the gateway address the answer comes from
 * @dst:	the client's address (the request's source)
 * @dport:	the client's port (the request's source port)
 * @r:		the answer
 */
static void dhcp6_send(struct ns *ns, const uint8_t *mac, const uint8_t *src, const uint8_t *dst,
		       uint16_t dport, const struct dhcp6_reply *r)
{
	uint8_t h[ETH_HLEN_ + IP6_HLEN + 8];
	uint8_t *ip = h + ETH_HLEN_, *udp = ip + IP6_HLEN;
	uint16_t ulen = (uint16_t)(8 + r->len);
	struct iovec iov[2] = {{h, sizeof(h)}, {(void *)r->data, r->len}};
	uint32_t sum;

	eth_header(h, mac, ns->cfg.gw_mac, ETHERTYPE_IPV6);
	memset(ip, 0, IP6_HLEN);
	ip[0] = 0x60;
	vg_put_be16(ip + 4, ulen);
	ip[6] = IP6_NH_UDP;
	ip[7] = 255; /* link-local traffic; RFC 8415 does not ask for a value */
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	vg_put_be16(udp, DHCP6_SERVER_PORT);
	vg_put_be16(udp + 2, dport);
	vg_put_be16(udp + 4, ulen);
	udp[6] = udp[7] = 0;
	sum = csum_ip6_pseudo(ip, ulen, IP6_NH_UDP);
	sum = csum_partial(udp, 8, sum);
	sum = csum_fold(csum_partial(r->data, r->len, sum));
	if (!sum)
		sum = 0xffff;
	vg_put_be16(udp + 6, (uint16_t)sum);
	link_send_iov(ns, iov, 2);
}

/**
 * dhcp6_link_input() - UDP to port 547 of the gateway or ff02::1:2: its
 * length and checksum checked (a bad one counted in dhcp6.bad), the
 * payload to dhcp6_input(), the answer sent back to the client's source
 * address and port from fe80::1 (or from the gateway address it was sent to)
 * @ns:		netstack
 * @src_mac:	Ethernet source
 * @ip:		IPv6 packet (its source already found plausible)
 * @tot:	its length
 * @off:	offset of the UDP header, at least 8 bytes before @tot
 */
static void dhcp6_link_input(struct ns *ns, const uint8_t *src_mac, const uint8_t *ip, size_t tot,
			     size_t off)
{
	static const uint8_t gw_ll[16] = {0xfe, 0x80, [15] = 1};
	const uint8_t *udp = ip + off;
	size_t ulen = (size_t)udp[4] << 8 | udp[5];
	struct dhcp6_reply r;
	const uint8_t *from;
	uint32_t sum;

	sum = csum_ip6_pseudo(ip, (uint32_t)ulen, IP6_NH_UDP);
	if (ulen < 8 || ulen > tot - off || (!udp[6] && !udp[7]) ||
	    csum_fold(csum_partial(udp, ulen, sum)) != 0) {
		ns->dhcp6.st.bad++; /* IPv6 UDP needs its checksum */
		dhcp6_count(ns);
		return;
	}
	from = !memcmp(ip + 24, ns->cfg.gateway6, 16) ? ns->cfg.gateway6 : gw_ll;
	if (dhcp6_input(&ns->dhcp6, vg_loop_now(ns->loop), src_mac, udp + 8, ulen - 8, &r) > 0)
		dhcp6_send(ns, src_mac, from, ip + 8, (uint16_t)(udp[0] << 8 | udp[1]), &r);
	dhcp6_count(ns);
}

/**
 * ipv6_input() - validate an IPv6 packet from the guest and dispatch it
 * @ns:		netstack
 * @src_mac:	Ethernet source
 * @ip:		IPv6 header
 * @len:	bytes from the IPv6 header to the end of the frame
 */
static void ipv6_input(struct ns *ns, const uint8_t *src_mac, const uint8_t *ip, size_t len)
{
	const uint8_t *src = ip + 8, *dst = ip + 24;
	struct ip6_view v;
	size_t tot;
	bool local;

	if (ns->cfg.no_ipv6) {
		ns->st.drop_ip6_off++;
		return;
	}
	if (len < IP6_HLEN || (ip[0] >> 4) != 6) {
		ns->st.drop_bad_ip6++;
		return;
	}
	tot = IP6_HLEN + ((size_t)ip[4] << 8 | ip[5]);
	if (tot > len || ip6_upper(ip, tot, &v) < 0) {
		ns->st.drop_bad_ip6++;
		return;
	}
	if (v.proto == IP6_NH_ICMP6 && v.off < tot && ndp_is_nd(ip[v.off])) {
		nd_input(ns, src_mac, ip, tot, v.off);
		return;
	}
	/* the host alias is answered by ND but is a foreign destination (::1) */
	local = (ndp_is_ours(&ns->nd, dst) && memcmp(dst, ns->cfg.host6, 16)) ||
		ip6_our_group(ns, dst);
	if (!local && (dst[0] == 0xff || (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80))) {
		ns->st.drop_ip6_dst++; /* MLD reports, mDNS, other link-local hosts */
		return;
	}
	if (!ndp_src_plausible(&ns->nd, src)) {
		ns->st.drop_bad_src6++;
		log_bad_src6(ns, src);
		return;
	}
	ndp_learn(&ns->nd, vg_loop_now(ns->loop), src, src_mac);
	ns->st.ip6_rx++;
	ra_start(ns);
	if (!local) {
		ns_engine_input6(ns, ip, tot, false);
		return;
	}
	if (v.proto == IP6_NH_FRAG) {
		ns->st.drop_ip6_frag++; /* nothing of the gateway's needs them */
		return;
	}
	/* DHCPv6: the server's, before the engine (lwIP would answer unreachable) */
	if (v.proto == IP6_NH_UDP && ns->dhcp6.leases && v.off + 8 <= tot &&
	    (ip[v.off + 2] << 8 | ip[v.off + 3]) == DHCP6_SERVER_PORT) {
		dhcp6_link_input(ns, src_mac, ip, tot, v.off);
		return;
	}
	if (v.proto == IP6_NH_ICMP6) {
		if (!icmp6_ok(ip, tot, v.off)) {
			ns->st.drop_bad_icmp6++;
			return;
		}
		if (ip[v.off] == ICMP6_ECHO_REQ && dst[0] != 0xff)
			ns->st.icmp6_echo_replies++;
	}
	ns_engine_input6(ns, ip, tot, true);
}

/**
 * ns_link_send_ip6() - send an IPv6 packet to @dst on the guest link
 * @ns:		netstack
 * @dst:	IPv6 destination (a guest address or a group)
 * @iov:	the IPv6 packet
 * @iovcnt:	count (at most 15)
 *
 * When the guest's MAC for @dst is not known yet a Neighbour Solicitation
 * goes out and the packet is dropped (counted), as ns_link_send_ip() does
 * with ARP.
 *
 * Return: 0, or -1 if dropped
 */
int ns_link_send_ip6(struct ns *ns, const uint8_t *dst, const struct iovec *iov, int iovcnt)
{
	struct iovec v[16];
	uint8_t h[ETH_HLEN_], group[6];
	const uint8_t *mac;

	if (iovcnt > 15 || ns->cfg.no_ipv6)
		return -1;
	if (dst[0] == 0xff) {
		ndp_mcast_mac(dst, group);
		mac = group;
	} else if (!(mac = ndp_lookup(&ns->nd, dst))) {
		ns->st.drop_no_neigh++;
		if (ndp_src_plausible(&ns->nd, dst)) {
			struct ndp_frame f = {.len = 0};
			struct iovec fi;

			fi.iov_base = f.data;
			fi.iov_len = ndp_solicit(&ns->nd, dst, &f);
			link_send_iov(ns, &fi, 1);
		}
		return -1;
	}
	eth_header(h, mac, ns->cfg.gw_mac, ETHERTYPE_IPV6);
	v[0].iov_base = h;
	v[0].iov_len = sizeof(h);
	memcpy(v + 1, iov, sizeof(*iov) * (size_t)iovcnt);
	link_send_iov(ns, v, iovcnt + 1);
	return 0;
}

/* the RA timer: one unsolicited Router Advertisement, and the next armed */
static void ra_tick(void *arg)
{
	struct ns *ns = arg;
	struct ndp_frame f = {.len = 0};
	struct iovec iov;

	iov.iov_base = f.data;
	iov.iov_len = ndp_ra(&ns->nd, NULL, NULL, &f);
	link_send_iov(ns, &iov, 1);
	vg_timer_start(ns->loop, &ns->ra_timer, ndp_ra_next_ms(&ns->nd, vg_loop_now(ns->loop)));
}

/**
 * ns_link_init6() - set up Neighbour Discovery from the config and the
 * Router Advertisement timer, which starts with the guest's first IPv6
 * packet that passes the checks (a guest that speaks IPv6 solicits, probes
 * or joins groups at once; before it nothing is sent into a silent link)
 * @ns:	netstack (cfg checked)
 */
void ns_link_init6(struct ns *ns)
{
	struct ndp_config c;

	memset(&c, 0, sizeof(c));
	memcpy(c.gw_mac, ns->cfg.gw_mac, 6);
	memcpy(c.prefix, ns->cfg.subnet6, 8);
	c.gw_ll[0] = 0xfe;
	c.gw_ll[1] = 0x80;
	c.gw_ll[15] = 1;
	memcpy(c.gw, ns->cfg.gateway6, 16);
	memcpy(c.host, ns->cfg.host6, 16);
	c.mtu = ns->cfg.mtu;
	c.search = ns->cfg.search[0] ? ns->cfg.search : ns->cfg.domain;
	ndp_init(&ns->nd, &c);
	vg_timer_init(&ns->ra_timer, ra_tick, ns);
}

/* the guest speaks IPv6: start the unsolicited RAs if not yet running */
static void ra_start(struct ns *ns)
{
	if (!vg_timer_armed(&ns->ra_timer))
		vg_timer_start(ns->loop, &ns->ra_timer,
			       ndp_ra_next_ms(&ns->nd, vg_loop_now(ns->loop)));
}

/**
 * ns_link_free6() - stop the Router Advertisement timer
 * @ns:	netstack
 */
void ns_link_free6(struct ns *ns)
{
	vg_timer_stop(ns->loop, &ns->ra_timer);
}

/**
 * ns_link_input() - one Ethernet frame from the guest
 * @ns:		netstack
 * @f:		frame
 * @len:	length
 */
void ns_link_input(struct ns *ns, const uint8_t *f, size_t len)
{
	uint16_t type;

	ns->st.rx_frames++;
	ns->st.rx_bytes += len;
	if (ns->capture)
		ns->capture(ns->capture_ctx, false, f, len);
	if (len < ETH_HLEN_) {
		ns->st.drop_runt++;
		return;
	}
	if (len > ns->rx_frame_max) {
		ns->st.drop_oversize++; /* (the transport holds plain frames to max_frame) */
		return;
	}
	/* only frames to us, broadcast or multicast */
	if (!(f[0] & 1) && memcmp(f, ns->cfg.gw_mac, 6)) {
		ns->st.drop_ethertype++;
		return;
	}
	type = (uint16_t)(f[12] << 8 | f[13]);
	switch (type) {
	case ETHERTYPE_IPV4:
		ipv4_input(ns, f + 6, f + ETH_HLEN_, len - ETH_HLEN_);
		break;
	case ETHERTYPE_ARP:
		arp_input(ns, f, len);
		break;
	case ETHERTYPE_IPV6:
		ipv6_input(ns, f + 6, f + ETH_HLEN_, len - ETH_HLEN_);
		break;
	default:
		ns->st.drop_ethertype++;
		break;
	}
}
