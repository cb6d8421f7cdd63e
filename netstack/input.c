/* SPDX-License-Identifier: MIT */
/*
 * input.c - guest IPv4 and IPv6 into the engine, after link.c validated
 * the fixed header.
 *
 * Packets for the gateway (and broadcast, multicast) go through lwIP's
 * ip4_input(): ICMP echo, the gateway services' pcbs, RST or ICMP port
 * unreachable for other ports; TCP to a gateway port whose service has a
 * tcp_syn goes the way of foreign flows. TCP to any other address goes to
 * syn.c; UDP to other addresses never enters lwIP: its checksum is checked
 * here and it goes to the foreign registrant's udp_recv; an ICMP echo
 * request to another address goes to its echo hook (ping.c in forwarder/),
 * any other ICMP is dropped. Fragments of
 * datagrams to other addresses are reassembled by lwIP's ip4_reass()
 * (bounded by IP_REASS_MAX_PBUFS, expired by its timer) into eng->reass and
 * then dispatched like any other packet.
 *
 * IPv6 (ns_engine_input6()): packets for the gateway's own addresses go to
 * lwIP's ip6_input() (TCP to them, i.e. to the gateway services' IPv6
 * listeners, after the same half-open bound and window guard as IPv4).
 * Any other destination is walked past its extension headers
 * (ip6_upper(): hop-by-hop first only, routing and destination options,
 * at most IP6_EXT_MAX, each within the packet) and TCP goes to syn.c,
 * UDP and ICMPv6 echo requests to the foreign registrant as for IPv4 (a
 * zero UDP checksum is invalid over IPv6). A fragment header with offset 0 and no more
 * fragments (an atomic fragment) is skipped; a real fragment is reassembled
 * by lwIP's ip6_reass() (the same bounds as IPv4: IP_REASS_MAX_PBUFS,
 * MEMP_NUM_REASSDATA, its timer) into eng->reass and the whole datagram is
 * dispatched once more, never reassembled twice. Anything else (ESP, AH,
 * no next header, a malformed or too long chain, headers after a fragment
 * header) is dropped and counted in drop_ip6_ext; other ICMPv6 and other
 * protocols to other addresses in drop_proto.
 */
#include "engine.h"

#include <string.h>

#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"

#include "common/netutil.h"

/**
 * udp_guest_input() - a UDP datagram to a non-gateway address: check its
 * length and checksum, then hand it to the foreign registrant
 * @ns:		netstack
 * @ip:		validated IPv4 or IPv6 packet
 * @len:	its length
 * @hlen:	offset of the UDP header
 */
static void udp_guest_input(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
{
	const uint8_t *u = ip + hlen;
	struct ns_addr src, dst;
	struct ns_pkt pkt = {ip, len};
	size_t ulen;
	uint16_t sum;

	if (len < hlen + 8) {
		ns->st.drop_bad_ip++;
		return;
	}
	ulen = (size_t)u[4] << 8 | u[5];
	if (ulen < 8 || ulen > len - hlen) {
		ns->st.drop_bad_ip++;
		return;
	}
	sum = (uint16_t)(u[6] << 8 | u[7]);
	if (!sum && pkt_v6(ip)) {
		ns->st.drop_bad_ip++; /* mandatory over IPv6 (RFC 8200 8.1) */
		return;
	}
	if (sum && csum_fold(csum_partial(u, ulen, pkt_pseudo_sum(ip, 17, ulen))) != 0) {
		ns->st.drop_bad_ip++;
		return;
	}
	src = pkt_src(ip, (uint16_t)(u[0] << 8 | u[1]));
	dst = pkt_dst(ip, (uint16_t)(u[2] << 8 | u[3]));
	if (!ns->eng->foreign.udp_recv || !dst.port) {
		ns->st.drop_udp_nohook++;
		return;
	}
	ns->st.udp_fwd_packets++;
	ns->eng->foreign.udp_recv(ns->eng->foreign.ctx, &src, &dst, u + 8, ulen - 8, &pkt);
}

/**
 * echo_guest_input() - an ICMP or ICMPv6 message to a non-gateway address:
 * an echo request with a valid checksum goes to the foreign registrant's
 * echo hook; anything else is dropped (drop_proto; drop_bad_ip when short
 * or its checksum is wrong)
 * @ns:		netstack
 * @ip:		validated IPv4 or IPv6 packet
 * @len:	its length
 * @hlen:	offset of the ICMP header
 */
static void echo_guest_input(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
{
	bool v6 = pkt_v6(ip);
	const uint8_t *m = ip + hlen;
	struct ns_pkt pkt = {ip, len};
	struct ns_addr src, dst;
	uint32_t sum0;

	if (len < hlen + 8) {
		ns->st.drop_bad_ip++;
		return;
	}
	if (m[0] != (v6 ? 128 : 8) || m[1] != 0 || !ns->eng->foreign.echo) {
		ns->st.drop_proto++;
		return;
	}
	sum0 = v6 ? pkt_pseudo_sum(ip, IP6_NH_ICMP6, len - hlen) : 0;
	if (csum_fold(csum_partial(m, len - hlen, sum0)) != 0) {
		ns->st.drop_bad_ip++;
		return;
	}
	src = pkt_src(ip, (uint16_t)(m[4] << 8 | m[5]));
	dst = pkt_dst(ip, 0);
	ns->eng->foreign.echo(ns->eng->foreign.ctx, &src, &dst, (uint16_t)(m[6] << 8 | m[7]),
			      m + 8, len - hlen - 8, &pkt);
}

/**
 * ns_engine_input() - an IPv4 packet from the guest, already validated by
 * link.c (header, length, checksum)
 * @ns:		netstack
 * @ip:		packet
 * @len:	its length (IP total length)
 * @to_gateway:	addressed to the gateway, broadcast or multicast
 */
void ns_engine_input(struct ns *ns, const uint8_t *ip, size_t len, bool to_gateway)
{
	size_t hlen = (size_t)(ip[0] & 15) * 4;

	if (to_gateway && ns_svc_tcp_syn_port(ns, ip, len, hlen)) {
		ns_syn_input(ns, ip, len, hlen);
		return;
	}
	if (to_gateway) {
		struct pbuf *p;

		if (ip[9] == 6 && len >= hlen + 14 && (ip[hlen + 13] & 0x12) == 0x02)
			ns_pcbtab_make_room(ns->eng, &ns->st.tcp_embryo_reset);
		p = ns_tcp_seg_copy(ip, len);
		if (!p)
			return;
		if (ip[9] == 6)
			ns_tcp_csum_settle(ns, p->payload, len, hlen);
		if (ip[9] == 6 &&
		    ns_tcp_guard(ns, ns_tcp_seg_pcb(ns, ip, len, hlen), p->payload, &len, hlen))
			pbuf_realloc(p, (u16_t)len);
		if (ip[9] == 1 && len > hlen && ip[hlen] == 8)
			ns->st.icmp_echo_replies++;
		ip4_input(p, &ns->eng->netif);
		return;
	}
	switch (ip[9]) {
	case 6:
		ns_syn_input(ns, ip, len, hlen);
		break;
	case 17:
		udp_guest_input(ns, ip, len, hlen);
		break;
	case 1:
		echo_guest_input(ns, ip, len, hlen);
		break;
	default:
		ns->st.drop_proto++;
		break;
	}
}

/**
 * ns_engine_input_frag() - a fragment of a datagram to a non-gateway address:
 * lwIP's reassembly (bounded by IP_REASS_MAX_PBUFS, expired by its timer)
 * collects it, and the whole datagram is then dispatched like any other
 * @ns:		netstack
 * @ip:		validated fragment
 * @len:	its length
 */
void ns_engine_input_frag(struct ns *ns, const uint8_t *ip, size_t len)
{
	struct ns_engine *eng = ns->eng;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	size_t tot;

	if (!p) {
		ns->st.drop_frag++;
		return;
	}
	memcpy(p->payload, ip, len);
	p = ip4_reass(p); /* takes the pbuf; NULL until the datagram is whole */
	if (!p)
		return;
	tot = pbuf_copy_partial(p, eng->reass, sizeof(eng->reass), 0);
	pbuf_free(p);
	if (tot < 20 || (eng->reass[0] >> 4) != 4) {
		ns->st.drop_frag++;
		return;
	}
	ns->st.ip_reassembled++;
	ns_engine_input(ns, eng->reass, tot, false);
}

/* extension headers vgate does not process (RFC 8200 4, IANA's list) */
static bool ip6_ext_unhandled(uint8_t nh)
{
	return nh == 50 /* ESP */ || nh == 51 /* AH */ ||
	       nh == IP6_NH_NONE || nh == 135 /* mobility */ || nh == 139 /* HIP */ ||
	       nh == 140 /* shim6 */ || nh == 253 || nh == 254 /* experiments */;
}

/*
 * ip6_reass() keeps its fragment list in a packed helper it writes over
 * each fragment's header, starting 4 bytes before it (the helper is 12 bytes
 * on LP64, the header 8). A fragment copied 4 bytes past an 8-byte boundary
 * puts the helper's next pointer on one: an aligned pointer, which
 * LeakSanitizer also sees (it misses misaligned ones, and took every queued
 * fragment but the first for a leak).
 */
#define INPUT6_REASS_SHIFT 4

/**
 * input6_reass() - a fragment of an IPv6 datagram to a non-gateway address:
 * lwIP's ip6_reass() collects it (bounded by IP_REASS_MAX_PBUFS and
 * MEMP_NUM_REASSDATA, expired by its timer); a whole datagram is copied to
 * eng->reass
 * @ns:		netstack
 * @ip:		the fragment
 * @len:	its length
 * @foff:	offset of its fragment header
 *
 * Return: the length of the datagram in eng->reass, or 0 (not whole yet,
 * or dropped)
 */
static size_t input6_reass(struct ns *ns, const uint8_t *ip, size_t len, size_t foff)
{
	struct ns_engine *eng = ns->eng;
	struct pbuf *p = NULL;
	struct ip6_hdr *h6;
	size_t tot;

	if (len <= 0xffff - INPUT6_REASS_SHIFT)
		p = pbuf_alloc(PBUF_RAW, (u16_t)(INPUT6_REASS_SHIFT + len), PBUF_RAM);
	if (!p) {
		ns->st.drop_frag++;
		return 0;
	}
	pbuf_remove_header(p, INPUT6_REASS_SHIFT);
	memcpy(p->payload, ip, len);
	h6 = p->payload;
	/* ip6_reass() matches fragments by ip_data's header and addresses */
	ip_data.current_netif = &eng->netif;
	ip_data.current_input_netif = &eng->netif;
	ip_data.current_ip6_header = h6;
	ip_addr_copy_from_ip6_packed(ip_data.current_iphdr_src, h6->src);
	ip_addr_copy_from_ip6_packed(ip_data.current_iphdr_dest, h6->dest);
	pbuf_remove_header(p, foff);
	p = ip6_reass(p); /* takes the pbuf; NULL until the datagram is whole */
	ip_data.current_netif = NULL;
	ip_data.current_input_netif = NULL;
	ip_data.current_ip6_header = NULL;
	ip_addr_set_zero_ip6(&ip_data.current_iphdr_src);
	ip_addr_set_zero_ip6(&ip_data.current_iphdr_dest);
	if (!p)
		return 0;
	tot = pbuf_copy_partial(p, eng->reass, sizeof(eng->reass), 0);
	pbuf_free(p);
	if (tot < IP6_HLEN || !pkt_v6(eng->reass)) {
		ns->st.drop_frag++;
		return 0;
	}
	/* lwIP 2.1.3 leaves the payload length 8 short once it has taken the
	 * fragment header out; the bytes copied are what counts */
	vg_put_be16(eng->reass + 4, (uint16_t)(tot - IP6_HLEN));
	ns->st.ip_reassembled++;
	return tot;
}

/**
 * input6_upper() - where an IPv6 packet's upper layer starts: past its
 * extension headers and an atomic fragment header
 * @ns:		netstack
 * @ip:		packet, fixed header checked
 * @len:	40 + its payload length
 * @v:		filled: protocol and offset; IP6_NH_FRAG for a real fragment
 *		(@v->off at its fragment header)
 *
 * Return: 0, or -1 dropped (counted)
 */
static int input6_upper(struct ns *ns, const uint8_t *ip, size_t len, struct ip6_view *v)
{
	const uint8_t *fh;

	if (ip6_upper(ip, len, v) < 0 || (v->proto == IP6_NH_FRAG && len - v->off < 8)) {
		ns->st.drop_ip6_ext++;
		return -1;
	}
	if (v->proto != IP6_NH_FRAG)
		return 0;
	fh = ip + v->off;
	if ((fh[2] << 8 | fh[3]) & 0xfff9)
		return 0; /* offset or more fragments: a real fragment */
	/* an atomic fragment (RFC 6946): its payload; a second fragment header
	 * behind it is nothing a sender makes, and would run past @len unchecked */
	v->proto = fh[0];
	v->off += 8;
	if (v->proto == IP6_NH_FRAG) {
		ns->st.drop_ip6_ext++;
		return -1;
	}
	return 0;
}

/**
 * input6_foreign() - an IPv6 packet to a non-gateway address: past its
 * extension headers to TCP (syn.c) or UDP (the foreign registrant); a
 * fragment is reassembled first, and the whole datagram is never
 * reassembled again
 * @ns:		netstack
 * @ip:		packet, fixed header checked
 * @len:	40 + its payload length
 */
static void input6_foreign(struct ns *ns, const uint8_t *ip, size_t len)
{
	struct ip6_view v;

	if (input6_upper(ns, ip, len, &v) < 0)
		return;
	if (v.proto == IP6_NH_FRAG) {
		len = input6_reass(ns, ip, len, v.off);
		if (!len)
			return;
		ip = ns->eng->reass;
		if (input6_upper(ns, ip, len, &v) < 0)
			return;
		if (v.proto == IP6_NH_FRAG) {
			ns->st.drop_frag++; /* a fragment inside a fragment */
			return;
		}
	}
	switch (v.proto) {
	case IP6_NH_TCP:
		ns_syn_input(ns, ip, len, v.off);
		break;
	case IP6_NH_UDP:
		udp_guest_input(ns, ip, len, v.off);
		break;
	case IP6_NH_ICMP6:
		echo_guest_input(ns, ip, len, v.off);
		break;
	default:
		if (ip6_ext_unhandled(v.proto) || v.proto == IP6_NH_HOPOPTS ||
		    v.proto == IP6_NH_ROUTING || v.proto == IP6_NH_DSTOPTS)
			ns->st.drop_ip6_ext++;
		else
			ns->st.drop_proto++;
		break;
	}
}

/**
 * ns_engine_input6() - an IPv6 packet from the guest, its fixed header
 * checked by link.c (version 6, payload length within the frame; Neighbour
 * Discovery already taken out)
 * @ns:		netstack
 * @ip:		packet
 * @len:	40 + its payload length
 * @to_gateway:	addressed to one of the gateway's own addresses, or
 *		multicast: lwIP's ip6_input() (ICMPv6 echo, services)
 */
void ns_engine_input6(struct ns *ns, const uint8_t *ip, size_t len, bool to_gateway)
{
	struct ip6_view v;
	struct pbuf *p;
	bool tcp;

	if (len < IP6_HLEN || !pkt_v6(ip) || len > 0xffff) {
		ns->st.drop_bad_ip++;
		return;
	}
	if (!to_gateway) {
		input6_foreign(ns, ip, len);
		return;
	}
	/* TCP to a gateway port (DNS): the half-open bound and the window guard as for IPv4 */
	tcp = ip6_upper(ip, len, &v) == 0 && v.proto == IP6_NH_TCP;
	if (tcp && len >= v.off + 14 && (ip[v.off + 13] & 0x12) == 0x02)
		ns_pcbtab_make_room(ns->eng, &ns->st.tcp_embryo_reset);
	p = ns_tcp_seg_copy(ip, len);
	if (!p)
		return;
	if (tcp)
		ns_tcp_csum_settle(ns, p->payload, len, v.off);
	if (tcp && ns_tcp_guard(ns, ns_tcp_seg_pcb(ns, ip, len, v.off), p->payload, &len, v.off))
		pbuf_realloc(p, (u16_t)len);
	ip6_input(p, &ns->eng->netif);
}
