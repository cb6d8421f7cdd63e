/* SPDX-License-Identifier: MIT */
/*
 * out.c - datagrams towards the guest that other modules send: UDP from any
 * source address and port (NAT replies, the gateway services' answers) and
 * ICMP destination unreachable, quoting a packet being delivered or a
 * synthesised IPv4+UDP header. UDP goes through lwIP's udp_sendto_if_src()
 * on one unbound pcb (fragmented above the MTU); ICMP is built here and
 * leaves through ns->ip_out. Nothing is kept.
 */
#include "engine.h"

#include <errno.h>
#include <string.h>

#include "common/netutil.h"

void ns_icmp_unreachable(struct ns *ns, const struct ns_pkt *pkt, uint8_t code)
{
	uint8_t buf[20 + 8 + 548];
	size_t quote = pkt->len > 548 ? 548 : pkt->len, tot = 20 + 8 + quote;
	uint32_t src, dst, sum;
	struct iovec iov = {buf, tot};

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

int ns_udp_send(struct ns *ns, const struct ns_addr *from, const struct ns_addr *to,
		const void *data, size_t len)
{
	struct ns_engine *eng = ns->eng;
	ip_addr_t src, dst;
	struct pbuf *p;
	err_t e;

	if (ns_addr_is_v6(from) || ns_addr_is_v6(to))
		return -EAFNOSUPPORT; /* no IPv6 path towards the guest yet */
	if (len > 65507)
		return -EMSGSIZE;
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return -ENOMEM;
	memcpy(p->payload, data, len);
	addr_set(&src, from->ip);
	addr_set(&dst, to->ip);
	eng->udp_out->local_port = from->port;
	e = udp_sendto_if_src(eng->udp_out, p, &dst, to->port, &eng->netif, &src);
	pbuf_free(p);
	return e == ERR_OK ? 0 : -EIO;
}

void ns_udp_unreachable(struct ns *ns, const struct ns_addr *guest, const struct ns_addr *dst,
			uint8_t code)
{
	uint8_t orig[28];
	struct ns_pkt pkt = {orig, sizeof(orig)};

	if (ns_addr_is_v6(guest) || ns_addr_is_v6(dst))
		return; /* no IPv6 path towards the guest yet */
	vg_ip4_header(orig, sizeof(orig), 17 /* UDP */, guest->ip, dst->ip);
	memset(orig + 20, 0, 8);
	orig[20] = (uint8_t)(guest->port >> 8);
	orig[21] = (uint8_t)guest->port;
	orig[22] = (uint8_t)(dst->port >> 8);
	orig[23] = (uint8_t)dst->port;
	orig[25] = 8;
	ns_icmp_unreachable(ns, &pkt, code);
}
