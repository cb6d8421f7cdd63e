/* SPDX-License-Identifier: MIT */
/*
 * test_frame.c - QEMU stream framing (whole, split, zero-length, oversize,
 * insane lengths, truncation), gvproxy's 2-byte LE framing (the same
 * cases), the transmit queue in both framings, the Internet checksum.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/frame.h"

struct sink {
	int n;
	size_t lens[64];
	uint8_t first[64];
};

static void collect(void *arg, const uint8_t *f, size_t len)
{
	struct sink *s = arg;

	cr_assert_lt(s->n, 64);
	s->lens[s->n] = len;
	s->first[s->n] = f[0];
	s->n++;
}

static size_t put_frame(uint8_t *out, uint32_t len, uint8_t fill)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	memset(out + 4, fill, len);
	return 4 + len;
}

Test(stream, whole_frames_in_one_read)
{
	struct stream_dec d;
	struct sink s = { 0 };
	uint8_t buf[512];
	size_t n = 0;

	cr_assert_eq(stream_dec_init(&d, 1514), 0);
	n += put_frame(buf + n, 60, 1);
	n += put_frame(buf + n, 100, 2);
	n += put_frame(buf + n, 14, 3);
	cr_assert_eq(stream_dec_feed(&d, buf, n, collect, &s), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.lens[0], 60);
	cr_assert_eq(s.lens[1], 100);
	cr_assert_eq(s.first[2], 3);
	cr_assert_not(stream_dec_mid_frame(&d));
	stream_dec_free(&d);
}

Test(stream, split_byte_by_byte)
{
	struct stream_dec d;
	struct sink s = { 0 };
	uint8_t buf[512];
	size_t n = 0, i;

	cr_assert_eq(stream_dec_init(&d, 1514), 0);
	n += put_frame(buf + n, 200, 7);
	n += put_frame(buf + n, 61, 8);
	for (i = 0; i < n; i++)
		cr_assert_eq(stream_dec_feed(&d, buf + i, 1, collect, &s), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.lens[0], 200);
	cr_assert_eq(s.first[0], 7);
	cr_assert_eq(s.lens[1], 61);
	stream_dec_free(&d);
}

Test(stream, zero_length_and_oversize_are_dropped_and_counted)
{
	struct stream_dec d;
	struct sink s = { 0 };
	static uint8_t buf[8192];
	size_t n = 0;

	cr_assert_eq(stream_dec_init(&d, 1514), 0);
	n += put_frame(buf + n, 0, 0);
	n += put_frame(buf + n, 4000, 9); /* above the MTU: skipped */
	n += put_frame(buf + n, 64, 5);   /* the stream stays in sync */
	/* feed in odd pieces to exercise the skip path across reads */
	cr_assert_eq(stream_dec_feed(&d, buf, 1000, collect, &s), 0);
	cr_assert_eq(stream_dec_feed(&d, buf + 1000, n - 1000, collect, &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.lens[0], 64);
	cr_assert_eq(s.first[0], 5);
	cr_assert_eq(d.bad_length, 1);
	cr_assert_eq(d.oversize, 1);
	stream_dec_free(&d);
}

Test(stream, insane_length_is_a_protocol_error)
{
	struct stream_dec d;
	struct sink s = { 0 };
	uint8_t garbage[] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3 };

	cr_assert_eq(stream_dec_init(&d, 1514), 0);
	cr_assert_lt(stream_dec_feed(&d, garbage, sizeof(garbage), collect, &s), 0);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(d.desync, 1);
	cr_assert_eq(d.last_bad, 0xdeadbeef);
	stream_dec_free(&d);
}

Test(stream, a_length_no_qemu_frame_can_have_is_a_desync)
{
	struct stream_dec d;
	struct sink s = { 0 };
	static uint8_t buf[2 * (4 + FRAME_STREAM_MAX_SANE)];
	size_t n;

	cr_assert_eq(stream_dec_init(&d, 1514), 0);
	n = put_frame(buf, FRAME_STREAM_MAX_SANE, 3); /* plausible: skipped */
	n += put_frame(buf + n, 0, 0);		      /* skipped, but a desync */
	cr_assert_eq(stream_dec_feed(&d, buf, n, collect, &s), 0);
	cr_assert_eq(d.oversize, 1);
	cr_assert_eq(d.desync, 1);
	/* 1 MiB: was skipped before, a megabyte of real frames lost */
	buf[0] = 0, buf[1] = 0x10, buf[2] = 0, buf[3] = 0;
	cr_assert_lt(stream_dec_feed(&d, buf, 4, collect, &s), 0);
	cr_assert_eq(d.desync, 2);
	cr_assert_eq(d.last_bad, 1u << 20);
	cr_assert_eq(s.n, 0);
	stream_dec_free(&d);
}

Test(stream, truncated_prefix_and_frame_are_detected)
{
	struct stream_dec d;
	struct sink s = { 0 };
	uint8_t buf[128];
	size_t n = put_frame(buf, 100, 1);

	cr_assert_eq(stream_dec_init(&d, 1514), 0);
	cr_assert_eq(stream_dec_feed(&d, buf, 2, collect, &s), 0);
	cr_assert(stream_dec_mid_frame(&d)); /* half a length prefix */
	stream_dec_reset(&d);
	cr_assert_eq(stream_dec_feed(&d, buf, n - 10, collect, &s), 0);
	cr_assert(stream_dec_mid_frame(&d)); /* half a frame */
	cr_assert_eq(s.n, 0);
	stream_dec_reset(&d);
	cr_assert_not(stream_dec_mid_frame(&d));
	stream_dec_free(&d);
}

static size_t put_le16(uint8_t *out, uint16_t len, uint8_t fill)
{
	out[0] = (uint8_t)len;
	out[1] = (uint8_t)(len >> 8);
	memset(out + 2, fill, len);
	return 2 + (size_t)len;
}

Test(stream_le16, whole_split_zero_oversize_truncated)
{
	struct stream_dec d;
	struct sink s = {0};
	static uint8_t buf[4096];
	size_t n = 0, i;

	cr_assert_eq(stream_dec_init(&d, 1514), 0);
	stream_dec_set_fmt(&d, FRAME_LE16);
	n += put_le16(buf + n, 60, 1);
	n += put_le16(buf + n, 0, 0);	 /* zero length: a desync, skipped */
	n += put_le16(buf + n, 1600, 9); /* above the MTU: skipped, counted */
	n += put_le16(buf + n, 300, 2);	 /* 0x012c: the high byte matters */
	cr_assert_eq(stream_dec_feed(&d, buf, n, collect, &s), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.lens[0], 60);
	cr_assert_eq(s.lens[1], 300);
	cr_assert_eq(s.first[1], 2);
	cr_assert_eq(d.desync, 1);
	cr_assert_eq(d.last_bad, 0);
	cr_assert_eq(d.oversize, 1);
	/* byte by byte gives the same frames */
	s.n = 0;
	for (i = 0; i < n; i++)
		cr_assert_eq(stream_dec_feed(&d, buf + i, 1, collect, &s), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.lens[1], 300);
	/* the largest 2-byte length is no desync: skipped as oversize */
	cr_assert_eq(stream_dec_feed(&d, (const uint8_t *)"\xff\xff", 2, collect, &s), 0);
	cr_assert(stream_dec_mid_frame(&d));
	stream_dec_set_fmt(&d, FRAME_LE16); /* a new connection forgets it */
	cr_assert_not(stream_dec_mid_frame(&d));
	/* truncated: half a prefix, then half a frame */
	cr_assert_eq(stream_dec_feed(&d, buf, 1, collect, &s), 0);
	cr_assert(stream_dec_mid_frame(&d));
	stream_dec_reset(&d);
	cr_assert_eq(stream_dec_feed(&d, buf, 30, collect, &s), 0);
	cr_assert(stream_dec_mid_frame(&d));
	cr_assert_eq(s.n, 2);
	stream_dec_free(&d);
}

Test(txq, le16_records_and_too_long_frames)
{
	struct txq q;
	static uint8_t big[70000];
	uint8_t a[300];
	struct iovec iov = {a, sizeof(a)}, biov = {big, sizeof(big)};
	const uint8_t *f;
	size_t len;

	memset(a, 'a', sizeof(a));
	cr_assert_eq(txq_init(&q, 1 << 20), 0);
	txq_set_fmt(&q, FRAME_LE16);
	cr_assert_eq(txq_push(&q, &iov, 1), 0);
	cr_assert_eq(txq_len(&q), 302);
	cr_assert_eq(q.buf[0], 300 & 0xff, "2-byte LE prefix on the wire");
	cr_assert_eq(q.buf[1], 300 >> 8);
	cr_assert(txq_peek_frame(&q, &f, &len));
	cr_assert_eq(len, 300);
	cr_assert_eq(f[0], 'a');
	cr_assert_lt(txq_push(&q, &biov, 1), 0, "no 2-byte length for 70000 bytes");
	cr_assert_eq(q.dropped, 1);
	txq_set_fmt(&q, FRAME_BE32);
	cr_assert_eq(txq_len(&q), 0, "a framing change empties the queue");
	cr_assert_eq(txq_push(&q, &biov, 1), 0);
	txq_free(&q);
}

Test(txq, records_in_order_and_full_queue_drops)
{
	struct txq q;
	uint8_t a[100], b[50];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	const uint8_t *f;
	size_t len;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	cr_assert_eq(txq_init(&q, 400), 0);
	cr_assert_eq(txq_push(&q, iov, 2), 0);     /* 154 bytes */
	cr_assert_eq(txq_push(&q, iov + 1, 1), 0); /* 54 bytes */
	cr_assert_eq(txq_len(&q), 208);
	cr_assert(txq_peek_frame(&q, &f, &len));
	cr_assert_eq(len, 150);
	cr_assert_eq(f[0], 'a');
	cr_assert_eq(f[100], 'b');
	/* wire format is the QEMU stream format */
	cr_assert_eq(q.buf[q.head + 3], 150);
	cr_assert_eq(txq_push(&q, iov, 2), 0);	   /* 362 */
	cr_assert_lt(txq_push(&q, iov, 2), 0); /* no room: dropped */
	cr_assert_eq(q.dropped, 1);
	txq_advance(&q, 154);
	/* compaction makes room again */
	cr_assert_eq(txq_push(&q, iov, 2), 0);
	cr_assert(txq_peek_frame(&q, &f, &len));
	cr_assert_eq(len, 50);
	txq_free(&q);
}

Test(csum, rfc1071_example)
{
	/* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 -> sum ddf2 */
	const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	cr_assert_eq(csum_fold(csum_partial(d, sizeof(d), 0)), (uint16_t)~0xddf2);
}

/* reference: RFC 1071 over big-endian 16-bit words */
static uint16_t slow_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

Test(csum, fast_sum_matches_reference_at_any_length_and_alignment)
{
	static uint8_t buf[70000];
	unsigned int seed = 7;
	size_t i, off, len;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand_r(&seed);
	for (i = 0; i < 2000; i++) {
		off = (size_t)rand_r(&seed) % 8;
		len = i < 64 ? i : (size_t)rand_r(&seed) % 65536;
		cr_assert_eq(csum_fold(csum_partial(buf + off, len, 0)),
			     (uint16_t)~slow_sum(buf + off, len), "len %zu off %zu", len, off);
	}
	/* all 0xff: the carries must wrap around */
	memset(buf, 0xff, 65535);
	cr_assert_eq(csum_fold(csum_partial(buf, 65535, 0)), (uint16_t)~slow_sum(buf, 65535));
}

Test(csum, long_runs_of_extreme_words)
{
	/* past the vector loop's runs of 4096 blocks: all-zero words are its
	 * lanes' most negative terms, all-0xffff its most positive */
	static uint8_t buf[(1u << 20) + 3];
	const uint8_t fill[] = {0x00, 0xff, 0x80};

	for (size_t f = 0; f < sizeof(fill); f++) {
		memset(buf, fill[f], sizeof(buf));
		for (size_t len = (1u << 18) - 1; len <= sizeof(buf); len += (1u << 18) + 1)
			cr_assert_eq(csum_fold(csum_partial(buf, len, 0)), (uint16_t)~slow_sum(buf, len),
				     "fill %#x len %zu", fill[f], len);
	}
}
