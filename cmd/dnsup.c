/* SPDX-License-Identifier: MIT */
/*
 * dnsup.c - the daemon's DNS upstreams: from the options, through the
 * outbound policy (see dnsup.h).
 */
#include "dnsup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vg_dnsup_format(const struct dns_upstream *s, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(s->addr.family, s->addr.a, a, sizeof(a));
	if (s->addr.family == AF_INET6)
		snprintf(out, len, "[%s]:%u", a, s->port);
	else
		snprintf(out, len, "%s:%u", a, s->port);
}

int vg_dnsup_init(struct vg_dnsup *u, const struct vg_options *o, struct vg_log *log, char *err,
		  size_t errlen)
{
	size_t i;

	u->log = log;
	u->want = malloc(sizeof(*u->want));
	if (!u->want) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dns_config_defaults(u->want);
	for (i = 0; i < o->n_dns_upstream; i++) {
		if (dns_config_add_upstream(u->want, o->dns_upstream[i]) < 0) {
			snprintf(err, errlen, "invalid --dns-upstream '%s'", o->dns_upstream[i]);
			return -1;
		}
	}
	if (!o->n_dns_upstream) {
		const char *rc = o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf";

		if (strlen(rc) >= sizeof(u->resolv)) {
			snprintf(err, errlen, "--resolv-conf path too long");
			return -1;
		}
		strcpy(u->resolv, rc);
		if (dns_config_load_resolv_conf(u->want, rc) < 0 && o->resolv_conf) {
			snprintf(err, errlen, "cannot read --resolv-conf '%s'", rc);
			return -1;
		}
	}
	/* checked by the option parser: cannot fail here */
	for (i = 0; i < o->n_dns_upstream_for; i++) {
		char dom[256];
		struct dns_upstream s;

		if (dns_parse_upstream_for(o->dns_upstream_for[i], dom, &s, NULL) < 0 ||
		    dns_config_add_route(u->want, dom, &s) < 0) {
			snprintf(err, errlen, "invalid --dns-upstream-for '%s'",
				 o->dns_upstream_for[i]);
			return -1;
		}
	}
	return 0;
}

/* allowed - @s may be used under @p (only IPv4 servers, as for the forwarder) */
static bool allowed(const struct fwd_policy *p, const struct dns_upstream *s)
{
	uint32_t ip4;

	memcpy(&ip4, s->addr.a, 4);
	return s->addr.family == AF_INET && fwd_policy_allows(p, ip4);
}

void vg_dnsup_filter(const struct vg_dnsup *u, const struct fwd_policy *p, struct dns_config *cfg)
{
	const struct dns_config *w = u->want;
	char a[64];
	int k, i;

	cfg->n_upstreams = 0;
	for (k = 0; k < w->n_upstreams; k++) {
		if (allowed(p, &w->upstreams[k])) {
			cfg->upstreams[cfg->n_upstreams++] = w->upstreams[k];
			continue;
		}
		vg_dnsup_format(&w->upstreams[k], a, sizeof(a));
		vg_log(u->log, VG_LOG_WARN,
		       "dns upstream #%d (%s) is outside the outbound policy: not used", k + 1, a);
	}
	if (!cfg->n_upstreams)
		vg_log(u->log, VG_LOG_WARN, "no usable DNS upstream: only static names resolve");
	cfg->upstream_timeout_ms = w->upstream_timeout_ms;
	cfg->upstream_attempts = w->upstream_attempts;
	cfg->n_routes = w->n_routes;
	for (k = 0; k < w->n_routes; k++) {
		const struct dns_domain_route *r = &w->routes[k];
		struct dns_domain_route *o = &cfg->routes[k];

		*o = *r;
		o->n_servers = 0;
		for (i = 0; i < r->n_servers; i++) {
			if (allowed(p, &r->servers[i])) {
				o->servers[o->n_servers++] = r->servers[i];
				continue;
			}
			vg_dnsup_format(&r->servers[i], a, sizeof(a));
			vg_log(u->log, VG_LOG_WARN,
			       "dns upstream %s for %s is outside the outbound policy: not used", a,
			       r->domain);
		}
		if (!o->n_servers)
			vg_log(u->log, VG_LOG_WARN,
			       "no usable DNS upstream for %s: its names get SERVFAIL", r->domain);
	}
}

void vg_dnsup_apply(struct vg_dnsup *u)
{
	struct dns_config *c;

	if (!u->dns || !u->want)
		return;
	c = malloc(sizeof(*c));
	if (!c) {
		vg_log(u->log, VG_LOG_ERROR, "dns upstreams not changed: out of memory");
		return;
	}
	dns_config_defaults(c);
	vg_dnsup_filter(u, u->policy, c);
	if (dns_set_upstreams(u->dns, c) < 0)
		vg_log(u->log, VG_LOG_ERROR, "dns upstreams not changed");
	free(c);
}

int vg_dnsup_set_routes(struct vg_dnsup *u, const char *const *specs, size_t n, char *err,
			size_t errlen)
{
	struct dns_config *c;
	size_t i;

	if (vg_dns_routes_check(specs, n, err, errlen) < 0)
		return -1;
	c = malloc(sizeof(*c));
	if (!c || !u->want) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->n_routes = 0;
	for (i = 0; i < n; i++) {
		char dom[256];
		struct dns_upstream s;

		/* checked above */
		if (dns_parse_upstream_for(specs[i], dom, &s, NULL) == 0)
			(void)dns_config_add_route(c, dom, &s);
	}
	memcpy(u->want->routes, c->routes, sizeof(c->routes));
	u->want->n_routes = c->n_routes;
	free(c);
	vg_dnsup_apply(u);
	return 0;
}

int vg_dnsup_start(struct vg_dnsup *u, struct vg_loop *loop, struct dns *dns,
		   const struct fwd_policy *policy, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	u->loop = loop;
	u->dns = dns;
	u->policy = policy;
	return 0;
}

void vg_dnsup_free(struct vg_dnsup *u)
{
	free(u->want);
	memset(u, 0, sizeof(*u));
}
