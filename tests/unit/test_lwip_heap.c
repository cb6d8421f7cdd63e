/* SPDX-License-Identifier: MIT */
/*
 * test_lwip_heap.c - lwIP's heap (netstack/lwip/heap.c): a freed block is
 * reused for the next request of its class and only of its class, every
 * block holds what was asked for at 16-byte alignment, the kept bytes stay
 * under their bound, trimming gives them all back, calloc() zeroes a reused
 * block, and requests past the classes go to the C allocator alone. Built
 * with AddressSanitizer the heap keeps nothing (heap.c): the tests of
 * reuse then check that every freed block went back to free().
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "netstack/lwip/heap.h"

static struct vg_lwip_heap_stats stats(void)
{
	struct vg_lwip_heap_stats st;

	vg_lwip_heap_stats(&st);
	return st;
}

/* whether this build keeps freed blocks; if not, nothing may be kept */
static bool keeps(void)
{
	if (stats().keep_limit)
		return true;
	cr_assert_eq(stats().kept_bytes, 0, "a build that keeps nothing kept a block");
	return false;
}

Test(lwip_heap, a_freed_block_serves_the_next_request_of_its_class)
{
	struct vg_lwip_heap_stats st0, st1;
	void *p, *q;

	vg_lwip_heap_trim();
	st0 = stats();
	p = vg_lwip_malloc(1460);
	cr_assert_not_null(p);
	vg_lwip_free(p);
	if (!keeps())
		return;
	cr_assert_eq(stats().keep_limit, VG_LWIP_HEAP_KEEP_BYTES);
	cr_assert_gt(stats().kept_bytes, st0.kept_bytes);
	/* 1400 and 1460 bytes (with the header) share the 1536-byte class */
	q = vg_lwip_malloc(1400);
	cr_assert_eq(q, p, "the kept block comes back");
	st1 = stats();
	cr_assert_eq(st1.reused, st0.reused + 1);
	cr_assert_eq(st1.fresh, st0.fresh + 1);
	cr_assert_eq(st1.kept_bytes, st0.kept_bytes);
	vg_lwip_free(q);
}

Test(lwip_heap, classes_do_not_mix)
{
	void *p, *q, *r;

	vg_lwip_heap_trim();
	/* 64 + 16 bytes is the 80-byte class; 65 + 16 is the 96-byte one */
	p = vg_lwip_malloc(64);
	vg_lwip_free(p);
	if (!keeps())
		return;
	q = vg_lwip_malloc(65);
	cr_assert_neq(q, p, "a larger class does not take a smaller block");
	r = vg_lwip_malloc(49);
	cr_assert_eq(r, p, "49 + 16 bytes is the 80-byte class too");
	vg_lwip_free(q);
	vg_lwip_free(r);
}

Test(lwip_heap, every_size_fits_and_is_aligned)
{
	static void *blocks[20000];
	size_t n, i = 0;

	/* each block written whole: AddressSanitizer (the sanitized suite)
	 * reports a block smaller than its request; a stride over every class
	 * boundary and past the largest class */
	for (n = 1; n <= VG_LWIP_HEAP_CLASS_MAX + 4096; n += n < 256 ? 1 : 7) {
		uint8_t *p = vg_lwip_malloc(n);

		cr_assert_not_null(p, "size %zu", n);
		cr_assert_eq((uintptr_t)p % 16, 0, "size %zu aligned", n);
		memset(p, 0xa5, n);
		blocks[i++] = p;
	}
	while (i)
		vg_lwip_free(blocks[--i]);
	/* reused blocks are as large: the same again, now from the lists */
	for (n = 1; n <= VG_LWIP_HEAP_CLASS_MAX; n += n < 256 ? 1 : 7) {
		uint8_t *p = vg_lwip_malloc(n);

		memset(p, 0x5a, n);
		vg_lwip_free(p);
	}
	cr_assert_leq(stats().kept_bytes, VG_LWIP_HEAP_KEEP_BYTES);
}

Test(lwip_heap, kept_bytes_are_bounded_and_trim_returns_them)
{
	enum { N = 300 };
	static void *blocks[N];
	struct vg_lwip_heap_stats st;
	uint64_t fresh;

	vg_lwip_heap_trim();
	cr_assert_eq(stats().kept_bytes, 0);
	/* 300 blocks of the 8192-byte class: 2.3 MiB, more than may be kept */
	for (int i = 0; i < N; i++)
		blocks[i] = vg_lwip_malloc(8000);
	for (int i = 0; i < N; i++)
		vg_lwip_free(blocks[i]);
	if (!keeps())
		return;
	st = stats();
	cr_assert_leq(st.kept_bytes, VG_LWIP_HEAP_KEEP_BYTES);
	cr_assert_gt(st.kept_bytes, VG_LWIP_HEAP_KEEP_BYTES - 8192, "the list fills to its bound");
	vg_lwip_heap_trim();
	cr_assert_eq(stats().kept_bytes, 0);
	fresh = stats().fresh;
	vg_lwip_free(vg_lwip_malloc(8000));
	cr_assert_eq(stats().fresh, fresh + 1, "after a trim the C allocator serves again");
}

Test(lwip_heap, calloc_zeroes_a_reused_block)
{
	uint8_t *p, *q;

	p = vg_lwip_malloc(200);
	memset(p, 0xff, 200);
	vg_lwip_free(p);
	q = vg_lwip_calloc(4, 50);
	cr_assert_not_null(q);
	cr_assert(q == p || !keeps(), "the kept block comes back");
	for (int i = 0; i < 200; i++)
		cr_assert_eq(q[i], 0, "byte %d", i);
	vg_lwip_free(q);
	cr_assert_null(vg_lwip_calloc(SIZE_MAX / 2, 4), "count * size overflows");
}

Test(lwip_heap, past_the_classes_and_degenerate_requests)
{
	struct vg_lwip_heap_stats st0 = stats(), st1;
	void *p;

	p = vg_lwip_malloc(VG_LWIP_HEAP_CLASS_MAX);
	cr_assert_not_null(p);
	vg_lwip_free(p);
	st1 = stats();
	cr_assert_eq(st1.kept_bytes, st0.kept_bytes, "the C allocator's alone: not kept");
	cr_assert_eq(st1.fresh, st0.fresh + 1);
	cr_assert_null(vg_lwip_malloc(0));
	cr_assert_null(vg_lwip_malloc(SIZE_MAX - 8));
	vg_lwip_free(NULL);
}
