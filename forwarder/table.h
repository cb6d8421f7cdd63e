/* SPDX-License-Identifier: MIT */
/*
 * table.h - the forwarder's flow bookkeeping (internal to forwarder/; unit
 * tests include it directly).
 *
 * struct fwd_table: a fixed-size hash of intrusive struct fwd_entry records
 * keyed by the guest-side 4-tuple, with a hard cap on the number of entries.
 * The bucket array is allocated once (a power of two at least as large as
 * the cap); entries are embedded in the caller's flow records, so the table
 * never allocates per flow. The hash is seeded per table (the guest chooses
 * the keys).
 *
 * struct fwd_list: an intrusive doubly linked list with a sentinel, used for
 * LRU and FIFO orders (idle and connect timeouts): O(1) touch and removal,
 * expiry walks from the head and stops at the first live entry.
 *
 * An entry may be on the list without being in the hash (flows that nothing
 * looks up by tuple, e.g. port forwards): that is what @hashed records.
 */
#ifndef VGATE_FORWARDER_TABLE_H
#define VGATE_FORWARDER_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * struct fwd_key - a flow as the guest sees it (addresses in network order)
 * @sip:	IPv4 source (0 for IPv6)
 * @dip:	IPv4 destination (0 for IPv6)
 * @sport:	source port
 * @dport:	destination port
 * @v6:		an IPv6 flow: @sip6 and @dip6 hold its addresses
 * @sip6:	IPv6 source (zero for IPv4)
 * @dip6:	IPv6 destination (zero for IPv4)
 *
 * Unused fields are zero, so keys compare and hash over every field.
 */
struct fwd_key {
	uint32_t sip, dip;
	uint16_t sport, dport;
	bool v6;
	uint8_t sip6[16], dip6[16];
};

struct fwd_lnode {
	struct fwd_lnode *prev, *next;
};

struct fwd_list {
	struct fwd_lnode head;
	size_t n;
};

struct fwd_entry {
	struct fwd_entry *hnext;
	struct fwd_lnode lru;
	struct fwd_key key;
	uint64_t last_ms;
	bool hashed;
	bool listed;
};

struct fwd_table {
	struct fwd_entry **buckets;
	size_t mask;
	size_t n;   /* entries counted against max (hashed or not) */
	size_t max;
	uint64_t seed;
};

#define fwd_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

void fwd_list_init(struct fwd_list *l);
void fwd_list_push(struct fwd_list *l, struct fwd_entry *e, uint64_t now);
void fwd_list_del(struct fwd_list *l, struct fwd_entry *e);
void fwd_list_touch(struct fwd_list *l, struct fwd_entry *e, uint64_t now);
struct fwd_entry *fwd_list_first(const struct fwd_list *l);
struct fwd_entry *fwd_list_expired(const struct fwd_list *l, uint64_t now, uint64_t timeout);

int fwd_table_init(struct fwd_table *t, size_t max);
void fwd_table_destroy(struct fwd_table *t);
bool fwd_table_full(const struct fwd_table *t);
int fwd_table_add(struct fwd_table *t, struct fwd_entry *e, bool hash);
void fwd_table_del(struct fwd_table *t, struct fwd_entry *e);
struct fwd_entry *fwd_table_find(const struct fwd_table *t, const struct fwd_key *k);

#endif
