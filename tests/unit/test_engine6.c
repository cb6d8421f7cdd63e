/* SPDX-License-Identifier: MIT */
/*
 * test_engine6.c - the engine's IPv6 path below the link: guest IPv6
 * packets handed to ns_engine_input6() (as the IPv6 link does) reach the
 * foreign registrant with the destination the guest dialled (UDP, TCP SYNs
 * and accepted flows), extension headers are skipped within bounds or
 * dropped and counted, fragments are reassembled, and what goes back to
 * the guest (SYN-ACK, RST, UDP replies, ICMPv6 errors, active opens)
 * leaves through ns->ip6_out with valid checksums; a gateway service (DNS)
 * is served on PREFIX::1 and fe80::1 over UDP and TCP, answers from the
 * address asked, ignores groups. ns->ip6_out is replaced
 * by a capture here, so no link or Neighbour Discovery is needed.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "netstack/internal.h"

#define OUT_MAX 16

struct seen {
	int syns, accepts, udps;
	struct ns_addr src, dst;
	uint8_t data[4096];
	size_t len;
	enum ns_syn_verdict verdict;
	struct ns_flow *flow;
};

static struct vg_loop *loop;
static struct ns *ns;
static struct seen seen;
static uint8_t out[OUT_MAX][2048];
static size_t out_len[OUT_MAX];
static int nout;

static uint8_t guest[16], remote[16];

static int capture6(struct ns *n, const uint8_t next_hop[16], const struct iovec *iov, int iovcnt)
{
	size_t off = 0;
	int i;

	(void)n;
	cr_assert_eq(memcmp(next_hop, guest, 16), 0, "IPv6 packet not for the guest");
	if (nout >= OUT_MAX)
		return -1;
	for (i = 0; i < iovcnt; i++) {
		if (off + iov[i].iov_len > sizeof(out[0]))
			return -1;
		memcpy(out[nout] + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	out_len[nout++] = off;
	return 0;
}

static enum ns_syn_verdict on_syn(void *ctx, uint64_t token, const struct ns_addr *src,
				  const struct ns_addr *dst)
{
	(void)ctx;
	(void)token;
	seen.syns++;
	seen.src = *src;
	seen.dst = *dst;
	return seen.verdict;
}

static void on_closed(void *user, enum ns_close_reason r)
{
	(void)user;
	(void)r;
	seen.flow = NULL;
}

static void *on_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
		       const struct ns_addr *dst)
{
	(void)ctx;
	seen.accepts++;
	seen.src = *src;
	seen.dst = *dst;
	seen.flow = f;
	return &seen;
}

static const struct ns_pkt *last_pkt;

static void on_udp(void *ctx, const struct ns_addr *src, const struct ns_addr *dst,
		   const uint8_t *data, size_t len, const struct ns_pkt *pkt)
{
	(void)ctx;
	seen.udps++;
	seen.src = *src;
	seen.dst = *dst;
	seen.len = len < sizeof(seen.data) ? len : sizeof(seen.data);
	memcpy(seen.data, data, seen.len);
	last_pkt = pkt;
	if (len == 3 && !memcmp(data, "icm", 3))
		ns_icmp_unreachable(ns, pkt, 3);
}

static void setup(void)
{
	struct ns_handler h = {
	    .tcp_syn = on_syn,
	    .tcp_accept = on_accept,
	    .udp_recv = on_udp,
	    .ops = {.closed = on_closed},
	};
	struct ns_config c;
	char err[256];

	memset(&seen, 0, sizeof(seen));
	nout = 0;
	inet_pton(AF_INET6, "fd00:7e57::2", guest);
	inet_pton(AF_INET6, "2001:db8::80", remote);
	ns_config_defaults(&c);
	cr_assert_eq(ns_config_check(&c, err, sizeof(err)), 0, "%s", err);
	loop = vg_loop_new(256);
	cr_assert_not_null(loop);
	ns = ns_new(loop, &c);
	cr_assert_not_null(ns);
	ns->ip6_out = capture6;
	cr_assert_eq(ns_register_foreign(ns, &h), 0);
}

static void teardown(void)
{
	ns_free(ns);
	vg_loop_free(loop);
}

TestSuite(engine6, .init = setup, .fini = teardown);

/* an IPv6 header from the guest to @dst, next header @nh, payload @plen */
static void ip6_hdr(uint8_t *p, const uint8_t *dst, uint8_t nh, size_t plen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[4] = (uint8_t)(plen >> 8);
	p[5] = (uint8_t)plen;
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, guest, 16);
	memcpy(p + 24, dst, 16);
}

/* the UDP or TCP checksum field of the upper layer at @off, set */
static void l4_sum(uint8_t *p, size_t off, size_t len, uint8_t proto)
{
	size_t field = off + (proto == 6 ? 16 : 6);
	uint16_t s;

	p[field] = p[field + 1] = 0;
	s = csum_fold(
	    csum_partial(p + off, len - off, csum_ip6_pseudo(p, (uint32_t)(len - off), proto)));
	if (proto == 17 && !s)
		s = 0xffff;
	p[field] = (uint8_t)(s >> 8);
	p[field + 1] = (uint8_t)s;
}

/* an upper layer's checksum over @p (as received) is right */
static bool l4_ok(const uint8_t *p, size_t len, size_t off, uint8_t proto)
{
	return csum_fold(csum_partial(p + off, len - off,
				      csum_ip6_pseudo(p, (uint32_t)(len - off), proto))) == 0;
}

/* UDP guest:5000 -> remote:53 with @n payload bytes after @ext extension bytes */
static size_t udp6(uint8_t *p, const uint8_t *ext, size_t next, uint8_t first_nh, size_t n)
{
	size_t off = 40 + next, len = off + 8 + n;

	ip6_hdr(p, remote, next ? first_nh : 17, len - 40);
	if (next)
		memcpy(p + 40, ext, next);
	p[off] = 0x13;
	p[off + 1] = 0x88;
	p[off + 2] = 0;
	p[off + 3] = 53;
	p[off + 4] = (uint8_t)((8 + n) >> 8);
	p[off + 5] = (uint8_t)(8 + n);
	for (size_t i = 0; i < n; i++)
		p[off + 8 + i] = (uint8_t)('a' + i % 26);
	l4_sum(p, off, len, 17);
	return len;
}

Test(engine6, udp_reaches_registrant_with_its_destination)
{
	uint8_t p[128];
	size_t len = udp6(p, NULL, 0, 0, 5);

	ns_engine_input6(ns, p, len, false);
	cr_assert_eq(seen.udps, 1);
	cr_assert(ns_addr_is_v6(&seen.src) && ns_addr_is_v6(&seen.dst));
	cr_assert_eq(memcmp(seen.src.ip6, guest, 16), 0);
	cr_assert_eq(memcmp(seen.dst.ip6, remote, 16), 0);
	cr_assert_eq(seen.src.port, 5000);
	cr_assert_eq(seen.dst.port, 53);
	cr_assert_eq(seen.src.ip, 0);
	cr_assert_eq(seen.len, 5);
	cr_assert_eq(memcmp(seen.data, "abcde", 5), 0);
}

Test(engine6, udp_bad_or_zero_checksum_dropped)
{
	uint8_t p[128];
	size_t len = udp6(p, NULL, 0, 0, 5);
	struct ns_stats st;

	p[len - 1] ^= 1;
	ns_engine_input6(ns, p, len, false);
	len = udp6(p, NULL, 0, 0, 5);
	p[46] = p[47] = 0; /* no checksum: invalid over IPv6 */
	ns_engine_input6(ns, p, len, false);
	ns_get_stats(ns, &st);
	cr_assert_eq(seen.udps, 0);
	cr_assert_eq(st.drop_bad_ip, 2);
}

Test(engine6, extension_headers_skipped_within_bounds)
{
	/* hop-by-hop (8 bytes, PadN) then destination options (16 bytes) */
	uint8_t ext[24] = {60, 0, 1, 4, 0, 0, 0, 0, 17, 1, 1, 12};
	uint8_t p[256];
	size_t len = udp6(p, ext, sizeof(ext), 0, 7);

	ns_engine_input6(ns, p, len, false);
	cr_assert_eq(seen.udps, 1);
	cr_assert_eq(seen.len, 7);
	cr_assert_eq(seen.dst.port, 53);
}

Test(engine6, bad_extension_headers_dropped_and_counted)
{
	uint8_t ext[16] = {0, 0, 1, 4}; /* hop-by-hop, then hop-by-hop again */
	uint8_t esp[16] = {0};
	uint8_t p[256];
	struct ns_stats st;
	size_t len;

	ext[8] = 17;
	len = udp6(p, ext, sizeof(ext), 0, 3);
	ns_engine_input6(ns, p, len, false);
	/* a destination-options header whose length runs past the packet */
	len = udp6(p, ext, 8, 60, 3);
	p[41] = 40;
	ns_engine_input6(ns, p, len, false);
	/* ESP */
	len = udp6(p, esp, sizeof(esp), 50, 3);
	ns_engine_input6(ns, p, len, false);
	/* ICMPv6 to another address is not forwarded */
	ip6_hdr(p, remote, 58, 8);
	memset(p + 40, 0, 8);
	p[40] = 128;
	ns_engine_input6(ns, p, 48, false);
	ns_get_stats(ns, &st);
	cr_assert_eq(seen.udps, 0);
	cr_assert_eq(st.drop_ip6_ext, 3);
	cr_assert_eq(st.drop_proto, 1);
}

/* the UDP datagram @dgram (40-byte header + UDP) as two fragments */
static void send_fragments(const uint8_t *dgram, size_t len, uint32_t id, bool swap)
{
	size_t split = 40 + 8 + 1000; /* first fragment: UDP header + 1000 bytes */
	uint8_t f1[1200], f2[2600];
	size_t l1 = 48 + (split - 40), l2 = 48 + (len - split);

	cr_assert(len > split && l2 <= sizeof(f2));
	ip6_hdr(f1, remote, 44, l1 - 40);
	f1[40] = 17;
	f1[41] = 0;
	f1[42] = 0;
	f1[43] = 1; /* offset 0, more */
	memcpy(f1 + 44, &id, 4);
	memcpy(f1 + 48, dgram + 40, split - 40);
	ip6_hdr(f2, remote, 44, l2 - 40);
	f2[40] = 17;
	f2[42] = (uint8_t)(((split - 40) >> 8) & 0xff);
	f2[43] = (uint8_t)((split - 40) & 0xf8); /* offset 1008, last */
	memcpy(f2 + 44, &id, 4);
	memcpy(f2 + 48, dgram + split, len - split);
	if (swap) {
		ns_engine_input6(ns, f2, l2, false);
		ns_engine_input6(ns, f1, l1, false);
	} else {
		ns_engine_input6(ns, f1, l1, false);
		ns_engine_input6(ns, f2, l2, false);
	}
}

Test(engine6, udp_fragments_reassembled)
{
	uint8_t d[2100];
	size_t len = udp6(d, NULL, 0, 0, 2000);
	struct ns_stats st;

	send_fragments(d, len, 0x11223344, false);
	ns_get_stats(ns, &st);
	cr_assert_eq(seen.udps, 1, "frag %lu reass %lu bad %lu ext %lu",
		     (unsigned long)st.drop_frag, (unsigned long)st.ip_reassembled,
		     (unsigned long)st.drop_bad_ip, (unsigned long)st.drop_ip6_ext);
	cr_assert_eq(seen.len, 2000);
	cr_assert_eq(memcmp(seen.data, d + 48, 2000), 0);
	send_fragments(d, len, 0x55667788, true); /* out of order */
	cr_assert_eq(seen.udps, 2);
	cr_assert_eq(seen.len, 2000);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.ip_reassembled, 2);
}

/* a fragment of the datagram @d: its bytes [@from, @to) past the IPv6 header */
static size_t frag6(uint8_t *f, const uint8_t *d, size_t from, size_t to, bool more, uint32_t id)
{
	size_t l = 48 + (to - from);

	ip6_hdr(f, remote, 44, l - 40);
	f[40] = 17;
	f[41] = 0;
	f[42] = (uint8_t)(from >> 8);
	f[43] = (uint8_t)((from & 0xf8) | (more ? 1 : 0));
	memcpy(f + 44, &id, 4);
	memcpy(f + 48, d + 40 + from, to - from);
	return l;
}

/*
 * Fragments of an incomplete datagram stay queued until the missing one
 * comes. Every fragment but the first is found only through the helper
 * ip6_reass() writes over the one before (netstack/input.c,
 * INPUT6_REASS_SHIFT), which ASan's leak check (scripts/test) reads only
 * when it is aligned: the test ends with two fragments of a second datagram
 * still queued, which it took for a leak before.
 */
Test(engine6, udp_fragments_held_until_whole)
{
	uint8_t d[2100], f[1200];
	size_t len = udp6(d, NULL, 0, 0, 2000);
	struct ns_stats st;

	cr_assert_eq(len - 40, 2008);
	ns_engine_input6(ns, f, frag6(f, d, 1504, 2008, false, 1), false);
	ns_engine_input6(ns, f, frag6(f, d, 504, 1504, true, 1), false);
	ns_engine_input6(ns, f, frag6(f, d, 0, 504, true, 2), false); /* another datagram */
	ns_engine_input6(ns, f, frag6(f, d, 504, 1504, true, 2), false);
	cr_assert_eq(seen.udps, 0);
	ns_engine_input6(ns, f, frag6(f, d, 0, 504, true, 1), false);
	ns_get_stats(ns, &st);
	cr_assert_eq(seen.udps, 1);
	cr_assert_eq(st.ip_reassembled, 1);
	cr_assert_eq(st.drop_frag, 0);
	cr_assert_eq(seen.len, 2000);
	cr_assert_eq(memcmp(seen.data, d + 48, 2000), 0);
}

Test(engine6, atomic_fragment_is_its_payload)
{
	uint8_t frag[8] = {17, 0, 0, 0, 1, 2, 3, 4};
	uint8_t p[128];
	size_t len = udp6(p, frag, sizeof(frag), 44, 4);

	ns_engine_input6(ns, p, len, false);
	cr_assert_eq(seen.udps, 1);
	cr_assert_eq(seen.len, 4);
}

/* the fuzzer's find (CI, stop 18): an atomic fragment header whose next
 * header is another fragment header, ending the packet; ASan read past it */
Test(engine6, fragment_header_after_atomic_fragment_dropped)
{
	uint8_t p[48];
	struct ns_stats before, after;

	ip6_hdr(p, remote, 44, 8);
	memset(p + 40, 0, 8);
	p[40] = 44; /* atomic (offset 0, M 0), then "another fragment header" */
	ns_get_stats(ns, &before);
	ns_engine_input6(ns, p, sizeof(p), false);
	ns_get_stats(ns, &after);
	cr_assert_eq(seen.udps, 0);
	cr_assert_eq(after.drop_ip6_ext, before.drop_ip6_ext + 1);
}

/* a TCP segment guest:40000 -> remote:443 */
/* TCP guest:40000 -> @dst:@dport */
static size_t tcp6_to(uint8_t *p, const uint8_t *dst, uint16_t dport, uint8_t flags, uint32_t seq,
		      uint32_t ack, const char *data)
{
	size_t n = data ? strlen(data) : 0, len = 40 + 20 + n;

	ip6_hdr(p, dst, 6, 20 + n);
	memset(p + 40, 0, 20);
	p[40] = 40000 >> 8;
	p[41] = 40000 & 0xff;
	p[42] = (uint8_t)(dport >> 8);
	p[43] = (uint8_t)dport;
	for (int i = 0; i < 4; i++) {
		p[44 + i] = (uint8_t)(seq >> (24 - 8 * i));
		p[48 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	p[52] = 5 << 4;
	p[53] = flags;
	p[54] = 0xff;
	p[55] = 0xff;
	memcpy(p + 60, data ? data : "", n);
	l4_sum(p, 40, len, 6);
	return len;
}

/* TCP guest:40000 -> remote:443 */
static size_t tcp6(uint8_t *p, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
	return tcp6_to(p, remote, 443, flags, seq, ack, data);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

Test(engine6, tcp_syn_accepted_handshake_and_data)
{
	uint8_t p[128];
	const uint8_t *o;
	uint32_t iss;
	size_t len = tcp6(p, 0x02, 1000, 0, NULL);
	long w;

	seen.verdict = NS_SYN_ACCEPT;
	ns_engine_input6(ns, p, len, false);
	cr_assert_eq(seen.syns, 1);
	cr_assert(ns_addr_is_v6(&seen.dst));
	cr_assert_eq(memcmp(seen.dst.ip6, remote, 16), 0);
	cr_assert_eq(seen.dst.port, 443);
	cr_assert_eq(nout, 1, "a SYN-ACK");
	o = out[0];
	cr_assert_eq(o[0] >> 4, 6);
	cr_assert_eq(o[6], 6);
	cr_assert_eq(memcmp(o + 8, remote, 16), 0, "from the address the guest dialled");
	cr_assert_eq(memcmp(o + 24, guest, 16), 0);
	cr_assert_eq(o[53] & 0x12, 0x12);
	cr_assert_eq(be32(o + 48), 1001);
	cr_assert(l4_ok(o, out_len[0], 40, 6));
	iss = be32(o + 44);
	len = tcp6(p, 0x10, 1001, iss + 1, NULL);
	ns_engine_input6(ns, p, len, false);
	cr_assert_eq(seen.accepts, 1);
	cr_assert_not_null(seen.flow);
	cr_assert_eq(memcmp(seen.src.ip6, guest, 16), 0);
	cr_assert_eq(seen.src.port, 40000);
	len = tcp6(p, 0x18, 1001, iss + 1, "hello");
	ns_engine_input6(ns, p, len, false);
	cr_assert_eq(ns_flow_pending(seen.flow), 5);
	nout = 0;
	w = ns_flow_write(seen.flow, "world!", 6);
	cr_assert_eq(w, 6);
	ns_flow_close(seen.flow);
	cr_assert_geq(nout, 1);
	cr_assert_eq(out_len[0], 40 + 20 + 6);
	cr_assert_eq(memcmp(out[0] + 60, "world!", 6), 0);
	cr_assert(l4_ok(out[0], out_len[0], 40, 6));
}

Test(engine6, tcp_syn_reset_answers_rst)
{
	uint8_t p[128];
	size_t len = tcp6(p, 0x02, 7, 0, NULL);
	struct ns_stats st;

	seen.verdict = NS_SYN_RESET;
	ns_engine_input6(ns, p, len, false);
	cr_assert_eq(nout, 1);
	cr_assert_eq(out[0][53] & 0x04, 0x04, "RST");
	cr_assert_eq(be32(out[0] + 48), 8);
	cr_assert_eq(memcmp(out[0] + 8, remote, 16), 0);
	cr_assert(l4_ok(out[0], out_len[0], 40, 6));
	ns_get_stats(ns, &st);
	cr_assert_eq(st.tcp_syn_reset, 1);
}

Test(engine6, udp_send_and_icmp6_unreachable)
{
	struct ns_addr from = ns_addr_v6(remote, 53), to = ns_addr_v6(guest, 5000);
	struct ns_addr v4 = ns_addr_v4(htonl(0x7f000001), 1);
	uint8_t p[128];
	size_t len;

	cr_assert_eq(ns_udp_send(ns, &from, &to, "reply", 5), 0);
	cr_assert_eq(nout, 1);
	cr_assert_eq(out[0][6], 17);
	cr_assert_eq(memcmp(out[0] + 8, remote, 16), 0);
	cr_assert_eq(out_len[0], 40 + 8 + 5);
	cr_assert(l4_ok(out[0], out_len[0], 40, 17));
	cr_assert_eq(ns_udp_send(ns, &v4, &to, "x", 1), -EAFNOSUPPORT);
	/* the registrant answers "icm" with port unreachable */
	len = udp6(p, NULL, 0, 0, 3);
	memcpy(p + 48, "icm", 3);
	l4_sum(p, 40, len, 17);
	ns_engine_input6(ns, p, len, false);
	cr_assert_eq(seen.udps, 1);
	cr_assert_eq(nout, 2);
	cr_assert_eq(out[1][6], 58);
	cr_assert_eq(out[1][40], 1, "destination unreachable");
	cr_assert_eq(out[1][41], 4, "port unreachable");
	cr_assert_eq(memcmp(out[1] + 8, remote, 16), 0);
	cr_assert_eq(memcmp(out[1] + 48, p, len), 0, "the datagram quoted");
	cr_assert(l4_ok(out[1], out_len[1], 40, 58));
	/* learnt later (a host socket's ECONNREFUSED): a synthesised quote */
	ns_udp_unreachable(ns, &to, &from, 13);
	cr_assert_eq(nout, 3);
	cr_assert_eq(out[2][41], 1, "administratively prohibited");
	cr_assert_eq(out_len[2], 40 + 8 + 48);
	cr_assert(l4_ok(out[2], out_len[2], 40, 58));
}

static int connected;

static void on_connected(void *user)
{
	(void)user;
	connected++;
}

Test(engine6, active_open_to_the_guest)
{
	static const struct ns_flow_ops ops = {.connected = on_connected, .closed = on_closed};
	struct ns_addr src = ns_addr_v6(remote, 0), dst = ns_addr_v6(guest, 22);
	struct ns_addr v4 = ns_addr_v4(htonl(0xc0a87f02), 22);
	struct ns_flow *f;

	f = ns_flow_connect(ns, &src, &dst, &ops, NULL);
	cr_assert_not_null(f);
	cr_assert_eq(nout, 1);
	cr_assert_eq(out[0][53], 0x02, "SYN");
	cr_assert_eq(out[0][43], 22);
	cr_assert(l4_ok(out[0], out_len[0], 40, 6));
	ns_flow_reset(f);
	cr_assert_null(ns_flow_connect(ns, &src, &v4, &ops, NULL));
}

/* a gateway service (no tcp_syn, as DNS): its UDP on both gateway addresses */
Test(engine6, service_udp_on_the_gateway_addresses)
{
	struct ns_handler h = {
	    .udp_recv = on_udp, .tcp_accept = on_accept, .ops = {.closed = on_closed}};
	uint8_t gw[16], ll[16], grp[16], p[128];
	struct ns_stats st;
	size_t len;
	const uint8_t *dsts[2];

	inet_pton(AF_INET6, "fd00:7661:7465::1", gw);
	inet_pton(AF_INET6, "fe80::1", ll);
	inet_pton(AF_INET6, "ff02::1", grp);
	dsts[0] = gw;
	dsts[1] = ll;
	cr_assert_eq(ns_register_service(ns, 53, &h), 0);
	for (int i = 0; i < 2; i++) {
		struct ns_addr from, to;

		memset(&seen, 0, sizeof(seen));
		len = udp6(p, NULL, 0, 0, 5);
		memcpy(p + 24, dsts[i], 16);
		l4_sum(p, 40, len, 17);
		ns_engine_input6(ns, p, len, true);
		cr_assert_eq(seen.udps, 1, "datagram %d reaches the service", i);
		cr_assert(ns_addr_is_v6(&seen.src) && ns_addr_is_v6(&seen.dst));
		cr_assert_eq(memcmp(seen.src.ip6, guest, 16), 0);
		cr_assert_eq(memcmp(seen.dst.ip6, dsts[i], 16), 0);
		cr_assert_eq(seen.dst.port, 53);
		cr_assert_eq(seen.src.port, 5000);
		cr_assert_eq(memcmp(seen.data, "abcde", 5), 0);
		/* the answer, from the address asked */
		nout = 0;
		from = seen.dst;
		to = seen.src;
		cr_assert_eq(ns_udp_send(ns, &from, &to, "reply", 5), 0);
		cr_assert_eq(nout, 1);
		cr_assert_eq(memcmp(out[0] + 8, dsts[i], 16), 0);
		cr_assert(l4_ok(out[0], out_len[0], 40, 17));
	}
	/* to a group: not the service's */
	memset(&seen, 0, sizeof(seen));
	nout = 0;
	len = udp6(p, NULL, 0, 0, 5);
	memcpy(p + 24, grp, 16);
	l4_sum(p, 40, len, 17);
	ns_engine_input6(ns, p, len, true);
	cr_assert_eq(seen.udps, 0);
	cr_assert_eq(nout, 0);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.drop_ip6_dst, 1);
}

/* ... and its TCP: lwIP's listener on [::]:53 completes the handshake */
Test(engine6, service_tcp_on_the_gateway_address)
{
	struct ns_handler h = {
	    .udp_recv = on_udp, .tcp_accept = on_accept, .ops = {.closed = on_closed}};
	uint8_t gw[16], p[128];
	uint32_t iss;
	size_t len;

	inet_pton(AF_INET6, "fd00:7661:7465::1", gw);
	cr_assert_eq(ns_register_service(ns, 53, &h), 0);
	len = tcp6_to(p, gw, 53, 0x02, 1000, 0, NULL);
	ns_engine_input6(ns, p, len, true);
	cr_assert_eq(seen.syns, 0, "not the foreign registrant's");
	cr_assert_eq(nout, 1, "a SYN-ACK");
	cr_assert_eq(out[0][53] & 0x12, 0x12);
	cr_assert_eq(memcmp(out[0] + 8, gw, 16), 0);
	cr_assert(l4_ok(out[0], out_len[0], 40, 6));
	iss = be32(out[0] + 44);
	len = tcp6_to(p, gw, 53, 0x10, 1001, iss + 1, NULL);
	ns_engine_input6(ns, p, len, true);
	cr_assert_eq(seen.accepts, 1);
	cr_assert_eq(memcmp(seen.dst.ip6, gw, 16), 0);
	cr_assert_eq(seen.dst.port, 53);
	len = tcp6_to(p, gw, 53, 0x18, 1001, iss + 1, "query");
	ns_engine_input6(ns, p, len, true);
	cr_assert_eq(ns_flow_pending(seen.flow), 5);
	/* a port nobody serves: RST */
	nout = 0;
	len = tcp6_to(p, gw, 54, 0x02, 5000, 0, NULL);
	ns_engine_input6(ns, p, len, true);
	cr_assert_eq(nout, 1);
	cr_assert_eq(out[0][53] & 0x04, 0x04, "RST");
	ns_flow_reset(seen.flow);
}

/*
 * A SYN whose options end in an option kind, with no data behind it: lwIP
 * reads that option's length byte past the header (netstack/tcpguard.c,
 * ns_tcp_seg_copy()). The packet is 64 bytes, so no allocator rounding hides
 * the read: under ASan (scripts/test's sanitizer pass) this test fails
 * without the slack byte. Both the gateway's own service (ip6_input()) and
 * a forwarded flow (syn.c) still answer with a SYN-ACK, the option ignored.
 */
Test(engine6, tcp_option_kind_in_last_header_byte)
{
	static const uint8_t opts[4] = {1, 1, 1, 2}; /* NOP NOP NOP, MSS's kind */
	struct ns_handler h = {
	    .udp_recv = on_udp, .tcp_accept = on_accept, .ops = {.closed = on_closed}};
	uint8_t gw[16], p[128];
	size_t len;

	inet_pton(AF_INET6, "fd00:7661:7465::1", gw);
	cr_assert_eq(ns_register_service(ns, 53, &h), 0);
	seen.verdict = NS_SYN_ACCEPT;
	for (int fwd = 0; fwd < 2; fwd++) {
		len = tcp6_to(p, fwd ? remote : gw, fwd ? 443 : 53, 0x02, 1000, 0, NULL);
		p[5] = 24; /* payload length: the 24-byte header */
		p[52] = 6 << 4;
		memcpy(p + 60, opts, sizeof(opts));
		len += sizeof(opts);
		l4_sum(p, 40, len, 6);
		nout = 0;
		ns_engine_input6(ns, p, len, !fwd);
		cr_assert_eq(nout, 1, "a SYN-ACK (%s)", fwd ? "forwarded" : "service");
		cr_assert_eq(out[0][53] & 0x12, 0x12);
		cr_assert(l4_ok(out[0], out_len[0], 40, 6));
	}
	cr_assert_eq(seen.syns, 1, "the forwarded SYN reached the registrant");
}

static size_t fake_room;

static size_t room_fake(const struct ns *n)
{
	(void)n;
	return fake_room;
}

/*
 * Held output (netstack/port.c): while the guest's queue has no room, data
 * for the guest waits in lwIP instead of being dropped at the queue, the
 * guest's own data is still acknowledged (an ACK alone), and once there is
 * room the end of a loop turn sends the data.
 */
Test(engine6, data_waits_for_room_in_the_guest_queue)
{
	uint8_t p[128];
	struct ns_stats st;
	uint32_t iss;
	size_t len = tcp6(p, 0x02, 1000, 0, NULL);
	int i;

	seen.verdict = NS_SYN_ACCEPT;
	ns_engine_input6(ns, p, len, false);
	cr_assert_eq(nout, 1, "a SYN-ACK");
	iss = be32(out[0] + 44);
	len = tcp6(p, 0x10, 1001, iss + 1, NULL);
	ns_engine_input6(ns, p, len, false);
	cr_assert_not_null(seen.flow);
	ns->tx_room = room_fake;
	fake_room = 0;
	nout = 0;
	cr_assert_eq(ns_flow_write(seen.flow, "held back", 9), 9);
	cr_assert_eq(nout, 0, "sent into a full queue");
	ns_get_stats(ns, &st);
	cr_assert_eq(st.tcp_tx_held, 1);
	cr_assert_eq(st.drop_tx_queue, 0);
	/* the guest's data: acknowledged by an ACK without data */
	len = tcp6(p, 0x18, 1001, iss + 1, "hello");
	ns_engine_input6(ns, p, len, false);
	for (i = 0; i < 100 && !nout; i++)
		vg_loop_run_once(loop, 2); /* the stretch ACK's wait */
	cr_assert_eq(nout, 1, "no ACK for the guest's data");
	cr_assert_eq(out_len[0], 40 + 20, "the ACK carries no data");
	cr_assert_eq(be32(out[0] + 48), 1006);
	cr_assert(l4_ok(out[0], out_len[0], 40, 6));
	/* room again: the data goes at the end of the next turn */
	fake_room = SIZE_MAX;
	nout = 0;
	vg_loop_run_once(loop, 0);
	cr_assert_eq(nout, 1);
	cr_assert_eq(out_len[0], 40 + 20 + 9);
	cr_assert_eq(be32(out[0] + 44), iss + 1);
	cr_assert_eq(memcmp(out[0] + 60, "held back", 9), 0);
	cr_assert(l4_ok(out[0], out_len[0], 40, 6));
}
