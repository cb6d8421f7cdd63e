/* SPDX-License-Identifier: MIT */
/*
 * test_httphead.c - vg_http_head_classify(): gvproxy's POST /connect head
 * versus every other request on the --listen socket.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/httphead.h"

static enum vg_head_kind cls(const char *s, size_t max, size_t *hl)
{
	return vg_http_head_classify(s, strlen(s), max, hl);
}

Test(httphead, connect_head_then_frame_bytes)
{
	const char req[] = "POST /connect HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[64];
	size_t hl = 99;

	memcpy(buf, req, sizeof(req) - 1);
	buf[sizeof(req) - 1] = 0x2a; /* LE length low byte of the first frame */
	buf[sizeof(req)] = 0x00;
	cr_assert_eq(vg_http_head_classify(buf, sizeof(req) + 1, sizeof(buf), &hl),
		     VG_HEAD_CONNECT);
	cr_assert_eq(hl, sizeof(req) - 1);
}

Test(httphead, partial_heads_wait)
{
	size_t hl;

	cr_assert_eq(cls("", 64, &hl), VG_HEAD_INCOMPLETE);
	cr_assert_eq(cls("POS", 64, &hl), VG_HEAD_INCOMPLETE);
	cr_assert_eq(cls("POST /connect", 64, &hl), VG_HEAD_INCOMPLETE);
	cr_assert_eq(cls("POST /connect HTTP/1.1\r\nHost: x\r\n", 64, &hl), VG_HEAD_INCOMPLETE);
	cr_assert_eq(hl, 0);
}

Test(httphead, other_requests_go_to_the_api_at_once)
{
	size_t hl;

	cr_assert_eq(cls("GET /stats HTTP/1.1\r\n", 64, &hl), VG_HEAD_OTHER);
	cr_assert_eq(cls("G", 64, &hl), VG_HEAD_OTHER);
	cr_assert_eq(cls("POST /connectx HTTP/1.1\r\n\r\n", 64, &hl), VG_HEAD_OTHER);
	cr_assert_eq(cls("POST /services/forwarder/expose HTTP/1.1\r\n", 64, &hl), VG_HEAD_OTHER);
	cr_assert_eq(cls("post /connect HTTP/1.1\r\n\r\n", 64, &hl), VG_HEAD_OTHER);
}

Test(httphead, query_string_and_bound)
{
	size_t hl;

	cr_assert_eq(cls("POST /connect?x=1 HTTP/1.1\r\n\r\n", 64, &hl), VG_HEAD_CONNECT);
	cr_assert_eq(cls("POST /connect HTTP/1.1\r\nHost: xxxxxxxxxxxx\r\n", 20, &hl),
		     VG_HEAD_TOO_LONG);
	cr_assert_eq(hl, 0);
	/* the end of head lies past the bound: still too long, not found */
	cr_assert_eq(cls("POST /connect HTTP/1.1\r\n\r\n", 24, &hl), VG_HEAD_TOO_LONG);
}
