/* SPDX-License-Identifier: MIT */
/*
 * gateway.c - the gateway's port 53: DNS over UDP and TCP from the guest,
 * served by the core of dns/ (dns_query_in() and the answer callback).
 *
 * How: dns_gateway_new() registers port 53 with the netstack as a gateway
 * service and becomes the struct dns's answer sink. The netstack serves the
 * port on the gateway's IPv4 address and, unless IPv6 is off, on its IPv6
 * ones (PREFIX::1, fe80::1): both families take the same path, limits and
 * cache. A UDP datagram is one query, answered with ns_udp_send() from the
 * gateway address it was sent to, port 53 (over IPv6 the client carries
 * that address, struct dns_client.gw6). A TCP connection is a
 * byte stream (ns_flow_peek/consume): this file collects the 2-byte length
 * into the connection, then the message into a buffer of exactly that
 * length, allocated when the length is known and freed as soon as the
 * message went to dns_query_in() (so an idle connection holds no buffer,
 * and 64 of them cost the table only), and writes each answer back with its
 * length prefix in one ns_flow_write() from the gateway's one output
 * buffer. A zero-length message, a failed allocation, or an answer that
 * does not fit the send space resets the connection; a guest FIN closes it
 * (answers still pending are dropped). Answers find their connection by id
 * (struct dns_client.conn_id): slot = id % DNS_GW_TCP_MAX, so an answer for
 * a closed connection is dropped even when its slot was reused.
 *
 * Limits, against a guest that opens connections and leaves them idle
 * (RFC 7766 section 6.2.3; the bounds are in dns.h): DNS_GW_TCP_MAX
 * connections, DNS_GW_TCP_PER_SRC of them per guest address (IPv4 or IPv6,
 * the whole address). A new
 * connection over a bound takes the slot of the least recently active
 * connection that has no query in flight (@pending == 0), of the same
 * address when that address is at its bound, else of the whole table; the
 * victim is reset and counted (tcp_evicted). Only when every candidate
 * waits for an answer is the new connection reset (tcp_src_refused /
 * tcp_full_refused). A sweep every DNS_GW_SWEEP_MS, armed while any
 * connection is open, resets connections silent for DNS_GW_TCP_IDLE_MS
 * (DNS_GW_TCP_IDLE_FULL_MS while the table is 3/4 full), or for
 * DNS_GW_TCP_BUSY_MS when a query is in flight (an answer that never
 * comes: the query was dropped). "Silent" counts from the guest's last
 * bytes or the last answer sent. The first time the table (or one
 * address's share) is full, one line is logged, rate-limited, and again
 * only after the table has drained to half.
 *
 * Ownership: struct dns_gateway is created by the daemon after dns_new()
 * and ns_new(); it holds the connection table and one output buffer; each
 * connection owns its message buffer. The netstack owns the flows:
 * dns_gateway_free() comes after ns_free(), which released them without
 * callbacks, and before dns_free().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ratelimit.h"
#include "dns/internal.h"
#include "netstack/netstack.h"

#define DNS_GW_PORT	   53
#define DNS_GW_SWEEP_MS	   500
#define DNS_GW_TCP_MSG_BUF (2 + 65535)
#define DNS_GW_LOG_PER_S   1

/**
 * struct dns_gw_conn - one DNS-over-TCP connection
 * @g:		owner
 * @flow:	the netstack's flow; NULL for a free slot
 * @src:	the guest's endpoint
 * @dst:	the gateway address and port it dialled
 * @id:		connection id (conn_id of its queries)
 * @last_ms:	loop time of the guest's last bytes or of the last answer
 * @pending:	queries handed to dns_query_in() and not answered yet
 * @len:	the 2-byte length prefix being collected
 * @buf:	the message being collected (its length), NULL between messages
 * @have:	bytes of prefix and message collected
 */
struct dns_gw_conn {
	struct dns_gateway *g;
	struct ns_flow *flow;
	struct ns_addr src, dst;
	uint64_t id;
	uint64_t last_ms;
	unsigned int pending;
	uint8_t len[2];
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
	bool full_logged;
	struct vg_ratelimit log_rl;
	dns_log_fn log;
	void *log_ctx;
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
	g->dns->st.tcp_active = g->nconn;
	if (g->nconn <= DNS_GW_TCP_MAX / 2)
		g->full_logged = false;
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
	return (size_t)c->len[0] << 8 | c->len[1];
}

/* whether two guest endpoints share their address (either family; ports aside) */
static bool same_addr(const struct ns_addr *a, const struct ns_addr *b)
{
	struct ns_addr x = *b;

	x.port = a->port;
	return ns_addr_eq(a, &x);
}

/**
 * client_of() - the dns client of a query from @src to @dst
 * @proto:	DNS_PROTO_UDP or DNS_PROTO_TCP
 * @src:	guest endpoint
 * @dst:	the gateway address and port it was sent to
 * @conn_id:	the TCP connection's id (0 for UDP)
 *
 * Return: the client, its IPv6 fields set for an IPv6 query
 */
static struct dns_client client_of(int proto, const struct ns_addr *src, const struct ns_addr *dst,
				   uint64_t conn_id)
{
	struct dns_client c = {
	    .proto = proto, .ip = src->ip, .port = src->port, .conn_id = conn_id};

	if (ns_addr_is_v6(src) && ns_addr_is_v6(dst)) {
		c.v6 = true;
		memcpy(c.ip6, src->ip6, 16);
		memcpy(c.gw6, dst->ip6, 16);
	}
	return c;
}

/**
 * conn_take() - collect bytes of the current message from one chunk
 * @c:		connection
 * @p:		bytes
 * @n:		their count
 *
 * Return: bytes used (<= @n), or 0 after the connection was dropped
 *	   (zero-length message, no memory)
 */
static size_t conn_take(struct dns_gw_conn *c, const uint8_t *p, size_t n)
{
	size_t take;

	if (c->have < 2) {
		c->len[c->have++] = p[0];
		if (c->have < 2)
			return 1;
		if (!msg_len(c) || !(c->buf = malloc(msg_len(c)))) {
			conn_drop(c, true); /* zero length: protocol error */
			return 0;
		}
		return 1;
	}
	take = 2 + msg_len(c) - c->have;
	if (take > n)
		take = n;
	memcpy(c->buf + (c->have - 2), p, take);
	c->have += take;
	return take;
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
	c->last_ms = vg_loop_now(g->loop);
	for (;;) {
		struct iovec iov[1];
		int n = 1;
		size_t take;

		if (!ns_flow_peek(c->flow, iov, &n))
			break;
		take = conn_take(c, iov[0].iov_base, iov[0].iov_len);
		if (!take)
			return;
		ns_flow_consume(c->flow, take);
		if (c->have > 2 && c->have == 2 + msg_len(c)) {
			struct dns_client cl = client_of(DNS_PROTO_TCP, &c->src, &c->dst, id);
			uint8_t *msg = c->buf;

			c->buf = NULL;
			c->have = 0;
			c->pending++;
			dns_query_in(g->dns, &cl, msg, msg_len(c));
			free(msg);
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

/**
 * gw_log() - one log line, rate-limited, once per filling of the table
 * @g:		gateway
 * @what:	which bound
 * @src:	the guest address that met it
 */
static void gw_log(struct dns_gateway *g, const char *what, const struct ns_addr *src)
{
	char a[INET6_ADDRSTRLEN], line[200];
	uint64_t dropped;

	if (!g->log || g->full_logged)
		return;
	g->full_logged = true;
	if (!vg_ratelimit_allow(&g->log_rl, DNS_GW_LOG_PER_S, vg_loop_now(g->loop), &dropped))
		return;
	if (ns_addr_is_v6(src))
		inet_ntop(AF_INET6, src->ip6, a, sizeof(a));
	else
		inet_ntop(AF_INET, &src->ip, a, sizeof(a));
	snprintf(line, sizeof(line),
		 "dns: DNS-over-TCP %s (new connection from %s): idle connections are evicted, "
		 "new ones reset while all are busy",
		 what, a);
	g->log(g->log_ctx, true, line);
}

/**
 * oldest_idle() - the least recently active connection without a query in
 * flight, of one guest address or of all
 * @g:		gateway
 * @src:	the address (its port aside), or NULL for any
 *
 * Return: the connection, or NULL when every candidate is busy
 */
static struct dns_gw_conn *oldest_idle(struct dns_gateway *g, const struct ns_addr *src)
{
	struct dns_gw_conn *best = NULL;
	int i;

	for (i = 0; i < DNS_GW_TCP_MAX; i++) {
		struct dns_gw_conn *c = &g->conn[i];

		if (!c->flow || c->pending || (src && !same_addr(&c->src, src)))
			continue;
		if (!best || c->last_ms < best->last_ms)
			best = c;
	}
	return best;
}

/**
 * make_room() - apply the per-address and table bounds for a new connection
 * @g:		gateway
 * @src:	its guest address
 *
 * Return: true when there is a free slot (after evicting one if needed)
 */
static bool make_room(struct dns_gateway *g, const struct ns_addr *src)
{
	struct dns_gw_conn *victim;
	unsigned int i, nsrc = 0;

	for (i = 0; i < DNS_GW_TCP_MAX; i++)
		if (g->conn[i].flow && same_addr(&g->conn[i].src, src))
			nsrc++;
	if (nsrc >= DNS_GW_TCP_PER_SRC) {
		gw_log(g, "share of one guest address is full", src);
		if (!(victim = oldest_idle(g, src))) {
			g->dns->st.tcp_src_refused++;
			return false;
		}
	} else if (g->nconn >= DNS_GW_TCP_MAX) {
		gw_log(g, "table is full", src);
		if (!(victim = oldest_idle(g, NULL))) {
			g->dns->st.tcp_full_refused++;
			return false;
		}
	} else {
		return true;
	}
	g->dns->st.tcp_evicted++;
	conn_drop(victim, true);
	return true;
}

/* the service's tcp_accept: a slot for the connection, or reset it */
static void *conn_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
			 const struct ns_addr *dst)
{
	struct dns_gateway *g = ctx;
	struct dns_gw_conn *c = NULL;
	int i;

	if (!make_room(g, src))
		return NULL;
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
	c->flow = f;
	c->src = *src;
	c->dst = *dst;
	c->last_ms = vg_loop_now(g->loop);
	g->nconn++;
	g->dns->st.tcp_accepted++;
	g->dns->st.tcp_active = g->nconn;
	return c;
}

/* reset connections silent for too long; runs while any is open */
static void sweep(void *arg)
{
	struct dns_gateway *g = arg;
	uint64_t now = vg_loop_now(g->loop);
	uint64_t idle =
	    g->nconn >= DNS_GW_TCP_MAX * 3 / 4 ? DNS_GW_TCP_IDLE_FULL_MS : DNS_GW_TCP_IDLE_MS;
	int i;

	for (i = 0; i < DNS_GW_TCP_MAX; i++) {
		struct dns_gw_conn *c = &g->conn[i];

		if (c->flow && now - c->last_ms >= (c->pending ? DNS_GW_TCP_BUSY_MS : idle)) {
			g->dns->st.tcp_idle_closed++;
			conn_drop(c, true);
		}
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
	struct dns_client c = client_of(DNS_PROTO_UDP, src, dst, 0);

	(void)pkt;
	dns_query_in(g->dns, &c, data, len);
}

/* the dns answer callback: back to the guest over the query's transport */
static void answer(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	struct dns_gateway *g = ctx;

	if (c->proto == DNS_PROTO_TCP) {
		struct dns_gw_conn *conn = &g->conn[c->conn_id % DNS_GW_TCP_MAX];

		if (!conn->flow || conn->id != c->conn_id)
			return;
		if (conn->pending)
			conn->pending--;
		conn->last_ms = vg_loop_now(g->loop);
		if (len > 0xffff)
			return;
		g->out[0] = (uint8_t)(len >> 8);
		g->out[1] = (uint8_t)len;
		memcpy(g->out + 2, msg, len);
		if (ns_flow_sndbuf(conn->flow) < len + 2 ||
		    ns_flow_write(conn->flow, g->out, len + 2) != (long)(len + 2))
			conn_drop(conn, true);
	} else {
		struct ns_addr from = c->v6 ? ns_addr_v6(c->gw6, DNS_GW_PORT)
					    : ns_addr_v4(g->gateway_ip, DNS_GW_PORT);
		struct ns_addr to =
		    c->v6 ? ns_addr_v6(c->ip6, c->port) : ns_addr_v4(c->ip, c->port);

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

void dns_gateway_set_log(struct dns_gateway *g, dns_log_fn fn, void *ctx)
{
	g->log = fn;
	g->log_ctx = ctx;
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
