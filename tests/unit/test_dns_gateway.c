/* SPDX-License-Identifier: MIT */
/*
 * test_dns_gateway.c - the gateway's DNS over TCP against guests that hold
 * connections idle: per-address share, eviction of the least recently active
 * idle connection, no eviction of a connection with a query in flight, the
 * idle timeout (and its shorter form with the table 3/4 full), and framing
 * across segments.
 *
 * How: a real netstack on a socketpair "TAP" (as in test_link.c) and a DNS
 * service with one static record and one upstream that never answers (a
 * bound UDP socket nobody reads), on a loop with a manual clock. The test
 * is a minimal TCP client written into frames: SYN, the SYN-ACK's sequence
 * number, ACK, data; vgate's segments are read back from the socketpair and
 * an RST is matched to its connection by the guest's port. lwIP's own
 * timers run on the real clock and do not matter here.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/dns.h"
#include "common/netutil.h"
#include "netstack/loop.h"
#include "netstack/netstack.h"

#define MAXC 128

static const uint8_t gw_mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd};
static const uint8_t guest_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

/* one guest connection */
struct conn {
	uint32_t ip;
	uint16_t port;
	uint32_t seq;	 /* next sequence number to send */
	uint32_t ack;	 /* next byte expected from vgate */
	bool reset;	 /* vgate sent RST */
	size_t got;	 /* payload bytes from vgate */
	uint8_t rx[512]; /* their first bytes */
};

static struct {
	struct vg_loop *loop;
	struct ns *ns;
	struct dns *dns;
	struct dns_gateway *gw;
	int peer;   /* the guest's end of the "TAP" */
	int silent; /* the upstream that never answers */
	struct conn c[MAXC];
	int n;
	uint16_t next_port;
	int logs;
} R;

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void on_log(void *ctx, bool warn, const char *line)
{
	(void)ctx;
	(void)warn;
	(void)line;
	R.logs++;
}

static void setup(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	struct dns_config dc;
	struct dns_addr addr = {.family = AF_INET};
	struct ns_config c;
	char err[256], up[64];
	int sv[2];

	memset(&R, 0, sizeof(R));
	R.next_port = 40000;
	R.silent = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(bind(R.silent, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(R.silent, (struct sockaddr *)&a, &al), 0);
	dns_config_defaults(&dc);
	snprintf(up, sizeof(up), "127.0.0.1:%u", ntohs(a.sin_port));
	cr_assert_eq(dns_config_add_upstream(&dc, up), 0);
	dc.upstream_timeout_ms = 100000; /* the clock never gets there */
	dc.client_timeout_ms = 100000;

	ns_config_defaults(&c);
	cr_assert_eq(ns_config_check(&c, err, sizeof(err)), 0, "%s", err);
	R.loop = vg_loop_new(dns_timers_needed(&dc) + 1024);
	cr_assert_not_null(R.loop);
	cr_assert_eq(vg_loop_set_clock(R.loop, VG_CLOCK_MANUAL, 1000000), 0);
	R.dns = dns_new(R.loop, &dc, NULL, NULL);
	cr_assert_not_null(R.dns);
	inet_pton(AF_INET, "10.1.2.3", addr.a);
	cr_assert_eq(dns_add_record(R.dns, "static.test", &addr), 0);
	R.ns = ns_new(R.loop, &c);
	cr_assert_not_null(R.ns);
	R.gw = dns_gateway_new(R.dns, R.ns, c.gateway_ip);
	cr_assert_not_null(R.gw);
	dns_gateway_set_log(R.gw, on_log, NULL);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(ns_attach_tap(R.ns, sv[0], err, sizeof(err)), 0, "%s", err);
	R.peer = sv[1];
}

static void teardown(void)
{
	ns_free(R.ns);
	dns_gateway_free(R.gw);
	dns_free(R.dns);
	vg_loop_free(R.loop);
	close(R.peer);
	close(R.silent);
}

/* send one TCP segment from @c to gateway:53 */
static void seg(struct conn *c, uint8_t flags, const void *data, size_t len)
{
	uint8_t f[14 + VG_IP4_HLEN + VG_TCP_HLEN + 1500];
	struct vg_tcp4_seg s = {.src = c->ip,
				.dst = ip("192.168.127.1"),
				.sport = c->port,
				.dport = 53,
				.seq = c->seq,
				.ack = c->ack,
				.flags = flags,
				.window = 0xffff,
				.data = data,
				.len = len};
	size_t n;

	cr_assert_leq(len, 1500);
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	n = 14 + vg_tcp4_segment(f + 14, &s);
	ns_link_input(R.ns, f, n);
	c->seq += (uint32_t)len + ((flags & 0x03) ? 1 : 0);
}

/* read every frame vgate sent to the guest; note RSTs and payload */
static void drain(void)
{
	uint8_t f[2048];
	ssize_t n;

	vg_loop_run_once(R.loop, 0);
	while ((n = recv(R.peer, f, sizeof(f), MSG_DONTWAIT)) > 0) {
		const uint8_t *p = f + 14, *t;
		size_t hl, tot, off;
		uint16_t dport;
		int i;

		if (n < 54 || f[12] != 0x08 || f[13] != 0x00 || p[9] != 6)
			continue;
		hl = (size_t)(p[0] & 15) * 4;
		tot = (size_t)p[2] << 8 | p[3];
		t = p + hl;
		off = (size_t)(t[12] >> 4) * 4;
		dport = (uint16_t)(t[2] << 8 | t[3]);
		for (i = 0; i < R.n; i++) {
			struct conn *c = &R.c[i];
			size_t len = tot - hl - off;

			if (c->port != dport || memcmp(p + 16, &c->ip, 4))
				continue;
			if (t[13] & 0x04)
				c->reset = true;
			if (t[13] & 0x02)
				c->ack = vg_get_be32(t + 4) + 1; /* SYN-ACK */
			if (len && c->got + len <= sizeof(c->rx))
				memcpy(c->rx + c->got, t + off, len);
			c->got += len;
		}
	}
}

/* open a connection from @src: SYN, SYN-ACK, ACK; returns its index */
static int open_from(const char *src)
{
	struct conn *c = &R.c[R.n];
	int i = R.n++;

	cr_assert_lt(R.n, MAXC);
	c->ip = ip(src);
	c->port = R.next_port++;
	c->seq = 1000;
	seg(c, 0x02, NULL, 0);
	drain();
	cr_assert_neq(c->ack, 0, "no SYN-ACK for connection %d", i);
	seg(c, 0x10, NULL, 0);
	drain();
	return i;
}

static void advance(uint64_t ms)
{
	cr_assert_geq(vg_loop_advance(R.loop, ms), 0);
	drain();
}

/* a query for @name, framed, sent in @parts segments */
static void query(int i, const char *name, int parts)
{
	uint8_t q[300] = {0}, *m = q + 2;
	size_t len = 12, done = 0, k;
	const char *s = name;

	m[0] = 0x12;
	m[1] = 0x34;
	m[2] = 0x01; /* RD */
	m[5] = 1;    /* QDCOUNT */
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		m[len++] = (uint8_t)l;
		memcpy(m + len, s, l);
		len += l;
		s += l + (dot ? 1 : 0);
	}
	m[len++] = 0;
	m[len++] = 0;
	m[len++] = 1; /* A */
	m[len++] = 0;
	m[len++] = 1; /* IN */
	q[0] = (uint8_t)(len >> 8);
	q[1] = (uint8_t)len;
	for (k = 0; k < (size_t)parts; k++) {
		size_t n = k + 1 == (size_t)parts ? len + 2 - done : (len + 2) / (size_t)parts;

		seg(&R.c[i], 0x18, q + done, n);
		done += n;
		drain();
	}
}

static struct dns_stats stats(void)
{
	struct dns_stats st;

	dns_get_stats(R.dns, &st);
	return st;
}

static int nreset(void)
{
	int i, n = 0;

	for (i = 0; i < R.n; i++)
		n += R.c[i].reset;
	return n;
}

TestSuite(dns_gateway, .init = setup, .fini = teardown);

Test(dns_gateway, query_across_segments_is_answered)
{
	int i = open_from("192.168.127.2");

	query(i, "static.test", 3);
	cr_assert_gt(R.c[i].got, 14, "an answer came back");
	cr_assert_eq((size_t)(R.c[i].rx[0] << 8 | R.c[i].rx[1]), R.c[i].got - 2, "length prefix");
	cr_assert_eq(R.c[i].rx[2], 0x12);
	cr_assert_eq(R.c[i].rx[3], 0x34);
	cr_assert_not(R.c[i].reset);
	cr_assert_eq(stats().tcp_active, 1);
}

Test(dns_gateway, per_source_share_evicts_that_sources_oldest)
{
	int i, other = open_from("192.168.127.3");

	for (i = 0; i < DNS_GW_TCP_PER_SRC; i++) {
		open_from("192.168.127.2");
		advance(10);
	}
	cr_assert_eq(nreset(), 0);
	cr_assert_eq(stats().tcp_active, DNS_GW_TCP_PER_SRC + 1);
	/* the first connection of .2 is the oldest, but it is active again */
	query(1, "static.test", 1);
	advance(10);
	open_from("192.168.127.2");
	cr_assert(R.c[2].reset, "the least recently active of .2 is evicted");
	cr_assert_eq(nreset(), 1);
	cr_assert_not(R.c[other].reset, "another address keeps its older connection");
	cr_assert_eq(stats().tcp_evicted, 1);
	cr_assert_eq(stats().tcp_active, DNS_GW_TCP_PER_SRC + 1);
	cr_assert_eq(R.logs, 1, "one log line");
}

Test(dns_gateway, full_table_evicts_the_least_recently_active)
{
	char src[32];
	int i;

	for (i = 0; i < DNS_GW_TCP_MAX; i++) {
		snprintf(src, sizeof(src), "192.168.127.%d", 10 + i / DNS_GW_TCP_PER_SRC);
		open_from(src);
		advance(1);
	}
	cr_assert_eq(stats().tcp_active, DNS_GW_TCP_MAX);
	query(0, "static.test", 1); /* 0 is active again: 1 is the oldest now */
	advance(1);
	for (i = 0; i < 3; i++)
		open_from("192.168.127.50");
	cr_assert(R.c[1].reset && R.c[2].reset && R.c[3].reset, "evicted in age order");
	cr_assert_not(R.c[0].reset);
	cr_assert_not(R.c[4].reset);
	cr_assert_eq(nreset(), 3);
	cr_assert_eq(stats().tcp_evicted, 3);
	cr_assert_eq(stats().tcp_accepted, DNS_GW_TCP_MAX + 3);
	cr_assert_eq(stats().tcp_active, DNS_GW_TCP_MAX);
	cr_assert_eq(R.logs, 1, "logged once while the table stays full");
}

Test(dns_gateway, connections_with_a_query_in_flight_are_not_evicted)
{
	int i, n;

	for (i = 0; i < DNS_GW_TCP_PER_SRC; i++) {
		open_from("192.168.127.2");
		query(i, "slow.example.test", 1); /* the upstream never answers */
	}
	cr_assert_eq(stats().inflight, 1);
	n = open_from("192.168.127.2");
	cr_assert(R.c[n].reset, "the new connection is refused");
	cr_assert_eq(nreset(), 1);
	cr_assert_eq(stats().tcp_src_refused, 1);
	cr_assert_eq(stats().tcp_evicted, 0);
	/* another address still gets in */
	n = open_from("192.168.127.3");
	cr_assert_not(R.c[n].reset);
	/* busy ones are closed only after DNS_GW_TCP_BUSY_MS of silence */
	advance(DNS_GW_TCP_IDLE_MS + 1000);
	cr_assert(R.c[n].reset, "the idle one timed out");
	cr_assert_eq(nreset(), 2);
	advance(DNS_GW_TCP_BUSY_MS);
	cr_assert_eq(nreset(), DNS_GW_TCP_PER_SRC + 2);
	cr_assert_eq(stats().tcp_active, 0);
}

Test(dns_gateway, idle_timeout)
{
	int i = open_from("192.168.127.2"), j;

	advance(DNS_GW_TCP_IDLE_MS - 1000);
	cr_assert_not(R.c[i].reset);
	query(i, "static.test", 1); /* traffic restarts the clock */
	advance(DNS_GW_TCP_IDLE_MS - 1000);
	cr_assert_not(R.c[i].reset);
	advance(1500);
	cr_assert(R.c[i].reset, "reset after DNS_GW_TCP_IDLE_MS of silence");
	cr_assert_eq(stats().tcp_idle_closed, 1);
	cr_assert_eq(stats().tcp_active, 0);

	/* 3/4 full: the short timeout */
	for (j = 0; j < DNS_GW_TCP_MAX * 3 / 4; j++) {
		char src[32];

		snprintf(src, sizeof(src), "192.168.127.%d", 10 + j / DNS_GW_TCP_PER_SRC);
		open_from(src);
	}
	advance(DNS_GW_TCP_IDLE_FULL_MS + 500);
	cr_assert_eq(nreset(), 1 + DNS_GW_TCP_MAX * 3 / 4);
	cr_assert_eq(stats().tcp_idle_closed, 1 + DNS_GW_TCP_MAX * 3 / 4);
}
