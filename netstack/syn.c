/* SPDX-License-Identifier: MIT */
/*
 * syn.c - guest SYNs and the delivery of guest TCP segments to lwIP.
 *
 * A TCP segment to a non-gateway address (or to a gateway port whose
 * service has a tcp_syn callback) comes here from input.c. A SYN for a new
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
 * tuple_active() - whether lwIP has a live pcb for the 4-tuple; a TIME_WAIT
 * pcb on it is forgotten (the guest reuses the port)
 * @src:	guest address
 * @sport:	guest port
 * @dst:	destination address
 * @dport:	destination port
 *
 * Return: true when a flow exists (the SYN is not a new flow's)
 */
static bool tuple_active(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct tcp_pcb *p, *next;

	for (p = tcp_active_pcbs; p; p = p->next)
		if (p->remote_port == sport && p->local_port == dport &&
		    addr_get(&p->remote_ip) == src && addr_get(&p->local_ip) == dst)
			return true;
	/* a new SYN on a TIME_WAIT tuple: the guest reuses the port, forget it */
	for (p = tcp_tw_pcbs; p; p = next) {
		next = p->next;
		if (p->remote_port == sport && p->local_port == dport &&
		    addr_get(&p->remote_ip) == src && addr_get(&p->local_ip) == dst)
			tcp_abort(p);
	}
	return false;
}

/**
 * tcp_deliver() - hand a segment to tcp_input() as ip4_input() would
 * @ns:		netstack
 * @ip:		validated IPv4 packet
 * @len:	its length
 * @hlen:	IP header length
 * @dport:	destination port (the wildcard listener's port for the call)
 */
static void tcp_deliver(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen, uint16_t dport)
{
	struct ns_engine *eng = ns->eng;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);

	if (!p)
		return;
	memcpy(p->payload, ip, len);
	eng->wild->local_port = dport;
	ip_data.current_netif = &eng->netif;
	ip_data.current_input_netif = &eng->netif;
	ip_data.current_ip4_header = p->payload;
	ip_data.current_ip_header_tot_len = (u16_t)hlen;
	ip_addr_copy_from_ip4(ip_data.current_iphdr_src, ((const struct ip_hdr *)p->payload)->src);
	ip_addr_copy_from_ip4(ip_data.current_iphdr_dest,
			      ((const struct ip_hdr *)p->payload)->dest);
	pbuf_remove_header(p, hlen);
	tcp_input(p, &eng->netif);
	ip_data.current_netif = NULL;
	ip_data.current_input_netif = NULL;
	ip_data.current_ip4_header = NULL;
	ip_data.current_ip_header_tot_len = 0;
	ip_addr_set_zero_ip4(&ip_data.current_iphdr_src);
	ip_addr_set_zero_ip4(&ip_data.current_iphdr_dest);
	eng->wild->local_port = 0;
}

/**
 * syn_reset() - answer a SYN with RST from the address it was sent to
 * @ns:		netstack
 * @ip:		the SYN's IPv4 packet
 * @hlen:	IP header length
 * @len:	packet length
 */
static void syn_reset(struct ns *ns, const uint8_t *ip, size_t hlen, size_t len)
{
	const uint8_t *t = ip + hlen;
	ip_addr_t local, remote;
	uint32_t seq, src, dst;
	uint16_t sport, dport;

	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	sport = (uint16_t)(t[0] << 8 | t[1]);
	dport = (uint16_t)(t[2] << 8 | t[3]);
	seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	addr_set(&local, dst);
	addr_set(&remote, src);
	/* SYN occupies one sequence number, plus any data it carried */
	seq += 1 + (uint32_t)(len - hlen - (size_t)(t[12] >> 4) * 4);
	tcp_rst(NULL, 0, seq, &local, &remote, dport, sport);
	ns->st.tcp_syn_reset++;
}

/**
 * syn_find() - the deferred SYN of a 4-tuple
 * @eng:	engine
 * @src:	guest address
 * @sport:	guest port
 * @dst:	destination address
 * @dport:	destination port
 *
 * Return: its slot, or NULL
 */
static struct syn_pending *syn_find(struct ns_engine *eng, uint32_t src, uint16_t sport,
				    uint32_t dst, uint16_t dport)
{
	int i;

	for (i = 0; i < NS_SYN_MAX; i++) {
		struct syn_pending *s = &eng->syn[i];

		if (s->token && s->src == src && s->sport == sport && s->dst == dst &&
		    s->dport == dport)
			return s;
	}
	return NULL;
}

static void syn_release(struct syn_pending *s)
{
	free(s->pkt);
	memset(s, 0, sizeof(*s));
}

/**
 * syn_defer() - keep a copy of a SYN until ns_syn_resume()
 * @ns:		netstack
 * @ip:		the packet
 * @len:	its length
 * @token:	token the caller will resume with
 *
 * Return: 0, or -1 when the table is full (the oldest hold is dropped and
 * this SYN too; the guest will retransmit)
 */
static int syn_defer(struct ns *ns, const uint8_t *ip, size_t len, uint64_t token)
{
	struct ns_engine *eng = ns->eng;
	struct syn_pending *slot = NULL, *oldest = NULL;
	uint64_t now = vg_loop_now(ns->loop);
	int i;

	for (i = 0; i < NS_SYN_MAX && !slot; i++) {
		struct syn_pending *s = &eng->syn[i];

		if (s->token && now - s->since > NS_SYN_HOLD_MS)
			syn_release(s);
		if (!s->token)
			slot = s;
		else if (!oldest || s->since < oldest->since)
			oldest = s;
	}
	if (!slot) {
		syn_release(oldest);
		return -1;
	}
	slot->pkt = malloc(len);
	if (!slot->pkt)
		return -1;
	memcpy(slot->pkt, ip, len);
	slot->len = len;
	slot->token = token;
	slot->since = now;
	memcpy(&slot->src, ip + 12, 4);
	memcpy(&slot->dst, ip + 16, 4);
	slot->sport = (uint16_t)(ip[(ip[0] & 15) * 4] << 8 | ip[(ip[0] & 15) * 4 + 1]);
	slot->dport = (uint16_t)(ip[(ip[0] & 15) * 4 + 2] << 8 | ip[(ip[0] & 15) * 4 + 3]);
	return 0;
}

void ns_syn_resume(struct ns *ns, uint64_t token, enum ns_syn_verdict verdict)
{
	struct ns_engine *eng = ns->eng;
	int i;

	for (i = 0; i < NS_SYN_MAX; i++) {
		struct syn_pending *s = &eng->syn[i];
		size_t hlen;

		if (s->token != token || !token)
			continue;
		hlen = (size_t)(s->pkt[0] & 15) * 4;
		if (verdict == NS_SYN_ACCEPT)
			tcp_deliver(ns, s->pkt, s->len, hlen, s->dport);
		else if (verdict == NS_SYN_RESET)
			syn_reset(ns, s->pkt, hlen, s->len);
		syn_release(s);
		return;
	}
}

/**
 * ns_syn_input() - a TCP segment to a non-gateway address, or to a
 * gateway port whose service has a tcp_syn callback
 * @ns:		netstack
 * @ip:		validated IPv4 packet
 * @len:	its length
 * @hlen:	IP header length
 */
void ns_syn_input(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
{
	const uint8_t *t = ip + hlen;
	uint32_t src, dst;
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
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	if ((flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN &&
	    !tuple_active(src, sport, dst, dport)) {
		struct ns_addr a = {src, sport}, b = {dst, dport};
		const struct ns_handler *h = ns_svc_handler(ns, dst, dport);
		enum ns_syn_verdict v = NS_SYN_ACCEPT;
		uint64_t token;

		if (syn_find(ns->eng, src, sport, dst, dport))
			return; /* retransmitted SYN of a deferred one */
		ns->st.tcp_syn_new++;
		token = ++ns->eng->syn_seq;
		if (h->tcp_syn)
			v = h->tcp_syn(h->ctx, token, &a, &b);
		switch (v) {
		case NS_SYN_ACCEPT:
			break;
		case NS_SYN_RESET:
			syn_reset(ns, ip, hlen, len);
			return;
		case NS_SYN_DEFER:
			if (syn_defer(ns, ip, len, token) < 0)
				ns->st.drop_proto++;
			return;
		default:
			return;
		}
	}
	tcp_deliver(ns, ip, len, hlen, dport);
}

/**
 * ns_syn_drop_all() - forget every deferred SYN (at teardown)
 * @eng:	engine
 */
void ns_syn_drop_all(struct ns_engine *eng)
{
	int i;

	for (i = 0; i < NS_SYN_MAX; i++)
		if (eng->syn[i].token)
			syn_release(&eng->syn[i]);
}
