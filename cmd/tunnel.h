/* SPDX-License-Identifier: MIT */
/*
 * tunnel.h - gvproxy's "GET /tunnel?ip=IP&port=PORT" on a -listen socket
 * (cmd/glisten.c): the connection stops being HTTP and is spliced both ways
 * into a TCP connection from the gateway's own netstack to the guest's
 * IP:PORT (cmd/flowpipe.h, adopted socket: no host port, no second copy).
 *
 * Protocol: the client sends the request head and waits. Once the guest
 * completed the handshake, vgate writes the two bytes "OK" (no status line,
 * as gvproxy) and from then on carries raw bytes; bytes the client sent
 * after the head are delivered after "OK". Unlike gvproxy, which writes
 * "OK" before it dials and answers every error 500, vgate dials first so
 * the client learns why it failed, as an HTTP/1.1 response (text/plain,
 * Connection: close) and the socket closed:
 *	400	ip or port missing or malformed, ip not a guest address of
 *		the subnet (the gateway, the host alias, the network and
 *		broadcast addresses are not)
 *	502	the guest refused (RST) or the connection could not be opened
 *	503	VG_TUNNEL_MAX tunnels are open (or connecting) already
 *	504	the guest did not answer within VG_TUNNEL_CONNECT_MS
 * The head is parsed by vg_tunnel_parse() (pure, unit-tested); IPv4 only,
 * as gvproxy's.
 *
 * Ownership: struct vg_tunnels owns its fixed table of VG_TUNNEL_MAX
 * slots, each a pipe (which owns the client's socket) and a timer. It
 * references the loop, netstack and log, which outlive it.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure;
 * constructors return the object, or NULL.
 */
#ifndef VGATE_CMD_TUNNEL_H
#define VGATE_CMD_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include "cmd/log.h"
#include "netstack/loop.h"
#include "netstack/netstack.h"

#define VG_TUNNEL_MAX	     16	   /* tunnels open or connecting at once */
#define VG_TUNNEL_CONNECT_MS 5000u /* the guest answers the SYN */
#define VG_TUNNEL_WHY_MAX    96

/**
 * enum vg_tunnel_kind - what vg_tunnel_parse() found
 * @VG_TUNNEL_NOT:		not a GET /tunnel request (decided as soon as the
 *				request line differs)
 * @VG_TUNNEL_INCOMPLETE:	could be one, the head has not ended yet
 * @VG_TUNNEL_REQUEST:		a complete, valid head (ip, port, head_len set)
 * @VG_TUNNEL_BAD:		a complete head with a bad request (why set;
 *				head_len set)
 * @VG_TUNNEL_TOO_LONG:	a /tunnel request line but no end of head within
 *				the bound
 */
enum vg_tunnel_kind {
	VG_TUNNEL_NOT,
	VG_TUNNEL_INCOMPLETE,
	VG_TUNNEL_REQUEST,
	VG_TUNNEL_BAD,
	VG_TUNNEL_TOO_LONG,
};

/**
 * struct vg_tunnel_req - a parsed /tunnel request
 * @ip:		guest IPv4 address, network order
 * @port:	guest port, host order
 * @head_len:	bytes of the head (through "\r\n\r\n")
 * @why:	what is wrong with it (VG_TUNNEL_BAD)
 */
struct vg_tunnel_req {
	uint32_t ip;
	uint16_t port;
	size_t head_len;
	char why[VG_TUNNEL_WHY_MAX];
};

/**
 * vg_tunnel_parse() - classify peeked bytes of a new -listen connection
 * @buf:	bytes peeked so far
 * @len:	their count
 * @max:	bound on the head's size (the peek buffer's size)
 * @rq:		output (zeroed first)
 *
 * The request line must start "GET /tunnel" followed by "?" or " ". The
 * query is KEY=VALUE pairs joined by "&"; ip (dotted IPv4) and port
 * (decimal, 1-65535) are required, other keys ignored, the first of a
 * repeated key counts.
 *
 * Return: the enum vg_tunnel_kind
 */
enum vg_tunnel_kind vg_tunnel_parse(const char *buf, size_t len, size_t max,
				    struct vg_tunnel_req *rq);

/**
 * struct vg_tunnel_stats - counters (/stats group "listen", /metrics
 * vgate_listen_tunnel*)
 * @ok:		tunnels the guest accepted ("OK" written)
 * @bad_request: answered 400
 * @refused:	answered 502 (guest refused, or no flow could be opened)
 * @full:	answered 503
 * @timeouts:	answered 504
 * @active:	open or connecting now (a gauge)
 */
struct vg_tunnel_stats {
	uint64_t ok;
	uint64_t bad_request;
	uint64_t refused;
	uint64_t full;
	uint64_t timeouts;
	uint64_t active;
};

/**
 * struct vg_tunnel_config - what vg_tunnels_new() needs
 * @loop:	event loop
 * @ns:		netstack
 * @log:	logger
 * @subnet:	guest subnet, network order
 * @prefix:	its length
 * @gateway_ip:	the gateway's address (the tunnel's source), network order
 * @host_ip:	the host alias (not a guest address), network order
 */
struct vg_tunnel_config {
	struct vg_loop *loop;
	struct ns *ns;
	const struct vg_log *log;
	uint32_t subnet;
	uint8_t prefix;
	uint32_t gateway_ip;
	uint32_t host_ip;
};

struct vg_tunnels;

/**
 * vg_tunnels_new() - an empty tunnel table
 * @cfg:	configuration (copied)
 *
 * Return: the table, or NULL (out of memory)
 */
struct vg_tunnels *vg_tunnels_new(const struct vg_tunnel_config *cfg);

/**
 * vg_tunnels_free() - close every tunnel (the flows get a FIN)
 * @t:	table, may be NULL
 */
void vg_tunnels_free(struct vg_tunnels *t);

/**
 * vg_tunnels_open() - answer a /tunnel request whose head was consumed:
 * connect to the guest, or send the error
 * @t:		table
 * @fd:		the client's connected, non-blocking socket; taken
 * @kind:	VG_TUNNEL_REQUEST or VG_TUNNEL_BAD
 * @rq:		the parsed request
 */
void vg_tunnels_open(struct vg_tunnels *t, int fd, enum vg_tunnel_kind kind,
		     const struct vg_tunnel_req *rq);

/**
 * vg_tunnels_get_stats() - copy the counters
 * @t:	table
 * @st:	output
 */
void vg_tunnels_get_stats(const struct vg_tunnels *t, struct vg_tunnel_stats *st);

#endif
