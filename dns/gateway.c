/* SPDX-License-Identifier: MIT */
/*
 * gateway.c - the gateway's port 53: DNS over UDP and TCP from the guest,
 * served by the core of dns/ (dns_query_in() and the answer callback).
 *
 * How: dns_gateway_new() registers port 53 with the netstack as a gateway
 * service and becomes the struct dns's answer sink. A UDP datagram is one
 * query, answered with ns_udp_send() from gateway:53. A TCP connection is a
 * byte stream (ns_flow_peek/consume): this file collects the 2-byte length
 * and the message into the connection's buffer (2 + 65535 bytes, allocated
 * on its first data), hands each whole message to dns_query_in() and writes
 * each answer back with its length prefix in one ns_flow_write(). A
 * zero-length message, a missing buffer, or an answer that does not fit the
 * send space resets the connection; a guest FIN closes it (answers still
 * pending are dropped). Answers find their connection by id (struct
 * dns_client.conn_id): slot = id % DNS_GW_TCP_MAX, so an answer for a closed
 * connection is dropped even when its slot was reused.
 *
 * Limits: DNS_GW_TCP_MAX connections at once (more are reset at accept),
 * and a connection without a byte from the guest for DNS_GW_TCP_IDLE_MS is
 * reset by a sweep that runs every DNS_GW_SWEEP_MS while any is open.
 *
 * Ownership: struct dns_gateway is created by the daemon after dns_new()
 * and ns_new(); it holds the connection table and one output buffer. The
 * netstack owns the flows: dns_gateway_free() comes after ns_free(), which
 * released them without callbacks, and before dns_free().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/internal.h"
#include "netstack/netstack.h"

#define DNS_GW_PORT	   53
#define DNS_GW_TCP_MAX	   64
#define DNS_GW_TCP_IDLE_MS 30000
#define DNS_GW_SWEEP_MS	   2000
#define DNS_GW_TCP_MSG_BUF (2 + 65535)

/**
 * struct dns_gw_conn - one DNS-over-TCP connection
 * @g:		owner
 * @flow:	the netstack's flow; NULL for a free slot
 * @src:	the guest's endpoint
 * @id:		connection id (conn_id of its queries)
 * @last_ms:	loop time of the guest's last bytes
 * @buf:	length prefix and message being collected (DNS_GW_TCP_MSG_BUF)
 * @have:	bytes in @buf
 */
struct dns_gw_conn {
	struct dns_gateway *g;
	struct ns_flow *flow;
	struct ns_addr src;
	uint64_t id;
	uint64_t last_ms;
	uint8_t *buf;
	size_t have;
};

struct dns_gateway {
	struct dns *dns;
	struct ns *ns;
	struct vg_loop *loop;
	uint32_t gateway_ip;
	struct vg_timer sweep;
	uint64_t seq;
	unsigned int nconn;
	struct dns_gw_conn conn[DNS_GW_TCP_MAX];
	uint8_t out[DNS_GW_TCP_MSG_BUF];
};

/**
 * conn_drop() - forget a connection, and end its flow unless it is gone
 * @c:		connection
 * @reset:	RST instead of FIN
 */
static void conn_drop(struct dns_gw_conn *c, bool reset)
{
	struct dns_gateway *g = c->g;
	struct ns_flow *f = c->flow;

	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->g = g;
	g->nconn--;
	if (!g->nconn)
		vg_timer_stop(g->loop, &g->sweep);
	if (!f)
		return;
	if (reset)
		ns_flow_reset(f);
	else
		ns_flow_close(f);
}

static size_t msg_len(const struct dns_gw_conn *c)
{
	/* called once buf holds the 2 length bytes */
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	return (size_t)c->buf[0] << 8 | c->buf[1];
}

/**
 * conn_recv() - ns_flow_ops.recv: collect framed messages from the stream
 * @user:	connection
 */
static void conn_recv(void *user)
{
	struct dns_gw_conn *c = user;
	struct dns_gateway *g = c->g;
	uint64_t id = c->id;

	if (!ns_flow_pending(c->flow)) {
		if (ns_flow_eof(c->flow))
			conn_drop(c, false); /* guest closed: pending answers are dropped */
		return;
	}
	if (!c->buf && !(c->buf = malloc(DNS_GW_TCP_MSG_BUF))) {
		conn_drop(c, true);
		return;
	}
	c->last_ms = vg_loop_now(g->loop);
	for (;;) {
		struct iovec iov[1];
		int n = 1;
		size_t want, take;

		if (!ns_flow_peek(c->flow, iov, &n))
			break;
		/* collect the 2-byte length, then the message */
		want = c->have < 2 ? 2 : 2 + msg_len(c);
		take = want - c->have < iov[0].iov_len ? want - c->have : iov[0].iov_len;
		memcpy(c->buf + c->have, iov[0].iov_base, take);
		c->have += take;
		ns_flow_consume(c->flow, take);
		if (c->have == 2 && !msg_len(c)) {
			conn_drop(c, true); /* zero-length message: protocol error */
			return;
		}
		if (c->have > 2 && c->have == 2 + msg_len(c)) {
			struct dns_client cl = {.proto = DNS_PROTO_TCP,
						.ip = c->src.ip,
						.port = c->src.port,
						.conn_id = id};

			c->have = 0;
			dns_query_in(g->dns, &cl, c->buf + 2, msg_len(c));
			/* a synchronous answer may have failed and dropped us */
			if (c->id != id || !c->flow)
				return;
		}
	}
	if (ns_flow_eof(c->flow))
		conn_drop(c, false);
}

/* ns_flow_ops.closed: the guest reset it, or the netstack aborted it */
static void conn_closed(void *user, enum ns_close_reason reason)
{
	struct dns_gw_conn *c = user;

	(void)reason;
	c->flow = NULL;
	conn_drop(c, false);
}

/* the service's tcp_accept: a slot for the connection, or reset it */
static void *conn_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
			 const struct ns_addr *dst)
{
	struct dns_gateway *g = ctx;
	struct dns_gw_conn *c = NULL;
	int i;

	(void)dst;
	/* the idle sweep must run while a connection is open */
	if (!g->nconn && vg_timer_start(g->loop, &g->sweep, DNS_GW_SWEEP_MS) < 0)
		return NULL;
	for (i = 0; i < DNS_GW_TCP_MAX && !c; i++) {
		uint64_t id = ++g->seq;

		if (!g->conn[id % DNS_GW_TCP_MAX].flow) {
			c = &g->conn[id % DNS_GW_TCP_MAX];
			c->id = id;
		}
	}
	if (!c) {
		if (!g->nconn)
			vg_timer_stop(g->loop, &g->sweep);
		return NULL;
	}
	c->flow = f;
	c->src = *src;
	c->last_ms = vg_loop_now(g->loop);
	g->nconn++;
	return c;
}

/* reset connections idle for DNS_GW_TCP_IDLE_MS; runs while any is open */
static void sweep(void *arg)
{
	struct dns_gateway *g = arg;
	uint64_t now = vg_loop_now(g->loop);
	int i;

	for (i = 0; i < DNS_GW_TCP_MAX; i++) {
		struct dns_gw_conn *c = &g->conn[i];

		if (c->flow && now - c->last_ms > DNS_GW_TCP_IDLE_MS)
			conn_drop(c, true);
	}
	if (!g->nconn || vg_timer_start(g->loop, &g->sweep, DNS_GW_SWEEP_MS) == 0)
		return;
	/* no timer for the sweep: keep the idle bound by closing them all */
	for (i = 0; i < DNS_GW_TCP_MAX; i++)
		if (g->conn[i].flow)
			conn_drop(&g->conn[i], true);
}

/* the service's udp_recv: one datagram, one query */
static void udp_query(void *ctx, const struct ns_addr *src, const struct ns_addr *dst,
		      const uint8_t *data, size_t len, const struct ns_pkt *pkt)
{
	struct dns_gateway *g = ctx;
	struct dns_client c = {.proto = DNS_PROTO_UDP, .ip = src->ip, .port = src->port};

	(void)dst;
	(void)pkt;
	dns_query_in(g->dns, &c, data, len);
}

/* the dns answer callback: back to the guest over the query's transport */
static void answer(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	struct dns_gateway *g = ctx;

	if (c->proto == DNS_PROTO_TCP) {
		struct dns_gw_conn *conn = &g->conn[c->conn_id % DNS_GW_TCP_MAX];

		if (!conn->flow || conn->id != c->conn_id || len > 0xffff)
			return;
		g->out[0] = (uint8_t)(len >> 8);
		g->out[1] = (uint8_t)len;
		memcpy(g->out + 2, msg, len);
		if (ns_flow_sndbuf(conn->flow) < len + 2 ||
		    ns_flow_write(conn->flow, g->out, len + 2) != (long)(len + 2))
			conn_drop(conn, true);
	} else {
		struct ns_addr from = {g->gateway_ip, DNS_GW_PORT}, to = {c->ip, c->port};

		ns_udp_send(g->ns, &from, &to, msg, len);
	}
}

struct dns_gateway *dns_gateway_new(struct dns *d, struct ns *ns, uint32_t gateway_ip)
{
	struct dns_gateway *g = calloc(1, sizeof(*g));
	struct ns_handler h = {
	    .udp_recv = udp_query,
	    .tcp_accept = conn_accept,
	    .ops = {.recv = conn_recv, .closed = conn_closed},
	};
	int i, r;

	if (!g)
		return NULL;
	g->dns = d;
	g->ns = ns;
	g->loop = d->loop;
	g->gateway_ip = gateway_ip;
	vg_timer_init(&g->sweep, sweep, g);
	for (i = 0; i < DNS_GW_TCP_MAX; i++)
		g->conn[i].g = g;
	h.ctx = g;
	r = ns_register_service(ns, DNS_GW_PORT, &h);
	if (r < 0) {
		free(g);
		errno = -r;
		return NULL;
	}
	d->answer = answer;
	d->answer_ctx = g;
	return g;
}

void dns_gateway_free(struct dns_gateway *g)
{
	int i;

	if (!g)
		return;
	vg_timer_stop(g->loop, &g->sweep);
	for (i = 0; i < DNS_GW_TCP_MAX; i++)
		free(g->conn[i].buf);
	if (g->dns->answer_ctx == g) {
		g->dns->answer = NULL;
		g->dns->answer_ctx = NULL;
	}
	free(g);
}
