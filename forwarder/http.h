/* SPDX-License-Identifier: MIT */
/*
 * http.h - HTTP/1.x request-head parser for the SNI filter on plain HTTP
 * (port 80): the Host header's name (internal to forwarder/, beside tls.h).
 *
 * http_host_parse() is handed everything the guest has sent so far on a TCP
 * flow (a prefix of the stream that may end anywhere) and says whether it
 * holds a whole request head with a valid Host, needs more bytes, or can
 * never be one. Like tls_parse_client_hello() it keeps no state between
 * calls: it is called again from the start each time more bytes arrive.
 *
 * How: the request line and the header lines are walked one line at a time
 * (CRLF or bare LF) within the bound; the Host value is trimmed, its port
 * checked and its name normalised by tls_hostname_check(), the host-name
 * rules of the TLS parser. Never reads outside [buf, buf+len); no
 * allocation; O(len) per call.
 *
 * Return convention: enum http_status (0 done, 1 need more, < 0 errors).
 */
#ifndef VGATE_FORWARDER_HTTP_H
#define VGATE_FORWARDER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX_DEFAULT 8192

enum http_status {
	HTTP_DONE = 0,		 /* a whole request head with a valid Host */
	HTTP_NEED_MORE = 1,	 /* valid so far, head not complete */
	HTTP_ERR_MALFORMED = -1, /* not an HTTP/1.x origin-form request head */
	HTTP_ERR_TOO_BIG = -2,	 /* no end of head within the bound */
	HTTP_ERR_NO_HOST = -3,	 /* no Host header (or an empty one) */
	HTTP_ERR_BAD_HOST = -4,	 /* Host is not a valid host name[:port] */
	HTTP_ERR_HOST_IP = -5,	 /* Host is an IP literal */
};

/**
 * http_host_parse() - find the Host of the request head at the start of a stream
 * @buf:	bytes received so far
 * @len:	their number
 * @max:	bound on the head (request line + headers + blank line)
 * @host:	the host name, lower case, port and trailing dot removed
 * @hostlen:	its size (TLS_SNI_MAX + 1 is enough)
 *
 * Accepts "METHOD SP origin-form SP HTTP/1.x" (or "OPTIONS * ..."), header
 * lines "token: value", CRLF or bare LF line ends. Rejects absolute-form and
 * CONNECT targets, obsolete line folding, control bytes, several Host
 * headers, a bad or IP-literal Host. Never reads past @len.
 *
 * Return: enum http_status
 */
int http_host_parse(const uint8_t *buf, size_t len, size_t max, char *host, size_t hostlen);

/**
 * http_status_name() - short name of an enum http_status, for logs
 * @st:	status
 *
 * Return: a static string
 */
const char *http_status_name(int st);

#endif /* VGATE_FORWARDER_HTTP_H */
