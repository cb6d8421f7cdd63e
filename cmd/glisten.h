/* SPDX-License-Identifier: MIT */
/*
 * glisten.h - gvproxy's host-side endpoints that are not a hypervisor
 * socket of their own: -listen URI (repeatable) and -listen-vpnkit URI.
 *
 * A -listen socket (unix://PATH, tcp://HOST:PORT, vsock://CID:PORT or
 * vsock://:PORT; Firecracker's hybrid vsock is a unix socket named
 * UDS_PATH_PORT, given as unix://UDS_PATH_PORT) serves two things on one
 * port, as gvproxy's does: the HTTP API (cmd/api.h, read-write like --api)
 * and "POST /connect", after which the same connection carries the guest's
 * frames (2-byte LE length prefix, QEMU's 4-byte BE one when -listen-qemu
 * is also given: vg_glisten_config.framing). Each accepted connection is
 * parked (at most VG_GLISTEN_PARK_MAX at once, VG_GLISTEN_PARK_MS each)
 * and its first bytes peeked (MSG_PEEK, at most VG_GLISTEN_HEAD_MAX):
 * vg_http_head_classify() (common/httphead.h) tells /connect, whose head
 * is then consumed exactly (the bytes after it are frames), from anything
 * else, which goes to the API untouched (api_add_connection()). A
 * -listen-vpnkit connection does hyperkit's handshake (vg_vpnkit_reply())
 * and then carries 2-byte LE frames. Either becomes the link through
 * ns_attach_stream(): one guest per vgate, so while the link's peer is
 * alive a new /connect or vpnkit client is closed and counted
 * (connect_refused; the netstack's transport_refused too).
 *
 * A "GET /tunnel?ip=IP&port=PORT" head (vg_tunnel_parse(), cmd/tunnel.h)
 * is consumed exactly and the connection handed to the tunnel table:
 * "OK", then raw bytes to the guest's IP:PORT, or an HTTP error.
 *
 * Unix sockets are created mode 0600 (an old socket at the path is
 * replaced, any other file refused). tcp:// and vsock:// have no access
 * control beyond their address, as in gvproxy: whoever reaches them has
 * the whole API and may become the guest.
 *
 * Ownership: struct vg_glisten owns its listening sockets and the parked
 * connections; a connection handed on belongs to the API or the netstack.
 * It references the loop, netstack, API and log, which outlive it.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way.
 */
#ifndef VGATE_CMD_GLISTEN_H
#define VGATE_CMD_GLISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cmd/log.h"
#include "netstack/netstack.h"

#define VG_GLISTEN_MAX		     8	  /* -listen URIs */
#define VG_GLISTEN_PARK_MAX	     32	  /* connections not yet classified */
#define VG_GLISTEN_PARK_MS	     2000 /* time a parked connection gets */
#define VG_GLISTEN_HEAD_MAX	     8192 /* bytes peeked for the request head */
#define VG_GLISTEN_ACCEPTS_PER_EVENT 16

/* hyperkit's vpnkit handshake (moby/hyperkit pci_virtio_net_vpnkit.c) */
#define VG_VPNKIT_INIT_LEN  49	/* client hello, echoed */
#define VG_VPNKIT_CMD_LEN   41	/* command: byte 0, then a 36-character UUID */
#define VG_VPNKIT_REPLY_LEN 258 /* 0x01, MTU, MTU + 14 (LE16 each), MAC, zeros */

/**
 * struct vg_glisten_stats - counters (/stats group "listen", /metrics
 * vgate_listen_*)
 * @accepted:		connections accepted on -listen and -listen-vpnkit
 * @http:		handed to the HTTP API
 * @connect:		POST /connect (or a vpnkit handshake) that became the link
 * @connect_refused:	... refused: the link was taken by a live peer
 * @bad_head:		a /connect request line without the end of its head
 *			within VG_GLISTEN_HEAD_MAX bytes (closed)
 * @timeouts:		no decision within VG_GLISTEN_PARK_MS (closed)
 * @closed_early:	the client closed (or failed) before a decision
 * @park_full:		closed at once: VG_GLISTEN_PARK_MAX already parked
 * @fd_exhausted:	accept() found no free fd (the listener pauses)
 * @vpnkit_ok:		vpnkit handshakes completed
 * @tunnel_ok:		GET /tunnel: the guest answered, "OK" written
 * @tunnel_bad_request:	... answered 400
 * @tunnel_refused:	... answered 502 (guest refused, or no flow)
 * @tunnel_full:	... answered 503 (VG_TUNNEL_MAX open)
 * @tunnel_timeouts:	... answered 504 (the guest did not answer)
 * @tunnel_active:	tunnels open or connecting now (a gauge)
 */
struct vg_glisten_stats {
	uint64_t accepted;
	uint64_t http;
	uint64_t connect;
	uint64_t connect_refused;
	uint64_t bad_head;
	uint64_t timeouts;
	uint64_t closed_early;
	uint64_t park_full;
	uint64_t fd_exhausted;
	uint64_t vpnkit_ok;
	uint64_t tunnel_ok;
	uint64_t tunnel_bad_request;
	uint64_t tunnel_refused;
	uint64_t tunnel_full;
	uint64_t tunnel_timeouts;
	uint64_t tunnel_active;
};

/**
 * struct vg_glisten_config - what vg_glisten_new() needs
 * @loop:	event loop
 * @ns:		netstack (the link)
 * @api:	HTTP API for the connections that are not /connect
 * @log:	logger
 * @uris:	-listen URIs
 * @api_only:	per URI, true for gvproxy's -services tcp:// (the HTTP API
 *		only: /connect and /tunnel are the API's, which has neither);
 *		NULL: every URI is a -listen one
 * @n_uris:	their number, at most VG_GLISTEN_MAX
 * @vpnkit_uri:	-listen-vpnkit URI (unix:// or tcp://), or NULL
 * @framing:	framing of /connect streams (NS_FRAMING_QEMU with -listen-qemu)
 * @mtu:	the link MTU, told to vpnkit clients
 * @subnet:	guest subnet (network order), for /tunnel's address check
 * @prefix:	its length
 * @gateway_ip:	the gateway's address, the source of /tunnel flows
 * @host_ip:	the host alias (never a /tunnel destination)
 */
struct api;

struct vg_glisten_config {
	struct vg_loop *loop;
	struct ns *ns;
	struct api *api;
	const struct vg_log *log;
	const char *const *uris;
	const bool *api_only;
	size_t n_uris;
	const char *vpnkit_uri;
	enum ns_framing framing;
	unsigned int mtu;
	uint32_t subnet;
	uint8_t prefix;
	uint32_t gateway_ip;
	uint32_t host_ip;
};

struct vg_glisten;

/**
 * vg_glisten_new() - open every socket and start accepting
 * @cfg:	configuration (copied; the URI strings must outlive the object)
 * @err:	one-line error naming the URI
 * @errlen:	its size
 *
 * Return: the object, or NULL
 */
struct vg_glisten *vg_glisten_new(const struct vg_glisten_config *cfg, char *err, size_t errlen);

/**
 * vg_glisten_free() - close the listeners and parked connections, remove
 * the unix socket files
 * @g:	object, may be NULL
 */
void vg_glisten_free(struct vg_glisten *g);

/**
 * vg_glisten_get_stats() - copy the counters
 * @g:	object
 * @st:	output
 */
void vg_glisten_get_stats(const struct vg_glisten *g, struct vg_glisten_stats *st);

/**
 * vg_vpnkit_reply() - the 258-byte answer to a vpnkit command: 0x01, @mtu
 * and @mtu + 14 as 2-byte LE, the MAC for the UUID in @cmd (gvproxy's
 * known one, c3d68012-0208-11ea-9fd7-f2189899ab08 -> 5a:94:ef:e4:0c:ee,
 * else @rnd made a locally administered unicast address), zero padding
 * @out:	VG_VPNKIT_REPLY_LEN bytes
 * @cmd:	the VG_VPNKIT_CMD_LEN bytes the client sent
 * @mtu:	link MTU
 * @rnd:	6 random bytes
 */
void vg_vpnkit_reply(uint8_t *out, const uint8_t *cmd, unsigned int mtu, const uint8_t *rnd);

#endif
