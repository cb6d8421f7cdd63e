/* SPDX-License-Identifier: MIT */
/*
 * test_echo.c - ICMP and ICMPv6 echo to non-gateway addresses (issue 14,
 * item 7, the netstack's half): a guest echo request handed to the engine
 * (as the link does) reaches the foreign registrant's echo hook with the
 * guest's address and identifier, the destination, the sequence number
 * and the payload; a bad checksum, a short message or another ICMP type is
 * dropped and counted; without a hook nothing is delivered; and
 * ns_echo_reply() builds the reply the guest expects (from the address it
 * pinged, its identifier, valid checksums), refusing mixed families and
 * replies above one IP datagram, and fragmenting replies above the MTU
 * (each fragment within it, the last one's offset covering the rest).
 * ns->ip_out and ns->ip6_out are captures here.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "common/netutil.h"
#include "netstack/internal.h"

static struct vg_loop *loop;
static struct ns *ns;
static uint8_t out[2048];
static size_t out_len, out_max;
static int nout, echoes;
static struct ns_addr seen_src, seen_dst;
static uint16_t seen_seq;
static uint8_t seen_data[1500];
static size_t seen_len;
static uint8_t guest6[16], remote6[16];
static uint32_t guest4, remote4;

static void capture(const struct iovec *iov, int iovcnt)
{
	size_t off = 0;

	for (int i = 0; i < iovcnt; i++) {
		cr_assert_leq(off + iov[i].iov_len, sizeof(out));
		memcpy(out + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	out_len = off;
	if (off > out_max)
		out_max = off;
	nout++;
}

static int capture4(struct ns *n, uint32_t next_hop, const struct iovec *iov, int iovcnt)
{
	(void)n;
	cr_assert_eq(next_hop, guest4, "IPv4 packet not for the guest");
	capture(iov, iovcnt);
	return 0;
}

static int capture6(struct ns *n, const uint8_t next_hop[16], const struct iovec *iov, int iovcnt)
{
	(void)n;
	cr_assert_eq(memcmp(next_hop, guest6, 16), 0, "IPv6 packet not for the guest");
	capture(iov, iovcnt);
	return 0;
}

static void on_echo(void *ctx, const struct ns_addr *src, const struct ns_addr *dst, uint16_t seq,
		    const uint8_t *data, size_t len, const struct ns_pkt *pkt)
{
	(void)ctx;
	(void)pkt;
	echoes++;
	seen_src = *src;
	seen_dst = *dst;
	seen_seq = seq;
	seen_len = len < sizeof(seen_data) ? len : sizeof(seen_data);
	memcpy(seen_data, data, seen_len);
}

static void on_closed(void *user, enum ns_close_reason r)
{
	(void)user;
	(void)r;
}

static void *on_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
		       const struct ns_addr *dst)
{
	(void)ctx;
	(void)f;
	(void)src;
	(void)dst;
	return NULL;
}

static void start(bool hook)
{
	struct ns_handler h = {
	    .tcp_accept = on_accept,
	    .echo = hook ? on_echo : NULL,
	    .ops = {.closed = on_closed},
	};
	struct ns_config c;
	char err[256];

	nout = echoes = 0;
	inet_pton(AF_INET6, "fd00:7e57::2", guest6);
	inet_pton(AF_INET6, "2001:db8::80", remote6);
	inet_pton(AF_INET, "192.168.127.2", &guest4);
	inet_pton(AF_INET, "192.0.2.80", &remote4);
	ns_config_defaults(&c);
	cr_assert_eq(ns_config_check(&c, err, sizeof(err)), 0, "%s", err);
	loop = vg_loop_new(256);
	cr_assert_not_null(loop);
	ns = ns_new(loop, &c);
	cr_assert_not_null(ns);
	ns->ip_out = capture4;
	ns->ip6_out = capture6;
	cr_assert_eq(ns_register_foreign(ns, &h), 0);
}

static void setup(void)
{
	start(true);
}

static void teardown(void)
{
	ns_free(ns);
	vg_loop_free(loop);
}

TestSuite(echo, .init = setup, .fini = teardown);

/* an echo request guest -> remote (id 0x1234, seq 7) with @n payload
 * bytes, IPv4 or IPv6, its checksum set; returns its length */
static size_t request(uint8_t *p, bool v6, size_t n)
{
	size_t h = v6 ? 40 : 20, len = h + 8 + n;
	uint8_t *m = p + h;
	uint16_t s;

	if (v6) {
		memset(p, 0, 40);
		p[0] = 0x60;
		p[4] = (uint8_t)((8 + n) >> 8);
		p[5] = (uint8_t)(8 + n);
		p[6] = 58;
		p[7] = 64;
		memcpy(p + 8, guest6, 16);
		memcpy(p + 24, remote6, 16);
	} else {
		vg_ip4_header(p, (uint16_t)len, 1, guest4, remote4);
	}
	m[0] = v6 ? 128 : 8;
	m[1] = 0;
	m[2] = m[3] = 0;
	m[4] = 0x12;
	m[5] = 0x34;
	m[6] = 0;
	m[7] = 7;
	for (size_t i = 0; i < n; i++)
		m[8 + i] = (uint8_t)('a' + i % 26);
	s = csum_fold(csum_partial(m, 8 + n, v6 ? csum_ip6_pseudo(p, (uint32_t)(8 + n), 58) : 0));
	m[2] = (uint8_t)(s >> 8);
	m[3] = (uint8_t)s;
	return len;
}

static void input(const uint8_t *p, size_t len, bool v6)
{
	if (v6)
		ns_engine_input6(ns, p, len, false);
	else
		ns_engine_input(ns, p, len, false);
}

static void request_delivered(bool v6)
{
	uint8_t p[128];
	size_t len = request(p, v6, 10);

	input(p, len, v6);
	cr_assert_eq(echoes, 1);
	cr_assert_eq(ns_addr_is_v6(&seen_src), v6);
	if (v6) {
		cr_assert_eq(memcmp(seen_src.ip6, guest6, 16), 0);
		cr_assert_eq(memcmp(seen_dst.ip6, remote6, 16), 0);
	} else {
		cr_assert_eq(seen_src.ip, guest4);
		cr_assert_eq(seen_dst.ip, remote4);
	}
	cr_assert_eq(seen_src.port, 0x1234, "the identifier is the source's port");
	cr_assert_eq(seen_dst.port, 0);
	cr_assert_eq(seen_seq, 7);
	cr_assert_eq(seen_len, 10);
	cr_assert_eq(memcmp(seen_data, "abcdefghij", 10), 0);
	cr_assert_eq(nout, 0, "the netstack itself answers nothing");
}

Test(echo, ipv4_request_reaches_the_hook)
{
	request_delivered(false);
}

Test(echo, ipv6_request_reaches_the_hook)
{
	request_delivered(true);
}

static void bad_dropped(bool v6)
{
	size_t h = v6 ? 40 : 20;
	struct ns_stats st;
	uint8_t p[128];
	size_t len;

	len = request(p, v6, 10);
	p[len - 1] ^= 1; /* checksum */
	input(p, len, v6);
	len = request(p, v6, 10);
	p[h] = v6 ? 129 : 0; /* an echo reply, not a request */
	input(p, len, v6);
	len = request(p, v6, 0);
	input(p, h + 4, v6); /* short: 4 bytes of ICMP */
	ns_get_stats(ns, &st);
	cr_assert_eq(echoes, 0);
	cr_assert_eq(st.drop_bad_ip, 2, "bad checksum and short message");
	cr_assert_eq(st.drop_proto, 1, "another ICMP type");
}

Test(echo, ipv4_bad_requests_dropped_and_counted)
{
	bad_dropped(false);
}

Test(echo, ipv6_bad_requests_dropped_and_counted)
{
	bad_dropped(true);
}

Test(echo, without_a_hook_nothing_is_delivered)
{
	struct ns_stats st;
	uint8_t p[128];

	teardown();
	start(false);
	input(p, request(p, false, 4), false);
	input(p, request(p, true, 4), true);
	ns_get_stats(ns, &st);
	cr_assert_eq(echoes, 0);
	cr_assert_eq(st.drop_proto, 2);
}

static void reply_built(bool v6)
{
	struct ns_addr from = v6 ? ns_addr_v6(remote6, 0) : ns_addr_v4(remote4, 0);
	struct ns_addr to = v6 ? ns_addr_v6(guest6, 0x1234) : ns_addr_v4(guest4, 0x1234);
	size_t h = v6 ? 40 : 20;
	const uint8_t *m = out + h;

	cr_assert_eq(ns_echo_reply(ns, &from, &to, 9, "pong!", 5), 0);
	cr_assert_eq(nout, 1);
	cr_assert_eq(out_len, h + 8 + 5);
	if (v6) {
		cr_assert_eq(out[6], 58);
		cr_assert_eq(memcmp(out + 8, remote6, 16), 0, "from the address pinged");
		cr_assert_eq(memcmp(out + 24, guest6, 16), 0);
		cr_assert_eq(csum_fold(csum_partial(m, 13, csum_ip6_pseudo(out, 13, 58))), 0);
	} else {
		uint32_t a;

		cr_assert_eq(out[9], 1);
		memcpy(&a, out + 12, 4);
		cr_assert_eq(a, remote4, "from the address pinged");
		cr_assert_eq(csum_fold(csum_partial(out, 20, 0)), 0, "IPv4 header checksum");
		cr_assert_eq(csum_fold(csum_partial(m, 13, 0)), 0);
	}
	cr_assert_eq(m[0], v6 ? 129 : 0, "echo reply");
	cr_assert_eq(m[4] << 8 | m[5], 0x1234, "the guest's identifier");
	cr_assert_eq(m[6] << 8 | m[7], 9);
	cr_assert_eq(memcmp(m + 8, "pong!", 5), 0);
}

Test(echo, ipv4_reply_built)
{
	reply_built(false);
}

Test(echo, ipv6_reply_built)
{
	reply_built(true);
}

Test(echo, reply_refuses_mixed_families_and_oversize)
{
	struct ns_addr from4 = ns_addr_v4(remote4, 0), to6 = ns_addr_v6(guest6, 1);
	struct ns_addr to4 = ns_addr_v4(guest4, 1);
	static uint8_t big[65536];

	cr_assert_eq(ns_echo_reply(ns, &from4, &to6, 1, "x", 1), -EAFNOSUPPORT);
	cr_assert_eq(ns_echo_reply(ns, &from4, &to4, 1, big, 65535 - 28 + 1), -EMSGSIZE);
	cr_assert_eq(ns_echo_reply(ns, &from4, &to4, 1, big, 1500 - 28), 0, "exactly the MTU");
	cr_assert_eq(nout, 1);
	cr_assert_eq(out[6] & 0x3f, 0, "not fragmented");
}

/* a reply above the MTU goes as fragments within it: 3008 ICMP bytes */
static void reply_fragmented(bool v6)
{
	struct ns_addr from = v6 ? ns_addr_v6(remote6, 0) : ns_addr_v4(remote4, 0);
	struct ns_addr to = v6 ? ns_addr_v6(guest6, 7) : ns_addr_v4(guest4, 7);
	static uint8_t big[3000];
	size_t off;

	out_max = 0;
	cr_assert_eq(ns_echo_reply(ns, &from, &to, 1, big, sizeof(big)), 0);
	cr_assert_eq(nout, 3, "1480 + 1480 + 48 (IPv4), 1448 + 1448 + 112 (IPv6)");
	cr_assert_leq(out_max, 1500);
	if (v6) {
		cr_assert_eq(out[6], 44, "a fragment header");
		off = (size_t)(out[42] << 8 | (out[43] & 0xf8));
		cr_assert_eq(off + out_len - 48, 3008, "the last fragment ends the message");
		cr_assert_eq(out[43] & 1, 0, "no more fragments");
	} else {
		off = (size_t)((out[6] & 0x1f) << 8 | out[7]) * 8;
		cr_assert_eq(off + out_len - 20, 3008, "the last fragment ends the message");
		cr_assert_eq(out[6] & 0x20, 0, "MF clear on the last");
		cr_assert_eq(csum_fold(csum_partial(out, 20, 0)), 0, "IPv4 header checksum");
	}
}

Test(echo, ipv4_reply_above_mtu_fragmented)
{
	reply_fragmented(false);
}

Test(echo, ipv6_reply_above_mtu_fragmented)
{
	reply_fragmented(true);
}
