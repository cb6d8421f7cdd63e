/* SPDX-License-Identifier: MIT */
/*
 * tunnelhead.c - vg_tunnel_parse() (tunnel.h): the pure part of gvproxy's
 * /tunnel, apart from tunnel.c so that it links without the netstack. It
 * looks at peeked bytes only: the request line decides whether this is a
 * /tunnel at all as soon as it differs from "GET /tunnel?" or "GET
 * /tunnel ", and the query is only read once the whole head is there.
 */
#include "cmd/tunnel.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char *tn_memmem(const char *h, size_t hl, const char *n, size_t nl)
{
	size_t i;

	for (i = 0; i + nl <= hl; i++)
		if (!memcmp(h + i, n, nl))
			return h + i;
	return NULL;
}

/**
 * tn_param() - the value of @key in a query string
 * @q:		query (after '?', up to the end of the target)
 * @ql:		its length
 * @key:	name
 * @vl:		set to the value's length
 *
 * Return: the first value of @key, or NULL when absent
 */
static const char *tn_param(const char *q, size_t ql, const char *key, size_t *vl)
{
	size_t kl = strlen(key), i = 0;

	while (i < ql) {
		size_t end = i;

		while (end < ql && q[end] != '&')
			end++;
		if (end - i > kl && !memcmp(q + i, key, kl) && q[i + kl] == '=') {
			*vl = end - i - kl - 1;
			return q + i + kl + 1;
		}
		i = end + 1;
	}
	return NULL;
}

enum vg_tunnel_kind vg_tunnel_parse(const char *buf, size_t len, size_t max,
				    struct vg_tunnel_req *rq)
{
	static const char pre[] = "GET /tunnel";
	const size_t pl = sizeof(pre) - 1;
	const char *end, *eol, *sp, *v, *q = NULL;
	size_t ql = 0, vl, i;
	char tmp[16];
	unsigned long port = 0;

	memset(rq, 0, sizeof(*rq));
	if (memcmp(buf, pre, len < pl ? len : pl))
		return VG_TUNNEL_NOT;
	if (len <= pl)
		return VG_TUNNEL_INCOMPLETE;
	if (buf[pl] != '?' && buf[pl] != ' ')
		return VG_TUNNEL_NOT;
	end = tn_memmem(buf, len, "\r\n\r\n", 4);
	if (!end)
		return len >= max ? VG_TUNNEL_TOO_LONG : VG_TUNNEL_INCOMPLETE;
	rq->head_len = (size_t)(end - buf) + 4;
	eol = tn_memmem(buf, rq->head_len, "\r\n", 2);
	sp = memchr(buf + pl, ' ', (size_t)(eol - buf) - pl);
	if (!sp || (size_t)(eol - sp) < 6 || memcmp(sp + 1, "HTTP/", 5)) {
		snprintf(rq->why, sizeof(rq->why), "malformed request line");
		return VG_TUNNEL_BAD;
	}
	if (buf[pl] == '?') {
		q = buf + pl + 1;
		ql = (size_t)(sp - q);
	}
	v = q ? tn_param(q, ql, "ip", &vl) : NULL;
	if (!v || !vl) {
		snprintf(rq->why, sizeof(rq->why), "ip is mandatory");
		return VG_TUNNEL_BAD;
	}
	if (vl >= sizeof(tmp)) {
		snprintf(rq->why, sizeof(rq->why), "ip must be an IPv4 address");
		return VG_TUNNEL_BAD;
	}
	memcpy(tmp, v, vl);
	tmp[vl] = '\0';
	if (inet_pton(AF_INET, tmp, &rq->ip) != 1) {
		snprintf(rq->why, sizeof(rq->why), "ip must be an IPv4 address");
		return VG_TUNNEL_BAD;
	}
	v = tn_param(q, ql, "port", &vl);
	if (!v || !vl) {
		snprintf(rq->why, sizeof(rq->why), "port is mandatory");
		return VG_TUNNEL_BAD;
	}
	for (i = 0; i < vl; i++) {
		if (v[i] < '0' || v[i] > '9' || i >= 5) {
			port = 0;
			break;
		}
		port = port * 10 + (unsigned long)(v[i] - '0');
	}
	if (port < 1 || port > 65535) {
		snprintf(rq->why, sizeof(rq->why), "port must be a number from 1 to 65535");
		return VG_TUNNEL_BAD;
	}
	rq->port = (uint16_t)port;
	return VG_TUNNEL_REQUEST;
}
