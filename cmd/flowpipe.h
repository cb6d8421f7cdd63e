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
 * Adopting a socket (vg_flowpipe_adopt()): the pipe's end is a connected
 * socket the caller already has (gvproxy's /tunnel client, cmd/tunnel.c)
 * instead of a socketpair, so its bytes are spliced into the flow with no
 * second copy. The pipe then owns that socket, and struct
 * vg_flowpipe_hooks tells the caller when the guest answered (before any
 * byte moves, so the caller may write its own reply first), when the
 * connect failed (the socket is still open for an error reply), and when
 * the socket was closed (the pipe can then be freed, though not from
 * inside the hook). vg_flowpipe_free() calls no hook.
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
 * struct vg_flowpipe_hooks - what an adopted pipe tells its caller
 * @user:	first argument of each hook
 * @connected:	the guest completed the handshake; nothing has moved yet and
 *		@fd may be written to; return -1 to reset the flow instead
 * @failed:	the connect failed (@reason NS_CLOSED_RESET: the guest refused)
 *		before @connected; @fd is still open and is closed after it
 * @ended:	the pipe closed its socket (after @failed, or at the end of a
 *		connected flow); the pipe may be freed from the next loop turn
 */
struct vg_flowpipe_hooks {
	void *user;
	int (*connected)(void *user, int fd);
	void (*failed)(void *user, int fd, enum ns_close_reason reason);
	void (*ended)(void *user);
};

/**
 * vg_flowpipe_adopt() - like vg_flowpipe_open(), but carry the bytes of
 * the connected, non-blocking socket @fd instead of a new socketpair's
 * @loop:	event loop (outlives the pipe)
 * @ns:		netstack (outlives the pipe)
 * @src:	source shown to the guest (port 0: an ephemeral port)
 * @dst:	guest endpoint
 * @keepalive_ms: TCP keepalive idle time once connected (0: none)
 * @fd:		the socket; owned by the pipe on success, untouched on failure
 * @hooks:	callbacks (copied); any may be NULL
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: the pipe, or NULL
 */
struct vg_flowpipe *vg_flowpipe_adopt(struct vg_loop *loop, struct ns *ns,
				      const struct ns_addr *src, const struct ns_addr *dst,
				      uint32_t keepalive_ms, int fd,
				      const struct vg_flowpipe_hooks *hooks, char *err,
				      size_t errlen);

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
