/* SPDX-License-Identifier: MIT */
/*
 * test_transport.c - the hypervisor transports over real local sockets:
 * QEMU stream (frames split across writes, a truncated frame, garbage
 * lengths, a reconnect replacing the old peer) and unixgram (one frame per
 * datagram, oversize datagrams dropped).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netstack/netstack.h"

static struct vg_loop *loop;
static struct ns *ns;
static char dir[64];
static char path[128], uri[160];

static void setup(void)
{
	struct ns_config c;
	char err[256];

	ns_config_defaults(&c);
	cr_assert_eq(ns_config_check(&c, err, sizeof(err)), 0);
	loop = vg_loop_new(1024);
	ns = ns_new(loop, &c);
	cr_assert_not_null(ns);
	strcpy(dir, "/tmp/vgate-ut-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	ns_free(ns);
	vg_loop_free(loop);
	unlink(path);
	rmdir(dir);
}

static void spin(int turns)
{
	while (turns--)
		vg_loop_run_once(loop, 5);
}

static int connect_unix(int type, const char *p, const char *bind_to)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	cr_assert_geq(fd, 0);
	if (bind_to) {
		struct sockaddr_un me = { .sun_family = AF_UNIX };

		strcpy(me.sun_path, bind_to);
		cr_assert_eq(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	}
	strcpy(sun.sun_path, p);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* an ARP request from 192.168.127.2 for the gateway */
static void arp_req(uint8_t *f)
{
	static const uint8_t req[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x08, 0x06,
		0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 192, 168, 127, 2,
		0, 0, 0, 0, 0, 0, 192, 168, 127, 1,
	};

	memcpy(f, req, 42);
}

static ssize_t read_some(int fd, uint8_t *buf, size_t cap)
{
	int i;

	for (i = 0; i < 200; i++) {
		ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);

		if (n > 0)
			return n;
		spin(1);
	}
	return -1;
}

TestSuite(transport, .init = setup, .fini = teardown);

Test(transport, qemu_stream_split_frames_and_reconnect)
{
	uint8_t msg[4 + 42 + 4 + 42], r[256];
	char err[256];
	struct ns_stats st;
	ssize_t n;
	int fd, fd2;
	size_t i;

	snprintf(path, sizeof(path), "%s/qemu.sock", dir);
	snprintf(uri, sizeof(uri), "unix://%s", path);
	cr_assert_eq(ns_listen_qemu(ns, uri, err, sizeof(err)), 0, "%s", err);
	fd = connect_unix(SOCK_STREAM, path, NULL);
	spin(3);
	msg[0] = msg[1] = msg[2] = 0;
	msg[3] = 42;
	arp_req(msg + 4);
	memcpy(msg + 46, msg, 46);
	/* two frames, written one byte at a time */
	for (i = 0; i < sizeof(msg); i++) {
		cr_assert_eq(write(fd, msg + i, 1), 1);
		if (i % 7 == 0)
			spin(1);
	}
	spin(5);
	n = read_some(fd, r, sizeof(r));
	cr_assert_geq(n, 46);
	cr_assert_eq(r[3], 42, "length prefix of the ARP reply");
	cr_assert_eq(r[4 + 21], 2, "ARP reply");

	/* a truncated frame, then the VM "restarts": the new connection wins */
	cr_assert_eq(write(fd, msg, 10), 10);
	spin(3);
	fd2 = connect_unix(SOCK_STREAM, path, NULL);
	spin(5);
	cr_assert_eq(write(fd2, msg, 46), 46);
	n = read_some(fd2, r, sizeof(r));
	cr_assert_eq(n, 46);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_connects, 2);
	cr_assert_eq(st.drop_bad_length, 1, "truncated frame counted");

	/* garbage length: the connection is dropped, the listener survives */
	cr_assert_eq(write(fd2, "\xff\xff\xff\xff garbage", 12), 12);
	spin(5);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_disconnects, 2);
	close(fd);
	close(fd2);
	fd = connect_unix(SOCK_STREAM, path, NULL);
	spin(3);
	cr_assert_eq(write(fd, msg, 46), 46);
	cr_assert_eq(read_some(fd, r, sizeof(r)), 46);
	close(fd);
}

/* a free TCP port on 127.0.0.1 (bound, then released) */
static int free_tcp_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

Test(transport, qemu_stream_over_tcp_loopback)
{
	uint8_t msg[46], r[256];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char err[256];
	int fd, port = free_tcp_port();

	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
	cr_assert_eq(ns_listen_qemu(ns, uri, err, sizeof(err)), 0, "%s", err);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_port = htons((uint16_t)port);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	spin(3);
	msg[0] = msg[1] = msg[2] = 0;
	msg[3] = 42;
	arp_req(msg + 4);
	cr_assert_eq(write(fd, msg, sizeof(msg)), (ssize_t)sizeof(msg));
	cr_assert_eq(read_some(fd, r, sizeof(r)), 46);
	cr_assert_eq(r[4 + 21], 2, "ARP reply, framed");
	close(fd);
}

Test(transport, vfkit_unixgram_one_frame_per_datagram)
{
	uint8_t f[2000], r[256];
	char err[256], me[128];
	struct ns_stats st;
	int fd;

	snprintf(path, sizeof(path), "%s/vfkit.sock", dir);
	snprintf(uri, sizeof(uri), "unixgram://%s", path);
	snprintf(me, sizeof(me), "%s/vm.sock", dir);
	cr_assert_eq(ns_listen_vfkit(ns, uri, err, sizeof(err)), 0, "%s", err);
	fd = connect_unix(SOCK_DGRAM, path, me);
	memset(f, 0, sizeof(f));
	arp_req(f);
	cr_assert_eq(send(fd, f, 1600, 0), 1600); /* oversize datagram */
	cr_assert_eq(send(fd, f, 42, 0), 42);
	cr_assert_eq(read_some(fd, r, sizeof(r)), 42);
	cr_assert_eq(r[21], 2);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.drop_oversize, 1);
	close(fd);
	unlink(me);
}

Test(transport, bad_uris_are_rejected)
{
	char err[256];

	cr_assert_lt(ns_listen_qemu(ns, "http://x", err, sizeof(err)), 0);
	cr_assert_lt(ns_listen_qemu(ns, "tcp://not-an-ip:5", err, sizeof(err)), 0);
	cr_assert_lt(ns_listen_qemu(ns, "tcp://127.0.0.1:99999", err, sizeof(err)), 0);
	cr_assert_lt(ns_listen_vfkit(ns, "unix:///tmp/x", err, sizeof(err)), 0);
	cr_assert_lt(ns_listen_qemu(ns, "unix://", err, sizeof(err)), 0);
}
