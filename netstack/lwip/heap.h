/* SPDX-License-Identifier: MIT */
/*
 * heap.h - lwIP's heap: what mem_malloc() and mem_free() call (lwipopts.h
 * maps mem_clib_malloc, mem_clib_calloc and mem_clib_free here), so every
 * pbuf and, with MEMP_MEM_MALLOC, every tcp_seg and pcb. Size classes with
 * free lists in front of the C allocator (heap.c's comment tells why).
 *
 * Process-wide, as lwIP's own state is; used only from the thread that runs
 * lwIP. A pointer from vg_lwip_malloc() or vg_lwip_calloc() goes back to
 * vg_lwip_free() only (it is not the C allocator's).
 */
#ifndef VGATE_LWIP_HEAP_H
#define VGATE_LWIP_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* at most this many bytes of freed blocks are kept for reuse, all classes */
#define VG_LWIP_HEAP_KEEP_BYTES (1024u * 1024u)
/* requests above this go to the C allocator directly (no class) */
#define VG_LWIP_HEAP_CLASS_MAX 16384u

/**
 * struct vg_lwip_heap_stats - what the heap did since the process started
 * @reused:	allocations served from a free list
 * @fresh:	allocations the C allocator served (a class's list was empty,
 *		or the request was larger than every class)
 * @kept_bytes:	bytes of freed blocks on the free lists now (block sizes)
 * @keep_limit:	the bound on @kept_bytes: VG_LWIP_HEAP_KEEP_BYTES, or 0 in
 *		a build with AddressSanitizer (nothing kept)
 */
struct vg_lwip_heap_stats {
	uint64_t reused;
	uint64_t fresh;
	size_t kept_bytes;
	size_t keep_limit;
};

/* malloc()'s contract, 16-byte aligned; NULL when out of memory or @size is 0 */
void *vg_lwip_malloc(size_t size);
/* calloc()'s contract; NULL on overflow or out of memory */
void *vg_lwip_calloc(size_t count, size_t size);
/* free()'s contract (NULL is a no-op) for a block of this heap */
void vg_lwip_free(void *ptr);
/* give every kept block back to the C allocator (before malloc_trim()) */
void vg_lwip_heap_trim(void);
/* the counters of struct vg_lwip_heap_stats */
void vg_lwip_heap_stats(struct vg_lwip_heap_stats *st);

#endif /* VGATE_LWIP_HEAP_H */
