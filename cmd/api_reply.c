/* SPDX-License-Identifier: MIT */
/*
 * api_reply.c - the control API's responses and request-body helpers
 * (api_int.h): JSON bodies (indented, sorted keys, trailing newline, no
 * caching), {"error": ...} bodies, the 405 with its Allow header, the
 * request body as a checked JSON object, and the "api: " log line.
 *
 * A leaf of the module: it calls MHD, jansson and the logger, never another
 * api file. Responses are created, queued and released at once (MHD keeps
 * its own reference); bodies are malloc'ed and handed to MHD to free.
 */
#include "api_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *api_jstr(const char *s)
{
	char buf[256];
	json_t *j;
	size_t i;

	/* jansson refuses invalid UTF-8: show such names, never drop them */
	j = json_string(s);
	if (j)
		return j;
	for (i = 0; i < sizeof(buf) - 1 && s[i]; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return json_string(buf);
}

void api_fmt_hostport(const struct ns_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (ns_addr_is_v6(a)) {
		inet_ntop(AF_INET6, a->ip6, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, a->port);
		return;
	}
	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, a->port);
}

void api_log(struct api *a, enum vg_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vg_log(a->cfg.log, lvl, "api: %s", msg);
}

int api_timer_start(struct api *a, struct vg_timer *t, uint64_t ms)
{
	int rc = vg_timer_start(a->cfg.loop, t, ms);

	if (rc < 0)
		api_log(a, VG_LOG_ERROR, "cannot arm a timer: %s", strerror(-rc));
	return rc;
}

enum MHD_Result api_send_text(struct MHD_Connection *c, unsigned int status, char *text, size_t len,
			      const char *ctype)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = vg_mhd()->create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	vg_mhd()->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	vg_mhd()->add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = vg_mhd()->queue_response(c, status, r);
	vg_mhd()->destroy_response(r);
	return ret;
}

enum MHD_Result api_send_json(struct MHD_Connection *c, unsigned int status, json_t *j)
{
	char *s, *t;
	size_t n;

	if (!j)
		return MHD_NO;
	s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if (!s)
		return MHD_NO;
	/* a trailing newline keeps shells and curl output tidy */
	n = strlen(s);
	t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return MHD_NO;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return api_send_text(c, status, t, n + 1, "application/json");
}

enum MHD_Result api_send_error(struct MHD_Connection *c, unsigned int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_send_json(c, status, json_pack("{s:o}", "error", api_jstr(msg)));
}

enum MHD_Result api_send_405(struct MHD_Connection *c, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *s;

	if (asprintf(&s, "{\n  \"error\": \"method not allowed (allowed: %s)\"\n}\n", allow) < 0)
		return MHD_NO;
	r = vg_mhd()->create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(s);
		return MHD_NO;
	}
	vg_mhd()->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	vg_mhd()->add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = vg_mhd()->queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
	vg_mhd()->destroy_response(r);
	return ret;
}

/* check_keys - 400 for a member of @o not in @keys; Return: 0, or -1 (sent) */
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
			*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "unknown field '%s'", k);
			return -1;
		}
	}
	return 0;
}

json_t *api_body_object(struct MHD_Connection *c, const struct api_req *rq, const char *const *keys,
			enum MHD_Result *ret)
{
	json_error_t e;
	json_t *j;

	if (!rq->len) {
		*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "a JSON object body is required");
		return NULL;
	}
	j = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "bad JSON at line %d column %d: %s",
				      e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
		return NULL;
	}
	if (check_keys(c, j, keys, ret) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

const char *api_str_field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}
