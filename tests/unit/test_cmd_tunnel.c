/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_tunnel.c - vg_tunnel_parse() (cmd/tunnel.h), gvproxy's
 * "GET /tunnel?ip=&port=" head: a valid head in any key order with other
 * keys ignored; prefixes that may still become one wait; other requests are
 * told apart at once; every 400 reason; a head that does not end in the
 * bound.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "cmd/tunnel.h"

static enum vg_tunnel_kind parse(const char *s, struct vg_tunnel_req *rq)
{
	return vg_tunnel_parse(s, strlen(s), 8192, rq);
}

Test(tunnel, valid)
{
	static const char h[] =
	    "GET /tunnel?ip=192.168.127.2&port=22 HTTP/1.1\r\nHost: x\r\n\r\nraw";
	struct vg_tunnel_req rq;

	cr_assert_eq(parse(h, &rq), VG_TUNNEL_REQUEST);
	cr_assert_eq(rq.ip, inet_addr("192.168.127.2"));
	cr_assert_eq(rq.port, 22);
	cr_assert_eq(rq.head_len, strlen(h) - 3); /* "raw" follows the head */
	cr_assert_eq(
	    parse("GET /tunnel?x=1&port=65535&ip=10.0.0.9&ip=1.1.1.1 HTTP/1.0\r\n\r\n", &rq),
	    VG_TUNNEL_REQUEST);
	cr_assert_eq(rq.ip, inet_addr("10.0.0.9")); /* the first of a repeated key */
	cr_assert_eq(rq.port, 65535);
}

Test(tunnel, other_requests_and_prefixes)
{
	struct vg_tunnel_req rq;

	cr_assert_eq(parse("GET /stats HTTP/1.1\r\n\r\n", &rq), VG_TUNNEL_NOT);
	cr_assert_eq(parse("POST /connect HTTP/1.1\r\n\r\n", &rq), VG_TUNNEL_NOT);
	cr_assert_eq(parse("GET /tunnelx?ip=1.2.3.4&port=1 HTTP/1.1\r\n\r\n", &rq), VG_TUNNEL_NOT);
	cr_assert_eq(parse("POST /tunnel?ip=1.2.3.4&port=1 HTTP/1.1\r\n\r\n", &rq), VG_TUNNEL_NOT);
	cr_assert_eq(parse("G", &rq), VG_TUNNEL_INCOMPLETE);
	cr_assert_eq(parse("GET /tunnel", &rq), VG_TUNNEL_INCOMPLETE);
	cr_assert_eq(parse("GET /tunnel?ip=1.2.3.4&port=1 HTTP/1.1\r\nHost: x\r\n", &rq),
		     VG_TUNNEL_INCOMPLETE);
	cr_assert_eq(parse("GET /s", &rq), VG_TUNNEL_NOT);
}

Test(tunnel, bad_requests)
{
	static const struct {
		const char *head, *why;
	} bad[] = {
	    {"GET /tunnel HTTP/1.1\r\n\r\n", "ip is mandatory"},
	    {"GET /tunnel?port=22 HTTP/1.1\r\n\r\n", "ip is mandatory"},
	    {"GET /tunnel?ip=&port=22 HTTP/1.1\r\n\r\n", "ip is mandatory"},
	    {"GET /tunnel?ip=fd00::2&port=22 HTTP/1.1\r\n\r\n", "ip must be an IPv4 address"},
	    {"GET /tunnel?ip=1.2.3&port=22 HTTP/1.1\r\n\r\n", "ip must be an IPv4 address"},
	    {"GET /tunnel?ip=1.2.3.4.5.6.7.8.9&port=22 HTTP/1.1\r\n\r\n",
	     "ip must be an IPv4 address"},
	    {"GET /tunnel?ip=1.2.3.4 HTTP/1.1\r\n\r\n", "port is mandatory"},
	    {"GET /tunnel?ip=1.2.3.4&port= HTTP/1.1\r\n\r\n", "port is mandatory"},
	    {"GET /tunnel?ip=1.2.3.4&port=0 HTTP/1.1\r\n\r\n", "port must be a number"},
	    {"GET /tunnel?ip=1.2.3.4&port=65536 HTTP/1.1\r\n\r\n", "port must be a number"},
	    {"GET /tunnel?ip=1.2.3.4&port=0000022 HTTP/1.1\r\n\r\n", "port must be a number"},
	    {"GET /tunnel?ip=1.2.3.4&port=2x HTTP/1.1\r\n\r\n", "port must be a number"},
	    {"GET /tunnel?ip=1.2.3.4&port=-1 HTTP/1.1\r\n\r\n", "port must be a number"},
	    {"GET /tunnel?ip=1.2.3.4&port=22\r\n\r\n", "malformed request line"},
	};
	struct vg_tunnel_req rq;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i].head, &rq), VG_TUNNEL_BAD, "%s", bad[i].head);
		cr_assert(!strncmp(rq.why, bad[i].why, strlen(bad[i].why)), "%s: %s", bad[i].head,
			  rq.why);
		cr_assert_eq(rq.head_len, strlen(bad[i].head));
	}
}

Test(tunnel, too_long)
{
	char buf[64];
	struct vg_tunnel_req rq;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /tunnel?ip=1.2.3.4&port=1 HTTP/1.1\r\nX: ", 43);
	cr_assert_eq(vg_tunnel_parse(buf, sizeof(buf), sizeof(buf), &rq), VG_TUNNEL_TOO_LONG);
	cr_assert_eq(vg_tunnel_parse(buf, sizeof(buf) - 1, sizeof(buf), &rq), VG_TUNNEL_INCOMPLETE);
}
