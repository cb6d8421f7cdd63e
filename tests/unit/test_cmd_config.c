/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_config.c - the YAML config → argument conversion (cmd/config.c)
 * and its merge with the command line in vg_options_parse(): scalars,
 * lists, switches, errors with file:line, key and value, and the rule that
 * command-line options win over the file.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/config.h"
#include "cmd/options.h"

static struct vg_cfg_args *conv(const char *yaml, char *err, size_t errlen)
{
	return vg_cfg_args_parse(yaml, strlen(yaml), "t.yaml", err, errlen);
}

Test(config, scalars_lists_switches)
{
	char err[256] = "";
	struct vg_cfg_args *a =
		conv("mtu: 9000\n"
		     "dns-upstream: [127.0.0.1:53, '127.0.0.2']\n"
		     "outbound-deny:\n  - 10.0.0.0/8\n"
		     "sandbox: true\n"
		     "debug-tcp-echo: no\n"
		     "# comment\n",
		     err, sizeof(err));

	cr_assert_not_null(a, "%s", err);
	cr_assert_eq(a->argc, 6);
	cr_assert_str_eq(a->argv[0], "t.yaml");
	cr_assert_str_eq(a->argv[1], "--mtu=9000");
	cr_assert_str_eq(a->argv[2], "--dns-upstream=127.0.0.1:53");
	cr_assert_str_eq(a->argv[3], "--dns-upstream=127.0.0.2");
	cr_assert_str_eq(a->argv[4], "--outbound-deny=10.0.0.0/8");
	cr_assert_str_eq(a->argv[5], "--sandbox");
	cr_assert_null(a->argv[6]);
	cr_assert_eq(a->line[1], 1);
	cr_assert_eq(a->line[4], 4);
	vg_cfg_args_free(a);
}

Test(config, empty_file)
{
	char err[256];
	struct vg_cfg_args *a = conv("", err, sizeof(err));

	cr_assert_not_null(a);
	cr_assert_eq(a->argc, 1);
	vg_cfg_args_free(a);
	a = conv("# only a comment\n", err, sizeof(err));
	cr_assert_not_null(a);
	cr_assert_eq(a->argc, 1);
	vg_cfg_args_free(a);
}

static void expect_error(const char *yaml, const char *msg)
{
	char err[256] = "";
	struct vg_cfg_args *a = conv(yaml, err, sizeof(err));

	cr_assert_null(a, "accepted: %s", yaml);
	cr_assert(strstr(err, msg), "error '%s' lacks '%s'", err, msg);
}

Test(config, errors)
{
	expect_error("bogus: 1\n", "t.yaml:1: unknown key 'bogus'");
	expect_error("mtu: 1500\nmtu: 9000\n", "t.yaml:2: duplicate key 'mtu'");
	expect_error("config: other.yaml\n", "unknown key 'config'");
	expect_error("mtu:\n", "key 'mtu' needs a value");
	expect_error("sandbox: maybe\n", "invalid sandbox 'maybe'");
	expect_error("dns-upstream: {a: b}\n", "expected a value or a list");
	expect_error("dns-upstream: [[1]]\n", "list items must be values");
	expect_error("- mtu\n", "expected a mapping");
	expect_error("mtu: [1\n", "YAML error");
	expect_error("{1: 2}\n", "unknown key '1'");
}

/* write @yaml to a temp file, parse "vgate --config FILE ARGS..." */
static enum vg_parse_result parse_with(const char *yaml, char **extra, int n_extra,
				       struct vg_options *o, char *err, size_t errlen)
{
	static char path[64];
	char *argv[16];
	int argc = 0, i, fd;
	enum vg_parse_result r;

	strcpy(path, "/tmp/vgate-cfg-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	argv[argc++] = "vgate";
	argv[argc++] = "--config";
	argv[argc++] = path;
	for (i = 0; i < n_extra; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	r = vg_options_parse(argc, argv, o, stdout, err, errlen);
	unlink(path);
	return r;
}

Test(config, flags_override_file)
{
	struct vg_options o;
	char err[256] = "";
	char *extra[] = { "-mtu", "4000", "--dns-upstream", "127.0.0.9" };

	cr_assert_eq(parse_with("tap-fd: 3\nmtu: 9000\nlog-level: debug\n"
				"dns-upstream: [127.0.0.1]\n",
				extra, 4, &o, err, sizeof(err)),
		     VG_PARSE_OK, "%s", err);
	cr_assert_eq(o.ns.mtu, 4000);		  /* command line wins */
	cr_assert_eq(o.log_level, VG_LOG_DEBUG);  /* from the file */
	cr_assert_eq(o.tap_fd, 3);		  /* from the file */
	cr_assert_eq(o.n_dns_upstream, 2);	  /* lists accumulate, file first */
	cr_assert_str_eq(o.dns_upstream[0], "127.0.0.1");
	cr_assert_str_eq(o.dns_upstream[1], "127.0.0.9");
	vg_options_free(&o);
}

Test(config, value_errors_name_file_line_key_value)
{
	struct vg_options o;
	char err[256] = "";

	cr_assert_eq(parse_with("tap-fd: 3\nmtu: huge\n", NULL, 0, &o, err, sizeof(err)),
		     VG_PARSE_ERROR);
	cr_assert(strstr(err, ":2: invalid --mtu 'huge'"), "%s", err);
	cr_assert_eq(parse_with("tap-fd: 3\noutbound-allow: [10.0.0.0/99]\n", NULL, 0, &o, err,
				sizeof(err)),
		     VG_PARSE_ERROR);
	cr_assert(strstr(err, ":2: bad CIDR '10.0.0.0/99'"), "%s", err);
}

Test(config, unreadable_file)
{
	struct vg_options o;
	char err[256] = "";
	char *argv[] = { "vgate", "--config", "/nonexistent/vgate.yaml", "--tap-fd", "3", NULL };

	cr_assert_eq(vg_options_parse(5, argv, &o, stdout, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert(strstr(err, "cannot read --config '/nonexistent/vgate.yaml'"), "%s", err);
}

Test(config, gvproxy_aliases)
{
	struct vg_options o;
	char err[256] = "";
	char *argv[] = { "vgate", "-listen-qemu", "unix:///tmp/q.sock", "-debug", "-ssh-port",
			 "2222", "-services", "unix:///tmp/api.sock", NULL };
	char *bess[] = { "vgate", "-listen-bess", "unixpacket:///tmp/x", NULL };
	char *bad[] = { "vgate", "-listen-bess", "unix:///tmp/x", "-listen-stdio", "x", NULL };

	cr_assert_eq(vg_options_parse(8, argv, &o, stdout, err, sizeof(err)), VG_PARSE_OK, "%s",
		     err);
	cr_assert_eq(o.log_level, VG_LOG_DEBUG);
	cr_assert_eq(o.ssh_port, 2222);
	cr_assert_str_eq(o.api, "unix:///tmp/api.sock");
	vg_options_free(&o);
	/* gvproxy's transports are options of their own now (cmd/glisten.h) */
	cr_assert_eq(vg_options_parse(3, bess, &o, stdout, err, sizeof(err)), VG_PARSE_OK, "%s",
		     err);
	cr_assert_str_eq(o.listen_bess, "unixpacket:///tmp/x");
	vg_options_free(&o);
	cr_assert_eq(vg_options_parse(5, bad, &o, stdout, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert(strstr(err, "one guest link"), "%s", err);
}

Test(config, nat64_switch)
{
	char err[256] = "";
	struct vg_cfg_args *a = conv("nat64: true\n", err, sizeof(err));

	cr_assert_not_null(a, "%s", err);
	cr_assert_eq(a->argc, 2);
	cr_assert_str_eq(a->argv[1], "--nat64");
	vg_cfg_args_free(a);
	a = conv("nat64: false\n", err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	cr_assert_eq(a->argc, 1, "a false switch adds nothing");
	vg_cfg_args_free(a);
}
