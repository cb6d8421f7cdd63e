/* SPDX-License-Identifier: MIT */
/*
 * sni.h - the SNI allowlist filter: the contract between cmd/ and the
 * filter that sits on top of the forwarder (forwarder.h) and the DNS
 * service (dns/dns.h).
 *
 * When an allowlist is configured (--allow-sni, --allowlist-file), every new
 * guest flow goes through this policy, AFTER the forwarder's outbound CIDR
 * policy (--outbound-allow/deny, which stays the outer bound):
 *   - TCP to an SNI port (443 and --sni-ports): the guest's handshake is
 *     completed, its first bytes are read without being consumed until a
 *     whole ClientHello is in (bounded: 16 KiB, --sni-timeout), and the flow
 *     is allowed only if the SNI matches the allowlist AND the destination
 *     is an address vgate's own DNS cache handed out for that name (an A
 *     record's for an IPv4 destination, an AAAA's for an IPv6 one), also up
 *     to --sni-grace after it expired. When the cache has nothing for the
 *     name, the filter resolves it itself through the same cache and
 *     singleflight, and decides on that answer. With ECH, the outer
 *     (public) SNI is the one checked. Then the forwarder connects out and
 *     replays the bytes unchanged.
 *   - TCP to port 80: the same with the Host header of the first request.
 *   - Other TCP ports and all UDP (DNS to the gateway excepted) only when
 *     --allow-dest CIDR[:PORT][/tcp|/udp] names them (IPv4 or IPv6 rules,
 *     "[CIDR6]:PORT" for an IPv6 one with a port) (the SYN gets RST, the
 *     datagram ICMP administratively prohibited). UDP to an SNI port (QUIC)
 *     gets ICMP port unreachable at once, so clients fall back to TCP.
 *   - DNS: names off the allowlist get NXDOMAIN (--dns-filter=off disables).
 * A blocked TCP flow is reset without any outbound connection; each block is
 * counted per reason, logged in one line (guest, destination, name, reason),
 * rate-limited to SNI_LOG_PER_S lines a second, and reported to the event
 * callback (sni_filter_set_event_fn(), not rate-limited) as a struct
 * sni_event. A flow whose ClientHello or request head does not complete
 * within --sni-timeout is one such block (reason "timeout"); one the guest
 * resets before that counts as "eof".
 *
 * Known limits (by design): only the first request / ClientHello of a flow
 * is seen, so a server that serves several names on one address (domain
 * fronting, HTTP keep-alive to another Host) is trusted for all of them.
 *
 * Life cycle (the filter plugs into the forwarder as its struct fwd_filter:
 * SYN and UDP verdicts after the forwarder's outbound policy check, then
 * the inspection of TCP flows' first bytes):
 *	sf = sni_filter_new(loop, fwd, dns, &cfg, log, ctx, err, len);
 *	sni_filter_set_event_fn(sf, fn, ctx); optional: blocked flows as structs
 *	...  sni_filter_reload(sf, &new_cfg, err, len)  on SIGHUP / API
 *	ns_free(ns); sni_filter_free(sf); dns_free(dns); fwd_free(fwd);
 * Everything runs on the loop's thread; memory is allocated once in
 * sni_filter_new() (two allowlists, so a reload swaps atomically), except
 * for one block of strings: the filter copies the pattern and file-name
 * strings of the struct sni_config it is given (new and each reload) and
 * frees the previous copy, so the caller may free its own at once. (A
 * struct sni_config filled by sni_config_option() points into the option
 * values; only the filter copies.)
 *
 * Files: sni_config.c parses the settings (sni_config_*, sni_dest_*), sni.c
 * is the filter. Return convention: that of forwarder.h (0 or a count, -1
 * with a one-line reason in err; NULL from sni_filter_new()), with one
 * addition: sni_config_option() returns 1 for a name that is not one of
 * the filter's options.
 */
#ifndef VGATE_FORWARDER_SNI_H
#define VGATE_FORWARDER_SNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"
#include "forwarder/allow.h"
#include "forwarder/forwarder.h"

#define SNI_MAX_ALLOW_ARGS 256 /* --allow-sni values */
#define SNI_MAX_PORTS	   16  /* --sni-ports */
#define SNI_MAX_DEST	   64  /* --allow-dest */
#define SNI_MAX_PENDING	   256 /* flows waiting for our own resolve */
#define SNI_TIMEOUT_MS_DEF 5000u
#define SNI_GRACE_MS_DEF   300000u
#define SNI_MAX_BYTES_DEF  16384u
#define SNI_LOG_PER_S	   50
#define SNI_HTTP_PORT	   80

/**
 * struct sni_dest - one --allow-dest rule, IPv4 or IPv6
 * @net:	IPv4 network, network order (0 for IPv6)
 * @mask:	IPv4 mask, network order (0 for IPv6)
 * @net6:	IPv6 network, host bits cleared (zero for IPv4)
 * @prefix6:	IPv6 prefix length, 0..128
 * @v6:		an IPv6 rule (it matches IPv6 destinations only, an IPv4 rule
 *		IPv4 ones)
 * @port:	port, host order; 0 = any
 * @proto:	6 (TCP), 17 (UDP), 1 (ICMP and ICMPv6 echo; @port 0) or 0 for all
 */
struct sni_dest {
	uint32_t net;
	uint32_t mask;
	uint8_t net6[16];
	uint8_t prefix6;
	bool v6;
	uint16_t port;
	uint8_t proto;
};

/* the longest text sni_dest_format() writes, NUL included
 * ("[ffff:...:ffff/128]:65535/udp") */
#define SNI_DEST_TEXT_MAX 64

/**
 * struct sni_config - the filter's settings (sni_config_defaults() first)
 * @allow:		--allow-sni patterns (the filter copies them)
 * @n_allow:		their number
 * @allowlist_file:	--allowlist-file, or NULL
 * @ports:		TCP ports checked by SNI (443 unless --sni-ports)
 * @n_ports:		their number
 * @ports_set:		--sni-ports was given (replaces the default 443)
 * @dest:		--allow-dest rules
 * @n_dest:		their number
 * @timeout_ms:		--sni-timeout: no decision within this → RST (5 s)
 * @grace_ms:		--sni-grace: addresses count this long after expiry (5 min)
 * @dns_filter:		NXDOMAIN for names off the list (--dns-filter=on|off)
 * @max_bytes:		bound on the ClientHello (16 KiB)
 */
struct sni_config {
	const char *allow[SNI_MAX_ALLOW_ARGS];
	size_t n_allow;
	const char *allowlist_file;
	uint16_t ports[SNI_MAX_PORTS];
	size_t n_ports;
	bool ports_set;
	struct sni_dest dest[SNI_MAX_DEST];
	size_t n_dest;
	uint32_t timeout_ms;
	uint32_t grace_ms;
	bool dns_filter;
	size_t max_bytes;
};

/**
 * sni_config_defaults() - port 443, 5 s, 5 min, DNS filter on, no list
 * @c:	config
 */
void sni_config_defaults(struct sni_config *c);

/**
 * sni_config_enabled() - whether an allowlist is configured (filter on)
 * @c:	config
 *
 * Return: true with --allow-sni or --allowlist-file
 */
bool sni_config_enabled(const struct sni_config *c);

/**
 * sni_config_option() - apply one command-line option of the filter
 * @c:		config
 * @name:	option name without dashes: "allow-sni", "allowlist-file",
 *		"sni-ports", "allow-dest", "sni-timeout", "sni-grace", "dns-filter"
 * @value:	its value (kept by pointer for allow-sni and allowlist-file)
 * @err:	one-line error naming the option and value
 * @errlen:	its size
 *
 * Return: 0, -1 on a bad value, 1 when @name is not a filter option
 */
int sni_config_option(struct sni_config *c, const char *name, const char *value, char *err,
		      size_t errlen);

/* the option names sni_config_option() takes, NULL-terminated (for --help and getopt) */
extern const char *const sni_option_names[];

/**
 * sni_dest_parse() - parse "CIDR[:PORT][/tcp|/udp]" (CIDR may be a bare
 * address); an IPv6 CIDR with a port goes in brackets, "[CIDR6]:PORT"
 * @s:		text, e.g. "10.0.0.0/8:53/udp", "127.0.0.5:8080",
 *		"192.0.2.1/32/tcp", "2001:db8::/32/udp", "[2001:db8::1]:8080"
 * @out:	result
 *
 * Return: 0, or -1 if malformed
 */
int sni_dest_parse(const char *s, struct sni_dest *out);

/**
 * sni_dest_format() - the text of an --allow-dest rule, as sni_dest_parse()
 * reads it ("10.0.0.0/8:53/udp", "127.0.0.5/32:8080", "192.0.2.0/24/tcp",
 * "2001:db8::/32/udp", "[2001:db8::1/128]:8080")
 * @d:		rule
 * @buf:	output
 * @len:	its size (SNI_DEST_TEXT_MAX is enough)
 */
void sni_dest_format(const struct sni_dest *d, char *buf, size_t len);

/**
 * struct sni_stats - filter counters
 * @inspected:	TCP flows whose first bytes were inspected
 * @allowed:	flows allowed by SNI/Host correlation
 * @resolves:	names resolved by the filter itself (cache had nothing)
 * @blocked:	blocked flows and datagrams, per enum sni_reason
 * @log_suppressed: log lines dropped by the rate limit
 * @patterns:	patterns in the active allowlist
 * @reloads:	successful reloads
 */
struct sni_stats {
	uint64_t inspected;
	uint64_t allowed;
	uint64_t resolves;
	uint64_t blocked[SNI_R_COUNT];
	uint64_t log_suppressed;
	uint64_t patterns;
	uint64_t reloads;
};

struct sni_filter;

/**
 * typedef sni_log_fn - where the filter's log lines go
 * @ctx:	argument given to sni_filter_new()
 * @warn:	true for blocks and errors, false for informational lines
 * @line:	one line, no newline
 */
typedef void (*sni_log_fn)(void *ctx, bool warn, const char *line);

/**
 * struct sni_event - one blocked flow or datagram, for the event callback
 * @proto:	FWD_TCP (reset) or FWD_UDP (ICMP unreachable)
 * @src:	guest endpoint
 * @dst:	destination the guest dialled
 * @name:	SNI or Host, NULL when the flow carried none (or before it did)
 * @reason:	why (never SNI_R_OK)
 */
struct sni_event {
	enum fwd_proto proto;
	struct ns_addr src;
	struct ns_addr dst;
	const char *name;
	enum sni_reason reason;
};

/**
 * typedef sni_event_fn - told about every blocked flow (no rate limit)
 * @ctx:	argument given to sni_filter_set_event_fn()
 * @ev:		the block (valid during the call only)
 *
 * Runs inside the filter's callbacks: it must not call back into the filter,
 * the forwarder or the DNS service.
 */
typedef void (*sni_event_fn)(void *ctx, const struct sni_event *ev);

/**
 * sni_filter_new() - create the filter and load its allowlist
 * @loop:	event loop
 * @fwd:	forwarder (installed as its filter here)
 * @dns:	DNS service (lookups, resolves, and the name filter)
 * @cfg:	settings (copied with their strings; the caller may free them)
 * @log:	log sink (may be NULL)
 * @log_ctx:	its argument
 * @err:	one-line error (bad pattern with file and line, ...)
 * @errlen:	its size
 *
 * Return: the filter, or NULL
 */
struct sni_filter *sni_filter_new(struct vg_loop *loop, struct fwd *fwd, struct dns *dns,
				  const struct sni_config *cfg, sni_log_fn log, void *log_ctx,
				  char *err, size_t errlen);

/**
 * sni_filter_set_event_fn() - set (or with NULL clear) the callback told
 * about every blocked flow
 * @f:		filter
 * @fn:		callback
 * @ctx:	its first argument
 */
void sni_filter_set_event_fn(struct sni_filter *f, sni_event_fn fn, void *ctx);

/**
 * sni_filter_reload() - replace the settings and re-read the allowlist file;
 * flows already allowed are not touched, new flows follow the new list
 * (the filter cannot be turned on or off here: an empty list blocks every
 * name, and the byte bound of sni_filter_new() stays)
 * @f:		filter
 * @cfg:	new settings (copied with their strings; may be
 *		sni_filter_config()'s, may be freed after the call)
 * @err:	one-line error; on error the running list stays in force
 * @errlen:	its size
 *
 * Return: number of patterns now active, or -1
 */
int sni_filter_reload(struct sni_filter *f, const struct sni_config *cfg, char *err, size_t errlen);

/**
 * sni_filter_config() - the settings in force (those of sni_filter_new() or
 * of the last successful sni_filter_reload()); its strings are the filter's
 * copies
 * @f:	filter
 *
 * Return: the settings; valid until the next reload
 */
const struct sni_config *sni_filter_config(const struct sni_filter *f);

/**
 * sni_filter_allowlist() - the active allowlist (for listing)
 * @f:	filter
 *
 * Return: the list; valid until the next reload
 */
const struct allowlist *sni_filter_allowlist(const struct sni_filter *f);

/**
 * sni_filter_get_stats() - copy the counters
 * @f:	filter
 * @st:	output
 */
void sni_filter_get_stats(const struct sni_filter *f, struct sni_stats *st);

/**
 * sni_stats_format() - one-line text of the counters (non-zero reasons only)
 * @st:		counters
 * @buf:	output
 * @len:	its size
 */
void sni_stats_format(const struct sni_stats *st, char *buf, size_t len);

/**
 * sni_filter_free() - cancel pending resolves, remove the DNS name filter and
 * the forwarder's filter; call before dns_free() and fwd_free()
 * @f:	filter, may be NULL
 */
void sni_filter_free(struct sni_filter *f);

#endif /* VGATE_FORWARDER_SNI_H */
