/* SPDX-License-Identifier: MIT */
/*
 * slab.c - size-class slabs for cached answers (see slab.h).
 *
 * Slab layout: struct slab_hdr, then blocks of the class size from offset
 * SLAB_HDR_LEN. A free block holds the offset of the next free block of its
 * slab in its first two bytes (0 ends the list: offset 0 is the header).
 * Blocks never handed out yet are above @bump, so a new slab costs no loop.
 * Under AddressSanitizer free blocks and unused slab space are poisoned.
 */
#include "slab.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/**
 * struct slab_hdr - start of every slab in use
 * @cls:	size class
 * @live:	blocks handed out
 * @free:	offset of the first free block, 0 when none
 * @bump:	offset of the first never-used block
 * @prev:	previous slab of the class's partial list (index + 1)
 * @next:	next slab of that list (index + 1)
 */
struct slab_hdr {
	uint16_t cls;
	uint16_t live;
	uint16_t free;
	uint16_t bump;
	uint32_t prev;
	uint32_t next;
};

#define SLAB_HDR_LEN 16u

_Static_assert(sizeof(struct slab_hdr) == SLAB_HDR_LEN, "slab header size");

static inline unsigned int size_class(size_t size)
{
	if (size <= 512)
		return size ? (unsigned int)((size + 3) / 4 - 1) : 0;
	return 128u + (unsigned int)((size - 512 + 31) / 32) - 1;
}

static inline unsigned int class_size(unsigned int cls)
{
	return cls < 128 ? (cls + 1) * 4 : 512 + (cls - 127) * 32;
}

static inline struct slab_hdr *hdr(const struct dns_slab *s, uint32_t i)
{
	return (struct slab_hdr *)(s->base + (size_t)i * SLAB_SIZE);
}

static inline bool is_full(const struct slab_hdr *h)
{
	return !h->free && h->bump + class_size(h->cls) > SLAB_SIZE;
}

/**
 * slab_init() - reserve the arena
 * @s:		allocator to set up
 * @budget:	bound on bytes held, rounded up to whole slabs
 *
 * Return: 0, -EINVAL or -ENOMEM
 */
int slab_init(struct dns_slab *s, size_t budget)
{
	size_t n = (budget + SLAB_SIZE - 1) / SLAB_SIZE;
	void *p;

	memset(s, 0, sizeof(*s));
	if (n == 0)
		n = 1;
	if (n > UINT32_MAX / 2)
		return -EINVAL;
	s->stack = calloc(n, sizeof(*s->stack));
	if (!s->stack)
		return -ENOMEM;
	p = mmap(NULL, n * SLAB_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		free(s->stack);
		s->stack = NULL;
		return -ENOMEM;
	}
	s->base = p;
	s->nslabs = (uint32_t)n;
	s->budget = n * SLAB_SIZE;
	POISON(s->base, n * SLAB_SIZE);
	return 0;
}

/**
 * slab_destroy() - release the arena; every block must have been freed
 * @s:	allocator
 */
void slab_destroy(struct dns_slab *s)
{
	if (s->base) {
		UNPOISON(s->base, (size_t)s->nslabs * SLAB_SIZE);
		munmap(s->base, (size_t)s->nslabs * SLAB_SIZE);
	}
	free(s->stack);
	s->base = NULL;
	s->stack = NULL;
}

static void partial_push(struct dns_slab *s, uint32_t i)
{
	struct slab_hdr *h = hdr(s, i);
	uint32_t head = s->partial[h->cls];

	h->prev = 0;
	h->next = head;
	if (head)
		hdr(s, head - 1)->prev = i + 1;
	s->partial[h->cls] = i + 1;
}

static void partial_unlink(struct dns_slab *s, uint32_t i)
{
	struct slab_hdr *h = hdr(s, i);

	if (h->prev)
		hdr(s, h->prev - 1)->next = h->next;
	else
		s->partial[h->cls] = h->next;
	if (h->next)
		hdr(s, h->next - 1)->prev = h->prev;
	h->prev = h->next = 0;
}

/* new_slab - take a released or fresh slab for @cls; Return: index + 1, 0 if none */
static uint32_t new_slab(struct dns_slab *s, unsigned int cls)
{
	struct slab_hdr *h;
	uint32_t i;

	if (slab_bytes(s) + SLAB_SIZE > s->budget)
		return 0;
	if (s->nstack)
		i = s->stack[--s->nstack];
	else if (s->fresh < s->nslabs)
		i = s->fresh++;
	else
		return 0;
	h = hdr(s, i);
	UNPOISON(h, SLAB_HDR_LEN);
	h->cls = (uint16_t)cls;
	h->live = 0;
	h->free = 0;
	h->bump = SLAB_HDR_LEN;
	s->used++;
	partial_push(s, i);
	return i + 1;
}

/**
 * slab_alloc() - a block of @size bytes (4-byte aligned)
 * @s:		allocator
 * @size:	bytes, 1..65535+
 *
 * Return: the block, or NULL when the budget is used up (or ENOMEM)
 */
void *slab_alloc(struct dns_slab *s, size_t size)
{
	unsigned int cls, bs;
	struct slab_hdr *h;
	uint32_t i;
	uint8_t *p;

	if (size > SLAB_BLOCK_MAX) {
		size_t real;

		if (slab_bytes(s) + size + sizeof(size_t) > s->budget)
			return NULL;
		p = malloc(size);
		if (!p)
			return NULL;
		real = malloc_usable_size(p) + sizeof(size_t);
		if (slab_bytes(s) + real > s->budget) {
			free(p);
			return NULL;
		}
		s->large += real;
		return p;
	}
	cls = size_class(size);
	bs = class_size(cls);
	i = s->partial[cls];
	if (!i)
		i = new_slab(s, cls);
	if (!i)
		return NULL;
	i--;
	h = hdr(s, i);
	if (h->free) {
		p = (uint8_t *)h + h->free;
		UNPOISON(p, bs);
		memcpy(&h->free, p, sizeof(h->free));
	} else {
		p = (uint8_t *)h + h->bump;
		UNPOISON(p, bs);
		h->bump = (uint16_t)(h->bump + bs);
	}
	h->live++;
	if (is_full(h))
		partial_unlink(s, i);
	return p;
}

/**
 * slab_free() - return a block
 * @s:		allocator
 * @p:		block from slab_alloc()
 * @size:	the size it was allocated with
 */
void slab_free(struct dns_slab *s, void *p, size_t size)
{
	uint8_t *b = p;
	struct slab_hdr *h;
	unsigned int bs;
	uint16_t off;
	uint32_t i;
	bool was_full;

	if (size > SLAB_BLOCK_MAX) {
		s->large -= malloc_usable_size(p) + sizeof(size_t);
		free(p);
		return;
	}
	i = (uint32_t)((size_t)(b - s->base) / SLAB_SIZE);
	h = hdr(s, i);
	bs = class_size(h->cls);
	off = (uint16_t)(b - (uint8_t *)h);
	was_full = is_full(h);
	memcpy(b, &h->free, sizeof(h->free));
	h->free = off;
	POISON(b, bs);
	if (--h->live == 0) {
		if (!was_full)
			partial_unlink(s, i);
		POISON(h, SLAB_HDR_LEN);
		madvise(h, SLAB_SIZE, MADV_DONTNEED);
		s->stack[s->nstack++] = i;
		s->used--;
		return;
	}
	if (was_full)
		partial_push(s, i);
}
