/* SPDX-License-Identifier: MIT */
/*
 * slab.h - exact-size storage for cached answers (struct dns_data) within a
 * fixed byte budget, O(1) alloc and free.
 *
 * Blocks up to SLAB_BLOCK_MAX bytes live in 4 KiB slabs carved from one
 * arena that is reserved (not touched) at init: a slab serves one size
 * class (4-byte steps up to 512 B, 32-byte steps up to 1 KiB), so a 51-byte
 * answer costs 52 bytes instead of a 64-byte malloc chunk. Each slab keeps
 * its own free list and live count in a 16-byte header at its start; slabs
 * with free blocks are on their class's list; a slab whose last block is
 * freed is returned to the kernel (MADV_DONTNEED) and to the free-slab
 * stack, so any class can reuse it. Larger blocks come from malloc.
 *
 * The budget counts what is really held: slabs in use times SLAB_SIZE plus
 * the malloc footprint of large blocks. slab_alloc() fails instead of going
 * over it; the cache then evicts and retries. Internal to dns/.
 */
#ifndef VGATE_DNS_SLAB_H
#define VGATE_DNS_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SLAB_SIZE 4096u
#define SLAB_BLOCK_MAX 1024u
#define SLAB_NCLASS 144u

/**
 * struct dns_slab - the allocator; embed it, then slab_init()
 * @base:	the arena, @nslabs * SLAB_SIZE bytes, reserved with mmap
 * @nslabs:	slabs in the arena (the budget in slabs, at least 1)
 * @fresh:	slabs [@fresh, @nslabs) were never used
 * @stack:	indices of released slabs, @nstack of them
 * @nstack:	entries in @stack
 * @partial:	per class, first slab with a free block (index + 1), 0 if none
 * @used:	slabs in use
 * @large:	malloc footprint of blocks over SLAB_BLOCK_MAX
 * @budget:	bound on @used * SLAB_SIZE + @large
 */
struct dns_slab {
	uint8_t *base;
	uint32_t nslabs;
	uint32_t fresh;
	uint32_t *stack;
	uint32_t nstack;
	uint32_t partial[SLAB_NCLASS];
	uint32_t used;
	size_t large;
	size_t budget;
};

int slab_init(struct dns_slab *s, size_t budget);
void slab_destroy(struct dns_slab *s);
void *slab_alloc(struct dns_slab *s, size_t size);
void slab_free(struct dns_slab *s, void *p, size_t size);

/**
 * slab_bytes() - memory held: slabs in use and large blocks
 * @s:	allocator
 *
 * Return: bytes
 */
static inline size_t slab_bytes(const struct dns_slab *s)
{
	return (size_t)s->used * SLAB_SIZE + s->large;
}

/**
 * slab_meta_bytes() - memory of the allocator's own tables
 * @s:	allocator
 *
 * Return: bytes
 */
static inline size_t slab_meta_bytes(const struct dns_slab *s)
{
	return (size_t)s->nslabs * sizeof(*s->stack);
}

#endif /* VGATE_DNS_SLAB_H */
