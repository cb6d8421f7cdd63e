/* SPDX-License-Identifier: MIT */
/*
 * source.c - the forwarder's TCP accounting per guest source address: how
 * many flows each source holds, its half-open flows (still connecting, in
 * creation order) and its other flows (least recently active first), and
 * which source holds the most, all O(1) per step.
 *
 * A struct fwd_src exists while its source has at least one flow; the
 * records come from a pool sized once at the flow bound (there cannot be
 * more sources than flows), indexed by address in a struct fwd_table. The
 * pool and the count buckets are calloc()ed and used in order, never
 * written in advance, so an idle vgate does not pay resident memory for a
 * bound of 15,000 flows (free list first, then the next fresh record). The
 * flows are the caller's: each embeds a struct fwd_entry that is on one of
 * its source's two lists. Sources are also kept in count buckets
 * (by_count[n] lists the sources holding n flows) with the highest
 * non-empty bucket tracked, so fwd_src_top() is O(1): counts move by one,
 * so when the top bucket empties the next one down is not empty.
 *
 * A leaf of forwarder/: it calls only table.c.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/**
 * fwd_srcs_init() - allocate the pool, index and buckets for @max flows
 * @s:		accounting
 * @max:	flow bound (≥ 1)
 *
 * Return: 0, or -1 out of memory
 */
int fwd_srcs_init(struct fwd_srcs *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	if (!max)
		max = 1;
	s->pool = calloc(max, sizeof(*s->pool));
	s->by_count = calloc(max + 1, sizeof(*s->by_count));
	if (!s->pool || !s->by_count || fwd_table_init(&s->tab, max) < 0) {
		fwd_srcs_destroy(s);
		return -1;
	}
	s->max = max;
	return 0;
}

void fwd_srcs_destroy(struct fwd_srcs *s)
{
	fwd_table_destroy(&s->tab);
	free(s->pool);
	free(s->by_count);
	memset(s, 0, sizeof(*s));
}

static void byc_del(struct fwd_lnode *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

static void byc_add(struct fwd_srcs *s, struct fwd_src *src)
{
	struct fwd_lnode *head = &s->by_count[src->flows];

	if (!head->next) /* first use of this bucket */
		head->prev = head->next = head;
	src->byc.prev = head->prev;
	src->byc.next = head;
	head->prev->next = &src->byc;
	head->prev = &src->byc;
	if (src->flows > s->top)
		s->top = src->flows;
}

/* the table key of a guest source address (its port ignored) */
static struct fwd_key src_key(const struct ns_addr *ip)
{
	struct ns_addr a = *ip, none = ns_addr_v4(0, 0);
	struct fwd_key k;

	a.port = 0;
	if (ns_addr_is_v6(&a))
		none = ns_addr_v6(none.ip6, 0);
	k = fwd_key_of(&a, &none);
	return k;
}

/**
 * fwd_src_find() - the record of a guest source
 * @s:	accounting
 * @ip:	guest address, either family (its port is ignored)
 *
 * Return: the record, or NULL when the source holds no flow
 */
struct fwd_src *fwd_src_find(const struct fwd_srcs *s, const struct ns_addr *ip)
{
	struct fwd_key k = src_key(ip);
	struct fwd_entry *e = fwd_table_find(&s->tab, &k);

	return e ? fwd_container_of(e, struct fwd_src, ent) : NULL;
}

/**
 * fwd_src_add() - count a new flow of @ip (on its half-open list if @half)
 * @s:		accounting
 * @ip:		guest address, either family (its port is ignored)
 * @e:		the flow's node, on no list
 * @half:	half-open
 * @now:	loop time
 *
 * Return: the source's record, or NULL when @s already counts as many
 * flows as its bound
 */
struct fwd_src *fwd_src_add(struct fwd_srcs *s, const struct ns_addr *ip, struct fwd_entry *e,
			    bool half, uint64_t now)
{
	struct fwd_src *src = fwd_src_find(s, ip);

	if (!src) {
		struct fwd_key k = src_key(ip);

		if (s->free) {
			src = fwd_container_of(s->free, struct fwd_src, byc);
			s->free = s->free->next;
		} else if (s->fresh < s->max) {
			src = &s->pool[s->fresh++];
		} else {
			return NULL;
		}
		memset(src, 0, sizeof(*src));
		src->ent.key = k;
		fwd_list_init(&src->half);
		fwd_list_init(&src->est);
		if (fwd_table_add(&s->tab, &src->ent, true) < 0) {
			src->byc.next = s->free;
			s->free = &src->byc;
			return NULL;
		}
	} else {
		byc_del(&src->byc);
	}
	src->flows++;
	byc_add(s, src);
	fwd_list_push(half ? &src->half : &src->est, e, now);
	return src;
}

/**
 * fwd_src_del() - uncount a flow; the record is freed with its last flow
 * @s:		accounting
 * @src:	the flow's source
 * @e:		the flow's node
 * @half:	which list it is on
 */
void fwd_src_del(struct fwd_srcs *s, struct fwd_src *src, struct fwd_entry *e, bool half)
{
	fwd_list_del(half ? &src->half : &src->est, e);
	byc_del(&src->byc);
	if (s->top == src->flows && s->by_count[s->top].next == &s->by_count[s->top])
		s->top--;
	src->flows--;
	if (src->flows) {
		byc_add(s, src);
		return;
	}
	fwd_table_del(&s->tab, &src->ent);
	src->byc.next = s->free;
	s->free = &src->byc;
}

/**
 * fwd_src_move() - a flow went from half-open to established or back
 * @src:	its source
 * @e:		its node
 * @half:	the list it goes to
 * @now:	loop time
 */
void fwd_src_move(struct fwd_src *src, struct fwd_entry *e, bool half, uint64_t now)
{
	fwd_list_del(half ? &src->est : &src->half, e);
	fwd_list_push(half ? &src->half : &src->est, e, now);
}

/**
 * fwd_src_top() - the source holding the most flows (any of them on a tie)
 * @s:	accounting
 *
 * Return: its record, or NULL when no source holds a flow
 */
struct fwd_src *fwd_src_top(const struct fwd_srcs *s)
{
	const struct fwd_lnode *head;

	if (!s->top)
		return NULL;
	head = &s->by_count[s->top];
	return fwd_container_of(head->next, struct fwd_src, byc);
}
