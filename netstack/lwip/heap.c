/* SPDX-License-Identifier: MIT */
/*
 * heap.c - lwIP's heap (heap.h): size classes with free lists in front of
 * the C allocator.
 *
 * Why: lwIP allocates a pbuf and a tcp_seg for every segment it sends and a
 * pbuf for every one it receives, and frees the ones it sent in bursts when
 * an ACK covers them. glibc's per-thread cache keeps seven blocks a size and
 * none above 1 KiB, so at MTU 1500 most of these went to its general bins,
 * about 300 instructions a call with the free (callgrind: a fifth of a
 * host->guest transfer's instructions). Here the steady state is a pop and
 * a push on a list.
 *
 * How: a block is a 16-byte header and the caller's bytes. A request of up
 * to VG_LWIP_HEAP_CLASS_MAX bytes (header included) is rounded up to its
 * class, four classes per power of two from 64 bytes (at most a quarter
 * wasted), and taken from the class's free list, or from malloc() when the
 * list is empty. A larger request is malloc()'s alone (class HEAP_NONE). A
 * freed block goes on its class's list while the lists hold less than
 * VG_LWIP_HEAP_KEEP_BYTES, else back to free(): memory the C allocator
 * would have kept in its bins anyway, bounded. vg_lwip_heap_trim() empties
 * the lists; the buffer budget's idle trim calls it before malloc_trim()
 * (netstack/budget.c).
 *
 * Ownership and lifetime: one heap for the process, file-static, because
 * lwIP's mem_malloc() carries no context and lwIP's own state is process-wide
 * too; only the thread that runs lwIP calls it (netstack/loop.c's). Under
 * AddressSanitizer nothing is kept: a block reused at once would hide a use
 * after free from it (and from the fuzzers), which free()'s quarantine
 * catches.
 */
#include "heap.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_ASAN 1
#endif
#endif
/* under AddressSanitizer every block goes back to free() (the file comment) */
#ifdef HEAP_ASAN
#define HEAP_KEEP 0u
#else
#define HEAP_KEEP VG_LWIP_HEAP_KEEP_BYTES
#endif

#define HEAP_MIN 64u
/* 64 bytes, then four classes for each power of two up to CLASS_MAX */
#define HEAP_CLASSES 33u
#define HEAP_NONE    UINT32_MAX

/**
 * struct heap_block - the header in front of every block
 * @cls:	its class, or HEAP_NONE
 * @next:	the next block on its class's free list (while it is on it)
 */
struct heap_block {
	uint32_t cls;
	struct heap_block *next;
} __attribute__((aligned(16)));

_Static_assert(sizeof(struct heap_block) == 16, "the header keeps 16-byte alignment");
_Static_assert(VG_LWIP_HEAP_CLASS_MAX == 16384u, "HEAP_CLASSES counts the classes to 16 KiB");

/**
 * struct heap - the free lists and counters
 * @free:	a list per class
 * @st:		counters (heap.h)
 */
static struct heap {
	struct heap_block *free[HEAP_CLASSES];
	struct vg_lwip_heap_stats st;
} heap;

/**
 * heap_class() - the class of a block of @size bytes (header included)
 * @size:	at most VG_LWIP_HEAP_CLASS_MAX
 *
 * Return: 0 for up to 64 bytes; else, with 2^b < @size <= 2^(b+1), one of
 *	   the four classes (5..8) * 2^(b-2) that holds it
 */
static uint32_t heap_class(size_t size)
{
	unsigned int b;

	if (size <= HEAP_MIN)
		return 0;
	b = 63u - (unsigned int)__builtin_clzll((unsigned long long)(size - 1));
	return (b - 6u) * 4u + (uint32_t)(((size - 1) >> (b - 2u)) & 3u) + 1u;
}

/* the block size of class @cls (the inverse of heap_class()) */
static size_t heap_class_size(uint32_t cls)
{
	unsigned int b;

	if (cls == 0)
		return HEAP_MIN;
	b = (cls - 1u) / 4u + 6u;
	return (size_t)(5u + (cls - 1u) % 4u) << (b - 2u);
}

/**
 * vg_lwip_malloc() - a block of at least @size bytes: the head of its
 * class's free list, or a fresh one from malloc() (heap.h)
 * @size:	bytes the caller needs
 *
 * Return: the block's first byte (16-byte aligned), or NULL
 */
void *vg_lwip_malloc(size_t size)
{
	struct heap_block *blk;
	size_t total;
	uint32_t cls;

	if (size == 0 || size > SIZE_MAX - sizeof(*blk))
		return NULL;
	total = size + sizeof(*blk);
	if (total > VG_LWIP_HEAP_CLASS_MAX) {
		blk = malloc(total);
		cls = HEAP_NONE;
	} else {
		cls = heap_class(total);
		blk = heap.free[cls];
		if (blk) {
			heap.free[cls] = blk->next;
			heap.st.kept_bytes -= heap_class_size(cls);
			heap.st.reused++;
			return blk + 1;
		}
		blk = malloc(heap_class_size(cls));
	}
	if (!blk)
		return NULL;
	heap.st.fresh++;
	blk->cls = cls;
	blk->next = NULL;
	return blk + 1;
}

void *vg_lwip_calloc(size_t count, size_t size)
{
	void *p;

	if (size && count > SIZE_MAX / size)
		return NULL;
	p = vg_lwip_malloc(count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

/**
 * vg_lwip_free() - put a block on its class's free list while the lists
 * are under their bound, else give it to free()
 * @ptr:	from vg_lwip_malloc() or vg_lwip_calloc(), or NULL
 */
void vg_lwip_free(void *ptr)
{
	struct heap_block *blk;
	size_t bytes;

	if (!ptr)
		return;
	blk = (struct heap_block *)ptr - 1;
	if (blk->cls == HEAP_NONE) {
		free(blk);
		return;
	}
	bytes = heap_class_size(blk->cls);
	if (heap.st.kept_bytes + bytes > HEAP_KEEP) {
		free(blk);
		return;
	}
	blk->next = heap.free[blk->cls];
	heap.free[blk->cls] = blk;
	heap.st.kept_bytes += bytes;
}

void vg_lwip_heap_trim(void)
{
	for (uint32_t c = 0; c < HEAP_CLASSES; c++) {
		while (heap.free[c]) {
			struct heap_block *blk = heap.free[c];

			heap.free[c] = blk->next;
			free(blk);
		}
	}
	heap.st.kept_bytes = 0;
}

void vg_lwip_heap_stats(struct vg_lwip_heap_stats *st)
{
	*st = heap.st;
	st->keep_limit = HEAP_KEEP;
}
