/* SPDX-License-Identifier: MIT */
/*
 * test_ns_addr.c - the netstack contract's dual-family endpoint (struct
 * ns_addr): a zeroed or ns_addr_v4() address is IPv4 with its IPv6 bytes
 * zero, ns_addr_v6() keeps the 16 bytes, and ns_addr_eq() tells families,
 * addresses and ports apart.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "netstack/netstack.h"

static const uint8_t ula_gw[16] = {0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};

Test(ns_addr, zero_is_v4)
{
	struct ns_addr z;
	static const uint8_t none[16];

	memset(&z, 0, sizeof(z));
	cr_assert_eq(z.family, NS_AF_INET);
	cr_assert_not(ns_addr_is_v6(&z));
	z = ns_addr_v4(htonl(0xc0a87f01), 53);
	cr_assert_eq(z.family, NS_AF_INET);
	cr_assert_eq(z.ip, htonl(0xc0a87f01));
	cr_assert_eq(z.port, 53);
	cr_assert_eq(memcmp(z.ip6, none, 16), 0);
}

Test(ns_addr, v6_keeps_bytes)
{
	struct ns_addr a = ns_addr_v6(ula_gw, 443);

	cr_assert(ns_addr_is_v6(&a));
	cr_assert_eq(a.ip, 0);
	cr_assert_eq(a.port, 443);
	cr_assert_eq(memcmp(a.ip6, ula_gw, 16), 0);
}

Test(ns_addr, equality)
{
	uint8_t other[16];
	struct ns_addr a = ns_addr_v6(ula_gw, 80), b = ns_addr_v6(ula_gw, 80);
	struct ns_addr v4 = ns_addr_v4(0, 80);

	cr_assert(ns_addr_eq(&a, &b));
	b.port = 81;
	cr_assert_not(ns_addr_eq(&a, &b));
	memcpy(other, ula_gw, 16);
	other[15] = 2;
	b = ns_addr_v6(other, 80);
	cr_assert_not(ns_addr_eq(&a, &b));
	/* an IPv4 0.0.0.0 and an IPv6 address are never the same endpoint */
	memset(other, 0, 16);
	b = ns_addr_v6(other, 80);
	cr_assert_not(ns_addr_eq(&v4, &b));
	cr_assert(ns_addr_eq(&v4, &v4));
}
