/* SPDX-License-Identifier: MIT */
/*
 * httphead.h - classify the first bytes of a connection accepted on the
 * --listen socket: gvproxy's "POST /connect" (the connection becomes a guest
 * link; frames follow the request head at once, no response is sent) or
 * anything else (handed to the HTTP API server). Part of the leaf module
 * common/ (library vgate_common). Pure: works on bytes the caller peeked
 * (MSG_PEEK), keeps no state and allocates nothing.
 */
#ifndef VGATE_COMMON_HTTPHEAD_H
#define VGATE_COMMON_HTTPHEAD_H

#include <stddef.h>

/**
 * enum vg_head_kind - what vg_http_head_classify() found
 * @VG_HEAD_INCOMPLETE:	no end of head ("\r\n\r\n") yet; peek more (or give up
 *			on timeout)
 * @VG_HEAD_CONNECT:	a complete "POST /connect" head; *@head_len bytes are
 *			the head, the bytes after it are the first frame bytes
 * @VG_HEAD_OTHER:	not /connect (decided as soon as the request line
 *			differs): give the connection to the HTTP server
 * @VG_HEAD_TOO_LONG:	/connect request line but no end of head within @max
 */
enum vg_head_kind {
	VG_HEAD_INCOMPLETE,
	VG_HEAD_CONNECT,
	VG_HEAD_OTHER,
	VG_HEAD_TOO_LONG,
};

/**
 * vg_http_head_classify() - classify peeked bytes of a new API connection
 * @buf:	bytes peeked so far
 * @len:	their count
 * @max:	bound on the head's size (the peek buffer's size)
 * @head_len:	set to the head's length (through "\r\n\r\n") on
 *		VG_HEAD_CONNECT, else 0
 *
 * The request line must be exactly "POST /connect" followed by " HTTP/" or
 * "?": "POST /connectx" is OTHER. A request line that cannot be /connect is
 * OTHER before the head is complete, so the HTTP server sees every other
 * request without delay.
 *
 * Return: the enum vg_head_kind
 */
enum vg_head_kind vg_http_head_classify(const char *buf, size_t len, size_t max, size_t *head_len);

#endif
