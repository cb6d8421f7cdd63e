/* SPDX-License-Identifier: MIT */
/*
 * allow.c - allowlist patterns (fixed pool + open-addressing hash), the
 * allowlist file reader, and sni_decide(), the pure SNI ↔ IP correlation
 * decision. See allow.h for the matching rules. (The HTTP Host parser that
 * used to live here is http.c.)
 */
#include "forwarder/allow.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "forwarder/tls.h"

/* ---- patterns ---- */

static uint32_t hash_name(const char *s, size_t n, bool wildcard)
{
	uint32_t h = wildcard ? 0x9e3779b9u : 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

void allow_init(struct allowlist *al)
{
	al->n = 0;
	al->pool_used = 0;
	memset(al->slot, 0, sizeof(al->slot));
}

/* index of the pattern (text, wildcard), or -1; *slot_out: where it is or would go */
static long find(const struct allowlist *al, const char *s, size_t n, bool wildcard,
		 uint32_t *slot_out)
{
	uint32_t i = hash_name(s, n, wildcard) & (ALLOW_HASH_SLOTS - 1);

	for (;;) {
		uint16_t v = al->slot[i];
		const struct allow_pattern *p;

		if (v == 0)
			break;
		p = &al->pat[v - 1];
		if (p->wildcard == wildcard && p->len == n &&
		    memcmp(al->pool + p->off, s, n) == 0) {
			if (slot_out)
				*slot_out = i;
			return v - 1;
		}
		i = (i + 1) & (ALLOW_HASH_SLOTS - 1);
	}
	if (slot_out)
		*slot_out = i;
	return -1;
}

/* validate @pattern; fill @norm (lower case, no "*.", no trailing dot) */
static int pattern_norm(const char *pattern, char *norm, size_t normlen, bool *wildcard, char *err,
			size_t errlen)
{
	const char *name = pattern;
	int rc;

	*wildcard = false;
	if (name[0] == '*') {
		if (name[1] != '.') {
			snprintf(err, errlen, "bad pattern '%s': '*' must be followed by '.'",
				 pattern);
			return -1;
		}
		*wildcard = true;
		name += 2;
	}
	rc = tls_hostname_check(name, strlen(name), norm, normlen);
	if (rc == TLS_ERR_SNI_IP) {
		snprintf(err, errlen,
			 "bad pattern '%s': IP addresses are not names (use --allow-dest)",
			 pattern);
		return -1;
	}
	if (rc) {
		snprintf(err, errlen,
			 "bad pattern '%s': want a host name (letters, digits, '-', '.'; labels "
			 "up to 63, names up to 253) or '*.' and one",
			 pattern);
		return -1;
	}
	return 0;
}

int allow_pattern_check(const char *pattern, char *err, size_t errlen)
{
	char norm[TLS_SNI_MAX + 1];
	bool wildcard;

	return pattern_norm(pattern, norm, sizeof(norm), &wildcard, err, errlen);
}

int allow_add(struct allowlist *al, const char *pattern, char *err, size_t errlen)
{
	char norm[TLS_SNI_MAX + 1];
	struct allow_pattern *p;
	bool wildcard;
	uint32_t slot;
	size_t n;

	if (pattern_norm(pattern, norm, sizeof(norm), &wildcard, err, errlen) < 0)
		return -1;
	n = strlen(norm);
	if (find(al, norm, n, wildcard, &slot) >= 0)
		return 0;
	if (al->n >= ALLOW_MAX_PATTERNS || al->pool_used + n + 1 > ALLOW_POOL_BYTES) {
		snprintf(err, errlen, "allowlist full (%d patterns, %u bytes) at '%s'",
			 ALLOW_MAX_PATTERNS, ALLOW_POOL_BYTES, pattern);
		return -1;
	}
	p = &al->pat[al->n];
	p->off = (uint32_t)al->pool_used;
	p->len = (uint16_t)n;
	p->wildcard = wildcard;
	memcpy(al->pool + al->pool_used, norm, n + 1);
	al->pool_used += n + 1;
	al->slot[slot] = (uint16_t)(al->n + 1);
	al->n++;
	return 0;
}

int allow_load_file(struct allowlist *al, const char *path, char *err, size_t errlen)
{
	char line[ALLOW_LINE_MAX + 2], e[256];
	unsigned long lineno = 0;
	int count = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		char *s = line, *hash;

		lineno++;
		/* fgets() stops at a newline, EOF or a full buffer: anything else
		 * short of a newline is a NUL byte inside the line */
		if (n == 0 || (line[n - 1] != '\n' && n < sizeof(line) - 1 && !feof(f))) {
			snprintf(err, errlen, "%s:%lu: NUL byte", path, lineno);
			fclose(f);
			return -1;
		}
		if (line[n - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%lu: line longer than %d bytes", path, lineno,
				 ALLOW_LINE_MAX);
			fclose(f);
			return -1;
		}
		hash = strchr(s, '#');
		if (hash)
			*hash = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		n = strlen(s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
				 s[n - 1] == '\r'))
			s[--n] = '\0';
		if (n == 0)
			continue;
		if (strpbrk(s, " \t")) {
			snprintf(err, errlen, "%s:%lu: one pattern per line, got '%s'", path,
				 lineno, s);
			fclose(f);
			return -1;
		}
		if (allow_add(al, s, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "%s:%lu: %s", path, lineno, e);
			fclose(f);
			return -1;
		}
		count++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return count;
}

bool allow_match(const struct allowlist *al, const char *name)
{
	char norm[TLS_SNI_MAX + 1];
	size_t n, i;

	if (!name || al->n == 0)
		return false;
	/* IP literals are normalised too, but never match: patterns aren't IPs */
	if (tls_hostname_check(name, strlen(name), norm, sizeof(norm)) != 0)
		return false;
	n = strlen(norm);
	if (find(al, norm, n, false, NULL) >= 0)
		return true;
	for (i = 0; i < n; i++)
		if (norm[i] == '.' && find(al, norm + i + 1, n - i - 1, true, NULL) >= 0)
			return true;
	return false;
}

void allow_foreach(const struct allowlist *al, void (*fn)(void *ctx, const char *pattern),
		   void *ctx)
{
	char buf[TLS_SNI_MAX + 3];
	size_t i;

	for (i = 0; i < al->n; i++) {
		const struct allow_pattern *p = &al->pat[i];

		snprintf(buf, sizeof(buf), "%s%s", p->wildcard ? "*." : "", al->pool + p->off);
		fn(ctx, buf);
	}
}

/* ---- decision ---- */

const char *sni_reason_name(enum sni_reason r)
{
	static const char *const names[SNI_R_COUNT] = {
	    [SNI_R_OK] = "ok",
	    [SNI_R_NOT_ALLOWED] = "sni_not_allowed",
	    [SNI_R_IP_MISMATCH] = "ip_mismatch",
	    [SNI_R_NO_SNI] = "no_sni",
	    [SNI_R_ECH_ONLY] = "ech_only",
	    [SNI_R_NO_HOST] = "no_host",
	    [SNI_R_IP_LITERAL] = "ip_literal",
	    [SNI_R_MALFORMED] = "malformed",
	    [SNI_R_NOT_TLS] = "not_tls",
	    [SNI_R_TOO_BIG] = "too_big",
	    [SNI_R_TIMEOUT] = "timeout",
	    [SNI_R_EOF] = "eof",
	    [SNI_R_RESOLVE_FAILED] = "resolve_failed",
	    [SNI_R_PORT_DENIED] = "port_denied",
	    [SNI_R_QUIC] = "quic",
	};

	if ((unsigned int)r >= SNI_R_COUNT)
		return "unknown";
	return names[r];
}

enum sni_verdict sni_decide(const struct allowlist *al, const struct sni_facts *f,
			    enum sni_reason *why)
{
	int i, live = 0;

	if (!f->name || !f->name[0]) {
		*why = f->ech ? SNI_R_ECH_ONLY : SNI_R_NO_SNI;
		return SNI_BLOCK;
	}
	if (!allow_match(al, f->name)) {
		*why = SNI_R_NOT_ALLOWED;
		return SNI_BLOCK;
	}
	for (i = 0; i < f->n_seen; i++) {
		const struct sni_seen_addr *s = &f->seen[i];

		if (f->now_ms > s->expires_ms && f->now_ms - s->expires_ms > f->grace_ms)
			continue; /* expired past the grace period */
		live++;
		if (dns_addr_equal(&s->addr, &f->dst)) {
			*why = SNI_R_OK;
			return SNI_ALLOW;
		}
	}
	if (live == 0 && !f->resolved) {
		*why = SNI_R_OK;
		return SNI_NEED_RESOLVE;
	}
	*why = SNI_R_IP_MISMATCH;
	return SNI_BLOCK;
}
