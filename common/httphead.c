/* SPDX-License-Identifier: MIT */
/*
 * httphead.c - see httphead.h: a prefix match of the request line, then a
 * bounded search for the end of the head. No state, no allocation.
 */
#include "common/httphead.h"

#include <string.h>

#define CONNECT_LINE "POST /connect"

enum vg_head_kind vg_http_head_classify(const char *buf, size_t len, size_t max, size_t *head_len)
{
	const size_t pl = sizeof(CONNECT_LINE) - 1;
	size_t n = len < pl ? len : pl;
	size_t i;

	*head_len = 0;
	if (memcmp(buf, CONNECT_LINE, n) != 0)
		return VG_HEAD_OTHER;
	if (len <= pl)
		return VG_HEAD_INCOMPLETE;
	if (buf[pl] != ' ' && buf[pl] != '?')
		return VG_HEAD_OTHER;
	if (len > max)
		len = max;
	for (i = pl; i + 4 <= len; i++) {
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			*head_len = i + 4;
			return VG_HEAD_CONNECT;
		}
	}
	return len >= max ? VG_HEAD_TOO_LONG : VG_HEAD_INCOMPLETE;
}
