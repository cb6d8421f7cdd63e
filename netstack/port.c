/* SPDX-License-Identifier: MIT */
/*
 * port.c - the lwIP port: lwIP's clock (sys_now(), read from the loop), the
 * one netif whose output hands IP packets to ns->ip_out and IPv6 packets
 * to ns->ip6_out (pbuf chains as iovecs, never linearised unless longer
 * than 15 pieces), lwIP's timers driven from the event loop, and the
 * engine's set-up (lwip_init(), the netif with the gateway's IPv4 address
 * and, unless IPv6 is off, fe80::1 and PREFIX::1, the wildcard listener)
 * and teardown.
 *
 * Timers: at the end of each loop turn engine_idle() arms one loop timer
 * for lwIP's next timeout (at least NS_LWIP_TICK_MS away, so the loop never
 * spins on lwIP timers; none when lwIP has nothing pending, so an idle vgate
 * sleeps); the tick runs sys_check_timeouts() and bounds lwIP's TIME_WAIT
 * list, which has no limit of its own.
 *
 * GSO (ns_engine_set_gso(), a TAP with offloads): the netif's MTU is
 * raised to 65535 so lwIP's TCP can build super-segments (flow.c raises a
 * flow's MSS to NS_GSO_SEGS link segments; the transport's virtio-net
 * header tells the guest's kernel to cut them at the link MTU); anything
 * else lwIP sends above the link MTU (a large UDP datagram) is fragmented
 * here at the link MTU, as lwIP itself would have done. lwIP's TCP then
 * leaves its checksums to the guest's kernel too (the netif's checksum
 * flags; vnet_tx() writes the pseudo-header sum and asks for the rest).
 *
 * Held output: a TCP segment with data the guest's queue has no room for
 * (ns->tx_room, less than the segment and NS_TX_RESERVE) is not handed
 * down to be dropped there: the netif refuses it (ERR_MEM), lwIP's
 * tcp_output() keeps it first on the pcb's unsent queue, and the pcb waits
 * on eng->held (pcbtab.c) until the queue has NS_TX_RESUME again. Send
 * space (ns_flow_sndbuf()) bounds what waits, and a flow whose send space
 * is taken stops reading its host socket: backpressure instead of
 * retransmissions. ACKs, SYNs, FINs without data and the other protocols
 * use the reserve, and are dropped (counted) only when even that is gone.
 *
 * The engine relies on lwIP 2.1.3 internals (ip_data, the pcb lists, the
 * wildcard listener's port); struct ns_engine (engine.h) is allocated here
 * and owns the netif, the pcbs it creates and the fixed tables.
 */
#include "engine.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/init.h"
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"

_Static_assert(TCP_WND <= (0xFFFFu << TCP_RCV_SCALE), "window too big for the scale");
_Static_assert(TCP_SND_QUEUELEN >= 2 * (TCP_SND_BUF / 536), "send queue too short");
_Static_assert(TCP_SNDLOWAT < TCP_SND_BUF, "SNDLOWAT must be below SND_BUF");
_Static_assert(TCP_SNDQUEUELOWAT < TCP_SND_QUEUELEN, "SNDQUEUELOWAT below SND_QUEUELEN");

/*
 * The loop whose clock lwIP reads, from ns_engine_init() to ns_engine_free():
 * lwIP is one global instance, and so is its clock. A test that puts the
 * loop on a manual clock (vg_loop_set_clock()) moves lwIP's timers with it.
 * lwIP's timeout list outlives an engine: a process that runs engines one
 * after another on manual clocks must not start a later one at an earlier
 * time.
 */
static const struct vg_loop *lwip_clock;

u32_t sys_now(void)
{
	struct timespec ts;

	if (lwip_clock)
		return (u32_t)vg_loop_now(lwip_clock);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

/**
 * pbuf_iov() - describe a pbuf chain as iovecs (a chain longer than 15
 * pieces is linearised into the engine's scratch buffer)
 * @ns:		netstack
 * @p:		chain
 * @iov:	15 entries to fill
 *
 * Return: entries used
 */
static int pbuf_iov(struct ns *ns, struct pbuf *p, struct iovec *iov)
{
	int n = 0;
	struct pbuf *q;

	for (q = p; q && n < 15; q = q->next) {
		if (!q->len)
			continue;
		iov[n].iov_base = q->payload;
		iov[n].iov_len = q->len;
		n++;
	}
	if (q) {
		/* a long chain: linearise into the scratch buffer */
		size_t len = pbuf_copy_partial(p, ns->eng->scratch, sizeof(ns->eng->scratch), 0);

		iov[0].iov_base = ns->eng->scratch;
		iov[0].iov_len = len;
		n = 1;
	}
	return n;
}

/**
 * frag_here() - with GSO on, is @p a packet lwIP built above the link MTU
 * that is not TCP (only TCP goes as a super-segment)?
 * @ns:		netstack
 * @p:		IP packet (IPv4 or IPv6, its header in the first pbuf)
 * @v6:		IPv6
 *
 * Return: true when it must be fragmented at the link MTU
 */
static bool frag_here(const struct ns *ns, const struct pbuf *p, bool v6)
{
	const uint8_t *ip = p->payload;

	if (!ns->eng->gso || p->tot_len <= ns->cfg.mtu || p->len < (v6 ? IP6_HLEN : 20))
		return false;
	return ip[v6 ? 6 : 9] != IP_PROTO_TCP;
}

/**
 * tx_held() - should the netif refuse @p for now (the file comment: held
 * output)? If so its pcb is put on eng->held
 * @ns:		netstack
 * @p:		IP packet lwIP is sending (its IP and TCP headers in the first pbuf)
 * @v6:		IPv6 (lwIP sends TCP without extension headers)
 *
 * Return: true when refused (counted in tcp_tx_held)
 */
static bool tx_held(struct ns *ns, const struct pbuf *p, bool v6)
{
	const uint8_t *ip = p->payload, *t;
	size_t hlen = v6 ? IP6_HLEN : (size_t)(ip[0] & 15) * 4;
	struct ns_addr guest, local;
	struct tcp_pcb *pcb;

	if (ns->tx_room(ns) >= (size_t)p->tot_len + NS_TX_RESERVE)
		return false;
	if (p->len < hlen + 20 || ip[v6 ? 6 : 9] != IP_PROTO_TCP)
		return false;
	t = ip + hlen;
	if (p->tot_len <= hlen + (size_t)(t[12] >> 4) * 4)
		return false; /* no data */
	guest = pkt_dst(ip, (uint16_t)(t[2] << 8 | t[3]));
	local = pkt_src(ip, (uint16_t)(t[0] << 8 | t[1]));
	pcb = ns_pcbtab_find(ns->eng, &guest, &local);
	if (!pcb)
		return false;
	ns_pcbtab_tx_hold(ns->eng, pcb);
	ns->st.tcp_tx_held++;
	return true;
}

static err_t netif_output_ip(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
	struct ns *ns = netif->state;
	struct iovec iov[15];
	int n;

	if (tx_held(ns, p, false))
		return ERR_MEM;
	if (frag_here(ns, p, false)) {
		u16_t mtu = netif->mtu;
		err_t e;

		netif->mtu = (u16_t)ns->cfg.mtu; /* fragments come back here */
		e = ip4_frag(p, netif, dst);
		netif->mtu = mtu;
		return e;
	}
	n = pbuf_iov(ns, p, iov);
	ns->ip_out(ns, ip4_addr_get_u32(dst), iov, n);
	return ERR_OK;
}

static err_t netif_output_ip6(struct netif *netif, struct pbuf *p, const ip6_addr_t *dst)
{
	struct ns *ns = netif->state;
	struct iovec iov[15];
	uint8_t d[16];
	int n;

	if (tx_held(ns, p, true))
		return ERR_MEM;
	if (frag_here(ns, p, true)) {
		u16_t mtu = netif->mtu;
		err_t e;

		netif->mtu = (u16_t)ns->cfg.mtu;
		e = ip6_frag(p, netif, dst);
		netif->mtu = mtu;
		return e;
	}
	n = pbuf_iov(ns, p, iov);

	memcpy(d, dst->addr, 16);
	ns->ip6_out(ns, d, iov, n);
	return ERR_OK;
}

static err_t netif_init_cb(struct netif *netif)
{
	struct ns *ns = netif->state;

	netif->name[0] = 'v';
	netif->name[1] = 'g';
	netif->output = netif_output_ip;
	netif->output_ip6 = netif_output_ip6;
	netif->mtu = (u16_t)(ns->cfg.mtu > 65535 ? 65535 : ns->cfg.mtu);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

/**
 * tw_cap() - bound lwIP's TIME_WAIT list (it has no limit of its own): keep
 * the NS_TW_MAX newest, forget the rest as Linux does past tcp_max_tw_buckets
 */
static void tw_cap(void)
{
	struct tcp_pcb *p = tcp_tw_pcbs;
	unsigned int n = 1;

	while (p && n < NS_TW_MAX) {
		p = p->next;
		n++;
	}
	while (p && p->next)
		tcp_abort(p->next); /* unlinks it: p->next moves on */
}

static void engine_tick(void *arg)
{
	(void)arg;
	sys_check_timeouts();
	tw_cap();
}

/* ack_tick: the guest stopped short of some stretch ACKs' thresholds */
static void engine_ack_tick(void *arg)
{
	struct ns *ns = arg;

	ns_pcbtab_ack_flush(ns->eng, true, &ns->st.tcp_acks_late);
}

/**
 * engine_idle() - at the end of each loop turn, reset the half-open pcbs
 * ns_syn_cancel() doomed (one walk for all), tell registrants of the
 * half-open flows that died this turn, wake the flows waiting for
 * buffer memory if some is free, send the ACKs folded this turn (after
 * the users consumed, so they carry the reopened windows), and arm the
 * tick for lwIP's next timeout (TCP timers run only while pcbs exist), so
 * an idle vgate sleeps
 * @arg:	netstack
 */
static void engine_idle(void *arg)
{
	struct ns *ns = arg;
	u32_t sleep;

	ns_pcbtab_reap(ns->eng, &ns->st.tcp_embryo_reset); /* ns_syn_cancel()'s */
	ns_svc_tell_abandoned(ns);
	ns_flows_wake(ns); /* may run user callbacks that start lwIP timers */
	vg_timer_bound(ns->loop, &ns->eng->ack_tick,
		       ns_pcbtab_ack_flush(ns->eng, false, &ns->st.tcp_acks_late), NS_ACK_WAIT_MS);
	if (ns->eng->held) /* after the ACKs: the refused ones go alone */
		ns_pcbtab_tx_resume(ns->eng, ns->tx_room(ns) >= NS_TX_RESUME);
	sleep = sys_timeouts_sleeptime();

	if (sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
		vg_timer_stop(ns->loop, &ns->eng->tick);
		return;
	}
	if (sleep < NS_LWIP_TICK_MS)
		sleep = NS_LWIP_TICK_MS; /* batch: never spin on lwIP timers */
	if (!vg_timer_armed(&ns->eng->tick) || ns->eng->tick.when > vg_loop_now(ns->loop) + sleep)
		vg_timer_start(ns->loop, &ns->eng->tick, sleep);
}

/**
 * netif_addrs6() - give the netif the gateway's IPv6 addresses, fe80::1 and
 * PREFIX::1, valid at once (no DAD: ndp.c defends them on the link)
 * @ns:		netstack
 * @netif:	the netif
 */
static void netif_addrs6(struct ns *ns, struct netif *netif)
{
	ip6_addr_t a;

	memset(&a, 0, sizeof(a));
	a.addr[0] = PP_HTONL(0xfe800000ul);
	a.addr[3] = PP_HTONL(1ul);
	netif_ip6_addr_set(netif, 0, &a);
	netif_ip6_addr_set_state(netif, 0, IP6_ADDR_PREFERRED);
	memcpy(a.addr, ns->cfg.gateway6, 16);
	netif_ip6_addr_set(netif, 1, &a);
	netif_ip6_addr_set_state(netif, 1, IP6_ADDR_PREFERRED);
}

/**
 * ns_engine_init() - start lwIP: the netif and the wildcard listener
 * @ns:	netstack (cfg set)
 *
 * Return: 0, or -1
 */
int ns_engine_init(struct ns *ns)
{
	struct ns_engine *eng = calloc(1, sizeof(*eng));
	ip4_addr_t ip, mask, gw;
	struct tcp_pcb *pcb;

	if (!eng)
		return -1;
	ns->eng = eng;
	eng->waiters.next = eng->waiters.prev = &eng->waiters;
	/*
	 * lwIP allocates a pbuf per segment (up to 64 KiB with a large MTU)
	 * from the C allocator. Keep freed memory in the heap instead of
	 * handing it back to the kernel after every burst, which costs a page
	 * fault per 4 KiB on the next one.
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	lwip_clock = ns->loop;
	ns_syn_init(eng);
	if (ns_pcbtab_init(eng) < 0)
		goto fail;
	lwip_init();
	ip4_addr_set_u32(&ip, ns->cfg.gateway_ip);
	ip4_addr_set_u32(&mask, ns->netmask);
	ip4_addr_set_u32(&gw, ns->cfg.gateway_ip);
	if (!netif_add(&eng->netif, &ip, &mask, &gw, ns, netif_init_cb, ip4_input))
		goto fail;
	netif_set_default(&eng->netif);
	netif_set_up(&eng->netif);
	netif_set_link_up(&eng->netif);
	if (!ns->cfg.no_ipv6)
		netif_addrs6(ns, &eng->netif);

	/* the wildcard listener: port patched per segment in tcp_deliver() */
	pcb = tcp_new();
	if (!pcb || tcp_bind(pcb, IP_ANY_TYPE, 1) != ERR_OK)
		goto fail;
	ns_pcbtab_listen(eng, pcb);
	eng->wild = tcp_listen(pcb);
	if (!eng->wild)
		goto fail;
	eng->wild->local_port = 0;
	tcp_arg(eng->wild, ns);
	tcp_accept(eng->wild, ns_svc_wild_accept);

	eng->udp_out = udp_new();
	eng->udp_out6 = udp_new_ip_type(IPADDR_TYPE_V6);
	if (!eng->udp_out || !eng->udp_out6)
		goto fail;

	vg_timer_init(&eng->tick, engine_tick, ns);
	vg_timer_init(&eng->ack_tick, engine_ack_tick, ns);
	if (vg_loop_add_idle(ns->loop, engine_idle, ns) < 0)
		goto fail;
	eng->idle_added = true;
	return 0;
fail:
	ns_engine_free(ns);
	return -1;
}

/**
 * ns_engine_set_gso() - the link takes TCP super-segments and completes TCP
 * checksums (or no longer): lwIP may build TCP segments up to 64 KiB
 * (netif MTU 65535; each flow's MSS is raised by flow.c), other packets
 * above the link MTU are fragmented by frag_here()'s callers, and lwIP
 * leaves TCP's checksum to the guest's kernel (vnet_tx() writes the
 * pseudo-header sum and asks for the rest)
 * @ns:		netstack
 * @on:		super-segments allowed
 */
void ns_engine_set_gso(struct ns *ns, bool on)
{
	struct ns_engine *eng = ns->eng;

	eng->gso = on;
	eng->netif.mtu = (u16_t)(on || ns->cfg.mtu > 65535 ? 65535 : ns->cfg.mtu);
	NETIF_SET_CHECKSUM_CTRL(&eng->netif, ns_engine_csum_ctrl(eng));
}

/**
 * ns_engine_free() - abort every flow (no callbacks run) and stop lwIP
 * @ns:	netstack
 */
void ns_engine_free(struct ns *ns)
{
	struct ns_engine *eng = ns->eng;

	if (!eng)
		return;
	vg_timer_stop(ns->loop, &eng->tick);
	vg_timer_stop(ns->loop, &eng->ack_tick);
	if (eng->idle_added)
		vg_loop_del_idle(ns->loop, engine_idle, ns);
	ns_syn_drop_all(eng);
	ns_flows_drop_all();
	while (tcp_tw_pcbs)
		tcp_abort(tcp_tw_pcbs);
	if (eng->wild)
		tcp_close(eng->wild);
	ns_svc_close_all(eng);
	if (eng->udp_out)
		udp_remove(eng->udp_out);
	if (eng->udp_out6)
		udp_remove(eng->udp_out6);
	if (eng->netif.state)
		netif_remove(&eng->netif);
	ns_pcbtab_free(eng);
	free(eng);
	ns->eng = NULL;
	lwip_clock = NULL;
}
