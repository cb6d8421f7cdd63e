/* SPDX-License-Identifier: MIT */
/*
 * out.c - datagrams towards the guest that other modules send: UDP from any
 * source address and port (NAT replies, the gateway services' answers),
 * ICMP(v6) echo replies from any address (ping replies) and ICMP
 * destination unreachable, quoting a packet being delivered or a
 * synthesised IP+UDP header, for either family. UDP goes through lwIP's
 * udp_sendto_if_src() on one unbound pcb per family (fragmented above the
 * MTU); echo replies and ICMP and ICMPv6 errors are built here and leave
 * through ns->ip_out or ns->ip6_out, except an echo reply above the MTU,
 * which goes through lwIP's IP output to be fragmented as UDP is. The contract's
 * ICMP codes (netstack.h) are translated for ICMPv6 (RFC 4443: port
 * unreachable 4, administratively prohibited 1, address unreachable 3, no
 * route 0). Nothing is kept.
 */
#include "engine.h"

#include <errno.h>
#include <string.h>

#include "common/netutil.h"

/* the ICMPv6 destination-unreachable code for an ICMP (IPv4) one */
static uint8_t icmp6_code(uint8_t code)
{
	switch (code) {
	case 3: /* port unreachable */
		return 4;
	case 9:
	case 10:
	case 13: /* administratively prohibited */
		return 1;
	case 1: /* host unreachable */
		return 3;
	default: /* network unreachable and the rest: no route */
		return 0;
	}
}

/**
 * icmp6_unreachable() - ICMPv6 destination unreachable (type 1) for the
 * IPv6 packet @pkt, from its destination to its source, quoting as much of
 * it as keeps the error within the minimum MTU (1280)
 * @ns:		netstack
 * @pkt:	the offending packet
 * @code:	ICMP (IPv4) code, translated
 */
static void icmp6_unreachable(struct ns *ns, const struct ns_pkt *pkt, uint8_t code)
{
	uint8_t buf[1280];
	size_t quote = pkt->len > sizeof(buf) - 48 ? sizeof(buf) - 48 : pkt->len;
	size_t ulen = 8 + quote;
	struct iovec iov = {buf, 40 + ulen};
	uint16_t sum;

	if (pkt->len < IP6_HLEN)
		return;
	buf[0] = 0x60;
	buf[1] = buf[2] = buf[3] = 0;
	vg_put_be16(buf + 4, (uint16_t)ulen);
	buf[6] = IP6_NH_ICMP6;
	buf[7] = 64; /* hop limit */
	memcpy(buf + 8, pkt->ip + 24, 16); /* from the address it was sent to */
	memcpy(buf + 24, pkt->ip + 8, 16);
	memset(buf + 40, 0, 8);
	buf[40] = 1; /* destination unreachable */
	buf[41] = icmp6_code(code);
	memcpy(buf + 48, pkt->ip, quote);
	sum = csum_fold(csum_partial(buf + 40, ulen, csum_ip6_pseudo(buf, (uint32_t)ulen,
								     IP6_NH_ICMP6)));
	vg_put_be16(buf + 42, sum);
	ns->ip6_out(ns, pkt->ip + 8, &iov, 1);
}

void ns_icmp_unreachable(struct ns *ns, const struct ns_pkt *pkt, uint8_t code)
{
	uint8_t buf[20 + 8 + 548];
	size_t quote = pkt->len > 548 ? 548 : pkt->len, tot = 20 + 8 + quote;
	uint32_t src, dst, sum;
	struct iovec iov = {buf, tot};

	if (pkt->len && pkt_v6(pkt->ip)) {
		icmp6_unreachable(ns, pkt, code);
		return;
	}
	memcpy(&src, pkt->ip + 12, 4);
	memcpy(&dst, pkt->ip + 16, 4);
	vg_ip4_header(buf, (uint16_t)tot, 1 /* ICMP */, dst, src);
	memset(buf + 20, 0, 8);
	buf[20] = 3; /* destination unreachable */
	buf[21] = code;
	memcpy(buf + 28, pkt->ip, quote);
	sum = csum_fold(csum_partial(buf + 20, 8 + quote, 0));
	buf[22] = (uint8_t)(sum >> 8);
	buf[23] = (uint8_t)sum;
	ns->ip_out(ns, src, &iov, 1);
}

/**
 * echo_fragmented() - an echo reply above the MTU, through lwIP's IP output
 * (which fragments it at the link MTU; port.c does with GSO on)
 * @ns:		netstack
 * @from:	source
 * @to:		guest
 * @m:		the 8-byte ICMP(v6) header, checksum filled
 * @data:	payload
 * @len:	its length
 *
 * Return: 0, -ENOMEM, or -EIO
 */
static int echo_fragmented(struct ns *ns, const struct ns_addr *from, const struct ns_addr *to,
			   const uint8_t *m, const void *data, size_t len)
{
	struct netif *nif = &ns->eng->netif;
	ip_addr_t src, dst;
	struct pbuf *p = pbuf_alloc(PBUF_IP, (u16_t)(8 + len), PBUF_RAM);
	err_t e;

	if (!p)
		return -ENOMEM;
	memcpy(p->payload, m, 8);
	memcpy((uint8_t *)p->payload + 8, data, len);
	addr_to_ip(&src, from);
	addr_to_ip(&dst, to);
	if (ns_addr_is_v6(to))
		e = ip6_output_if_src(p, ip_2_ip6(&src), ip_2_ip6(&dst), 64, 0, IP6_NEXTH_ICMP6,
				      nif);
	else
		e = ip4_output_if_src(p, ip_2_ip4(&src), ip_2_ip4(&dst), VG_IP4_TTL, 0,
				      IP_PROTO_ICMP, nif);
	pbuf_free(p);
	return e == ERR_OK ? 0 : -EIO;
}

int ns_echo_reply(struct ns *ns, const struct ns_addr *from, const struct ns_addr *to,
		  uint16_t seq, const void *data, size_t len)
{
	bool v6 = ns_addr_is_v6(to);
	size_t hlen = v6 ? IP6_HLEN : 20;
	uint8_t hdr[IP6_HLEN + 8];
	struct iovec iov[2] = {{hdr, hlen + 8}, {(void *)data, len}};
	uint8_t *m = hdr + hlen;
	uint32_t sum0;
	uint16_t sum;

	if (ns_addr_is_v6(from) != v6)
		return -EAFNOSUPPORT;
	if (hlen + 8 + len > 65535)
		return -EMSGSIZE;
	if (v6) {
		memset(hdr, 0, IP6_HLEN);
		hdr[0] = 0x60;
		vg_put_be16(hdr + 4, (uint16_t)(8 + len));
		hdr[6] = IP6_NH_ICMP6;
		hdr[7] = 64; /* hop limit */
		memcpy(hdr + 8, from->ip6, 16);
		memcpy(hdr + 24, to->ip6, 16);
	} else {
		vg_ip4_header(hdr, (uint16_t)(hlen + 8 + len), 1 /* ICMP */, from->ip, to->ip);
	}
	m[0] = v6 ? 129 : 0; /* echo reply */
	m[1] = 0;
	m[2] = m[3] = 0;
	vg_put_be16(m + 4, to->port);
	vg_put_be16(m + 6, seq);
	sum0 = v6 ? csum_ip6_pseudo(hdr, (uint32_t)(8 + len), IP6_NH_ICMP6) : 0;
	sum = csum_fold(csum_partial(data, len, csum_partial(m, 8, sum0)));
	vg_put_be16(m + 2, sum);
	if (hlen + 8 + len > ns->cfg.mtu)
		return echo_fragmented(ns, from, to, m, data, len);
	if (v6)
		return ns->ip6_out(ns, to->ip6, iov, 2);
	return ns->ip_out(ns, to->ip, iov, 2);
}

int ns_udp_send(struct ns *ns, const struct ns_addr *from, const struct ns_addr *to,
		const void *data, size_t len)
{
	struct ns_engine *eng = ns->eng;
	bool v6 = ns_addr_is_v6(to);
	struct udp_pcb *pcb = v6 ? eng->udp_out6 : eng->udp_out;
	ip_addr_t src, dst;
	struct pbuf *p;
	err_t e;

	if (ns_addr_is_v6(from) != v6)
		return -EAFNOSUPPORT; /* one family per datagram */
	if (len > (v6 ? 65527u : 65507u))
		return -EMSGSIZE;
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return -ENOMEM;
	memcpy(p->payload, data, len);
	addr_to_ip(&src, from);
	addr_to_ip(&dst, to);
	pcb->local_port = from->port;
	e = udp_sendto_if_src(pcb, p, &dst, to->port, &eng->netif, &src);
	pbuf_free(p);
	return e == ERR_OK ? 0 : -EIO;
}

void ns_udp_unreachable(struct ns *ns, const struct ns_addr *guest, const struct ns_addr *dst,
			uint8_t code)
{
	uint8_t orig[48];
	struct ns_pkt pkt = {orig, 28};

	if (ns_addr_is_v6(guest) != ns_addr_is_v6(dst))
		return;
	if (ns_addr_is_v6(guest)) {
		memset(orig, 0, sizeof(orig));
		orig[0] = 0x60;
		orig[5] = 8; /* payload: the UDP header */
		orig[6] = IP6_NH_UDP;
		orig[7] = 64;
		memcpy(orig + 8, guest->ip6, 16);
		memcpy(orig + 24, dst->ip6, 16);
		vg_put_be16(orig + 40, guest->port);
		vg_put_be16(orig + 42, dst->port);
		orig[45] = 8;
		pkt.len = sizeof(orig);
		ns_icmp_unreachable(ns, &pkt, code);
		return;
	}
	vg_ip4_header(orig, 28, 17 /* UDP */, guest->ip, dst->ip);
	memset(orig + 20, 0, 8);
	orig[20] = (uint8_t)(guest->port >> 8);
	orig[21] = (uint8_t)guest->port;
	orig[22] = (uint8_t)(dst->port >> 8);
	orig[23] = (uint8_t)dst->port;
	orig[25] = 8;
	ns_icmp_unreachable(ns, &pkt, code);
}
