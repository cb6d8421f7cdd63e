/* SPDX-License-Identifier: MIT */
/*
 * pcbtab.c - lwIP's TCP pcbs by 4-tuple, and the bound on half-open ones.
 *
 * lwIP finds a segment's pcb by walking tcp_active_pcbs; vgate must not do
 * the same for every guest SYN (16k flows). Tuples of either family are
 * struct ns_addr pairs (fully filled, so ns_addr_eq() compares them).
 * Every non-listening pcb carries one struct ns_pcbn in its ext arg
 * NS_PCB_EXT_ID: passively opened pcbs get it from the listeners'
 * passive_open callback (ns_pcbtab_listen() before tcp_listen(), since lwIP
 * copies ext args to the listening pcb), actively opened ones from
 * ns_pcbtab_track(). lwIP's destroy callback (tcp_free()) unlinks and frees
 * it, so the table is exactly lwIP's pcbs, whatever ends them. The bucket
 * array is fixed at ns_pcbtab_init(), the hash is seeded (the guest chooses
 * the tuples); the nodes are allocated per pcb, never per packet.
 *
 * Half-open pcbs (SYN_RCVD: a SYN accepted, the guest's ACK not yet seen)
 * are on a FIFO in creation order; lwIP itself would keep them 20 s and has
 * no bound. Before a SYN may create one, ns_pcbtab_make_room() keeps fewer
 * than NS_EMBRYO_MAX: the oldest are reset, NS_EMBRYO_BATCH at a time. A
 * node leaves the FIFO when its flow is adopted (ns_pcbtab_settle() from
 * flow.c) or cancelled; one established without being adopted is just
 * taken off when it reaches the head, so the FIFO never holds more than
 * NS_EMBRYO_MAX nodes and every step is O(1) amortized.
 *
 * A passive pcb that dies unsettled (the guest reset it, lwIP's SYN_RCVD
 * timeout, the half-open bound) leaves its tuple in eng->abandoned (at most
 * NS_ABANDONED_MAX a turn, the rest counted), which service.c hands to the
 * registrant's tcp_abandoned at the end of the loop turn: the registrant's
 * record of the flow (a connected host socket) need not wait for its own
 * timeout. The destroy callback runs inside lwIP, so it only records.
 *
 * Stretch ACKs: lwIP acknowledges every second guest segment at once, and a
 * stream transport (QEMU writes one frame per syscall) hands the engine only
 * two or three frames per wake-up, so per-turn folding alone still sends an
 * ACK for every few segments, each of which the hypervisor must carry back
 * and the guest's stack must process. So a pcb that gets guest data is put
 * on eng->acks, lwIP's own every-second-segment ACK is folded away
 * (ns_pcbtab_ack_defer()), and at the end of each loop turn
 * ns_pcbtab_ack_flush() acknowledges a pcb once the data since its last ACK
 * reaches its threshold (ack_thr), or once the guest is about to run out of
 * the window last offered; the ACK then carries the window the flow's user
 * reopened this turn. The threshold adapts, as a GRO-ing receiver's
 * aggregate does: it starts at NS_ACK_THR_MIN_SEGS segments (lwIP's own
 * rate, so slow start is not slowed) and grows by one segment per ACK sent
 * at it, up to NS_ACK_THR_MAX; if the guest stops sending before reaching
 * it, the engine's ack_tick (NS_ACK_WAIT_MS) sends the owed ACKs late and
 * halves the threshold of each, so a sender whose window is smaller than
 * the threshold waits at most one tick once. Out-of-order data, FINs and
 * window updates are still acknowledged at once by lwIP.
 *
 * Held output: when the guest's queue has no room for a data segment,
 * port.c refuses it (lwIP keeps it unsent and tries again later) and puts
 * its pcb on eng->held (ns_pcbtab_tx_hold()); at the end of a loop turn
 * ns_pcbtab_tx_resume() gives every held pcb a tcp_output() once the queue
 * has room again, and until then sends the ACKs they owe on their own (an
 * ACK lwIP would have carried on the refused data), so the guest's data in
 * the other direction keeps flowing. Each step is O(held pcbs).
 *
 * Resetting a pcb costs lwIP an O(n) walk to unlink it (the list is singly
 * linked). So doomed pcbs are collected and ns_pcbtab_reap() unlinks all of
 * them in one walk of tcp_active_pcbs, then aborts each while it is the only
 * element of a temporarily swapped-in list (tcp_abort() finds it at the
 * head). This relies on lwIP 2.1.3's list internals, like the rest of the
 * engine.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lwip/priv/tcp_priv.h"


/* 64 bits of an endpoint's address for the hash (IPv6: both halves mixed) */
static uint64_t addr_bits(const struct ns_addr *a)
{
	uint64_t hi, lo;

	if (!ns_addr_is_v6(a))
		return a->ip;
	memcpy(&hi, a->ip6, 8);
	memcpy(&lo, a->ip6 + 8, 8);
	return (hi * 0xff51afd7ed558ccdull) ^ lo ^ 0x6a09e667f3bcc909ull;
}

static size_t tuple_hash(const struct ns_engine *eng, const struct ns_addr *src,
			 const struct ns_addr *dst)
{
	uint64_t h = eng->pcb_seed;

	h ^= (addr_bits(src) << 32 | (addr_bits(src) >> 32)) * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 29) ^ addr_bits(dst)) * 0xbf58476d1ce4e5b9ull;
	h ^= ((uint64_t)src->port << 16 | dst->port) * 0x94d049bb133111ebull;
	h ^= h >> 31;
	return (size_t)(h >> 11) & (NS_PCB_BUCKETS - 1);
}

static void embryo_del(struct ns_engine *eng, struct ns_pcbn *n)
{
	if (!n->eprev)
		return;
	n->eprev->enext = n->enext;
	n->enext->eprev = n->eprev;
	n->eprev = n->enext = NULL;
	eng->embryos--;
}

/* take @n off eng->acks */
static void ack_unlink(struct ns_pcbn *n)
{
	*n->aprev = n->anext;
	if (n->anext)
		n->anext->aprev = n->aprev;
	n->anext = NULL;
	n->aprev = NULL;
}

/* take @n off eng->held (or the list ns_pcbtab_tx_resume() walks) */
static void held_unlink(struct ns_pcbn *n)
{
	*n->tprev = n->tnext;
	if (n->tnext)
		n->tnext->tprev = n->tprev;
	n->tnext = NULL;
	n->tprev = NULL;
}

static void pcbn_destroy(u8_t id, void *data)
{
	struct ns_pcbn *n = data, **pp;
	struct ns_engine *eng;

	(void)id;
	if (!n)
		return;
	eng = n->eng;
	for (pp = &eng->pcb_buckets[tuple_hash(eng, &n->src, &n->dst)];
	     *pp && *pp != n; pp = &(*pp)->hnext)
		;
	if (*pp)
		*pp = n->hnext;
	embryo_del(eng, n);
	if (n->aprev)
		ack_unlink(n);
	if (n->tprev)
		held_unlink(n);
	if (n->doomed)
		eng->doomed--;
	eng->pcbs--;
	if (n->passive && !n->settled) {
		if (eng->nabandoned < NS_ABANDONED_MAX)
			eng->abandoned[eng->nabandoned++] =
			    (struct ns_tuple){n->src, n->dst};
		else
			eng->abandoned_lost++;
	}
	free(n);
}

static const struct tcp_ext_arg_callbacks pcbn_node_cbs = {
    .destroy = pcbn_destroy,
};

/**
 * pcbn_add() - record @pcb (tuple set) in the table
 * @eng:	engine
 * @pcb:	pcb
 * @embryo:	put it on the half-open FIFO
 *
 * Return: 0, or -1 out of memory
 */
static int pcbn_add(struct ns_engine *eng, struct tcp_pcb *pcb, bool embryo)
{
	struct ns_pcbn *n = calloc(1, sizeof(*n));
	size_t b;

	if (!n)
		return -1;
	n->eng = eng;
	n->pcb = pcb;
	n->src = addr_of(&pcb->remote_ip, pcb->remote_port);
	n->dst = addr_of(&pcb->local_ip, pcb->local_port);
	n->passive = embryo;
	b = tuple_hash(eng, &n->src, &n->dst);
	n->hnext = eng->pcb_buckets[b];
	eng->pcb_buckets[b] = n;
	if (embryo) {
		n->eprev = eng->embryo.eprev;
		n->enext = &eng->embryo;
		eng->embryo.eprev->enext = n;
		eng->embryo.eprev = n;
		eng->embryos++;
	}
	eng->pcbs++;
	tcp_ext_arg_set_callbacks(pcb, NS_PCB_EXT_ID, &pcbn_node_cbs);
	tcp_ext_arg_set(pcb, NS_PCB_EXT_ID, n);
	return 0;
}

/* a listener spawned @cpcb for a SYN (lwIP then sends the SYN|ACK) */
static err_t pcbn_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb)
{
	struct ns_engine *eng = tcp_ext_arg_get((struct tcp_pcb *)lpcb, id);

	/* ERR_MEM: lwIP abandons the new pcb, the guest retransmits */
	return pcbn_add(eng, cpcb, true) < 0 ? ERR_MEM : ERR_OK;
}

static const struct tcp_ext_arg_callbacks pcbn_listen_cbs = {
    .passive_open = pcbn_passive_open,
};

/**
 * ns_pcbtab_init() - allocate the buckets (once) and seed the hash
 * @eng:	engine
 *
 * Return: 0, or -1 out of memory
 */
int ns_pcbtab_init(struct ns_engine *eng)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	eng->pcb_buckets = calloc(NS_PCB_BUCKETS, sizeof(*eng->pcb_buckets));
	if (!eng->pcb_buckets)
		return -1;
	eng->embryo.eprev = eng->embryo.enext = &eng->embryo;
	if (getrandom(&eng->pcb_seed, sizeof(eng->pcb_seed), GRND_NONBLOCK) !=
	    sizeof(eng->pcb_seed))
		eng->pcb_seed = (uint64_t)(uintptr_t)eng ^ 0x2545f4914f6cdd1dull;
	return 0;
}

/**
 * ns_pcbtab_free() - free the buckets; every pcb must be gone already
 * (their destroy callbacks freed the nodes)
 * @eng:	engine
 */
void ns_pcbtab_free(struct ns_engine *eng)
{
	free(eng->pcb_buckets);
	eng->pcb_buckets = NULL;
}

/**
 * ns_pcbtab_listen() - make the pcbs a listener will spawn tracked; call on
 * the pcb before tcp_listen()
 * @eng:	engine
 * @pcb:	bound, not yet listening pcb
 */
void ns_pcbtab_listen(struct ns_engine *eng, struct tcp_pcb *pcb)
{
	tcp_ext_arg_set_callbacks(pcb, NS_PCB_EXT_ID, &pcbn_listen_cbs);
	tcp_ext_arg_set(pcb, NS_PCB_EXT_ID, eng);
}

/**
 * ns_pcbtab_track() - record an actively opened pcb (after tcp_connect())
 * @eng:	engine
 * @pcb:	connecting pcb
 *
 * Return: 0, or -1 out of memory
 */
int ns_pcbtab_track(struct ns_engine *eng, struct tcp_pcb *pcb)
{
	return pcbn_add(eng, pcb, false);
}

/**
 * ns_pcbtab_find() - the pcb of a 4-tuple (either family), whatever its state
 * @eng:	engine
 * @src:	guest (remote) endpoint
 * @dst:	local endpoint
 *
 * Return: the pcb, or NULL
 */
struct tcp_pcb *ns_pcbtab_find(const struct ns_engine *eng, const struct ns_addr *src,
			       const struct ns_addr *dst)
{
	const struct ns_pcbn *n;

	for (n = eng->pcb_buckets[tuple_hash(eng, src, dst)]; n; n = n->hnext)
		if (ns_addr_eq(&n->src, src) && ns_addr_eq(&n->dst, dst))
			return n->pcb;
	return NULL;
}

/**
 * ns_pcbtab_doom() - reset @pcb at the next ns_pcbtab_reap() if it is still
 * half-open then
 * @eng:	engine
 * @pcb:	a tracked pcb
 */
void ns_pcbtab_doom(struct ns_engine *eng, struct tcp_pcb *pcb)
{
	struct ns_pcbn *n = tcp_ext_arg_get(pcb, NS_PCB_EXT_ID);

	if (!n || n->doomed)
		return;
	n->doomed = true;
	eng->doomed++;
}

/**
 * ns_pcbtab_settle() - the registrant of @pcb's flow needs no word of its
 * end (it adopted the flow, or cancelled it): take it off the half-open
 * FIFO and out of what ns_svc_tell_abandoned() reports
 * @eng:	engine
 * @pcb:	a tracked pcb
 */
void ns_pcbtab_settle(struct ns_engine *eng, struct tcp_pcb *pcb)
{
	struct ns_pcbn *n = tcp_ext_arg_get(pcb, NS_PCB_EXT_ID);

	if (!n)
		return;
	n->settled = true;
	embryo_del(eng, n);
}

/**
 * ns_pcbtab_ack_defer() - a guest segment with data for @pcb is about to go
 * to tcp_input(): fold away the ACK lwIP would send for it (every second
 * segment, tcp_ack()), so ns_pcbtab_ack_flush() acknowledges the stretch.
 * Only for segments that carry data: a pure ACK must not clear the delayed
 * ACK an earlier segment left.
 * @eng:	engine
 * @pcb:	an ESTABLISHED pcb gets stretch ACKs; any other is left alone
 * @seg:	bytes of data in the segment
 * @folded:	counter of the ACKs folded
 */
void ns_pcbtab_ack_defer(struct ns_engine *eng, struct tcp_pcb *pcb, size_t seg, uint64_t *folded)
{
	struct ns_pcbn *n = tcp_ext_arg_get(pcb, NS_PCB_EXT_ID);

	if (!n || pcb->state != ESTABLISHED)
		return;
	if (seg > n->seg_max)
		n->seg_max = seg < NS_ACK_THR_MAX / NS_ACK_THR_MIN_SEGS
				 ? (uint32_t)seg
				 : NS_ACK_THR_MAX / NS_ACK_THR_MIN_SEGS;
	if (!n->aprev) {
		/* nothing owed so far: the stretch starts here */
		n->anext = eng->acks;
		if (n->anext)
			n->anext->aprev = &n->anext;
		n->aprev = &eng->acks;
		eng->acks = n;
		n->ack_nxt = pcb->rcv_nxt;
	}
	if (pcb->flags & TF_ACK_DELAY) {
		/* this segment only delays it again; owed even if lwIP drops it */
		tcp_clear_flags(pcb, TF_ACK_DELAY);
		n->ack_owed = true;
		(*folded)++;
	}
}

/**
 * ack_due() - whether @n's stretch ACK should go now, and the threshold's
 * adaptation when it does
 * @n:		a pcb on eng->acks that owes the guest an ACK
 * @late:	ack_tick fired: the guest stopped short of the threshold
 *
 * Return: true to acknowledge now
 */
static bool ack_due(struct ns_pcbn *n, bool late)
{
	const struct tcp_pcb *pcb = n->pcb;
	uint32_t mss = n->seg_max; /* a full guest segment, as far as seen */
	uint32_t min = NS_ACK_THR_MIN_SEGS * mss;
	uint32_t got = pcb->rcv_nxt - n->ack_nxt;

	if (n->ack_thr < min)
		n->ack_thr = min;
	if (late) {
		n->ack_thr = n->ack_thr / 2 > min ? n->ack_thr / 2 : min;
		return true;
	}
	if (got >= n->ack_thr) {
		if (n->ack_thr + mss <= NS_ACK_THR_MAX)
			n->ack_thr += mss;
		return true;
	}
	/* the guest could not send the rest of the threshold: ACK, keep it */
	return pcb->rcv_ann_wnd < n->ack_thr - got;
}

/**
 * ns_pcbtab_ack_flush() - at the end of the loop turn (or when ack_tick
 * fires), send the stretch ACKs that are due (see the file comment), each
 * with the window the flow's user left open
 * @eng:	engine
 * @late:	ack_tick fired: every owed ACK goes now
 * @late_acks:	counter of the ACKs sent late
 *
 * Return: true if some ACKs are still owed (arm ack_tick)
 */
bool ns_pcbtab_ack_flush(struct ns_engine *eng, bool late, uint64_t *late_acks)
{
	struct ns_pcbn *n, *next;
	bool waiting = false;

	for (n = eng->acks; n; n = next) {
		struct tcp_pcb *pcb = n->pcb;
		/* an ACK is owed on a connection that still takes data */
		bool owed =
		    (n->ack_owed || (pcb->flags & TF_ACK_DELAY)) && pcb->state == ESTABLISHED;

		next = n->anext;
		if (owed && !ack_due(n, late)) {
			waiting = true;
			continue;
		}
		ack_unlink(n);
		n->ack_owed = false;
		if (owed) {
			tcp_ack_now(pcb);
			tcp_output(pcb);
			*late_acks += late;
		}
	}
	return waiting;
}

/**
 * ns_pcbtab_tx_hold() - put a pcb whose data segment port.c refused (the
 * guest's queue is full) on eng->held, once
 * @eng:	engine
 * @pcb:	the pcb
 */
void ns_pcbtab_tx_hold(struct ns_engine *eng, struct tcp_pcb *pcb)
{
	struct ns_pcbn *n = tcp_ext_arg_get(pcb, NS_PCB_EXT_ID);

	if (!n || n->tprev)
		return;
	n->tnext = eng->held;
	if (n->tnext)
		n->tnext->tprev = &n->tnext;
	n->tprev = &eng->held;
	eng->held = n;
}

/**
 * ns_pcbtab_tx_resume() - at the end of a loop turn: with room in the
 * guest's queue, tcp_output() for every held pcb (one refused again goes
 * back on eng->held); without, the ACKs the held pcbs owe, sent alone
 * @eng:	engine
 * @room:	the guest's queue has room again (NS_TX_RESUME)
 */
void ns_pcbtab_tx_resume(struct ns_engine *eng, bool room)
{
	struct ns_pcbn *list, *n;

	if (!room) {
		for (n = eng->held; n; n = n->tnext)
			if (n->pcb->flags & TF_ACK_NOW)
				tcp_send_empty_ack(n->pcb); /* no data: never refused */
		return;
	}
	list = eng->held;
	eng->held = NULL;
	if (list)
		list->tprev = &list;
	while ((n = list)) {
		held_unlink(n); /* list moves on */
		tcp_output(n->pcb);
	}
}

/**
 * ns_pcbtab_reap() - reset every doomed pcb still in SYN_RCVD (RST to the
 * guest): one walk of tcp_active_pcbs for all of them
 * @eng:	engine
 * @reset:	counter of the pcbs reset
 */
void ns_pcbtab_reap(struct ns_engine *eng, uint64_t *reset)
{
	struct tcp_pcb *p, *prev = NULL, *next, *victims = NULL;

	if (!eng->doomed)
		return;
	for (p = tcp_active_pcbs; p && eng->doomed; p = next) {
		struct ns_pcbn *n = tcp_ext_arg_get(p, NS_PCB_EXT_ID);

		next = p->next;
		if (!n || !n->doomed) {
			prev = p;
			continue;
		}
		n->doomed = false;
		eng->doomed--;
		if (p->state != SYN_RCVD) {
			prev = p; /* established meanwhile: it lives */
			continue;
		}
		if (prev)
			prev->next = next;
		else
			tcp_active_pcbs = next;
		p->next = victims;
		victims = p;
	}
	eng->doomed = 0; /* any left were not on the list (gone already) */
	while (victims) {
		struct tcp_pcb *saved = tcp_active_pcbs;

		p = victims;
		victims = p->next;
		p->next = NULL;
		tcp_active_pcbs = p; /* tcp_abort() unlinks it from the head */
		tcp_abort(p);
		tcp_active_pcbs = saved;
		(*reset)++;
	}
}

/**
 * ns_pcbtab_make_room() - before a SYN that may create a half-open pcb:
 * keep fewer than NS_EMBRYO_MAX of them, resetting the oldest (a batch)
 * @eng:	engine
 * @reset:	counter of the pcbs reset
 */
void ns_pcbtab_make_room(struct ns_engine *eng, uint64_t *reset)
{
	unsigned int doomed = 0;

	while (eng->embryos >= NS_EMBRYO_MAX || (doomed && doomed < NS_EMBRYO_BATCH &&
						 eng->embryo.enext != &eng->embryo)) {
		struct ns_pcbn *n = eng->embryo.enext;

		embryo_del(eng, n);
		if (n->pcb->state != SYN_RCVD)
			continue; /* established since: no longer half-open */
		ns_pcbtab_doom(eng, n->pcb);
		doomed++;
	}
	if (doomed)
		ns_pcbtab_reap(eng, reset);
}

/**
 * ns_pcbtab_hidden_input() - tcp_input() of a SYN that matches no pcb (the
 * table says so) without lwIP walking tcp_active_pcbs and tcp_tw_pcbs for
 * it: both lists are swapped out for the call, so lwIP goes straight to the
 * listeners, and the pcb it creates is put in front of the real list
 * @p:		the segment (taken)
 * @netif:	the netif
 */
void ns_pcbtab_hidden_input(struct pbuf *p, struct netif *netif)
{
	struct tcp_pcb *active = tcp_active_pcbs, *tw = tcp_tw_pcbs, *tail;

	tcp_active_pcbs = NULL;
	tcp_tw_pcbs = NULL;
	tcp_input(p, netif);
	tcp_tw_pcbs = tw;
	if (!tcp_active_pcbs) {
		tcp_active_pcbs = active;
		return;
	}
	for (tail = tcp_active_pcbs; tail->next; tail = tail->next)
		;
	tail->next = active;
}
