/* SPDX-License-Identifier: MIT */
/*
 * log.h - one line per event, with a level, to stderr or a file.
 * The logger is a context object owned by main() and passed down.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 */
#ifndef VGATE_CMD_LOG_H
#define VGATE_CMD_LOG_H

#include <stdio.h>

enum vg_log_level { VG_LOG_ERROR = 0, VG_LOG_WARN, VG_LOG_INFO, VG_LOG_DEBUG };

struct vg_log {
	FILE *out;
	enum vg_log_level level;
};

/**
 * vg_log_level_parse() - "error", "warn" (or "warning"), "info", "debug"
 * @s:		text
 * @out:	the level
 *
 * Return: 0, or -1 for any other text
 */
int vg_log_level_parse(const char *s, enum vg_log_level *out);

/**
 * vg_log() - one line "TIME LEVEL message" when @lvl is at most the logger's
 * level; a failed write is ignored (there is nowhere else to report it)
 * @lg:		logger
 * @lvl:	level of the line
 * @fmt:	printf format
 */
void vg_log(const struct vg_log *lg, enum vg_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
