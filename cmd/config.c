/* SPDX-License-Identifier: MIT */
/*
 * config.c - YAML config file → "--key=value" arguments, with libyaml's
 * document API (the whole file is small and bounded: VG_CFG_MAX_BYTES,
 * VG_CFG_MAX_ARGS). Which keys exist and whether they take a value comes
 * from the option table (vg_option_arg()), so the file and the command line
 * can never disagree. Errors name the file, line, key and value. In gvproxy
 * mode a file in gvproxy's own format is handed to gvconfig.c instead; the
 * argument vector both build is cfgargs.c's.
 */
#include "config.h"
#include "cfgargs.h"
#include "gvconfig.h"
#include "options.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/**
 * add_value() - turn one scalar value of @key into an argument
 * @a:		arguments
 * @key:	option name
 * @has_arg:	from vg_option_arg()
 * @v:		scalar node
 * @name:	file name
 * @err:	error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int add_value(struct vg_cfg_args *a, const char *key, int has_arg, const yaml_node_t *v,
		     const char *name, char *err, size_t errlen)
{
	const char *val = (const char *)v->data.scalar.value;
	int line = (int)v->start_mark.line + 1;
	bool b;

	if (has_arg) {
		if (vg_cfg_is_null(v)) {
			snprintf(err, errlen, "%s:%d: key '%s' needs a value", name, line, key);
			return -1;
		}
		if (strlen(val) != v->data.scalar.length) {
			snprintf(err, errlen, "%s:%d: invalid %s (NUL in value)", name, line, key);
			return -1;
		}
		return vg_cfg_push(a, key, val, line, name, err, errlen);
	}
	if (vg_cfg_bool(val, &b) < 0) {
		snprintf(err, errlen, "%s:%d: invalid %s '%s' (expected true or false)", name, line,
			 key, val);
		return -1;
	}
	return b ? vg_cfg_push(a, key, NULL, line, name, err, errlen) : 0;
}

static int convert(yaml_document_t *doc, struct vg_cfg_args *a, const char *name, char *err,
		   size_t errlen)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_pair_t *p, *q;

	if (!root)
		return 0; /* empty file */
	if (root->type == YAML_SCALAR_NODE && vg_cfg_is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "%s:%d: expected a mapping of option: value", name,
			 (int)root->start_mark.line + 1);
		return -1;
	}
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *key;
		yaml_node_item_t *it;
		int has_arg, line;

		if (!k || !v)
			return -1;
		line = (int)k->start_mark.line + 1;
		if (k->type != YAML_SCALAR_NODE) {
			snprintf(err, errlen, "%s:%d: keys must be option names", name, line);
			return -1;
		}
		key = (const char *)k->data.scalar.value;
		has_arg = vg_option_arg(key);
		if (has_arg < 0 || !strcmp(key, "config") || !strcmp(key, "help") ||
		    !strcmp(key, "version")) {
			bool gv = !strcmp(key, "stack") || !strcmp(key, "interfaces") ||
				  !strcmp(key, "forwards");

			snprintf(err, errlen, "%s:%d: unknown key '%s'%s", name, line, key,
				 gv ? " (gvproxy's config format: start vgate as gvproxy or with "
				      "--gvproxy-defaults)"
				    : "");
			return -1;
		}
		for (q = root->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = yaml_document_get_node(doc, q->key);

			if (k2 && k2->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k2->data.scalar.value, key)) {
				snprintf(err, errlen, "%s:%d: duplicate key '%s'", name, line, key);
				return -1;
			}
		}
		switch (v->type) {
		case YAML_SCALAR_NODE:
			if (add_value(a, key, has_arg, v, name, err, errlen) < 0)
				return -1;
			break;
		case YAML_SEQUENCE_NODE:
			for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
			     it++) {
				yaml_node_t *e = yaml_document_get_node(doc, *it);

				if (!e || e->type != YAML_SCALAR_NODE) {
					snprintf(err, errlen,
						 "%s:%d: %s: list items must be values", name, line,
						 key);
					return -1;
				}
				if (add_value(a, key, has_arg, e, name, err, errlen) < 0)
					return -1;
			}
			break;
		default:
			snprintf(err, errlen, "%s:%d: %s: expected a value or a list of values",
				 name, line, key);
			return -1;
		}
	}
	return 0;
}

struct vg_cfg_args *vg_cfg_args_parse(const char *yaml, size_t len, const char *name, char *err,
				      size_t errlen)
{
	return vg_cfg_args_parse_as(yaml, len, name, false, err, errlen);
}

struct vg_cfg_args *vg_cfg_args_parse_as(const char *yaml, size_t len, const char *name,
					 bool gvproxy, char *err, size_t errlen)
{
	struct vg_cfg_args *a;
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc;

	a = calloc(1, sizeof(*a));
	if (!a || !(a->argv[0] = strdup(name))) {
		free(a);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	a->argc = 1;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: cannot initialise the YAML parser", name);
		vg_cfg_args_free(a);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%d: YAML error: %s", name,
			 (int)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "malformed");
		yaml_parser_delete(&parser);
		vg_cfg_args_free(a);
		return NULL;
	}
	a->gvproxy = gvproxy && vg_gvcfg_detect(&doc);
	rc = a->gvproxy ? vg_gvcfg_convert(&doc, a, name, err, errlen)
			: convert(&doc, a, name, err, errlen);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		vg_cfg_args_free(a);
		return NULL;
	}
	a->argv[a->argc] = NULL;
	return a;
}

struct vg_cfg_args *vg_cfg_args_load(const char *path, bool gvproxy, char *err, size_t errlen)
{
	struct vg_cfg_args *a;
	size_t len;
	char *buf;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read --config '%s': %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(VG_CFG_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "cannot read --config '%s': out of memory", path);
		return NULL;
	}
	len = fread(buf, 1, VG_CFG_MAX_BYTES + 1, f);
	if (ferror(f) || len > VG_CFG_MAX_BYTES) {
		snprintf(err, errlen, "cannot read --config '%s': %s", path,
			 ferror(f) ? strerror(errno) : "larger than 1 MiB");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	a = vg_cfg_args_parse_as(buf, len, path, gvproxy, err, errlen);
	free(buf);
	return a;
}
