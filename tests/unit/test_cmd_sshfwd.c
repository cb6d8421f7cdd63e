/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_sshfwd.c - the parts of gvproxy's SSH socket forwarding that
 * need no sshd (tests/e2e/test_ssh_forward.sh has the real one):
 * -forward-sock/-dest/-user/-identity pair by order with one or two
 * dashes, unequal counts are one clear error; vg_sshfwd_check() refuses
 * bad paths and unreadable keys; vg_unix_listen() makes 0600 sockets
 * whatever the umask, replaces a stale socket and leaves anything else.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/options.h"
#include "cmd/sshfwd.h"
#include "cmd/unixsock.h"

static enum vg_parse_result parse(struct vg_options *o, int argc, const char **argv, char *err,
				  size_t errlen)
{
	err[0] = '\0';
	return vg_options_parse(argc, (char **)argv, o, stdout, err, errlen);
}

Test(sshfwd, flags_pair_by_order_with_one_or_two_dashes)
{
	const char *argv[] = {"vgate",
			      "--tap-fd",
			      "3",
			      "-forward-sock",
			      "/tmp/a.sock",
			      "--forward-sock",
			      "unix:///tmp/b.sock",
			      "-forward-dest",
			      "/run/a",
			      "-forward-user",
			      "core",
			      "--forward-dest",
			      "/run/b",
			      "-forward-identity",
			      "/k/a",
			      "-forward-user",
			      "root",
			      "--forward-identity",
			      "/k/b",
			      NULL};
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse(&o, 19, argv, err, sizeof(err)), VG_PARSE_OK, "%s", err);
	cr_assert_eq(o.n_sshfwd, 2);
	cr_assert_str_eq(o.sshfwd[0].sock, "/tmp/a.sock");
	cr_assert_str_eq(o.sshfwd[0].dest, "/run/a");
	cr_assert_str_eq(o.sshfwd[0].user, "core");
	cr_assert_str_eq(o.sshfwd[0].identity, "/k/a");
	cr_assert_str_eq(o.sshfwd[1].sock, "unix:///tmp/b.sock");
	cr_assert_str_eq(o.sshfwd[1].dest, "/run/b");
	cr_assert_str_eq(o.sshfwd[1].user, "root");
	cr_assert_str_eq(o.sshfwd[1].identity, "/k/b");
	vg_options_free(&o);
}

Test(sshfwd, unequal_counts_are_one_clear_error)
{
	const char *argv[] = {"vgate",	     "--tap-fd",
			      "3",	     "-forward-sock",
			      "/tmp/a.sock", "-forward-sock",
			      "/tmp/b.sock", "-forward-dest",
			      "/run/a",	     "-forward-user",
			      "core",	     "-forward-identity",
			      "/k/a",	     NULL};
	struct vg_options o;
	char err[512];

	cr_assert_eq(parse(&o, 13, argv, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "pair by order"), "%s", err);
	cr_assert_not_null(strstr(err, "2, 1, 1, 1"), "%s", err);
	vg_options_free(&o);
}

Test(sshfwd, too_many_and_empty_values_are_refused)
{
	const char *argv[2 * (VG_SSHFWD_MAX + 1) + 4] = {"vgate", "--tap-fd", "3"};
	const char *empty[] = {"vgate", "--tap-fd", "3", "-forward-user", "", NULL};
	struct vg_options o;
	char err[512];
	int n = 3;

	for (int i = 0; i <= VG_SSHFWD_MAX; i++) {
		argv[n++] = "-forward-sock";
		argv[n++] = "/tmp/x.sock";
	}
	cr_assert_eq(parse(&o, n, argv, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "too many -forward-sock"), "%s", err);
	vg_options_free(&o);
	cr_assert_eq(parse(&o, 5, empty, err, sizeof(err)), VG_PARSE_ERROR);
	cr_assert_not_null(strstr(err, "-forward-user"), "%s", err);
	vg_options_free(&o);
}

Test(sshfwd, check_refuses_bad_paths_and_keys)
{
	struct vg_sshfwd_spec ok = {"/tmp/vgate-t.sock", "/run/p.sock", "core",
				    "/nonexistent/vgate-key"};
	struct vg_sshfwd_spec sp;
	char err[512];

	sp = ok;
	sp.sock = "relative.sock";
	cr_assert_eq(vg_sshfwd_check(&sp, 1, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "-forward-sock 'relative.sock'"), "%s", err);
	sp = ok;
	sp.sock = "npipe:////./pipe/x";
	cr_assert_eq(vg_sshfwd_check(&sp, 1, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "unix:///PATH"), "%s", err);
	sp = ok;
	sp.dest = "run/p.sock";
	cr_assert_eq(vg_sshfwd_check(&sp, 1, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "-forward-dest"), "%s", err);
	cr_assert_eq(vg_sshfwd_check(&ok, 1, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "-forward-identity '/nonexistent/vgate-key'"), "%s", err);
	cr_assert_eq(vg_sshfwd_check(&ok, 0, err, sizeof(err)), 0, "no forwards: nothing loaded");
}

Test(sshfwd, unix_listen_is_0600_replaces_sockets_only)
{
	char dir[] = "/tmp/vgate-unix.XXXXXX", path[128], file[128], err[256];
	struct stat st;
	mode_t old;
	int fd, fd2;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(file, sizeof(file), "%s/plain", dir);
	old = umask(0);
	fd = vg_unix_listen(path, "-forward-sock", 4, err, sizeof(err));
	umask(old);
	cr_assert_geq(fd, 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
	close(fd); /* the socket file stays: stale */
	fd2 = vg_unix_listen(path, "-forward-sock", 4, err, sizeof(err));
	cr_assert_geq(fd2, 0, "a stale socket is replaced: %s", err);
	close(fd2);

	FILE *f = fopen(file, "w");

	cr_assert_not_null(f);
	fputs("keep me\n", f);
	fclose(f);
	cr_assert_eq(vg_unix_listen(file, "-forward-sock", 4, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "not a socket"), "%s", err);
	cr_assert_eq(stat(file, &st), 0, "the file is left alone");
	cr_assert(S_ISREG(st.st_mode));
	unlink(file);
	unlink(path);
	rmdir(dir);
}
