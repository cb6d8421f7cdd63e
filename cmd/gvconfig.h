/* SPDX-License-Identifier: MIT */
/*
 * gvconfig.h - gvproxy's own -config YAML read as vgate arguments (private
 * to the config reader, config.c; config.h is the contract).
 *
 * In gvproxy mode (cmd/gvproxy.h) a config file whose top level has one of
 * gvproxy's own keys (stack, interfaces, forwards) is read as gvproxy's
 * format (gvproxy's cmd/gvproxy/config.go and pkg/types/configuration.go):
 * each setting becomes the vgate argument that does the same, so every
 * check of the option parser applies; a key gvproxy does not have, or one
 * vgate cannot honour (gatewayIPv6, regexp or defaultIP DNS records, a NAT
 * entry other than the host alias to 127.0.0.1, a forward whose host side
 * is not ADDR:PORT), is an error naming FILE:LINE and the key's path
 * (e.g. 'stack.dns[0].records[1].regexp').
 */
#ifndef VGATE_CMD_GVCONFIG_H
#define VGATE_CMD_GVCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "cmd/config.h"

/**
 * vg_gvcfg_detect() - whether a YAML document is gvproxy's format: a
 * mapping with a top-level key stack, interfaces or forwards
 * @doc:	loaded document
 *
 * Return: true for gvproxy's format
 */
bool vg_gvcfg_detect(yaml_document_t *doc);

/**
 * vg_gvcfg_convert() - append the arguments of gvproxy's config @doc
 * @doc:	loaded document (vg_gvcfg_detect() true)
 * @a:		arguments
 * @name:	file name, for errors
 * @err:	one-line error: file, line, key path, value
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_gvcfg_convert(yaml_document_t *doc, struct vg_cfg_args *a, const char *name, char *err,
		     size_t errlen);

#endif
