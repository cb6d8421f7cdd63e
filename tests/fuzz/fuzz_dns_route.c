/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dns_route.c - libFuzzer target: arbitrary text as --dns-upstream-for
 * values (dns_parse_upstream_for(), dns_config_add_route()) into one
 * long-lived route table, and as names to route (dns_config_route_text()).
 * Checks: a parsed domain is lower-case without a trailing dot, the table
 * stays within its bounds, and a route found is one whose domain is the
 * name or a suffix of it at a label boundary.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_config *cfg;
	char text[600], dom[256];
	struct dns_upstream u;
	const char *why = NULL;
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1, i;
	int r;

	if (!cfg) {
		cfg = malloc(sizeof(*cfg));
		if (!cfg)
			return 0;
		dns_config_defaults(cfg);
	}
	memcpy(text, data, n);
	text[n] = 0;
	if (dns_parse_upstream_for(text, dom, &u, &why) == 0) {
		size_t dl = strlen(dom);

		if (!dl || dom[dl - 1] == '.')
			__builtin_trap();
		for (i = 0; i < dl; i++)
			if (isupper((unsigned char)dom[i]))
				__builtin_trap();
		r = dns_config_add_route(cfg, dom, &u);
		if (r != 0 && r != -ENOSPC && r != -E2BIG)
			__builtin_trap();
	} else if (!why) {
		__builtin_trap();
	}
	if (cfg->n_routes > DNS_MAX_DOMAINS)
		__builtin_trap();
	if (cfg->n_routes == DNS_MAX_DOMAINS)
		dns_config_defaults(cfg); /* start over: keep adding */
	r = dns_config_route_text(cfg, text);
	if (r >= 0) {
		const char *d = cfg->routes[r].domain;
		size_t tl = strlen(text), dl = strlen(d);

		if (tl && text[tl - 1] == '.')
			tl--;
		/* the name has no escapes when it matched a plain domain textually */
		if (!memchr(text, '\\', tl) && (tl < dl || strncasecmp(text + tl - dl, d, dl) ||
						(tl > dl && text[tl - dl - 1] != '.')))
			__builtin_trap();
	}
	return 0;
}
