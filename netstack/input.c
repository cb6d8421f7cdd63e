/* SPDX-License-Identifier: MIT */
/*
 * input.c - guest IPv4 into the engine, after link.c validated the header.
 *
 * Packets for the gateway (and broadcast, multicast) go through lwIP's
 * ip4_input(): ICMP echo, the gateway services' pcbs, RST or ICMP port
 * unreachable for other ports; TCP to a gateway port whose service has a
 * tcp_syn goes the way of foreign flows. TCP to any other address goes to
 * syn.c; UDP to other addresses never enters lwIP: its checksum is checked
 * here and it goes to the foreign registrant's udp_recv. Fragments of
 * datagrams to other addresses are reassembled by lwIP's ip4_reass()
 * (bounded by IP_REASS_MAX_PBUFS, expired by its timer) into eng->reass and
 * then dispatched like any other packet.
 *
 * IPv6 (ns_engine_input6(), after link.c's checks): packets for the gateway
 * go through lwIP's ip6_input() (ICMPv6 echo, the gateway's ports);
 * packets to other addresses are dropped and counted (drop_ip6_foreign)
 * until IPv6 flows are delivered to the foreign registrant.
 */
#include "engine.h"

#include <string.h>

#include "lwip/ip4_frag.h"
#include "lwip/ip6.h"

/**
 * udp_guest_input() - a UDP datagram to a non-gateway address: check its
 * length and checksum, then hand it to the foreign registrant
 * @ns:		netstack
 * @ip:		validated IPv4 packet
 * @len:	its length
 * @hlen:	IP header length
 */
static void udp_guest_input(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
{
	const uint8_t *u = ip + hlen;
	struct ns_addr src = ns_addr_v4(0, 0), dst = ns_addr_v4(0, 0);
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
	if (sum) {
		uint32_t s = csum_partial(ip + 12, 8, 0);

		s += 17 + (uint32_t)ulen;
		s = csum_partial(u, ulen, s);
		if (csum_fold(s) != 0) {
			ns->st.drop_bad_ip++;
			return;
		}
	}
	memcpy(&src.ip, ip + 12, 4);
	memcpy(&dst.ip, ip + 16, 4);
	src.port = (uint16_t)(u[0] << 8 | u[1]);
	dst.port = (uint16_t)(u[2] << 8 | u[3]);
	if (!ns->eng->foreign.udp_recv || !dst.port) {
		ns->st.drop_udp_nohook++;
		return;
	}
	ns->st.udp_fwd_packets++;
	ns->eng->foreign.udp_recv(ns->eng->foreign.ctx, &src, &dst, u + 8, ulen - 8, &pkt);
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
		p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
		if (!p)
			return;
		memcpy(p->payload, ip, len);
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

/**
 * ns_engine_input6() - an IPv6 packet from the guest, validated by link.c
 * (header, length, extension headers, source; never Neighbour Discovery)
 * @ns:		netstack
 * @ip:		packet
 * @len:	its length (40 + payload length)
 * @to_gateway:	addressed to the gateway (fe80::1, PREFIX::1) or one of
 *		its groups; no fragment
 */
void ns_engine_input6(struct ns *ns, const uint8_t *ip, size_t len, bool to_gateway)
{
	struct pbuf *p;

	if (!to_gateway) {
		ns->st.drop_ip6_foreign++; /* IPv6 flow delivery: not built yet */
		return;
	}
	if (len > 0xffff)
		return;
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!p)
		return;
	memcpy(p->payload, ip, len);
	ip6_input(p, &ns->eng->netif);
}
