/* SPDX-License-Identifier: MIT */
/*
 * syn.c - guest SYNs and the delivery of guest TCP segments to lwIP.
 *
 * A TCP segment (IPv4 or IPv6) to a non-gateway address (or to a gateway
 * port whose service has a tcp_syn callback) comes here from input.c. A SYN for a new
 * flow is offered to its registrant's tcp_syn (service.c says whose): it is
 * accepted, reset (an RST built here), dropped, or deferred: then a copy is
 * kept in the fixed table eng->syn (NS_SYN_MAX, each held at most
 * NS_SYN_HOLD_MS) until ns_syn_resume(). Every other segment, and an
 * accepted SYN, is handed to tcp_input() after filling lwIP's ip_data as
 * ip4_input() would; the wildcard listener's port is set to the segment's
 * destination port for the call, so a SYN to any address and port finds a
 * listener and the accepted pcb's local address is what the guest dialled.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "lwip/priv/tcp_priv.h"

#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

/**
 * tuple_active() - whether lwIP has a live pcb for the 4-tuple (the pcb
 * table, O(1)); a TIME_WAIT pcb on it is forgotten (the guest reuses the
 * port)
 * @eng:	engine
 * @src:	guest endpoint
 * @dst:	destination endpoint
 *
 * Return: true when a flow exists (the SYN is not a new flow's)
 */
static bool tuple_active(struct ns_engine *eng, const struct ns_addr *src,
			 const struct ns_addr *dst)
{
	struct tcp_pcb *p = ns_pcbtab_find(eng, src, dst);

	if (!p)
		return false;
	if (p->state != TIME_WAIT)
		return true;
	tcp_abort(p); /* a new SYN on a TIME_WAIT tuple: the guest reuses the port */
	return false;
}

/**
 * tcp_deliver() - hand a segment to tcp_input() as ip4_input() or
 * ip6_input() would
 * @ns:		netstack
 * @ip:		validated IPv4 or IPv6 packet
 * @len:	its length
 * @hlen:	offset of the TCP header
 * @dport:	destination port (the wildcard listener's port for the call)
 * @fresh:	a SYN that matches no pcb: lwIP need not walk its pcb lists
 */
static void tcp_deliver(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen, uint16_t dport,
			bool fresh)
{
	struct ns_engine *eng = ns->eng;
	struct pbuf *p = ns_tcp_seg_copy(ip, len);

	if (!p)
		return;
	if (!fresh) {
		struct tcp_pcb *pcb = ns_tcp_seg_pcb(ns, ip, len, hlen);
		/* where data starts (the header was checked by ns_syn_input()) */
		size_t doff = hlen + (size_t)(ip[hlen + 12] >> 4) * 4;

		if (ns_tcp_guard(ns, pcb, p->payload, &len, hlen))
			pbuf_realloc(p, (u16_t)len);
		/* data: stretch its ACK */
		if (pcb && len > doff)
			ns_pcbtab_ack_defer(eng, pcb, len - doff, &ns->st.tcp_acks_folded);
	}
	eng->wild->local_port = dport;
	ip_data.current_netif = &eng->netif;
	ip_data.current_input_netif = &eng->netif;
	ip_data.current_ip_header_tot_len = (u16_t)hlen;
	if (pkt_v6(ip)) {
		struct ip6_hdr *h6 = p->payload;

		ip_data.current_ip6_header = h6;
		ip_addr_copy_from_ip6_packed(ip_data.current_iphdr_src, h6->src);
		ip_addr_copy_from_ip6_packed(ip_data.current_iphdr_dest, h6->dest);
	} else {
		ip_data.current_ip4_header = p->payload;
		ip_addr_copy_from_ip4(ip_data.current_iphdr_src,
				      ((const struct ip_hdr *)p->payload)->src);
		ip_addr_copy_from_ip4(ip_data.current_iphdr_dest,
				      ((const struct ip_hdr *)p->payload)->dest);
	}
	pbuf_remove_header(p, hlen);
	if (ns->rx_csum_partial) /* its checksum is partial: not checked (vnet.h) */
		NETIF_SET_CHECKSUM_CTRL(&eng->netif,
					ns_engine_csum_ctrl(eng) & ~NETIF_CHECKSUM_CHECK_TCP);
	if (fresh)
		ns_pcbtab_hidden_input(p, &eng->netif);
	else
		tcp_input(p, &eng->netif);
	NETIF_SET_CHECKSUM_CTRL(&eng->netif, ns_engine_csum_ctrl(eng));
	ip_data.current_netif = NULL;
	ip_data.current_input_netif = NULL;
	ip_data.current_ip4_header = NULL;
	ip_data.current_ip6_header = NULL;
	ip_data.current_ip_header_tot_len = 0;
	ip_addr_set_zero_ip4(&ip_data.current_iphdr_src);
	ip_addr_set_zero_ip4(&ip_data.current_iphdr_dest);
	eng->wild->local_port = 0;
}

/**
 * syn_reset() - answer a SYN with RST from the address it was sent to
 * @ns:		netstack
 * @ip:		the SYN's IPv4 or IPv6 packet
 * @hlen:	offset of its TCP header
 * @len:	packet length
 */
static void syn_reset(struct ns *ns, const uint8_t *ip, size_t hlen, size_t len)
{
	const uint8_t *t = ip + hlen;
	uint16_t sport = (uint16_t)(t[0] << 8 | t[1]), dport = (uint16_t)(t[2] << 8 | t[3]);
	struct ns_addr src = pkt_src(ip, sport), dst = pkt_dst(ip, dport);
	ip_addr_t local, remote;
	uint32_t seq;

	seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	addr_to_ip(&local, &dst);
	addr_to_ip(&remote, &src);
	/* SYN occupies one sequence number, plus any data it carried */
	seq += 1 + (uint32_t)(len - hlen - (size_t)(t[12] >> 4) * 4);
	tcp_rst(NULL, 0, seq, &local, &remote, dport, sport);
	ns->st.tcp_syn_reset++;
}

static unsigned int syn_hash(const struct ns_addr *src, const struct ns_addr *dst)
{
	uint64_t a = src->ip, b = dst->ip, h;

	if (ns_addr_is_v6(src) || ns_addr_is_v6(dst)) {
		uint64_t w[4];

		memcpy(w, src->ip6, 16);
		memcpy(w + 2, dst->ip6, 16);
		a = (w[0] * 0xff51afd7ed558ccdull) ^ w[1];
		b = (w[2] * 0xc4ceb9fe1a85ec53ull) ^ w[3];
	}
	h = (a << 32 ^ a >> 32 ^ b) * 0x9e3779b97f4a7c15ull;
	h ^= ((uint64_t)src->port << 16 | dst->port) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return (unsigned int)(h >> 20) & (NS_SYN_BUCKETS - 1);
}

/**
 * ns_syn_init() - every hold slot free, the hash empty
 * @eng:	engine
 */
void ns_syn_init(struct ns_engine *eng)
{
	int i;

	for (i = 0; i < NS_SYN_BUCKETS; i++)
		eng->syn_bucket[i] = -1;
	for (i = 0; i < NS_SYN_MAX; i++) {
		eng->syn[i].hnext = eng->syn[i].prev = -1;
		eng->syn[i].next = (int16_t)(i + 1 < NS_SYN_MAX ? i + 1 : -1);
	}
	eng->syn_free = 0;
	eng->syn_old = eng->syn_new = -1;
}

/**
 * syn_find() - the deferred SYN of a 4-tuple (hashed: O(1))
 * @eng:	engine
 * @src:	guest endpoint
 * @dst:	destination endpoint
 *
 * Return: its slot, or NULL
 */
static struct syn_pending *syn_find(struct ns_engine *eng, const struct ns_addr *src,
				    const struct ns_addr *dst)
{
	int i;

	for (i = eng->syn_bucket[syn_hash(src, dst)]; i >= 0; i = eng->syn[i].hnext) {
		struct syn_pending *s = &eng->syn[i];

		if (ns_addr_eq(&s->src, src) && ns_addr_eq(&s->dst, dst))
			return s;
	}
	return NULL;
}

/**
 * syn_release() - free a held slot: out of the hash and the age FIFO, onto
 * the free list
 * @eng:	engine
 * @s:		held slot
 */
static void syn_release(struct ns_engine *eng, struct syn_pending *s)
{
	int16_t i = (int16_t)(s - eng->syn), *pp;

	for (pp = &eng->syn_bucket[syn_hash(&s->src, &s->dst)]; *pp >= 0;
	     pp = &eng->syn[*pp].hnext)
		if (*pp == i) {
			*pp = s->hnext;
			break;
		}
	if (s->prev >= 0)
		eng->syn[s->prev].next = s->next;
	else
		eng->syn_old = s->next;
	if (s->next >= 0)
		eng->syn[s->next].prev = s->prev;
	else
		eng->syn_new = s->prev;
	free(s->pkt);
	memset(s, 0, sizeof(*s));
	s->hnext = s->prev = -1;
	s->next = eng->syn_free;
	eng->syn_free = i;
}

/**
 * syn_reserve() - take a free hold slot for the next SYN: holds older than
 * NS_SYN_HOLD_MS are dropped first, and when none is free the oldest hold
 * is dropped (oldest first: new SYNs keep making progress under a flood)
 * @ns:		netstack
 *
 * Return: the slot index, off the free list (syn_unreserve() gives it back)
 */
static int syn_reserve(struct ns *ns)
{
	struct ns_engine *eng = ns->eng;
	uint64_t now = vg_loop_now(ns->loop);
	int i;

	while (eng->syn_old >= 0 && now - eng->syn[eng->syn_old].since > NS_SYN_HOLD_MS) {
		ns->st.tcp_syn_expired++;
		syn_release(eng, &eng->syn[eng->syn_old]);
	}
	if (eng->syn_free < 0) {
		ns->st.tcp_syn_evicted++;
		syn_release(eng, &eng->syn[eng->syn_old]);
	}
	i = eng->syn_free;
	eng->syn_free = eng->syn[i].next;
	eng->syn[i].next = -1;
	return i;
}

static void syn_unreserve(struct ns_engine *eng, int i)
{
	eng->syn[i].next = eng->syn_free;
	eng->syn_free = (int16_t)i;
}

/**
 * syn_defer() - keep a copy of a SYN in its reserved slot until
 * ns_syn_resume()
 * @ns:		netstack
 * @i:		slot from syn_reserve()
 * @ip:		the packet
 * @len:	its length
 * @hlen:	offset of its TCP header
 * @token:	token the caller will resume with
 *
 * Return: 0, or -1 out of memory (the slot is given back; the guest will
 * retransmit)
 */
static int syn_defer(struct ns *ns, int i, const uint8_t *ip, size_t len, size_t hlen,
		     uint64_t token)
{
	struct ns_engine *eng = ns->eng;
	struct syn_pending *slot = &eng->syn[i];
	unsigned int b;

	slot->pkt = malloc(len);
	if (!slot->pkt) {
		syn_unreserve(eng, i);
		return -1;
	}
	memcpy(slot->pkt, ip, len);
	slot->len = len;
	slot->hlen = hlen;
	slot->token = token;
	slot->since = vg_loop_now(ns->loop);
	slot->src = pkt_src(ip, (uint16_t)(ip[hlen] << 8 | ip[hlen + 1]));
	slot->dst = pkt_dst(ip, (uint16_t)(ip[hlen + 2] << 8 | ip[hlen + 3]));
	b = syn_hash(&slot->src, &slot->dst);
	slot->hnext = eng->syn_bucket[b];
	eng->syn_bucket[b] = (int16_t)i;
	slot->next = -1;
	slot->prev = eng->syn_new;
	if (eng->syn_new >= 0)
		eng->syn[eng->syn_new].next = (int16_t)i;
	else
		eng->syn_old = (int16_t)i;
	eng->syn_new = (int16_t)i;
	return 0;
}

void ns_syn_resume(struct ns *ns, uint64_t token, enum ns_syn_verdict verdict)
{
	struct ns_engine *eng = ns->eng;
	size_t i = (size_t)(token & ((1u << NS_SYN_TOKEN_BITS) - 1));
	struct syn_pending *s;

	if (!token || i >= NS_SYN_MAX || eng->syn[i].token != token)
		return; /* dropped meanwhile (expired, evicted) */
	s = &eng->syn[i];
	if (verdict == NS_SYN_ACCEPT) {
		ns_pcbtab_make_room(eng, &ns->st.tcp_embryo_reset);
		tcp_deliver(ns, s->pkt, s->len, s->hlen, s->dst.port, true);
	} else if (verdict == NS_SYN_RESET) {
		syn_reset(ns, s->pkt, s->hlen, s->len);
	}
	syn_release(eng, s);
}

void ns_syn_cancel(struct ns *ns, const struct ns_addr *src, const struct ns_addr *dst)
{
	struct tcp_pcb *p = ns_pcbtab_find(ns->eng, src, dst);

	if (p && p->state == SYN_RCVD) {
		ns_pcbtab_settle(ns->eng, p); /* the caller knows: no tcp_abandoned */
		ns_pcbtab_doom(ns->eng, p);   /* reset at the end of the loop turn */
	}
}

/**
 * ns_syn_input() - a TCP segment to a non-gateway address, or to a
 * gateway port whose service has a tcp_syn callback
 * @ns:		netstack
 * @ip:		validated IPv4 or IPv6 packet
 * @len:	its length
 * @hlen:	offset of its TCP header
 */
void ns_syn_input(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
{
	const uint8_t *t = ip + hlen;
	struct ns_addr src, dst;
	uint16_t sport, dport;
	uint8_t flags;

	if (len < hlen + 20 || (size_t)(t[12] >> 4) * 4 < 20 ||
	    (size_t)(t[12] >> 4) * 4 > len - hlen) {
		ns->st.drop_bad_ip++;
		return;
	}
	sport = (uint16_t)(t[0] << 8 | t[1]);
	dport = (uint16_t)(t[2] << 8 | t[3]);
	flags = t[13];
	if (!sport || !dport) {
		ns->st.drop_bad_ip++;
		return;
	}
	src = pkt_src(ip, sport);
	dst = pkt_dst(ip, dport);
	if ((flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN &&
	    !tuple_active(ns->eng, &src, &dst)) {
		const struct ns_handler *h = ns_svc_handler(ns, &dst);
		enum ns_syn_verdict v = NS_SYN_ACCEPT;
		uint64_t token;
		int slot;

		if (syn_find(ns->eng, &src, &dst))
			return; /* retransmitted SYN of a deferred one */
		ns->st.tcp_syn_new++;
		slot = syn_reserve(ns);
		token = ++ns->eng->syn_seq << NS_SYN_TOKEN_BITS | (uint64_t)slot;
		if (h->tcp_syn)
			v = h->tcp_syn(h->ctx, token, &src, &dst);
		if (v != NS_SYN_DEFER)
			syn_unreserve(ns->eng, slot);
		switch (v) {
		case NS_SYN_ACCEPT:
			ns_pcbtab_make_room(ns->eng, &ns->st.tcp_embryo_reset);
			tcp_deliver(ns, ip, len, hlen, dport, true);
			return;
		case NS_SYN_RESET:
			syn_reset(ns, ip, hlen, len);
			return;
		case NS_SYN_DEFER:
			if (syn_defer(ns, slot, ip, len, hlen, token) < 0)
				ns->st.tcp_syn_evicted++;
			return;
		default:
			return;
		}
	}
	tcp_deliver(ns, ip, len, hlen, dport, false);
}

/**
 * ns_syn_drop_all() - forget every deferred SYN (at teardown)
 * @eng:	engine
 */
void ns_syn_drop_all(struct ns_engine *eng)
{
	while (eng->syn_old >= 0)
		syn_release(eng, &eng->syn[eng->syn_old]);
}
