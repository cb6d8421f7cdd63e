/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_notify.c - vg_notify() (sd_notify's datagram without libsystemd)
 * to a path and to an abstract socket, nothing sent without NOTIFY_SOCKET,
 * an error for an address that cannot be one; and vg_dl_load()'s messages
 * for a library or a symbol that is not there.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd/dynlib.h"
#include "cmd/notify.h"

/* a datagram socket bound at @name (leading '@': abstract) */
static int listen_at(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun,
			  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'))),
		     0);
	return fd;
}

static void expect(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	cr_assert_gt(n, 0, "nothing received");
	buf[n] = '\0';
	cr_assert_str_eq(buf, want);
}

Test(notify, path_and_abstract_sockets)
{
	char path[64], abs[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/vgate-ut-notify-%d", (int)getpid());
	unlink(path);
	fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	cr_assert_eq(vg_notify("READY=1\nSTATUS=serving"), 0);
	expect(fd, "READY=1\nSTATUS=serving");
	close(fd);
	unlink(path);

	snprintf(abs, sizeof(abs), "@vgate-ut-notify-%d", (int)getpid());
	fd = listen_at(abs);
	setenv("NOTIFY_SOCKET", abs, 1);
	cr_assert_eq(vg_notify("STOPPING=1"), 0);
	expect(fd, "STOPPING=1");
	close(fd);
}

Test(notify, unset_is_a_no_op_and_a_bad_address_an_error)
{
	unsetenv("NOTIFY_SOCKET");
	cr_assert_eq(vg_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	cr_assert_eq(vg_notify("READY=1"), -1);
	setenv("NOTIFY_SOCKET", "/nonexistent/vgate-notify.sock", 1);
	cr_assert_eq(vg_notify("READY=1"), -1);
}

struct one_fn {
	int (*getpid_fn)(void);
};

Test(dynlib, missing_library_or_symbol_is_a_clear_error)
{
	static const struct vg_dl_sym ok[] = { { "getpid", offsetof(struct one_fn, getpid_fn) } };
	static const struct vg_dl_sym bad[] = { { "vg_no_such_fn", 0 } };
	struct one_fn t = { 0 };
	char err[256];

	cr_assert_eq(vg_dl_load("libvgate-nonexistent.so.9", "--test", ok, 1, &t, err, sizeof(err)),
		     -1);
	cr_assert_not_null(strstr(err, "--test needs libvgate-nonexistent.so.9"), "%s", err);
	cr_assert_null(t.getpid_fn, "the table is untouched on failure");
	cr_assert_eq(vg_dl_load("libc.so.6", "--test", bad, 1, &t, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "libc.so.6 has no vg_no_such_fn"), "%s", err);
	cr_assert_eq(vg_dl_load("libc.so.6", "--test", ok, 1, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t.getpid_fn(), getpid());
}
