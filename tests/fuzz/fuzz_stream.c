/* SPDX-License-Identifier: MIT */
/*
 * fuzz_stream.c - libFuzzer target: arbitrary bytes as a QEMU stream, fed
 * in pieces whose sizes come from the input, through the frame decoder;
 * every delivered frame must respect the size bound.
 */
#include <stddef.h>
#include <stdint.h>

#include "netstack/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(void *arg, const uint8_t *f, size_t len)
{
	const struct stream_dec *d = arg;
	volatile uint8_t sink;

	if (!len || len > d->max)
		__builtin_trap();
	sink = f[0];
	sink = f[len - 1];
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_dec d;
	size_t off = 0;

	if (size < 1 || stream_dec_init(&d, 1514) < 0)
		return 0;
	while (off < size) {
		size_t piece = (size_t)(data[off] % 97) + 1;

		if (piece > size - off)
			piece = size - off;
		if (stream_dec_feed(&d, data + off, piece, check, &d) < 0)
			stream_dec_reset(&d);
		off += piece;
	}
	stream_dec_free(&d);
	return 0;
}
