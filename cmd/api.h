/* SPDX-License-Identifier: MIT */
/*
 * api.h - vgate's control API: HTTP/1.1 + JSON on a unix socket
 * (--api unix:///PATH, mode 0600), served by libmicrohttpd in its
 * "external event loop" mode from vgate's own epoll loop (no threads).
 *
 * Endpoints (see vgate(1) for the bodies):
 *	GET  /stats			every counter, grouped, as JSON
 *	GET  /metrics			the same counters, Prometheus text format
 *	GET  /dns/cache			cache entries with remaining TTL
 *	POST /dns/cache/flush		drop every cache entry
 *	GET|POST|DELETE /dns/records	static records
 *	GET  /leases			DHCP leases
 *	GET|POST|DELETE /forwards	host → guest port forwards
 *	/services/..., /cam		gvproxy's API with gvproxy's shapes and
 *					codes (api_gv.c), on the same state
 *	GET|PUT /policy			outbound CIDR rules and the SNI allowlist
 *	GET  /events			server-sent events (blocked flows)
 * Errors: 400 bad JSON or field, 404 unknown path, 405 wrong method, 409
 * conflict, 413 body too large, 503 feature not available; all with a JSON
 * body {"error": "..."}.
 *
 * Guest side (--guest-api): a second socket, api_config.guest_path, serves
 * the same endpoints read-only: GET and HEAD only, any other method is 403
 * (the guest must not change policy, records or forwards). The forwarder
 * connects the guest's TCP flows to gateway:80 to it. With --guest-forwards
 * (api_config.guest_fwd.on) gvproxy's POST /services/forwarder/expose and
 * /unexpose are open to the guest too, under cmd/guestfwd.h's rules (403
 * with the reason otherwise); every other write stays 403.
 *
 * Ownership: struct api is owned by the daemon and references (does not
 * own) the loop, netstack, DNS service and log, which must outlive it. The
 * forwarder, the policy and the SNI filter are reached through struct
 * api_ops, so the API works (with those endpoints answering 503) before the
 * forwarder exists.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 * api_event() and api_event_blocked() return nothing: events are best
 * effort (dropped when too large or when no client listens).
 */
#ifndef VGATE_CMD_API_H
#define VGATE_CMD_API_H

#include <stddef.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cmd/guestfwd.h"
#include "cmd/log.h"
#include "cmd/metrics.h"
#include "dns/dns.h"
#include "forwarder/forwarder.h"
#include "forwarder/sni.h"
#include "netstack/netstack.h"

#define API_MAX_BODY	     65536
#define API_MAX_CONNECTIONS  64
#define API_MAX_SSE_CLIENTS  16
#define API_EVENT_RING	     64
#define API_EVENT_MAX	     1024
#define API_SSE_KEEPALIVE_MS 15000

#define API_ACCEPTS_PER_EVENT 16
#define API_ACCEPT_PAUSE_MS   500u   /* a listener out of fds is not polled this long */
#define API_LOG_MS	      10000u /* at most one "out of fds" line this often */

/* the guest's side: its own connection limit, a share of the /events clients */
#define API_MAX_GUEST_CONNECTIONS 16
#define API_MAX_GUEST_SSE	  4

/**
 * struct api_ops - the daemon's operations behind the endpoints; any may be
 * NULL (the endpoint then answers 503, /stats leaves the group out)
 * @ctx:		first argument of each
 * @fwd_stats:		copy the forwarder's counters
 * @forward_add:	start a port forward (err: one line)
 * @forward_remove:	stop one; 0 or -1 when there is no such forward
 * @forward_list:	list them; returns the number written
 * @policy_get:		the policy in force
 * @policy_set:		replace it (err: one line)
 * @sni:		the SNI filter, NULL when it is off (GET /policy reads
 *			its settings and active allowlist)
 * @sni_set_allow:	replace the --allow-sni patterns (@patterns are
 *			copied) and reload the filter as SIGHUP does, keeping
 *			established flows; 0, or -1 (err: one line)
 * @extra_metrics:	append counters of optional modules (e.g. the SNI
 *			filter) to /stats and /metrics
 * @dns_routes_get:	the split-DNS routes as configured (before the
 *			outbound policy): a config whose routes are read
 * @dns_routes_set:	replace them with "DOMAIN=ADDR[:PORT]" strings; 0, or
 *			-1 (err: one line, nothing changed)
 */
struct api_ops {
	void *ctx;
	void (*fwd_stats)(void *ctx, struct fwd_stats *st);
	int (*forward_add)(void *ctx, const struct fwd_forward *f, char *err, size_t errlen);
	int (*forward_remove)(void *ctx, const struct fwd_forward *key);
	size_t (*forward_list)(void *ctx, struct fwd_forward *out, size_t max);
	const struct fwd_policy *(*policy_get)(void *ctx);
	int (*policy_set)(void *ctx, const struct fwd_policy *p, char *err, size_t errlen);
	const struct sni_filter *(*sni)(void *ctx);
	int (*sni_set_allow)(void *ctx, const char *const *patterns, size_t n, char *err,
			     size_t errlen);
	void (*extra_metrics)(void *ctx, struct vg_metrics *ms);
	const struct dns_config *(*dns_routes_get)(void *ctx);
	int (*dns_routes_set)(void *ctx, const char *const *specs, size_t n, char *err,
			      size_t errlen);
};

/**
 * struct api_config - what api_new() needs
 * @uri:	"unix:///PATH", or NULL: no socket of its own (connections
 *		come through api_add_connection() only)
 * @loop:	event loop
 * @ns:		netstack (stats, leases)
 * @dns:	DNS service (stats, cache, records)
 * @log:	logger
 * @ops:	daemon operations (copied)
 * @guest_path:	optional: a second unix socket (mode 0600) serving the guest,
 *		read-only; NULL for none
 * @guest_fwd:	--guest-forwards: what the guest may expose (cmd/guestfwd.h)
 */
struct api_config {
	const char *uri;
	struct vg_loop *loop;
	struct ns *ns;
	struct dns *dns;
	const struct vg_log *log;
	struct api_ops ops;
	const char *guest_path;
	struct vg_guest_fwd_rules guest_fwd;
};

struct api;

/**
 * api_new() - create the socket(s) (replacing stale ones) and start serving
 * @cfg:	configuration (copied)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: the API, or NULL
 */
struct api *api_new(const struct api_config *cfg, char *err, size_t errlen);

/**
 * api_add_connection() - serve a connection accepted elsewhere (a -listen
 * socket, cmd/glisten.c) as the host's API, read-write like --api's
 * @a:		API
 * @fd:		connected, non-blocking stream socket; owned by the API from
 *		now on, whatever the result (closed when it cannot be served)
 * @sa:		peer address as accept() gave it
 * @salen:	its length
 *
 * Return: 0, or -1 when it was refused (API_MAX_CONNECTIONS reached)
 */
int api_add_connection(struct api *a, int fd, const struct sockaddr *sa, socklen_t salen);

/**
 * api_free() - close every connection, remove the socket files
 * @a:	API, may be NULL
 */
void api_free(struct api *a);

/**
 * api_event() - publish a server-sent event to every /events client
 * @a:		API, may be NULL (the event is dropped)
 * @type:	event name, e.g. "blocked"
 * @data:	JSON payload; the reference is stolen
 *
 * Slow clients lose the oldest events (the ring keeps API_EVENT_RING).
 */
void api_event(struct api *a, const char *type, json_t *data);

/**
 * api_event_blocked() - publish a "blocked" event for a refused guest flow
 * @a:		API, may be NULL
 * @proto:	"tcp" or "udp"
 * @src:	guest endpoint
 * @dst:	destination endpoint
 * @name:	server name (SNI) or NULL
 * @reason:	short reason, e.g. "policy", "sni"
 */
void api_event_blocked(struct api *a, const char *proto, const struct ns_addr *src,
		       const struct ns_addr *dst, const char *name, const char *reason);

/* helpers shared with the unit tests */

/**
 * api_dns_type_name() - "A", "AAAA", ... or "TYPEn"
 * @type:	RR type
 * @buf:	scratch for "TYPEn"
 * @len:	its size
 *
 * Return: the name (static or @buf)
 */
const char *api_dns_type_name(unsigned int type, char *buf, size_t len);

/**
 * api_parse_hostport() - parse "A.B.C.D:PORT", ":PORT" or "PORT"
 * @s:		text
 * @def_ip:	address when none is given (network order)
 * @out:	result
 *
 * Return: 0, or -1
 */
int api_parse_hostport(const char *s, uint32_t def_ip, struct ns_addr *out);

#endif
