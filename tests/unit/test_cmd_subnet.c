/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_subnet.c - --subnet on the command line: the default host and
 * gateway addresses derived from any prefix, including /0 and /32 (the /0
 * case once shifted a 32-bit value by 32, undefined behaviour UBSan caught),
 * give a clean result or a one-line error, never a crash.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "cmd/options.h"

static enum vg_parse_result parse_subnet(const char *subnet, struct vg_options *o, char *err,
					 size_t errlen)
{
	const char *argv[] = {"vgate", "--tap-fd", "3", "--subnet", subnet, NULL};

	err[0] = '\0';
	return vg_options_parse(5, (char **)argv, o, stdout, err, errlen);
}

Test(options_subnet, slash_zero_is_a_clean_error)
{
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse_subnet("0.0.0.0/0", &o, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "/0"), "%s", err);
	vg_options_free(&o);
}

Test(options_subnet, slash_32_and_31_are_clean_errors)
{
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse_subnet("10.1.2.3/32", &o, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "/32"), "%s", err);
	vg_options_free(&o);
	cr_assert_eq(parse_subnet("10.1.2.0/31", &o, err, sizeof(err)), VG_PARSE_ERROR);
	vg_options_free(&o);
}

Test(options_subnet, defaults_are_first_and_last_host)
{
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse_subnet("10.1.0.0/16", &o, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_eq(o.ns.subnet, htonl(0x0a010000u));
	cr_assert_eq(o.ns.gateway_ip, htonl(0x0a010001u));
	cr_assert_eq(o.ns.host_ip, htonl(0x0a01fffeu));
	vg_options_free(&o);
	cr_assert_eq(parse_subnet("10.0.0.0/8", &o, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_eq(o.ns.host_ip, htonl(0x0afffffeu));
	vg_options_free(&o);
}
