/* SPDX-License-Identifier: MIT */
/*
 * api_dns.c - the control API's DNS endpoints: GET /dns/cache (entries
 * with their remaining TTL), POST /dns/cache/flush, and GET, POST, DELETE
 * /dns/records (the static records, {"name", "ip"}).
 *
 * Everything goes through dns.h (dns_cache_foreach, dns_add_record, ...);
 * this file only turns it into JSON and the errors into statuses: a bad
 * name 400, a duplicate or a full table 409, no such record 404.
 */
#include "api_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *api_dns_type_name(unsigned int type, char *buf, size_t len)
{
	static const struct {
		unsigned int t;
		const char *n;
	} names[] = {{1, "A"},	     {2, "NS"},	    {5, "CNAME"},  {6, "SOA"},
		     {12, "PTR"},    {15, "MX"},    {16, "TXT"},   {28, "AAAA"},
		     {33, "SRV"},    {35, "NAPTR"}, {43, "DS"},	   {46, "RRSIG"},
		     {48, "DNSKEY"}, {64, "SVCB"},  {65, "HTTPS"}, {257, "CAA"}};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].t == type)
			return names[i].n;
	}
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}

static void cache_item(void *ctx, const struct dns_cache_item *it)
{
	static const char *const rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN"};
	json_t *arr = ctx;
	char tbuf[16];

	json_array_append_new(arr, json_pack("{s:o, s:s, s:s, s:b, s:I, s:i, s:b, s:b, s:b, s:b}",
					     "name", api_jstr(it->name), "type",
					     api_dns_type_name(it->type, tbuf, sizeof(tbuf)),
					     "rcode", it->rcode < 4 ? rcodes[it->rcode] : "OTHER",
					     "negative", it->negative, "ttl", (json_int_t)it->ttl_s,
					     "answers", (int)it->ancount, "stale", it->ttl_s < 0,
					     "cd", it->cd, "dnssec", it->dnssec, "ad", it->ad));
}

enum MHD_Result api_get_dns_cache(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	json_t *arr = json_array();
	json_int_t n;

	(void)rq;
	if (!arr)
		return MHD_NO;
	dns_cache_foreach(a->cfg.dns, cache_item, arr);
	n = (json_int_t)json_array_size(arr);
	return api_send_json(c, MHD_HTTP_OK, json_pack("{s:I, s:o}", "count", n, "entries", arr));
}

enum MHD_Result api_flush_dns_cache(struct api *a, struct MHD_Connection *c,
				    const struct api_req *rq)
{
	(void)rq;
	dns_cache_flush(a->cfg.dns);
	api_log(a, VG_LOG_INFO, "dns cache flushed");
	return api_send_json(c, MHD_HTTP_OK, json_pack("{s:b}", "flushed", 1));
}

static void record_item(void *ctx, const struct dns_record *r)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(r->addr.family, r->addr.a, ip, sizeof(ip));
	json_array_append_new(ctx, json_pack("{s:o, s:s}", "name", api_jstr(r->name), "ip", ip));
}

static int parse_dns_addr(const char *s, struct dns_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

enum MHD_Result api_get_records(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	json_t *arr = json_array();

	(void)rq;
	if (!arr)
		return MHD_NO;
	dns_list_records(a->cfg.dns, record_item, arr);
	return api_send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "records", arr));
}

/**
 * api_edit_records() - POST (add one record: "name" and "ip" required) or
 * DELETE (@rq->removes: remove the name's records, or only the one with "ip")
 * @a:		API
 * @c:		connection
 * @rq:		request
 *
 * Return: MHD_YES when a response was queued, MHD_NO to close
 */
enum MHD_Result api_edit_records(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	static const char *const keys[] = {"name", "ip", NULL};
	bool add = !rq->removes;
	enum MHD_Result ret = MHD_NO;
	struct dns_addr addr;
	const char *name, *ip;
	json_t *o;
	int rc;

	o = api_body_object(c, rq, keys, &ret);
	if (!o)
		return ret;
	name = api_str_field(o, "name");
	ip = api_str_field(o, "ip");
	if (!name || !*name) {
		ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "field 'name' (string) is required");
		goto out;
	}
	if ((ip || add) && (!ip || parse_dns_addr(ip, &addr) < 0)) {
		ret = api_send_error(c, MHD_HTTP_BAD_REQUEST,
				     "field 'ip' must be an IPv4 or IPv6 "
				     "address, got %s",
				     ip ? ip : "nothing");
		goto out;
	}
	if (add) {
		rc = dns_add_record(a->cfg.dns, name, &addr);
		if (rc == -EINVAL)
			ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "invalid name '%s'", name);
		else if (rc == -EEXIST)
			ret = api_send_error(c, MHD_HTTP_CONFLICT, "record %s %s exists", name, ip);
		else if (rc < 0)
			ret = api_send_error(c, MHD_HTTP_CONFLICT, "record table full");
		else {
			api_log(a, VG_LOG_INFO, "dns record added: %s %s", name, ip);
			ret = api_send_json(c, MHD_HTTP_CREATED,
					    json_pack("{s:s, s:s}", "name", name, "ip", ip));
		}
	} else {
		rc = dns_remove_record(a->cfg.dns, name, ip ? &addr : NULL);
		if (rc <= 0)
			ret = api_send_error(c, MHD_HTTP_NOT_FOUND, "no record %s%s%s", name,
					     ip ? " " : "", ip ? ip : "");
		else {
			api_log(a, VG_LOG_INFO, "dns records removed: %s (%d)", name, rc);
			ret = api_send_json(c, MHD_HTTP_OK, json_pack("{s:i}", "removed", rc));
		}
	}
out:
	json_decref(o);
	return ret;
}
