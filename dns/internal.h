/* SPDX-License-Identifier: MIT */
/*
 * internal.h - struct dns and what dns.c (server, zones, lookup API),
 * resolver.c (upstream queries, singleflight) and config.c share.
 *
 * Tables, all allocated in dns_new() with the bounds of struct dns_config:
 *  - cache: struct dns_cache (cache.h)
 *  - in-flight upstream queries: pool of struct dns_inflight, hashed by key;
 *    one per key (singleflight); each owns its socket, timer and waiter list
 *  - waiters: pool of struct dns_waiter, singly linked per in-flight query;
 *    a waiter is either a guest query to answer or one half (A or AAAA) of a
 *    dns_resolve() request
 *  - resolve requests: pool of struct dns_req, handles carry a generation
 *  - kept answers: ring of struct dns_data that left the cache recently,
 *    for dns_lookup_addrs() grace
 *  - static records: array of struct dns_zrec
 * Ownership: every pool belongs to struct dns; nothing is shared elsewhere.
 */
#ifndef VGATE_DNS_INTERNAL_H
#define VGATE_DNS_INTERNAL_H

#include "dns.h"
#include "cache.h"
#include "wire.h"
#include "netstack/loop.h"

#include <sys/socket.h>

#define DNS_BUF_SIZE (DNS_MSG_MAX + 1024)

enum { W_GUEST = 1, W_RESOLVE = 2 };

/**
 * struct dns_waiter - one query waiting for an in-flight upstream query
 * @next:	next waiter (index + 1) of the same in-flight query, or free list
 * @kind:	W_GUEST or W_RESOLVE
 * @edns:	guest query had EDNS (plus @do_bit, @udp_size)
 * @id:		guest message ID
 * @flags:	guest header flags
 * @casemask:	bit i set: byte i of the guest's qname was an upper-case letter
 * @c:		guest client (W_GUEST)
 * @req:	request index (W_RESOLVE)
 */
struct dns_waiter {
	uint32_t next;
	uint8_t kind;
	bool edns;
	bool do_bit;
	uint16_t id;
	uint16_t flags;
	uint16_t udp_size;
	uint8_t casemask[32];
	union {
		struct dns_client c;
		uint32_t req;
	} u;
};

/**
 * struct dns_inflight - one upstream resolution (singleflight per key)
 * @hnext:	hash chain (index + 1) / free list
 * @hash:	key hash
 * @type:	query type
 * @namelen:	wire length of @name
 * @name:	lower-case wire name
 * @used:	slot in use
 * @tcp:	current try uses TCP
 * @client_done: client-response timer already handled
 * @whead:	first waiter (index + 1)
 * @wtail:	last waiter
 * @nwait:	number of waiters
 * @qid:	ID of the current upstream query
 * @server:	index of the server of the current try
 * @tries:	tries started
 * @start_ms:	when the resolution started
 * @try_deadline: when the current try times out
 * @io:		socket of the current try (io.fd -1 when none)
 * @timer:	fires at the earlier of @try_deadline and the client deadline
 * @tbuf:	TCP buffer (malloc'd only for TCP tries)
 * @tlen:	bytes in @tbuf (to send, then received)
 * @tpos:	bytes sent / expected
 * @d:		back pointer
 */
struct dns_inflight {
	uint32_t hnext;
	uint32_t hash;
	uint16_t type;
	uint8_t namelen;
	uint8_t name[DNS_NAME_MAX];
	bool used;
	bool tcp;
	bool tcp_sent;
	bool client_done;
	uint32_t whead;
	uint32_t wtail;
	uint32_t nwait;
	uint16_t qid;
	int server;
	unsigned int tries;
	uint64_t start_ms;
	uint64_t try_deadline;
	struct vg_io io;
	struct vg_timer timer;
	uint8_t *tbuf;
	size_t tlen;
	size_t tpos;
	struct dns *d;
};

/**
 * struct dns_req - one dns_resolve() request (A and AAAA halves)
 * @gen:	generation, part of the handle
 * @used:	slot in use
 * @pending:	halves not finished yet
 * @status:	worst status so far
 * @cb:		callback
 * @arg:	its argument
 * @n:		addresses collected
 * @addrs:	them
 */
struct dns_req {
	uint32_t gen;
	bool used;
	int pending;
	int status;
	dns_resolve_fn cb;
	void *arg;
	int n;
	struct dns_addr addrs[DNS_RESOLVE_MAX_ADDRS];
};

/**
 * struct dns_kept - answer that left the cache, kept for dns_lookup_addrs()
 * @d:		the data (owned), NULL when empty
 * @type:	A or AAAA
 * @expire_ms:	expiry of the entry it came from
 */
struct dns_kept {
	struct dns_data *d;
	uint16_t type;
	uint64_t expire_ms;
};

/**
 * struct dns_zrec - one static record
 * @used:	slot in use
 * @hn:		wire_hash_name() of @name
 * @namelen:	wire length of @name
 * @name:	lower-case wire name
 * @ptrlen:	wire length of @ptr
 * @ptr:	reverse name (in-addr.arpa / ip6.arpa) of @rec.addr
 * @rec:	the record as configured
 */
struct dns_zrec {
	bool used;
	uint64_t hn;
	uint8_t namelen;
	uint8_t name[DNS_NAME_MAX];
	uint8_t ptrlen;
	uint8_t ptr[DNS_NAME_MAX];
	struct dns_record rec;
};

struct dns {
	struct vg_loop *loop;
	struct dns_config cfg;
	dns_answer_fn answer;
	void *answer_ctx;
	bool (*filter)(void *ctx, const char *name);
	void *filter_ctx;
	uint64_t seed;
	uint8_t rnd[256];
	unsigned int rnd_pos;
	int up_pref;

	struct dns_cache cache;

	struct dns_inflight *inf;
	uint32_t *inf_buckets;
	uint32_t inf_nbuckets;
	uint32_t inf_free;
	uint32_t ninflight;

	struct dns_waiter *w;
	uint32_t w_free;
	uint32_t nwaiters;

	struct dns_req *req;
	uint32_t nreq;

	struct dns_kept *kept;
	uint32_t kept_pos;

	struct dns_zrec *zone;
	uint8_t local_zone[DNS_NAME_MAX];
	int local_zone_len;

	struct dns_stats st;
	uint8_t out[DNS_BUF_SIZE];
	uint8_t rx[DNS_BUF_SIZE];
	_Alignas(8) uint8_t scratch[DNS_BUF_SIZE];
};

/* dns.c */
void dns_rand(struct dns *d, void *buf, size_t len);
void dns_finish(struct dns *d, struct dns_inflight *f, struct dns_data *data, uint32_t ttl);
void dns_client_timeout(struct dns *d, struct dns_inflight *f);

/* resolver.c */
int resolver_init(struct dns *d);
void resolver_free(struct dns *d);
struct dns_inflight *resolver_find(struct dns *d, const uint8_t *name, size_t namelen,
				   uint16_t type, uint32_t hash);
struct dns_inflight *resolver_start(struct dns *d, const uint8_t *name, size_t namelen,
				    uint16_t type, uint32_t hash);
void resolver_release(struct dns *d, struct dns_inflight *f);
void resolver_go(struct dns_inflight *f);
int resolver_udp_reply(struct dns_inflight *f, const uint8_t *buf, size_t len);

#endif /* VGATE_DNS_INTERNAL_H */
