/* SPDX-License-Identifier: MIT */
/*
 * test_fwd_policy.c - forwarder decisions that need no network: outbound
 * CIDR policy (longest prefix, link-local default), --forward parsing, the
 * forwarder's creation and limits without a netstack.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "forwarder/forwarder.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

Test(fwd_policy, default_allows_all_but_link_local)
{
	struct fwd_policy p;

	fwd_policy_init(&p);
	cr_assert(fwd_policy_allows(&p, ip("127.0.0.1")));
	cr_assert(fwd_policy_allows(&p, ip("8.8.8.8")));
	cr_assert_not(fwd_policy_allows(&p, ip("169.254.169.254")));
}

Test(fwd_policy, allow_list_denies_everything_else)
{
	struct fwd_policy p;
	char err[128];

	fwd_policy_init(&p);
	cr_assert_eq(fwd_policy_add(&p, true, "127.0.0.0/8", err, sizeof(err)), 0);
	cr_assert(fwd_policy_allows(&p, ip("127.0.0.1")));
	cr_assert(fwd_policy_allows(&p, ip("127.255.0.9")));
	cr_assert_not(fwd_policy_allows(&p, ip("10.0.0.1")));
	cr_assert_not(fwd_policy_allows(&p, ip("169.254.169.254")));
}

Test(fwd_policy, longest_prefix_wins)
{
	struct fwd_policy p;
	char err[128];

	fwd_policy_init(&p);
	cr_assert_eq(fwd_policy_add(&p, true, "127.0.0.0/8", err, sizeof(err)), 0);
	cr_assert_eq(fwd_policy_add(&p, false, "127.0.0.9/32", err, sizeof(err)), 0);
	cr_assert_eq(fwd_policy_add(&p, true, "169.254.1.0/24", err, sizeof(err)), 0);
	cr_assert_not(fwd_policy_allows(&p, ip("127.0.0.9")));
	cr_assert(fwd_policy_allows(&p, ip("127.0.0.8")));
	cr_assert(fwd_policy_allows(&p, ip("169.254.1.7")), "explicit allow beats built-in deny");
	cr_assert_not(fwd_policy_allows(&p, ip("169.254.2.7")));
	/* same prefix: deny beats allow */
	cr_assert_eq(fwd_policy_add(&p, true, "10.1.0.0/16", err, sizeof(err)), 0);
	cr_assert_eq(fwd_policy_add(&p, false, "10.1.0.0/16", err, sizeof(err)), 0);
	cr_assert_not(fwd_policy_allows(&p, ip("10.1.2.3")));
}

Test(fwd_policy, bad_cidrs_rejected)
{
	struct fwd_policy p;
	char err[128];

	fwd_policy_init(&p);
	cr_assert_eq(fwd_policy_add(&p, true, "127.0.0.0/33", err, sizeof(err)), -1);
	cr_assert_eq(fwd_policy_add(&p, true, "127.0.0/8", err, sizeof(err)), -1);
	cr_assert_eq(fwd_policy_add(&p, true, "127.0.0.0/-1", err, sizeof(err)), -1);
	cr_assert_eq(fwd_policy_add(&p, true, "", err, sizeof(err)), -1);
}

static const uint8_t *ip6(const char *s)
{
	static uint8_t a[8][16];
	static unsigned k;
	uint8_t *r = a[k++ % 8];

	cr_assert_eq(inet_pton(AF_INET6, s, r), 1);
	return r;
}

Test(fwd_policy6, default_allows_all_but_builtin_denies)
{
	struct fwd_policy p;

	fwd_policy_init(&p);
	cr_assert(fwd_policy_allows6(&p, ip6("::1")));
	cr_assert(fwd_policy_allows6(&p, ip6("2001:db8::1")));
	cr_assert_not(fwd_policy_allows6(&p, ip6("fe80::1")), "link-local");
	cr_assert_not(fwd_policy_allows6(&p, ip6("febf:ffff::1")), "fe80::/10 end");
	cr_assert(fwd_policy_allows6(&p, ip6("fec0::1")), "outside fe80::/10");
	cr_assert_not(fwd_policy_allows6(&p, ip6("ff02::1")), "multicast");
	cr_assert_not(fwd_policy_allows6(&p, ip6("::")), "unspecified");
	cr_assert_not(fwd_policy_allows6(&p, ip6("fd00:ec2::254")), "metadata");
	cr_assert(fwd_policy_allows6(&p, ip6("fd00:ec2::253")));
	/* v4-mapped: the IPv4 rules decide */
	cr_assert_not(fwd_policy_allows6(&p, ip6("::ffff:169.254.169.254")));
	cr_assert(fwd_policy_allows6(&p, ip6("::ffff:127.0.0.1")));
	cr_assert_eq(p.n_allow, 0);
}

Test(fwd_policy6, allowlist_and_longest_prefix)
{
	struct fwd_policy p;
	char err[128];

	fwd_policy_init(&p);
	cr_assert_eq(fwd_policy_add(&p, true, "127.0.0.0/8", err, sizeof(err)), 0);
	cr_assert_eq(fwd_policy_add(&p, true, "::1/128", err, sizeof(err)), 0);
	cr_assert(fwd_policy_allows6(&p, ip6("::1")));
	cr_assert_not(fwd_policy_allows6(&p, ip6("::2")));
	cr_assert_not(fwd_policy_allows6(&p, ip6("2001:db8::1")));
	cr_assert(fwd_policy_allows(&p, ip("127.0.0.1")), "v6 rules leave v4 alone");
	cr_assert_not(fwd_policy_allows(&p, ip("0.0.0.1")), "an IPv6 rule is no IPv4 match");
	cr_assert(fwd_policy_allows6(&p, ip6("::ffff:127.0.0.1")));
	cr_assert_not(fwd_policy_allows6(&p, ip6("::ffff:10.0.0.1")));
	/* host bits cleared, longer prefix wins, deny beats allow on a tie */
	cr_assert_eq(fwd_policy_add(&p, true, "2001:db8:1:2::ff/33", err, sizeof(err)), 0);
	cr_assert_eq(p.rules[p.n - 1].net6[4], 0);
	cr_assert_eq(p.rules[p.n - 1].net6[5], 0);
	cr_assert(fwd_policy_allows6(&p, ip6("2001:db8:7fff::1")));
	cr_assert_not(fwd_policy_allows6(&p, ip6("2001:db8:8000::1")));
	cr_assert_eq(fwd_policy_add(&p, false, "2001:db8:5::/48", err, sizeof(err)), 0);
	cr_assert_not(fwd_policy_allows6(&p, ip6("2001:db8:5::1")));
	cr_assert_eq(fwd_policy_add(&p, false, "2001:db8::/33", err, sizeof(err)), 0);
	cr_assert_not(fwd_policy_allows6(&p, ip6("2001:db8:7fff::1")));
	/* explicit allows beat the built-in denies */
	cr_assert_eq(fwd_policy_add(&p, true, "fd00:ec2::254", err, sizeof(err)), 0);
	cr_assert(fwd_policy_allows6(&p, ip6("fd00:ec2::254")));
	cr_assert_eq(fwd_policy_add(&p, true, "fe80::/10", err, sizeof(err)), 0);
	cr_assert(fwd_policy_allows6(&p, ip6("fe80::1")));
	cr_assert_not(fwd_policy_allows6(&p, ip6("ff02::1")));
}

Test(fwd_policy6, bad_cidrs_rejected)
{
	struct fwd_policy p;
	char err[128];

	fwd_policy_init(&p);
	cr_assert_eq(fwd_policy_add(&p, true, "::1/129", err, sizeof(err)), -1);
	cr_assert_eq(fwd_policy_add(&p, true, "::1/", err, sizeof(err)), -1);
	cr_assert_eq(fwd_policy_add(&p, true, "::1/+1", err, sizeof(err)), -1);
	cr_assert_eq(fwd_policy_add(&p, true, "1:2:3:4:5:6:7:8:9/64", err, sizeof(err)), -1);
	cr_assert_eq(fwd_policy_add(&p, true, "[::1]/128", err, sizeof(err)), -1);
	cr_assert_eq(p.n, 1);
}

Test(fwd_forward, parse)
{
	struct fwd_forward f;

	cr_assert_eq(fwd_forward_parse("tcp:127.0.0.1:2222:22", &f), 0);
	cr_assert_eq(f.proto, FWD_TCP);
	cr_assert_eq(f.host.ip, ip("127.0.0.1"));
	cr_assert_eq(f.host.port, 2222);
	cr_assert_eq(f.guest_port, 22);
	cr_assert_eq(fwd_forward_parse("udp:0.0.0.0:5353:53", &f), 0);
	cr_assert_eq(f.proto, FWD_UDP);
	cr_assert_eq(f.host.ip, 0);
	cr_assert_eq(fwd_forward_parse("tcp:8080:80", &f), 0);
	cr_assert_eq(f.host.ip, ip("127.0.0.1"));
	cr_assert_eq(f.host.port, 8080);
	cr_assert_eq(f.guest_port, 80);
	cr_assert_eq(fwd_forward_parse("sctp:1:2", &f), -1);
	cr_assert_eq(fwd_forward_parse("tcp:127.0.0.1:0:22", &f), -1);
	cr_assert_eq(fwd_forward_parse("tcp:127.0.0.1:65536:22", &f), -1);
	cr_assert_eq(fwd_forward_parse("tcp:127.0.0.1:22", &f), -1, "bad address, 3 fields");
	cr_assert_eq(fwd_forward_parse("tcp:1.2.3.4:1:2:3", &f), -1);
	cr_assert_eq(fwd_forward_parse("tcp::1:2", &f), -1);
	cr_assert_eq(fwd_forward_parse("tcp:1:-2", &f), -1);
	cr_assert_eq(fwd_forward_parse("", &f), -1);
}

Test(fwd, forward_parse_ipv6)
{
	struct fwd_forward f;
	uint8_t lo6[16] = {[15] = 1};

	cr_assert_eq(fwd_forward_parse("tcp:[::1]:2222:22", &f), 0);
	cr_assert_eq(f.proto, FWD_TCP);
	cr_assert(ns_addr_is_v6(&f.host));
	cr_assert_eq(memcmp(f.host.ip6, lo6, 16), 0);
	cr_assert_eq(f.host.ip, 0);
	cr_assert_eq(f.host.port, 2222);
	cr_assert_eq(f.guest_port, 22);
	cr_assert_eq(fwd_forward_parse("udp:[fd00:7661:7465::254]:5353:53", &f), 0);
	cr_assert_eq(f.proto, FWD_UDP);
	cr_assert_eq(f.host.ip6[0], 0xfd);
	cr_assert_eq(f.host.ip6[14], 0x02);
	cr_assert_eq(f.host.ip6[15], 0x54);
	cr_assert_eq(fwd_forward_parse("tcp:[::1]:22", &f), -1, "no guest port");
	cr_assert_eq(fwd_forward_parse("tcp:[::1:2222:22", &f), -1, "no ]");
	cr_assert_eq(fwd_forward_parse("tcp:[1.2.3.4]:1:2", &f), -1, "not IPv6");
	cr_assert_eq(fwd_forward_parse("tcp:[::1]2222:22", &f), -1);
	cr_assert_eq(fwd_forward_parse("[::1]:2222:22", &f), -1);
	cr_assert_eq(fwd_forward_parse("tcp:x[::1]:1:2", &f), -1);
	cr_assert_eq(fwd_forward_parse("tcp:[::1]:1:2:3", &f), -1);
}

Test(fwd, new_and_free_without_netstack)
{
	struct vg_loop *loop = vg_loop_new(16);
	struct fwd_config cfg;
	struct fwd_stats st;
	struct fwd_forward list[4];
	struct fwd *fwd;

	cr_assert_not_null(loop);
	fwd_config_defaults(&cfg);
	cfg.max_flows = 4;
	fwd = fwd_new(loop, &cfg);
	cr_assert_not_null(fwd);
	fwd_get_stats(fwd, &st);
	cr_assert_eq(st.tcp_active, 0);
	cr_assert_eq(fwd_forward_list(fwd, list, 4), 0);
	fwd_free(fwd);
	vg_loop_free(loop);
}

static void *no_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
		       const struct ns_addr *dst)
{
	(void)ctx;
	(void)f;
	(void)src;
	(void)dst;
	return NULL;
}

Test(fwd, attach_takes_tcp_and_udp_but_not_dns)
{
	struct vg_loop *loop = vg_loop_new(1024);
	struct ns_handler other = {.tcp_accept = no_accept};
	struct fwd_config cfg;
	struct ns_config nc;
	struct ns *ns;
	struct fwd *fwd;
	char err[256];

	cr_assert_not_null(loop);
	ns_config_defaults(&nc);
	cr_assert_eq(ns_config_check(&nc, err, sizeof(err)), 0, "%s", err);
	ns = ns_new(loop, &nc);
	cr_assert_not_null(ns);
	fwd_config_defaults(&cfg);
	fwd = fwd_new(loop, &cfg);
	cr_assert_not_null(fwd);
	cr_assert_eq(fwd_attach(fwd, ns, err, sizeof(err)), 0, "%s", err);
	/* the forwarder took the foreign flows (TCP and UDP) ... */
	cr_assert_eq(ns_register_foreign(ns, &other), -EBUSY);
	/* ... and left the gateway's DNS port to the DNS service */
	cr_assert_eq(ns_register_service(ns, 53, &other), 0);
	ns_free(ns);
	fwd_free(fwd);
	vg_loop_free(loop);
}

/* the counts /metrics and the logs show are the user's rules only: the
 * built-in metadata deny and -ec2-metadata-access's allow are neither */
Test(fwd_policy, rule_counts_leave_out_builtin_rules)
{
	struct fwd_policy p;
	char err[128];

	fwd_policy_init(&p);
	cr_assert_eq(p.n_allow, 0);
	cr_assert_eq(fwd_policy_n_deny(&p), 0);
	cr_assert_eq(fwd_policy_allow_metadata(&p), 0);
	cr_assert_eq(p.n_allow, 0);
	cr_assert_eq(fwd_policy_n_deny(&p), 0);
	cr_assert_eq(fwd_policy_add(&p, true, "127.0.0.0/8", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fwd_policy_add(&p, false, "127.0.0.9/32", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fwd_policy_add(&p, false, "::1/128", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.n_allow, 1);
	cr_assert_eq(fwd_policy_n_deny(&p), 2);
}
