/* SPDX-License-Identifier: MIT */
/*
 * api_route.c - the control API's route table: one row per method and
 * path, naming the handler (in api_stats.c, api_dns.c, api_fwd.c,
 * api_policy.c, api_events.c) and the optional module it needs.
 *
 * api_route() checks, in this order and only here: a write through the
 * guest's socket (403; with --guest-forwards not on the rows marked
 * guest_write, gvproxy's expose and unexpose, whose handler applies
 * cmd/guestfwd.h's rules), a body over API_MAX_BODY (413), a path with no row
 * (404), a needed module the daemon did not provide (503), a method with no
 * row for the path (405, Allow listing the path's methods, HEAD left out as
 * it comes with GET). The handler then only does its work.
 *
 * The table is constant and small: a linear scan per request.
 */
#include "api_int.h"

#include <string.h>

/* the optional daemon operations a route needs (503 without them) */
enum api_need {
	NEED_NONE = 0,
	NEED_FORWARDS, /* forward_list, forward_add, forward_remove */
	NEED_POLICY,   /* policy_get */
};

struct api_route {
	unsigned int methods; /* enum api_method bits */
	const char *path;
	api_handler_fn fn;
	enum api_need need;
	bool removes;	  /* handed to @fn as api_req.removes */
	bool guest_write; /* the guest may write with --guest-forwards */
};

#define READ (API_GET | API_HEAD)

static const struct api_route routes[] = {
    {READ, "/stats", api_get_stats, NEED_NONE, false, false},
    {READ, "/metrics", api_get_metrics, NEED_NONE, false, false},
    {READ, "/dns/cache", api_get_dns_cache, NEED_NONE, false, false},
    {API_POST, "/dns/cache/flush", api_flush_dns_cache, NEED_NONE, false, false},
    {API_GET, "/dns/records", api_get_records, NEED_NONE, false, false},
    {API_POST, "/dns/records", api_edit_records, NEED_NONE, false, false},
    {API_DELETE, "/dns/records", api_edit_records, NEED_NONE, true, false},
    {READ, "/leases", api_get_leases, NEED_NONE, false, false},
    /* gvproxy's API, its shapes and codes (api_gv.c): any method reaches
     * the handler, which answers 400 "post only" where gvproxy does */
    {API_ANY, "/services/dhcp/leases", api_gv_leases, NEED_NONE, false, false},
    {API_ANY, "/cam", api_gv_cam, NEED_NONE, false, false},
    {API_ANY, "/services/dns/all", api_gv_dns_all, NEED_NONE, false, false},
    {API_ANY, "/services/dns/add", api_gv_dns_add, NEED_NONE, false, false},
    {API_ANY, "/services/forwarder/all", api_gv_forward_all, NEED_FORWARDS, false, false},
    {API_ANY, "/services/forwarder/expose", api_gv_expose, NEED_FORWARDS, false, true},
    {API_ANY, "/services/forwarder/unexpose", api_gv_expose, NEED_FORWARDS, true, true},
    {API_GET, "/forwards", api_get_forwards, NEED_FORWARDS, false, false},
    {API_POST, "/forwards", api_edit_forward, NEED_FORWARDS, false, false},
    {API_DELETE, "/forwards", api_edit_forward, NEED_FORWARDS, true, false},
    {API_GET, "/policy", api_get_policy, NEED_POLICY, false, false},
    {API_PUT, "/policy", api_put_policy, NEED_POLICY, false, false},
    {READ, "/events", api_get_events, NEED_NONE, false, false},
};

static const struct {
	unsigned int bit;
	const char *name;
} methods[] = {
    {API_GET, "GET"}, {API_HEAD, "HEAD"},     {API_POST, "POST"},
    {API_PUT, "PUT"}, {API_DELETE, "DELETE"},
};

unsigned int api_method_bit(const char *method)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!strcmp(methods[i].name, method))
			return methods[i].bit;
	}
	return API_OTHER;
}

/* 503 text when @need is missing, NULL when it is there */
static const char *missing(const struct api *a, enum api_need need)
{
	const struct api_ops *o = &a->cfg.ops;

	switch (need) {
	case NEED_FORWARDS:
		if (!o->forward_list || !o->forward_add || !o->forward_remove)
			return "port forwarding is not available in this build";
		return NULL;
	case NEED_POLICY:
		return o->policy_get ? NULL : "no policy in this build";
	case NEED_NONE:
		break;
	}
	return NULL;
}

/* "GET, POST, DELETE": the methods of @mask in table order, HEAD left out */
static void allow_header(unsigned int mask, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!(mask & methods[i].bit) || methods[i].bit == API_HEAD)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", methods[i].name);
		if (n >= len)
			return;
	}
}

enum MHD_Result api_route(struct api *a, struct MHD_Connection *c, const char *url,
			  const struct api_req *rq)
{
	const struct api_route *hit = NULL;
	enum api_need need = NEED_NONE;
	struct api_req r;
	unsigned int allowed = 0;
	const char *why;
	char allow[64];
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].path, url))
			continue;
		allowed |= routes[i].methods;
		need = routes[i].need; /* the same on every row of a path */
		if (!hit && (routes[i].methods & (rq->method | API_ANY)))
			hit = &routes[i];
	}
	if (rq->guest && !(rq->method & READ) && !(a->cfg.guest_fwd.on && hit && hit->guest_write))
		return api_send_error(c, MHD_HTTP_FORBIDDEN, "the guest's API is read-only");
	if (rq->too_big)
		return api_send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than %d bytes",
				      API_MAX_BODY);
	if (!allowed)
		return api_send_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint: %s", url);
	why = missing(a, need);
	if (why)
		return api_send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", why);
	if (!hit) {
		allow_header(allowed, allow, sizeof(allow));
		return api_send_405(c, allow);
	}
	r = *rq;
	r.removes = hit->removes;
	return hit->fn(a, c, &r);
}
