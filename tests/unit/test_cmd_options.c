/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_options.c - the command line parser on bad input: unknown options
 * (one or two dashes, before and after valid ones), missing values, stray
 * arguments and bad values all give a one-line error naming the culprit,
 * never a crash (an unknown option once indexed the option table with an
 * unset index).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cmd/options.h"

static enum vg_parse_result parse(int argc, const char **argv, char *err, size_t errlen)
{
	struct vg_options o;
	enum vg_parse_result r;

	err[0] = '\0';
	r = vg_options_parse(argc, (char **)argv, &o, stdout, err, errlen);
	vg_options_free(&o);
	return r;
}

Test(options, unknown_options_are_errors_naming_them)
{
	static const char *const bad[] = { "-bogus", "--bogus", "-x", "--listen-qemux" };
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { "vgate", "--tap-fd", "3", bad[i], NULL };
		const char *argv2[] = { "vgate", bad[i], "--tap-fd", "3", NULL };

		cr_assert_eq(parse(4, argv, err, sizeof(err)), VG_PARSE_ERROR, "%s", bad[i]);
		cr_assert_not_null(strstr(err, bad[i]), "error '%s' names '%s'", err, bad[i]);
		cr_assert_eq(parse(4, argv2, err, sizeof(err)), VG_PARSE_ERROR, "%s", bad[i]);
		cr_assert_not_null(strstr(err, bad[i]), "error '%s' names '%s'", err, bad[i]);
	}
}

Test(options, missing_values_stray_arguments_and_bad_values)
{
	const char *missing[] = { "vgate", "--tap-fd", "3", "--mtu", NULL };
	const char *stray[] = { "vgate", "--tap-fd", "3", "extra", NULL };
	const char *mtu[] = { "vgate", "--tap-fd", "3", "--mtu", "70000", NULL };
	const char *cidr[] = { "vgate", "--tap-fd", "3", "--outbound-allow", "1.2.3.4/40", NULL };
	const char *none[] = { "vgate", NULL };
	const char *good[] = { "vgate", "-tap-fd", "3", "-mtu", "9000", NULL };
	char err[512];

	cr_assert_eq(parse(4, missing, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "mtu"), "%s", err);
	cr_assert_eq(parse(4, stray, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "extra"), "%s", err);
	cr_assert_eq(parse(5, mtu, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "70000"), "%s", err);
	cr_assert_eq(parse(5, cidr, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "1.2.3.4/40"), "%s", err);
	cr_assert_eq(parse(1, none, err, sizeof(err)), VG_PARSE_ERROR, "a guest link is required");
	cr_assert_eq(parse(5, good, err, sizeof(err)), VG_PARSE_OK, "single dashes: %s", err);
}

Test(options, max_buffer_memory_sizes)
{
	static const struct {
		const char *arg;
		size_t bytes; /* 0: an error */
	} cases[] = {
	    {"64M", 64u << 20},	 {"16MiB", 16u << 20}, {"1G", 1u << 30},
	    {"2048k", 2u << 20}, {"1048576", 1u << 20}, {"1M", 1u << 20},
	    {"512K", 0},	 {"0", 0},	       {"-5M", 0},
	    {"12X", 0},		 {"M", 0},	       {"99999999999999G", 0},
	};
	struct vg_options o;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = {"vgate", "--tap-fd", "3", "--max-buffer-memory", cases[i].arg,
				      NULL};
		enum vg_parse_result r;

		err[0] = '\0';
		r = vg_options_parse(5, (char **)argv, &o, stdout, err, sizeof(err));
		if (cases[i].bytes) {
			cr_assert_eq(r, VG_PARSE_OK, "%s: %s", cases[i].arg, err);
			cr_assert_eq(o.ns.max_buffer_bytes, cases[i].bytes, "%s", cases[i].arg);
		} else {
			cr_assert_eq(r, VG_PARSE_ERROR, "%s accepted", cases[i].arg);
			cr_assert_not_null(strstr(err, "max-buffer-memory"), "%s", err);
		}
		vg_options_free(&o);
	}
}

Test(options, nat64_off_by_default)
{
	const char *off[] = {"vgate", "--tap-fd", "3", NULL};
	const char *on[] = {"vgate", "--tap-fd", "3", "--nat64", NULL};
	struct vg_options o;
	char err[256] = "";

	cr_assert_eq(vg_options_parse(3, (char **)off, &o, stdout, err, sizeof(err)), VG_PARSE_OK,
		     "%s", err);
	cr_assert_not(o.nat64);
	vg_options_free(&o);
	cr_assert_eq(vg_options_parse(4, (char **)on, &o, stdout, err, sizeof(err)), VG_PARSE_OK,
		     "%s", err);
	cr_assert(o.nat64);
	vg_options_free(&o);
}
