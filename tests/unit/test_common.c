/* SPDX-License-Identifier: MIT */
/*
 * test_common.c - the leaf helpers of common/: subnet masks at the /0 and
 * /32 edges, subnet membership and broadcast, the host alias, port parsing
 * (bad ports, lengths, bounds), the IPv4 header and TCP segment builders'
 * fields and checksums, and the rate limiter's windows.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "common/netutil.h"
#include "common/ratelimit.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

Test(netutil, masks_at_the_edges)
{
	cr_assert_eq(vg_ip4_mask(0), 0);
	cr_assert_eq(vg_ip4_mask(1), ip("128.0.0.0"));
	cr_assert_eq(vg_ip4_mask(8), ip("255.0.0.0"));
	cr_assert_eq(vg_ip4_mask(24), ip("255.255.255.0"));
	cr_assert_eq(vg_ip4_mask(31), ip("255.255.255.254"));
	cr_assert_eq(vg_ip4_mask(32), ip("255.255.255.255"));
	cr_assert_eq(vg_ip4_mask(33), ip("255.255.255.255"));
}

Test(netutil, prefix_len_inverts_mask)
{
	unsigned int p;

	for (p = 0; p <= 32; p++)
		cr_assert_eq(vg_ip4_prefix_len(vg_ip4_mask(p)), p);
}

Test(netutil, in_subnet_and_broadcast)
{
	cr_assert(vg_ip4_in_subnet(ip("192.168.127.9"), ip("192.168.127.0"), 24));
	cr_assert(vg_ip4_in_subnet(ip("192.168.127.9"), ip("192.168.127.200"), 24));
	cr_assert_not(vg_ip4_in_subnet(ip("192.168.128.9"), ip("192.168.127.0"), 24));
	cr_assert(vg_ip4_in_subnet(ip("8.8.8.8"), ip("10.0.0.0"), 0), "/0 holds everything");
	cr_assert(vg_ip4_in_subnet(ip("10.0.0.1"), ip("10.0.0.1"), 32));
	cr_assert_not(vg_ip4_in_subnet(ip("10.0.0.2"), ip("10.0.0.1"), 32));
	cr_assert_eq(vg_ip4_broadcast(ip("192.168.127.0"), 24), ip("192.168.127.255"));
	cr_assert_eq(vg_ip4_broadcast(ip("10.0.0.0"), 8), ip("10.255.255.255"));
	cr_assert_eq(vg_ip4_broadcast(ip("0.0.0.0"), 0), ip("255.255.255.255"));
	cr_assert_eq(vg_ip4_broadcast(ip("10.0.0.7"), 32), ip("10.0.0.7"));
}

static void ip6(const char *s, uint8_t out[16])
{
	cr_assert_eq(inet_pton(AF_INET6, s, out), 1, "%s", s);
}

Test(netutil, ip6_unspecified)
{
	uint8_t a[16];

	ip6("::", a);
	cr_assert(vg_ip6_unspecified(a));
	ip6("::1", a);
	cr_assert_not(vg_ip6_unspecified(a));
	ip6("8000::", a);
	cr_assert_not(vg_ip6_unspecified(a));
}

Test(netutil, ip6_in_prefix)
{
	uint8_t a[16], net[16];

	ip6("2001:db8:1::10", a);
	ip6("2001:db8::", net);
	cr_assert(vg_ip6_in_prefix(a, net, 32));
	cr_assert_not(vg_ip6_in_prefix(a, net, 48));
	cr_assert(vg_ip6_in_prefix(a, net, 0), "/0 holds everything");
	ip6("2001:db8:1::11", net);
	cr_assert(vg_ip6_in_prefix(a, net, 127), "odd prefix: the last bit only differs");
	cr_assert_not(vg_ip6_in_prefix(a, net, 128));
	cr_assert_not(vg_ip6_in_prefix(a, net, 200), "larger than 128 counts as 128");
	ip6("2001:db8:1::10", net);
	cr_assert(vg_ip6_in_prefix(a, net, 128));
	ip6("fe80::1", a);
	ip6("fe80::", net);
	cr_assert(vg_ip6_in_prefix(a, net, 10));
	ip6("febf::1", a);
	cr_assert(vg_ip6_in_prefix(a, net, 10), "fe80::/10 reaches febf::");
	ip6("fec0::1", a);
	cr_assert_not(vg_ip6_in_prefix(a, net, 10));
}

Test(netutil, host_alias_dials_loopback)
{
	uint32_t alias = ip("192.168.127.254");

	cr_assert_eq(vg_host_alias_dial(alias, alias), ip("127.0.0.1"));
	cr_assert_eq(vg_host_alias_dial(alias, ip("8.8.8.8")), ip("8.8.8.8"));
	cr_assert_eq(vg_host_alias_dial(alias, ip("192.168.127.1")), ip("192.168.127.1"));
}

Test(netutil, nat64_prefix_embed_extract)
{
	uint8_t a[16], b[16];

	vg_nat64_embed(ip("192.0.2.33"), a);
	ip6("64:ff9b::c000:221", b);
	cr_assert_eq(memcmp(a, b, 16), 0, "RFC 6052 2.4 example");
	cr_assert(vg_nat64_is(a));
	cr_assert_eq(vg_nat64_extract(a), ip("192.0.2.33"));
	ip6("64:ff9b::127.0.0.1", a);
	cr_assert(vg_nat64_is(a));
	cr_assert_eq(vg_nat64_extract(a), ip("127.0.0.1"));
	ip6("64:ff9b:1::1", a);
	cr_assert_not(vg_nat64_is(a), "outside the /96");
	ip6("64:ff9a::1", a);
	cr_assert_not(vg_nat64_is(a));
	ip6("::ffff:127.0.0.1", a);
	cr_assert_not(vg_nat64_is(a), "v4-mapped is not NAT64");
}

Test(netutil, good_ports)
{
	uint16_t port = 0;

	cr_assert_eq(vg_port_parse_str("1", &port), 0);
	cr_assert_eq(port, 1);
	cr_assert_eq(vg_port_parse_str("65535", &port), 0);
	cr_assert_eq(port, 65535);
	cr_assert_eq(vg_port_parse_str("0443", &port), 0);
	cr_assert_eq(port, 443);
	cr_assert_eq(vg_port_parse("8080,22", 4, &port), 0, "only @n bytes count");
	cr_assert_eq(port, 8080);
}

Test(netutil, bad_ports_leave_output_alone)
{
	static const char *const bad[] = {
	    "", "0", "65536", "99999999999999999999", "-1", "+1", " 1", "1 ", "1x", "0x10", "00"};
	uint16_t port = 7;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(vg_port_parse_str(bad[i], &port), -1, "'%s'", bad[i]);
		cr_assert_eq(port, 7, "'%s'", bad[i]);
	}
	cr_assert_eq(vg_port_parse("80", 0, &port), -1, "empty");
}

Test(netutil, ip4_header_fields_and_checksum)
{
	uint8_t h[VG_IP4_HLEN];
	uint32_t sum = 0;
	size_t i;

	vg_ip4_header(h, 576, 17, ip("192.168.127.1"), ip("192.168.127.9"));
	cr_assert_eq(h[0], 0x45);
	cr_assert_eq(h[1], 0);
	cr_assert_eq(h[2] << 8 | h[3], 576);
	cr_assert_eq(h[4] | h[5] | h[6] | h[7], 0, "ID 0, no fragment flags");
	cr_assert_eq(h[8], VG_IP4_TTL);
	cr_assert_eq(h[9], 17);
	cr_assert_eq(memcmp(h + 12, (uint8_t[]){192, 168, 127, 1}, 4), 0);
	cr_assert_eq(memcmp(h + 16, (uint8_t[]){192, 168, 127, 9}, 4), 0);
	for (i = 0; i < VG_IP4_HLEN; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	cr_assert_eq(sum, 0xffff, "a valid header sums to all ones");
}

Test(netutil, ip4_header_known_checksum)
{
	/* the well-known example header 45 00 00 73 0000 4000 40 11 c0a80001
	 * c0a800c7 has checksum b861; without its DF flag (0x4000, which
	 * vg_ip4_header() does not set) the sum is 0x4000 less: f861 */
	uint8_t h[VG_IP4_HLEN];

	vg_ip4_header(h, 0x73, 17, ip("192.168.0.1"), ip("192.168.0.199"));
	cr_assert_eq(h[10] << 8 | h[11], 0xf861);
}

/* RFC 1071 sum of @n bytes, an odd last byte padded */
static uint32_t words(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sum += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

Test(netutil, tcp4_segment_fields_and_checksums)
{
	static const char data[] = "odd-length payload"; /* 18 bytes, and 17 below */
	uint8_t pkt[VG_IP4_HLEN + VG_TCP_HLEN + sizeof(data)];
	struct vg_tcp4_seg s = {.src = ip("192.168.127.2"),
				.dst = ip("203.0.113.7"),
				.sport = 49153,
				.dport = 443,
				.seq = 0x01020304,
				.ack = 0xa0b0c0d0,
				.flags = 0x18,
				.window = 0x1234,
				.data = data};
	size_t n, len;
	uint32_t sum;

	for (len = sizeof(data) - 2; len < sizeof(data); len++) {
		s.len = len;
		n = vg_tcp4_segment(pkt, &s);
		cr_assert_eq(n, 40 + len);
		cr_assert_eq(pkt[2] << 8 | pkt[3], n);
		cr_assert_eq(pkt[9], 6);
		cr_assert_eq(words(0, pkt, 20) % 0xffff, 0, "IPv4 header checksum");
		cr_assert_eq(memcmp(pkt + 20, (uint8_t[]){0xc0, 0x01, 0x01, 0xbb, 1, 2, 3, 4, 0xa0,
							   0xb0, 0xc0, 0xd0, 0x50, 0x18, 0x12, 0x34},
				    16),
			     0);
		cr_assert_eq(memcmp(pkt + 40, data, len), 0);
		/* pseudo-header + segment, checksum included: all ones */
		sum = words(0, pkt + 12, 8) + 6 + (uint32_t)(20 + len);
		sum = words(sum, pkt + 20, 20 + len);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		cr_assert_eq(sum, 0xffff, "TCP checksum of a %zu-byte payload", len);
	}
}

Test(ratelimit, allows_per_second_then_counts_the_rest)
{
	struct vg_ratelimit r;
	uint64_t dropped = 99;
	int i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		cr_assert(vg_ratelimit_allow(&r, 3, 5000 + (uint64_t)i, &dropped));
		cr_assert_eq(dropped, 0);
	}
	cr_assert_not(vg_ratelimit_allow(&r, 3, 5500, &dropped));
	cr_assert_not(vg_ratelimit_allow(&r, 3, 5999, &dropped));
	cr_assert_eq(dropped, 0);
	/* the next second: allowed again, and told what the last one refused */
	cr_assert(vg_ratelimit_allow(&r, 3, 6000, &dropped));
	cr_assert_eq(dropped, 2);
	cr_assert(vg_ratelimit_allow(&r, 3, 6001, &dropped));
	cr_assert_eq(dropped, 0, "reported once");
}

Test(ratelimit, quiet_windows_report_nothing)
{
	struct vg_ratelimit r;
	uint64_t dropped;

	memset(&r, 0, sizeof(r));
	cr_assert(vg_ratelimit_allow(&r, 1, 0, &dropped), "second 0 of a zeroed limiter");
	cr_assert_not(vg_ratelimit_allow(&r, 1, 999, &dropped));
	/* a jump over several seconds still reports the last busy one */
	cr_assert(vg_ratelimit_allow(&r, 1, 10000, &dropped));
	cr_assert_eq(dropped, 1);
	cr_assert(vg_ratelimit_allow(&r, 1, 11000, &dropped));
	cr_assert_eq(dropped, 0);
	cr_assert(vg_ratelimit_allow(&r, 1, 12000, &dropped));
	cr_assert_eq(dropped, 0);
}

/* hexadecimal digits of either case, nothing else */
Test(netutil, hex_digit)
{
	cr_assert_eq(vg_hex_digit('0'), 0);
	cr_assert_eq(vg_hex_digit('9'), 9);
	cr_assert_eq(vg_hex_digit('a'), 10);
	cr_assert_eq(vg_hex_digit('F'), 15);
	cr_assert_eq(vg_hex_digit('g'), -1);
	cr_assert_eq(vg_hex_digit('/'), -1);
	cr_assert_eq(vg_hex_digit(0x80), -1);
}
