/* SPDX-License-Identifier: MIT */
/*
 * flow.c - guest TCP flows (struct ns_flow): the byte-stream API of
 * netstack.h (peek, consume, write, shutdown, close, reset, keepalive),
 * lwIP's per-pcb callbacks that feed it, and active opens towards the guest
 * (ns_flow_connect(), port forwarding).
 *
 * A struct ns_flow is allocated per adopted pcb (ns_flow_adopt(), called by
 * the accept callbacks of service.c, or ns_flow_connect()) and carries the
 * struct ns_flow_ops of its registrant. Data from the guest stays in lwIP's
 * pbufs, linked in a private list, until the user consumes it; only then is
 * the guest's window opened (tcp_recved), which is the backpressure. lwIP's
 * pbuf tot_len is 16-bit, so the list is linked by ->next only and tot_len
 * is never relied on. A flow is freed exactly once: when lwIP reports the
 * pcb gone (then ops.closed runs), when the user closes or resets it (no op
 * runs), or at teardown (ns_flows_drop_all(), no op runs). The user may end
 * the flow inside its own callback: engine_abort() tells lwIP's callback to
 * return ERR_ABRT.
 *
 * Buffer memory (budget.c): after every change a flow recomputes its charge
 * (flow_recount(): lwIP's send queue, the unread list, each pbuf/segment at
 * NS_BUDGET_PBUF_COST, and the receive window still open to the guest).
 * Send space (ns_flow_sndbuf()) is lwIP's, at most the guest's window plus
 * a slack (a guest that does not read costs a slack, not a send buffer),
 * and, for foreign flows, within the budget above a floor. The receive
 * window starts at NS_RX_WND_INIT (the floor once a quarter of the budget
 * is taken) and is given back as the user consumes; it grows by what was
 * consumed while the budget has room, and shrinks towards the floor while
 * it has none (rx_target). A foreign flow the budget held back waits on
 * eng->waiters and gets ops.sent from ns_flows_wake() at the end of a loop
 * turn once the total is below the low-water mark. While the budget is
 * full, the windows that flows left unused for a second are taken back
 * (flows_reclaim()). Gateway services' flows
 * (DNS, the guest API) are counted but never held back: they have their own
 * bounds.
 */
#include "engine.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/priv/tcp_priv.h"

#define NS_BUDGET_PBUF_COST 192u	 /* struct pbuf/tcp_seg and allocator overhead */
#define NS_RX_WND_INIT	    (64u << 10) /* a new flow's receive window */
#define NS_RECLAIM_MS	    1000u	/* idle windows taken back this often when full */
/* queued beyond the guest's window: a quarter of it, within these */
#define NS_TX_SLACK_MIN (2u << 10)
#define NS_TX_SLACK_MAX (64u << 10)

struct ns_flow {
	struct tcp_pcb *pcb;
	struct ns *ns;
	void *user;
	struct ns_flow_ops ops;
	bool counted; /* in st.tcp_active */
	struct pbuf *rx_head, *rx_tail;
	size_t rx_off; /* consumed bytes of rx_head */
	size_t rx_len; /* unread bytes in the list */
	size_t rx_pbufs;  /* pbufs in the list */
	size_t rx_target; /* receive window aimed for: unread + open, with costs */
	struct ns_charge charge; /* what it has in ns->budget */
	struct ns_wait wait;	 /* on eng->waiters while held back by the budget */
	bool budgeted;		 /* held back by the budget (foreign flows) */
	bool rx_recent;		 /* got data since the last reclaim pass */
	bool rx_push;		 /* unread data includes a PSH segment's */
	bool fin;
};

#define wait_flow(w) ((struct ns_flow *)((char *)(w) - offsetof(struct ns_flow, wait)))

/* bytes lwIP keeps queued towards the guest (unacknowledged or unsent) */
static size_t tx_queued(const struct tcp_pcb *pcb)
{
	return pcb->snd_buf < TCP_SND_BUF ? TCP_SND_BUF - pcb->snd_buf : 0;
}

/**
 * flow_recount() - recompute what @f buffers and move its charge in the
 * budget
 * @f:	flow
 */
static void flow_recount(struct ns_flow *f)
{
	size_t held = f->rx_len + f->rx_pbufs * NS_BUDGET_PBUF_COST, windows = 0;

	if (f->pcb) {
		held += tx_queued(f->pcb) + (size_t)f->pcb->snd_queuelen * NS_BUDGET_PBUF_COST;
		windows = f->pcb->rcv_wnd;
	}
	ns_budget_move(&f->ns->budget, &f->charge, held, windows);
}

static void wait_del(struct ns_flow *f)
{
	struct ns_engine *eng = f->ns->eng;

	if (!f->wait.next)
		return;
	f->wait.prev->next = f->wait.next;
	f->wait.next->prev = f->wait.prev;
	f->wait.next = f->wait.prev = NULL;
	eng->nwaiting--;
}

/**
 * flow_held_back() - the budget held @f back: count it, and queue it to be
 * woken when memory is free again
 * @f:	foreign flow
 */
static void flow_held_back(struct ns_flow *f)
{
	struct ns_engine *eng = f->ns->eng;

	ns_budget_hit(f->ns);
	if (f->wait.next)
		return;
	f->ns->budget.paused++;
	f->wait.prev = eng->waiters.prev;
	f->wait.next = &eng->waiters;
	eng->waiters.prev->next = &f->wait;
	eng->waiters.prev = &f->wait;
	eng->nwaiting++;
}

/**
 * flow_init_window() - give a flow that just completed its handshake its
 * first receive window: NS_RX_WND_INIT, or the floor when a quarter of the
 * budget is taken (lwIP opened TCP_WND when window scaling was agreed; the
 * SYN-ACK itself said at most 64 KiB)
 * @f:	flow with a pcb
 */
static void flow_init_window(struct ns_flow *f)
{
	struct tcp_pcb *pcb = f->pcb;
	const struct ns_budget *b = &f->ns->budget;
	size_t w = NS_RX_WND_INIT;

	if (f->budgeted && ns_budget_room(b) < b->limit / 4 * 3)
		w = NS_FLOW_FLOOR_BYTES;
	if (w > TCP_WND_MAX(pcb))
		w = TCP_WND_MAX(pcb);
	f->rx_target = w;
	if (pcb->rcv_wnd > w) {
		pcb->rcv_wnd = (tcpwnd_size_t)w;
		pcb->rcv_ann_wnd = (tcpwnd_size_t)w;
		pcb->rcv_ann_right_edge = pcb->rcv_nxt + (u32_t)w;
	}
	flow_recount(f);
}

/**
 * flow_gso() - with super-segments on the link (ns_engine_set_gso()), let a
 * flow that just completed its handshake send up to NS_GSO_SEGS link-MTU
 * segments in one; the guest's kernel cuts them at the link MTU, so only a
 * flow whose MSS (the guest's) is a full link-MTU segment qualifies
 * @f:	flow with a pcb
 *
 * The congestion window is raised to two of the new segments: an active
 * open set it from the small MSS, and lwIP never sends a segment the
 * window cannot hold (the flow would stall).
 */
static void flow_gso(struct ns_flow *f)
{
	struct tcp_pcb *pcb = f->pcb;
	const struct ns *ns = f->ns;
	unsigned int hdr = IP_IS_V6(&pcb->remote_ip) ? IP6_HLEN + 20 : 40, full, mss;

	if (!ns->eng->gso || ns->cfg.mtu <= hdr)
		return;
	full = ns->cfg.mtu - hdr;
	if (pcb->mss < full)
		return;
	mss = NS_GSO_SEGS * full;
	if (mss > TCP_MSS)
		mss = TCP_MSS;
	if (mss > 65535 - hdr)
		mss = 65535 - hdr; /* one IP datagram */
	pcb->mss = (u16_t)mss;
	if (pcb->cwnd < 2 * mss)
		pcb->cwnd = (tcpwnd_size_t)(2 * mss);
}

/**
 * flow_regrant() - after the user consumed @n bytes, open the guest's
 * window again: towards rx_target, which grows by @n while the budget has
 * room for it and shrinks by @n (not below the floor) while it has none
 * @f:	flow with a pcb
 * @n:	bytes just consumed
 */
static void flow_regrant(struct ns_flow *f, size_t n)
{
	struct tcp_pcb *pcb = f->pcb;
	size_t room = ns_budget_room(&f->ns->budget), max = TCP_WND_MAX(pcb);
	size_t have = f->rx_len + f->rx_pbufs * NS_BUDGET_PBUF_COST + pcb->rcv_wnd;
	size_t open = TCP_SEQ_GT(pcb->rcv_ann_right_edge, pcb->rcv_nxt)
			  ? pcb->rcv_ann_right_edge - pcb->rcv_nxt
			  : 0;
	size_t grant;

	if (!f->budgeted || room >= n) {
		f->rx_target = f->rx_target + n < max ? f->rx_target + n : max;
	} else if (!room) {
		f->rx_target = f->rx_target > NS_FLOW_FLOOR_BYTES + n ? f->rx_target - n
								      : NS_FLOW_FLOOR_BYTES;
		ns_budget_hit(f->ns);
	}
	if (have >= f->rx_target)
		return;
	grant = f->rx_target - have;
	while (grant) {
		u16_t chunk = grant > 0xffff ? 0xffff : (u16_t)grant;

		tcp_recved(pcb, chunk);
		grant -= chunk;
	}
	/*
	 * lwIP sends a window update on its own only past a quarter of
	 * TCP_WND: with a smaller window, tell a guest that is (nearly)
	 * stopped now rather than at its next probe.
	 */
	if (open < f->rx_target / 2) {
		tcp_ack_now(pcb);
		tcp_output(pcb);
	}
}

/**
 * rx_pop() - free the first pbuf of a flow's unread list
 * @f:	flow with a non-empty list
 */
static void rx_pop(struct ns_flow *f)
{
	struct pbuf *q = f->rx_head;

	f->rx_head = q->next;
	if (!f->rx_head)
		f->rx_tail = NULL;
	q->next = NULL;
	pbuf_free(q);
	f->rx_off = 0;
	f->rx_pbufs--;
}

/**
 * flow_free_rx() - free every unread pbuf of a flow
 * @f:	flow
 */
static void flow_free_rx(struct ns_flow *f)
{
	while (f->rx_head)
		rx_pop(f);
	f->rx_len = 0;
	f->rx_pbufs = 0;
	f->rx_push = false;
}

/**
 * flow_detach() - unhook a flow from its pcb and free its unread data
 * @f:	flow
 */
static void flow_detach(struct ns_flow *f)
{
	if (f->pcb) {
		tcp_arg(f->pcb, NULL);
		tcp_recv(f->pcb, NULL);
		tcp_sent(f->pcb, NULL);
		tcp_err(f->pcb, NULL);
	}
	flow_free_rx(f);
	wait_del(f);
	ns_budget_move(&f->ns->budget, &f->charge, 0, 0);
	if (f->counted && f->ns->st.tcp_active)
		f->ns->st.tcp_active--;
}

/**
 * flow_err() - lwIP's error callback: the pcb is gone; free the flow and
 * tell its user (ops.closed) why
 * @arg:	flow, or NULL once detached
 * @err:	ERR_RST (guest reset), ERR_CLSD (closed), or another error
 */
static void flow_err(void *arg, err_t err)
{
	struct ns_flow *f = arg;
	void (*closed)(void *user, enum ns_close_reason reason);
	void *user;

	if (!f)
		return;
	user = f->user;
	closed = f->ops.closed;
	f->pcb = NULL; /* already freed by lwIP */
	flow_detach(f);
	free(f);
	if (user && closed)
		closed(user, err == ERR_RST    ? NS_CLOSED_RESET
			     : err == ERR_CLSD ? NS_CLOSED_NORMAL
					       : NS_CLOSED_ABORTED);
}

/**
 * discard_recv() - data for a pcb nobody owns any more: take and drop it
 * @pcb:	the pcb
 * @p:		data, or NULL for FIN
 *
 * Return: ERR_OK
 */
static err_t discard_recv(struct tcp_pcb *pcb, struct pbuf *p)
{
	if (p) {
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
	}
	return ERR_OK;
}

/**
 * flow_upcall() - call one of a flow's callbacks with the pcb it may act on
 * @eng:	engine
 * @pcb:	the pcb lwIP called us for
 * @f:		flow
 * @fn:		the callback (ops.recv, ops.sent, ops.connected), or NULL
 *
 * Return: true when the callback aborted the pcb (lwIP must get ERR_ABRT)
 */
static bool flow_upcall(struct ns_engine *eng, struct tcp_pcb *pcb, struct ns_flow *f,
			void (*fn)(void *))
{
	eng->cb_pcb = pcb;
	eng->cb_aborted = false;
	if (fn)
		fn(f->user);
	eng->cb_pcb = NULL;
	return eng->cb_aborted;
}

/**
 * flow_recv() - lwIP's receive callback: queue the data (or note the FIN)
 * without opening the window, and call ops.recv
 * @arg:	flow, or NULL once detached
 * @pcb:	its pcb
 * @p:		data, or NULL for FIN
 * @err:	unused
 *
 * Return: ERR_OK, or ERR_ABRT when the user aborted the pcb in ops.recv
 */
static err_t flow_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct ns_flow *f = arg;
	struct ns_engine *eng;

	(void)err;
	if (!f)
		return discard_recv(pcb, p);
	eng = f->ns->eng;
	if (!p) {
		f->fin = true;
	} else {
		struct pbuf *q;

		if (f->rx_tail)
			f->rx_tail->next = p;
		else
			f->rx_head = p;
		for (q = p; q; q = q->next) {
			f->rx_len += q->len;
			f->rx_pbufs++;
			f->rx_tail = q;
			if (q->flags & PBUF_FLAG_PUSH)
				f->rx_push = true;
		}
		f->rx_recent = true;
	}
	flow_recount(f);
	if (flow_upcall(eng, pcb, f, f->ops.recv))
		return ERR_ABRT;
	/*
	 * FIN after ours (CLOSING, TIME_WAIT): lwIP will free this pcb later
	 * without any callback. If the user still holds the flow (unread
	 * data), let go of the pcb now; the flow lives on with its data and
	 * f->pcb == NULL until ns_flow_close().
	 */
	if (!p && pcb->callback_arg && (pcb->state == TIME_WAIT || pcb->state == CLOSING)) {
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		f->pcb = NULL;
	}
	return ERR_OK;
}

/**
 * flow_sent() - lwIP's sent callback: the guest acknowledged data; call
 * ops.sent
 * @arg:	flow, or NULL once detached
 * @pcb:	its pcb
 * @len:	bytes acknowledged (unused)
 *
 * Return: ERR_OK, or ERR_ABRT when the user aborted the pcb in ops.sent
 */
static err_t flow_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct ns_flow *f = arg;
	struct ns_engine *eng;

	(void)len;
	if (!f)
		return ERR_OK;
	flow_recount(f);
	if (!f->ops.sent)
		return ERR_OK;
	eng = f->ns->eng;
	return flow_upcall(eng, pcb, f, f->ops.sent) ? ERR_ABRT : ERR_OK;
}

/**
 * flow_bind() - tie a new flow and its pcb together (callbacks, no Nagle)
 * @f:		flow
 * @ns:		netstack
 * @pcb:	the flow's pcb
 */
static void flow_bind(struct ns_flow *f, struct ns *ns, struct tcp_pcb *pcb)
{
	f->pcb = pcb;
	f->ns = ns;
	tcp_arg(pcb, f);
	tcp_recv(pcb, flow_recv);
	tcp_sent(pcb, flow_sent);
	tcp_err(pcb, flow_err);
	tcp_nagle_disable(pcb);
}

/**
 * ns_flow_adopt() - offer a newly established pcb to a registrant
 * @ns:		netstack
 * @pcb:	the pcb (from an accept callback)
 * @h:		the registrant (tcp_accept NULL: reset the flow)
 * @counted:	count it in tcp_accepted/tcp_active
 *
 * Return: what the lwIP accept callback returns (ERR_ABRT once aborted)
 */
err_t ns_flow_adopt(struct ns *ns, struct tcp_pcb *pcb, const struct ns_handler *h, bool counted)
{
	struct ns_flow *f;
	struct ns_addr src = addr_of(&pcb->remote_ip, pcb->remote_port);
	struct ns_addr dst = addr_of(&pcb->local_ip, pcb->local_port);

	ns_pcbtab_settle(ns->eng, pcb); /* its registrant hears of it from here on */
	f = calloc(1, sizeof(*f));
	if (!f || !h->tcp_accept) {
		free(f);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	flow_bind(f, ns, pcb);
	f->ops = h->ops;
	f->counted = counted;
	f->budgeted = h == &ns->eng->foreign;
	flow_init_window(f);
	flow_gso(f);
	if (counted) {
		ns->st.tcp_accepted++;
		ns->st.tcp_active++;
	}
	ns->eng->cb_pcb = pcb;
	ns->eng->cb_aborted = false;
	f->user = h->tcp_accept(h->ctx, f, &src, &dst);
	ns->eng->cb_pcb = NULL;
	if (ns->eng->cb_aborted)
		return ERR_ABRT;
	if (!f->user) {
		flow_detach(f);
		free(f);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

size_t ns_flow_peek(struct ns_flow *f, struct iovec *iov, int *iovcnt)
{
	struct pbuf *q;
	size_t off = f->rx_off, total = 0;
	int n = 0;

	for (q = f->rx_head; q && n < *iovcnt; q = q->next) {
		if (q->len > off) {
			iov[n].iov_base = (uint8_t *)q->payload + off;
			iov[n].iov_len = q->len - off;
			total += iov[n].iov_len;
			n++;
		}
		off = 0;
	}
	*iovcnt = n;
	return total;
}

size_t ns_flow_copy(const struct ns_flow *f, void *buf, size_t cap)
{
	const struct pbuf *q;
	size_t off = f->rx_off, n = 0;

	for (q = f->rx_head; q && n < cap; q = q->next) {
		size_t k = q->len > off ? q->len - off : 0;

		if (k > cap - n)
			k = cap - n;
		memcpy((uint8_t *)buf + n, (const uint8_t *)q->payload + off, k);
		n += k;
		off = 0;
	}
	return n;
}

void ns_flow_consume(struct ns_flow *f, size_t n)
{
	size_t done = 0;

	if (n > f->rx_len)
		n = f->rx_len;
	while (done < n && f->rx_head) {
		size_t avail = f->rx_head->len - f->rx_off;

		if (n - done >= avail) {
			done += avail;
			rx_pop(f);
		} else {
			f->rx_off += n - done;
			done = n;
		}
	}
	/* skip empty pbufs at the head */
	while (f->rx_head && f->rx_head->len == f->rx_off)
		rx_pop(f);
	f->rx_len -= done;
	if (!f->rx_len)
		f->rx_push = false;
	if (f->pcb && done)
		flow_regrant(f, done);
	flow_recount(f);
}

size_t ns_flow_pending(const struct ns_flow *f)
{
	return f->rx_len;
}

bool ns_flow_pushed(const struct ns_flow *f)
{
	/* unread data holding half the window: the guest may be waiting on it */
	return f->rx_push || f->fin ||
	       (f->rx_len + f->rx_pbufs * NS_BUDGET_PBUF_COST) * 2 >= f->rx_target;
}

bool ns_flow_eof(const struct ns_flow *f)
{
	return f->fin && !f->rx_len;
}

size_t ns_flow_sndbuf(struct ns_flow *f)
{
	struct tcp_pcb *pcb = f->pcb;
	size_t room, queued, slack, want, budget;

	if (!pcb || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4)
		return 0;
	/* not tcp_sndbuf(): that macro clamps to 16 bits even with window scaling */
	room = pcb->snd_buf;
	/* the guest's window counts from lastack, as the queue does */
	queued = tx_queued(pcb);
	slack = pcb->snd_wnd / 4;
	slack = slack < NS_TX_SLACK_MIN ? NS_TX_SLACK_MIN
		: slack > NS_TX_SLACK_MAX ? NS_TX_SLACK_MAX
					  : slack;
	want = (size_t)pcb->snd_wnd + slack;
	if (want < queued + room)
		room = want > queued ? want - queued : 0;
	if (!room || !f->budgeted)
		return room;
	budget = ns_budget_room(&f->ns->budget);
	budget -= budget / 8; /* the segments' own cost */
	if (queued < NS_FLOW_FLOOR_BYTES && budget < NS_FLOW_FLOOR_BYTES - queued)
		budget = NS_FLOW_FLOOR_BYTES - queued;
	if (room > budget) {
		room = budget;
		if (!room)
			flow_held_back(f);
	}
	return room;
}

size_t ns_flow_queued(const struct ns_flow *f)
{
	return f->pcb ? tx_queued(f->pcb) : 0;
}

/**
 * ns_flows_wake() - at the end of a loop turn: when the budget is below its
 * low-water mark, give each flow that waited for memory its ops.sent, oldest
 * first, each at most once per turn (one held back again goes to the back)
 * @ns:	netstack
 */
/**
 * flows_reclaim() - the budget is full: take back the receive windows that
 * foreign flows left unused since the last pass, down to the floor. lwIP
 * keeps announcing the old right edge; what the guest sends beyond the
 * smaller window is trimmed and sent again later, so memory is bounded by
 * the window actually kept.
 */
static void flows_reclaim(void)
{
	struct tcp_pcb *pcb;

	for (pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
		struct ns_flow *f = pcb->errf == flow_err ? pcb->callback_arg : NULL;

		if (!f || !f->budgeted)
			continue;
		/* not under out-of-order data: lwIP takes it from rcv_wnd later */
		if (!f->rx_recent && pcb->rcv_wnd > NS_FLOW_FLOOR_BYTES && !pcb->ooseq) {
			pcb->rcv_wnd = NS_FLOW_FLOOR_BYTES;
			f->rx_target = f->rx_len + f->rx_pbufs * NS_BUDGET_PBUF_COST +
				       NS_FLOW_FLOOR_BYTES;
			flow_recount(f);
		}
		f->rx_recent = false;
	}
}

void ns_flows_wake(struct ns *ns)
{
	struct ns_engine *eng = ns->eng;
	size_t n = eng->nwaiting;
	uint64_t now = vg_loop_now(ns->loop);

	ns_budget_idle(&ns->budget, now);
	if (!ns_budget_room(&ns->budget) && now - eng->reclaim_ms >= NS_RECLAIM_MS) {
		eng->reclaim_ms = now;
		flows_reclaim();
	}
	while (n-- && eng->waiters.next != &eng->waiters && ns_budget_below_low(&ns->budget)) {
		struct ns_flow *f = wait_flow(eng->waiters.next);

		wait_del(f);
		if (f->ops.sent)
			f->ops.sent(f->user); /* may end the flow */
	}
}

long ns_flow_write(struct ns_flow *f, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	if (!f->pcb)
		return -ENOTCONN;
	while (done < len) {
		size_t room = ns_flow_sndbuf(f), chunk = len - done;
		err_t e;

		if (chunk > room)
			chunk = room;
		if (chunk > 0xffff)
			chunk = 0xffff;
		if (!chunk)
			break;
		e = tcp_write(f->pcb, p + done, (u16_t)chunk,
			      TCP_WRITE_FLAG_COPY | (done + chunk < len ? TCP_WRITE_FLAG_MORE : 0));
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK)
			return done ? (long)done : -EIO;
		done += chunk;
	}
	if (done) {
		tcp_output(f->pcb);
		flow_recount(f);
	}
	return (long)done;
}

void ns_flow_shutdown(struct ns_flow *f)
{
	if (f->pcb) {
		tcp_shutdown(f->pcb, 0, 1);
		tcp_output(f->pcb);
	}
}

/**
 * engine_abort() - abort @pcb, telling the running lwIP callback if it is
 * the callback's own pcb (it must then return ERR_ABRT)
 * @eng:	engine
 * @pcb:	pcb
 */
static void engine_abort(struct ns_engine *eng, struct tcp_pcb *pcb)
{
	if (pcb == eng->cb_pcb)
		eng->cb_aborted = true;
	tcp_abort(pcb);
}

void ns_flow_close(struct ns_flow *f)
{
	struct tcp_pcb *pcb = f->pcb;
	struct ns_engine *eng = f->ns->eng;

	/*
	 * lwIP's tcp_close() resets a flow whose window is not at its maximum,
	 * taking that for unread data; here the window is the budget's, so it
	 * is opened fully when nothing is left unread (a plain FIN, as before).
	 */
	if (pcb && !f->rx_len)
		pcb->rcv_wnd = TCP_WND_MAX(pcb);
	flow_detach(f);
	free(f);
	if (pcb && tcp_close(pcb) != ERR_OK)
		engine_abort(eng, pcb);
}

void ns_flow_reset(struct ns_flow *f)
{
	struct tcp_pcb *pcb = f->pcb;
	struct ns_engine *eng = f->ns->eng;

	flow_detach(f);
	free(f);
	if (pcb)
		engine_abort(eng, pcb);
}

void ns_flow_set_keepalive(struct ns_flow *f, uint32_t idle_ms)
{
	if (!f->pcb)
		return;
	if (idle_ms) {
		ip_set_option(f->pcb, SOF_KEEPALIVE);
		f->pcb->keep_idle = idle_ms;
	} else {
		ip_reset_option(f->pcb, SOF_KEEPALIVE);
	}
}

static err_t flow_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct ns_flow *f = arg;
	struct ns_engine *eng;

	(void)err; /* always ERR_OK in lwIP 2.1.3; failures go to flow_err */
	if (!f)
		return ERR_OK;
	eng = f->ns->eng;
	flow_init_window(f);
	flow_gso(f);
	return flow_upcall(eng, pcb, f, f->ops.connected) ? ERR_ABRT : ERR_OK;
}

struct ns_flow *ns_flow_connect(struct ns *ns, const struct ns_addr *src, const struct ns_addr *dst,
				const struct ns_flow_ops *ops, void *user)
{
	struct tcp_pcb *pcb;
	struct ns_flow *f;
	ip_addr_t l, r;

	if (!ops || !ops->connected || !dst->port)
		return NULL;
	if (ns_addr_is_v6(src) != ns_addr_is_v6(dst)) {
		errno = EAFNOSUPPORT; /* one family per flow */
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	pcb = f ? tcp_new_ip_type(ns_addr_is_v6(dst) ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4) : NULL;
	if (!pcb) {
		free(f);
		return NULL;
	}
	addr_to_ip(&l, src);
	addr_to_ip(&r, dst);
	if (tcp_bind(pcb, &l, src->port) != ERR_OK) {
		tcp_close(pcb); /* CLOSED state: freed at once, no callbacks */
		free(f);
		return NULL;
	}
	flow_bind(f, ns, pcb);
	f->user = user;
	f->ops = *ops;
	f->counted = true;
	f->budgeted = true;
	if (tcp_connect(pcb, &r, dst->port, flow_connected) != ERR_OK ||
	    ns_pcbtab_track(ns->eng, pcb) < 0) {
		tcp_arg(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_close(pcb);
		free(f);
		return NULL;
	}
	ns->st.tcp_active++;
	return f;
}

/**
 * ns_flows_drop_all() - free every flow of lwIP's active pcbs without
 * calling its ops, and abort the pcbs (at teardown)
 */
void ns_flows_drop_all(void)
{
	while (tcp_active_pcbs) {
		struct tcp_pcb *pcb = tcp_active_pcbs;
		struct ns_flow *f = pcb->callback_arg;

		if (f && pcb->errf == flow_err) {
			f->pcb = NULL;
			flow_free_rx(f);
			wait_del(f);
			ns_budget_move(&f->ns->budget, &f->charge, 0, 0);
			free(f);
		}
		tcp_arg(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_abort(pcb);
	}
}

/**
 * vg_lwip_ooseq_bytes() - lwIP's TCP_OOSEQ_BYTES_LIMIT(pcb) (lwipopts.h):
 * TCP_OOSEQ_MAX_BYTES per flow, the floor for a foreign flow while the
 * budget is full
 * @pcb:	the pcb whose out-of-order queue grew
 *
 * Return: bytes the queue may keep
 */
unsigned int vg_lwip_ooseq_bytes(const struct tcp_pcb *pcb)
{
	const struct ns_flow *f = pcb->errf == flow_err ? pcb->callback_arg : NULL;

	if (f && f->budgeted && !ns_budget_room(&f->ns->budget))
		return NS_FLOW_FLOOR_BYTES;
	return TCP_OOSEQ_MAX_BYTES;
}
