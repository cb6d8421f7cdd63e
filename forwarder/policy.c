/* SPDX-License-Identifier: MIT */
/*
 * policy.c - outbound CIDR rules: parsing and the longest-prefix decision
 * described in policy.h. Linear scan over a fixed table of at most
 * FWD_POLICY_MAX rules; evaluated once per new flow, never per packet.
 * IPv6 rules share the table (tagged v6); the IPv6 built-in denies live in
 * a constant table here and are scanned beside the user's rules.
 */
#include "forwarder.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"

/**
 * cidr_split() - copy "ADDR[/N]" into @buf, cut at the slash, and read N
 * @s:		text
 * @buf:	room for the address part
 * @n:		its size
 * @max:	largest prefix length (32 or 128); also the one without "/N"
 * @p:		the prefix length
 *
 * Return: 0, or -1 if too long or N is missing, signed, not a number or > @max
 */
static int cidr_split(const char *s, char *buf, size_t n, unsigned long max, unsigned long *p)
{
	char *slash, *end;

	if (!s || strlen(s) >= n)
		return -1;
	strcpy(buf, s);
	*p = max;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return -1;
		*p = strtoul(slash + 1, &end, 10);
		if (*end || *p > max)
			return -1;
	}
	return 0;
}

int fwd_cidr_parse(const char *s, uint32_t *net, uint8_t *prefix)
{
	char buf[32];
	struct in_addr a;
	unsigned long p;

	if (cidr_split(s, buf, sizeof(buf), 32, &p) < 0 || inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*prefix = (uint8_t)p;
	*net = a.s_addr & vg_ip4_mask(*prefix);
	return 0;
}

int fwd_cidr6_parse(const char *s, uint8_t net[16], uint8_t *prefix)
{
	char buf[64];
	unsigned long p;
	unsigned i;

	if (cidr_split(s, buf, sizeof(buf), 128, &p) < 0 || inet_pton(AF_INET6, buf, net) != 1)
		return -1;
	*prefix = (uint8_t)p;
	for (i = 0; i < 16; i++) {
		unsigned keep = p >= 8 * (i + 1) ? 8 : p > 8 * i ? p - 8 * i : 0;

		net[i] &= (uint8_t)(0xff00u >> keep);
	}
	return 0;
}

static void add_rule(struct fwd_policy *p, uint32_t net, uint8_t prefix, bool allow, bool builtin)
{
	struct fwd_rule *r = &p->rules[p->n++];

	r->net = net;
	r->prefix = prefix;
	r->mask = vg_ip4_mask(prefix);
	r->allow = allow;
	r->builtin = builtin;
	if (builtin)
		p->n_builtin++;
	else if (allow)
		p->n_allow++;
}

void fwd_policy_init(struct fwd_policy *p)
{
	memset(p, 0, sizeof(*p));
	add_rule(p, htonl(0xa9fe0000u), 16, false, true); /* 169.254.0.0/16 */
}

size_t fwd_policy_n_deny(const struct fwd_policy *p)
{
	return p->n - p->n_allow - p->n_builtin;
}

int fwd_policy_allow_metadata(struct fwd_policy *p)
{
	if (p->n >= FWD_POLICY_MAX)
		return -1;
	add_rule(p, htonl(0xa9fea9feu), 32, true, true); /* 169.254.169.254 */
	return 0;
}

int fwd_policy_add(struct fwd_policy *p, bool allow, const char *cidr, char *err, size_t errlen)
{
	uint32_t net;
	uint8_t prefix;

	uint8_t net6[16];
	bool v6 = false;

	if (fwd_cidr_parse(cidr, &net, &prefix) < 0) {
		if (fwd_cidr6_parse(cidr, net6, &prefix) < 0) {
			snprintf(err, errlen, "bad CIDR '%s' for --outbound-%s", cidr,
				 allow ? "allow" : "deny");
			return -1;
		}
		v6 = true;
		net = 0;
	}
	if (p->n >= FWD_POLICY_MAX) {
		snprintf(err, errlen, "too many outbound rules (max %d)", FWD_POLICY_MAX);
		return -1;
	}
	add_rule(p, net, prefix, allow, false);
	if (v6) {
		struct fwd_rule *r = &p->rules[p->n - 1];

		r->v6 = true;
		r->mask = 0;
		memcpy(r->net6, net6, sizeof(r->net6));
	}
	return 0;
}

/* true if @a should win over the current best @b for the same address */
static bool better(const struct fwd_rule *a, const struct fwd_rule *b)
{
	if (!b || a->prefix != b->prefix)
		return !b || a->prefix > b->prefix;
	if (a->builtin != b->builtin)
		return !a->builtin;
	return !a->allow && b->allow;
}

bool fwd_policy_allows(const struct fwd_policy *p, uint32_t ip)
{
	const struct fwd_rule *best = NULL;
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct fwd_rule *r = &p->rules[i];

		if (!r->v6 && (ip & r->mask) == r->net && better(r, best))
			best = r;
	}
	if (best)
		return best->allow;
	return p->n_allow == 0;
}

/* the IPv6 built-in denies (see policy.h) */
static const struct fwd_rule builtin6[] = {
    {.net6 = {0xfe, 0x80}, .prefix = 10, .v6 = true, .builtin = true},
    {.net6 = {0xff}, .prefix = 8, .v6 = true, .builtin = true},
    {.net6 = {0}, .prefix = 128, .v6 = true, .builtin = true},
    {.net6 = {0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54},
     .prefix = 128,
     .v6 = true,
     .builtin = true},
};

const struct fwd_rule *fwd_policy_builtin6(size_t i)
{
	return i < sizeof(builtin6) / sizeof(builtin6[0]) ? &builtin6[i] : NULL;
}

bool fwd_policy_allows6(const struct fwd_policy *p, const uint8_t ip6[16])
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	const struct fwd_rule *best = NULL;
	size_t i;

	if (!memcmp(ip6, mapped, sizeof(mapped))) {
		uint32_t ip4;

		memcpy(&ip4, ip6 + 12, sizeof(ip4));
		return fwd_policy_allows(p, ip4);
	}
	for (i = 0; i < sizeof(builtin6) / sizeof(builtin6[0]); i++)
		if (vg_ip6_in_prefix(ip6, builtin6[i].net6, builtin6[i].prefix) &&
		    better(&builtin6[i], best))
			best = &builtin6[i];
	for (i = 0; i < p->n; i++) {
		const struct fwd_rule *r = &p->rules[i];

		if (r->v6 && vg_ip6_in_prefix(ip6, r->net6, r->prefix) && better(r, best))
			best = r;
	}
	if (best)
		return best->allow;
	return p->n_allow == 0;
}
