/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_guestfwd.c - --guest-forwards' rules (cmd/guestfwd.h): the
 * default local 127.0.0.1, extra local addresses and 0.0.0.0 for "all
 * addresses", ports below 1024, the remote being the guest (no address or
 * one of its leases), unexpose without a remote, the SNI allowlist, the
 * order of the checks, and --guest-forwards-local's parsing and bound.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "cmd/guestfwd.h"

static const uint32_t *guests(void)
{
	static uint32_t ips[2];

	ips[0] = inet_addr("192.168.127.2");
	ips[1] = inet_addr("192.168.127.3");
	return ips;
}

static int check(const struct vg_guest_fwd_rules *r, const char *local, uint16_t port,
		 const char *remote, bool removes, bool sni, char *why)
{
	struct vg_guest_fwd_req q = {
	    .removes = removes,
	    .local_ip = inet_addr(local),
	    .local_port = port,
	    .remote_ip = remote ? inet_addr(remote) : 0,
	    .guest_ips = guests(),
	    .n_guest_ips = 2,
	    .sni_on = sni,
	};

	return vg_guest_fwd_check(r, &q, why, 200);
}

Test(guestfwd, defaults)
{
	struct vg_guest_fwd_rules r = {.on = true};
	char why[200];

	cr_assert_eq(check(&r, "127.0.0.1", 8080, "192.168.127.2", false, false, why), 0);
	cr_assert_eq(check(&r, "127.0.0.1", 8080, NULL, false, false, why), 0); /* the guest */
	cr_assert_eq(check(&r, "127.0.0.1", 8080, "192.168.127.3", false, false, why), 0);
	cr_assert_eq(check(&r, "127.0.0.1", 1024, "192.168.127.2", false, false, why), 0);
	cr_assert_eq(check(&r, "127.0.0.1", 8080, "192.168.127.9", false, false, why), -1);
	cr_assert(strstr(why, "remote 192.168.127.9 is not the guest's own address"), "%s", why);
	cr_assert_eq(check(&r, "127.0.0.1", 8080, "127.0.0.1", false, false, why), -1);
	cr_assert_eq(check(&r, "10.0.0.5", 8080, NULL, false, false, why), -1);
	cr_assert(strstr(why, "local address 10.0.0.5 is not allowed"), "%s", why);
	cr_assert_eq(check(&r, "0.0.0.0", 8080, NULL, false, false, why), -1);
	cr_assert(strstr(why, "all addresses"), "%s", why);
	cr_assert(strstr(why, "--guest-forwards-local 0.0.0.0"), "%s", why);
	cr_assert_eq(check(&r, "127.0.0.1", 80, NULL, false, false, why), -1);
	cr_assert(strstr(why, "below 1024"), "%s", why);
	cr_assert(strstr(why, "--guest-forwards-low-ports"), "%s", why);
	cr_assert_eq(check(&r, "127.0.0.1", 8080, NULL, false, true, why), -1);
	cr_assert(strstr(why, "SNI allowlist"), "%s", why);
	/* unexpose: no remote to check, the rest applies */
	cr_assert_eq(check(&r, "127.0.0.1", 8080, "10.9.9.9", true, false, why), 0);
	cr_assert_eq(check(&r, "10.0.0.5", 8080, NULL, true, false, why), -1);
}

Test(guestfwd, flags)
{
	struct vg_guest_fwd_rules r = {.on = true, .low_ports = true, .with_sni = true};
	char err[200], why[200];

	cr_assert_eq(vg_guest_fwd_add_local(&r, "10.0.0.5", err, sizeof(err)), 0);
	cr_assert_eq(check(&r, "10.0.0.5", 80, NULL, false, true, why), 0);
	cr_assert_eq(check(&r, "127.0.0.1", 22, NULL, false, true, why), 0);
	cr_assert_eq(check(&r, "0.0.0.0", 8080, NULL, false, false, why), -1);
	cr_assert_eq(vg_guest_fwd_add_local(&r, "0.0.0.0", err, sizeof(err)), 0);
	cr_assert_eq(check(&r, "0.0.0.0", 8080, NULL, false, false, why), 0);
	/* the remote is still checked with every flag */
	cr_assert_eq(check(&r, "0.0.0.0", 8080, "192.168.127.1", false, false, why), -1);
}

Test(guestfwd, order)
{
	struct vg_guest_fwd_rules r = {.on = true};
	char why[200];

	/* everything wrong: the SNI reason first, then local, then the port */
	cr_assert_eq(check(&r, "10.0.0.5", 80, "10.1.1.1", false, true, why), -1);
	cr_assert(strstr(why, "SNI"), "%s", why);
	cr_assert_eq(check(&r, "10.0.0.5", 80, "10.1.1.1", false, false, why), -1);
	cr_assert(strstr(why, "local address"), "%s", why);
	cr_assert_eq(check(&r, "127.0.0.1", 80, "10.1.1.1", false, false, why), -1);
	cr_assert(strstr(why, "below 1024"), "%s", why);
}

Test(guestfwd, local_parse)
{
	struct vg_guest_fwd_rules r = {0};
	char err[200];
	int i;

	cr_assert_eq(vg_guest_fwd_add_local(&r, "nope", err, sizeof(err)), -1);
	cr_assert(strstr(err, "invalid --guest-forwards-local 'nope'"), "%s", err);
	cr_assert_eq(vg_guest_fwd_add_local(&r, "::1", err, sizeof(err)), -1);
	for (i = 0; i < VG_GUEST_FWD_LOCAL_MAX; i++)
		cr_assert_eq(vg_guest_fwd_add_local(&r, "10.0.0.1", err, sizeof(err)), 0);
	cr_assert_eq(vg_guest_fwd_add_local(&r, "10.0.0.1", err, sizeof(err)), -1);
	cr_assert(strstr(err, "too many"), "%s", err);
}
