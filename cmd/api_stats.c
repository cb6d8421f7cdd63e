/* SPDX-License-Identifier: MIT */
/*
 * api_stats.c - the control API's read-only state endpoints: GET /stats
 * (every counter as JSON), GET /metrics (the same, Prometheus text) and
 * GET /leases (DHCP leases). /stats also carries gvproxy's BytesSent and
 * BytesReceived (bytes of frames to and from the guest) at its top level.
 *
 * Counters are collected fresh per request into a heap struct vg_metrics
 * (metrics.h) from the netstack, the DNS service and, when the daemon
 * provides them (struct api_ops), the forwarder, the policy and optional
 * modules; nothing is kept between requests. /stats also lists every DNS
 * upstream server with its own counters ("dns_upstreams": domain "" for the
 * default upstreams, else the split-DNS domain it serves).
 */
#include "api_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/dnsup.h"
#include "cmd/metrics.h"
#include "common/netutil.h"

#define MAX_LEASES NS_LEASES_MAX

/* every group of counters into @ms */
static void collect(struct api *a, struct vg_metrics *ms)
{
	struct vg_metric api_row = {
	    .group = "api",
	    .key = "fd_exhausted",
	    .family = "api_fd_exhausted",
	    .help = "Control API accepts that found no free fd (the listener pauses).",
	    .value = a->fd_exhausted,
	};
	struct ns_stats ns;
	struct dns_stats ds;
	struct fwd_stats fs;
	bool have_fwd = a->cfg.ops.fwd_stats != NULL;

	ns_get_stats(a->cfg.ns, &ns);
	dns_get_stats(a->cfg.dns, &ds);
	if (have_fwd)
		a->cfg.ops.fwd_stats(a->cfg.ops.ctx, &fs);
	vg_metrics_init(ms);
	vg_metrics_add_ns(ms, &ns);
	vg_metrics_add_dns(ms, &ds);
	if (have_fwd)
		vg_metrics_add_fwd(ms, &fs);
	if (a->cfg.ops.policy_get)
		vg_metrics_add_policy(ms, a->cfg.ops.policy_get(a->cfg.ops.ctx),
				      have_fwd ? &fs : NULL, &ds);
	if (a->cfg.ops.extra_metrics)
		a->cfg.ops.extra_metrics(a->cfg.ops.ctx, ms);
	vg_metrics_add(ms, &api_row);
}

/* the "dns_upstreams" list of /stats: one object per upstream server */
static json_t *upstreams_json(struct api *a)
{
	struct dns_upstream_stats *us = calloc(DNS_MAX_SERVERS, sizeof(*us));
	json_t *arr = json_array();
	int i, n;

	if (!us || !arr) {
		free(us);
		return arr;
	}
	n = dns_get_upstream_stats(a->cfg.dns, us, DNS_MAX_SERVERS);
	for (i = 0; i < n && i < DNS_MAX_SERVERS; i++) {
		char srv[64];

		vg_dnsup_format(&us[i].server, srv, sizeof(srv));
		json_array_append_new(
		    arr, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "domain", us[i].domain,
				   "server", srv, "queries", (json_int_t)us[i].queries, "answers",
				   (json_int_t)us[i].answers, "timeouts",
				   (json_int_t)us[i].timeouts, "errors", (json_int_t)us[i].errors));
	}
	free(us);
	return arr;
}

enum MHD_Result api_get_stats(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	struct vg_metrics *ms = malloc(sizeof(*ms));
	json_t *j;

	(void)rq;
	if (!ms)
		return MHD_NO;
	collect(a, ms);
	j = vg_metrics_json(ms);
	free(ms);
	if (j) {
		struct ns_stats ns;

		json_object_set_new(j, "dns_upstreams", upstreams_json(a));
		/* gvproxy's two top-level counters: bytes to and from the VM */
		ns_get_stats(a->cfg.ns, &ns);
		json_object_set_new(j, "BytesSent", json_integer((json_int_t)ns.tx_bytes));
		json_object_set_new(j, "BytesReceived", json_integer((json_int_t)ns.rx_bytes));
	}
	return api_send_json(c, MHD_HTTP_OK, j);
}

enum MHD_Result api_get_metrics(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	struct vg_metrics *ms = malloc(sizeof(*ms));
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	(void)rq;
	if (!ms)
		return MHD_NO;
	collect(a, ms);
	f = open_memstream(&buf, &len);
	if (!f) {
		free(ms);
		return MHD_NO;
	}
	rc = vg_metrics_prometheus(ms, f);
	free(ms);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return MHD_NO;
	}
	return api_send_text(c, MHD_HTTP_OK, buf, len, "text/plain; version=0.0.4; charset=utf-8");
}

enum MHD_Result api_get_leases(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	struct ns_lease *ls = calloc(MAX_LEASES, sizeof(*ls));
	uint64_t now = vg_loop_now(a->cfg.loop);
	json_t *arr = json_array();
	size_t i, n;

	(void)rq;
	if (!ls || !arr) {
		free(ls);
		json_decref(arr);
		return MHD_NO;
	}
	n = ns_leases(a->cfg.ns, ls, MAX_LEASES);
	for (i = 0; i < n; i++) {
		char ip[INET6_ADDRSTRLEN], mac[VG_MAC_STRLEN];

		if (ls[i].family == NS_AF_INET6)
			inet_ntop(AF_INET6, ls[i].ip6, ip, sizeof(ip));
		else
			inet_ntop(AF_INET, &ls[i].ip, ip, sizeof(ip));
		vg_mac_format(ls[i].mac, mac);
		json_array_append_new(
		    arr,
		    json_pack("{s:s, s:s, s:o, s:s, s:I}", "mac", mac, "ip", ip, "hostname",
			      api_jstr(ls[i].hostname), "state",
			      ls[i].expires_ms ? "bound" : "offered", "expires_in",
			      (json_int_t)(ls[i].expires_ms > now ? (ls[i].expires_ms - now) / 1000
								  : 0)));
	}
	free(ls);
	return api_send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "leases", arr));
}
