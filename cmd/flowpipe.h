/* SPDX-License-Identifier: MIT */
/*
 * flowpipe.h - a host file descriptor whose other end is a TCP connection
 * from vgate's own netstack to a guest endpoint, without any host port:
 * a socketpair(AF_UNIX, SOCK_STREAM) whose one end the caller gets, the
 * other spliced both ways into a flow opened with ns_flow_connect(). The
 * SSH socket forwards (cmd/sshfwd.c) hand the caller's end to libssh as
 * its connection to the guest's sshd.
 *
 * Byte pump: guest -> fd writes what the socket takes and consumes only
 * that from the flow (the guest's window is the backpressure); fd -> guest
 * reads no more than ns_flow_sndbuf() and stops polling the socket while
 * that is 0, until ops.sent. FIN maps to shutdown(SHUT_WR) and EOF to
 * ns_flow_shutdown(), both ways. What is buffered is the kernel's
 * socketpair buffers and lwIP's, under the netstack's buffer budget.
 *
 * Lifetimes: the pipe is the caller's, freed with vg_flowpipe_free(),
 * which closes the flow (FIN) if it still exists. When the flow ends first
 * (the guest refused the connect, reset it, or both sides finished), the
 * pipe closes its end of the socketpair, so the caller's end reads EOF;
 * the pipe itself stays until freed.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way.
 */
#ifndef VGATE_CMD_FLOWPIPE_H
#define VGATE_CMD_FLOWPIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/loop.h"
#include "netstack/netstack.h"

struct vg_flowpipe;

/**
 * vg_flowpipe_open() - connect @src -> @dst in the netstack and give the
 * caller a socket that carries that connection's bytes
 * @loop:	event loop (outlives the pipe)
 * @ns:		netstack (outlives the pipe)
 * @src:	source shown to the guest (port 0: an ephemeral port)
 * @dst:	guest endpoint
 * @keepalive_ms: TCP keepalive idle time once connected (0: none)
 * @fd:		set to the caller's end: non-blocking, close-on-exec, owned
 *		by the caller; it reads EOF if the connection fails or ends
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: the pipe, or NULL
 */
struct vg_flowpipe *vg_flowpipe_open(struct vg_loop *loop, struct ns *ns, const struct ns_addr *src,
				     const struct ns_addr *dst, uint32_t keepalive_ms, int *fd,
				     char *err, size_t errlen);

/**
 * vg_flowpipe_connected() - whether the guest completed the handshake
 * @p:	pipe
 *
 * Return: true once connected (also after the flow ended)
 */
bool vg_flowpipe_connected(const struct vg_flowpipe *p);

/**
 * vg_flowpipe_free() - close the flow (if it still exists) and the pipe's
 * end of the socketpair, and free the pipe; the caller's end is not touched
 * @p:	pipe, may be NULL
 */
void vg_flowpipe_free(struct vg_flowpipe *p);

#endif
