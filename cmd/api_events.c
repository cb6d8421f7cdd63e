/* SPDX-License-Identifier: MIT */
/*
 * api_events.c - the control API's server-sent events: GET /events and
 * api_event() / api_event_blocked() (api.h).
 *
 * Events are formatted once ("event: TYPE\ndata: JSON\n\n") into a fixed
 * ring of API_EVENT_RING slots in struct api. Each client (a slot of
 * api->sse, at most API_MAX_SSE_CLIENTS, API_MAX_GUEST_SSE of them the
 * guest's) gets its own MHD response whose reader callback copies from the
 * ring; with nothing to send it suspends its connection, and api_event()
 * or the keepalive timer resumes every suspended client. A client that
 * falls more than API_EVENT_RING events behind skips to the oldest kept.
 * A slot is freed by MHD's free callback when the connection closes.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Resume every parked /events client. MHD only processes resumed
 * connections inside MHD_run(), and with an external epoll loop its
 * internal wake-up is not always visible to us: run it on the next loop turn.
 */
void api_sse_resume_all(struct api *a)
{
	bool any = false;
	size_t i;

	for (i = 0; i < API_MAX_SSE_CLIENTS; i++) {
		struct sse_client *cl = &a->sse[i];

		if (cl->used && cl->suspended) {
			cl->suspended = false;
			vg_mhd()->resume_connection(cl->conn);
			any = true;
		}
	}
	if (any && a->mhd)
		api_timer_start(a, &a->timer, 0);
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
		/* stream bytes, not a string: no terminator */
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
		memcpy(buf, ": keepalive\n\n", 13);
		return 13;
	}
	/* nothing to send: park the connection until api_event() */
	cl->suspended = true;
	vg_mhd()->suspend_connection(cl->conn);
	return 0;
}

static void sse_free(void *cls)
{
	struct sse_client *cl = cls;

	cl->used = false;
	cl->suspended = false;
	cl->conn = NULL;
}

enum MHD_Result api_get_events(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	bool guest = rq->guest;
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
		return api_send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "too many event clients (%d)", API_MAX_GUEST_SSE);
	if (!cl)
		return api_send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "too many event clients (%d)", API_MAX_SSE_CLIENTS);
	memset(cl, 0, sizeof(*cl));
	cl->api = a;
	cl->guest = guest;
	cl->conn = c;
	cl->used = true;
	cl->next_seq = a->next_seq; /* only events from now on */
	cl->keepalive_due = true;   /* an immediate comment flushes the headers */
	r = vg_mhd()->create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, sse_read, cl, sse_free);
	if (!r) {
		cl->used = false;
		return MHD_NO;
	}
	vg_mhd()->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	vg_mhd()->add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = vg_mhd()->queue_response(c, MHD_HTTP_OK, r);
	vg_mhd()->destroy_response(r);
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
	api_sse_resume_all(a);
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
	api_fmt_hostport(src, s, sizeof(s));
	api_fmt_hostport(dst, d, sizeof(d));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", when, "protocol", proto, "src", s, "dst",
		      d, "reason", reason);
	if (j && name)
		json_object_set_new(j, "name", api_jstr(name));
	api_event(a, "blocked", j);
}

void api_sse_keepalive(void *arg)
{
	struct api *a = arg;
	size_t i;

	for (i = 0; i < API_MAX_SSE_CLIENTS; i++) {
		if (a->sse[i].used)
			a->sse[i].keepalive_due = true;
	}
	api_sse_resume_all(a);
	api_timer_start(a, &a->keepalive, API_SSE_KEEPALIVE_MS);
}
