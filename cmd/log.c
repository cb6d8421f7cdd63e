/* SPDX-License-Identifier: MIT */
/*
 * log.c - leveled logging: "TIMESTAMP LEVEL message", one line per event,
 * flushed at once so a killed daemon loses nothing.
 */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

static const char *const names[] = { "error", "warn", "info", "debug" };

int vg_log_level_parse(const char *s, enum vg_log_level *out)
{
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum vg_log_level)i;
			return 0;
		}
	}
	if (!strcmp(s, "warning")) {
		*out = VG_LOG_WARN;
		return 0;
	}
	return -1;
}

void vg_log(const struct vg_log *lg, enum vg_log_level lvl, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	if (!lg || !lg->out || lvl > lg->level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(lg->out, "%s.%03ldZ %s ", when, ts.tv_nsec / 1000000, names[lvl]);
	va_start(ap, fmt);
	vfprintf(lg->out, fmt, ap);
	va_end(ap);
	fputc('\n', lg->out);
	fflush(lg->out);
}
