/* SPDX-License-Identifier: MIT */
/*
 * api_policy.c - the control API's GET and PUT /policy: the forwarder's
 * outbound CIDR rules ("outbound-allow", "outbound-deny", the builtin
 * denies, the default) and the SNI filter's settings ("sni-filter",
 * "allow-sni", "sni-patterns", "allowlist-file", "sni-ports",
 * "allow-dest") and the split-DNS routes ("dns-upstream-for", as
 * "DOMAIN=ADDR:PORT" strings; the servers as configured, before the
 * outbound policy filters them).
 *
 * The policy and the filter belong to the daemon (struct api_ops:
 * policy_get, policy_set, sni, sni_set_allow); the route table answers 503
 * without policy_get. A PUT builds the new policy and checks every pattern
 * in heap buffers freed before returning; the daemon copies what it keeps.
 */
#include "api_int.h"
#include "cmd/dnsup.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pattern_json(void *ctx, const char *pattern)
{
	json_array_append_new(ctx, api_jstr(pattern));
}

/**
 * sni_json() - add the SNI filter's settings to a /policy object: whether it
 * is on, the --allow-sni patterns (what PUT replaces), the allowlist file,
 * every pattern in force (those and the file's), SNI ports, --allow-dest
 * @a:	API
 * @j:	the object
 */
static void sni_json(struct api *a, json_t *j)
{
	const struct sni_filter *f = a->cfg.ops.sni ? a->cfg.ops.sni(a->cfg.ops.ctx) : NULL;
	json_t *allow = json_array(), *active = json_array(), *ports = json_array();
	json_t *dest = json_array(), *file = json_null();
	const struct sni_config *c;
	size_t i;

	if (f) {
		c = sni_filter_config(f);
		for (i = 0; i < c->n_allow; i++)
			json_array_append_new(allow, api_jstr(c->allow[i]));
		allow_foreach(sni_filter_allowlist(f), pattern_json, active);
		for (i = 0; i < c->n_ports; i++)
			json_array_append_new(ports, json_integer(c->ports[i]));
		for (i = 0; i < c->n_dest; i++) {
			char buf[SNI_DEST_TEXT_MAX];

			sni_dest_format(&c->dest[i], buf, sizeof(buf));
			json_array_append_new(dest, json_string(buf));
		}
		if (c->allowlist_file) {
			json_decref(file);
			file = api_jstr(c->allowlist_file);
		}
	}
	json_object_set_new(j, "sni-filter", json_boolean(f != NULL));
	json_object_set_new(j, "allow-sni", allow);
	json_object_set_new(j, "sni-patterns", active);
	json_object_set_new(j, "allowlist-file", file);
	json_object_set_new(j, "sni-ports", ports);
	json_object_set_new(j, "allow-dest", dest);
}

/* the split-DNS routes as "DOMAIN=ADDR:PORT" strings, one per server */
static json_t *routes_json(struct api *a)
{
	const struct dns_config *c =
	    a->cfg.ops.dns_routes_get ? a->cfg.ops.dns_routes_get(a->cfg.ops.ctx) : NULL;
	json_t *arr = json_array();
	int i, k;

	for (i = 0; c && i < c->n_routes; i++) {
		for (k = 0; k < c->routes[i].n_servers; k++) {
			char srv[64], buf[340];

			vg_dnsup_format(&c->routes[i].servers[k], srv, sizeof(srv));
			snprintf(buf, sizeof(buf), "%s=%s", c->routes[i].domain, srv);
			json_array_append_new(arr, json_string(buf));
		}
	}
	return arr;
}

/**
 * policy_routes() - the "dns-upstream-for" list of a PUT /policy body
 * @c:		connection (for the 400)
 * @arr:	the list
 * @specs:	output: pointers into @arr's strings (VG_MAX_UPSTREAM_FOR)
 * @n:		output: their number
 * @ret:	the queued response when this fails
 *
 * Return: 0, or -1 when a 400 was sent
 */
static int policy_routes(struct MHD_Connection *c, json_t *arr, const char **specs, size_t *n,
			 enum MHD_Result *ret)
{
	char err[512];
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) > VG_MAX_UPSTREAM_FOR) {
		*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST,
				      "field 'dns-upstream-for' must be a list of at most %d "
				      "\"DOMAIN=ADDR[:PORT]\" strings",
				      VG_MAX_UPSTREAM_FOR);
		return -1;
	}
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v)) {
			*ret =
			    api_send_error(c, MHD_HTTP_BAD_REQUEST,
					   "field 'dns-upstream-for' item %zu must be a string", i);
			return -1;
		}
		specs[i] = json_string_value(v);
	}
	*n = json_array_size(arr);
	if (vg_dns_routes_check(specs, *n, err, sizeof(err)) < 0) {
		*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err);
		return -1;
	}
	return 0;
}

static json_t *policy_json(struct api *a)
{
	const struct fwd_policy *p = a->cfg.ops.policy_get(a->cfg.ops.ctx);
	json_t *allow = json_array(), *deny = json_array(), *builtin = json_array(), *j;
	size_t i;

	for (i = 0; i < p->n; i++) {
		char ip[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 8];

		if (p->rules[i].v6)
			inet_ntop(AF_INET6, p->rules[i].net6, ip, sizeof(ip));
		else
			inet_ntop(AF_INET, &p->rules[i].net, ip, sizeof(ip));
		snprintf(cidr, sizeof(cidr), "%s/%u", ip, p->rules[i].prefix);
		/* a built-in allow (--ec2-metadata-access) is not shown as a deny */
		if (p->rules[i].builtin && p->rules[i].allow)
			continue;
		json_array_append_new(p->rules[i].builtin ? builtin
				      : p->rules[i].allow ? allow
							  : deny,
				      json_string(cidr));
	}
	for (i = 0; fwd_policy_builtin6(i); i++) {
		const struct fwd_rule *r = fwd_policy_builtin6(i);
		char ip[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 8];

		inet_ntop(AF_INET6, r->net6, ip, sizeof(ip));
		snprintf(cidr, sizeof(cidr), "%s/%u", ip, r->prefix);
		json_array_append_new(builtin, json_string(cidr));
	}
	j = json_pack("{s:o, s:o, s:o, s:s}", "outbound-allow", allow, "outbound-deny", deny,
		      "builtin-deny", builtin, "default", p->n_allow ? "deny" : "allow");
	if (j) {
		sni_json(a, j);
		json_object_set_new(j, "dns-upstream-for", routes_json(a));
	}
	return j;
}

/**
 * policy_cidrs() - the CIDR lists of a PUT /policy body into @p; a list that
 * is not given is empty
 * @c:		connection (for the 400)
 * @o:		body
 * @p:		policy to fill
 * @ret:	the queued response when this fails
 *
 * Return: 0, or -1 when a 400 was sent
 */
static int policy_cidrs(struct MHD_Connection *c, json_t *o, struct fwd_policy *p,
			enum MHD_Result *ret)
{
	static const char *const lists[] = {"outbound-allow", "outbound-deny"};
	char err[256];
	size_t i, k;
	json_t *v;

	fwd_policy_init(p);
	for (k = 0; k < 2; k++) {
		json_t *arr = json_object_get(o, lists[k]);

		if (!arr)
			continue;
		if (!json_is_array(arr)) {
			*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST,
					      "field '%s' must be a list of CIDRs", lists[k]);
			return -1;
		}
		json_array_foreach(arr, i, v)
		{
			if (!json_is_string(v)) {
				*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST,
						      "field '%s' item %zu must be a string",
						      lists[k], i);
				return -1;
			}
			if (fwd_policy_add(p, k == 0, json_string_value(v), err, sizeof(err)) < 0) {
				*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err);
				return -1;
			}
		}
	}
	return 0;
}

/**
 * policy_patterns() - the "allow-sni" list of a PUT /policy body, each
 * pattern checked
 * @c:		connection (for the 400)
 * @arr:	the list
 * @pat:	output: pointers into @arr's strings
 * @n:		output: their number
 * @ret:	the queued response when this fails
 *
 * Return: 0, or -1 when a 400 was sent
 */
static int policy_patterns(struct MHD_Connection *c, json_t *arr, const char **pat, size_t *n,
			   enum MHD_Result *ret)
{
	char err[384];
	size_t i;
	json_t *v;

	if (!json_is_array(arr)) {
		*ret = api_send_error(
		    c, MHD_HTTP_BAD_REQUEST,
		    "field 'allow-sni' must be a list of patterns (NAME or *.SUFFIX)");
		return -1;
	}
	if (json_array_size(arr) > SNI_MAX_ALLOW_ARGS) {
		*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST,
				      "field 'allow-sni' has %zu patterns, at most %d (use an "
				      "allowlist file)",
				      json_array_size(arr), SNI_MAX_ALLOW_ARGS);
		return -1;
	}
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v)) {
			*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST,
					      "field 'allow-sni' item %zu must be a string", i);
			return -1;
		}
		if (allow_pattern_check(json_string_value(v), err, sizeof(err)) < 0) {
			*ret = api_send_error(c, MHD_HTTP_BAD_REQUEST,
					      "field 'allow-sni' item %zu: %s", i, err);
			return -1;
		}
		pat[i] = json_string_value(v);
	}
	*n = json_array_size(arr);
	return 0;
}

enum MHD_Result api_get_policy(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	(void)rq;
	return api_send_json(c, MHD_HTTP_OK, policy_json(a));
}

/*
 * PUT /policy: "outbound-allow"/"outbound-deny" replace the CIDR rules when
 * either is given (the other becomes empty); "allow-sni" replaces the SNI
 * patterns when given; "dns-upstream-for" replaces the split-DNS routes
 * when given (checked first; applied after the allowlist, before the CIDR
 * rules, which then filter the routes' servers too). Everything is checked
 * before anything changes, and the allowlist (which can still fail: its
 * file is re-read) goes first, so an error leaves both as they were. The other keys GET returns are
 * accepted and ignored, so a GET body can be edited and PUT back.
 */
enum MHD_Result api_put_policy(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	static const char *const keys[] = {"outbound-allow",
					   "outbound-deny",
					   "builtin-deny",
					   "default",
					   "allow-sni",
					   "sni-filter",
					   "sni-patterns",
					   "allowlist-file",
					   "sni-ports",
					   "allow-dest",
					   "dns-upstream-for",
					   NULL};
	enum MHD_Result ret = MHD_NO;
	const char **pat = NULL, *specs[VG_MAX_UPSTREAM_FOR];
	struct fwd_policy *p = NULL;
	json_t *o, *sni_arr, *routes;
	size_t nspecs = 0;
	bool cidrs;
	char err[512];
	size_t n = 0;

	if (!a->cfg.ops.policy_set)
		return api_send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the policy is read-only");
	o = api_body_object(c, rq, keys, &ret);
	if (!o)
		return ret;
	cidrs = json_object_get(o, "outbound-allow") || json_object_get(o, "outbound-deny");
	sni_arr = json_object_get(o, "allow-sni");
	routes = json_object_get(o, "dns-upstream-for");
	if (!cidrs && !sni_arr && !routes) {
		ret = api_send_error(c, MHD_HTTP_BAD_REQUEST,
				     "nothing to change: give 'outbound-allow'/'outbound-deny', "
				     "'allow-sni' and/or 'dns-upstream-for'");
		goto out;
	}
	p = malloc(sizeof(*p));
	pat = calloc(SNI_MAX_ALLOW_ARGS, sizeof(*pat));
	if (!p || !pat)
		goto out;
	if (cidrs && policy_cidrs(c, o, p, &ret) < 0)
		goto out;
	if (routes) {
		if (!a->cfg.ops.dns_routes_set) {
			ret = api_send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
					     "the DNS routes are read-only");
			goto out;
		}
		if (policy_routes(c, routes, specs, &nspecs, &ret) < 0)
			goto out;
	}
	if (sni_arr) {
		if (!a->cfg.ops.sni || !a->cfg.ops.sni_set_allow ||
		    !a->cfg.ops.sni(a->cfg.ops.ctx)) {
			ret = api_send_error(c, MHD_HTTP_CONFLICT,
					     "the SNI filter is off: it is turned on only at start "
					     "(--allow-sni or --allowlist-file), not at run time");
			goto out;
		}
		if (policy_patterns(c, sni_arr, pat, &n, &ret) < 0)
			goto out;
		err[0] = '\0';
		if (a->cfg.ops.sni_set_allow(a->cfg.ops.ctx, pat, n, err, sizeof(err)) < 0) {
			ret = api_send_error(c, MHD_HTTP_CONFLICT, "allowlist not changed: %s",
					     err[0] ? err : "refused");
			goto out;
		}
		api_log(a, VG_LOG_INFO, "allow-sni replaced: %zu patterns", n);
	}
	if (routes) {
		err[0] = '\0';
		if (a->cfg.ops.dns_routes_set(a->cfg.ops.ctx, specs, nspecs, err, sizeof(err)) <
		    0) {
			ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s",
					     err[0] ? err : "dns-upstream-for refused");
			goto out;
		}
		api_log(a, VG_LOG_INFO, "dns-upstream-for replaced: %zu servers", nspecs);
	}
	if (cidrs) {
		err[0] = '\0';
		if (a->cfg.ops.policy_set(a->cfg.ops.ctx, p, err, sizeof(err)) < 0) {
			ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s",
					     err[0] ? err : "policy refused");
			goto out;
		}
		api_log(a, VG_LOG_INFO, "policy replaced: %zu allow, %zu deny rules", p->n_allow,
			fwd_policy_n_deny(p));
	}
	ret = api_send_json(c, MHD_HTTP_OK, policy_json(a));
out:
	free(pat);
	free(p);
	json_decref(o);
	return ret;
}
