/* SPDX-License-Identifier: MIT */
/*
 * api_int.h - private to the control API (cmd/api*.c); api.h is the
 * module's contract, this header only shares its state and helpers between
 * its files:
 *	api.c		HTTP glue: sockets, MHD daemons on the vg loop,
 *			request bodies, lifecycle
 *	api_route.c	the route table: method + path -> handler; 403 for a
 *			guest's write, 413, 404, 503 and 405 in one place
 *	api_reply.c	responses (JSON, text, errors, 405), request body
 *			parsing, log lines, timers (a leaf: calls no other
 *			api file)
 *	api_events.c	GET /events (server-sent events) and api_event()
 *	api_stats.c	GET /stats, /metrics, /leases
 *	api_dns.c	/dns/cache, /dns/cache/flush, /dns/records
 *	api_fwd.c	/forwards and gvproxy's /services/forwarder/ aliases
 *	api_policy.c	/policy (outbound CIDR rules, SNI allowlist)
 *	api_gv.c	gvproxy's API with its shapes and codes
 *			(/services/..., /cam)
 * Calls go one way: api.c -> api_route.c -> handlers -> api_reply.c.
 *
 * Return convention (the whole module): handlers and reply helpers return
 * MHD's enum MHD_Result (MHD_YES: a response was queued or the request goes
 * on; MHD_NO: close the connection); helpers that check input return 0, or
 * -1 after queueing the 400 (its result in *ret); setup functions return 0
 * or -1 with a one-line err, or a pointer or NULL.
 */
#ifndef VGATE_CMD_API_INT_H
#define VGATE_CMD_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include <jansson.h>
#include <microhttpd.h>

#include "cmd/api.h"
#include "cmd/mhd.h"
#include "common/ratelimit.h"

/* request methods, as bits so a route can accept several */
enum api_method {
	API_GET = 1u << 0,
	API_HEAD = 1u << 1,
	API_POST = 1u << 2,
	API_PUT = 1u << 3,
	API_DELETE = 1u << 4,
	API_OTHER = 0,	   /* any other method: matches no route but API_ANY */
	API_ANY = 1u << 5, /* a route row only: every method, unknown ones too */
};

/* one /events client slot */
struct sse_client {
	struct api *api;
	struct MHD_Connection *conn;
	bool used;
	bool guest; /* opened through the guest's socket */
	bool suspended;
	bool keepalive_due;
	uint64_t next_seq; /* next event to send */
	size_t off;	   /* bytes of that event already sent */
};

/* one formatted event in the ring */
struct sse_event {
	uint64_t seq;
	size_t len;
	char text[API_EVENT_MAX];
};

/**
 * struct api_listener - a listening socket vgate accepts on itself, handing
 * each connection to its MHD daemon (MHD_add_connection()); out of fds it
 * is not polled for API_ACCEPT_PAUSE_MS (MHD would busy-wait)
 * @a:		the API
 * @mhd:	the daemon served
 * @io:		registration of the listening socket
 * @pause:	its pause when accept() finds no fd
 */
struct api_listener {
	struct api *a;
	struct MHD_Daemon *mhd;
	struct vg_io io;
	struct vg_io_pause pause;
};

struct api {
	struct api_config cfg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	struct MHD_Daemon *mhd;
	struct vg_io io;
	struct api_listener lst;
	/* the guest's read-only side: guest_fd < 0 when off */
	char guest_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int guest_fd;
	struct MHD_Daemon *guest_mhd;
	struct vg_io guest_io;
	struct api_listener guest_lst;
	uint64_t fd_exhausted;	 /* accepts that found no fd (either socket) */
	struct vg_hitlog log_fd; /* their log line */
	struct vg_timer timer;	 /* MHD's next timeout, or "run now" */
	struct vg_timer keepalive;
	struct sse_client sse[API_MAX_SSE_CLIENTS];
	struct sse_event ring[API_EVENT_RING];
	uint64_t next_seq; /* sequence of the next event published */
	/* the forwards the guest exposed (--guest-forwards): only those it
	 * may unexpose; entries the host removed are pruned when it is full */
	struct {
		enum fwd_proto proto;
		struct ns_addr host;
	} gfwd[VG_GUEST_FWD_MAX];
	size_t n_gfwd;
};

/**
 * struct api_req - one request, attached to its MHD connection from the
 * headers until the completion callback
 * @body:	the body, NUL-terminated, NULL when empty
 * @len:	its length
 * @too_big:	the body exceeded API_MAX_BODY (it was dropped)
 * @guest:	came through the guest's socket: read-only
 * @method:	enum api_method bit
 * @removes:	set by the route: its row removes what the body names
 *		(DELETE, gvproxy's POST unexpose) rather than adding it
 */
struct api_req {
	char *body;
	size_t len;
	bool too_big;
	bool guest;
	unsigned int method;
	bool removes;
};

/* a route's handler; the route table has checked the path and method */
typedef enum MHD_Result (*api_handler_fn)(struct api *a, struct MHD_Connection *c,
					  const struct api_req *rq);

/* api_route.c */

/**
 * api_method_bit() - the enum api_method bit of a method name
 * @method:	"GET", "POST", ...
 *
 * Return: the bit, API_OTHER for a method no route accepts
 */
unsigned int api_method_bit(const char *method);

/**
 * api_route() - answer a complete request: a guest's write is 403, a body
 * over API_MAX_BODY 413, an unknown path 404, a module that is not there
 * 503, a method the path does not take 405 (with Allow); else the handler
 * @a:		API
 * @c:		connection
 * @url:	path
 * @rq:		the request
 *
 * Return: MHD_YES when a response was queued, MHD_NO to close
 */
enum MHD_Result api_route(struct api *a, struct MHD_Connection *c, const char *url,
			  const struct api_req *rq);

/* api_reply.c */

/**
 * api_jstr() - a JSON string from bytes the guest or the network chose; any
 * byte outside printable ASCII becomes '?' when @s is not valid UTF-8
 * @s:	text
 *
 * Return: a new reference, or NULL
 */
json_t *api_jstr(const char *s);

/**
 * api_fmt_hostport() - "A.B.C.D:PORT" or "[IPV6]:PORT"
 * @a:		address
 * @buf:	output
 * @len:	its size
 */
void api_fmt_hostport(const struct ns_addr *a, char *buf, size_t len);

/**
 * api_log() - one "api: " log line
 * @a:		API
 * @lvl:	level
 * @fmt:	printf format
 */
void api_log(struct api *a, enum vg_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * api_timer_start() - vg_timer_start() on the API's loop; a failure (the
 * loop's timer heap is full) is logged as an error
 * @a:		API
 * @t:		one of its timers
 * @ms:		delay
 *
 * Return: 0, or -errno
 */
int api_timer_start(struct api *a, struct vg_timer *t, uint64_t ms);

/**
 * api_send_text() - queue a response with @text as body (freed by MHD)
 * @c:		connection
 * @status:	HTTP status
 * @text:	malloc'ed body, taken (freed on failure too)
 * @len:	its length
 * @ctype:	Content-Type
 *
 * Return: MHD_YES, or MHD_NO
 */
enum MHD_Result api_send_text(struct MHD_Connection *c, unsigned int status, char *text, size_t len,
			      const char *ctype);

/**
 * api_send_json() - queue @j, indented, with a trailing newline
 * @c:		connection
 * @status:	HTTP status
 * @j:		body; the reference is stolen (NULL: MHD_NO)
 *
 * Return: MHD_YES, or MHD_NO
 */
enum MHD_Result api_send_json(struct MHD_Connection *c, unsigned int status, json_t *j);

/**
 * api_send_error() - queue {"error": MESSAGE}
 * @c:		connection
 * @status:	HTTP status
 * @fmt:	printf format of the message
 *
 * Return: MHD_YES, or MHD_NO
 */
enum MHD_Result api_send_error(struct MHD_Connection *c, unsigned int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * api_send_405() - queue a 405 with its Allow header
 * @c:		connection
 * @allow:	the methods the path takes, e.g. "GET, PUT"
 *
 * Return: MHD_YES, or MHD_NO
 */
enum MHD_Result api_send_405(struct MHD_Connection *c, const char *allow);

/**
 * api_body_object() - the request body as a JSON object whose members are
 * all named in @keys (so typos do not pass silently)
 * @c:		connection (for the 400)
 * @rq:		request
 * @keys:	NULL-terminated list of accepted member names
 * @ret:	the queued response when this fails
 *
 * Return: a new reference, or NULL when a 400 was sent (or out of memory)
 */
json_t *api_body_object(struct MHD_Connection *c, const struct api_req *rq, const char *const *keys,
			enum MHD_Result *ret);

/**
 * api_str_field() - a string member of @o
 * @o:		object
 * @key:	member name
 *
 * Return: its value (borrowed), NULL when absent or not a string
 */
const char *api_str_field(json_t *o, const char *key);

/* the handlers of the route table (api_stats.c, api_dns.c, api_fwd.c,
 * api_policy.c, api_events.c) */
enum MHD_Result api_get_stats(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_get_metrics(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_get_leases(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_get_dns_cache(struct api *a, struct MHD_Connection *c,
				  const struct api_req *rq);
enum MHD_Result api_flush_dns_cache(struct api *a, struct MHD_Connection *c,
				    const struct api_req *rq);
enum MHD_Result api_get_records(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_edit_records(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_get_forwards(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_edit_forward(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_get_policy(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_put_policy(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_get_events(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_gv_forward_all(struct api *a, struct MHD_Connection *c,
				   const struct api_req *rq);
enum MHD_Result api_gv_expose(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_gv_leases(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_gv_cam(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_gv_dns_all(struct api *a, struct MHD_Connection *c, const struct api_req *rq);
enum MHD_Result api_gv_dns_add(struct api *a, struct MHD_Connection *c, const struct api_req *rq);

/* api_events.c */

/**
 * api_sse_resume_all() - resume every parked /events client (and run MHD
 * on the next loop turn, which is what processes resumed connections)
 * @a:	API
 *
 */
void api_sse_resume_all(struct api *a);

/**
 * api_sse_keepalive() - the keepalive timer's callback: a comment line to
 * every client, then re-arm
 * @arg:	API
 */
void api_sse_keepalive(void *arg);

#endif
