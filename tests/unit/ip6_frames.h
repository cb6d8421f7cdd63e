/* SPDX-License-Identifier: MIT */
/*
 * ip6_frames.h - the IPv6 packet and frame builders the unit tests share
 * (test_ipv6.c through the link, test_ndp.c through ndp_input()): an
 * address from text, an IPv6 packet with its upper-layer checksum filled,
 * the same inside an Ethernet frame from the test guest's MAC, and a
 * Neighbour Solicitation body. Header-only (static inline: each test uses
 * what it needs); every buffer is the caller's, sized for the packet.
 */
#ifndef VGATE_TESTS_UNIT_IP6_FRAMES_H
#define VGATE_TESTS_UNIT_IP6_FRAMES_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "netstack/frame.h"
#include "netstack/ndp.h"

/* the gateway's default MAC and the test guest's */
static const uint8_t t6_gw_mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd};
static const uint8_t t6_guest_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

/* t6_addr() - @s (IPv6 text) into @out[16]; a bad literal fails the test */
static inline void t6_addr(const char *s, uint8_t *out)
{
	cr_assert_eq(inet_pton(AF_INET6, s, out), 1, "%s", s);
}

/**
 * t6_packet() - an IPv6 packet (no extension headers), upper-layer
 * checksum filled
 * @p:		output (IP6_HLEN + @blen bytes)
 * @src:	source text
 * @dst:	destination text
 * @nh:		next header
 * @hop:	hop limit
 * @body:	upper-layer bytes (copied; its checksum field overwritten)
 * @blen:	their length
 * @csum_at:	offset of the checksum field in @body (ICMPv6 2, UDP 6)
 *
 * Return: the packet length
 */
static inline size_t t6_packet(uint8_t *p, const char *src, const char *dst, uint8_t nh,
			       uint8_t hop, const uint8_t *body, size_t blen, size_t csum_at)
{
	uint8_t *b = p + IP6_HLEN;
	uint16_t s;

	memset(p, 0, IP6_HLEN);
	p[0] = 0x60;
	p[4] = (uint8_t)(blen >> 8);
	p[5] = (uint8_t)blen;
	p[6] = nh;
	p[7] = hop;
	t6_addr(src, p + 8);
	t6_addr(dst, p + 24);
	memcpy(b, body, blen);
	b[csum_at] = b[csum_at + 1] = 0;
	s = csum_fold(csum_partial(b, blen, csum_ip6_pseudo(p, (uint32_t)blen, nh)));
	b[csum_at] = (uint8_t)(s >> 8);
	b[csum_at + 1] = (uint8_t)s;
	return IP6_HLEN + blen;
}

/**
 * t6_frame() - t6_packet() in an Ethernet frame from t6_guest_mac to the
 * gateway's MAC (a group destination: its 33:33 MAC)
 * @f:		output (ETH_HLEN_ + IP6_HLEN + @blen bytes)
 * (the other arguments as t6_packet())
 *
 * Return: the frame length
 */
static inline size_t t6_frame(uint8_t *f, const char *src, const char *dst, uint8_t nh, uint8_t hop,
			      const uint8_t *body, size_t blen, size_t csum_at)
{
	size_t n = t6_packet(f + ETH_HLEN_, src, dst, nh, hop, body, blen, csum_at);

	if (f[ETH_HLEN_ + 24] == 0xff)
		ndp_mcast_mac(f + ETH_HLEN_ + 24, f);
	else
		memcpy(f, t6_gw_mac, 6);
	memcpy(f + 6, t6_guest_mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	return ETH_HLEN_ + n;
}

/**
 * t6_ns_body() - a Neighbour Solicitation message for @target
 * @b:		output (32 bytes)
 * @target:	target address text
 * @slla:	with a source link-layer address option (t6_guest_mac); a DAD
 *		probe (source ::) carries none
 *
 * Return: the message length (24, or 32 with the option)
 */
static inline size_t t6_ns_body(uint8_t *b, const char *target, bool slla)
{
	memset(b, 0, 32);
	b[0] = ND_NS;
	t6_addr(target, b + 8);
	if (!slla)
		return 24;
	b[24] = 1;
	b[25] = 1;
	memcpy(b + 26, t6_guest_mac, 6);
	return 32;
}

#endif
