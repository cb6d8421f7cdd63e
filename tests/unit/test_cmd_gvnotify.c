/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_gvnotify.c - gvproxy's -notification sender (cmd/gvnotify.h):
 * gvproxy's JSON lines, one connection each, in order, and only from the
 * loop (never from inside vg_gvnotify_send()); a full queue drops and
 * counts; nothing listening loses the line and counts it; a listener with a
 * full backlog is retried until it accepts; free sends what is queued;
 * gvproxy's check of the URI.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd/gvnotify.h"

static struct vg_loop *loop;
static struct vg_log lg;
static char dir[64], path[128], uri[160];

static void setup(void)
{
	loop = vg_loop_new(64);
	cr_assert_not_null(loop);
	lg.out = fopen("/dev/null", "w");
	lg.level = VG_LOG_DEBUG;
	strcpy(dir, "/tmp/vgate-gvn-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/n.sock", dir);
	snprintf(uri, sizeof(uri), "unix://%s", path);
}

static void teardown(void)
{
	vg_loop_free(loop);
	fclose(lg.out);
	unlink(path);
	rmdir(dir);
}

TestSuite(gvnotify, .init = setup, .fini = teardown);

static int listener(int backlog)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0);
	strcpy(sun.sun_path, path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(fd, backlog), 0);
	return fd;
}

static void spin(int turns)
{
	while (turns--)
		vg_loop_run_once(loop, 5);
}

/* accept one connection (waiting a little) and read it to EOF */
static void expect_conn(int lfd, const char *want)
{
	char buf[256];
	size_t got = 0;
	int c = -1, i;

	for (i = 0; i < 100 && c < 0; i++) {
		c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (c < 0)
			spin(1);
	}
	cr_assert_geq(c, 0, "no connection for '%s'", want);
	for (i = 0; i < 100; i++) {
		ssize_t n = recv(c, buf + got, sizeof(buf) - 1 - got, 0);

		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
		else
			spin(1);
	}
	buf[got] = '\0';
	close(c);
	cr_assert_str_eq(buf, want);
}

Test(gvnotify, gvproxy_lines_one_connection_each_in_order_from_the_loop)
{
	static const uint8_t mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xee};
	struct vg_gvnotify_stats st;
	char err[256];
	int lfd = listener(16), c;
	struct vg_gvnotify *n = vg_gvnotify_new(loop, uri, &lg, err, sizeof(err));

	cr_assert_not_null(n, "%s", err);
	vg_gvnotify_send(n, VG_GVN_READY, NULL);
	vg_gvnotify_send(n, VG_GVN_CONNECTION_ESTABLISHED, mac);
	vg_gvnotify_send(n, VG_GVN_CONNECTION_CLOSED, mac);
	vg_gvnotify_send(n, VG_GVN_HYPERVISOR_ERROR, NULL);
	c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	cr_assert(c < 0 && errno == EAGAIN, "vg_gvnotify_send() connected by itself");
	spin(2);
	expect_conn(lfd, "{\"notification_type\":\"ready\"}\n");
	expect_conn(lfd, "{\"notification_type\":\"connection_established\","
			 "\"mac_address\":\"5a:94:ef:e4:0c:ee\"}\n");
	expect_conn(lfd, "{\"notification_type\":\"connection_closed\","
			 "\"mac_address\":\"5a:94:ef:e4:0c:ee\"}\n");
	expect_conn(lfd, "{\"notification_type\":\"hypervisor_error\"}\n");
	vg_gvnotify_get_stats(n, &st);
	cr_assert_eq(st.sent, 4);
	cr_assert_eq(st.failed + st.dropped, 0);
	vg_gvnotify_free(n);
	close(lfd);
}

Test(gvnotify, a_full_queue_drops_and_nothing_listening_loses)
{
	struct vg_gvnotify_stats st;
	char err[256];
	struct vg_gvnotify *n = vg_gvnotify_new(loop, uri, &lg, err, sizeof(err));
	int i;

	cr_assert_not_null(n, "%s", err);
	for (i = 0; i < VG_GVNOTIFY_QUEUE + 5; i++)
		vg_gvnotify_send(n, VG_GVN_READY, NULL);
	vg_gvnotify_get_stats(n, &st);
	cr_assert_eq(st.dropped, 5);
	spin(3);
	vg_gvnotify_get_stats(n, &st);
	cr_assert_eq(st.failed, VG_GVNOTIFY_QUEUE, "no socket at the path: every line lost");
	cr_assert_eq(st.sent, 0);
	vg_gvnotify_free(n);
}

Test(gvnotify, a_busy_listener_is_retried_and_free_sends_what_is_left)
{
	struct vg_gvnotify_stats st;
	char err[256];
	int lfd = listener(0), i;
	struct vg_gvnotify *n = vg_gvnotify_new(loop, uri, &lg, err, sizeof(err));

	cr_assert_not_null(n, "%s", err);
	/* a backlog of 0 takes one connection: the rest wait (EAGAIN) */
	for (i = 0; i < 3; i++)
		vg_gvnotify_send(n, VG_GVN_READY, NULL);
	spin(3);
	for (i = 0; i < 3; i++)
		expect_conn(lfd, "{\"notification_type\":\"ready\"}\n");
	vg_gvnotify_get_stats(n, &st);
	cr_assert_eq(st.sent, 3);
	cr_assert_eq(st.failed, 0);
	/* queued, never pumped: free sends it */
	vg_gvnotify_send(n, VG_GVN_HYPERVISOR_ERROR, NULL);
	vg_gvnotify_free(n);
	expect_conn(lfd, "{\"notification_type\":\"hypervisor_error\"}\n");
	close(lfd);
}

Test(gvnotify, only_unix_uris)
{
	char err[256];

	cr_assert_eq(vg_gvnotify_uri_check("unix:///run/x.sock", err, sizeof(err)), 0);
	cr_assert_eq(vg_gvnotify_uri_check("tcp://127.0.0.1:1", err, sizeof(err)), -1);
	cr_assert(strstr(err, "notification listen address must be unix:// address"));
	cr_assert_eq(vg_gvnotify_uri_check("unix://", err, sizeof(err)), -1);
	cr_assert_null(vg_gvnotify_new(loop, "unixgram:///x", &lg, err, sizeof(err)));
}
