/* SPDX-License-Identifier: MIT */
/*
 * policy.c - outbound CIDR rules: parsing and the longest-prefix decision
 * described in policy.h. Linear scan over a fixed table of at most
 * FWD_POLICY_MAX rules; evaluated once per new flow, never per packet.
 */
#include "forwarder.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"

int fwd_cidr_parse(const char *s, uint32_t *net, uint8_t *prefix)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	unsigned long p = 32;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return -1;
		p = strtoul(slash + 1, &end, 10);
		if (*end || p > 32)
			return -1;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*prefix = (uint8_t)p;
	*net = a.s_addr & vg_ip4_mask(*prefix);
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
	if (allow)
		p->n_allow++;
}

void fwd_policy_init(struct fwd_policy *p)
{
	memset(p, 0, sizeof(*p));
	add_rule(p, htonl(0xa9fe0000u), 16, false, true); /* 169.254.0.0/16 */
}

int fwd_policy_add(struct fwd_policy *p, bool allow, const char *cidr, char *err, size_t errlen)
{
	uint32_t net;
	uint8_t prefix;

	if (fwd_cidr_parse(cidr, &net, &prefix) < 0) {
		snprintf(err, errlen, "bad CIDR '%s' for --outbound-%s", cidr,
			 allow ? "allow" : "deny");
		return -1;
	}
	if (p->n >= FWD_POLICY_MAX) {
		snprintf(err, errlen, "too many outbound rules (max %d)", FWD_POLICY_MAX);
		return -1;
	}
	add_rule(p, net, prefix, allow, false);
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

		if ((ip & r->mask) == r->net && better(r, best))
			best = r;
	}
	if (best)
		return best->allow;
	return p->n_allow == 0;
}
