/* SPDX-License-Identifier: MIT */
/*
 * config.c - struct dns_config defaults and the parsers behind the dns flags:
 * upstream "ADDR[:PORT]" strings, split-DNS "DOMAIN=ADDR[:PORT]" routes and
 * their longest-suffix selection, resolv.conf files and "NAME=IP" records.
 * Pure functions on caller-owned structs; nothing is allocated.
 */
#include "dns.h"
#include "wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"

void dns_config_defaults(struct dns_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cache_size = 10000;
	cfg->cache_max_bytes = 8u << 20;
	cfg->max_ttl_s = 5;
	cfg->fail_ttl_s = 1;
	cfg->stale_max_s = 60 * 60; /* an hour */
	cfg->client_timeout_ms = 1800;
	cfg->addr_keep_ms = 60 * 1000; /* a minute */
	cfg->addr_keep_max = 1024;
	cfg->max_inflight = 512;
	cfg->max_waiters = 4096;
	cfg->max_waiters_per_key = 2048;
	cfg->max_resolves = 256;
	cfg->edns_udp_size = 1232;
	cfg->upstream_timeout_ms = 1000;
	cfg->upstream_attempts = 2;
	strcpy(cfg->local_zone, "vgate.internal");
}

static int parse_port(const char *s, uint16_t *port)
{
	return vg_port_parse_str(s, port) < 0 ? -EINVAL : 0;
}

/* parse_v6 - "V6" or "V6%SCOPE" */
static int parse_v6(const char *s, size_t len, struct dns_upstream *out)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char *pct;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	pct = strchr(buf, '%');
	if (pct) {
		*pct++ = 0;
		out->scope_id = if_nametoindex(pct);
		if (!out->scope_id) {
			char *end;
			unsigned long v = strtoul(pct, &end, 10);

			if (!*pct || *end || !v || v > UINT32_MAX)
				return -EINVAL;
			out->scope_id = (uint32_t)v;
		}
	}
	if (inet_pton(AF_INET6, buf, out->addr.a) != 1)
		return -EINVAL;
	out->addr.family = AF_INET6;
	return 0;
}

int dns_parse_upstream(const char *s, struct dns_upstream *out)
{
	const char *colon;

	memset(out, 0, sizeof(*out));
	out->port = 53;
	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || parse_v6(s + 1, (size_t)(rb - s - 1), out) < 0)
			return -EINVAL;
		if (rb[1] == 0)
			return 0;
		if (rb[1] != ':')
			return -EINVAL;
		return parse_port(rb + 2, &out->port);
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':'))
		return parse_v6(s, strlen(s), out);
	if (colon) {
		char buf[INET_ADDRSTRLEN];
		size_t n = (size_t)(colon - s);

		if (n >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, n);
		buf[n] = 0;
		if (inet_pton(AF_INET, buf, out->addr.a) != 1)
			return -EINVAL;
		out->addr.family = AF_INET;
		return parse_port(colon + 1, &out->port);
	}
	if (inet_pton(AF_INET, s, out->addr.a) != 1)
		return -EINVAL;
	out->addr.family = AF_INET;
	return 0;
}

int dns_config_add_upstream(struct dns_config *cfg, const char *s)
{
	struct dns_upstream u;

	if (dns_parse_upstream(s, &u) < 0)
		return -EINVAL;
	if (cfg->n_upstreams >= DNS_MAX_UPSTREAMS)
		return -ENOSPC;
	cfg->upstreams[cfg->n_upstreams++] = u;
	return 0;
}

/**
 * domain_norm() - @s (length @n) as a lower-case domain without trailing dot
 * @s:		text
 * @n:		its length
 * @out:	256 bytes
 * @wire:	its wire form (DNS_NAME_MAX bytes), or NULL
 *
 * Return: wire length, or -EINVAL (empty, the root, too long, bad labels)
 */
static int domain_norm(const char *s, size_t n, char *out, uint8_t *wire)
{
	uint8_t w[DNS_NAME_MAX];
	size_t i;
	int len;

	if (n && s[n - 1] == '.')
		n--;
	if (!n || n >= 254 || s[n - 1] == '.')
		return -EINVAL; /* empty, too long, or an empty last label ("a..") */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* a host name's letters, digits, '-' and '_' (_msdcs, SRV zones) */
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return -EINVAL;
		out[i] = (char)tolower(c);
	}
	out[n] = 0;
	len = wire_name_from_text(out, w);
	if (len <= 1)
		return -EINVAL;
	if (wire)
		memcpy(wire, w, (size_t)len);
	return len;
}

int dns_parse_upstream_for(const char *s, char *domain, struct dns_upstream *out, const char **why)
{
	const char *eq = s ? strchr(s, '=') : NULL, *dummy;

	if (!why)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	domain[0] = 0;
	if (!eq) {
		*why = "expected DOMAIN=ADDR[:PORT]";
		return -EINVAL;
	}
	if (eq == s || (eq == s + 1 && s[0] == '.')) {
		*why = "the domain is empty (the root is --dns-upstream)";
		return -EINVAL;
	}
	if (domain_norm(s, (size_t)(eq - s), domain, NULL) < 0) {
		*why = "not a domain name";
		return -EINVAL;
	}
	if (dns_parse_upstream(eq + 1, out) < 0) {
		domain[0] = 0;
		*why = "not an address (ADDR, ADDR:PORT, [V6]:PORT)";
		return -EINVAL;
	}
	return 0;
}

int dns_config_add_route(struct dns_config *cfg, const char *domain, const struct dns_upstream *u)
{
	struct dns_domain_route *r = NULL;
	char norm[256];
	uint8_t w[DNS_NAME_MAX];
	int i, len = domain ? domain_norm(domain, strlen(domain), norm, w) : -EINVAL;

	if (len < 0)
		return -EINVAL;
	for (i = 0; i < cfg->n_routes; i++) {
		if (!strcmp(cfg->routes[i].domain, norm)) {
			r = &cfg->routes[i];
			break;
		}
	}
	if (!r) {
		if (cfg->n_routes >= DNS_MAX_DOMAINS)
			return -ENOSPC;
		r = &cfg->routes[cfg->n_routes++];
		memset(r, 0, sizeof(*r));
		strcpy(r->domain, norm);
		memcpy(r->wire, w, (size_t)len);
		r->wirelen = (uint8_t)len;
	}
	if (!u)
		return 0;
	if (r->n_servers >= DNS_MAX_UPSTREAMS)
		return -E2BIG;
	r->servers[r->n_servers++] = *u;
	return 0;
}

int dns_config_route(const struct dns_config *cfg, const uint8_t *name, size_t len)
{
	int best = -1, i;
	size_t off = 0, bestlen = 0;

	if (!cfg->n_routes)
		return -1;
	/* every suffix of @name at a label boundary, longest first */
	while (off < len) {
		size_t rest = len - off;

		for (i = 0; i < cfg->n_routes; i++) {
			const struct dns_domain_route *r = &cfg->routes[i];

			if (r->wirelen == rest && rest > bestlen &&
			    !memcmp(r->wire, name + off, rest)) {
				best = i;
				bestlen = rest;
			}
		}
		if (best >= 0 || !name[off])
			break;
		off += 1u + name[off];
	}
	return best;
}

int dns_config_route_text(const struct dns_config *cfg, const char *name)
{
	uint8_t w[DNS_NAME_MAX], lw[DNS_NAME_MAX];
	int len = name ? wire_name_from_text(name, w) : -1, r;

	if (len < 0)
		return -EINVAL;
	wire_name_lower(w, (size_t)len, lw);
	r = dns_config_route(cfg, lw, (size_t)len);
	return r < 0 ? -ENOENT : r;
}

/* resolv_options - "options timeout:N attempts:N ..." */
static void resolv_options(struct dns_config *cfg, char *p)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(p, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		unsigned long v;

		if (!strncmp(tok, "timeout:", 8)) {
			v = strtoul(tok + 8, NULL, 10);
			if (v >= 1 && v <= 30)
				cfg->upstream_timeout_ms = (uint32_t)v * 1000u;
		} else if (!strncmp(tok, "attempts:", 9)) {
			v = strtoul(tok + 9, NULL, 10);
			if (v >= 1 && v <= 5)
				cfg->upstream_attempts = (uint32_t)v;
		}
	}
}

int dns_config_load_resolv_conf(struct dns_config *cfg, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int added = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		struct dns_upstream u;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == ';')
			continue;
		if (!strncmp(p, "nameserver", 10) && (p[10] == ' ' || p[10] == '\t')) {
			p += 10;
			while (*p == ' ' || *p == '\t')
				p++;
			end = p;
			while (*end && !isspace((unsigned char)*end))
				end++;
			*end = 0;
			/* resolv.conf has no port syntax: a bare address (v4 or v6) */
			if (cfg->n_upstreams >= DNS_MAX_UPSTREAMS)
				continue;
			memset(&u, 0, sizeof(u));
			u.port = 53;
			if (inet_pton(AF_INET, p, u.addr.a) == 1)
				u.addr.family = AF_INET;
			else if (parse_v6(p, strlen(p), &u) < 0)
				continue;
			cfg->upstreams[cfg->n_upstreams++] = u;
			added++;
		} else if (!strncmp(p, "options", 7) && (p[7] == ' ' || p[7] == '\t')) {
			resolv_options(cfg, p + 7);
		}
	}
	fclose(f);
	return added;
}

int dns_parse_record(const char *s, struct dns_record *out)
{
	const char *eq = s ? strchr(s, '=') : NULL;
	uint8_t w[DNS_NAME_MAX];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!eq || eq == s)
		return -EINVAL;
	n = (size_t)(eq - s);
	if (n >= sizeof(out->name))
		return -EINVAL;
	memcpy(out->name, s, n);
	out->name[n] = 0;
	if (wire_name_from_text(out->name, w) < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, eq + 1, out->addr.a) == 1)
		out->addr.family = AF_INET;
	else if (inet_pton(AF_INET6, eq + 1, out->addr.a) == 1)
		out->addr.family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

int dns_config_add_record(struct dns_config *cfg, const char *name, const struct dns_addr *addr)
{
	uint8_t w[DNS_NAME_MAX];
	struct dns_record *r;

	if (!name || strlen(name) >= sizeof(r->name) || wire_name_from_text(name, w) < 0 ||
	    (addr->family != AF_INET && addr->family != AF_INET6))
		return -EINVAL;
	if (cfg->n_records >= DNS_MAX_CFG_RECORDS)
		return -ENOSPC;
	r = &cfg->records[cfg->n_records++];
	memset(r, 0, sizeof(*r));
	strcpy(r->name, name);
	r->addr = *addr;
	return 0;
}
