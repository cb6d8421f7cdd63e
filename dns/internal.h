/* SPDX-License-Identifier: MIT */
/*
 * internal.h - struct dns and what the files of the DNS service share:
 * dns.c (query path, waiters, cache policy, lifecycle), zone.c (static
 * records and the local zone), gvzone.c (gvproxy's zones, asked by zone.c)
 * and lookup.c (the forwarder's lookup and resolve API). The upstream side
 * is resolver.h, the cache cache.h.
 *
 * Call graph (no cycles): lookup.c -> dns.c -> zone.c -> gvzone.c, resolver.c;
 * dns.c -> dns64.c (DNS64 synthesis, a leaf);
 * lookup.c -> zone.c; all of them -> cache.c, wire.c, msg.c, rand.c. The
 * upward calls go through callbacks registered at creation: resolver.c
 * reports to dns.c through resolver_init()'s callbacks, and a callback
 * waiter (W_CALLBACK) carries the function dns.c calls when its query ends.
 *
 * Tables, all allocated in dns_new() with the bounds of struct dns_config:
 *  - cache: struct dns_cache (cache.h)
 *  - in-flight upstream queries: struct dns_resolver (resolver.h)
 *  - waiters: pool of struct dns_waiter, singly linked per in-flight query;
 *    a waiter is either a guest query to answer or a callback (one half,
 *    A or AAAA, of a dns_resolve() request)
 *  - resolve requests: pool of struct dns_req, handles carry a generation
 *  - kept answers: ring of struct dns_data that left the cache recently,
 *    for dns_lookup_addrs() grace
 *  - static records: array of struct dns_zrec
 * Ownership: every pool belongs to struct dns; nothing is shared elsewhere.
 *
 * Return conventions inside dns/ (dns.h states the public one): functions
 * that can fail return 0 (or a count / an rcode where documented) on
 * success and -errno on failure; lookups return a pointer or NULL;
 * functions that cannot fail return void. The wire and msg parsers
 * (wire.h, msg.h) return -1 for malformed input, their only failure.
 * Time always comes from the loop (vg_loop_now()), never from the system.
 */
#ifndef VGATE_DNS_INTERNAL_H
#define VGATE_DNS_INTERNAL_H

#include "dns.h"
#include "cache.h"
#include "rand.h"
#include "resolver.h"
#include "wire.h"
#include "netstack/loop.h"

#include <sys/socket.h>

enum { W_GUEST = 1, W_CALLBACK = 2 };

struct dns;

/**
 * typedef dns_waiter_fn - a callback waiter's query ended
 * @d:		service
 * @arg:	the value given with the waiter
 * @data:	the answer (valid during the call), or NULL when upstream failed
 * @type:	the query type
 */
typedef void (*dns_waiter_fn)(struct dns *d, uint32_t arg, const struct dns_data *data,
			      uint16_t type);

/**
 * struct dns_waiter - one query waiting for an in-flight upstream query
 * @next:	next waiter (index + 1) of the same in-flight query, or free list
 * @kind:	W_GUEST or W_CALLBACK
 * @edns:	guest query had EDNS (plus @do_bit, @udp_size)
 * @id:		guest message ID
 * @flags:	guest header flags
 * @dns64:	a guest AAAA query waiting on the A query of its name for
 *		DNS64 synthesis (answered as AAAA)
 * @ptr64:	a guest PTR query of an ip6.arpa name in the NAT64 prefix
 *		waiting on the PTR query of its in-addr.arpa name for DNS64
 *		PTR synthesis (answered as a CNAME to it plus its answer)
 * @neg_ttl:	with @dns64: the TTL of the AAAA NODATA answer (its SOA
 *		minimum), the cap when it had no SOA
 * @casemask:	bit i set: byte i of the guest's qname was an upper-case letter
 * @c:		guest client (W_GUEST)
 * @cb:		function and argument (W_CALLBACK)
 */
struct dns_waiter {
	uint32_t next;
	uint8_t kind;
	bool dns64;
	bool ptr64;
	bool edns;
	bool do_bit;
	uint16_t id;
	uint16_t flags;
	uint16_t udp_size;
	uint32_t neg_ttl;
	uint8_t casemask[32];
	union {
		struct dns_client c;
		struct {
			dns_waiter_fn fn;
			uint32_t arg;
		} cb;
	} u;
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
	struct dns_rng rng;

	struct dns_cache cache;
	struct dns_resolver res;

	struct dns_waiter *w;
	uint32_t w_free;  /* released waiters (index + 1) */
	uint32_t w_fresh; /* waiters handed out so far: w[w_fresh..] never used */
	uint32_t nwaiters;

	struct dns_req *req;
	uint32_t nreq;

	struct dns_kept *kept;
	uint32_t kept_pos;

	struct dns_zrec *zone;
	struct dns_gvzones *gvz; /* gvproxy's zones, NULL until one is added */
	uint8_t local_zone[DNS_NAME_MAX];
	int local_zone_len;

	struct dns_stats st;
	uint8_t out[DNS_BUF_SIZE];
	_Alignas(8) uint8_t scratch[DNS_BUF_SIZE];
};

/* dns.c */
void dns_finish(struct dns *d, struct dns_inflight *f, struct dns_data *data, uint32_t ttl);
int dns_wait(struct dns *d, struct dns_inflight *f, const uint8_t *key, size_t len, uint32_t type,
	     uint32_t h, const struct dns_waiter *w);

/* dns64.c */
struct dns_data *dns64_synth(const uint8_t *name, size_t namelen, const uint8_t *rr, size_t rrlen,
			     unsigned int an, uint32_t ttl, uint8_t *scratch);
bool dns64_nodata(const struct dns_data *data, uint8_t *scratch);
size_t dns64_ptr_target(const uint8_t *name, size_t namelen, uint8_t *out);
size_t dns64_ptr_alias(const uint8_t *name, size_t namelen, uint8_t *out);

/* zone.c */
int zone_add(struct dns *d, const char *name, const struct dns_addr *addr);
int zone_answer(const struct dns *d, const struct dns_qinfo *q, const uint8_t *key, uint64_t hn,
		struct dns_data *out);
bool zone_addrs(const struct dns *d, const uint8_t *key, size_t len, struct dns_addr *out, int max,
		int *n);

/* gvzone.c */
int gvzone_answer(const struct dns *d, const struct dns_qinfo *q, const uint8_t *key,
		  struct dns_data *out);
void gvzone_free(struct dns *d);

#endif /* VGATE_DNS_INTERNAL_H */
