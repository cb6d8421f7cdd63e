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

#if defined(__SSE2__)
#include <emmintrin.h>

/* 64-byte blocks csum_sse2() sums in 32-bit lanes before it widens them */
#define CSUM_SSE2_RUN 4096u

/**
 * csum_sse2() - the 64-byte blocks of csum_native() with SSE2 (part of every
 * x86-64): four instructions per 16 bytes against nine for the scalar loop.
 * Each 16-bit word x has its top bit flipped, which makes it the signed
 * value x - 32768; PMADDWD against ones adds pairs of those into 32-bit
 * lanes, and the 32768 taken from every word is added back at the end. A
 * lane gains at most 2 * 32768 twice a block, so runs of CSUM_SSE2_RUN
 * blocks cannot overflow it; each run's lanes go into a 64-bit sum.
 * @p:		bytes, any alignment
 * @blocks:	how many 64-byte blocks
 *
 * Return: the sum of their native-order 16-bit words
 */
static uint64_t csum_sse2(const uint8_t *p, size_t blocks)
{
	const __m128i flip = _mm_set1_epi16((short)0x8000), one = _mm_set1_epi16(1);
	uint64_t s = (uint64_t)blocks * 32u * 32768u;

	while (blocks) {
		size_t run = blocks < CSUM_SSE2_RUN ? blocks : CSUM_SSE2_RUN;
		__m128i a = _mm_setzero_si128(), b = a;
		int32_t lane[4];

		for (blocks -= run; run; run--, p += 64) {
			__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
			__m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
			__m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));

			a = _mm_add_epi32(a, _mm_madd_epi16(_mm_xor_si128(v0, flip), one));
			b = _mm_add_epi32(b, _mm_madd_epi16(_mm_xor_si128(v1, flip), one));
			a = _mm_add_epi32(a, _mm_madd_epi16(_mm_xor_si128(v2, flip), one));
			b = _mm_add_epi32(b, _mm_madd_epi16(_mm_xor_si128(v3, flip), one));
		}
		_mm_storeu_si128((__m128i *)(void *)lane, _mm_add_epi32(a, b));
		s += (uint64_t)((int64_t)lane[0] + lane[1] + lane[2] + lane[3]);
	}
	return s;
}
#endif

/**
 * csum_native() - one's complement sum of @len bytes read as native-order
 * 16-bit words, folded to 16 bits (not inverted), in a 64-bit accumulator
 * whose carries fold back at the end: 64-byte blocks with SSE2 where the
 * target has it (csum_sse2()), the rest as 32-bit words, 16 and 4 bytes at
 * a time.
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

#if defined(__SSE2__)
	s = csum_sse2(p, len / 64);
	p += len & ~(size_t)63;
	len &= 63;
#endif
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
