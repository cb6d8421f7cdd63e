/* SPDX-License-Identifier: MIT */
/*
 * tcpguard.c - what lwIP 2.1.3's tcp_receive() gets wrong with a guest that
 * overruns its receive window, mended before the segment reaches it.
 *
 * lwIP trims an in-order segment to rcv_nxt + rcv_wnd, and an out-of-order
 * one appended behind the last queued segment; but the first segment put
 * on an empty out-of-order queue, and one that replaces a shorter queued
 * segment at the same sequence number, are kept whole however far they
 * reach past the window. When the hole before them is filled, lwIP takes
 * their length from rcv_wnd (tcp_in.c, "ooseq tcplen > rcv_wnd", an assert
 * compiled out): the 32-bit window wraps to about 4 GiB, the guest is
 * offered a huge window, and the buffer-memory budget counts 4 GiB of open
 * window for the flow. A guest does not need to be hostile for this: the
 * window it was shown may be wider than rcv_wnd after flow.c shrank it.
 *
 * So every guest data segment for a known pcb is checked first: when it
 * starts past rcv_nxt (out of order) inside the window and ends past its
 * right edge, it is cut to the edge (FIN cleared, IP length and the
 * checksums rewritten: IPv4's header sum, or IPv6's payload length), as
 * lwIP does for the segments it does trim. Its checksum is verified before
 * it is rewritten, so a corrupt segment stays corrupt and lwIP drops it.
 * This keeps lwIP's invariant that everything queued out of order lies
 * inside rcv_nxt + rcv_wnd, which receiving never moves and tcp_recved()
 * only moves right.
 *
 * Works in place on the copy the caller is about to hand to lwIP; O(1) per
 * segment (one pcbtab.c lookup).
 *
 * That copy comes from ns_tcp_seg_copy(), for a second mend: lwIP's option
 * parser (tcp_parseopt()) reads an option's length byte before it checks
 * the length against the header, so an option kind in the header's last
 * byte makes it read one byte past the header, past the packet when no data
 * follows. The copy carries one zero byte of slack behind the packet, which
 * lwIP then reads as a bad length and stops, as Linux stops on it.
 */
#include "engine.h"

#include <string.h>

#include "lwip/priv/tcp_priv.h"

#include "common/netutil.h"

#include "frame.h"

/* the TCP checksum of @t (@tlen bytes) over the addresses of IPv4 or IPv6 @ip */
static uint16_t tcp_sum(const uint8_t *ip, const uint8_t *t, size_t tlen)
{
	return csum_fold(csum_partial(t, tlen, pkt_pseudo_sum(ip, 6, tlen)));
}

/* write the TCP checksum of @t (@tlen bytes) into its header */
static void tcp_resum(const uint8_t *ip, uint8_t *t, size_t tlen)
{
	vg_put_be16(t + 16, 0);
	vg_put_be16(t + 16, tcp_sum(ip, t, tlen));
}

/**
 * ns_tcp_seg_copy() - copy a guest packet into a fresh pbuf for lwIP's input,
 * with one zero byte of slack past its end (the file comment)
 * @ip:		the IPv4 or IPv6 packet
 * @len:	its length, at most 0xffff
 *
 * Return: the pbuf (p->tot_len == @len), or NULL when lwIP's heap is out
 */
struct pbuf *ns_tcp_seg_copy(const uint8_t *ip, size_t len)
{
	/* 0xffff is odd: the allocator's 8-byte rounding leaves the byte */
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(len < 0xffff ? len + 1 : len), PBUF_RAM);

	if (!p)
		return NULL;
	memcpy(p->payload, ip, len);
	if (len < 0xffff)
		((uint8_t *)p->payload)[len] = 0;
	p->len = p->tot_len = (u16_t)len;
	return p;
}

/**
 * ns_tcp_seg_pcb() - the pcb a guest TCP segment belongs to (pcbtab.c's
 * hash), when it is one that receives data: SYN_RCVD to LAST_ACK
 * @ns:		netstack
 * @ip:		the IPv4 or IPv6 packet
 * @len:	its length
 * @hlen:	offset of its TCP header
 *
 * Return: the pcb, or NULL (none, listening, closed, TIME_WAIT, runt)
 */
struct tcp_pcb *ns_tcp_seg_pcb(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
{
	const uint8_t *t = ip + hlen;
	struct ns_addr src, dst;
	struct tcp_pcb *pcb;

	if (len < hlen + 20)
		return NULL;
	src = pkt_src(ip, (uint16_t)(t[0] << 8 | t[1]));
	dst = pkt_dst(ip, (uint16_t)(t[2] << 8 | t[3]));
	pcb = ns_pcbtab_find(ns->eng, &src, &dst);
	if (!pcb || pcb->state < SYN_RCVD || pcb->state == TIME_WAIT)
		return NULL;
	return pcb;
}

/**
 * ns_tcp_guard() - cut a guest TCP segment that lwIP would queue out of
 * order past its pcb's receive window down to the window's edge
 * @ns:		netstack
 * @pcb:	the segment's pcb (ns_tcp_seg_pcb()), or NULL: nothing to do
 * @ip:		the IPv4 or IPv6 packet, writable (the copy bound for tcp_input())
 * @len:	its length; lowered when the segment is cut
 * @hlen:	offset of its TCP header
 *
 * Return: true when the segment was cut (counted in tcp_window_trimmed)
 */
bool ns_tcp_guard(struct ns *ns, struct tcp_pcb *pcb, uint8_t *ip, size_t *len, size_t hlen)
{
	uint8_t *t = ip + hlen;
	size_t doff, plen, keep;
	uint32_t seq, edge;
	uint8_t flags;

	if (!pcb || *len < hlen + 20)
		return false;
	doff = (size_t)(t[12] >> 4) * 4;
	flags = t[13];
	if (doff < 20 || doff > *len - hlen || (flags & (TCP_SYN | TCP_RST)))
		return false;
	plen = *len - hlen - doff + ((flags & TCP_FIN) ? 1 : 0);
	if (!plen)
		return false;
	seq = vg_get_be32(t + 4);
	edge = pcb->rcv_nxt + pcb->rcv_wnd;
	if (!TCP_SEQ_GT(seq, pcb->rcv_nxt) || !TCP_SEQ_LT(seq, edge) ||
	    !TCP_SEQ_GT(seq + (uint32_t)plen, edge))
		return false;
	if (!ns->rx_csum_partial && tcp_sum(ip, t, *len - hlen) != 0)
		return false; /* corrupt: lwIP drops it as it is */
	keep = edge - seq;    /* payload bytes inside the window, at least 1 */
	t[13] = (uint8_t)(flags & ~TCP_FIN);
	*len = hlen + doff + keep;
	if (pkt_v6(ip)) {
		vg_put_be16(ip + 4, (uint16_t)(*len - IP6_HLEN)); /* no header sum */
	} else {
		vg_put_be16(ip + 2, (uint16_t)*len);
		vg_put_be16(ip + 10, 0);
		vg_put_be16(ip + 10, csum_fold(csum_partial(ip, hlen, 0)));
	}
	tcp_resum(ip, t, *len - hlen);
	ns->st.tcp_window_trimmed++;
	return true;
}

/**
 * ns_tcp_csum_settle() - complete the checksum of a guest TCP segment the
 * guest's kernel left partial (ns->rx_csum_partial), for a path where lwIP
 * itself checks it (ip4_input(), ip6_input())
 * @ns:		netstack
 * @ip:		the IPv4 or IPv6 packet, writable (the copy bound for lwIP)
 * @len:	its length
 * @hlen:	offset of its TCP header
 */
void ns_tcp_csum_settle(const struct ns *ns, uint8_t *ip, size_t len, size_t hlen)
{
	if (ns->rx_csum_partial && len >= hlen + 20)
		tcp_resum(ip, ip + hlen, len - hlen);
}
