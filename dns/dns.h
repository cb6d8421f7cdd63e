/* SPDX-License-Identifier: MIT */
/*
 * dns.h - vgate's DNS service for the guest: the whole public contract of dns/.
 *
 * The gateway's port 53 (dns_gateway_new(), UDP and TCP, with the TCP
 * framing and its limits) hands every guest query to dns_query_in(); the
 * answer comes back through the dns_answer_fn given to dns_new() (the
 * gateway's, once it is attached), either synchronously (cache hit, static
 * zone, error) or later
 * from the event loop (cache miss answered by an upstream server). Answers
 * come from one LRU cache (key: lower-cased name, type, class IN) whose TTLs
 * are capped (5 s by default) and count down; misses go to the upstream
 * servers over non-blocking UDP (TCP on truncation) with one in-flight
 * upstream query per key (singleflight). Failures are cached briefly,
 * expired entries are served stale when upstream fails (RFC 8767), and hot
 * entries are refreshed in the background before they expire (prefetch).
 *
 * The same cache serves the forwarder: dns_lookup_addrs() says which
 * addresses were handed out for a name (with a grace period after expiry)
 * and dns_resolve() resolves a name through the same singleflight.
 *
 * Ownership and threading: a struct dns is owned by its creator and used only
 * from the thread that runs its event loop. Every table has a fixed bound set
 * by struct dns_config at dns_new() time; nothing grows afterwards. The
 * loop's timer heap must have room for dns_timers_needed() timers. No ldns
 * type appears in this header. All time is the loop's (vg_loop_now()), so a
 * loop on a manual clock (vg_loop_set_clock()) controls TTLs and timeouts.
 *
 * Return convention: functions that can fail return 0 (or a count or handle
 * where documented) on success and -errno on failure; dns_new() and
 * dns_gateway_new() return NULL with errno set; the rest return void and
 * cannot fail (a guest query that cannot be served is answered with
 * SERVFAIL and counted).
 */
#ifndef VGATE_DNS_H
#define VGATE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

struct vg_loop;
struct dns;
struct dns_gateway;
struct ns;

#define DNS_PROTO_UDP 17
#define DNS_PROTO_TCP 6

#define DNS_MAX_UPSTREAMS   8  /* default upstreams, and servers of one split-DNS domain */
#define DNS_MAX_DOMAINS	    32 /* split-DNS domains (--dns-upstream-for) */
#define DNS_MAX_CFG_RECORDS 64
#define DNS_MAX_RECORDS 256
#define DNS_NAME_TEXT_MAX 1025 /* longest presentation name (\DDD escapes) + NUL */

/**
 * struct dns_client - where a guest query came from; opaque to dns but @proto
 * @proto:	DNS_PROTO_UDP or DNS_PROTO_TCP (decides truncation)
 * @ip:		guest address, network order
 * @port:	guest port
 * @conn_id:	netstack's connection id (TCP)
 * @v6:		the query came over IPv6: @ip6 is the guest's address and
 *		@gw6 the gateway address it was sent to (@ip is 0)
 * @ip6:	guest IPv6 address
 * @gw6:	gateway IPv6 address (PREFIX::1 or fe80::1), source of the answer
 */
struct dns_client {
	int proto;
	uint32_t ip;
	uint16_t port;
	uint64_t conn_id;
	bool v6;
	uint8_t ip6[16];
	uint8_t gw6[16];
};

/**
 * typedef dns_answer_fn - deliver one answer message to the guest
 * @ctx:	the pointer given to dns_new()
 * @c:		the client of the query (a copy; valid during the call)
 * @msg:	DNS message, without TCP length prefix; valid during the call
 * @len:	its length
 */
typedef void (*dns_answer_fn)(void *ctx, const struct dns_client *c, const uint8_t *msg,
			      size_t len);

/**
 * struct dns_addr - an IPv4 or IPv6 address
 * @family:	AF_INET or AF_INET6
 * @a:		address bytes (4 or 16 used), network order
 */
struct dns_addr {
	int family;
	uint8_t a[16];
};

/**
 * dns_addr_equal() - whether two addresses are the same: same family and
 * the same 4 (AF_INET) or 16 (AF_INET6) bytes
 * @x:	address
 * @y:	address
 *
 * Return: true when equal
 */
static inline bool dns_addr_equal(const struct dns_addr *x, const struct dns_addr *y)
{
	return x->family == y->family && !memcmp(x->a, y->a, x->family == AF_INET ? 4 : 16);
}

/**
 * struct dns_upstream - one upstream server
 * @addr:	server address
 * @port:	UDP/TCP port (host order), 53 by default
 * @scope_id:	IPv6 scope (interface index) for link-local servers, else 0
 */
struct dns_upstream {
	struct dns_addr addr;
	uint16_t port;
	uint32_t scope_id;
};

/**
 * struct dns_domain_route - split DNS: names at or under @domain are sent to
 * @servers only (never to the default upstreams), with the same failover,
 * reply checks and singleflight; the longest matching domain wins
 * @domain:	lower-case presentation name without trailing dot ("corp.example")
 * @wire:	the same in wire format (filled by dns_config_add_route())
 * @wirelen:	its length
 * @servers:	its servers, tried in order with failover
 * @n_servers:	number of @servers; 0 (all outside the outbound policy) makes
 *		the domain's names fail with SERVFAIL rather than leak elsewhere
 */
struct dns_domain_route {
	char domain[256];
	uint8_t wire[255];
	uint8_t wirelen;
	struct dns_upstream servers[DNS_MAX_UPSTREAMS];
	int n_servers;
};

/**
 * struct dns_record - one static name -> address mapping (also answers PTR)
 * @name:	name in presentation format, e.g. "gateway.vgate.internal"
 * @addr:	its address
 */
struct dns_record {
	char name[256];
	struct dns_addr addr;
};

/**
 * struct dns_config - settings fixed at dns_new() time (records also at run time)
 * @cache_size:		cache capacity in entries (--dns-cache-size, 10000)
 * @cache_max_bytes:	bound on the bytes of cached answer data (8 MiB)
 * @max_ttl_s:		TTL cap of every cached entry (--dns-max-ttl, 5)
 * @fail_ttl_s:		how long SERVFAIL/timeouts are cached (--dns-fail-ttl, 1)
 * @stale_max_s:	how long after expiry an entry may be served stale (3600)
 * @client_timeout_ms:	after this, waiters get a stale answer if one exists (1800)
 * @addr_keep_ms:	how long addresses of replaced/evicted entries are kept for
 *			dns_lookup_addrs() (60000)
 * @addr_keep_max:	bound on such kept answers (1024)
 * @max_inflight:	bound on concurrent upstream queries (512)
 * @max_waiters:	bound on queued guest queries and resolve requests (4096)
 * @max_waiters_per_key: bound on waiters for one key (2048)
 * @max_resolves:	bound on concurrent dns_resolve() requests (256)
 * @edns_udp_size:	our EDNS0 UDP size, upper bound for UDP answers (1232)
 * @upstreams:		upstream servers, tried in order with failover
 * @n_upstreams:	number of @upstreams
 * @upstream_timeout_ms: per-try timeout (resolv.conf "timeout:", 1000)
 * @upstream_attempts:	rounds over all servers (resolv.conf "attempts:", 2)
 * @routes:		split-DNS domains (--dns-upstream-for)
 * @n_routes:		number of @routes
 * @records:		static records
 * @n_records:		number of @records
 * @local_zone:		names under this suffix that are not static records get
 *			NXDOMAIN without asking upstream ("vgate.internal";
 *			empty string to disable)
 * @dns64:		DNS64 (RFC 6147, --nat64): an AAAA query whose answer is
 *			NODATA is answered with 64:ff9b::a.b.c.d records made from
 *			the name's A records (TTL: the smallest of the A answer's,
 *			the NODATA's SOA minimum and the cap); real AAAA records
 *			and NXDOMAIN are answered as they are. Queries with the
 *			CD bit (a validating client, RFC 6147 5.5) get the real
 *			answer, never a synthesized one; stale answers are
 *			synthesized too. A PTR query (no CD) for the ip6.arpa
 *			name of 64:ff9b::a.b.c.d is answered with a CNAME to
 *			d.c.b.a.in-addr.arpa plus that name's PTR answer
 *			(RFC 6147 5.3.1) (false)
 */
struct dns_config {
	uint32_t cache_size;
	size_t cache_max_bytes;
	uint32_t max_ttl_s;
	uint32_t fail_ttl_s;
	uint32_t stale_max_s;
	uint32_t client_timeout_ms;
	uint32_t addr_keep_ms;
	uint32_t addr_keep_max;
	uint32_t max_inflight;
	uint32_t max_waiters;
	uint32_t max_waiters_per_key;
	uint32_t max_resolves;
	uint16_t edns_udp_size;
	struct dns_upstream upstreams[DNS_MAX_UPSTREAMS];
	int n_upstreams;
	uint32_t upstream_timeout_ms;
	uint32_t upstream_attempts;
	struct dns_domain_route routes[DNS_MAX_DOMAINS];
	int n_routes;
	struct dns_record records[DNS_MAX_CFG_RECORDS];
	int n_records;
	char local_zone[256];
	bool dns64;
};

/**
 * dns_config_defaults() - fill @cfg with the defaults (no upstreams, no records)
 * @cfg:	config to fill
 */
void dns_config_defaults(struct dns_config *cfg);

/**
 * dns_parse_upstream() - parse "ADDR", "ADDR:PORT", "[V6]:PORT", "V6", "V6%IF"
 * @s:		text
 * @out:	result (port 53 when not given)
 *
 * Return: 0, or -EINVAL
 */
int dns_parse_upstream(const char *s, struct dns_upstream *out);

/**
 * dns_config_add_upstream() - parse and append an upstream (--dns-upstream)
 * @cfg:	config
 * @s:		"ADDR[:PORT]" as for dns_parse_upstream()
 *
 * Return: 0, -EINVAL on bad syntax, -ENOSPC when the list is full
 */
int dns_config_add_upstream(struct dns_config *cfg, const char *s);

/**
 * dns_parse_upstream_for() - parse "DOMAIN=ADDR[:PORT]" (--dns-upstream-for)
 * @s:		text; DOMAIN may end with a dot, any case; ADDR[:PORT] as for
 *		dns_parse_upstream()
 * @domain:	DOMAIN, lower-case, without trailing dot (256 bytes)
 * @out:	the server
 * @why:	on error, a static phrase saying what is wrong (may be NULL)
 *
 * The root (".") is refused: that is --dns-upstream.
 *
 * Return: 0, or -EINVAL
 */
int dns_parse_upstream_for(const char *s, char *domain, struct dns_upstream *out, const char **why);

/**
 * dns_config_add_route() - add a server for a split-DNS domain: appended to
 * the domain's servers, or a new route
 * @cfg:	config
 * @domain:	lower-case presentation name without trailing dot
 * @u:		server, or NULL to add the domain with no server (yet)
 *
 * Return: 0, -EINVAL for a bad domain, -ENOSPC when DNS_MAX_DOMAINS domains
 *	   exist, -E2BIG when the domain has DNS_MAX_UPSTREAMS servers
 */
int dns_config_add_route(struct dns_config *cfg, const char *domain, const struct dns_upstream *u);

/**
 * dns_config_route() - which upstreams serve @name: the route with the
 * longest domain that is @name or a suffix of it at a label boundary
 * @cfg:	config
 * @name:	lower-case wire name
 * @len:	its length
 *
 * Return: index into @cfg->routes, or -1 for the default upstreams
 */
int dns_config_route(const struct dns_config *cfg, const uint8_t *name, size_t len);

/**
 * dns_config_route_text() - dns_config_route() for a presentation name
 * (any case, trailing dot optional)
 * @cfg:	config
 * @name:	name
 *
 * Return: index into @cfg->routes, -ENOENT for the default upstreams,
 *	   -EINVAL for a bad name
 */
int dns_config_route_text(const struct dns_config *cfg, const char *name);

/**
 * dns_set_upstreams() - replace the upstream servers at run time: the
 * default upstreams, their timeout and attempts, and the split-DNS routes
 * are copied from @src (nothing else of it is read). The cache is kept;
 * queries in flight finish their current try and take their next try from
 * the new servers. Per-server counters carry over for servers (same domain,
 * address and port) that stay.
 * @d:		service
 * @src:	config holding the new upstreams and routes
 *
 * Return: 0, -EINVAL for counts out of bounds, -ENOMEM (nothing changed)
 */
int dns_set_upstreams(struct dns *d, const struct dns_config *src);

/**
 * dns_config_load_resolv_conf() - append the nameservers of a resolv.conf file
 * @cfg:	config; "options timeout:N attempts:N" also set its timeouts
 * @path:	file, usually "/etc/resolv.conf"
 *
 * Return: number of servers added, or -errno
 */
int dns_config_load_resolv_conf(struct dns_config *cfg, const char *path);

/**
 * dns_parse_record() - parse "NAME=IP" (--dns-record)
 * @s:		text
 * @out:	result
 *
 * Return: 0, or -EINVAL
 */
int dns_parse_record(const char *s, struct dns_record *out);

/**
 * dns_config_add_record() - append a static record to @cfg
 * @cfg:	config
 * @name:	name, presentation format
 * @addr:	address
 *
 * Return: 0, -EINVAL for a bad name, -ENOSPC when full
 */
int dns_config_add_record(struct dns_config *cfg, const char *name, const struct dns_addr *addr);

/**
 * dns_timers_needed() - how many loop timers a dns with @cfg may arm at once
 * @cfg:	config
 *
 * Return: the count; size the vg_loop timer heap to hold it
 */
size_t dns_timers_needed(const struct dns_config *cfg);

/**
 * dns_new() - create the DNS service
 * @loop:	event loop for upstream sockets and timers
 * @cfg:	settings (copied)
 * @answer:	where answers go; NULL until dns_gateway_new() takes them
 * @ctx:	argument of @answer
 *
 * Return: the service, or NULL (errno set)
 */
struct dns *dns_new(struct vg_loop *loop, const struct dns_config *cfg, dns_answer_fn answer,
		    void *ctx);

/**
 * dns_free() - destroy; pending queries are dropped without answers, pending
 * dns_resolve() callbacks are not called
 * @d:	service, may be NULL
 */
void dns_free(struct dns *d);

/**
 * dns_gateway_new() - serve @d on the gateway's port 53 (UDP and TCP, on
 * its IPv4 address and, unless the netstack's IPv6 is off, on PREFIX::1 and
 * fe80::1): registers the port with the netstack and becomes @d's answer
 * function
 * @d:		service
 * @ns:		netstack
 * @gateway_ip:	the gateway's IPv4 address (network order), source of IPv4
 *		UDP answers (IPv6 ones come from the address they were sent to)
 *
 * DNS over TCP (RFC 7766): 2-byte length framing; at most DNS_GW_TCP_MAX
 * connections, of which one guest address (IPv4 or IPv6) holds at most
 * DNS_GW_TCP_PER_SRC.
 * A new connection over either bound evicts (resets) the least recently
 * active connection without a query in flight (of that address, or of the
 * whole table); only when every candidate has a query in flight is the new
 * one reset. A connection without a query in flight is reset after
 * DNS_GW_TCP_IDLE_MS without traffic (DNS_GW_TCP_IDLE_FULL_MS once the table
 * is 3/4 full), one with a query in flight after DNS_GW_TCP_BUSY_MS. A
 * message buffer exists only while a message is being received (its
 * length), so idle connections hold no buffer. A guest FIN closes a
 * connection and drops its pending answers. Evictions, refusals and idle
 * closes are counted in struct dns_stats (tcp_*) and logged (rate-limited)
 * through dns_gateway_set_log().
 *
 * Return: the gateway, or NULL (errno set: the netstack's registration error)
 */
struct dns_gateway *dns_gateway_new(struct dns *d, struct ns *ns, uint32_t gateway_ip);

#define DNS_GW_TCP_MAX 64	     /* DNS-over-TCP connections at once */
#define DNS_GW_TCP_PER_SRC 16	     /* of which from one guest address */
#define DNS_GW_TCP_IDLE_MS 5000	     /* idle timeout (RFC 7766 6.2.3: seconds) */
#define DNS_GW_TCP_IDLE_FULL_MS 1000 /* idle timeout with the table 3/4 full */
#define DNS_GW_TCP_BUSY_MS 30000     /* no traffic with a query in flight */

/**
 * typedef dns_log_fn - where the gateway's log lines go
 * @ctx:	the argument given with it
 * @warn:	a warning rather than information
 * @line:	the line, without newline (valid during the call)
 */
typedef void (*dns_log_fn)(void *ctx, bool warn, const char *line);

/**
 * dns_gateway_set_log() - set the sink of the gateway's log lines (at most
 * one a second: the DNS-over-TCP table or a guest address's share of it is
 * full)
 * @g:		gateway
 * @fn:		sink, or NULL for none (the default)
 * @ctx:	its argument
 */
void dns_gateway_set_log(struct dns_gateway *g, dns_log_fn fn, void *ctx);

/**
 * dns_gateway_free() - free the gateway; after ns_free() (the netstack has
 * released its connections) and before dns_free()
 * @g:	gateway, may be NULL
 */
void dns_gateway_free(struct dns_gateway *g);

/**
 * dns_query_in() - handle one guest query
 * @d:		service
 * @c:		client (copied)
 * @msg:	DNS message (UDP payload, or one TCP message without length prefix)
 * @len:	its length
 *
 * Malformed queries get FORMERR (or are dropped when not even the header is
 * there) and are counted. The answer may be delivered before this returns.
 */
void dns_query_in(struct dns *d, const struct dns_client *c, const uint8_t *msg, size_t len);

/**
 * dns_set_filter() - restrict which names the guest may resolve
 * @d:		service
 * @allowed:	returns true when the lower-case name (no trailing dot) may be
 *		resolved; others get NXDOMAIN. NULL removes the filter.
 *		Static records and the local zone are always allowed.
 * @ctx:	argument of @allowed
 */
void dns_set_filter(struct dns *d, bool (*allowed)(void *ctx, const char *name), void *ctx);

/**
 * dns_add_record() - add a static record at run time
 * @d:		service
 * @name:	name
 * @addr:	address
 *
 * Return: 0, -EINVAL, -EEXIST, or -ENOSPC (DNS_MAX_RECORDS)
 */
int dns_add_record(struct dns *d, const char *name, const struct dns_addr *addr);

/**
 * dns_remove_record() - remove static records of @name
 * @d:		service
 * @name:	name
 * @addr:	only this address, or NULL for all of @name
 *
 * Return: number removed
 */
int dns_remove_record(struct dns *d, const char *name, const struct dns_addr *addr);

/**
 * dns_list_records() - call @fn for every static record
 * @d:		service
 * @fn:		callback
 * @ctx:	its argument
 */
void dns_list_records(struct dns *d, void (*fn)(void *ctx, const struct dns_record *r),
		      void *ctx);

/* gvproxy's DNS zones (gvzone.c): bounds */
#define DNS_GVZONES_MAX	     16
#define DNS_GVZONE_RULES_MAX 32

/**
 * struct dns_gvrule - one record of a gvproxy zone
 * @name:	the name below the zone it answers exactly ("gateway"), or ""
 * @regexp:	an extended regular expression the name below the zone must
 *		match (unanchored), or ""
 * @ip:		the IPv4 address answered
 */
struct dns_gvrule {
	char name[64];
	char regexp[128];
	struct dns_addr ip;
};

/**
 * struct dns_gvzone - a gvproxy zone: A queries for names below @name
 * are answered from its rules, else @default_ip, else NXDOMAIN; other types
 * get an empty answer
 * @name:	the zone, e.g. "containers.internal." (trailing dot optional)
 * @rules:	records, first match wins
 * @n_rules:	their number
 * @default_ip:	family AF_INET: the answer when no rule matches; 0: none
 */
struct dns_gvzone {
	char name[256];
	struct dns_gvrule rules[DNS_GVZONE_RULES_MAX];
	int n_rules;
	struct dns_addr default_ip;
};

/**
 * dns_gvzone_add() - add a zone, or merge into the zone of that name as
 * gvproxy does (the new records before the old, the default address
 * replaced); static records (dns_add_record()) still win
 * @d:		service
 * @z:		zone (copied)
 * @err:	one line on failure
 * @errlen:	its size
 *
 * Return: 0, -EINVAL (bad name, record or expression: nothing changed),
 *	   -ENOSPC (DNS_GVZONES_MAX zones, DNS_GVZONE_RULES_MAX records) or
 *	   -ENOMEM
 */
int dns_gvzone_add(struct dns *d, const struct dns_gvzone *z, char *err, size_t errlen);

/**
 * dns_gvzone_foreach() - call @fn for every zone, in the order added
 * @d:		service
 * @fn:		callback
 * @ctx:	its argument
 */
void dns_gvzone_foreach(struct dns *d, void (*fn)(void *ctx, const struct dns_gvzone *z), void *ctx);

/**
 * struct dns_stats - counters since dns_new(), and the current cache size
 */
struct dns_stats {
	uint64_t queries;		/* guest queries received */
	uint64_t hits;			/* answered from a fresh cache entry */
	uint64_t misses;		/* had to wait for upstream */
	uint64_t stale_serves;		/* answered from an expired entry */
	uint64_t prefetches;		/* background refreshes started by hits */
	uint64_t static_answers;	/* answered from static records / local zone */
	uint64_t filtered;		/* NXDOMAIN because of the name filter */
	uint64_t malformed;		/* FORMERR answers and dropped garbage */
	uint64_t notimp;		/* NOTIMP / REFUSED answers */
	uint64_t servfail_answers;	/* SERVFAIL sent to the guest */
	uint64_t truncated;		/* UDP answers sent with TC */
	uint64_t upstream_queries;	/* packets sent upstream (UDP and TCP) */
	uint64_t upstream_tcp;		/* of which over TCP */
	uint64_t upstream_timeouts;	/* tries that timed out */
	uint64_t upstream_failures;	/* resolutions that failed altogether */
	uint64_t upstream_bad;		/* malformed / SERVFAIL / REFUSED replies */
	uint64_t spoofed;		/* dropped replies: wrong source, ID or question */
	uint64_t evictions;		/* entries pushed out by the LRU */
	uint64_t expired;		/* entries dropped past stale_max */
	uint64_t dropped;		/* queries dropped: waiter/in-flight tables full */
	uint64_t entries;		/* current cache entries */
	uint64_t bytes;			/* current bytes: entry pool, hash table, data */
	uint64_t inflight;		/* current upstream queries */
	uint64_t waiters;		/* current waiting queries */
	uint64_t tcp_accepted;		/* DNS-over-TCP connections accepted */
	uint64_t tcp_evicted;		/* of which reset to make room for a new one */
	uint64_t tcp_src_refused;	/* new ones reset: the address's share all busy */
	uint64_t tcp_full_refused;	/* new ones reset: the whole table busy */
	uint64_t tcp_idle_closed;	/* connections reset by the idle timeout */
	uint64_t tcp_active;		/* current DNS-over-TCP connections */
	uint64_t do_queries;		/* guest queries with the DO bit */
	uint64_t cd_queries;		/* guest queries with the CD bit */
	uint64_t badvers;		/* BADVERS answers (EDNS version > 0) */
	uint64_t edns_cookie;		/* guest DNS cookies ignored (not forwarded) */
	uint64_t edns_ecs;		/* guest client-subnet options not forwarded */
	uint64_t edns_other_opts;	/* other guest EDNS options ignored */
	uint64_t ede_answers;		/* answers given an Extended DNS Error */
	uint64_t dns64_synth;		/* AAAA answers synthesized by DNS64 (cache hits too) */
};

/**
 * dns_get_stats() - read counters
 * @d:		service
 * @out:	filled
 */
void dns_get_stats(const struct dns *d, struct dns_stats *out);

/**
 * struct dns_upstream_stats - counters of one upstream server
 * @domain:	its split-DNS domain, "" for a default upstream (static
 *		storage of @d, valid until the next dns_set_upstreams())
 * @server:	the server
 * @queries:	packets sent to it (UDP and TCP)
 * @answers:	usable replies it gave
 * @timeouts:	tries that timed out
 * @errors:	bad replies (SERVFAIL, REFUSED, malformed), socket errors and
 *		ICMP errors
 */
struct dns_upstream_stats {
	const char *domain;
	struct dns_upstream server;
	uint64_t queries;
	uint64_t answers;
	uint64_t timeouts;
	uint64_t errors;
};

#define DNS_MAX_SERVERS (DNS_MAX_UPSTREAMS * (DNS_MAX_DOMAINS + 1))

/**
 * dns_get_upstream_stats() - counters per upstream server: the default
 * upstreams first, then each domain's servers, in config order
 * @d:		service
 * @out:	room for @max entries (DNS_MAX_SERVERS holds all)
 * @max:	capacity
 *
 * Return: number of servers (may exceed @max; only @max written)
 */
int dns_get_upstream_stats(const struct dns *d, struct dns_upstream_stats *out, int max);

/**
 * struct dns_cache_item - one cache entry as shown by dns_cache_foreach()
 * @name:	lower-case name, no trailing dot
 * @type:	query type
 * @rcode:	0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN
 * @negative:	no answer records (NXDOMAIN or NODATA)
 * @ttl_s:	remaining TTL in seconds; negative when expired (stale)
 * @ancount:	number of answer records
 * @cd:		the answer to queries with the CD bit (cached apart)
 * @dnssec:	the reply had DNSSEC records (served to DO clients only)
 * @ad:		upstream set AD on it
 */
struct dns_cache_item {
	const char *name;
	uint16_t type;
	uint8_t rcode;
	bool negative;
	int64_t ttl_s;
	uint16_t ancount;
	bool cd;
	bool dnssec;
	bool ad;
};

/**
 * dns_cache_foreach() - visit every cache entry, most recently used first
 * @d:		service
 * @fn:		callback; must not call back into @d
 * @ctx:	its argument
 */
void dns_cache_foreach(struct dns *d, void (*fn)(void *ctx, const struct dns_cache_item *it),
		       void *ctx);

/**
 * dns_cache_flush() - drop every cache entry (in-flight queries carry on)
 * @d:	service
 */
void dns_cache_flush(struct dns *d);

/**
 * dns_lookup_addrs() - addresses the cache handed out for @name
 * @d:		service
 * @name:	name (any case, trailing dot optional)
 * @grace_ms:	also count entries that expired less than this long ago,
 *		including answers already replaced or evicted (kept up to
 *		addr_keep_ms)
 * @out:	addresses (A and AAAA, after following CNAMEs), may be NULL if @max is 0
 * @max:	capacity of @out
 *
 * Static records count too.
 *
 * Return: number of addresses found (may exceed @max; only @max written),
 *	   or -EINVAL for a bad name
 */
int dns_lookup_addrs(struct dns *d, const char *name, uint64_t grace_ms, struct dns_addr *out,
		     int max);

/**
 * typedef dns_resolve_fn - result of dns_resolve()
 * @arg:	the argument given to dns_resolve()
 * @status:	0 when the name resolved (possibly to nothing: @n == 0),
 *		-ENOENT for NXDOMAIN, -EIO for upstream failure, -ENOSPC when
 *		tables were full
 * @addrs:	A and AAAA addresses (valid during the call)
 * @n:		number of @addrs
 */
typedef void (*dns_resolve_fn)(void *arg, int status, const struct dns_addr *addrs, int n);

#define DNS_RESOLVE_MAX_ADDRS 32

/**
 * dns_resolve() - resolve @name (A and AAAA) through the cache and singleflight
 * @d:		service
 * @name:	name
 * @cb:		result callback
 * @arg:	its argument
 *
 * When both types are fresh in the cache (or static), or on immediate
 * failure, @cb runs before this returns and 0 is returned.
 *
 * Return: a handle for dns_resolve_cancel(), or 0 when @cb was already called
 */
uint64_t dns_resolve(struct dns *d, const char *name, dns_resolve_fn cb, void *arg);

/**
 * dns_resolve_cancel() - forget a pending dns_resolve(); @cb will not be called
 * @d:	service
 * @h:	handle; stale or 0 handles are ignored
 */
void dns_resolve_cancel(struct dns *d, uint64_t h);

#endif /* VGATE_DNS_H */
