/* SPDX-License-Identifier: MIT */
/*
 * gvconfig.c - gvproxy's config YAML → vgate arguments (gvconfig.h).
 *
 * How: one table per YAML mapping of gvproxy's config (the top level,
 * "stack", "interfaces", an SSH forward) names each key gvproxy knows and
 * the handler that turns its value into arguments (vg_cfg_push()); walk()
 * refuses keys outside the table and keys given twice. Null values are
 * skipped, as gvproxy's YAML decoder leaves the field empty. The host
 * alias may come from stack.hostIP, stack.nat and stack.gatewayVirtualIPs:
 * vgate has one, so they must agree (struct gv_ctx.alias). Nothing is kept
 * after vg_gvcfg_convert() returns; the strings are the arguments'.
 */
#include "gvconfig.h"
#include "cfgargs.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define GV_PATH_MAX 128 /* "stack.dns[3].records[12].regexp" */

/**
 * struct gv_ctx - one conversion
 * @doc:	the document
 * @a:		arguments being built
 * @name:	file name
 * @err:	error buffer
 * @errlen:	its size
 * @alias:	the host alias so far (network order), when @have_alias
 * @have_alias: a key set it
 */
struct gv_ctx {
	yaml_document_t *doc;
	struct vg_cfg_args *a;
	const char *name;
	char *err;
	size_t errlen;
	uint32_t alias;
	bool have_alias;
};

/* a handler: the value @v of the key at @path, for vgate option @opt */
typedef int (*gv_fn)(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt);

struct gv_key {
	const char *key;
	gv_fn fn;
	const char *opt; /* the vgate option, when the handler needs one */
};

/* a key path for messages, cut at GV_PATH_MAX (it only names the key) */
__attribute__((format(printf, 2, 3))) static void mkpath(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(out, GV_PATH_MAX, fmt, ap);
	va_end(ap);
}

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static int fail(struct gv_ctx *c, const yaml_node_t *n, const char *path, const char *what)
{
	snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->name, line_of(n), path, what);
	return -1;
}

static bool null_node(const yaml_node_t *v)
{
	return v->type == YAML_SCALAR_NODE && vg_cfg_is_null(v);
}

/**
 * scalar() - the text of a scalar node, or NULL with an error
 * @c:		conversion
 * @path:	key path, for the error
 * @v:		node
 *
 * Return: the text (NUL-free), or NULL
 */
static const char *scalar(struct gv_ctx *c, const char *path, const yaml_node_t *v)
{
	const char *s;

	if (v->type != YAML_SCALAR_NODE) {
		fail(c, v, path, "expected a value");
		return NULL;
	}
	s = (const char *)v->data.scalar.value;
	if (strlen(s) != v->data.scalar.length) {
		fail(c, v, path, "NUL in value");
		return NULL;
	}
	return s;
}

static int push(struct gv_ctx *c, const yaml_node_t *v, const char *opt, const char *val)
{
	return vg_cfg_push(c->a, opt, val, line_of(v), c->name, c->err, c->errlen);
}

/**
 * walk() - apply @keys to the mapping @m
 * @c:		conversion
 * @path:	the mapping's path ("" for the top level)
 * @m:		node
 * @keys:	what each known key does, NULL-terminated
 *
 * Return: 0, or -1 for a node that is not a mapping, an unknown or
 * repeated key, or a handler's error
 */
static int walk(struct gv_ctx *c, const char *path, yaml_node_t *m, const struct gv_key *keys)
{
	yaml_node_pair_t *p, *q;

	if (null_node(m))
		return 0;
	if (m->type != YAML_MAPPING_NODE)
		return fail(c, m, *path ? path : "top level", "expected a mapping");
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		char sub[GV_PATH_MAX];
		const struct gv_key *e;
		const char *key;

		if (!k || !v)
			return -1;
		if (k->type != YAML_SCALAR_NODE)
			return fail(c, k, *path ? path : "top level", "keys must be names");
		key = (const char *)k->data.scalar.value;
		mkpath(sub, "%s%s%s", path, *path ? "." : "", key);
		for (e = keys; e->key && strcmp(e->key, key); e++)
			;
		if (!e->key) {
			snprintf(c->err, c->errlen, "%s:%d: unknown key '%s' in a gvproxy config",
				 c->name, line_of(k), sub);
			return -1;
		}
		for (q = m->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = yaml_document_get_node(c->doc, q->key);

			if (k2 && k2->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k2->data.scalar.value, key))
				return fail(c, k, sub, "duplicate key");
		}
		if (!null_node(v) && e->fn(c, sub, v, e->opt) < 0)
			return -1;
	}
	return 0;
}

/* a value, as vgate option @opt */
static int h_str(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	const char *s = scalar(c, path, v);

	return s ? push(c, v, opt, s) : -1;
}

/* a boolean, as the switch @opt when true */
static int h_bool(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	const char *s = scalar(c, path, v);
	bool b;

	if (!s)
		return -1;
	if (vg_cfg_bool(s, &b) < 0)
		return fail(c, v, path, "expected true or false");
	return b ? push(c, v, opt, NULL) : 0;
}

/* a list of values (or one), each as @opt */
static int h_list(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	yaml_node_item_t *it;

	if (v->type == YAML_SCALAR_NODE)
		return h_str(c, path, v, opt);
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, path, "expected a list of values");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *it);

		if (!e || h_str(c, path, e, opt) < 0)
			return -1;
	}
	return 0;
}

/* gvproxy's logrus levels onto vgate's */
static int h_loglevel(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	static const char *const map[][2] = {
	    {"trace", "debug"},	 {"debug", "debug"}, {"info", "info"},	 {"warn", "warn"},
	    {"warning", "warn"}, {"error", "error"}, {"fatal", "error"}, {"panic", "error"},
	};
	const char *s = scalar(c, path, v);
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(s, map[i][0]))
			return push(c, v, opt, map[i][1]);
	return fail(c, v, path, "expected trace, debug, info, warning, error, fatal or panic");
}

/* a setting vgate has no equivalent for */
static int h_unsupported(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	(void)opt;
	return fail(c, v, path, "not supported by vgate");
}

/* a mapping checked for shape only (vpnKitUUIDMacAddresses: vpnkit's MACs) */
static int h_ignored_map(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	(void)opt;
	return v->type == YAML_MAPPING_NODE ? 0 : fail(c, v, path, "expected a mapping");
}

/**
 * set_alias() - the host alias from one more key: the first sets
 * --host-ip, the others must name the same address
 * @c:		conversion
 * @path:	key path
 * @v:		node, for the line
 * @s:		the address
 *
 * Return: 0, or -1
 */
static int set_alias(struct gv_ctx *c, const char *path, const yaml_node_t *v, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return fail(c, v, path, "expected an IPv4 address");
	if (!c->have_alias) {
		c->have_alias = true;
		c->alias = a.s_addr;
		return push(c, v, "host-ip", s);
	}
	if (a.s_addr != c->alias)
		return fail(c, v, path,
			    "differs from the host alias given before (vgate has one host "
			    "alias: stack.hostIP, the nat entry and gatewayVirtualIPs must agree)");
	return 0;
}

static int h_hostip(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	const char *s = scalar(c, path, v);

	(void)opt;
	return s ? set_alias(c, path, v, s) : -1;
}

/* stack.nat: vgate's host alias is exactly "ALIAS: 127.0.0.1" */
static int h_nat(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	yaml_node_pair_t *p;

	(void)opt;
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, path, "expected a mapping ADDRESS: 127.0.0.1");
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *t = yaml_document_get_node(c->doc, p->value);
		const char *from, *to;

		if (!k || !t || !(from = scalar(c, path, k)) || !(to = scalar(c, path, t)))
			return -1;
		if (strcmp(to, "127.0.0.1"))
			return fail(c, t, path,
				    "only ADDRESS: 127.0.0.1 (the host alias) is supported");
		if (set_alias(c, path, k, from) < 0)
			return -1;
	}
	return 0;
}

/* stack.gatewayVirtualIPs: vgate answers ARP for the gateway and the host alias */
static int h_vips(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	yaml_node_item_t *it;

	(void)opt;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, path, "expected a list of addresses");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *it);
		const char *s;

		if (!e || !(s = scalar(c, path, e)) || set_alias(c, path, e, s) < 0)
			return -1;
	}
	return 0;
}

/* stack.dhcpStaticLeases: IP: MAC */
static int h_leases(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	yaml_node_pair_t *p;

	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, path, "expected a mapping IP: MAC");
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *t = yaml_document_get_node(c->doc, p->value);
		const char *ip, *mac;
		char buf[96];

		if (!k || !t || !(ip = scalar(c, path, k)) || !(mac = scalar(c, path, t)))
			return -1;
		if (snprintf(buf, sizeof(buf), "%s=%s", mac, ip) >= (int)sizeof(buf))
			return fail(c, k, path, "value too long");
		if (push(c, k, opt, buf) < 0)
			return -1;
	}
	return 0;
}

/* the last ":" of @s splits host and port; both must be there */
static int split_port(const char *s, char *host, size_t hostlen, const char **port)
{
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s || !colon[1] || (size_t)(colon - s) >= hostlen)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = colon + 1;
	return 0;
}

/* stack.forwards: "HOST:PORT": "GUEST:PORT" (TCP, to the guest's lease) */
static int h_portfwd(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	yaml_node_pair_t *p;

	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, path, "expected a mapping HOST:PORT: GUEST:PORT");
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *t = yaml_document_get_node(c->doc, p->value);
		char host[64], guest[64], buf[160];
		const char *from, *to, *hport, *gport;

		if (!k || !t || !(from = scalar(c, path, k)) || !(to = scalar(c, path, t)))
			return -1;
		if (strstr(from, "://") || split_port(from, host, sizeof(host), &hport) < 0)
			return fail(c, k, path, "the host side must be ADDRESS:PORT (TCP)");
		if (split_port(to, guest, sizeof(guest), &gport) < 0)
			return fail(c, t, path, "the guest side must be ADDRESS:PORT");
		snprintf(buf, sizeof(buf), "tcp:%s:%s:%s", host, hport, gport);
		if (push(c, k, opt, buf) < 0)
			return -1;
	}
	return 0;
}

/* stack.dnsSearchDomains: one --dhcp-search, space separated */
static int h_search(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	yaml_node_item_t *it;
	char list[256];
	size_t n = 0;

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, path, "expected a list of domains");
	list[0] = '\0';
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *it);
		const char *s;
		size_t len;

		if (!e || !(s = scalar(c, path, e)))
			return -1;
		len = strlen(s);
		if (!len || strchr(s, ' ') || n + (n > 0) + len >= sizeof(list))
			return fail(c, e, path, "bad or too many domains (255 bytes in all)");
		if (n > 0)
			list[n++] = ' ';
		memcpy(list + n, s, len + 1);
		n += len;
	}
	return n ? push(c, v, opt, list) : 0;
}

/* stack.blockAllOutbound: deny every destination, both families */
static int h_block(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	const char *s = scalar(c, path, v);
	bool b;

	(void)opt;
	if (!s)
		return -1;
	if (vg_cfg_bool(s, &b) < 0)
		return fail(c, v, path, "expected true or false");
	if (!b)
		return 0;
	return push(c, v, "outbound-deny", "0.0.0.0/0") < 0 ? -1
							    : push(c, v, "outbound-deny", "::/0");
}

/**
 * child() - the value of key @key of mapping @m, or NULL
 * @c:		conversion
 * @m:		mapping node
 * @key:	key
 *
 * Return: the value node (NULL also when it is null)
 */
static yaml_node_t *child(struct gv_ctx *c, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);

		if (k && v && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return null_node(v) ? NULL : v;
	}
	return NULL;
}

/* a record's and a zone's keys: checked by walk(), used through child() */
static int h_take(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	(void)c;
	(void)path;
	(void)v;
	(void)opt;
	return 0;
}

static const struct gv_key record_keys[] = {
    {"name", h_take, NULL},
    {"ip", h_take, NULL},
    {"regexp", h_unsupported, NULL},
    {NULL, NULL, NULL},
};

static const struct gv_key zone_keys[] = {
    {"name", h_take, NULL},
    {"records", h_take, NULL},
    {"defaultIP", h_unsupported, NULL},
    {NULL, NULL, NULL},
};

/**
 * zone_records() - the records of one zone as --dns-record NAME.ZONE=IP
 * @c:		conversion
 * @path:	the zone's path, e.g. "stack.dns[0]"
 * @z:		the zone's mapping (keys checked)
 *
 * Return: 0, or -1
 */
static int zone_records(struct gv_ctx *c, const char *path, yaml_node_t *z)
{
	yaml_node_t *zn = child(c, z, "name"), *recs = child(c, z, "records");
	char zone[256], sub[GV_PATH_MAX];
	yaml_node_item_t *it;
	const char *s = "";
	size_t n;
	int i = 0;

	mkpath(sub, "%s.name", path);
	if (zn && !(s = scalar(c, sub, zn)))
		return -1;
	n = strlen(s);
	if (n >= sizeof(zone))
		return fail(c, zn, sub, "name too long");
	memcpy(zone, s, n + 1);
	if (n && zone[n - 1] == '.')
		zone[n - 1] = '\0';
	if (!recs)
		return 0;
	mkpath(sub, "%s.records", path);
	if (recs->type != YAML_SEQUENCE_NODE)
		return fail(c, recs, sub, "expected a list of records");
	for (it = recs->data.sequence.items.start; it < recs->data.sequence.items.top; it++, i++) {
		yaml_node_t *r = yaml_document_get_node(c->doc, *it), *rn, *rip;
		char rpath[GV_PATH_MAX], rec[600];
		const char *name = "", *ip;

		if (!r)
			return -1;
		mkpath(rpath, "%s.records[%d]", path, i);
		if (walk(c, rpath, r, record_keys) < 0)
			return -1;
		if (r->type != YAML_MAPPING_NODE)
			continue; /* null */
		rn = child(c, r, "name");
		rip = child(c, r, "ip");
		if (!rip)
			return fail(c, r, rpath, "a record needs an ip");
		if ((rn && !(name = scalar(c, rpath, rn))) || !(ip = scalar(c, rpath, rip)))
			return -1;
		snprintf(rec, sizeof(rec), "%s%s%s=%s", name, *name && *zone ? "." : "", zone, ip);
		if (!*name && !*zone)
			return fail(c, r, rpath, "a record needs a name or its zone one");
		if (push(c, rip, "dns-record", rec) < 0)
			return -1;
	}
	return 0;
}

/* stack.dns: a list of zones with records */
static int h_zones(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	yaml_node_item_t *it;
	int i = 0;

	(void)opt;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, path, "expected a list of zones");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, i++) {
		yaml_node_t *z = yaml_document_get_node(c->doc, *it);
		char zpath[GV_PATH_MAX];

		if (!z)
			return -1;
		mkpath(zpath, "%s[%d]", path, i);
		if (walk(c, zpath, z, zone_keys) < 0)
			return -1;
		if (z->type == YAML_MAPPING_NODE && zone_records(c, zpath, z) < 0)
			return -1;
	}
	return 0;
}

static const struct gv_key stack_keys[] = {
    {"debug", h_bool, "debug"},
    {"capture-file", h_str, "pcap"},
    {"mtu", h_str, "mtu"},
    {"subnet", h_str, "subnet"},
    {"gatewayIP", h_str, "gateway-ip"},
    {"deviceIP", h_str, "device-ip"},
    {"hostIP", h_hostip, NULL},
    {"gatewayMacAddress", h_str, "gateway-mac"},
    {"gatewayIPv6", h_unsupported, NULL},
    {"dns", h_zones, NULL},
    {"dnsSearchDomains", h_search, "dhcp-search"},
    {"forwards", h_portfwd, "forward"},
    {"nat", h_nat, NULL},
    {"gatewayVirtualIPs", h_vips, NULL},
    {"dhcpStaticLeases", h_leases, "dhcp-static-lease"},
    {"vpnKitUUIDMacAddresses", h_ignored_map, NULL},
    {"ec2MetadataAccess", h_bool, "ec2-metadata-access"},
    {"blockAllOutbound", h_block, NULL},
    {NULL, NULL, NULL},
};

static const struct gv_key iface_keys[] = {
    {"vpnkit", h_str, "listen-vpnkit"}, {"qemu", h_str, "listen-qemu"},
    {"bess", h_str, "listen-bess"},	{"stdio", h_str, "listen-stdio"},
    {"vfkit", h_str, "listen-vfkit"},	{NULL, NULL, NULL},
};

static const struct gv_key sshfwd_keys[] = {
    {"socket", h_str, "forward-sock"},
    {"dest", h_str, "forward-dest"},
    {"user", h_str, "forward-user"},
    {"identity", h_str, "forward-identity"},
    {NULL, NULL, NULL},
};

static int h_stack(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	(void)opt;
	return walk(c, path, v, stack_keys);
}

static int h_ifaces(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	(void)opt;
	return walk(c, path, v, iface_keys);
}

/* forwards: SSH socket forwards, each with all four fields (paired by order) */
static int h_sshfwds(struct gv_ctx *c, const char *path, yaml_node_t *v, const char *opt)
{
	static const char *const need[] = {"socket", "dest", "user", "identity"};
	yaml_node_item_t *it;
	int i = 0;
	size_t k;

	(void)opt;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, path, "expected a list of forwards");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, i++) {
		yaml_node_t *f = yaml_document_get_node(c->doc, *it);
		char fpath[GV_PATH_MAX];

		if (!f)
			return -1;
		mkpath(fpath, "%s[%d]", path, i);
		if (f->type != YAML_MAPPING_NODE)
			return fail(c, f, fpath, "expected socket, dest, user and identity");
		for (k = 0; k < sizeof(need) / sizeof(need[0]); k++)
			if (!child(c, f, need[k]))
				return fail(c, f, fpath, "needs socket, dest, user and identity");
		if (walk(c, fpath, f, sshfwd_keys) < 0)
			return -1;
	}
	return 0;
}

static const struct gv_key top_keys[] = {
    {"listen", h_list, "listen"},
    {"log-level", h_loglevel, "log-level"},
    {"stack", h_stack, NULL},
    {"interfaces", h_ifaces, NULL},
    {"forwards", h_sshfwds, NULL},
    {"pid-file", h_str, "pid-file"},
    {"log-file", h_str, "log-file"},
    {"services", h_str, "services"},
    {"ec2-metadata-access", h_bool, "ec2-metadata-access"},
    {"notification", h_str, "notification"},
    {NULL, NULL, NULL},
};

bool vg_gvcfg_detect(yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_pair_t *p;

	if (!root || root->type != YAML_MAPPING_NODE)
		return false;
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		const char *key;

		if (!k || k->type != YAML_SCALAR_NODE)
			continue;
		key = (const char *)k->data.scalar.value;
		if (!strcmp(key, "stack") || !strcmp(key, "interfaces") || !strcmp(key, "forwards"))
			return true;
	}
	return false;
}

int vg_gvcfg_convert(yaml_document_t *doc, struct vg_cfg_args *a, const char *name, char *err,
		     size_t errlen)
{
	struct gv_ctx c = {.doc = doc, .a = a, .name = name, .err = err, .errlen = errlen};
	yaml_node_t *root = yaml_document_get_root_node(doc);

	if (!root)
		return 0;
	return walk(&c, "", root, top_keys);
}
