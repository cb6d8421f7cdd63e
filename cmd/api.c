/* SPDX-License-Identifier: MIT */
/*
 * api.c - the control API (api.h) on libmicrohttpd and jansson.
 *
 * How it runs on vgate's loop: we create, bind (umask 0177, so the socket
 * is 0600 from the start) and listen on the unix socket ourselves and give
 * it to MHD (MHD_OPTION_LISTEN_SOCKET) with MHD_USE_EPOLL and no internal
 * thread. MHD's own epoll fd is registered in the vg loop; when it is
 * readable, or when the timer armed from MHD_get_timeout() fires, MHD_run()
 * does the work. MHD_ALLOW_SUSPEND_RESUME adds an eventfd to MHD's epoll
 * set, so resuming a connection wakes the loop too.
 *
 * Requests: the access handler is called once with the headers (we attach
 * a struct req), then with body chunks (copied, bounded by API_MAX_BODY),
 * then once more to answer. struct req is freed by the completion callback.
 *
 * /events: each client gets its own response whose reader callback copies
 * events from a fixed ring; with nothing to send it suspends its
 * connection, and api_event() or the keepalive timer resumes every
 * suspended client. Clients are bounded (API_MAX_SSE_CLIENTS); one that
 * falls more than API_EVENT_RING events behind skips to the oldest kept.
 *
 * Guest side (api_config.guest_path): a second MHD daemon on a second unix
 * socket, with the same handlers, epoll registration and timer. A request
 * is the guest's when MHD_CONNECTION_INFO_DAEMON is that daemon; the guest
 * may only read (GET/HEAD, anything else is 403), and it has its own
 * connection limit and at most API_MAX_GUEST_SSE /events clients, so it
 * cannot starve the host's API.
 */
#include "api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cmd/metrics.h"

#define MAX_LEASES 4096

struct api;

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

struct sse_event {
	uint64_t seq;
	size_t len;
	char text[API_EVENT_MAX];
};

struct api {
	struct api_config cfg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	struct MHD_Daemon *mhd;
	struct vg_io io;
	/* the guest's read-only side: guest_fd < 0 when off */
	char guest_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int guest_fd;
	struct MHD_Daemon *guest_mhd;
	struct vg_io guest_io;
	struct vg_timer timer;
	struct vg_timer keepalive;
	struct sse_client sse[API_MAX_SSE_CLIENTS];
	struct sse_event ring[API_EVENT_RING];
	uint64_t next_seq; /* sequence of the next event published */
};

struct req {
	char *body;
	size_t len;
	bool too_big;
	bool guest; /* came through the guest's socket: read-only */
};

/* ---- small helpers ---- */

const char *api_dns_type_name(unsigned int type, char *buf, size_t len)
{
	static const struct {
		unsigned int t;
		const char *n;
	} names[] = {{1, "A"},	     {2, "NS"},	    {5, "CNAME"},  {6, "SOA"},
		     {12, "PTR"},    {15, "MX"},    {16, "TXT"},   {28, "AAAA"},
		     {33, "SRV"},    {35, "NAPTR"}, {43, "DS"},	   {46, "RRSIG"},
		     {48, "DNSKEY"}, {64, "SVCB"},  {65, "HTTPS"}, {257, "CAA"}};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].t == type)
			return names[i].n;
	}
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}

int api_parse_hostport(const char *s, uint32_t def_ip, struct ns_addr *out)
{
	const char *colon = strrchr(s, ':');
	const char *port = colon ? colon + 1 : s;
	char ip[INET_ADDRSTRLEN];
	struct in_addr a;
	unsigned long p;
	char *end;

	if (!*port || *port < '0' || *port > '9')
		return -1;
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || *end || p == 0 || p > 65535)
		return -1;
	out->port = (uint16_t)p;
	out->ip = def_ip;
	if (colon && colon > s) {
		if ((size_t)(colon - s) >= sizeof(ip))
			return -1;
		memcpy(ip, s, (size_t)(colon - s));
		ip[colon - s] = '\0';
		if (inet_pton(AF_INET, ip, &a) != 1)
			return -1;
		out->ip = a.s_addr;
	}
	return 0;
}

/*
 * A JSON string from bytes the guest or the network chose (DHCP host names,
 * DNS names): jansson refuses invalid UTF-8, so such strings are shown with
 * every byte outside printable ASCII replaced by '?', never dropped.
 */
static json_t *jstr(const char *s)
{
	char buf[256];
	json_t *j;
	size_t i;

	j = json_string(s);
	if (j)
		return j;
	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return json_string(buf);
}

static void fmt_hostport(const struct ns_addr *a, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, a->port);
}

static void api_log(struct api *a, enum vg_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void api_log(struct api *a, enum vg_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vg_log(a->cfg.log, lvl, "api: %s", msg);
}

__attribute__((format(printf, 2, 0))) static void mhd_logger(void *cls, const char *fmt,
								va_list ap)
{
	struct api *a = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	vg_log(a->cfg.log, VG_LOG_DEBUG, "api: microhttpd: %s", msg);
}

/* ---- responses ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned int status, char *text,
				 size_t len, const char *ctype)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* send @j (reference stolen) as the body */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned int status, json_t *j)
{
	char *s;

	if (!j)
		return MHD_NO;
	s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if (!s)
		return MHD_NO;
	/* a trailing newline keeps shells and curl output tidy */
	{
		size_t n = strlen(s);
		char *t = realloc(s, n + 2);

		if (!t) {
			free(s);
			return MHD_NO;
		}
		t[n] = '\n';
		t[n + 1] = '\0';
		s = t;
	}
	return send_text(c, status, s, strlen(s), "application/json");
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned int status, const char *fmt,
				  ...) __attribute__((format(printf, 3, 4)));

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned int status, const char *fmt,
				  ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_json(c, status, json_pack("{s:o}", "error", jstr(msg)));
}

static enum MHD_Result send_405(struct MHD_Connection *c, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *s;

	if (asprintf(&s, "{\n  \"error\": \"method not allowed (allowed: %s)\"\n}\n", allow) < 0)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
	MHD_destroy_response(r);
	return ret;
}

/* parse the request body as a JSON object; on failure the 400 is sent */
static json_t *body_object(struct MHD_Connection *c, const struct req *rq, enum MHD_Result *ret)
{
	json_error_t e;
	json_t *j;

	if (!rq->len) {
		*ret = send_error(c, MHD_HTTP_BAD_REQUEST, "a JSON object body is required");
		return NULL;
	}
	j = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		*ret = send_error(c, MHD_HTTP_BAD_REQUEST, "bad JSON at line %d column %d: %s",
				  e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*ret = send_error(c, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* a string field; *ok is false (and the 400 sent) when present but not a string */
static const char *str_field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* reject unknown keys so typos do not pass silently */
static int check_keys(struct MHD_Connection *c, json_t *o, const char *const *keys,
		      enum MHD_Result *ret)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		const char *const *p;

		(void)v;
		for (p = keys; *p; p++) {
			if (!strcmp(*p, k))
				break;
		}
		if (!*p) {
			*ret = send_error(c, MHD_HTTP_BAD_REQUEST, "unknown field '%s'", k);
			return -1;
		}
	}
	return 0;
}

/* ---- endpoints ---- */

static void collect(struct api *a, struct vg_metrics *ms)
{
	struct ns_stats ns;
	struct dns_stats ds;
	struct fwd_stats fs;
	bool have_fwd = a->cfg.ops.fwd_stats != NULL;

	ns_get_stats(a->cfg.ns, &ns);
	dns_get_stats(a->cfg.dns, &ds);
	if (have_fwd)
		a->cfg.ops.fwd_stats(a->cfg.ops.ctx, &fs);
	vg_metrics_init(ms);
	vg_metrics_add_ns(ms, &ns);
	vg_metrics_add_dns(ms, &ds);
	if (have_fwd)
		vg_metrics_add_fwd(ms, &fs);
	if (a->cfg.ops.policy_get)
		vg_metrics_add_policy(ms, a->cfg.ops.policy_get(a->cfg.ops.ctx),
				      have_fwd ? &fs : NULL, &ds);
	if (a->cfg.ops.extra_metrics)
		a->cfg.ops.extra_metrics(a->cfg.ops.ctx, ms);
}

static enum MHD_Result get_stats(struct api *a, struct MHD_Connection *c)
{
	struct vg_metrics *ms = malloc(sizeof(*ms));
	json_t *j;

	if (!ms)
		return MHD_NO;
	collect(a, ms);
	j = vg_metrics_json(ms);
	free(ms);
	return send_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result get_metrics(struct api *a, struct MHD_Connection *c)
{
	struct vg_metrics *ms = malloc(sizeof(*ms));
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (!ms)
		return MHD_NO;
	collect(a, ms);
	f = open_memstream(&buf, &len);
	if (!f) {
		free(ms);
		return MHD_NO;
	}
	rc = vg_metrics_prometheus(ms, f);
	free(ms);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return MHD_NO;
	}
	return send_text(c, MHD_HTTP_OK, buf, len, "text/plain; version=0.0.4; charset=utf-8");
}

static void cache_item(void *ctx, const struct dns_cache_item *it)
{
	static const char *const rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN"};
	json_t *arr = ctx;
	char tbuf[16];

	json_array_append_new(arr, json_pack("{s:o, s:s, s:s, s:b, s:I, s:i, s:b}", "name",
					     jstr(it->name), "type",
					     api_dns_type_name(it->type, tbuf, sizeof(tbuf)),
					     "rcode", it->rcode < 4 ? rcodes[it->rcode] : "OTHER",
					     "negative", it->negative, "ttl", (json_int_t)it->ttl_s,
					     "answers", (int)it->ancount, "stale", it->ttl_s < 0));
}

static enum MHD_Result get_dns_cache(struct api *a, struct MHD_Connection *c)
{
	json_t *arr = json_array();

	if (!arr)
		return MHD_NO;
	dns_cache_foreach(a->cfg.dns, cache_item, arr);
	return send_json(
	    c, MHD_HTTP_OK,
	    json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(arr), "entries", arr));
}

static void record_item(void *ctx, const struct dns_record *r)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(r->addr.family, r->addr.a, ip, sizeof(ip));
	json_array_append_new(ctx, json_pack("{s:o, s:s}", "name", jstr(r->name), "ip", ip));
}

static int parse_dns_addr(const char *s, struct dns_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

static enum MHD_Result dns_records(struct api *a, struct MHD_Connection *c, const char *method,
				   const struct req *rq)
{
	static const char *const keys[] = {"name", "ip", NULL};
	enum MHD_Result ret = MHD_NO;
	struct dns_addr addr;
	const char *name, *ip;
	json_t *o, *arr;
	int rc;

	if (!strcmp(method, "GET")) {
		arr = json_array();
		if (!arr)
			return MHD_NO;
		dns_list_records(a->cfg.dns, record_item, arr);
		return send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "records", arr));
	}
	if (strcmp(method, "POST") && strcmp(method, "DELETE"))
		return send_405(c, "GET, POST, DELETE");
	o = body_object(c, rq, &ret);
	if (!o)
		return ret;
	if (check_keys(c, o, keys, &ret) < 0)
		goto out;
	name = str_field(o, "name");
	ip = str_field(o, "ip");
	if (!name || !*name) {
		ret = send_error(c, MHD_HTTP_BAD_REQUEST, "field 'name' (string) is required");
		goto out;
	}
	if ((ip || !strcmp(method, "POST")) && (!ip || parse_dns_addr(ip, &addr) < 0)) {
		ret = send_error(c, MHD_HTTP_BAD_REQUEST,
				 "field 'ip' must be an IPv4 or IPv6 "
				 "address, got %s",
				 ip ? ip : "nothing");
		goto out;
	}
	if (!strcmp(method, "POST")) {
		rc = dns_add_record(a->cfg.dns, name, &addr);
		if (rc == -EINVAL)
			ret = send_error(c, MHD_HTTP_BAD_REQUEST, "invalid name '%s'", name);
		else if (rc == -EEXIST)
			ret = send_error(c, MHD_HTTP_CONFLICT, "record %s %s exists", name, ip);
		else if (rc < 0)
			ret = send_error(c, MHD_HTTP_CONFLICT, "record table full");
		else {
			api_log(a, VG_LOG_INFO, "dns record added: %s %s", name, ip);
			ret = send_json(c, MHD_HTTP_CREATED,
					json_pack("{s:s, s:s}", "name", name, "ip", ip));
		}
	} else {
		rc = dns_remove_record(a->cfg.dns, name, ip ? &addr : NULL);
		if (rc <= 0)
			ret = send_error(c, MHD_HTTP_NOT_FOUND, "no record %s%s%s", name,
					 ip ? " " : "", ip ? ip : "");
		else {
			api_log(a, VG_LOG_INFO, "dns records removed: %s (%d)", name, rc);
			ret = send_json(c, MHD_HTTP_OK, json_pack("{s:i}", "removed", rc));
		}
	}
out:
	json_decref(o);
	return ret;
}

static enum MHD_Result get_leases(struct api *a, struct MHD_Connection *c)
{
	struct ns_lease *ls = calloc(MAX_LEASES, sizeof(*ls));
	uint64_t now = vg_loop_now(a->cfg.loop);
	json_t *arr = json_array();
	size_t i, n;

	if (!ls || !arr) {
		free(ls);
		json_decref(arr);
		return MHD_NO;
	}
	n = ns_leases(a->cfg.ns, ls, MAX_LEASES);
	for (i = 0; i < n; i++) {
		char ip[INET_ADDRSTRLEN], mac[18];
		const uint8_t *m = ls[i].mac;

		inet_ntop(AF_INET, &ls[i].ip, ip, sizeof(ip));
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		json_array_append_new(
		    arr,
		    json_pack("{s:s, s:s, s:o, s:s, s:I}", "mac", mac, "ip", ip, "hostname",
			      jstr(ls[i].hostname), "state", ls[i].expires_ms ? "bound" : "offered",
			      "expires_in",
			      (json_int_t)(ls[i].expires_ms > now ? (ls[i].expires_ms - now) / 1000
								  : 0)));
	}
	free(ls);
	return send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "leases", arr));
}

static json_t *forward_json(const struct fwd_forward *f)
{
	char local[32];

	fmt_hostport(&f->host, local, sizeof(local));
	return json_pack("{s:s, s:s, s:s}", "protocol", f->proto == FWD_UDP ? "udp" : "tcp",
			 "local", local, "remote", "");
}

static enum MHD_Result forwards_list(struct api *a, struct MHD_Connection *c, bool bare)
{
	struct fwd_forward fl[FWD_FORWARD_MAX];
	json_t *arr = json_array();
	size_t i, n;

	if (!arr)
		return MHD_NO;
	n = a->cfg.ops.forward_list(a->cfg.ops.ctx, fl, FWD_FORWARD_MAX);
	for (i = 0; i < n && i < FWD_FORWARD_MAX; i++) {
		json_t *j = forward_json(&fl[i]);
		char remote[16];

		snprintf(remote, sizeof(remote), ":%u", fl[i].guest_port);
		json_object_set_new(j, "remote", json_string(remote));
		json_array_append_new(arr, j);
	}
	/* gvproxy's /services/forwarder/all answers a bare array */
	if (bare)
		return send_json(c, MHD_HTTP_OK, arr);
	return send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "forwards", arr));
}

/**
 * forward_from_json() - read {"protocol", "local", "remote"} (gvproxy's
 * expose body); "remote" is "[GUEST_IP]:PORT" or "PORT" and required when
 * @need_remote
 * @o:		body
 * @need_remote: POST (true) or DELETE (false)
 * @f:		result
 * @err:	message for the 400
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int forward_from_json(json_t *o, bool need_remote, struct fwd_forward *f, char *err,
			     size_t errlen)
{
	const char *proto = str_field(o, "protocol");
	const char *local = str_field(o, "local");
	const char *remote = str_field(o, "remote");
	struct ns_addr g;

	memset(f, 0, sizeof(*f));
	if (json_object_get(o, "protocol") && !proto) {
		snprintf(err, errlen, "field 'protocol' must be \"tcp\" or \"udp\"");
		return -1;
	}
	if (!proto || !strcmp(proto, "tcp"))
		f->proto = FWD_TCP;
	else if (!strcmp(proto, "udp"))
		f->proto = FWD_UDP;
	else {
		snprintf(err, errlen, "field 'protocol' must be \"tcp\" or \"udp\", got '%s'",
			 proto);
		return -1;
	}
	if (!local || api_parse_hostport(local, htonl(INADDR_LOOPBACK), &f->host) < 0) {
		snprintf(err, errlen, "field 'local' must be \"[ADDR]:PORT\", got '%s'",
			 local ? local : "nothing");
		return -1;
	}
	if (!need_remote)
		return 0;
	if (!remote || api_parse_hostport(remote, 0, &g) < 0) {
		snprintf(err, errlen, "field 'remote' must be \"[GUEST_IP]:PORT\", got '%s'",
			 remote ? remote : "nothing");
		return -1;
	}
	f->guest_port = g.port;
	return 0;
}

static enum MHD_Result forwards(struct api *a, struct MHD_Connection *c, const char *method,
				const struct req *rq, const char *alias)
{
	static const char *const keys[] = {"protocol", "local", "remote", NULL};
	enum MHD_Result ret = MHD_NO;
	struct fwd_forward f;
	char err[256];
	json_t *o;

	if (!a->cfg.ops.forward_list || !a->cfg.ops.forward_add || !a->cfg.ops.forward_remove)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "port forwarding is not available in this build");
	if (alias) {
		/* gvproxy: GET all, POST expose, POST unexpose */
		if (!strcmp(alias, "all"))
			method = strcmp(method, "GET") ? "BAD" : "GET";
		else if (strcmp(method, "POST"))
			return send_405(c, "POST");
		else if (!strcmp(alias, "unexpose"))
			method = "DELETE";
		if (!strcmp(method, "BAD"))
			return send_405(c, "GET");
	}
	if (!strcmp(method, "GET"))
		return forwards_list(a, c, alias != NULL);
	if (strcmp(method, "POST") && strcmp(method, "DELETE"))
		return send_405(c, "GET, POST, DELETE");
	o = body_object(c, rq, &ret);
	if (!o)
		return ret;
	if (check_keys(c, o, keys, &ret) < 0)
		goto out;
	if (forward_from_json(o, !strcmp(method, "POST"), &f, err, sizeof(err)) < 0) {
		ret = send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err);
		goto out;
	}
	if (!strcmp(method, "POST")) {
		err[0] = '\0';
		if (a->cfg.ops.forward_add(a->cfg.ops.ctx, &f, err, sizeof(err)) < 0) {
			ret = send_error(c, MHD_HTTP_CONFLICT, "%s",
					 err[0] ? err : "cannot add the forward");
		} else {
			json_t *j = forward_json(&f);
			char remote[16];

			snprintf(remote, sizeof(remote), ":%u", f.guest_port);
			json_object_set_new(j, "remote", json_string(remote));
			api_log(a, VG_LOG_INFO, "forward added: %s %s -> guest:%u",
				f.proto == FWD_UDP ? "udp" : "tcp", str_field(o, "local"),
				f.guest_port);
			ret = send_json(c, MHD_HTTP_OK, j);
		}
	} else if (a->cfg.ops.forward_remove(a->cfg.ops.ctx, f.proto, &f.host) < 0) {
		ret = send_error(c, MHD_HTTP_NOT_FOUND, "no forward on %s", str_field(o, "local"));
	} else {
		api_log(a, VG_LOG_INFO, "forward removed: %s", str_field(o, "local"));
		ret = send_json(c, MHD_HTTP_OK, json_pack("{s:b}", "removed", 1));
	}
out:
	json_decref(o);
	return ret;
}

static void pattern_json(void *ctx, const char *pattern)
{
	json_array_append_new(ctx, jstr(pattern));
}

/**
 * sni_json() - add the SNI filter's settings to a /policy object: whether it
 * is on, the --allow-sni patterns (what PUT replaces), the allowlist file,
 * every pattern in force (those and the file's), SNI ports, --allow-dest
 * @a:	API
 * @j:	the object
 */
static void sni_json(struct api *a, json_t *j)
{
	const struct sni_filter *f = a->cfg.ops.sni ? a->cfg.ops.sni(a->cfg.ops.ctx) : NULL;
	json_t *allow = json_array(), *active = json_array(), *ports = json_array();
	json_t *dest = json_array(), *file = json_null();
	const struct sni_config *c;
	size_t i;

	if (f) {
		c = sni_filter_config(f);
		for (i = 0; i < c->n_allow; i++)
			json_array_append_new(allow, jstr(c->allow[i]));
		allow_foreach(sni_filter_allowlist(f), pattern_json, active);
		for (i = 0; i < c->n_ports; i++)
			json_array_append_new(ports, json_integer(c->ports[i]));
		for (i = 0; i < c->n_dest; i++) {
			char buf[48];

			sni_dest_format(&c->dest[i], buf, sizeof(buf));
			json_array_append_new(dest, json_string(buf));
		}
		if (c->allowlist_file) {
			json_decref(file);
			file = jstr(c->allowlist_file);
		}
	}
	json_object_set_new(j, "sni-filter", json_boolean(f != NULL));
	json_object_set_new(j, "allow-sni", allow);
	json_object_set_new(j, "sni-patterns", active);
	json_object_set_new(j, "allowlist-file", file);
	json_object_set_new(j, "sni-ports", ports);
	json_object_set_new(j, "allow-dest", dest);
}

static json_t *policy_json(struct api *a)
{
	const struct fwd_policy *p = a->cfg.ops.policy_get(a->cfg.ops.ctx);
	json_t *allow = json_array(), *deny = json_array(), *builtin = json_array(), *j;
	size_t i;

	for (i = 0; i < p->n; i++) {
		char ip[INET_ADDRSTRLEN], cidr[24];

		inet_ntop(AF_INET, &p->rules[i].net, ip, sizeof(ip));
		snprintf(cidr, sizeof(cidr), "%s/%u", ip, p->rules[i].prefix);
		json_array_append_new(p->rules[i].builtin ? builtin
				      : p->rules[i].allow ? allow
							  : deny,
				      json_string(cidr));
	}
	j = json_pack("{s:o, s:o, s:o, s:s}", "outbound-allow", allow, "outbound-deny", deny,
		      "builtin-deny", builtin, "default", p->n_allow ? "deny" : "allow");
	if (j)
		sni_json(a, j);
	return j;
}

/**
 * policy_cidrs() - the CIDR lists of a PUT /policy body into @p; a list that
 * is not given is empty
 * @c:		connection (for the 400)
 * @o:		body
 * @p:		policy to fill
 * @ret:	the queued response when this fails
 *
 * Return: 0, or -1 when a 400 was sent
 */
static int policy_cidrs(struct MHD_Connection *c, json_t *o, struct fwd_policy *p,
			enum MHD_Result *ret)
{
	static const char *const lists[] = {"outbound-allow", "outbound-deny"};
	char err[256];
	size_t i, k;
	json_t *v;

	fwd_policy_init(p);
	for (k = 0; k < 2; k++) {
		json_t *arr = json_object_get(o, lists[k]);

		if (!arr)
			continue;
		if (!json_is_array(arr)) {
			*ret = send_error(c, MHD_HTTP_BAD_REQUEST,
					  "field '%s' must be a list of CIDRs", lists[k]);
			return -1;
		}
		json_array_foreach(arr, i, v)
		{
			if (!json_is_string(v)) {
				*ret =
				    send_error(c, MHD_HTTP_BAD_REQUEST,
					       "field '%s' item %zu must be a string", lists[k], i);
				return -1;
			}
			if (fwd_policy_add(p, k == 0, json_string_value(v), err, sizeof(err)) < 0) {
				*ret = send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err);
				return -1;
			}
		}
	}
	return 0;
}

/**
 * policy_patterns() - the "allow-sni" list of a PUT /policy body, each
 * pattern checked
 * @c:		connection (for the 400)
 * @arr:	the list
 * @pat:	output: pointers into @arr's strings
 * @n:		output: their number
 * @ret:	the queued response when this fails
 *
 * Return: 0, or -1 when a 400 was sent
 */
static int policy_patterns(struct MHD_Connection *c, json_t *arr, const char **pat, size_t *n,
			   enum MHD_Result *ret)
{
	char err[384];
	size_t i;
	json_t *v;

	if (!json_is_array(arr)) {
		*ret =
		    send_error(c, MHD_HTTP_BAD_REQUEST,
			       "field 'allow-sni' must be a list of patterns (NAME or *.SUFFIX)");
		return -1;
	}
	if (json_array_size(arr) > SNI_MAX_ALLOW_ARGS) {
		*ret = send_error(c, MHD_HTTP_BAD_REQUEST,
				  "field 'allow-sni' has %zu patterns, at most %d (use an "
				  "allowlist file)",
				  json_array_size(arr), SNI_MAX_ALLOW_ARGS);
		return -1;
	}
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v)) {
			*ret = send_error(c, MHD_HTTP_BAD_REQUEST,
					  "field 'allow-sni' item %zu must be a string", i);
			return -1;
		}
		if (allow_pattern_check(json_string_value(v), err, sizeof(err)) < 0) {
			*ret = send_error(c, MHD_HTTP_BAD_REQUEST, "field 'allow-sni' item %zu: %s",
					  i, err);
			return -1;
		}
		pat[i] = json_string_value(v);
	}
	*n = json_array_size(arr);
	return 0;
}

/*
 * PUT /policy: "outbound-allow"/"outbound-deny" replace the CIDR rules when
 * either is given (the other becomes empty); "allow-sni" replaces the SNI
 * patterns when given. Everything is checked before anything changes, and
 * the allowlist (which can still fail: its file is re-read) goes first, so
 * an error leaves both as they were. The other keys GET returns are
 * accepted and ignored, so a GET body can be edited and PUT back.
 */
static enum MHD_Result policy(struct api *a, struct MHD_Connection *c, const char *method,
			      const struct req *rq)
{
	static const char *const keys[] = {"outbound-allow",
					   "outbound-deny",
					   "builtin-deny",
					   "default",
					   "allow-sni",
					   "sni-filter",
					   "sni-patterns",
					   "allowlist-file",
					   "sni-ports",
					   "allow-dest",
					   NULL};
	enum MHD_Result ret = MHD_NO;
	const char **pat = NULL;
	struct fwd_policy *p = NULL;
	json_t *o, *sni_arr;
	bool cidrs;
	char err[512];
	size_t n = 0;

	if (!a->cfg.ops.policy_get)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no policy in this build");
	if (!strcmp(method, "GET"))
		return send_json(c, MHD_HTTP_OK, policy_json(a));
	if (strcmp(method, "PUT"))
		return send_405(c, "GET, PUT");
	if (!a->cfg.ops.policy_set)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the policy is read-only");
	o = body_object(c, rq, &ret);
	if (!o)
		return ret;
	if (check_keys(c, o, keys, &ret) < 0)
		goto out;
	cidrs = json_object_get(o, "outbound-allow") || json_object_get(o, "outbound-deny");
	sni_arr = json_object_get(o, "allow-sni");
	if (!cidrs && !sni_arr) {
		ret = send_error(c, MHD_HTTP_BAD_REQUEST,
				 "nothing to change: give 'outbound-allow'/'outbound-deny' "
				 "and/or 'allow-sni'");
		goto out;
	}
	p = malloc(sizeof(*p));
	pat = calloc(SNI_MAX_ALLOW_ARGS, sizeof(*pat));
	if (!p || !pat)
		goto out;
	if (cidrs && policy_cidrs(c, o, p, &ret) < 0)
		goto out;
	if (sni_arr) {
		if (!a->cfg.ops.sni || !a->cfg.ops.sni_set_allow ||
		    !a->cfg.ops.sni(a->cfg.ops.ctx)) {
			ret = send_error(c, MHD_HTTP_CONFLICT,
					 "the SNI filter is off: it is turned on only at start "
					 "(--allow-sni or --allowlist-file), not at run time");
			goto out;
		}
		if (policy_patterns(c, sni_arr, pat, &n, &ret) < 0)
			goto out;
		err[0] = '\0';
		if (a->cfg.ops.sni_set_allow(a->cfg.ops.ctx, pat, n, err, sizeof(err)) < 0) {
			ret = send_error(c, MHD_HTTP_CONFLICT, "allowlist not changed: %s",
					 err[0] ? err : "refused");
			goto out;
		}
		api_log(a, VG_LOG_INFO, "allow-sni replaced: %zu patterns", n);
	}
	if (cidrs) {
		err[0] = '\0';
		if (a->cfg.ops.policy_set(a->cfg.ops.ctx, p, err, sizeof(err)) < 0) {
			ret = send_error(c, MHD_HTTP_BAD_REQUEST, "%s",
					 err[0] ? err : "policy refused");
			goto out;
		}
		api_log(a, VG_LOG_INFO, "policy replaced: %zu allow, %zu deny rules", p->n_allow,
			p->n - p->n_allow - 1);
	}
	ret = send_json(c, MHD_HTTP_OK, policy_json(a));
out:
	free(pat);
	free(p);
	json_decref(o);
	return ret;
}

/* ---- server-sent events ---- */

/*
 * Resume every parked /events client. MHD only processes resumed
 * connections inside MHD_run(), and with an external epoll loop its
 * internal wake-up is not always visible to us: run it on the next loop turn.
 */
static void sse_resume_all(struct api *a)
{
	bool any = false;
	size_t i;

	for (i = 0; i < API_MAX_SSE_CLIENTS; i++) {
		struct sse_client *cl = &a->sse[i];

		if (cl->used && cl->suspended) {
			cl->suspended = false;
			MHD_resume_connection(cl->conn);
			any = true;
		}
	}
	if (any && a->mhd)
		vg_timer_start(a->cfg.loop, &a->timer, 0);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_client *cl = cls;
	struct api *a = cl->api;
	const struct sse_event *ev;
	size_t n;

	(void)pos;
	if (a->next_seq > API_EVENT_RING && cl->next_seq < a->next_seq - API_EVENT_RING) {
		cl->next_seq = a->next_seq - API_EVENT_RING; /* fell behind: skip */
		cl->off = 0;
	}
	if (cl->next_seq < a->next_seq) {
		ev = &a->ring[cl->next_seq % API_EVENT_RING];
		n = ev->len - cl->off;
		if (n > max)
			n = max;
		memcpy(buf, ev->text + cl->off, n);
		cl->off += n;
		if (cl->off == ev->len) {
			cl->next_seq++;
			cl->off = 0;
		}
		return (ssize_t)n;
	}
	if (cl->keepalive_due && max >= 13) {
		cl->keepalive_due = false;
		memcpy(buf, ": keepalive\n\n", 13);
		return 13;
	}
	/* nothing to send: park the connection until api_event() */
	cl->suspended = true;
	MHD_suspend_connection(cl->conn);
	return 0;
}

static void sse_free(void *cls)
{
	struct sse_client *cl = cls;

	cl->used = false;
	cl->suspended = false;
	cl->conn = NULL;
}

static enum MHD_Result get_events(struct api *a, struct MHD_Connection *c, bool guest)
{
	struct sse_client *cl = NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t i, n_guest = 0;

	for (i = 0; i < API_MAX_SSE_CLIENTS; i++) {
		if (!a->sse[i].used && !cl)
			cl = &a->sse[i];
		else if (a->sse[i].used && a->sse[i].guest)
			n_guest++;
	}
	if (guest && n_guest >= API_MAX_GUEST_SSE)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many event clients (%d)",
				  API_MAX_GUEST_SSE);
	if (!cl)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many event clients (%d)",
				  API_MAX_SSE_CLIENTS);
	memset(cl, 0, sizeof(*cl));
	cl->api = a;
	cl->guest = guest;
	cl->conn = c;
	cl->used = true;
	cl->next_seq = a->next_seq; /* only events from now on */
	cl->keepalive_due = true;   /* an immediate comment flushes the headers */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, sse_read, cl, sse_free);
	if (!r) {
		cl->used = false;
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

void api_event(struct api *a, const char *type, json_t *data)
{
	struct sse_event *ev;
	char *s;
	int n;

	if (!a || !data) {
		json_decref(data);
		return;
	}
	s = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!s)
		return;
	ev = &a->ring[a->next_seq % API_EVENT_RING];
	n = snprintf(ev->text, sizeof(ev->text), "event: %s\ndata: %s\n\n", type, s);
	free(s);
	if (n < 0 || (size_t)n >= sizeof(ev->text))
		return; /* too large for one slot: dropped */
	ev->len = (size_t)n;
	ev->seq = a->next_seq++;
	sse_resume_all(a);
}

void api_event_blocked(struct api *a, const char *proto, const struct ns_addr *src,
		       const struct ns_addr *dst, const char *name, const char *reason)
{
	char s[32], d[32], when[32];
	struct timespec ts;
	struct tm tm;
	json_t *j;

	if (!a)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fmt_hostport(src, s, sizeof(s));
	fmt_hostport(dst, d, sizeof(d));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", when, "protocol", proto, "src", s, "dst",
		      d, "reason", reason);
	if (j && name)
		json_object_set_new(j, "name", jstr(name));
	api_event(a, "blocked", j);
}

static void keepalive_fire(void *arg)
{
	struct api *a = arg;
	size_t i;

	for (i = 0; i < API_MAX_SSE_CLIENTS; i++) {
		if (a->sse[i].used)
			a->sse[i].keepalive_due = true;
	}
	sse_resume_all(a);
	vg_timer_start(a->cfg.loop, &a->keepalive, API_SSE_KEEPALIVE_MS);
}

/* ---- MHD plumbing ---- */

static enum MHD_Result route(struct api *a, struct MHD_Connection *c, const char *url,
			     const char *method, const struct req *rq)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");

	if (rq->guest && !get)
		return send_error(c, MHD_HTTP_FORBIDDEN, "the guest's API is read-only");
	if (rq->too_big)
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than %d bytes",
				  API_MAX_BODY);
	if (!strcmp(url, "/stats"))
		return get ? get_stats(a, c) : send_405(c, "GET");
	if (!strcmp(url, "/metrics"))
		return get ? get_metrics(a, c) : send_405(c, "GET");
	if (!strcmp(url, "/dns/cache"))
		return get ? get_dns_cache(a, c) : send_405(c, "GET");
	if (!strcmp(url, "/dns/cache/flush")) {
		if (strcmp(method, "POST"))
			return send_405(c, "POST");
		dns_cache_flush(a->cfg.dns);
		api_log(a, VG_LOG_INFO, "dns cache flushed");
		return send_json(c, MHD_HTTP_OK, json_pack("{s:b}", "flushed", 1));
	}
	if (!strcmp(url, "/dns/records"))
		return dns_records(a, c, method, rq);
	if (!strcmp(url, "/leases") || !strcmp(url, "/services/dhcp/leases"))
		return get ? get_leases(a, c) : send_405(c, "GET");
	if (!strcmp(url, "/forwards"))
		return forwards(a, c, method, rq, NULL);
	if (!strncmp(url, "/services/forwarder/", 20) &&
	    (!strcmp(url + 20, "all") || !strcmp(url + 20, "expose") ||
	     !strcmp(url + 20, "unexpose")))
		return forwards(a, c, method, rq, url + 20);
	if (!strcmp(url, "/policy"))
		return policy(a, c, method, rq);
	if (!strcmp(url, "/events"))
		return get ? get_events(a, c, rq->guest) : send_405(c, "GET");
	return send_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint: %s", url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct api *a = cls;
	struct req *rq = *con_cls;

	(void)version;
	if (!rq) {
		const union MHD_ConnectionInfo *ci;

		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
		/* unknown daemon: treat as the guest's, the safe side */
		rq->guest = !ci || ci->daemon != a->mhd;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		if (!rq->too_big && rq->len + n <= API_MAX_BODY) {
			char *b = realloc(rq->body, rq->len + n + 1);

			if (!b)
				return MHD_NO;
			memcpy(b + rq->len, upload_data, n);
			rq->body = b;
			rq->len += n;
			b[rq->len] = '\0';
		} else {
			rq->too_big = true;
			free(rq->body);
			rq->body = NULL;
			rq->len = 0;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	api_log(a, VG_LOG_DEBUG, "%s %s", method, url);
	return route(a, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* run both MHD daemons and re-arm the timer from the nearer next timeout */
static void api_run(struct api *a)
{
	MHD_UNSIGNED_LONG_LONG ms, next = 60000;
	bool any = false;

	MHD_run(a->mhd);
	if (a->guest_mhd)
		MHD_run(a->guest_mhd);
	if (MHD_get_timeout(a->mhd, &ms) == MHD_YES) {
		next = ms < next ? ms : next;
		any = true;
	}
	if (a->guest_mhd && MHD_get_timeout(a->guest_mhd, &ms) == MHD_YES) {
		next = ms < next ? ms : next;
		any = true;
	}
	if (any)
		vg_timer_start(a->cfg.loop, &a->timer, next);
	else
		vg_timer_stop(a->cfg.loop, &a->timer);
}

static void on_epoll(void *arg, uint32_t events)
{
	(void)events;
	api_run(arg);
}

static void on_timer(void *arg)
{
	api_run(arg);
}

/**
 * listen_unix() - create, bind (mode 0600) and listen on a unix socket;
 * a stale socket file at @path is replaced, any other file is an error
 * @path:	socket path
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: the fd, or -1
 */
static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "invalid --api socket path '%s'", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--api '%s' exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the API socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "cannot listen on --api '%s': %s", path, strerror(errno));
		close(fd);
		if (rc == 0)
			unlink(path);
		return -1;
	}
	return fd;
}

/**
 * start_daemon() - serve the listening socket @fd with a new MHD daemon
 * driven from the loop (its epoll fd registered as @io)
 * @a:		API
 * @fd:		listening unix socket
 * @limit:	connections at once
 * @io:		loop registration to fill
 *
 * Return: the daemon, or NULL
 */
static struct MHD_Daemon *start_daemon(struct api *a, int fd, unsigned int limit, struct vg_io *io)
{
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;

	d = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
	    a, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    a, MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, a, MHD_OPTION_END);
	if (!d)
		return NULL;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || vg_io_add(a->cfg.loop, io, info->epoll_fd, EPOLLIN, on_epoll, a) < 0) {
		MHD_stop_daemon(d);
		return NULL;
	}
	return d;
}

/**
 * start_guest() - open the guest's read-only socket (api_config.guest_path)
 * @a:		API, host side running
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int start_guest(struct api *a, char *err, size_t errlen)
{
	const char *path = a->cfg.guest_path;

	if (strlen(path) >= sizeof(a->guest_path)) {
		snprintf(err, errlen, "guest API socket path too long: '%s'", path);
		return -1;
	}
	strcpy(a->guest_path, path);
	a->guest_fd = listen_unix(a->guest_path, err, errlen);
	if (a->guest_fd < 0)
		return -1;
	a->guest_mhd = start_daemon(a, a->guest_fd, API_MAX_GUEST_CONNECTIONS, &a->guest_io);
	if (!a->guest_mhd) {
		snprintf(err, errlen, "cannot start the guest API server on '%s'", a->guest_path);
		close(a->guest_fd);
		a->guest_fd = -1;
		unlink(a->guest_path);
		return -1;
	}
	api_log(a, VG_LOG_INFO, "guest API (read-only) on unix://%s", a->guest_path);
	return 0;
}

/* close the guest's side (no-op when it is off) */
static void stop_guest(struct api *a)
{
	if (a->guest_fd < 0)
		return;
	if (a->guest_mhd) {
		vg_io_del(a->cfg.loop, &a->guest_io);
		MHD_stop_daemon(a->guest_mhd);
		a->guest_mhd = NULL;
	}
	close(a->guest_fd);
	a->guest_fd = -1;
	unlink(a->guest_path);
}

struct api *api_new(const struct api_config *cfg, char *err, size_t errlen)
{
	struct api *a;

	if (strncmp(cfg->uri, "unix://", 7)) {
		snprintf(err, errlen, "invalid --api '%s' (expected unix:///PATH)", cfg->uri);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->cfg = *cfg;
	a->io.fd = -1;
	a->guest_io.fd = -1;
	a->guest_fd = -1;
	vg_timer_init(&a->timer, on_timer, a);
	vg_timer_init(&a->keepalive, keepalive_fire, a);
	if (strlen(cfg->uri + 7) >= sizeof(a->path)) {
		snprintf(err, errlen, "--api path too long: '%s'", cfg->uri + 7);
		free(a);
		return NULL;
	}
	strcpy(a->path, cfg->uri + 7);
	a->listen_fd = listen_unix(a->path, err, errlen);
	if (a->listen_fd < 0) {
		free(a);
		return NULL;
	}
	a->mhd = start_daemon(a, a->listen_fd, API_MAX_CONNECTIONS, &a->io);
	if (!a->mhd) {
		snprintf(err, errlen, "cannot start the API server on '%s'", a->path);
		goto fail;
	}
	api_log(a, VG_LOG_INFO, "listening on unix://%s", a->path);
	if (cfg->guest_path && start_guest(a, err, errlen) < 0)
		goto fail;
	vg_timer_start(cfg->loop, &a->keepalive, API_SSE_KEEPALIVE_MS);
	return a;
fail:
	if (a->mhd) {
		vg_io_del(cfg->loop, &a->io);
		MHD_stop_daemon(a->mhd);
	}
	close(a->listen_fd);
	unlink(a->path);
	free(a);
	return NULL;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	/* MHD must not be stopped with suspended connections */
	sse_resume_all(a);
	vg_io_del(a->cfg.loop, &a->io);
	vg_timer_stop(a->cfg.loop, &a->timer);
	vg_timer_stop(a->cfg.loop, &a->keepalive);
	stop_guest(a);
	MHD_stop_daemon(a->mhd);
	close(a->listen_fd);
	unlink(a->path);
	free(a);
}
