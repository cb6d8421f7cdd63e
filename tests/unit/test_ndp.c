/* SPDX-License-Identifier: MIT */
/*
 * test_ndp.c - netstack/ndp.c without a link: Neighbour Solicitations for
 * the gateway's addresses answered, the guest's DAD probes left alone and
 * the gateway's defended, advertisements learnt, Router Solicitations
 * answered with a Router Advertisement whose options are parsed back
 * (prefix, MTU, RDNSS, DNSSL), the RA schedule, and every malformed message
 * (hop limit, code, checksum, length, options) a counted drop; also
 * frame.c's IPv6 extension-header walk.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "ip6_frames.h"
#include "netstack/frame.h"
#include "netstack/ndp.h"

static struct ndp nd;

static void setup(void)
{
	struct ndp_config c;

	memset(&c, 0, sizeof(c));
	memcpy(c.gw_mac, t6_gw_mac, 6);
	t6_addr("fd00:7661:7465::", c.prefix);
	t6_addr("fe80::1", c.gw_ll);
	t6_addr("fd00:7661:7465::1", c.gw);
	t6_addr("fd00:7661:7465::254", c.host);
	c.mtu = 1500;
	c.search = "vgate.internal example.test";
	ndp_init(&nd, &c);
}

/* an IPv6 packet carrying the ICMPv6 message @body, checksum filled */
static size_t icmp6(uint8_t *p, const char *src, const char *dst, uint8_t hop, const uint8_t *body,
		    size_t blen)
{
	return t6_packet(p, src, dst, IP6_NH_ICMP6, hop, body, blen, 2);
}

/* the checks every frame vgate sends must pass; returns the ICMPv6 message */
static const uint8_t *check_frame(const struct ndp_frame *f, const uint8_t *dst_mac,
				  const char *src, const char *dst)
{
	const uint8_t *ip = f->data + ETH_HLEN_;
	uint8_t a[16];
	size_t blen;

	cr_assert_geq(f->len, (size_t)ETH_HLEN_ + IP6_HLEN + 8);
	cr_assert_eq(memcmp(f->data, dst_mac, 6), 0);
	cr_assert_eq(memcmp(f->data + 6, t6_gw_mac, 6), 0);
	cr_assert_eq(f->data[12], 0x86);
	cr_assert_eq(f->data[13], 0xdd);
	cr_assert_eq(ip[0] >> 4, 6);
	cr_assert_eq(ip[6], IP6_NH_ICMP6);
	cr_assert_eq(ip[7], 255, "ND messages go out with hop limit 255");
	blen = (size_t)ip[4] << 8 | ip[5];
	cr_assert_eq(f->len, (size_t)ETH_HLEN_ + IP6_HLEN + blen);
	t6_addr(src, a);
	cr_assert_eq(memcmp(ip + 8, a, 16), 0, "source");
	t6_addr(dst, a);
	cr_assert_eq(memcmp(ip + 24, a, 16), 0, "destination");
	cr_assert_eq(csum_fold(csum_partial(ip + IP6_HLEN, blen,
					    csum_ip6_pseudo(ip, (uint32_t)blen, IP6_NH_ICMP6))),
		     0, "ICMPv6 checksum");
	return ip + IP6_HLEN;
}

TestSuite(ndp, .init = setup);

Test(ndp, ns_for_the_gateway_is_answered_and_the_sender_learnt)
{
	uint8_t b[64], p[128], a[16];
	struct ndp_frame f;
	const uint8_t *m;
	size_t n = icmp6(p, "fe80::2", "ff02::1:ff00:1", 255, b, t6_ns_body(b, "fe80::1", true));

	cr_assert_eq(ndp_input(&nd, 1000, t6_guest_mac, p, n, IP6_HLEN, &f), 1);
	m = check_frame(&f, t6_guest_mac, "fe80::1", "fe80::2");
	cr_assert_eq(m[0], ND_NA);
	cr_assert_eq(m[4], 0x80 | 0x40 | 0x20, "router, solicited, override");
	t6_addr("fe80::1", a);
	cr_assert_eq(memcmp(m + 8, a, 16), 0);
	cr_assert_eq(m[24], 2, "target link-layer address option");
	cr_assert_eq(memcmp(m + 26, t6_gw_mac, 6), 0);
	t6_addr("fe80::2", a);
	cr_assert_not_null(ndp_lookup(&nd, a));
	cr_assert_eq(memcmp(ndp_lookup(&nd, a), t6_guest_mac, 6), 0);
	cr_assert_eq(nd.st.ns_in, 1);
	cr_assert_eq(nd.st.na_out, 1);

	/* the global address, unicast (a reachability probe) */
	n = icmp6(p, "fd00:7661:7465::5", "fd00:7661:7465::1", 255, b,
		  t6_ns_body(b, "fd00:7661:7465::1", false));
	cr_assert_eq(ndp_input(&nd, 1000, t6_guest_mac, p, n, IP6_HLEN, &f), 1);
	m = check_frame(&f, t6_guest_mac, "fd00:7661:7465::1", "fd00:7661:7465::5");
	cr_assert_eq(m[4], 0x80 | 0x40 | 0x20);

	/* the host alias is no router */
	n = icmp6(p, "fe80::2", "ff02::1:ff00:254", 255, b,
		  t6_ns_body(b, "fd00:7661:7465::254", true));
	cr_assert_eq(ndp_input(&nd, 1000, t6_guest_mac, p, n, IP6_HLEN, &f), 1);
	m = check_frame(&f, t6_guest_mac, "fd00:7661:7465::254", "fe80::2");
	cr_assert_eq(m[4], 0x40 | 0x20);
}

Test(ndp, dad_for_the_guest_is_not_answered_dad_for_the_gateway_is_defended)
{
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	uint8_t b[64], p[128];
	struct ndp_frame f;
	const uint8_t *m;
	size_t n;

	n = icmp6(p, "::", "ff02::1:ffab:cdef", 255, b,
		  t6_ns_body(b, "fd00:7661:7465:0:1:2:3ab:cdef", false));
	cr_assert_eq(ndp_input(&nd, 1000, t6_guest_mac, p, n, IP6_HLEN, &f), 0);
	n = icmp6(p, "::", "ff02::1:ffab:cdef", 255, b, t6_ns_body(b, "fe80::1:2:3ab:cdef", false));
	cr_assert_eq(ndp_input(&nd, 1000, t6_guest_mac, p, n, IP6_HLEN, &f), 0);
	cr_assert_eq(nd.st.dad_seen, 2);
	cr_assert_eq(nd.st.na_out, 0);

	n = icmp6(p, "::", "ff02::1:ff00:1", 255, b, t6_ns_body(b, "fe80::1", false));
	cr_assert_eq(ndp_input(&nd, 1000, t6_guest_mac, p, n, IP6_HLEN, &f), 1);
	m = check_frame(&f, all_nodes_mac, "fe80::1", "ff02::1");
	cr_assert_eq(m[0], ND_NA);
	cr_assert_eq(m[4], 0x80 | 0x20, "unsolicited: router, override");
	cr_assert_eq(nd.st.dad_defended, 1);

	/* a DAD probe must go to the solicited-node group, without SLLA */
	n = icmp6(p, "::", "fe80::1", 255, b, t6_ns_body(b, "fe80::1", false));
	cr_assert_eq(ndp_input(&nd, 1000, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	n = icmp6(p, "::", "ff02::1:ff00:1", 255, b, t6_ns_body(b, "fe80::1", true));
	cr_assert_eq(ndp_input(&nd, 1000, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(nd.st.bad, 2);
}

Test(ndp, malformed_messages_are_counted_drops)
{
	uint8_t b[64], p[128];
	struct ndp_frame f;
	size_t n, bl;
	uint64_t bad = 0;

	bl = t6_ns_body(b, "fe80::1", true);
	/* hop limit not 255: it came through a router */
	n = icmp6(p, "fe80::2", "ff02::1:ff00:1", 64, b, bl);
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(nd.st.bad, ++bad);
	/* bad checksum */
	n = icmp6(p, "fe80::2", "ff02::1:ff00:1", 255, b, bl);
	p[IP6_HLEN + 2] ^= 0x55;
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(nd.st.bad, ++bad);
	/* code not 0 */
	b[1] = 1;
	n = icmp6(p, "fe80::2", "ff02::1:ff00:1", 255, b, bl);
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(nd.st.bad, ++bad);
	b[1] = 0;
	/* shorter than an NS */
	n = icmp6(p, "fe80::2", "ff02::1:ff00:1", 255, b, 20);
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(nd.st.bad, ++bad);
	/* an option of length 0 (would loop forever) */
	b[25] = 0;
	n = icmp6(p, "fe80::2", "ff02::1:ff00:1", 255, b, bl);
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(nd.st.bad, ++bad);
	/* an option running past the message */
	b[25] = 2;
	n = icmp6(p, "fe80::2", "ff02::1:ff00:1", 255, b, bl);
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(nd.st.bad, ++bad);
	b[25] = 1;
	/* a multicast target */
	t6_addr("ff02::1", b + 8);
	n = icmp6(p, "fe80::2", "ff02::1:ff00:1", 255, b, bl);
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(nd.st.bad, ++bad);
	/* a solicited NA to a group */
	memset(b, 0, 24);
	b[0] = ND_NA;
	b[4] = 0x40;
	t6_addr("fe80::2", b + 8);
	n = icmp6(p, "fe80::2", "ff02::1", 255, b, 24);
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(nd.st.bad, ++bad);
	/* not ND at all, and a message offset past the packet */
	b[0] = ICMP6_ECHO_REQ;
	n = icmp6(p, "fe80::2", "fe80::1", 255, b, 24);
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, IP6_HLEN, &f), -1);
	cr_assert_eq(ndp_input(&nd, 1, t6_guest_mac, p, n, n + 8, &f), -1);
	bad += 2;
	cr_assert_eq(nd.st.bad, bad);
	cr_assert_eq(nd.st.na_out, 0);
	cr_assert_eq(nd.st.ns_in, 0);
}

Test(ndp, advertisements_are_learnt_and_conflicts_ignored)
{
	uint8_t b[64], p[128], a[16];
	struct ndp_frame f;
	size_t n;
	static const uint8_t other_mac[6] = {0x02, 0, 0, 0, 0, 9};

	memset(b, 0, 32);
	b[0] = ND_NA;
	b[4] = 0x40 | 0x20;
	t6_addr("fd00:7661:7465::77", b + 8);
	b[24] = 2;
	b[25] = 1;
	memcpy(b + 26, other_mac, 6);
	n = icmp6(p, "fd00:7661:7465::77", "fe80::1", 255, b, 32);
	cr_assert_eq(ndp_input(&nd, 5, t6_guest_mac, p, n, IP6_HLEN, &f), 0);
	t6_addr("fd00:7661:7465::77", a);
	cr_assert_not_null(ndp_lookup(&nd, a));
	cr_assert_eq(memcmp(ndp_lookup(&nd, a), other_mac, 6), 0, "the TLLA option wins");

	t6_addr("fe80::1", b + 8);
	b[4] = 0x20;
	n = icmp6(p, "fe80::2", "ff02::1", 255, b, 24);
	cr_assert_eq(ndp_input(&nd, 5, t6_guest_mac, p, n, IP6_HLEN, &f), 0);
	cr_assert_eq(nd.st.conflict, 1);
	t6_addr("fe80::1", a);
	cr_assert_null(ndp_lookup(&nd, a), "a gateway address is never learnt");
}

/* find option @type in an RA's options; NULL if absent */
static const uint8_t *ra_opt(const uint8_t *m, size_t mlen, uint8_t type)
{
	size_t at = 16;

	while (at + 2 <= mlen && m[at + 1]) {
		if (m[at] == type)
			return m + at;
		at += (size_t)m[at + 1] * 8;
	}
	return NULL;
}

Test(ndp, rs_gets_an_ra_with_prefix_mtu_rdnss_dnssl)
{
	static const uint8_t dnssl[] = "\x05vgate\x08internal\x00\x07"
				       "example\x04test\x00";
	uint8_t b[16], p[128], a[16];
	struct ndp_frame f;
	const uint8_t *m, *o;
	size_t n, mlen;

	memset(b, 0, 16);
	b[0] = ND_RS;
	b[8] = 1;
	b[9] = 1;
	memcpy(b + 10, t6_guest_mac, 6);
	n = icmp6(p, "fe80::2", "ff02::2", 255, b, 16);
	cr_assert_eq(ndp_input(&nd, 10000, t6_guest_mac, p, n, IP6_HLEN, &f), 1);
	m = check_frame(&f, t6_guest_mac, "fe80::1", "fe80::2");
	mlen = f.len - ETH_HLEN_ - IP6_HLEN;
	cr_assert_eq(m[0], ND_RA);
	cr_assert_eq(m[4], 64, "current hop limit");
	cr_assert_eq(m[5], 0x40, "O flag only");
	cr_assert_eq(m[6] << 8 | m[7], NDP_ROUTER_LIFE_S);
	o = ra_opt(m, mlen, 1);
	cr_assert_not_null(o);
	cr_assert_eq(memcmp(o + 2, t6_gw_mac, 6), 0);
	o = ra_opt(m, mlen, 5);
	cr_assert_not_null(o);
	cr_assert_eq((o[4] << 24 | o[5] << 16 | o[6] << 8 | o[7]), 1500);
	o = ra_opt(m, mlen, 3);
	cr_assert_not_null(o);
	cr_assert_eq(o[1], 4);
	cr_assert_eq(o[2], 64);
	cr_assert_eq(o[3], 0xc0, "on-link and autonomous");
	t6_addr("fd00:7661:7465::", a);
	cr_assert_eq(memcmp(o + 16, a, 16), 0);
	o = ra_opt(m, mlen, 25);
	cr_assert_not_null(o);
	cr_assert_eq(o[1], 3);
	t6_addr("fd00:7661:7465::1", a);
	cr_assert_eq(memcmp(o + 8, a, 16), 0);
	o = ra_opt(m, mlen, 31);
	cr_assert_not_null(o);
	cr_assert_eq(o[1] * 8 % 8, 0);
	cr_assert_geq((size_t)o[1] * 8, 8 + sizeof(dnssl) - 1);
	cr_assert_eq(memcmp(o + 8, dnssl, sizeof(dnssl) - 1), 0);
	for (size_t i = 8 + sizeof(dnssl) - 1; i < (size_t)o[1] * 8; i++)
		cr_assert_eq(o[i], 0, "DNSSL padding");

	/* another one at once is not answered; after NDP_RS_MIN_MS it is */
	cr_assert_eq(ndp_input(&nd, 10000 + NDP_RS_MIN_MS - 1, t6_guest_mac, p, n, IP6_HLEN, &f),
		     0);
	cr_assert_eq(nd.st.rs_limited, 1);
	ndp_set_managed(&nd, true);
	cr_assert_eq(ndp_input(&nd, 10000 + NDP_RS_MIN_MS, t6_guest_mac, p, n, IP6_HLEN, &f), 1);
	m = check_frame(&f, t6_guest_mac, "fe80::1", "fe80::2");
	cr_assert_eq(m[5], 0x80 | 0x40, "M flag with IA_NA served");
	cr_assert_eq(nd.st.ra_out, 2);
	cr_assert_eq(nd.st.rs_in, 3);

	/* from :: the answer goes to all-nodes */
	n = icmp6(p, "::", "ff02::2", 255, b, 8);
	cr_assert_eq(ndp_input(&nd, 20000, t6_guest_mac, p, n, IP6_HLEN, &f), 1);
	check_frame(&f, (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1}, "fe80::1", "ff02::1");
}

Test(ndp, ra_without_search_list_has_no_dnssl)
{
	struct ndp_frame f;
	const uint8_t *m;

	nd.search[0] = 0;
	ndp_ra(&nd, NULL, NULL, &f);
	m = check_frame(&f, (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1}, "fe80::1", "ff02::1");
	cr_assert_null(ra_opt(m, f.len - ETH_HLEN_ - IP6_HLEN, 31));
	cr_assert_not_null(ra_opt(m, f.len - ETH_HLEN_ - IP6_HLEN, 25));
}

Test(ndp, ra_schedule_is_bounded_and_jittered)
{
	uint64_t d, first = 0;
	bool differ = false;
	int i;

	cr_assert_eq(ndp_ra_next_ms(&nd, 0), NDP_RA_FIRST_MS);
	for (i = 1; i < NDP_RA_INITIAL; i++)
		cr_assert_eq(ndp_ra_next_ms(&nd, (uint64_t)i * 16000), NDP_RA_INITIAL_MS);
	for (i = 0; i < 1000; i++) {
		d = ndp_ra_next_ms(&nd, 100000 + (uint64_t)i * 400000);
		cr_assert_geq(d, NDP_RA_MIN_MS);
		cr_assert_leq(d, NDP_RA_MAX_MS);
		if (!first)
			first = d;
		else if (d != first)
			differ = true;
	}
	cr_assert(differ, "jittered");
}

Test(ndp, plausible_sources)
{
	static const char *const good[] = {"fe80::2", "fe80::1:2", "fd00:7661:7465::2",
					   "fd00:7661:7465:0:a:b:c:d"};
	static const char *const bad[] = {"::",
					  "::1",
					  "ff02::1",
					  "fe80::1",
					  "fe80::",
					  "fd00:7661:7465::1",
					  "fd00:7661:7465::254",
					  "fd00:7661:7465::",
					  "fd00:7661:7466::2",
					  "2001:db8::2",
					  "::ffff:192.168.127.2"};
	uint8_t a[16];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t6_addr(good[i], a);
		cr_assert(ndp_src_plausible(&nd, a), "%s", good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t6_addr(bad[i], a);
		cr_assert_not(ndp_src_plausible(&nd, a), "%s", bad[i]);
	}
}

Test(ndp, neighbour_table_is_bounded)
{
	uint8_t a[16];
	int i;

	t6_addr("fd00:7661:7465::", a);
	for (i = 0; i < 3 * NDP_NEIGH_MAX; i++) {
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)(i + 2);
		a[13] = 1;
		ndp_learn(&nd, (uint64_t)i + 1, a, t6_guest_mac);
	}
	/* the newest are there, the oldest were replaced */
	cr_assert_not_null(ndp_lookup(&nd, a));
	a[14] = 0;
	a[15] = 2;
	cr_assert_null(ndp_lookup(&nd, a));
}

Test(ndp, extension_header_walk)
{
	uint8_t p[256];
	struct ip6_view v;
	int i;

	memset(p, 0, sizeof(p));
	p[0] = 0x60;
	p[6] = IP6_NH_HOPOPTS;
	p[40] = IP6_NH_DSTOPTS; /* hop-by-hop, 8 bytes */
	p[48] = IP6_NH_ICMP6;	/* destination options, 16 bytes */
	p[49] = 1;
	cr_assert_eq(ip6_upper(p, 72, &v), 0);
	cr_assert_eq(v.proto, IP6_NH_ICMP6);
	cr_assert_eq(v.off, 64);
	cr_assert_eq(v.ext, 2);
	cr_assert_eq(ip6_upper(p, 60, &v), -1, "an extension header past the end");
	/* an option in the hop-by-hop header running past it (PadN of 5 in 6) */
	p[42] = 1;
	p[43] = 5;
	cr_assert_eq(ip6_upper(p, 72, &v), -1);
	p[43] = 4; /* exactly to its end */
	cr_assert_eq(ip6_upper(p, 72, &v), 0);
	p[43] = 3; /* then a Pad1 */
	cr_assert_eq(ip6_upper(p, 72, &v), 0);
	p[47] = 1; /* then an option whose length byte would be outside */
	cr_assert_eq(ip6_upper(p, 72, &v), -1);
	p[43] = 2; /* then a PadN of 0 in the last two bytes */
	p[46] = 1;
	p[47] = 0;
	cr_assert_eq(ip6_upper(p, 72, &v), 0);
	p[47] = 1; /* ... of 1: past the header */
	cr_assert_eq(ip6_upper(p, 72, &v), -1);
	memset(p + 42, 0, 6);
	cr_assert_eq(ip6_upper(p, 39, &v), -1);
	/* hop-by-hop only first */
	p[48] = IP6_NH_HOPOPTS;
	cr_assert_eq(ip6_upper(p, 200, &v), -1);
	/* a chain longer than IP6_EXT_MAX */
	p[6] = IP6_NH_DSTOPTS;
	for (i = 0; i < 20; i++) {
		p[40 + 8 * i] = IP6_NH_DSTOPTS;
		p[41 + 8 * i] = 0;
	}
	cr_assert_eq(ip6_upper(p, 240, &v), -1);
	/* a fragment header stops the walk */
	p[6] = IP6_NH_FRAG;
	cr_assert_eq(ip6_upper(p, 48, &v), 0);
	cr_assert_eq(v.proto, IP6_NH_FRAG);
	cr_assert_eq(v.off, 40);
}
