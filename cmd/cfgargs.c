/* SPDX-License-Identifier: MIT */
/*
 * cfgargs.c - the argument vector both config readers build (cfgargs.h):
 * appending "--key=value" strings (each its own heap string, owned by the
 * struct vg_cfg_args until vg_cfg_args_free()), and the YAML scalar forms
 * they share (booleans, null).
 */
#include "cfgargs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vg_cfg_args_free(struct vg_cfg_args *a)
{
	int i;

	if (!a)
		return;
	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a);
}

int vg_cfg_push(struct vg_cfg_args *a, const char *key, const char *val, int line, const char *name,
		char *err, size_t errlen)
{
	size_t n;
	char *s;

	if (a->argc >= VG_CFG_MAX_ARGS) {
		snprintf(err, errlen, "%s:%d: too many values (max %d)", name, line,
			 VG_CFG_MAX_ARGS - 1);
		return -1;
	}
	n = strlen(key) + (val ? strlen(val) + 1 : 0) + 3;
	s = malloc(n);
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (val)
		snprintf(s, n, "--%s=%s", key, val);
	else
		snprintf(s, n, "--%s", key);
	a->line[a->argc] = line;
	a->argv[a->argc++] = s;
	return 0;
}

/* true/false for switches, as YAML 1.1 and 1.2 spell them */
int vg_cfg_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On", "1"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "off", "Off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

bool vg_cfg_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}
