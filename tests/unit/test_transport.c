/* SPDX-License-Identifier: MIT */
/*
 * test_transport.c - the hypervisor transports over real local sockets:
 * QEMU stream (frames split across writes, a truncated frame, garbage
 * lengths, a reconnect replacing the old peer) and unixgram (one frame per
 * datagram, oversize datagrams dropped); the hypervisor side's defences:
 * socket mode whatever the umask, no unlinking of what is not a socket, one
 * live stream client (a dead one replaced at once), SO_PEERCRED, the
 * unixgram peer lock, and a listener out of fds paused instead of spinning
 * (RLIMIT_NOFILE lowered in the test's own process).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
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
	close(fd);
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

/* the netstack again, with @mode and peer-uid settings (one ns per process) */
static void renew(unsigned int mode, bool uid_set, uint32_t uid)
{
	struct ns_config c;
	char err[256];

	ns_free(ns);
	ns_config_defaults(&c);
	c.socket_mode = mode;
	c.peer_uid_set = uid_set;
	c.peer_uid = uid;
	cr_assert_eq(ns_config_check(&c, err, sizeof(err)), 0);
	ns = ns_new(loop, &c);
	cr_assert_not_null(ns);
}

static unsigned int mode_of(const char *p)
{
	struct stat sb;

	cr_assert_eq(lstat(p, &sb), 0);
	cr_assert(S_ISSOCK(sb.st_mode));
	return sb.st_mode & 0777;
}

Test(transport, unix_sockets_are_0600_whatever_the_umask)
{
	char err[256];
	mode_t old = umask(0);

	snprintf(path, sizeof(path), "%s/qemu.sock", dir);
	snprintf(uri, sizeof(uri), "unix://%s", path);
	cr_assert_eq(ns_listen_qemu(ns, uri, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mode_of(path), 0600);
	cr_assert_eq(umask(0), 0, "umask restored");

	renew(0660, false, 0);
	snprintf(uri, sizeof(uri), "unixgram://%s", path);
	cr_assert_eq(ns_listen_vfkit(ns, uri, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mode_of(path), 0660, "--socket-mode widens it");

	renew(0, false, 0);
	{
		/* a stale socket left at the path (a crashed vgate) */
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

		strcpy(sun.sun_path, path);
		cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		close(fd);
	}
	umask(0077);
	cr_assert_eq(ns_listen_vfkit(ns, uri, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mode_of(path), 0600, "an old socket is replaced");
	umask(old);
}

Test(transport, a_path_that_is_not_a_socket_is_left_alone)
{
	char err[256];
	struct stat sb;
	FILE *f;

	snprintf(path, sizeof(path), "%s/precious", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("data\n", f);
	fclose(f);
	snprintf(uri, sizeof(uri), "unix://%s", path);
	cr_assert_lt(ns_listen_qemu(ns, uri, err, sizeof(err)), 0);
	cr_assert(strstr(err, "not a socket"), "%s", err);
	snprintf(uri, sizeof(uri), "unixgram://%s", path);
	cr_assert_lt(ns_listen_vfkit(ns, uri, err, sizeof(err)), 0);
	cr_assert_eq(stat(path, &sb), 0, "the file is still there");
	cr_assert(S_ISREG(sb.st_mode) && sb.st_size == 5);
}

/* one framed ARP request on @fd; true when the framed reply comes back */
static bool arp_roundtrip(int fd)
{
	uint8_t msg[46], r[256];

	msg[0] = msg[1] = msg[2] = 0;
	msg[3] = 42;
	arp_req(msg + 4);
	if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg))
		return false;
	return read_some(fd, r, sizeof(r)) == 46 && r[4 + 21] == 2;
}

/* spin until @fd sees EOF (true) or ~1 s passes */
static bool sees_eof(int fd)
{
	char c;
	int i;

	for (i = 0; i < 200; i++) {
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
		spin(1);
	}
	return false;
}

/* ns_listen_qemu() on DIR/qemu.sock; returns a client that got its answer */
static int qemu_with_client(void)
{
	char err[256];
	int fd;

	snprintf(path, sizeof(path), "%s/qemu.sock", dir);
	snprintf(uri, sizeof(uri), "unix://%s", path);
	cr_assert_eq(ns_listen_qemu(ns, uri, err, sizeof(err)), 0, "%s", err);
	fd = connect_unix(SOCK_STREAM, path, NULL);
	cr_assert(arp_roundtrip(fd));
	return fd;
}

Test(transport, a_second_client_cannot_take_over_a_live_link)
{
	struct ns_stats st;
	int fd = qemu_with_client(), fd2;

	fd2 = connect_unix(SOCK_STREAM, path, NULL);
	cr_assert(sees_eof(fd2), "the second client is closed at once");
	cr_assert(arp_roundtrip(fd), "the first one still owns the link");
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_refused, 1);
	cr_assert_eq(st.transport_connects, 1);
	cr_assert_eq(st.transport_disconnects, 0);
	close(fd2);
	close(fd);
}

Test(transport, a_dead_client_is_replaced_at_once)
{
	struct ns_stats st;
	int fd = qemu_with_client(), fd2;

	/* the VM dies and restarts before the loop has seen the EOF */
	close(fd);
	fd2 = connect_unix(SOCK_STREAM, path, NULL);
	cr_assert(arp_roundtrip(fd2), "the new client took the dead one's place");
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_refused, 0);
	cr_assert_eq(st.transport_connects, 2);
	cr_assert_eq(st.transport_disconnects, 1);
	close(fd2);
}

/* as uid 65534 in a child: connect to the socket, hold it until told to go */
static pid_t connect_as_nobody(int *ctl)
{
	int sv[2];
	pid_t pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		char c = 'x';
		int fd;

		close(sv[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		strcpy(sun.sun_path, path);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			_exit(3);
		if (write(sv[1], &c, 1) != 1 || read(sv[1], &c, 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(sv[1]);
	*ctl = sv[0];
	return pid;
}

static void peer_uid_case(bool allow, uint64_t want_bad)
{
	char err[256], c;
	struct ns_stats st;
	int ctl, status, i;
	pid_t pid;

	renew(0666, allow, 65534);
	snprintf(path, sizeof(path), "%s/qemu.sock", dir);
	snprintf(uri, sizeof(uri), "unix://%s", path);
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_assert_eq(ns_listen_qemu(ns, uri, err, sizeof(err)), 0, "%s", err);
	pid = connect_as_nobody(&ctl);
	for (i = 0; i < 100 && recv(ctl, &c, 1, MSG_DONTWAIT) != 1; i++)
		spin(1);
	spin(5);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_bad_uid, want_bad);
	cr_assert_eq(st.transport_connects, 1 - want_bad);
	cr_assert_eq(write(ctl, "q", 1), 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	close(ctl);
}

Test(transport, a_peer_of_another_uid_is_refused)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to connect as another uid");
	peer_uid_case(false, 1);
}

Test(transport, allow_peer_uid_admits_that_uid)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to connect as another uid");
	peer_uid_case(true, 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

Test(transport, unixgram_peer_is_locked_until_it_goes_away)
{
	uint8_t f[42], r[256];
	char err[256], me[128], other[128];
	struct ns_stats st;
	uint64_t t0;
	int a, b;

	snprintf(path, sizeof(path), "%s/vfkit.sock", dir);
	snprintf(uri, sizeof(uri), "unixgram://%s", path);
	snprintf(me, sizeof(me), "%s/vm.sock", dir);
	snprintf(other, sizeof(other), "%s/intruder.sock", dir);
	cr_assert_eq(ns_listen_vfkit(ns, uri, err, sizeof(err)), 0, "%s", err);
	a = connect_unix(SOCK_DGRAM, path, me);
	b = connect_unix(SOCK_DGRAM, path, other);
	arp_req(f);
	cr_assert_eq(send(a, f, 42, 0), 42);
	cr_assert_eq(read_some(a, r, sizeof(r)), 42, "the first sender is the peer");
	t0 = now_ms();
	cr_assert_eq(send(b, f, 42, 0), 42);
	cr_assert_eq(read_some(b, r, sizeof(r)), -1, "another sender gets nothing");
	cr_assert_eq(send(a, f, 42, 0), 42);
	cr_assert_eq(read_some(a, r, sizeof(r)), 42, "the peer still owns the link");
	ns_get_stats(ns, &st);
	cr_assert_eq(st.drop_foreign_peer, 1);
	cr_assert_eq(st.arp_replies, 2);

	/* the peer goes away; after the probe interval the next sender wins */
	close(a);
	unlink(me);
	while (now_ms() - t0 < 1100)
		spin(1);
	cr_assert_eq(send(b, f, 42, 0), 42);
	cr_assert_eq(read_some(b, r, sizeof(r)), 42, "the new sender took over");
	ns_get_stats(ns, &st);
	cr_assert_eq(st.drop_foreign_peer, 1);
	cr_assert_eq(st.transport_peer_lost, 1);
	close(b);
	unlink(other);
}

/* the process's lowest free fd: a limit of it leaves no fd to open */
static int first_free_fd(void)
{
	int fd = 0;

	while (fcntl(fd, F_GETFD) >= 0)
		fd++;
	return fd;
}

static void log_line(void *ctx, const char *line)
{
	int *n = ctx;

	(*n)++;
	cr_log_info("%s", line);
}

Test(transport, accept_out_of_fds_pauses_the_listener_not_spins)
{
	struct rlimit old, low;
	struct ns_stats st;
	char err[256];
	int fd, i, lines = 0;

	ns_set_log(ns, log_line, &lines);
	cr_assert_eq(vg_loop_set_clock(loop, VG_CLOCK_MANUAL, 1000), 0);
	snprintf(path, sizeof(path), "%s/qemu.sock", dir);
	snprintf(uri, sizeof(uri), "unix://%s", path);
	cr_assert_eq(ns_listen_qemu(ns, uri, err, sizeof(err)), 0, "%s", err);
	fd = connect_unix(SOCK_STREAM, path, NULL); /* waits in the backlog */
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)first_free_fd();
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	spin(50); /* level-triggered and readable all along */
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_fd_exhausted, 1, "%llu accepts in 50 turns",
		     (unsigned long long)st.transport_fd_exhausted);
	cr_assert_eq(st.transport_connects, 0);
	cr_assert_eq(lines, 1, "one log line at the first hit");
	/* each pause ends with one try; the log line comes again only later */
	for (i = 0; i < 5; i++) {
		vg_loop_advance(loop, NS_ACCEPT_PAUSE_MS);
		spin(10);
	}
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_fd_exhausted, 6);
	cr_assert_eq(lines, 1);
	/* an fd free again: the client is accepted at the end of the pause */
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	vg_loop_advance(loop, NS_ACCEPT_PAUSE_MS);
	spin(5);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_connects, 1);
	cr_assert(arp_roundtrip(fd), "the link works");
	close(fd);
}

/* log sink keeping the last line */
struct lines {
	int n;
	char last[256];
};

static void keep_line(void *ctx, const char *line)
{
	struct lines *l = ctx;

	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", line);
	cr_log_info("%s", line);
}

/* like sees_eof(), but whatever the gateway sent before closing is read past */
static bool drains_to_eof(int fd)
{
	uint8_t buf[4096];
	int i;

	for (i = 0; i < 200; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
		if (n < 0)
			spin(1);
	}
	return false;
}

Test(transport, stream_desync_is_counted_and_logged)
{
	/* 1 MiB: within the old "plausible" bound, so it used to be skipped */
	static const uint8_t zero[4] = { 0, 0, 0, 0 }, big[8] = { 0, 0x10, 0, 0, 1, 2, 3, 4 };
	struct lines l = { 0 };
	struct ns_stats st;
	int fd;

	ns_set_log(ns, keep_line, &l);
	cr_assert_eq(vg_loop_set_clock(loop, VG_CLOCK_MANUAL, 1000), 0);
	fd = qemu_with_client();
	/* a zero-length prefix: skipped, the stream goes on */
	cr_assert_eq(write(fd, zero, sizeof(zero)), 4);
	cr_assert(arp_roundtrip(fd), "the link still works after a 0 prefix");
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_desync, 1);
	cr_assert_eq(st.transport_disconnects, 0);
	cr_assert_eq(l.n, 1, "one line for the first desync");
	cr_assert_not_null(strstr(l.last, "desynchronised: length prefix 0 "), "%s", l.last);
	cr_assert_not_null(strstr(l.last, "skipped"), "%s", l.last);
	/* a prefix no QEMU frame can have: counted, logged, connection dropped */
	vg_loop_advance(loop, NS_LOG_MS);
	cr_assert_eq(write(fd, big, sizeof(big)), 8);
	cr_assert(drains_to_eof(fd), "the desynchronised connection is closed");
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_desync, 2);
	cr_assert_eq(st.transport_disconnects, 1);
	cr_assert_eq(l.n, 2, "a second line after NS_LOG_MS");
	cr_assert_not_null(strstr(l.last, "length prefix 1048576 "), "%s", l.last);
	cr_assert_not_null(strstr(l.last, "connection dropped"), "%s", l.last);
	close(fd);
}

/* gvproxy's framings and transports (issue 12, item 2) */

Test(transport, attached_stream_le16_frames_one_live_peer)
{
	uint8_t msg[2 + 42], r[256];
	char err[256];
	struct ns_stats st;
	int sv[2], sv2[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(ns_attach_stream(ns, sv[1], -1, NS_FRAMING_LE16, err, sizeof(err)), 0, "%s",
		     err);
	msg[0] = 42;
	msg[1] = 0;
	arp_req(msg + 2);
	cr_assert_eq(write(sv[0], msg, sizeof(msg)), (ssize_t)sizeof(msg));
	cr_assert_eq(read_some(sv[0], r, sizeof(r)), 44);
	cr_assert_eq(r[0], 42, "2-byte LE length of the ARP reply");
	cr_assert_eq(r[1], 0);
	cr_assert_eq(r[2 + 21], 2, "ARP reply");

	/* a second stream while the first is alive: refused, the caller keeps it */
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
	cr_assert_eq(ns_attach_stream(ns, sv2[1], -1, NS_FRAMING_LE16, err, sizeof(err)), -EBUSY);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_refused, 1);

	/* a zero-length prefix is a desync, skipped: the next frame still works */
	cr_assert_eq(write(sv[0], "\0\0", 2), 2);
	cr_assert_eq(write(sv[0], msg, sizeof(msg)), (ssize_t)sizeof(msg));
	cr_assert_eq(read_some(sv[0], r, sizeof(r)), 44);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_desync, 1);

	/* the first peer goes away: the next one takes the link, in QEMU framing */
	close(sv[0]);
	spin(2);
	cr_assert_eq(ns_attach_stream(ns, sv2[1], -1, NS_FRAMING_QEMU, err, sizeof(err)), 0, "%s",
		     err);
	msg[0] = 0;
	cr_assert_eq(write(sv2[0], "\0\0\0\x2a", 4), 4);
	cr_assert_eq(write(sv2[0], msg + 2, 42), 42);
	cr_assert_eq(read_some(sv2[0], r, sizeof(r)), 46);
	cr_assert_eq(r[3], 42, "4-byte BE length");
	close(sv2[0]);
	cr_assert_eq(ns_attach_stream(ns, 0, -1, (enum ns_framing)7, err, sizeof(err)), -EINVAL);
}

Test(transport, attached_stream_on_two_pipes_like_stdio)
{
	uint8_t msg[2 + 42], r[256];
	char err[256];
	int in[2], out[2];
	ssize_t n = -1;
	int i;

	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(ns_attach_stream(ns, in[0], out[1], NS_FRAMING_LE16, err, sizeof(err)), 0,
		     "%s", err);
	msg[0] = 42;
	msg[1] = 0;
	arp_req(msg + 2);
	cr_assert_eq(write(in[1], msg, sizeof(msg)), (ssize_t)sizeof(msg));
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	for (i = 0; i < 200 && n <= 0; i++) {
		spin(1);
		n = read(out[0], r, sizeof(r));
	}
	cr_assert_eq(n, 44);
	cr_assert_eq(r[2 + 21], 2, "ARP reply on the write pipe");
	close(in[1]);
	close(out[0]);
}

Test(transport, bess_seqpacket_one_frame_per_packet)
{
	uint8_t f[42], big[2000], r[256];
	char err[256];
	struct ns_stats st;
	int fd, fd2;

	snprintf(path, sizeof(path), "%s/bess.sock", dir);
	snprintf(uri, sizeof(uri), "unixpacket://%s", path);
	cr_assert_eq(ns_listen_bess(ns, "unix:///x", err, sizeof(err)), -EINVAL);
	cr_assert_eq(ns_listen_bess(ns, uri, err, sizeof(err)), 0, "%s", err);
	fd = connect_unix(SOCK_SEQPACKET, path, NULL);
	spin(3);
	arp_req(f);
	cr_assert_eq(send(fd, f, sizeof(f), 0), (ssize_t)sizeof(f));
	cr_assert_eq(read_some(fd, r, sizeof(r)), 42, "one ARP reply per packet, no prefix");
	cr_assert_eq(r[21], 2);
	memset(big, 0, sizeof(big));
	cr_assert_eq(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	spin(3);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.drop_oversize, 1, "a packet above MTU + 14 is dropped");
	/* one live peer; EOF frees the link for the next */
	fd2 = connect_unix(SOCK_SEQPACKET, path, NULL);
	spin(3);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_refused, 1);
	close(fd2);
	close(fd);
	spin(3);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.transport_disconnects, 1);
	fd = connect_unix(SOCK_SEQPACKET, path, NULL);
	spin(3);
	cr_assert_eq(send(fd, f, sizeof(f), 0), (ssize_t)sizeof(f));
	cr_assert_eq(read_some(fd, r, sizeof(r)), 42);
	close(fd);
}

/* ns_set_link_watch(): the events, in order, with their MACs */
struct watch_log {
	int n;
	enum ns_link_event ev[8];
	uint8_t mac[8][6];
};

static void watch(void *ctx, enum ns_link_event ev, const uint8_t *mac)
{
	struct watch_log *w = ctx;

	if (w->n >= 8)
		return;
	w->ev[w->n] = ev;
	if (mac)
		memcpy(w->mac[w->n], mac, 6);
	else
		memset(w->mac[w->n], 0xee, 6);
	w->n++;
}

Test(transport, link_watch_reports_up_on_the_first_frame_and_down_with_its_mac)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 2}; /* arp_req()'s source */
	struct watch_log w = {0};
	int fd, fd2;

	ns_set_link_watch(ns, watch, &w);
	fd = qemu_with_client(); /* one frame each way */
	cr_assert_eq(w.n, 1);
	cr_assert_eq(w.ev[0], NS_LINK_GUEST_UP);
	cr_assert_eq(memcmp(w.mac[0], mac, 6), 0);
	cr_assert(arp_roundtrip(fd));
	cr_assert_eq(w.n, 1, "a second frame reports nothing");
	/* the VM restarts: its dead connection goes down before the new one is up */
	close(fd);
	fd2 = connect_unix(SOCK_STREAM, path, NULL);
	cr_assert(arp_roundtrip(fd2));
	cr_assert_eq(w.n, 3);
	cr_assert_eq(w.ev[1], NS_LINK_GUEST_DOWN);
	cr_assert_eq(memcmp(w.mac[1], mac, 6), 0);
	cr_assert_eq(w.ev[2], NS_LINK_GUEST_UP);
	close(fd2);
	spin(20);
	cr_assert_eq(w.n, 4);
	cr_assert_eq(w.ev[3], NS_LINK_GUEST_DOWN);
	/* a client that sends nothing is neither up nor down */
	fd = connect_unix(SOCK_STREAM, path, NULL);
	spin(5);
	close(fd);
	spin(20);
	cr_assert_eq(w.n, 4, "a connection without a frame reported %d events", w.n - 4);
	ns_set_link_watch(ns, NULL, NULL);
}
