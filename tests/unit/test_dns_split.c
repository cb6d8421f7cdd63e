/* SPDX-License-Identifier: MIT */
/*
 * test_dns_split.c - split DNS (--dns-upstream-for): parsing of
 * "DOMAIN=ADDR[:PORT]" (good values normalised, bad ones refused with a
 * phrase saying why), the route table's bounds, the longest-suffix selection
 * at label boundaries, the option parser's errors, and dns_set_upstreams()
 * refusing out-of-bound counts.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/options.h"
#include "dns/dns.h"
#include "netstack/loop.h"

Test(split, parse_good_values)
{
	static const struct {
		const char *in, *domain, *addr;
		uint16_t port;
	} cases[] = {
	    {"corp.example=10.0.0.53", "corp.example", "10.0.0.53", 53},
	    {"Corp.Example.=10.0.0.53:5353", "corp.example", "10.0.0.53", 5353},
	    {"10.in-addr.arpa=10.8.0.1", "10.in-addr.arpa", "10.8.0.1", 53},
	    {"_msdcs.ad.corp=192.168.1.1:53", "_msdcs.ad.corp", "192.168.1.1", 53},
	    {"v6.test=[fd00::53]:5300", "v6.test", "fd00::53", 5300},
	    {"lan=fd00::1", "lan", "fd00::1", 53},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dom[256], a[64];
		struct dns_upstream u;
		const char *why = NULL;

		cr_assert_eq(dns_parse_upstream_for(cases[i].in, dom, &u, &why), 0, "%s: %s",
			     cases[i].in, why);
		cr_assert_str_eq(dom, cases[i].domain);
		inet_ntop(u.addr.family, u.addr.a, a, sizeof(a));
		cr_assert_str_eq(a, cases[i].addr, "%s", cases[i].in);
		cr_assert_eq(u.port, cases[i].port, "%s", cases[i].in);
	}
}

Test(split, parse_bad_values_say_why)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
	    {"corp.example", "expected DOMAIN=ADDR"},
	    {"=10.0.0.1", "empty"},
	    {".=10.0.0.1", "empty"},
	    {"corp..example=10.0.0.1", "not a domain"},
	    {"corp.example..=10.0.0.1", "not a domain"},
	    {"E-..=10.0.0.1", "not a domain"},
	    {".corp.example=10.0.0.1", "not a domain"},
	    {"corp example=10.0.0.1", "not a domain"},
	    {"corp/x=10.0.0.1", "not a domain"},
	    {"corp.example=", "not an address"},
	    {"corp.example=host.name", "not an address"},
	    {"corp.example=10.0.0.1:0", "not an address"},
	    {"corp.example=10.0.0.1:70000", "not an address"},
	    {"corp.example=10.0.0.1:53x", "not an address"},
	    {"corp.example=[fd00::1", "not an address"},
	};
	char longname[400];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dom[256];
		struct dns_upstream u;
		const char *why = NULL;

		cr_assert_eq(dns_parse_upstream_for(cases[i].in, dom, &u, &why), -EINVAL, "%s",
			     cases[i].in);
		cr_assert_not_null(why);
		cr_assert_not_null(strstr(why, cases[i].why), "%s: '%s'", cases[i].in, why);
	}
	memset(longname, 'a', 300);
	strcpy(longname + 300, "=10.0.0.1");
	cr_assert_eq(dns_parse_upstream_for(longname, longname, &(struct dns_upstream){0}, NULL),
		     -EINVAL);
	cr_assert_eq(dns_parse_upstream_for(NULL, longname, &(struct dns_upstream){0}, NULL),
		     -EINVAL);
}

static struct dns_upstream up(const char *s)
{
	struct dns_upstream u;

	cr_assert_eq(dns_parse_upstream(s, &u), 0, "%s", s);
	return u;
}

Test(split, longest_suffix_at_label_boundaries)
{
	struct dns_config *c = malloc(sizeof(*c));
	struct dns_upstream a = up("10.0.0.1"), b = up("10.0.0.2"), r = up("10.0.0.3");

	dns_config_defaults(c);
	cr_assert_eq(dns_config_route_text(c, "anything.test"), -ENOENT, "no routes");
	cr_assert_eq(dns_config_add_route(c, "corp.test", &a), 0);
	cr_assert_eq(dns_config_add_route(c, "deep.corp.test", &b), 0);
	cr_assert_eq(dns_config_add_route(c, "10.in-addr.arpa", &r), 0);
	cr_assert_eq(c->n_routes, 3);

	cr_assert_eq(dns_config_route_text(c, "corp.test"), 0, "the domain itself");
	cr_assert_eq(dns_config_route_text(c, "corp.test."), 0);
	cr_assert_eq(dns_config_route_text(c, "host.corp.test"), 0);
	cr_assert_eq(dns_config_route_text(c, "A.B.CORP.TEST"), 0, "any case");
	cr_assert_eq(dns_config_route_text(c, "deep.corp.test"), 1, "longest wins");
	cr_assert_eq(dns_config_route_text(c, "x.y.deep.corp.test"), 1);
	cr_assert_eq(dns_config_route_text(c, "notdeep.corp.test"), 0, "label boundary");
	cr_assert_eq(dns_config_route_text(c, "notcorp.test"), -ENOENT, "label boundary");
	cr_assert_eq(dns_config_route_text(c, "test"), -ENOENT);
	cr_assert_eq(dns_config_route_text(c, "corp.test.example"), -ENOENT, "suffix only");
	cr_assert_eq(dns_config_route_text(c, "4.3.2.10.in-addr.arpa"), 2);
	cr_assert_eq(dns_config_route_text(c, "4.3.2.11.in-addr.arpa"), -ENOENT);
	cr_assert_eq(dns_config_route_text(c, "."), -ENOENT, "the root");
	cr_assert_eq(dns_config_route_text(c, "a..b"), -EINVAL);

	/* the order of the routes does not matter: deeper first */
	dns_config_defaults(c);
	cr_assert_eq(dns_config_add_route(c, "deep.corp.test", &b), 0);
	cr_assert_eq(dns_config_add_route(c, "corp.test", &a), 0);
	cr_assert_eq(dns_config_route_text(c, "x.deep.corp.test"), 0);
	cr_assert_eq(dns_config_route_text(c, "x.corp.test"), 1);
	free(c);
}

Test(split, same_domain_adds_servers_and_bounds_hold)
{
	struct dns_config *c = malloc(sizeof(*c));
	struct dns_upstream a = up("10.0.0.1");
	char name[64];
	int i;

	dns_config_defaults(c);
	for (i = 0; i < DNS_MAX_UPSTREAMS; i++)
		cr_assert_eq(dns_config_add_route(c, i % 2 ? "Corp.Test." : "corp.test", &a), 0);
	cr_assert_eq(c->n_routes, 1, "one domain, however spelt");
	cr_assert_eq(c->routes[0].n_servers, DNS_MAX_UPSTREAMS);
	cr_assert_eq(dns_config_add_route(c, "corp.test", &a), -E2BIG);
	for (i = 1; i < DNS_MAX_DOMAINS; i++) {
		snprintf(name, sizeof(name), "d%d.test", i);
		cr_assert_eq(dns_config_add_route(c, name, &a), 0);
	}
	cr_assert_eq(dns_config_add_route(c, "one-too-many.test", &a), -ENOSPC);
	cr_assert_eq(dns_config_add_route(c, "d5.test", &a), 0, "an existing domain still takes");
	cr_assert_eq(dns_config_add_route(c, ".", &a), -EINVAL);
	cr_assert_eq(dns_config_add_route(c, "", &a), -EINVAL);
	free(c);
}

static enum vg_parse_result parse(int argc, const char **argv, char *err, size_t errlen,
				  struct vg_options *keep)
{
	struct vg_options o;
	enum vg_parse_result r;

	err[0] = '\0';
	r = vg_options_parse(argc, (char **)argv, &o, stdout, err, errlen);
	if (keep && r == VG_PARSE_OK)
		*keep = o;
	else
		vg_options_free(&o);
	return r;
}

Test(split, option_errors_name_the_value)
{
	static const struct {
		const char *val, *msg;
	} bad[] = {
	    {"corp.test", "expected DOMAIN=ADDR"},
	    {"corp.test=nowhere", "not an address"},
	    {"=10.0.0.1", "empty"},
	    {"co rp=10.0.0.1", "not a domain"},
	};
	const char *argv[80] = {"vgate", "--tap-fd", "3"};
	struct vg_options o;
	char err[512], vals[40][64];
	size_t i;
	int n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[3] = "--dns-upstream-for";
		argv[4] = bad[i].val;
		cr_assert_eq(parse(5, argv, err, sizeof(err), NULL), VG_PARSE_ERROR, "%s",
			     bad[i].val);
		cr_assert_not_null(strstr(err, bad[i].val), "'%s' names the value", err);
		cr_assert_not_null(strstr(err, bad[i].msg), "'%s' says %s", err, bad[i].msg);
		cr_assert_not_null(strstr(err, "--dns-upstream-for"), "%s", err);
	}
	/* DNS_MAX_DOMAINS domains are fine, one more is refused */
	for (n = 0; n <= DNS_MAX_DOMAINS; n++) {
		snprintf(vals[n], sizeof(vals[n]), "--dns-upstream-for=d%d.test=10.0.0.1", n);
		argv[3 + n] = vals[n];
	}
	cr_assert_eq(parse(3 + DNS_MAX_DOMAINS, argv, err, sizeof(err), &o), VG_PARSE_OK, "%s",
		     err);
	cr_assert_eq(o.n_dns_upstream_for, DNS_MAX_DOMAINS);
	vg_options_free(&o);
	cr_assert_eq(parse(4 + DNS_MAX_DOMAINS, argv, err, sizeof(err), NULL), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "too many --dns-upstream-for domains"), "%s", err);
	/* one domain with more than DNS_MAX_UPSTREAMS servers */
	for (n = 0; n <= DNS_MAX_UPSTREAMS; n++) {
		snprintf(vals[n], sizeof(vals[n]), "--dns-upstream-for=corp.test=10.0.0.%d", n + 1);
		argv[3 + n] = vals[n];
	}
	cr_assert_eq(parse(4 + DNS_MAX_UPSTREAMS, argv, err, sizeof(err), NULL), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "servers for 'corp.test'"), "%s", err);
}

Test(split, set_upstreams_refuses_bad_counts_and_keeps_counters)
{
	struct vg_loop *loop = vg_loop_new(64);
	struct dns_config *c = malloc(sizeof(*c));
	struct dns_upstream a = up("127.0.0.1:5301"), b = up("127.0.0.1:5302");
	struct dns_upstream_stats st[DNS_MAX_SERVERS];
	struct dns *d;

	cr_assert_not_null(loop);
	dns_config_defaults(c);
	dns_config_add_upstream(c, "127.0.0.1:5300");
	cr_assert_eq(dns_config_add_route(c, "corp.test", &a), 0);
	d = dns_new(loop, c, NULL, NULL);
	cr_assert_not_null(d);
	cr_assert_eq(dns_get_upstream_stats(d, st, DNS_MAX_SERVERS), 2);
	cr_assert_str_eq(st[0].domain, "");
	cr_assert_str_eq(st[1].domain, "corp.test");
	cr_assert_eq(st[1].server.port, 5301);

	c->n_routes = DNS_MAX_DOMAINS + 1;
	cr_assert_eq(dns_set_upstreams(d, c), -EINVAL);
	c->n_routes = 1;
	c->routes[0].n_servers = DNS_MAX_UPSTREAMS + 1;
	cr_assert_eq(dns_set_upstreams(d, c), -EINVAL);
	c->routes[0].n_servers = 1;
	c->n_upstreams = DNS_MAX_UPSTREAMS + 1;
	cr_assert_eq(dns_set_upstreams(d, c), -EINVAL);
	cr_assert_eq(dns_get_upstream_stats(d, st, DNS_MAX_SERVERS), 2, "unchanged");

	c->n_upstreams = 1;
	cr_assert_eq(dns_config_add_route(c, "other.test", &b), 0);
	cr_assert_eq(dns_set_upstreams(d, c), 0);
	cr_assert_eq(dns_get_upstream_stats(d, st, 1), 3, "count beyond max");
	cr_assert_eq(dns_get_upstream_stats(d, st, DNS_MAX_SERVERS), 3);
	cr_assert_str_eq(st[2].domain, "other.test");
	dns_free(d);
	vg_loop_free(loop);
	free(c);
}
