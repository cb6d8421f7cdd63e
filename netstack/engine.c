/* SPDX-License-Identifier: MIT */
/*
 * engine.c - lwIP glue: the gateway's IP stack and the termination of guest
 * TCP to any destination.
 *
 * How packets flow in: link.c validates each IPv4 packet and calls
 * ns_engine_input(). Packets for the gateway (and broadcast) go through
 * lwIP's ip4_input(): ICMP echo, the registered gateway services (a UDP pcb
 * and, for a service without a tcp_syn callback, a listener bound to
 * gateway:port each), RST or ICMP port unreachable for other ports. TCP to
 * any other address, and TCP to a gateway port whose service has a tcp_syn
 * callback (the guest's view of the control API), is handed straight to
 * tcp_input() after filling lwIP's ip_data, as ip4_input() would. One
 * "wildcard" listening pcb bound to IP_ANY has its port set to each
 * segment's destination port just before tcp_input(), so a SYN to any
 * address and port finds a listener, and the accepted pcb's
 * local_ip/local_port are what the guest dialled. UDP to other addresses
 * never enters lwIP: it goes to the foreign registrant's udp_recv.
 *
 * New SYNs are offered to the registrant's tcp_syn first; a deferred SYN is
 * kept (copied, in a fixed table) and re-injected by ns_syn_resume().
 *
 * How packets flow out: the netif's output function prepends Ethernet
 * (link.c) and queues the frame on the transport; pbuf chains are passed as
 * iovecs, never linearised.
 *
 * Flows: a struct ns_flow per accepted pcb (allocated once per flow), with
 * the struct ns_flow_ops of the registrant that adopted it. Data
 * from the guest stays in lwIP's pbufs, linked in a private list, until the
 * user consumes it; only then is the guest's window opened (tcp_recved),
 * which is the backpressure. lwIP's pbuf tot_len is 16-bit, so the list is
 * linked by ->next only and tot_len is never relied on.
 *
 * lwIP is process-global state (one netif, its pcb lists, ip_data): one
 * engine per process. All of it runs on the loop thread.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/init.h"
#include "lwip/ip4_frag.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

_Static_assert(TCP_WND <= (0xFFFFu << TCP_RCV_SCALE), "window too big for the scale");
_Static_assert(TCP_SND_QUEUELEN >= 2 * (TCP_SND_BUF / 536), "send queue too short");
_Static_assert(TCP_SNDLOWAT < TCP_SND_BUF, "SNDLOWAT must be below SND_BUF");
_Static_assert(TCP_SNDQUEUELOWAT < TCP_SND_QUEUELEN, "SNDQUEUELOWAT below SND_QUEUELEN");

#define NS_SYN_MAX	512
#define NS_SYN_HOLD_MS	75000
#define NS_TW_MAX	4096
#define NS_LWIP_TICK_MS 10
#define TCPF_FIN	0x01
#define TCPF_SYN	0x02
#define TCPF_RST	0x04
#define TCPF_ACK	0x10

struct ns_flow {
	struct tcp_pcb *pcb;
	struct ns *ns;
	void *user;
	struct ns_flow_ops ops;
	bool counted; /* in st.tcp_active */
	struct pbuf *rx_head, *rx_tail;
	size_t rx_off; /* consumed bytes of rx_head */
	size_t rx_len; /* unread bytes in the list */
	bool fin;
};

struct syn_pending {
	uint64_t token; /* 0: free slot */
	uint64_t since;
	uint32_t src, dst;
	uint16_t sport, dport;
	size_t len;
	uint8_t *pkt;
};

/**
 * struct ns_svc - one registered port on the gateway's address
 * @ns:		owner
 * @port:	the port, 0 for a free slot
 * @h:		the registrant's callbacks
 * @listen:	lwIP listener bound to gateway:port (TCP without h.tcp_syn)
 * @udp:	lwIP UDP pcb bound to gateway:port (h.udp_recv)
 */
struct ns_svc {
	struct ns *ns;
	uint16_t port;
	struct ns_handler h;
	struct tcp_pcb *listen;
	struct udp_pcb *udp;
};

struct ns_engine {
	struct netif netif;
	struct tcp_pcb *wild;
	struct udp_pcb *udp_out;
	struct vg_timer tick;
	bool idle_added;
	struct syn_pending syn[NS_SYN_MAX];
	uint64_t syn_seq;
	struct ns_handler foreign; /* tcp_accept NULL: nobody registered */
	struct ns_svc svc[NS_SERVICES_MAX];
	/* set when a callback's pcb was aborted by the user inside the callback */
	struct tcp_pcb *cb_pcb;
	bool cb_aborted;
	uint8_t scratch[65535];
	uint8_t reass[65535]; /* a reassembled datagram to a non-gateway address */
};

u32_t sys_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static void addr_set(ip_addr_t *a, uint32_t ip_net)
{
	ip_addr_set_ip4_u32_val(*a, ip_net);
}

static uint32_t addr_get(const ip_addr_t *a)
{
	return ip4_addr_get_u32(ip_2_ip4(a));
}

/* ---- output ---- */

static err_t netif_output_ip(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
	struct ns *ns = netif->state;
	struct iovec iov[15];
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
	ns_link_send_ip(ns, ip4_addr_get_u32(dst), iov, n);
	return ERR_OK;
}

static err_t netif_init_cb(struct netif *netif)
{
	struct ns *ns = netif->state;

	netif->name[0] = 'v';
	netif->name[1] = 'g';
	netif->output = netif_output_ip;
	netif->mtu = (u16_t)(ns->cfg.mtu > 65535 ? 65535 : ns->cfg.mtu);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

/* ---- guest TCP flows ---- */

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
}

static void flow_detach(struct ns_flow *f)
{
	if (f->pcb) {
		tcp_arg(f->pcb, NULL);
		tcp_recv(f->pcb, NULL);
		tcp_sent(f->pcb, NULL);
		tcp_err(f->pcb, NULL);
	}
	flow_free_rx(f);
	if (f->counted && f->ns->st.tcp_active)
		f->ns->st.tcp_active--;
}

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
			f->rx_tail = q;
		}
	}
	eng->cb_pcb = pcb;
	eng->cb_aborted = false;
	if (f->ops.recv)
		f->ops.recv(f->user);
	eng->cb_pcb = NULL;
	if (eng->cb_aborted)
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

static err_t flow_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct ns_flow *f = arg;
	struct ns_engine *eng;

	(void)len;
	if (!f || !f->ops.sent)
		return ERR_OK;
	eng = f->ns->eng;
	eng->cb_pcb = pcb;
	eng->cb_aborted = false;
	f->ops.sent(f->user);
	eng->cb_pcb = NULL;
	return eng->cb_aborted ? ERR_ABRT : ERR_OK;
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
 * flow_adopt() - offer a newly established pcb to a registrant
 * @ns:		netstack
 * @pcb:	the pcb (from an accept callback)
 * @h:		the registrant (tcp_accept NULL: reset the flow)
 * @counted:	count it in tcp_accepted/tcp_active
 *
 * Return: what the lwIP accept callback returns (ERR_ABRT once aborted)
 */
static err_t flow_adopt(struct ns *ns, struct tcp_pcb *pcb, const struct ns_handler *h,
			bool counted)
{
	struct ns_flow *f;
	struct ns_addr src, dst;

	src.ip = addr_get(&pcb->remote_ip);
	src.port = pcb->remote_port;
	dst.ip = addr_get(&pcb->local_ip);
	dst.port = pcb->local_port;
	f = calloc(1, sizeof(*f));
	if (!f || !h->tcp_accept) {
		free(f);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	flow_bind(f, ns, pcb);
	f->ops = h->ops;
	f->counted = counted;
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

/**
 * svc_find() - the service registered on a gateway port
 * @eng:	engine
 * @port:	port
 *
 * Return: the slot, or NULL
 */
static struct ns_svc *svc_find(struct ns_engine *eng, uint16_t port)
{
	int i;

	for (i = 0; i < NS_SERVICES_MAX; i++)
		if (port && eng->svc[i].port == port)
			return &eng->svc[i];
	return NULL;
}

/**
 * handler_for() - who takes guest TCP to @dst: the gateway port's service or
 * the foreign-flow registrant
 * @ns:		netstack
 * @dst:	destination (network order address)
 * @port:	destination port
 *
 * Return: the handler; its tcp_accept is NULL when nobody takes it
 */
static const struct ns_handler *handler_for(struct ns *ns, uint32_t dst, uint16_t port)
{
	static const struct ns_handler none;
	struct ns_svc *svc;

	if (dst != ns->cfg.gateway_ip)
		return &ns->eng->foreign;
	svc = svc_find(ns->eng, port);
	return svc ? &svc->h : &none;
}

/* accept of the wildcard listener: foreign flows and gateway ports with a tcp_syn */
static err_t wild_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct ns *ns = arg;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	return flow_adopt(ns, pcb, handler_for(ns, addr_get(&pcb->local_ip), pcb->local_port),
			  true);
}

/* accept of a gateway service's own listener (no tcp_syn) */
static err_t svc_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct ns_svc *svc = arg;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	return flow_adopt(svc->ns, pcb, &svc->h, false);
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
	while (done && f->pcb) {
		u16_t chunk = done > 0xffff ? 0xffff : (u16_t)done;

		tcp_recved(f->pcb, chunk);
		done -= chunk;
	}
}

size_t ns_flow_pending(const struct ns_flow *f)
{
	return f->rx_len;
}

bool ns_flow_eof(const struct ns_flow *f)
{
	return f->fin && !f->rx_len;
}

size_t ns_flow_sndbuf(const struct ns_flow *f)
{
	if (!f->pcb || tcp_sndqueuelen(f->pcb) >= TCP_SND_QUEUELEN - 4)
		return 0;
	/* not tcp_sndbuf(): that macro clamps to 16 bits even with window scaling */
	return f->pcb->snd_buf;
}

long ns_flow_write(struct ns_flow *f, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	if (!f->pcb)
		return -1;
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
			return done ? (long)done : -1;
		done += chunk;
	}
	if (done)
		tcp_output(f->pcb);
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

/* ---- new guest connections ---- */

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
 * tcp_guest_input() - a TCP segment to a non-gateway address, or to a
 * gateway port whose service has a tcp_syn callback
 * @ns:		netstack
 * @ip:		validated IPv4 packet
 * @len:	its length
 * @hlen:	IP header length
 */
static void tcp_guest_input(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
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
		const struct ns_handler *h = handler_for(ns, dst, dport);
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

/* ---- UDP to other addresses, ICMP errors ---- */

struct ns_pkt {
	const uint8_t *ip;
	size_t len;
};

static void udp_guest_input(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
{
	const uint8_t *u = ip + hlen;
	struct ns_addr src, dst;
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

void ns_icmp_unreachable(struct ns *ns, const struct ns_pkt *pkt, uint8_t code)
{
	uint8_t buf[20 + 8 + 548];
	size_t quote = pkt->len > 548 ? 548 : pkt->len, tot = 20 + 8 + quote;
	uint32_t src, dst, sum;
	struct iovec iov = {buf, tot};

	memcpy(&src, pkt->ip + 12, 4);
	memcpy(&dst, pkt->ip + 16, 4);
	memset(buf, 0, 28);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(tot >> 8);
	buf[3] = (uint8_t)tot;
	buf[8] = 64;
	buf[9] = 1; /* ICMP */
	memcpy(buf + 12, &dst, 4);
	memcpy(buf + 16, &src, 4);
	sum = csum_fold(csum_partial(buf, 20, 0));
	buf[10] = (uint8_t)(sum >> 8);
	buf[11] = (uint8_t)sum;
	buf[20] = 3; /* destination unreachable */
	buf[21] = code;
	memcpy(buf + 28, pkt->ip, quote);
	sum = csum_fold(csum_partial(buf + 20, 8 + quote, 0));
	buf[22] = (uint8_t)(sum >> 8);
	buf[23] = (uint8_t)sum;
	ns_link_send_ip(ns, src, &iov, 1);
}

int ns_udp_send(struct ns *ns, const struct ns_addr *from, const struct ns_addr *to,
		const void *data, size_t len)
{
	struct ns_engine *eng = ns->eng;
	ip_addr_t src, dst;
	struct pbuf *p;
	err_t e;

	if (len > 65507)
		return -1;
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return -1;
	memcpy(p->payload, data, len);
	addr_set(&src, from->ip);
	addr_set(&dst, to->ip);
	eng->udp_out->local_port = from->port;
	e = udp_sendto_if_src(eng->udp_out, p, &dst, to->port, &eng->netif, &src);
	pbuf_free(p);
	return e == ERR_OK ? 0 : -1;
}

/* ---- gateway services ---- */

/* lwIP UDP callback of a gateway port: hand the datagram to its service */
static void svc_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			 u16_t port)
{
	struct ns_svc *svc = arg;
	struct ns_engine *eng = svc->ns->eng;
	const struct ip_hdr *iph = ip4_current_header();
	/* the IP and UDP headers are in the first pbuf, also after reassembly */
	struct ns_pkt pkt = {(const uint8_t *)iph, (size_t)IPH_HL(iph) * 4 + 8};
	struct ns_addr src = {addr_get(addr), port};
	struct ns_addr dst = {ip4_addr_get_u32(ip4_current_dest_addr()), svc->port};
	size_t len;

	(void)pcb;
	len = pbuf_copy_partial(p, eng->scratch, sizeof(eng->scratch), 0);
	pbuf_free(p);
	svc->h.udp_recv(svc->h.ctx, &src, &dst, eng->scratch, len, &pkt);
}

int ns_register_service(struct ns *ns, uint16_t port, const struct ns_handler *h)
{
	struct ns_engine *eng = ns->eng;
	struct ns_svc *svc = NULL;
	ip_addr_t gwa;
	int i;

	if (!port || !h || (!h->udp_recv && !h->tcp_accept))
		return -EINVAL;
	if (port == 67 || svc_find(eng, port))
		return -EADDRINUSE;
	for (i = 0; i < NS_SERVICES_MAX && !svc; i++)
		if (!eng->svc[i].port)
			svc = &eng->svc[i];
	if (!svc)
		return -ENOSPC;
	svc->ns = ns;
	svc->h = *h;
	addr_set(&gwa, ns->cfg.gateway_ip);
	if (h->udp_recv) {
		svc->udp = udp_new();
		if (!svc->udp || udp_bind(svc->udp, &gwa, port) != ERR_OK)
			goto fail;
		udp_recv(svc->udp, svc_udp_recv, svc);
	}
	if (h->tcp_accept && !h->tcp_syn) {
		struct tcp_pcb *pcb = tcp_new();

		if (!pcb || tcp_bind(pcb, &gwa, port) != ERR_OK) {
			if (pcb)
				tcp_close(pcb);
			goto fail;
		}
		svc->listen = tcp_listen(pcb);
		if (!svc->listen) {
			tcp_close(pcb);
			goto fail;
		}
		tcp_arg(svc->listen, svc);
		tcp_accept(svc->listen, svc_accept);
	}
	svc->port = port;
	return 0;
fail:
	if (svc->udp)
		udp_remove(svc->udp);
	memset(svc, 0, sizeof(*svc));
	return -ENOMEM;
}

int ns_register_foreign(struct ns *ns, const struct ns_handler *h)
{
	if (!h || !h->tcp_accept)
		return -EINVAL;
	if (ns->eng->foreign.tcp_accept)
		return -EBUSY;
	ns->eng->foreign = *h;
	return 0;
}

/* ---- input, timers, set-up ---- */

/**
 * gateway_tcp_syn_port() - whether @ip is TCP to the gateway's own address
 * on a port whose service has a tcp_syn callback
 * @ns:		netstack
 * @ip:		validated IPv4 packet addressed to the gateway (or broadcast)
 * @len:	its length
 * @hlen:	IP header length
 *
 * Return: true when it is to be terminated like TCP to other addresses
 */
static bool gateway_tcp_syn_port(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
{
	struct ns_svc *svc;
	uint32_t dst;

	if (ip[9] != 6 || len < hlen + 4)
		return false;
	memcpy(&dst, ip + 16, 4);
	if (dst != ns->cfg.gateway_ip)
		return false;
	svc = svc_find(ns->eng, (uint16_t)(ip[hlen + 2] << 8 | ip[hlen + 3]));
	return svc && svc->h.tcp_syn;
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

	if (to_gateway && gateway_tcp_syn_port(ns, ip, len, hlen)) {
		tcp_guest_input(ns, ip, len, hlen);
		return;
	}
	if (to_gateway) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);

		if (!p)
			return;
		memcpy(p->payload, ip, len);
		if (ip[9] == 1 && len > hlen && ip[hlen] == 8)
			ns->st.icmp_echo_replies++;
		ip4_input(p, &ns->eng->netif);
		return;
	}
	switch (ip[9]) {
	case 6:
		tcp_guest_input(ns, ip, len, hlen);
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

/**
 * engine_idle() - at the end of each loop turn, arm the tick for lwIP's next
 * timeout (TCP timers run only while pcbs exist), so an idle vgate sleeps
 * @arg:	netstack
 */
static void engine_idle(void *arg)
{
	struct ns *ns = arg;
	u32_t sleep = sys_timeouts_sleeptime();

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
	/*
	 * lwIP allocates a pbuf per segment (up to 64 KiB with a large MTU)
	 * from the C allocator. Keep freed memory in the heap instead of
	 * handing it back to the kernel after every burst, which costs a page
	 * fault per 4 KiB on the next one.
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	lwip_init();
	ip4_addr_set_u32(&ip, ns->cfg.gateway_ip);
	ip4_addr_set_u32(&mask, ns->netmask);
	ip4_addr_set_u32(&gw, ns->cfg.gateway_ip);
	if (!netif_add(&eng->netif, &ip, &mask, &gw, ns, netif_init_cb, ip4_input))
		goto fail;
	netif_set_default(&eng->netif);
	netif_set_up(&eng->netif);
	netif_set_link_up(&eng->netif);

	/* the wildcard listener: port patched per segment in tcp_deliver() */
	pcb = tcp_new();
	if (!pcb || tcp_bind(pcb, IP_ANY_TYPE, 1) != ERR_OK)
		goto fail;
	eng->wild = tcp_listen(pcb);
	if (!eng->wild)
		goto fail;
	eng->wild->local_port = 0;
	tcp_arg(eng->wild, ns);
	tcp_accept(eng->wild, wild_accept);

	eng->udp_out = udp_new();
	if (!eng->udp_out)
		goto fail;

	vg_timer_init(&eng->tick, engine_tick, ns);
	if (vg_loop_add_idle(ns->loop, engine_idle, ns) < 0)
		goto fail;
	eng->idle_added = true;
	return 0;
fail:
	ns_engine_free(ns);
	return -1;
}

/**
 * ns_engine_free() - abort every flow (no callbacks run) and stop lwIP
 * @ns:	netstack
 */
void ns_engine_free(struct ns *ns)
{
	struct ns_engine *eng = ns->eng;
	int i;

	if (!eng)
		return;
	vg_timer_stop(ns->loop, &eng->tick);
	if (eng->idle_added)
		vg_loop_del_idle(ns->loop, engine_idle, ns);
	for (i = 0; i < NS_SYN_MAX; i++)
		if (eng->syn[i].token)
			syn_release(&eng->syn[i]);
	while (tcp_active_pcbs) {
		struct tcp_pcb *pcb = tcp_active_pcbs;
		struct ns_flow *f = pcb->callback_arg;

		if (f && pcb->errf == flow_err) {
			f->pcb = NULL;
			flow_free_rx(f);
			free(f);
		}
		tcp_arg(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_abort(pcb);
	}
	while (tcp_tw_pcbs)
		tcp_abort(tcp_tw_pcbs);
	if (eng->wild)
		tcp_close(eng->wild);
	for (i = 0; i < NS_SERVICES_MAX; i++) {
		if (eng->svc[i].listen)
			tcp_close(eng->svc[i].listen);
		if (eng->svc[i].udp)
			udp_remove(eng->svc[i].udp);
	}
	if (eng->udp_out)
		udp_remove(eng->udp_out);
	if (eng->netif.state)
		netif_remove(&eng->netif);
	free(eng);
	ns->eng = NULL;
}

/* ---- active opens towards the guest (port forwarding) ---- */

static err_t flow_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct ns_flow *f = arg;
	struct ns_engine *eng;

	(void)err; /* always ERR_OK in lwIP 2.1.3; failures go to flow_err */
	if (!f)
		return ERR_OK;
	eng = f->ns->eng;
	eng->cb_pcb = pcb;
	eng->cb_aborted = false;
	if (f->ops.connected)
		f->ops.connected(f->user);
	eng->cb_pcb = NULL;
	return eng->cb_aborted ? ERR_ABRT : ERR_OK;
}

struct ns_flow *ns_flow_connect(struct ns *ns, const struct ns_addr *src, const struct ns_addr *dst,
				const struct ns_flow_ops *ops, void *user)
{
	struct tcp_pcb *pcb;
	struct ns_flow *f;
	ip_addr_t l, r;

	if (!ops || !ops->connected || !dst->port)
		return NULL;
	f = calloc(1, sizeof(*f));
	pcb = f ? tcp_new() : NULL;
	if (!pcb) {
		free(f);
		return NULL;
	}
	addr_set(&l, src->ip);
	addr_set(&r, dst->ip);
	if (tcp_bind(pcb, &l, src->port) != ERR_OK) {
		tcp_close(pcb); /* CLOSED state: freed at once, no callbacks */
		free(f);
		return NULL;
	}
	flow_bind(f, ns, pcb);
	f->user = user;
	f->ops = *ops;
	f->counted = true;
	if (tcp_connect(pcb, &r, dst->port, flow_connected) != ERR_OK) {
		tcp_arg(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_close(pcb);
		free(f);
		return NULL;
	}
	ns->st.tcp_active++;
	return f;
}

void ns_udp_unreachable(struct ns *ns, const struct ns_addr *guest, const struct ns_addr *dst,
			uint8_t code)
{
	uint8_t orig[28];
	struct ns_pkt pkt = {orig, sizeof(orig)};
	uint32_t sum;

	memset(orig, 0, sizeof(orig));
	orig[0] = 0x45;
	orig[3] = sizeof(orig);
	orig[8] = 64;
	orig[9] = 17;
	memcpy(orig + 12, &guest->ip, 4);
	memcpy(orig + 16, &dst->ip, 4);
	sum = csum_fold(csum_partial(orig, 20, 0));
	orig[10] = (uint8_t)(sum >> 8);
	orig[11] = (uint8_t)sum;
	orig[20] = (uint8_t)(guest->port >> 8);
	orig[21] = (uint8_t)guest->port;
	orig[22] = (uint8_t)(dst->port >> 8);
	orig[23] = (uint8_t)dst->port;
	orig[25] = 8;
	ns_icmp_unreachable(ns, &pkt, code);
}
