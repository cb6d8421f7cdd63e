/* SPDX-License-Identifier: MIT */
/*
 * log.h - one line per event, with a level, to stderr or a file.
 * The logger is a context object owned by main() and passed down.
 */
#ifndef VGATE_CMD_LOG_H
#define VGATE_CMD_LOG_H

#include <stdio.h>

enum vg_log_level { VG_LOG_ERROR = 0, VG_LOG_WARN, VG_LOG_INFO, VG_LOG_DEBUG };

struct vg_log {
	FILE *out;
	enum vg_log_level level;
};

int vg_log_level_parse(const char *s, enum vg_log_level *out);
void vg_log(const struct vg_log *lg, enum vg_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
