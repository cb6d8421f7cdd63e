/* SPDX-License-Identifier: MIT */
/*
 * resolver.h - upstream resolution for dns/: the in-flight table (one
 * struct dns_inflight per key, singleflight) and the tries that resolve it
 * (resolver.c). Internal to dns/.
 *
 * The resolver knows nothing of guests, waiters or the cache: its owner
 * claims a slot (resolver_start), attaches whatever it waits with (the
 * waiter fields of struct dns_inflight are the owner's), then sends the
 * first try (resolver_go). The resolver reports back only through the two
 * callbacks registered at resolver_init(): @done when the resolution ended
 * (with the stored answer, or none on failure) and @client_timeout when the
 * client-response time passed while it carries on. So resolver.c calls
 * nothing in dns.c.
 *
 * Ownership: struct dns_resolver is embedded in its owner; its pools are
 * allocated by resolver_init() and freed by resolver_free(). It reads the
 * owner's config and bumps the owner's counters through the pointers given
 * at init, which must outlive it. Return convention: 0 or -errno; lookups
 * return a pointer or NULL.
 */
#ifndef VGATE_DNS_RESOLVER_H
#define VGATE_DNS_RESOLVER_H

#include "dns.h"
#include "wire.h"
#include "netstack/loop.h"

#define DNS_BUF_SIZE (DNS_MSG_MAX + 1024)

struct dns_data;
struct dns_rng;
struct dns_resolver;

/**
 * struct dns_inflight - one upstream resolution (singleflight per key)
 * @hnext:	hash chain (index + 1) / free list
 * @hash:	key hash
 * @type:	query type
 * @cd:		the query has CD set (its key has DNS_KEY_CD), sent upstream
 * @got_reply:	a try got a reply that matched but was unusable
 * @ede:	when it failed: DNS_EDE_NETWORK after unusable replies,
 *		DNS_EDE_NO_AUTHORITY when no server answered at all
 * @namelen:	wire length of @name
 * @name:	lower-case wire name
 * @used:	slot in use
 * @tcp:	current try uses TCP
 * @tcp_sent:	the TCP query has been written
 * @client_done: client-response timer already handled
 * @whead:	first waiter (index + 1); owner's, zeroed by resolver_start()
 * @wtail:	last waiter; owner's
 * @nwait:	number of waiters; owner's
 * @qid:	ID of the current upstream query
 * @route:	upstreams of the current try: split-DNS route index, -1 default
 * @server:	index of the server of the current try in its list
 * @gen:	r->gen when the current try started (its counters are valid)
 * @up:		the server of the current try (a copy: the lists can change
 *		under a try, dns_set_upstreams())
 * @tries:	tries started
 * @start_ms:	when the resolution started
 * @try_deadline: when the current try times out
 * @io:		socket of the current try (io.fd -1 when none)
 * @timer:	fires at the earlier of @try_deadline and the client deadline
 * @tbuf:	TCP buffer (malloc'd only for TCP tries)
 * @tlen:	bytes in @tbuf (to send, then received)
 * @tpos:	bytes sent / expected
 * @r:		back pointer
 */
struct dns_inflight {
	uint32_t hnext;
	uint32_t hash;
	uint16_t type;
	bool cd;
	bool got_reply;
	uint8_t ede;
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
	int route;
	int server;
	uint32_t gen;
	struct dns_upstream up;
	unsigned int tries;
	uint64_t start_ms;
	uint64_t try_deadline;
	struct vg_io io;
	struct vg_timer timer;
	uint8_t *tbuf;
	size_t tlen;
	size_t tpos;
	struct dns_resolver *r;
};

/**
 * typedef resolver_done_fn - a resolution ended; the callback must call
 * resolver_release() on @f (after detaching its waiters)
 * @ctx:	the context given to resolver_init()
 * @f:		the query
 * @data:	stored answer (ownership passes to the callback), or NULL when
 *		every try failed
 * @ttl:	TTL of @data
 */
typedef void (*resolver_done_fn)(void *ctx, struct dns_inflight *f, struct dns_data *data,
				 uint32_t ttl);

/**
 * typedef resolver_timeout_fn - the client-response time of @f passed; @f
 * stays in flight and must not be released by the callback
 * @ctx:	the context given to resolver_init()
 * @f:		the query
 */
typedef void (*resolver_timeout_fn)(void *ctx, struct dns_inflight *f);

/**
 * struct resolver_cb - how a resolver reports to its owner
 * @done:		a resolution ended
 * @client_timeout:	a query's client-response time passed
 * @ctx:		argument of both
 */
struct resolver_cb {
	resolver_done_fn done;
	resolver_timeout_fn client_timeout;
	void *ctx;
};

/**
 * struct dns_resolver - the in-flight table and what the tries need
 * @loop:	event loop (sockets, timers, time)
 * @cfg:	owner's config (upstreams, timeouts, TTL caps, table bounds)
 * @st:		owner's counters (upstream_*, spoofed)
 * @rng:	random pool for query IDs
 * @cb:		the owner's callbacks
 * @inf:	pool of cfg->max_inflight queries
 * @buckets:	hash table of pool indices + 1
 * @nbuckets:	its size (power of two)
 * @free:	free list head (index + 1) of released slots
 * @fresh:	slots handed out so far: @inf[@fresh..] were never used (the
 *		pool is taken in order, its pages untouched until needed)
 * @ninflight:	queries in use
 * @up_pref:	per list (default, then each route): server that answered
 *		last (tried first)
 * @gen:	bumped by resolver_reconfigure()
 * @ust:	per-server counters, [0] the default upstreams, [1 + i] route i
 * @rx:		receive buffer for UDP replies
 */
struct dns_resolver {
	struct vg_loop *loop;
	const struct dns_config *cfg;
	struct dns_stats *st;
	struct dns_rng *rng;
	struct resolver_cb cb;
	struct dns_inflight *inf;
	uint32_t *buckets;
	uint32_t nbuckets;
	uint32_t free;
	uint32_t fresh;
	uint32_t ninflight;
	int up_pref[DNS_MAX_DOMAINS + 1];
	uint32_t gen;
	struct dns_upstream_stats ust[DNS_MAX_DOMAINS + 1][DNS_MAX_UPSTREAMS];
	uint8_t rx[DNS_BUF_SIZE];
};

int resolver_init(struct dns_resolver *r, struct vg_loop *loop, const struct dns_config *cfg,
		  struct dns_stats *st, struct dns_rng *rng, const struct resolver_cb *cb);
void resolver_free(struct dns_resolver *r);
struct dns_inflight *resolver_find(struct dns_resolver *r, const uint8_t *name, size_t namelen,
				   uint32_t type, uint32_t hash);
struct dns_inflight *resolver_start(struct dns_resolver *r, const uint8_t *name, size_t namelen,
				    uint32_t type, uint32_t hash);
void resolver_release(struct dns_resolver *r, struct dns_inflight *f);
void resolver_go(struct dns_inflight *f);
int resolver_udp_reply(struct dns_inflight *f, const uint8_t *buf, size_t len);
void resolver_reconfigure(struct dns_resolver *r, const struct dns_config *old);

#endif /* VGATE_DNS_RESOLVER_H */
