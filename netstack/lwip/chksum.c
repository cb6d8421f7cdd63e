/* SPDX-License-Identifier: MIT */
/*
 * chksum.c - the Internet checksum used by lwIP (LWIP_CHKSUM, lwipopts.h)
 * and by vgate's own packet code (netstack/frame.c). Compiled into the lwIP
 * library so that lwIP can call it without a circular link.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

unsigned short vg_lwip_chksum(const void *dataptr, int len);

/**
 * csum_native() - one's complement sum of @len bytes read as native-order
 * 16-bit words, folded to 16 bits (not inverted). Sums 32-bit words into a
 * 64-bit accumulator: about eight times fewer steps than a 16-bit loop.
 * @data:	bytes, any alignment
 * @len:	count
 *
 * Return: the folded sum, in native order
 */
static uint16_t csum_native(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = 0;
	uint32_t w;
	uint16_t h;

	while (len >= 16) {
		uint32_t a, b, c, d;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		memcpy(&c, p + 8, 4);
		memcpy(&d, p + 12, 4);
		s += (uint64_t)a + b + c + d;
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		memcpy(&w, p, 4);
		s += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		s += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* the odd byte is the first of a 16-bit word padded with zero */
		h = 0;
		memcpy(&h, p, 1);
		s += h;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}


/**
 * vg_lwip_chksum() - same contract as lwip_standard_chksum(): the native-
 * order, non-inverted one's complement sum of @len bytes at any alignment
 * @dataptr:	bytes
 * @len:	count
 *
 * Return: the sum
 */
unsigned short vg_lwip_chksum(const void *dataptr, int len)
{
	return len > 0 ? csum_native(dataptr, (size_t)len) : 0;
}
