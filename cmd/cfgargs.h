/* SPDX-License-Identifier: MIT */
/*
 * cfgargs.h - building a struct vg_cfg_args (config.h), private to the
 * config file readers: vgate's own YAML (config.c) and gvproxy's
 * (gvconfig.c) both turn a YAML document into "--key=value" arguments with
 * these helpers. A leaf: cfgargs.c calls neither reader.
 *
 * Return convention (all of cmd/): 0, or -1 with a one-line message.
 */
#ifndef VGATE_CMD_CFGARGS_H
#define VGATE_CMD_CFGARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "cmd/config.h"

/**
 * vg_cfg_push() - append "--KEY=VAL" (or "--KEY" when @val is NULL)
 * @a:		arguments
 * @key:	option name
 * @val:	its value, or NULL for a switch
 * @line:	line in the file, for errors
 * @name:	file name, for errors
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 (VG_CFG_MAX_ARGS reached, out of memory)
 */
int vg_cfg_push(struct vg_cfg_args *a, const char *key, const char *val, int line, const char *name,
		char *err, size_t errlen);

/**
 * vg_cfg_bool() - a YAML 1.1/1.2 boolean (true/false, yes/no, on/off, 1/0)
 * @v:		text
 * @out:	its value
 *
 * Return: 0, or -1 when @v is none of them
 */
int vg_cfg_bool(const char *v, bool *out);

/**
 * vg_cfg_is_null() - whether a scalar node is YAML's null (plain "", ~, null)
 * @n:	scalar node
 *
 * Return: true for null
 */
bool vg_cfg_is_null(const yaml_node_t *n);

#endif
