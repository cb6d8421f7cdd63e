/* SPDX-License-Identifier: MIT */
/*
 * echo.c - the --debug-tcp-echo behaviour (see echo.h): the foreign-flow
 * registrant of the netstack instead of the forwarder. The flow itself is
 * the user pointer: no state of its own is needed, since unread guest bytes
 * stay in the netstack until they fit in the send buffer.
 */
#include "echo.h"

static void echo_pump(void *user)
{
	struct ns_flow *f = user;

	for (;;) {
		struct iovec iov[16];
		int n = 16;
		size_t avail = ns_flow_peek(f, iov, &n), room = ns_flow_sndbuf(f);
		long w;

		if (!avail || !room)
			break;
		if (iov[0].iov_len < room)
			room = iov[0].iov_len;
		w = ns_flow_write(f, iov[0].iov_base, room);
		if (w <= 0)
			break;
		ns_flow_consume(f, (size_t)w);
	}
	if (ns_flow_eof(f))
		ns_flow_close(f);
}

/* every flow is accepted, whoever it is between; it is its own user pointer */
static void *echo_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
			 const struct ns_addr *dst)
{
	(void)ctx, (void)src, (void)dst;
	return f;
}

static void echo_closed(void *user, enum ns_close_reason reason)
{
	(void)user;
	(void)reason;
}

int echo_register(struct ns *ns)
{
	static const struct ns_handler h = {
	    .tcp_accept = echo_accept,
	    .ops = {.recv = echo_pump, .sent = echo_pump, .closed = echo_closed},
	};

	return ns_register_foreign(ns, &h) < 0 ? -1 : 0;
}
