/* SPDX-License-Identifier: MIT */
/*
 * http.c - the HTTP/1.x request-head parser of http.h: request line, header
 * lines, the one Host header. Stateless, no allocation.
 */
#include "forwarder/http.h"

#include <stdbool.h>
#include <string.h>

#include "common/netutil.h"
#include "forwarder/tls.h"

static bool is_tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/*
 * One line [p, eol) without its line end; returns its length, or -1 when no
 * line end is in the buffer yet. *next: start of the next line. A CR that is
 * not followed by LF is an error (-2).
 */
static long line_at(const uint8_t *buf, size_t len, size_t p, size_t *next)
{
	size_t i;

	for (i = p; i < len; i++) {
		if (buf[i] == '\n') {
			*next = i + 1;
			return (long)(i - p);
		}
		if (buf[i] == '\r') {
			if (i + 1 >= len)
				return -1;
			if (buf[i + 1] != '\n')
				return -2;
			*next = i + 2;
			return (long)(i - p);
		}
	}
	return -1;
}

/* request line "METHOD SP target SP HTTP/1.x"; @n may be a prefix (!complete) */
static int check_request_line(const uint8_t *s, size_t n, bool complete)
{
	static const char ver[] = "HTTP/1.";
	size_t i = 0, t0, tn, m;

	while (i < n && is_tchar(s[i]))
		i++;
	if (i == n)
		return complete || i > 32 ? HTTP_ERR_MALFORMED : HTTP_NEED_MORE;
	if (i == 0 || s[i] != ' ')
		return HTTP_ERR_MALFORMED;
	if (i == 7 && memcmp(s, "CONNECT", 7) == 0)
		return HTTP_ERR_MALFORMED;
	t0 = ++i;
	while (i < n && s[i] > 0x20 && s[i] < 0x7f)
		i++;
	tn = i - t0;
	if (i == n)
		return complete ? HTTP_ERR_MALFORMED : HTTP_NEED_MORE;
	if (tn == 0 || s[i] != ' ')
		return HTTP_ERR_MALFORMED;
	if (s[t0] != '/' && !(tn == 1 && s[t0] == '*'))
		return HTTP_ERR_MALFORMED; /* absolute-form or authority-form */
	i++;
	m = n - i < sizeof(ver) - 1 ? n - i : sizeof(ver) - 1;
	if (memcmp(s + i, ver, m) != 0)
		return HTTP_ERR_MALFORMED;
	if (!complete)
		return HTTP_NEED_MORE;
	if (n - i != sizeof(ver) || s[n - 1] < '0' || s[n - 1] > '9')
		return HTTP_ERR_MALFORMED;
	return HTTP_DONE;
}

/* "name[:port]" with optional surrounding blanks → normalised host */
static int parse_host_value(const uint8_t *v, size_t n, char *host, size_t hostlen)
{
	size_t i, colon;
	uint16_t port;
	int rc;

	while (n > 0 && (v[0] == ' ' || v[0] == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n == 0)
		return HTTP_ERR_NO_HOST;
	if (v[0] == '[')
		return HTTP_ERR_HOST_IP; /* IPv6 literal */
	colon = n;
	for (i = 0; i < n; i++)
		if (v[i] == ':') {
			colon = i;
			break;
		}
	/* at most 5 digits: "000080" is no port a client sends */
	if (colon < n && (n - colon - 1 > 5 ||
			  vg_port_parse((const char *)v + colon + 1, n - colon - 1, &port) < 0))
		return HTTP_ERR_BAD_HOST;
	rc = tls_hostname_check((const char *)v, colon, host, hostlen);
	if (rc == TLS_ERR_SNI_IP)
		return HTTP_ERR_HOST_IP;
	return rc ? HTTP_ERR_BAD_HOST : HTTP_DONE;
}

int http_host_parse(const uint8_t *buf, size_t len, size_t max, char *host, size_t hostlen)
{
	size_t p = 0, next = 0, lim = len < max ? len : max;
	bool have_host = false;
	long n;
	int rc;

	if (hostlen)
		host[0] = '\0';
	n = line_at(buf, lim, 0, &next);
	if (n == -2)
		return HTTP_ERR_MALFORMED;
	if (n < 0) {
		rc = check_request_line(buf, lim, false);
		if (rc == HTTP_NEED_MORE && len >= max)
			return HTTP_ERR_TOO_BIG;
		return rc;
	}
	rc = check_request_line(buf, (size_t)n, true);
	if (rc != HTTP_DONE)
		return rc;
	for (;;) {
		size_t i, colon;

		p = next;
		n = line_at(buf, lim, p, &next);
		if (n == -2)
			return HTTP_ERR_MALFORMED;
		if (n < 0)
			return len >= max ? HTTP_ERR_TOO_BIG : HTTP_NEED_MORE;
		if (n == 0)
			break; /* end of head */
		if (buf[p] == ' ' || buf[p] == '\t')
			return HTTP_ERR_MALFORMED; /* obs-fold */
		for (colon = p; colon < p + (size_t)n && is_tchar(buf[colon]); colon++)
			;
		if (colon == p || colon == p + (size_t)n || buf[colon] != ':')
			return HTTP_ERR_MALFORMED;
		for (i = colon + 1; i < p + (size_t)n; i++)
			if ((buf[i] < 0x20 && buf[i] != '\t') || buf[i] == 0x7f)
				return HTTP_ERR_MALFORMED;
		if (colon - p == 4 && strncasecmp((const char *)buf + p, "host", 4) == 0) {
			if (have_host)
				return HTTP_ERR_MALFORMED; /* RFC 9112 3.2: exactly one */
			have_host = true;
			rc = parse_host_value(buf + colon + 1, p + (size_t)n - colon - 1, host,
					      hostlen);
			if (rc != HTTP_DONE) {
				if (hostlen)
					host[0] = '\0';
				return rc;
			}
		}
	}
	return have_host ? HTTP_DONE : HTTP_ERR_NO_HOST;
}

const char *http_status_name(int st)
{
	/* by value: HTTP_NEED_MORE (1), HTTP_DONE (0), then the errors from -1 down */
	static const char *const names[] = {"need_more", "done",     "malformed",      "too_big",
					    "no_host",	 "bad_host", "host_ip_literal"};
	unsigned int i = (unsigned int)(HTTP_NEED_MORE - st);

	_Static_assert(sizeof(names) / sizeof(names[0]) == HTTP_NEED_MORE - HTTP_ERR_HOST_IP + 1,
		       "a name for every status");
	return i < sizeof(names) / sizeof(names[0]) ? names[i] : "unknown";
}
