/* SPDX-License-Identifier: MIT */
/*
 * config.h - the YAML config file (--config FILE) as command line arguments.
 *
 * The file is one YAML mapping whose keys are the long option names
 * (without dashes). A scalar value becomes "--key=value"; a sequence of
 * scalars becomes one "--key=item" per item (for repeatable options such as
 * dns-upstream or outbound-allow); switches (options without a value) take
 * true/false. The arguments then run through the same option parser as the
 * command line, so every flag is a config key and every check applies.
 *
 * gvproxy's own config YAML (stack, interfaces, forwards, ...) is read as
 * such in gvproxy mode (cmd/gvproxy.h), by cmd/gvconfig.c, into the same
 * kind of arguments; outside gvproxy mode its keys are unknown keys.
 *
 * Ownership: vg_cfg_args_load() returns one heap object that owns every
 * string; option values point into it until vg_cfg_args_free().
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 */
#ifndef VGATE_CMD_CONFIG_H
#define VGATE_CMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define VG_CFG_MAX_ARGS	 512
#define VG_CFG_MAX_BYTES (1024 * 1024)

/**
 * struct vg_cfg_args - a config file as an argument vector
 * @argc:	number of @argv entries, @argv[0] is the file name
 * @argv:	"--key=value" strings (NULL-terminated)
 * @line:	1-based line of each argument in the file (for errors)
 * @gvproxy:	the file was gvproxy's format (then gvproxy's defaults,
 *		which its own config replaces, are not applied)
 */
struct vg_cfg_args {
	int argc;
	char *argv[VG_CFG_MAX_ARGS + 1];
	int line[VG_CFG_MAX_ARGS];
	bool gvproxy;
};

/**
 * vg_cfg_args_parse() - convert YAML text to arguments
 * @yaml:	text
 * @len:	its length
 * @name:	file name for argv[0] and error messages
 * @err:	one-line error naming the key and value
 * @errlen:	its size
 *
 * Return: the arguments, or NULL with @err set
 */
struct vg_cfg_args *vg_cfg_args_parse(const char *yaml, size_t len, const char *name, char *err,
				      size_t errlen);

/**
 * vg_cfg_args_parse_as() - vg_cfg_args_parse(), in gvproxy mode when
 * @gvproxy: a document with gvproxy's own keys is read as gvproxy's config
 * @yaml:	text
 * @len:	its length
 * @name:	file name for argv[0] and error messages
 * @gvproxy:	gvproxy mode
 * @err:	one-line error naming the key and value
 * @errlen:	its size
 *
 * Return: the arguments (->gvproxy set for gvproxy's format), or NULL
 */
struct vg_cfg_args *vg_cfg_args_parse_as(const char *yaml, size_t len, const char *name,
					 bool gvproxy, char *err, size_t errlen);

/**
 * vg_cfg_args_load() - read @path (at most VG_CFG_MAX_BYTES) and convert it
 * @path:	file
 * @gvproxy:	gvproxy mode (see vg_cfg_args_parse_as())
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: the arguments, or NULL with @err set
 */
struct vg_cfg_args *vg_cfg_args_load(const char *path, bool gvproxy, char *err, size_t errlen);

/**
 * vg_cfg_args_free() - free the arguments and their strings
 * @a:	arguments, may be NULL
 */
void vg_cfg_args_free(struct vg_cfg_args *a);

#endif
