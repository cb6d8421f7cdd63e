/* SPDX-License-Identifier: MIT */
/*
 * forwarder.h - NAT of guest flows to host sockets, port forwarding from the
 * host to the guest, and the outbound CIDR policy.
 *
 * This header is the module's whole contract.
 *
 * Life cycle:
 *	fwd = fwd_new(loop, &cfg);
 *	ns = ns_new(loop, &ns_cfg);
 *	fwd_attach(fwd, ns);             registers foreign flows (and the guest
 *	                                 API's gateway port); port forwards
 *	                                 start listening here
 *	...
 *	ns_free(ns);                     no netstack callback runs from here on
 *	fwd_free(fwd);                   closes every host socket
 *
 * Ownership: struct fwd owns every host socket, flow record and listener. It
 * runs on the loop's thread only. Flows are bounded (cfg.max_flows TCP,
 * cfg.max_udp_flows UDP) and every refusal is counted in struct fwd_stats;
 * flows the outbound policy refuses are also reported to cfg.denied.
 * The daemon derives both bounds from the fds really available (the fd
 * budget, cmd/fdbudget.c); at the bound a new SYN gets RST, a new UDP
 * mapping evicts the least recently used one if idle for
 * FWD_UDP_EVICT_IDLE_MS or gets ICMP port unreachable. socket()/accept()
 * failing with EMFILE/ENFILE is counted (fd_exhausted) and never spins: a
 * port-forward listener stops being polled until the next sweep (1 s).
 *
 * SYN floods and fairness: a guest TCP flow is half-open from its SYN until
 * both the host connect and the guest's handshake completed. At most
 * cfg.max_half_open of them exist at once (and never more than half the
 * flow bound, nor NS_SYN_HOLD_MAX - 1), at most cfg.max_half_open_src per
 * guest source address; when a bound is reached the OLDEST half-open flow
 * (of all, or of that source) is dropped for the new SYN: RST to the guest,
 * host socket closed, counted (tcp_half_dropped, tcp_half_src_dropped). A
 * spoofed-source flood thus only churns the half-open table, while a real
 * client's SYN still gets through; a connect that never completes is given
 * up after cfg.connect_ms. A dropped flow whose host connect had completed
 * (only the guest's ACK missing) keeps its pending handshake in the
 * netstack's own bounded half-open table: if the guest completes it (a
 * spoofed source never does), the host is connected again then (counted as
 * tcp_late), so a real client slower than the flood's churn still gets in. At the flow bound, a SYN from a source that
 * holds fewer flows than the source holding the most (by two or more)
 * evicts that source's least recently active flow (RST both ways, counted
 * as tcp_evicted) instead of being refused; a SYN from the source holding
 * the most is refused (tcp_over_limit). So one source (or one address of a
 * guest using many) can fill the table while nobody else needs it, but can
 * never lock another source out: shares converge to equal. Each step is
 * O(1) (source.c).
 *
 * Martian destinations: guest TCP/UDP to 0.0.0.0/8 (Linux would connect
 * 0.0.0.0 to loopback), 224.0.0.0/4 (multicast) and 240.0.0.0/4 (with
 * 255.255.255.255) is dropped and counted before any policy: TCP gets RST,
 * UDP is dropped silently (no ICMP about broadcast or multicast).
 *
 * Address mapping: a flow to the netstack's host alias (ns_config.host_ip,
 * 192.168.127.254 by default) goes to 127.0.0.1, one to its IPv6 host alias
 * (cfg.host_ip6, PREFIX::254) to ::1; any other destination is dialled as
 * is, from a host socket of its own family (IPv6 flows from AF_INET6
 * sockets). The outbound policy is checked against the address actually
 * dialled (so --outbound-deny 127.0.0.1/32 also closes the host alias, and
 * an IPv6 flow needs an IPv6 allow such as ::1/128 when allow rules exist).
 * A host that cannot reach an IPv6 destination (no route, no address)
 * answers the guest at once: RST for TCP, ICMPv6 unreachable for UDP.
 * IPv6 martians (dropped before any policy): :: (Linux would connect it to
 * loopback), ff00::/8 multicast, and v4-mapped forms of the IPv4 martians.
 *
 * Guest API: with cfg.guest_api_port set, fwd_attach() registers that port
 * of the gateway's address with the netstack, and a flow to
 * gateway_ip:guest_api_port is connected to the unix socket
 * cfg.guest_api_path. It does not leave the machine: neither the outbound
 * policy nor the filter sees it.
 *
 * Return convention (this header, and sni.h and allow.h of the same layer):
 * an int function returns 0 (or a count ≥ 0 where its comment says so) on
 * success and -1 on failure; one that takes err/errlen writes the reason
 * there as one line. Constructors return the object or NULL (fwd_new() sets
 * errno, sni_filter_new() writes err). Predicates return bool. The stream
 * parsers (tls.h, http.h) return their status enum instead: 0 done, 1 need
 * more bytes, negative for each way of being malformed. Failures of the
 * loop (vg_timer_start(), vg_io_add()) are never ignored: they fail the call
 * that needed them, or are retried (the sweep timer).
 */
#ifndef VGATE_FORWARDER_H
#define VGATE_FORWARDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "forwarder/policy.h"
#include "netstack/loop.h"
#include "netstack/netstack.h"

#define FWD_MAX_FLOWS_DEFAULT     16384
#define FWD_MAX_UDP_FLOWS_DEFAULT 4096
#define FWD_UDP_IDLE_MS_DEFAULT   90000u
#define FWD_TCP_IDLE_MS_DEFAULT   7200000u /* 2 h without a byte either way */
/* ICMP echo flows: one host socket each, counted against max_udp_flows too */
#define FWD_PING_MAX              128u
#define FWD_CONNECT_MS_DEFAULT    30000u
#define FWD_KEEPALIVE_MS_DEFAULT  60000u
#define FWD_FORWARD_MAX           64
#define FWD_PATH_MAX              108 /* a unix forward's path, NUL included (sun_path) */
/* half-open TCP flows at once (fwd_config.max_half_open), and per guest
 * source (max_half_open_src); see "SYN floods" above */
#define FWD_HALF_OPEN_DEFAULT     1000
#define FWD_HALF_OPEN_SRC_DEFAULT 500
/* at the UDP budget, the least recently used mapping is evicted for a new one
 * when no datagram went either way on it for this long (conntrack's
 * "unreplied" idea, shortened: a one-shot datagram's mapping is idle after
 * 2 s); younger mappings are never evicted and the new datagram gets ICMP */
#define FWD_UDP_EVICT_IDLE_MS 2000u
/* the budget log line (fwd_config.budget) is told at most this often */
#define FWD_BUDGET_LOG_MS 10000u

/**
 * fwd_cidr_parse() - parse "A.B.C.D/N" (or a bare address, /32)
 * @s:		text
 * @net:	network address, network order (host bits cleared)
 * @prefix:	prefix length
 *
 * Return: 0, or -1 if malformed
 */
int fwd_cidr_parse(const char *s, uint32_t *net, uint8_t *prefix);

/**
 * fwd_cidr6_parse() - parse "X:Y::Z/N" (or a bare IPv6 address, /128)
 * @s:		text
 * @net:	16 bytes, network order (host bits cleared)
 * @prefix:	prefix length
 *
 * Return: 0, or -1 if malformed
 */
int fwd_cidr6_parse(const char *s, uint8_t net[16], uint8_t *prefix);

/**
 * fwd_policy_init() - empty policy with the built-in link-local deny
 * @p:	policy
 */
void fwd_policy_init(struct fwd_policy *p);

/**
 * fwd_policy_allow_metadata() - gvproxy's -ec2-metadata-access: lift the
 * built-in link-local deny for 169.254.169.254 only (a built-in allow of
 * that /32, which does not make the rest denied the way an allow rule
 * does; an explicit --outbound-deny of it still wins)
 * @p:	policy
 *
 * Return: 0, or -1 when the table is full
 */
int fwd_policy_allow_metadata(struct fwd_policy *p);

/**
 * fwd_policy_add() - add an allow or deny rule
 * @p:		policy
 * @allow:	true for allow
 * @cidr:	"A.B.C.D/N" or an IPv6 "X:Y::Z/N" (no /N: a host)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int fwd_policy_add(struct fwd_policy *p, bool allow, const char *cidr, char *err, size_t errlen);

/**
 * fwd_policy_allows() - whether a flow to @ip may leave the machine
 * @p:	policy
 * @ip:	destination, network order
 *
 * Return: true if allowed
 */
bool fwd_policy_allows(const struct fwd_policy *p, uint32_t ip);

/**
 * fwd_policy_n_deny() - the number of deny rules the user gave (built-in
 * rules, such as the metadata deny and -ec2-metadata-access's allow, not
 * counted; p->n_allow is the user's allow rules)
 * @p:	policy
 *
 * Return: that number
 */
size_t fwd_policy_n_deny(const struct fwd_policy *p);

/**
 * fwd_policy_allows6() - whether a flow to the IPv6 address @ip6 may leave
 * @p:		policy
 * @ip6:	destination, 16 bytes network order; a v4-mapped address is
 *		judged by the IPv4 rules
 *
 * Return: true if allowed
 */
bool fwd_policy_allows6(const struct fwd_policy *p, const uint8_t ip6[16]);

/**
 * fwd_policy_builtin6() - the IPv6 built-in denies, for listing (GET
 * /policy): fe80::/10, ff00::/8, ::/128, fd00:ec2::254/128
 * @i:	index from 0
 *
 * Return: the @i-th, or NULL past the last
 */
const struct fwd_rule *fwd_policy_builtin6(size_t i);

/* ---- the forwarder ---- */

enum fwd_proto { FWD_TCP = 0, FWD_UDP = 1, FWD_ICMP = 2 /* echo; never a forward */ };

/**
 * fwd_proto_name() - "tcp", "udp" or "icmp"
 * @p:	protocol
 *
 * Return: a static string
 */
static inline const char *fwd_proto_name(enum fwd_proto p)
{
	return p == FWD_ICMP ? "icmp" : p == FWD_UDP ? "udp" : "tcp";
}

/**
 * struct fwd_forward - one host → guest port forward
 * @proto:	FWD_TCP or FWD_UDP
 * @host:	host address and port to listen on (either family; address in
 *		network order)
 * @guest_port:	port on the guest
 * @guest_ip:	the guest's address (network order); 0, the usual case: its
 *		current DHCP lease, looked up at each connection; a TCP forward
 *		on an IPv6 @host without @guest_ip connects to the guest over
 *		IPv6 when the guest's IPv6 address is known (the source of its
 *		latest IPv6 flow)
 * @path:	"" for a forward on @host; else a unix stream socket to listen
 *		on instead (created mode 0600, removed with the forward; an
 *		existing file is an error), @proto FWD_TCP, @host zero: each
 *		connection goes to the guest's TCP port as a TCP forward's
 */
struct fwd_forward {
	enum fwd_proto proto;
	struct ns_addr host;
	uint16_t guest_port;
	uint32_t guest_ip;
	char path[FWD_PATH_MAX];
};

/**
 * struct fwd_denied - a new guest flow the outbound CIDR policy refused
 * @proto:	FWD_TCP (the guest's SYN got RST), FWD_UDP or FWD_ICMP (the
 *		datagram or echo request got ICMP administratively prohibited)
 * @src:	guest endpoint
 * @dst:	destination as the guest dialled it (the host alias, not 127.0.0.1)
 */
struct fwd_denied {
	enum fwd_proto proto;
	struct ns_addr src;
	struct ns_addr dst;
};

/**
 * typedef fwd_denied_fn - told about each flow the outbound policy refused
 * @ctx:	fwd_config.denied_ctx
 * @ev:		the flow (valid during the call)
 *
 * Called from the forwarder's netstack callbacks on the loop's thread, once
 * per refused SYN or datagram and without any rate limit (the receiver
 * limits). It must not call back into the forwarder.
 */
typedef void (*fwd_denied_fn)(void *ctx, const struct fwd_denied *ev);

/**
 * typedef fwd_budget_fn - told when a flow bound or the fd supply was hit,
 * or a flow to a martian destination dropped
 * @ctx:	fwd_config.budget_ctx
 * @line:	one line, e.g. "udp flow budget (438) reached: 12 refused, 3 evicted"
 *
 * Called on the loop's thread at the first hit and then at most once every
 * FWD_BUDGET_LOG_MS (per kind: bounds, martians) while hits go on (the
 * forwarder limits). It must not call back into the forwarder.
 */
typedef void (*fwd_budget_fn)(void *ctx, const char *line);

/**
 * struct fwd_config - forwarder parameters (fwd_config_defaults() first)
 * @policy:		outbound CIDR policy (copied)
 * @host_ip:		guest-visible host alias (network order), mapped to 127.0.0.1
 * @gateway_ip:		the gateway's own address (never forwarded)
 * @host_ip6:		guest-visible IPv6 host alias, mapped to ::1 (all zero: none)
 * @gateway_ip6:	the gateway's IPv6 address in the guest's prefix (never
 *			forwarded; all zero: none)
 * @nat64:		NAT64 (--nat64): guest IPv6 flows to 64:ff9b::/96 are
 *			dialled as IPv4 to the embedded address (host alias
 *			mapping, outbound policy and martian checks applied to
 *			it); off, 64:ff9b::/96 is an address like any other
 * @max_flows:		TCP flows at once (guest → host and port forwards)
 * @max_udp_flows:	UDP mappings at once
 * @tcp_idle_ms:	close a TCP flow idle this long (0: never)
 * @udp_idle_ms:	forget a UDP mapping idle this long
 * @connect_ms:		give up a connect (either side) after this long
 * @max_half_open:	half-open TCP flows at once (0: the default)
 * @max_half_open_src:	half-open TCP flows per guest source (0: max_half_open)
 * @keepalive_ms:	TCP keepalive idle time on both sides (0: off)
 * @forwards:		port forwards to open at fwd_attach()
 * @n_forwards:		their number
 * @denied:		optional: called for each flow the policy refuses
 * @denied_ctx:		its first argument
 * @guest_api_port:	gateway port whose flows go to @guest_api_path (0: off)
 * @guest_api_path:	unix stream socket for those flows
 * @budget:		optional: told (rate-limited) when a bound is hit
 * @budget_ctx:		its first argument
 */
struct fwd_config {
	struct fwd_policy policy;
	uint32_t host_ip;
	uint32_t gateway_ip;
	uint8_t host_ip6[16];
	uint8_t gateway_ip6[16];
	bool nat64;
	unsigned int max_flows;
	unsigned int max_udp_flows;
	uint32_t tcp_idle_ms;
	uint32_t udp_idle_ms;
	uint32_t connect_ms;
	uint32_t keepalive_ms;
	unsigned int max_half_open;
	unsigned int max_half_open_src;
	struct fwd_forward forwards[FWD_FORWARD_MAX];
	size_t n_forwards;
	fwd_denied_fn denied;
	void *denied_ctx;
	uint16_t guest_api_port;
	char guest_api_path[108];
	fwd_budget_fn budget;
	void *budget_ctx;
};

/**
 * struct fwd_stats - forwarder counters (bytes "out" = guest → host)
 */
struct fwd_stats {
	uint64_t tcp_active, tcp_total;
	uint64_t tcp_bytes_out, tcp_bytes_in;
	uint64_t tcp_writes_out; /* host socket writes of guest bytes (bytes/write) */
	uint64_t tcp_refused;	 /* host refused or unreachable: RST to the guest */
	uint64_t tcp_denied;	 /* outbound policy */
	uint64_t tcp_over_limit; /* max_flows reached */
	uint64_t tcp_timeouts;	 /* connect or idle timeout */
	uint64_t tcp_resets;	 /* flows ended by a RST, either side */
	uint64_t tcp_errors;	 /* socket or memory errors */
	uint64_t udp_active, udp_total;
	uint64_t udp_pkts_out, udp_pkts_in, udp_bytes_out, udp_bytes_in;
	uint64_t udp_denied, udp_over_limit, udp_refused, udp_expired, udp_errors;
	uint64_t fwd_tcp_accepted, fwd_tcp_failed; /* port forwards */
	uint64_t fwd_udp_pkts;
	uint64_t tcp_martian, udp_martian; /* 0/8, multicast, 240/4, broadcast */
	uint64_t tcp_revoked, udp_revoked; /* closed by a policy reload */
	uint64_t udp_evicted;		   /* idle mapping evicted at the UDP budget */
	uint64_t fd_exhausted;		   /* socket()/accept() failed with EMFILE/ENFILE */
	uint64_t lst_paused;		   /* port-forward listener paused on EMFILE/ENFILE */
	uint64_t tcp_half_dropped;	   /* oldest half-open flow dropped at max_half_open */
	uint64_t tcp_half_src_dropped;	   /* ... at max_half_open_src (its source's oldest) */
	uint64_t tcp_evicted;		   /* flow reset at the bound for another source's SYN */
	uint64_t tcp_late;		   /* handshake completed after its record was dropped */
	uint64_t tcp_abandoned;		   /* handshake given up by the guest: record ended */
	uint64_t tcp_half_open;		   /* half-open flows now (gauge) */
	uint64_t tcp_half_max;		   /* their bound in force (gauge) */
	uint64_t tcp_max, udp_max;	   /* the bounds in force (gauges) */
	/* ICMP and ICMPv6 echo to the outside (ping.c) */
	uint64_t icmp_active, icmp_total; /* flows now (gauge), flows opened */
	uint64_t icmp_raw;		  /* of those, on a raw socket (no ping socket permitted) */
	uint64_t icmp_pkts_out, icmp_pkts_in; /* echo requests sent, replies back */
	uint64_t icmp_denied;		      /* outbound policy: administratively prohibited */
	uint64_t icmp_filtered; /* the filter (SNI allowlist) refused the destination */
	uint64_t icmp_martian, icmp_errors, icmp_evicted, icmp_expired, icmp_revoked;
	uint64_t icmp_over_limit; /* the UDP mappings' bound (ping sockets count) full */
};

struct fwd;

/**
 * fwd_config_defaults() - fill @c with the defaults above and an empty policy
 * @c:	config
 */
void fwd_config_defaults(struct fwd_config *c);

/**
 * fwd_new() - create a forwarder on @loop
 * @loop:	event loop (outlives the forwarder)
 * @cfg:	configuration (copied)
 *
 * Return: the forwarder, or NULL (errno set)
 */
struct fwd *fwd_new(struct vg_loop *loop, const struct fwd_config *cfg);

/**
 * fwd_attach() - give the forwarder its netstack: register as its foreign
 * flows' handler (and cfg.guest_api_port as a gateway service), and open
 * cfg.forwards
 * @fwd:	forwarder
 * @ns:		the netstack
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 when a registration or a port forward failed
 */
int fwd_attach(struct fwd *fwd, struct ns *ns, char *err, size_t errlen);

/**
 * fwd_free() - close every flow and listener; call after ns_free()
 * @fwd:	forwarder, may be NULL
 */
void fwd_free(struct fwd *fwd);

/**
 * fwd_set_policy() - replace the outbound CIDR policy at run time; new flows
 * follow the new rules, and existing guest flows are re-checked: a TCP flow
 * (connecting or splicing) the new policy denies is reset (RST to the guest,
 * host socket closed), a UDP mapping it denies is dropped (its next datagram
 * gets ICMP administratively prohibited); both counted as revoked. Flows to
 * the guest API, port forwards and flows still under filter inspection (the
 * policy is checked again at the filter's verdict) are not touched.
 * @fwd:	forwarder
 * @p:		the new policy (copied)
 */
void fwd_set_policy(struct fwd *fwd, const struct fwd_policy *p);

/**
 * fwd_dialled() - the endpoint vgate dials for a guest destination: 127.0.0.1
 * for the host alias (cfg.host_ip), ::1 for the IPv6 host alias
 * (cfg.host_ip6, when set), else the destination itself; the port unchanged
 * @fwd:	forwarder
 * @dst:	destination the guest used
 *
 * Return: the endpoint dialled
 */
struct ns_addr fwd_dialled(const struct fwd *fwd, const struct ns_addr *dst);

/**
 * fwd_get_stats() - copy the counters
 * @fwd:	forwarder
 * @st:		output
 */
void fwd_get_stats(const struct fwd *fwd, struct fwd_stats *st);

/**
 * fwd_forward_parse() - parse "tcp:127.0.0.1:2222:22" (or "udp:...";
 * "tcp:2222:22" listens on 127.0.0.1; "tcp:[::1]:2222:22" on an IPv6
 * address, IPv6 only)
 * @s:		text
 * @out:	result
 *
 * Return: 0, or -1 if malformed
 */
int fwd_forward_parse(const char *s, struct fwd_forward *out);

/**
 * fwd_forward_add() - start a port forward (after fwd_attach())
 * @fwd:	forwarder
 * @f:		forward
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 (exists, table full, bind failed, a guest address that
 * is the gateway's or the host alias)
 */
int fwd_forward_add(struct fwd *fwd, const struct fwd_forward *f, char *err, size_t errlen);

/**
 * fwd_forward_remove() - stop listening on a forward's host address (or
 * unix path, which is removed); flows already established through it
 * continue
 * @fwd:	forwarder
 * @key:	the forward: its @proto, @host and @path name it (the guest
 *		side is not looked at)
 *
 * Return: 0, or -1 if there is no such forward
 */
int fwd_forward_remove(struct fwd *fwd, const struct fwd_forward *key);

/**
 * fwd_forward_kind() - "tcp", "udp" or "unix" (a forward on a unix path)
 * @f:	forward
 *
 * Return: a static string
 */
static inline const char *fwd_forward_kind(const struct fwd_forward *f)
{
	return f->path[0] ? "unix" : fwd_proto_name(f->proto);
}

/**
 * fwd_forward_list() - list the active port forwards
 * @fwd:	forwarder
 * @out:	array
 * @max:	its length
 *
 * Return: number written
 */
size_t fwd_forward_list(const struct fwd *fwd, struct fwd_forward *out, size_t max);

/* ---- filter mode (the SNI allowlist plugs in here) ---- */

enum fwd_filter_verdict {
	FWD_FILTER_MORE = 0, /* need more bytes from the guest */
	FWD_FILTER_ALLOW,    /* connect to the destination and replay */
	FWD_FILTER_DENY,     /* reset the guest's flow */
	FWD_FILTER_WAIT,     /* decision later via fwd_filter_decide() */
};

/* what the filter says of a guest UDP datagram (fwd_filter.udp) */
enum fwd_udp_verdict {
	FWD_UDP_ALLOW = 0,   /* on to the forwarder */
	FWD_UDP_UNREACHABLE, /* drop; ICMP port unreachable (as if nothing listened) */
	FWD_UDP_PROHIBITED,  /* drop; ICMP administratively prohibited */
};

/* why a flow under inspection ended without a verdict (fwd_filter.ended) */
enum fwd_filter_end {
	FWD_FILTER_END_TIMEOUT = 0, /* no verdict within timeout_ms: the forwarder reset it */
	FWD_FILTER_END_CLOSED,	    /* the guest reset it, or the netstack aborted it */
};

/**
 * struct fwd_filter - the forwarder's filter: verdicts on new guest flows and
 * inspection of a TCP flow's first bytes (flows to the guest API and port
 * forwards are never shown to it)
 * @ctx:	first argument of the callbacks
 * @syn:	optional: at a guest SYN the outbound CIDR policy allows, before
 *		anything else the forwarder does with it: false resets it
 * @udp:	optional: at each guest datagram to a destination the outbound
 *		policy allows, before the forwarder looks up its mapping; a
 *		verdict other than FWD_UDP_ALLOW drops it with that ICMP answer
 * @echo:	optional: an ICMP(v6) echo request to @dst the outbound
 *		policy allows: true to let it out. With a filter installed and
 *		no @echo, no echo leaves (ICMP administratively prohibited)
 * @wants:	at the guest's SYN (after the CIDR policy): true to inspect this
 *		flow. The guest's handshake is then completed at once and no
 *		host connection exists until @inspect allows it.
 * @inspect:	called each time more guest bytes arrived, with all of them
 *		from the start of the stream, contiguous, at most @max_bytes
 *		(however many segments they came in; never consumed: they are
 *		replayed to the host after ALLOW). @id identifies the flow for
 *		fwd_filter_decide(); @eof is true when the guest closed its
 *		side. May return FWD_FILTER_WAIT and decide later.
 * @ended:	optional: a flow this filter wanted ended before any verdict
 *		(handshake never completed, bytes still being inspected, or
 *		FWD_FILTER_WAIT pending); @id is dead afterwards. Not called
 *		for flows the filter denied, nor at fwd_free(). Must not call
 *		back into the forwarder.
 * @max_bytes:	this many bytes without a decision → DENY (0: 16384)
 * @timeout_ms:	no decision within this time → the flow is reset and @ended
 *		is called with FWD_FILTER_END_TIMEOUT (0: 10 s)
 */
struct fwd_filter {
	void *ctx;
	bool (*syn)(void *ctx, const struct ns_addr *src, const struct ns_addr *dst);
	enum fwd_udp_verdict (*udp)(void *ctx, const struct ns_addr *src,
				    const struct ns_addr *dst);
	bool (*echo)(void *ctx, const struct ns_addr *src, const struct ns_addr *dst);
	bool (*wants)(void *ctx, const struct ns_addr *src, const struct ns_addr *dst);
	enum fwd_filter_verdict (*inspect)(void *ctx, uint64_t id, const struct ns_addr *src,
					   const struct ns_addr *dst, const uint8_t *data,
					   size_t len, bool eof);
	void (*ended)(void *ctx, uint64_t id, const struct ns_addr *src, const struct ns_addr *dst,
		      enum fwd_filter_end why);
	size_t max_bytes;
	uint32_t timeout_ms;
};

/**
 * fwd_set_filter() - install (or with NULL remove) the filter (it needs at
 * least @inspect); applies to flows whose SYN or datagram arrives afterwards
 * @fwd:	forwarder
 * @flt:	filter (copied), or NULL
 */
void fwd_set_filter(struct fwd *fwd, const struct fwd_filter *flt);

/**
 * fwd_filter_decide() - answer an inspect call that returned FWD_FILTER_WAIT
 * @fwd:	forwarder
 * @id:		the flow's id given to inspect
 * @verdict:	FWD_FILTER_ALLOW or FWD_FILTER_DENY
 *
 * Return: 0, or -1 if the flow is gone (closed or timed out meanwhile)
 */
int fwd_filter_decide(struct fwd *fwd, uint64_t id, enum fwd_filter_verdict verdict);

/**
 * fwd_stats_format() - one-line text of the counters, for logs
 * @st:		counters
 * @buf:	output
 * @len:	its size
 */
void fwd_stats_format(const struct fwd_stats *st, char *buf, size_t len);

#endif /* VGATE_FORWARDER_H */
