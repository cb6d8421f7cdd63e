/* SPDX-License-Identifier: MIT */
/*
 * internal.h - struct fwd and what forwarder/'s files share: fwd.c (life
 * cycle, netstack registration, timers, stats), addr.c (address mapping),
 * tcp.c (TCP NAT and splice), udp.c (UDP NAT), portfwd.c (host → guest
 * forwards). Not part of the public contract.
 *
 * Calls between the files go one way only: fwd.c → tcp.c, udp.c, portfwd.c;
 * portfwd.c → tcp.c, udp.c; all of them → addr.c, table.c, policy.c;
 * fwd.c, tcp.c → source.c (TCP accounting per guest source) → table.c.
 */
#ifndef VGATE_FORWARDER_INTERNAL_H
#define VGATE_FORWARDER_INTERNAL_H

#include <string.h>

#include "forwarder.h"
#include "table.h"
#include "common/ratelimit.h"

/* host → guest reads per event: a 64 KiB+ bounce buffer, shared by all flows */
#define FWD_BOUNCE_BYTES   (256u * 1024)
#define FWD_SWEEP_MS       1000u
#define FWD_FILTER_MAX_DEF 16384u
#define FWD_FILTER_MS_DEF  10000u

/* the table key of the guest flow @src -> @dst (struct fwd_entry.key), either family */
static inline struct fwd_key fwd_key_of(const struct ns_addr *src, const struct ns_addr *dst)
{
	struct fwd_key k = {src->ip, dst->ip, src->port, dst->port, false, {0}, {0}};

	if (ns_addr_is_v6(src) || ns_addr_is_v6(dst)) {
		k.v6 = true;
		memcpy(k.sip6, src->ip6, 16);
		memcpy(k.dip6, dst->ip6, 16);
	}
	return k;
}

/**
 * struct fwd_src - one guest source address's TCP flows (source.c)
 * @ent:	in struct fwd_srcs.tab by {address, 0, 0, 0}
 * @byc:	on by_count[@flows] (on the free list when unused)
 * @half:	its half-open flows, oldest first
 * @est:	its other flows, least recently active first
 * @flows:	how many it holds (both lists)
 */
struct fwd_src {
	struct fwd_entry ent;
	struct fwd_lnode byc;
	struct fwd_list half, est;
	size_t flows;
};

/**
 * struct fwd_srcs - the per-source accounting (source.c)
 * @tab:	records by address
 * @pool:	@max records, allocated once
 * @free:	records freed after use (via byc.next)
 * @fresh:	records handed out so far: pool[@fresh..] were never used
 *		(taken in order, so their pages are not touched before)
 * @by_count:	@max + 1 list heads: by_count[n] lists the sources holding n
 *		(a head still all zero is an empty list not yet linked)
 * @max:	the flow bound it was sized for
 * @top:	highest n with a non-empty by_count[n] (0: none)
 */
struct fwd_srcs {
	struct fwd_table tab;
	struct fwd_src *pool;
	struct fwd_lnode *free;
	size_t fresh;
	struct fwd_lnode *by_count;
	size_t max;
	size_t top;
};

struct fwd_listener {
	struct fwd *fwd;
	struct fwd_forward spec;
	struct vg_io io;
	int fd; /* -1: slot free */
	bool paused; /* accept() hit EMFILE/ENFILE: EPOLLIN off until the sweep */
};

struct fwd {
	struct vg_loop *loop;
	struct ns *ns;
	struct fwd_config cfg;
	struct fwd_stats st;
	/* TCP: hash by guest tuple; pending = connecting/inspecting (FIFO),
	 * active = splicing (LRU by last byte moved) */
	struct fwd_table tcp_tab;
	struct fwd_list tcp_pending, tcp_active;
	/* half-open flows (connecting to the host, or the guest's handshake
	 * not complete), oldest first, and the accounting per guest source */
	struct fwd_list tcp_half;
	struct fwd_srcs srcs;
	unsigned int half_max, half_src_max; /* the bounds in force */
	/* flows with new guest bytes, written to their host socket once per
	 * loop turn (fwd_tcp_flush) instead of once per segment */
	struct fwd_lnode tcp_dirty;
	struct vg_timer hold; /* bounds how long a flow on tcp_dirty waits */
	bool idle_added;
	/* UDP: hash by guest tuple, LRU */
	struct fwd_table udp_tab;
	struct fwd_table udp_peer_tab; /* inbound mappings by host peer */
	struct fwd_list udp_lru;
	struct vg_timer sweep;
	bool sweep_unarmed; /* re-arming failed: fwd_idle() retries */
	uint8_t *bounce;
	struct fwd_filter filter;
	uint8_t *inspect_buf; /* filter.max_bytes: a flow's first bytes, gathered */
	bool has_filter;
	uint64_t filter_seq;
	uint16_t udp_port_seq; /* inbound UDP forwards: next source port */
	/* the guest's IPv6 address for port forwards over IPv6: the source of
	 * its latest IPv6 flow (family IPv4 while none was seen) */
	struct ns_addr guest6;
	/* ICMP echo: FWD_PING_MAX flows (allocated at the first), LRU */
	struct fwd_ping *ping;
	struct fwd_list ping_lru;
	uint16_t ping_id_seq; /* raw sockets: the last identifier used */
	struct vg_hitlog budget_log;  /* cfg.budget's rate limit */
	struct vg_hitlog martian_log; /* the same for martian destinations */
	struct fwd_listener lst[FWD_FORWARD_MAX];
};

/* addr.c (a leaf: calls no other forwarder file) */
uint32_t fwd_map_dst(const struct fwd *fwd, uint32_t ip);
bool fwd_allowed(const struct fwd *fwd, const struct ns_addr *dst);
bool fwd_is_gateway(const struct fwd *fwd, const struct ns_addr *dst);
bool fwd_martian_dst(const struct fwd *fwd, const struct ns_addr *dst);
unsigned int fwd_sockaddr(void *ss, const struct ns_addr *a);
struct ns_addr fwd_sockaddr_addr(const void *ss, bool *ok);
void fwd_guest6_seen(struct fwd *fwd, const struct ns_addr *src);
bool fwd_inbound_ends(const struct fwd *fwd, const struct fwd_forward *spec, struct ns_addr *src,
		      struct ns_addr *dst);
void fwd_set_sockaddr(void *sin, uint32_t ip, uint16_t port);
void fwd_report_denied(struct fwd *fwd, enum fwd_proto proto, const struct ns_addr *src,
		       const struct ns_addr *dst);
bool fwd_martian(uint32_t ip);
bool fwd_fd_exhausted(int err);
void fwd_budget_hit(struct fwd *fwd, const char *what);
void fwd_martian_hit(struct fwd *fwd, enum fwd_proto proto, const struct ns_addr *dst);

/* source.c (calls table.c only) */
int fwd_srcs_init(struct fwd_srcs *s, size_t max);
void fwd_srcs_destroy(struct fwd_srcs *s);
struct fwd_src *fwd_src_find(const struct fwd_srcs *s, const struct ns_addr *ip);
struct fwd_src *fwd_src_add(struct fwd_srcs *s, const struct ns_addr *ip, struct fwd_entry *e,
			    bool half, uint64_t now);
void fwd_src_del(struct fwd_srcs *s, struct fwd_src *src, struct fwd_entry *e, bool half);
void fwd_src_move(struct fwd_src *src, struct fwd_entry *e, bool half, uint64_t now);
struct fwd_src *fwd_src_top(const struct fwd_srcs *s);

/* tcp.c */
extern const struct ns_flow_ops fwd_tcp_ops; /* the flows' callbacks */
enum ns_syn_verdict fwd_tcp_syn(void *ctx, uint64_t token, const struct ns_addr *src,
				const struct ns_addr *dst);
enum ns_syn_verdict fwd_tcp_api_syn(void *ctx, uint64_t token, const struct ns_addr *src,
				    const struct ns_addr *dst);
void *fwd_tcp_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
		     const struct ns_addr *dst);
void fwd_tcp_abandoned(void *ctx, const struct ns_addr *src, const struct ns_addr *dst);
void fwd_tcp_sweep(struct fwd *fwd, uint64_t now);
void fwd_tcp_free_all(struct fwd *fwd);
void fwd_tcp_flush(struct fwd *fwd, bool late);
int fwd_tcp_inbound(struct fwd *fwd, int fd, const struct fwd_forward *spec);
void fwd_tcp_revoke(struct fwd *fwd);

/* udp.c */
void fwd_udp_recv(void *ctx, const struct ns_addr *src, const struct ns_addr *dst,
		  const uint8_t *data, size_t len, const struct ns_pkt *pkt);
void fwd_udp_sweep(struct fwd *fwd, uint64_t now);
void fwd_udp_free_all(struct fwd *fwd);
void fwd_udp_inbound(struct fwd_listener *l);
void fwd_udp_drop_listener(struct fwd_listener *l);
void fwd_udp_revoke(struct fwd *fwd);

/* ping.c */
struct fwd_ping;
void fwd_ping_echo(void *ctx, const struct ns_addr *src, const struct ns_addr *dst, uint16_t seq,
		   const uint8_t *data, size_t len, const struct ns_pkt *pkt);
void fwd_ping_sweep(struct fwd *fwd, uint64_t now);
void fwd_ping_revoke(struct fwd *fwd);
void fwd_ping_free_all(struct fwd *fwd);

/* portfwd.c */
void fwd_listeners_close(struct fwd *fwd);
void fwd_listeners_resume(struct fwd *fwd);

#endif
