/* SPDX-License-Identifier: MIT */
/*
 * engine.h - what the files of the lwIP engine share; private to them
 * (link.c and the rest of netstack/ see only ns_engine_* in internal.h).
 *
 * The engine terminates guest IPv4 and IPv6 in lwIP. Its files, and who
 * calls whom (no cycles; arrows point at the callee):
 *   port.c     the lwIP port: sys_now(), the netif, lwIP's timers, set-up
 *              and teardown          -> flow.c, syn.c, service.c, pcbtab.c
 *   input.c    guest IPv4 and IPv6 packets in (from link.c), IPv6
 *              extension headers, reassembly, UDP to other addresses
 *                                    -> syn.c, service.c, pcbtab.c,
 *                                       tcpguard.c
 *   syn.c      guest SYNs: verdicts, the SYN hold, delivery to tcp_input()
 *                                    -> service.c, pcbtab.c, tcpguard.c
 *   pcbtab.c   lwIP's pcbs by 4-tuple, the bound on half-open pcbs
 *   service.c  the registrants (foreign flows, gateway services) and the
 *              accept callbacks that hand new flows to them -> flow.c,
 *              pcbtab.c
 *   flow.c     struct ns_flow: the byte-stream API and active opens
 *                                    -> pcbtab.c
 *   out.c      UDP and ICMP towards the guest
 *   tcpguard.c guest segments cut to the window before tcp_input()
 *                                    -> pcbtab.c
 * Packets leave through ns->ip_out (installed by netstack.c), never by a
 * direct call into link.c.
 *
 * Packets are passed between these files as (ip, len, hlen): the packet
 * from its IP header, its length, and the offset of its transport header
 * (the IPv4 header length; for IPv6 40 plus the extension headers input.c
 * skipped). The version nibble tells the family (pkt_v6()); pkt_src() and
 * pkt_dst() read either. Tuples are kept as struct ns_addr pairs, so the
 * tables (pcbtab.c, the SYN hold) serve both families.
 *
 * lwIP is process-global state (one netif, its pcb lists, ip_data): one
 * engine per process. All of it runs on the loop thread.
 */
#ifndef VGATE_NETSTACK_ENGINE_H
#define VGATE_NETSTACK_ENGINE_H

#include "internal.h"

#include <string.h>

#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#define NS_SYN_MAX	NS_SYN_HOLD_MAX
#define NS_SYN_HOLD_MS	75000
#define NS_TW_MAX	4096
#define NS_LWIP_TICK_MS 10
#define NS_GSO_SEGS	16 /* link-MTU segments in one TCP super-segment (flow.c) */
#define NS_ACK_THR_MIN_SEGS 2  /* a stretch ACK covers at least this many segments */
#define NS_ACK_THR_MAX	    65536 /* ... and at most this many bytes */
#define NS_ACK_WAIT_MS	    1	  /* the longest an owed ACK waits for more data */
/* TCP data to the guest waits in lwIP while the guest's queue has less room
 * than the segment and this reserve (kept for ACKs and the other protocols),
 * and goes again once it has this much (port.c, pcbtab.c) */
#define NS_TX_RESERVE (256u << 10)
#define NS_TX_RESUME  (1024u << 10)
/* half-open (SYN_RCVD) pcbs at most, the oldest reset in batches (pcbtab.c) */
#define NS_EMBRYO_MAX	4096
#define NS_EMBRYO_BATCH 256
/* half-open pcbs gone in one loop turn whose registrants are told (pcbtab.c) */
#define NS_ABANDONED_MAX 1024
#define NS_PCB_BUCKETS	32768 /* pcb hash buckets (a power of two) */
#define NS_PCB_EXT_ID	0     /* lwIP ext arg slot of the pcb table */
#define NS_SYN_BUCKETS	1024  /* deferred-SYN hash buckets (a power of two) */
#define NS_SYN_TOKEN_BITS 10  /* a token's low bits are its slot */

_Static_assert(NS_SYN_MAX <= (1 << NS_SYN_TOKEN_BITS), "a SYN slot must fit a token's low bits");

/**
 * struct syn_pending - a deferred SYN, kept until ns_syn_resume()
 * @token:	its token; 0 for a free slot
 * @since:	loop time it was deferred
 * @src:	guest endpoint
 * @dst:	destination endpoint
 * @len:	bytes of @pkt
 * @hlen:	offset of the TCP header in @pkt
 * @pkt:	a copy of the IPv4 or IPv6 packet
 */
struct syn_pending {
	uint64_t token; /* 0: free slot */
	uint64_t since;
	struct ns_addr src, dst;
	int16_t hnext;	    /* hash chain (slot index, -1: end) */
	int16_t prev, next; /* age FIFO while held, free list while free */
	size_t len, hlen;
	uint8_t *pkt;
};

/**
 * struct ns_pcbn - pcbtab.c's record of one lwIP pcb (see there)
 * @eng:	engine (the destroy callback gets only this node)
 * @pcb:	the pcb
 * @hnext:	hash chain
 * @eprev:	half-open FIFO (NULL when not on it)
 * @enext:	half-open FIFO
 * @src:	remote (guest) endpoint
 * @dst:	local endpoint (what the guest dialled)
 * @doomed:	to be reset by the next ns_pcbtab_reap()
 * @passive:	created by a listener for a guest SYN
 * @settled:	its registrant needs no word of its end: the flow was
 *		adopted (ns_pcbtab_settle()) or cancelled by the registrant
 * @anext:	on eng->acks (guest data not yet acknowledged), NULL-terminated
 * @aprev:	the pointer that points at this node on eng->acks; NULL when
 *		not on it
 * @ack_nxt:	rcv_nxt when the guest's data was last acknowledged
 * @ack_thr:	bytes of guest data one stretch ACK may cover (adaptive,
 *		NS_ACK_THR_MIN_SEGS segments up to NS_ACK_THR_MAX)
 * @seg_max:	the largest guest segment seen (bytes of data; at most
 *		NS_ACK_THR_MAX / NS_ACK_THR_MIN_SEGS)
 * @ack_owed:	an ACK lwIP would have sent was folded
 * @tnext:	on eng->held (data output waiting for room in the guest's
 *		queue), NULL-terminated
 * @tprev:	the pointer that points at this node on eng->held; NULL when
 *		not on it
 */
struct ns_pcbn {
	struct ns_engine *eng;
	struct tcp_pcb *pcb;
	struct ns_pcbn *hnext;
	struct ns_pcbn *eprev, *enext;
	struct ns_addr src, dst;
	bool doomed, passive, settled;
	struct ns_pcbn *anext, **aprev;
	uint32_t ack_nxt, ack_thr, seg_max;
	bool ack_owed;
	struct ns_pcbn *tnext, **tprev;
};

/* a half-open flow gone before its handshake completed (pcbtab.c) */
struct ns_tuple {
	struct ns_addr src, dst;
};

/**
 * struct ns_svc - one registered port on the gateway's address
 * @ns:		owner
 * @port:	the port, 0 for a free slot
 * @h:		the registrant's callbacks
 * @listen:	lwIP listener bound to gateway:port (TCP without h.tcp_syn)
 * @udp:	lwIP UDP pcb bound to gateway:port (h.udp_recv)
 * @listen6:	... on the gateway's IPv6 addresses ([::]:port; NULL with IPv6 off)
 * @udp6:	... on the gateway's IPv6 addresses ([::]:port; NULL with IPv6 off)
 */
struct ns_svc {
	struct ns *ns;
	uint16_t port;
	struct ns_handler h;
	struct tcp_pcb *listen, *listen6;
	struct udp_pcb *udp, *udp6;
};

/* a flow waiting for buffer memory (flow.c), on ns_engine.waiters */
struct ns_wait {
	struct ns_wait *next, *prev; /* NULL when not waiting */
};

struct ns_engine {
	struct netif netif;
	struct tcp_pcb *wild;
	struct udp_pcb *udp_out, *udp_out6; /* ns_udp_send(): IPv4, IPv6 */
	struct vg_timer tick;
	bool idle_added;
	struct syn_pending syn[NS_SYN_MAX];
	int16_t syn_bucket[NS_SYN_BUCKETS]; /* -1: empty */
	int16_t syn_free;		    /* free slots (via next), -1: none */
	int16_t syn_old, syn_new;	    /* held slots, oldest first */
	uint64_t syn_seq;
	/* pcbtab.c: every non-listening pcb by tuple, the half-open FIFO */
	struct ns_pcbn **pcb_buckets;
	uint64_t pcb_seed;
	struct ns_pcbn embryo; /* FIFO sentinel */
	unsigned int embryos, doomed, pcbs;
	struct ns_pcbn *acks;	  /* pcbs owing the guest an ACK (stretch ACKs) */
	struct vg_timer ack_tick; /* bounds how long a stretch ACK waits */
	struct ns_pcbn *held;	  /* pcbs whose data waits for room in the guest's queue */
	/* passive pcbs gone unsettled this turn, for ns_svc_tell_abandoned() */
	struct ns_tuple abandoned[NS_ABANDONED_MAX];
	unsigned int nabandoned;
	uint64_t abandoned_lost;
	struct ns_handler foreign; /* tcp_accept NULL: nobody registered */
	struct ns_svc svc[NS_SERVICES_MAX];
	/* set when a callback's pcb was aborted by the user inside the callback */
	struct tcp_pcb *cb_pcb;
	bool cb_aborted;
	struct ns_wait waiters; /* flows held back by the budget, oldest first */
	size_t nwaiting;
	uint64_t reclaim_ms; /* last pass taking back unused windows */
	bool gso;	     /* ns_engine_set_gso(): the link takes TCP super-segments */
	uint8_t scratch[65535];
	uint8_t reass[65535]; /* a reassembled datagram to a non-gateway address */
};

/* the packet handed to a udp_recv callback (for ns_icmp_unreachable()) */
struct ns_pkt {
	const uint8_t *ip;
	size_t len;
};

/* the netif's checksum flags: with super-segments (a TAP with offloads, ns_engine_set_gso())
 * lwIP generates no TCP checksum, the guest's kernel completes it */
static inline u16_t ns_engine_csum_ctrl(const struct ns_engine *eng)
{
	return eng->gso ? NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP
			: NETIF_CHECKSUM_ENABLE_ALL;
}

static inline void addr_set(ip_addr_t *a, uint32_t ip_net)
{
	ip_addr_set_ip4_u32_val(*a, ip_net);
}

static inline uint32_t addr_get(const ip_addr_t *a)
{
	return ip4_addr_get_u32(ip_2_ip4(a));
}

/* lwIP's address (either family) and a port as the contract's endpoint */
static inline struct ns_addr addr_of(const ip_addr_t *a, uint16_t port)
{
	if (IP_IS_V6(a))
		return ns_addr_v6((const uint8_t *)ip_2_ip6(a)->addr, port);
	return ns_addr_v4(addr_get(a), port);
}

/* the contract's endpoint as lwIP's address (either family) */
static inline void addr_to_ip(ip_addr_t *out, const struct ns_addr *a)
{
	if (ns_addr_is_v6(a)) {
		IP_ADDR6(out, 0, 0, 0, 0);
		memcpy(ip_2_ip6(out)->addr, a->ip6, 16);
	} else {
		addr_set(out, a->ip);
	}
}

/* whether the packet at @ip (its version nibble) is IPv6 */
static inline bool pkt_v6(const uint8_t *ip)
{
	return (ip[0] >> 4) == 6;
}

/* the packet's source address with @port */
static inline struct ns_addr pkt_src(const uint8_t *ip, uint16_t port)
{
	uint32_t a;

	if (pkt_v6(ip))
		return ns_addr_v6(ip + 8, port);
	memcpy(&a, ip + 12, 4);
	return ns_addr_v4(a, port);
}

/* the packet's destination address with @port */
static inline struct ns_addr pkt_dst(const uint8_t *ip, uint16_t port)
{
	uint32_t a;

	if (pkt_v6(ip))
		return ns_addr_v6(ip + 24, port);
	memcpy(&a, ip + 16, 4);
	return ns_addr_v4(a, port);
}

/* the transport pseudo-header sum of the packet at @ip for @proto, @tlen bytes */
static inline uint32_t pkt_pseudo_sum(const uint8_t *ip, uint8_t proto, size_t tlen)
{
	if (pkt_v6(ip))
		return csum_ip6_pseudo(ip, (uint32_t)tlen, proto);
	return csum_partial(ip + 12, 8, 0) + proto + (uint32_t)tlen;
}

/* tcpguard.c */
struct pbuf *ns_tcp_seg_copy(const uint8_t *ip, size_t len);
void ns_tcp_csum_settle(const struct ns *ns, uint8_t *ip, size_t len, size_t hlen);

/* flow.c */
err_t ns_flow_adopt(struct ns *ns, struct tcp_pcb *pcb, const struct ns_handler *h, bool counted);
void ns_flows_drop_all(void);
void ns_flows_wake(struct ns *ns);

/* syn.c */
void ns_syn_init(struct ns_engine *eng);
void ns_syn_input(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen);
void ns_syn_drop_all(struct ns_engine *eng);

/* pcbtab.c (a leaf: calls no other netstack file) */
int ns_pcbtab_init(struct ns_engine *eng);
void ns_pcbtab_free(struct ns_engine *eng);
void ns_pcbtab_listen(struct ns_engine *eng, struct tcp_pcb *pcb);
int ns_pcbtab_track(struct ns_engine *eng, struct tcp_pcb *pcb);
struct tcp_pcb *ns_pcbtab_find(const struct ns_engine *eng, const struct ns_addr *src,
			       const struct ns_addr *dst);
void ns_pcbtab_doom(struct ns_engine *eng, struct tcp_pcb *pcb);
void ns_pcbtab_settle(struct ns_engine *eng, struct tcp_pcb *pcb);
void ns_pcbtab_ack_defer(struct ns_engine *eng, struct tcp_pcb *pcb, size_t seg, uint64_t *folded);
bool ns_pcbtab_ack_flush(struct ns_engine *eng, bool late, uint64_t *late_acks);
void ns_pcbtab_tx_hold(struct ns_engine *eng, struct tcp_pcb *pcb);
void ns_pcbtab_tx_resume(struct ns_engine *eng, bool room);
void ns_pcbtab_reap(struct ns_engine *eng, uint64_t *reset);
void ns_pcbtab_make_room(struct ns_engine *eng, uint64_t *reset);
void ns_pcbtab_hidden_input(struct pbuf *p, struct netif *netif);

/* tcpguard.c */
struct pbuf *ns_tcp_seg_copy(const uint8_t *ip, size_t len);
bool ns_tcp_guard(struct ns *ns, struct tcp_pcb *pcb, uint8_t *ip, size_t *len, size_t hlen);
struct tcp_pcb *ns_tcp_seg_pcb(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen);

/* service.c */
const struct ns_handler *ns_svc_handler(struct ns *ns, const struct ns_addr *dst);
bool ns_svc_tcp_syn_port(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen);
err_t ns_svc_wild_accept(void *arg, struct tcp_pcb *pcb, err_t err);
void ns_svc_tell_abandoned(struct ns *ns);
void ns_svc_close_all(struct ns_engine *eng);

#endif /* VGATE_NETSTACK_ENGINE_H */
