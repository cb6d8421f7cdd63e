/* SPDX-License-Identifier: MIT */
/*
 * gvnotify.c - gvproxy's -notification sender (the contract and the wire
 * are in gvnotify.h). State: a ring of formatted lines (q, head, len), the
 * one connection under way (io; fd -1 when none) with how much of the head
 * line it has written, the tries left for a busy listener, a timer that
 * runs the pump (0 ms after a send, VG_GVNOTIFY_RETRY_MS after EAGAIN) and
 * the counters. Everything runs on the loop's thread; the pump never
 * waits: each step is one non-blocking syscall, and what would block is
 * picked up by the timer or EPOLLOUT.
 */
#include "gvnotify.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/netutil.h"
#include "common/ratelimit.h"

#define GVN_SCHEME "unix://"
#define GVN_LOG_MS 10000 /* at most one line about lost notifications per 10 s */

struct vg_gvnotify {
	struct vg_loop *loop;
	struct vg_log *log;
	struct sockaddr_un sun;
	char q[VG_GVNOTIFY_QUEUE][VG_GVNOTIFY_LINE];
	size_t head, len;      /* the ring: the oldest line, how many */
	struct vg_io io;       /* the connection of the head line; fd -1: none */
	size_t off;	       /* bytes of the head line it took */
	unsigned int tries;    /* connects left for the head line */
	bool sync;	       /* vg_gvnotify_free(): no waiting */
	struct vg_timer timer; /* runs pump() */
	struct vg_gvnotify_stats st;
	struct vg_hitlog faillog, droplog;
};

static const char *const type_name[] = {
    [VG_GVN_READY] = "ready",
    [VG_GVN_CONNECTION_ESTABLISHED] = "connection_established",
    [VG_GVN_CONNECTION_CLOSED] = "connection_closed",
    [VG_GVN_HYPERVISOR_ERROR] = "hypervisor_error",
};

int vg_gvnotify_uri_check(const char *uri, char *err, size_t errlen)
{
	size_t n = strlen(GVN_SCHEME);

	if (strncmp(uri, GVN_SCHEME, n)) {
		snprintf(err, errlen, "notification listen address must be unix:// address ('%s')",
			 uri);
		return -1;
	}
	if (!uri[n] || strlen(uri + n) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "invalid -notification '%s' (a unix socket path is needed)",
			 uri);
		return -1;
	}
	return 0;
}

/**
 * lost() - the head line could not be delivered: count it, log (rate-limited)
 * @n:		sender
 * @why:	errno of the failure
 */
static void lost(struct vg_gvnotify *n, int why)
{
	uint64_t hits;

	n->st.failed++;
	if (vg_hitlog_hit(&n->faillog, GVN_LOG_MS, vg_loop_now(n->loop), &hits))
		vg_log(n->log, VG_LOG_WARN,
		       "notification: cannot send to %s: %s (%llu lost since the last such line)",
		       n->sun.sun_path, strerror(why), (unsigned long long)hits);
}

/* close the connection of the head line, if any */
static void conn_close(struct vg_gvnotify *n)
{
	int fd = n->io.fd;

	if (fd < 0)
		return;
	if (n->io.fn)
		vg_io_del(n->loop, &n->io); /* sets io.fd to -1 */
	n->io.fd = -1;
	n->io.fn = NULL;
	close(fd);
}

/* the head line is done with (sent or lost): next one */
static void pop(struct vg_gvnotify *n)
{
	conn_close(n);
	n->head = (n->head + 1) % VG_GVNOTIFY_QUEUE;
	n->len--;
	n->off = 0;
	n->tries = VG_GVNOTIFY_RETRIES;
}

static void on_writable(void *arg, uint32_t events);

/**
 * wait_writable() - the head line's connection would block: wait for
 * EPOLLOUT, and for the retry timer, which bounds the wait
 * @n:	sender
 *
 * Return: false (the line waits), or true when it is lost (no epoll slot)
 */
static bool wait_writable(struct vg_gvnotify *n)
{
	if (!n->io.fn) {
		int fd = n->io.fd;

		if (vg_io_add(n->loop, &n->io, fd, EPOLLOUT, on_writable, n) < 0) {
			n->io.fd = fd;
			lost(n, EIO);
			return true;
		}
	}
	(void)vg_timer_start(n->loop, &n->timer, VG_GVNOTIFY_RETRY_MS);
	return false;
}

/**
 * step() - one non-blocking move for the head line: connect, or write the
 * rest of it
 * @n:	sender (a line is queued)
 *
 * Return: true when the head line is finished (pop it), false when it must
 * wait (the timer or EPOLLOUT is set up; in sync mode it is lost instead)
 */
static bool step(struct vg_gvnotify *n)
{
	const char *line = n->q[n->head];
	size_t len = strlen(line);
	ssize_t w;

	if (n->io.fd < 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			lost(n, errno);
			return true;
		}
		if (connect(fd, (struct sockaddr *)&n->sun, sizeof(n->sun)) < 0) {
			int e = errno;

			close(fd);
			/* a full backlog: the listener is there but slow */
			if ((e == EAGAIN || e == EINTR) && !n->sync && --n->tries > 0) {
				(void)vg_timer_start(n->loop, &n->timer, VG_GVNOTIFY_RETRY_MS);
				return false;
			}
			lost(n, e);
			return true;
		}
		n->io.fd = fd;
	}
	for (;;) {
		w = send(n->io.fd, line + n->off, len - n->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR) && !n->sync && --n->tries > 0)
			return wait_writable(n);
		if (w < 0) {
			lost(n, errno);
			return true;
		}
		n->off += (size_t)w;
		if (n->off == len)
			break; /* else a short write: the rest now */
	}
	n->st.sent++;
	return true;
}

/* send queued lines until one must wait or none is left */
static void pump(struct vg_gvnotify *n)
{
	vg_timer_stop(n->loop, &n->timer);
	while (n->len && step(n))
		pop(n);
}

static void on_timer(void *arg)
{
	pump(arg);
}

static void on_writable(void *arg, uint32_t events)
{
	(void)events;
	pump(arg);
}

struct vg_gvnotify *vg_gvnotify_new(struct vg_loop *loop, const char *uri, struct vg_log *log,
				    char *err, size_t errlen)
{
	struct vg_gvnotify *n;

	if (vg_gvnotify_uri_check(uri, err, errlen) < 0)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "-notification: out of memory");
		return NULL;
	}
	n->loop = loop;
	n->log = log;
	n->sun.sun_family = AF_UNIX;
	memcpy(n->sun.sun_path, uri + strlen(GVN_SCHEME), strlen(uri + strlen(GVN_SCHEME)) + 1);
	n->io.fd = -1;
	n->tries = VG_GVNOTIFY_RETRIES;
	vg_timer_init(&n->timer, on_timer, n);
	return n;
}

void vg_gvnotify_send(struct vg_gvnotify *n, enum vg_gvnotify_type type, const uint8_t *mac)
{
	char *line;
	uint64_t hits;

	if (!n)
		return;
	if (n->len == VG_GVNOTIFY_QUEUE) {
		n->st.dropped++;
		if (vg_hitlog_hit(&n->droplog, GVN_LOG_MS, vg_loop_now(n->loop), &hits))
			vg_log(n->log, VG_LOG_WARN,
			       "notification: queue full (%d), %s dropped (%llu since the last "
			       "such line)",
			       VG_GVNOTIFY_QUEUE, type_name[type], (unsigned long long)hits);
		return;
	}
	line = n->q[(n->head + n->len) % VG_GVNOTIFY_QUEUE];
	if (mac) {
		char m[VG_MAC_STRLEN];

		vg_mac_format(mac, m);
		snprintf(line, VG_GVNOTIFY_LINE, "{\"notification_type\":\"%s\",\"mac_address\":\"%s\"}\n",
			 type_name[type], m);
	} else {
		snprintf(line, VG_GVNOTIFY_LINE, "{\"notification_type\":\"%s\"}\n", type_name[type]);
	}
	n->len++;
	/* the pump runs from the loop, never from inside the caller's path */
	if (n->len == 1 && n->io.fd < 0)
		(void)vg_timer_start(n->loop, &n->timer, 0);
}

void vg_gvnotify_get_stats(const struct vg_gvnotify *n, struct vg_gvnotify_stats *st)
{
	if (n)
		*st = n->st;
	else
		memset(st, 0, sizeof(*st));
}

void vg_gvnotify_free(struct vg_gvnotify *n)
{
	if (!n)
		return;
	n->sync = true;
	pump(n);
	conn_close(n);
	vg_timer_stop(n->loop, &n->timer);
	free(n);
}
