/* SPDX-License-Identifier: MIT */
/*
 * allow.h - the SNI allowlist (internal to forwarder/): name patterns and
 * the correlation decision "SNI allowed AND destination IP handed out by our
 * DNS for that name" (an A record's address for an IPv4 destination, an
 * AAAA's for an IPv6 one). (The names come from tls.h's ClientHello parser and
 * http.h's Host header parser.)
 *
 * Patterns:
 *   - "example.com"    matches exactly example.com.
 *   - "*.example.com"  matches any name ending in ".example.com", at any
 *                      depth (a.example.com, a.b.example.com), but NOT
 *                      example.com itself: list both to allow both.
 *   Matching is case-insensitive; one trailing dot is ignored on patterns and
 *   names. A pattern is a valid host name (letters, digits, hyphens, dots,
 *   labels 1..63, ≤ 253 characters), optionally behind a leading "*." ; a
 *   bare "*", a "*" anywhere else and IP literals are errors.
 *
 * Storage is fixed: at most ALLOW_MAX_PATTERNS patterns whose text fits in
 * ALLOW_POOL_BYTES, indexed by an open-addressing hash (FNV-1a of the
 * lower-case text), so a lookup costs one probe for the exact name plus one
 * per label for the wildcards. struct allowlist is plain data: the filter
 * keeps two and swaps them on reload, so a reload either fully succeeds or
 * leaves the old list in force.
 *
 * Return convention: that of forwarder.h (0 or a count, -1 with a one-line
 * reason in err); allow_match() is a bool; sni_decide() an enum sni_verdict.
 */
#ifndef VGATE_FORWARDER_ALLOW_H
#define VGATE_FORWARDER_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

#define ALLOW_MAX_PATTERNS 4096
#define ALLOW_POOL_BYTES   (128u * 1024)
#define ALLOW_HASH_SLOTS   8192 /* power of two, ≥ 2 × ALLOW_MAX_PATTERNS */
#define ALLOW_LINE_MAX	   1024 /* longest line of an allowlist file */

struct allow_pattern {
	uint32_t off; /* text in the pool: the name, without "*." for wildcards */
	uint16_t len;
	bool wildcard;
};

/**
 * struct allowlist - a set of patterns (allow_init() before use)
 * @n:		patterns
 * @pool_used:	bytes of @pool in use
 * @pat:	patterns
 * @slot:	hash index: 0 = empty, else 1 + index into @pat
 * @pool:	pattern text, NUL-separated
 */
struct allowlist {
	size_t n;
	size_t pool_used;
	struct allow_pattern pat[ALLOW_MAX_PATTERNS];
	uint16_t slot[ALLOW_HASH_SLOTS];
	char pool[ALLOW_POOL_BYTES];
};

/**
 * allow_init() - make @al empty
 * @al:	list
 */
void allow_init(struct allowlist *al);

/**
 * allow_add() - add one pattern (a pattern already present is not an error)
 * @al:		list
 * @pattern:	"name" or "*.suffix"
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 (bad pattern, list full)
 */
int allow_add(struct allowlist *al, const char *pattern, char *err, size_t errlen);

/**
 * allow_pattern_check() - validate a pattern without adding it
 * @pattern:	"name" or "*.suffix"
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int allow_pattern_check(const char *pattern, char *err, size_t errlen);

/**
 * allow_load_file() - add the patterns of a file: one per line, surrounding
 * blanks ignored, '#' starts a comment, blank lines skipped
 * @al:		list (patterns added before stay)
 * @path:	file
 * @err:	one-line error naming the file and line ("f:3: bad pattern ...")
 * @errlen:	its size
 *
 * Return: number of patterns read, or -1 (nothing is undone: load into a
 *	   scratch list and copy on success to make it atomic)
 */
int allow_load_file(struct allowlist *al, const char *path, char *err, size_t errlen);

/**
 * allow_match() - whether @name is allowed
 * @al:		list
 * @name:	host name, any case, trailing dot optional
 *
 * Return: true if a pattern matches
 */
bool allow_match(const struct allowlist *al, const char *name);

/**
 * allow_foreach() - call @fn with the text of every pattern, in insertion order
 * @al:		list
 * @fn:		callback; @pattern is "name" or "*.suffix"
 * @ctx:	its argument
 */
void allow_foreach(const struct allowlist *al, void (*fn)(void *ctx, const char *pattern),
		   void *ctx);

/* ---- the correlation decision ---- */

/* Why a flow was blocked (or SNI_R_OK); names by sni_reason_name() */
enum sni_reason {
	SNI_R_OK = 0,
	SNI_R_NOT_ALLOWED,    /* "sni_not_allowed": name off the allowlist */
	SNI_R_IP_MISMATCH,    /* "ip_mismatch": destination not resolved for the name */
	SNI_R_NO_SNI,	      /* "no_sni": ClientHello without server_name */
	SNI_R_ECH_ONLY,	      /* "ech_only": ECH and no outer server_name */
	SNI_R_NO_HOST,	      /* "no_host": HTTP request without Host */
	SNI_R_IP_LITERAL,     /* "ip_literal": SNI or Host is an IP address */
	SNI_R_MALFORMED,      /* "malformed": bad ClientHello / HTTP head */
	SNI_R_NOT_TLS,	      /* "not_tls": first bytes are not a TLS handshake */
	SNI_R_TOO_BIG,	      /* "too_big": no decision within the byte bound */
	SNI_R_TIMEOUT,	      /* "timeout": no decision within --sni-timeout */
	SNI_R_EOF,	      /* "eof": guest closed before a whole ClientHello */
	SNI_R_RESOLVE_FAILED, /* "resolve_failed": our own resolve failed */
	SNI_R_PORT_DENIED,    /* "port_denied": port/protocol not in --allow-dest */
	SNI_R_QUIC,	      /* "quic": UDP to an SNI port (ICMP unreachable) */
	SNI_R_COUNT
};

/**
 * sni_reason_name() - stable name of a reason, for logs and counters
 * @r:	reason
 *
 * Return: a static string
 */
const char *sni_reason_name(enum sni_reason r);

enum sni_verdict {
	SNI_ALLOW = 0,
	SNI_BLOCK,
	SNI_NEED_RESOLVE, /* nothing cached: resolve the name, decide again */
};

/**
 * struct sni_seen_addr - an address our DNS handed out for a name (an A or
 * an AAAA record; a caller that synthesises addresses, as DNS64 does, adds
 * the synthesised ones here too)
 * @addr:	the address (AF_INET or AF_INET6)
 * @expires_ms:	when its record expired or expires (loop clock)
 */
struct sni_seen_addr {
	struct dns_addr addr;
	uint64_t expires_ms;
};

/**
 * struct sni_facts - everything sni_decide() looks at
 * @name:	normalised SNI or Host (lower case, no trailing dot), NULL or ""
 *		when the flow carried none
 * @ech:	the ClientHello had an encrypted_client_hello extension
 * @dst:		the destination the guest dialled (AF_INET or AF_INET6): it
 *		matches a @seen address of the same family and bytes only (an
 *		A record never vouches for an IPv6 destination, nor an AAAA for
 *		an IPv4 one)
 * @seen:	addresses our DNS handed out for @name
 * @n_seen:	their number
 * @now_ms:	current time (same clock as expires_ms)
 * @grace_ms:	an address still counts this long after it expired
 * @resolved:	@seen is the answer of a resolve made for this flow: never
 *		answer SNI_NEED_RESOLVE again
 */
struct sni_facts {
	const char *name;
	bool ech;
	struct dns_addr dst;
	const struct sni_seen_addr *seen;
	int n_seen;
	uint64_t now_ms;
	uint64_t grace_ms;
	bool resolved;
};

/**
 * sni_decide() - the filter's decision for one flow
 * @al:		allowlist
 * @f:		facts
 * @why:	reason (SNI_R_OK unless blocked)
 *
 * No name → BLOCK (no_sni, or ech_only when ECH was offered). Name off the
 * list → BLOCK sni_not_allowed. Destination among the addresses not expired
 * for longer than @f->grace_ms → ALLOW. None of them live and not yet
 * resolved → NEED_RESOLVE. Otherwise BLOCK ip_mismatch.
 *
 * Return: enum sni_verdict
 */
enum sni_verdict sni_decide(const struct allowlist *al, const struct sni_facts *f,
			    enum sni_reason *why);

#endif /* VGATE_FORWARDER_ALLOW_H */
