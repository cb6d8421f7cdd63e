/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_metrics.c - Prometheus text and JSON formatting of the counter
 * list (cmd/metrics.c): names, _total on counters, HELP/TYPE once per
 * family, labels, and the JSON grouping.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/metrics.h"

static char *prom(const struct vg_metrics *ms)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(vg_metrics_prometheus(ms, f), 0);
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(metrics, prometheus_format)
{
	struct vg_metrics ms;
	struct ns_stats ns;
	struct dns_stats ds;
	char *t;

	memset(&ns, 0, sizeof(ns));
	memset(&ds, 0, sizeof(ds));
	ns.rx_frames = 42;
	ns.drop_runt = 3;
	ns.dhcp_ack = 1;
	ns.dhcp6_request = 3;
	ns.dhcp6_bad = 2;
	ns.tcp_active = 5;
	ds.hits = 7;
	ds.entries = 9;
	vg_metrics_init(&ms);
	vg_metrics_add_ns(&ms, &ns);
	vg_metrics_add_dns(&ms, &ds);
	t = prom(&ms);
	cr_assert(strstr(t, "# HELP vgate_link_rx_frames_total Frames received from the guest.\n"
			    "# TYPE vgate_link_rx_frames_total counter\n"
			    "vgate_link_rx_frames_total 42\n"),
		  "%s", t);
	cr_assert(strstr(t, "vgate_link_dropped_frames_total{reason=\"runt\"} 3\n"));
	cr_assert(strstr(t, "vgate_dhcp_messages_total{type=\"ack\"} 1\n"));
	cr_assert(strstr(t, "vgate_dhcp6_messages_total{type=\"request\"} 3\n"));
	cr_assert(strstr(t, "vgate_dhcp6_dropped_total{reason=\"malformed\"} 2\n"));
	cr_assert(strstr(t, "# TYPE vgate_link_tcp_active gauge\nvgate_link_tcp_active 5\n"));
	cr_assert(strstr(t, "vgate_dns_cache_hits_total 7\n"));
	cr_assert(strstr(t, "vgate_dns_cache_entries 9\n"));
	/* one HELP and TYPE per family even with many labelled samples */
	cr_assert_eq(count(t, "# TYPE vgate_link_dropped_frames_total "), 1);
	cr_assert_eq(count(t, "# HELP vgate_link_dropped_frames_total "), 1);
	cr_assert_eq(count(t, "vgate_link_dropped_frames_total{"), 15);
	/* every line ends with a newline, no blank lines */
	cr_assert_eq(t[strlen(t) - 1], '\n');
	cr_assert_null(strstr(t, "\n\n"));
	free(t);
}

Test(metrics, json_groups)
{
	struct vg_metrics ms;
	struct ns_stats ns;
	struct fwd_stats fs;
	struct fwd_policy p;
	char err[128];
	json_t *j;

	memset(&ns, 0, sizeof(ns));
	memset(&fs, 0, sizeof(fs));
	ns.dhcp_ack = 2;
	ns.dhcp6_inform = 4;
	ns.transport_connects = 1;
	fs.tcp_denied = 4;
	fwd_policy_init(&p);
	cr_assert_eq(fwd_policy_add(&p, true, "127.0.0.0/8", err, sizeof(err)), 0);
	vg_metrics_init(&ms);
	vg_metrics_add_ns(&ms, &ns);
	vg_metrics_add_fwd(&ms, &fs);
	vg_metrics_add_policy(&ms, &p, &fs, NULL);
	j = vg_metrics_json(&ms);
	cr_assert_not_null(j);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "dhcp"), "ack")), 2);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "dhcp6"), "inform")), 4);
	cr_assert_eq(json_integer_value(
			     json_object_get(json_object_get(j, "transport"), "connects")),
		     1);
	cr_assert_eq(json_integer_value(
			     json_object_get(json_object_get(j, "forwarder"), "tcp_denied")),
		     4);
	cr_assert_eq(json_integer_value(
			     json_object_get(json_object_get(j, "policy"), "rules_allow")),
		     1);
	cr_assert_eq(json_integer_value(
			     json_object_get(json_object_get(j, "policy"), "denied_tcp")),
		     4);
	json_decref(j);
}

Test(metrics, bounded)
{
	struct vg_metrics ms;
	struct vg_metric m = { .group = "g", .key = "k", .family = "f", .help = "h", .value = 1 };
	int i;

	vg_metrics_init(&ms);
	for (i = 0; i < VG_METRICS_MAX + 10; i++)
		vg_metrics_add(&ms, &m);
	cr_assert_eq(ms.n, VG_METRICS_MAX);
}

/* all modules' samples together stay below the bound (vg_metrics_add() drops
 * what does not fit) */
Test(metrics, everything_fits)
{
	struct vg_metrics ms;
	struct ns_stats ns;
	struct dns_stats ds;
	struct fwd_stats fs;
	struct sni_stats st;
	struct fwd_policy p;

	memset(&ns, 0, sizeof(ns));
	memset(&ds, 0, sizeof(ds));
	memset(&fs, 0, sizeof(fs));
	memset(&st, 0, sizeof(st));
	fwd_policy_init(&p);
	vg_metrics_init(&ms);
	vg_metrics_add_ns(&ms, &ns);
	vg_metrics_add_dns(&ms, &ds);
	vg_metrics_add_fwd(&ms, &fs);
	vg_metrics_add_policy(&ms, &p, &fs, &ds);
	vg_metrics_add_sni(&ms, &st);
	cr_assert_lt(ms.n, VG_METRICS_MAX, "%zu samples fill the table", ms.n);
}

Test(metrics, sni_reasons_as_labels)
{
	struct vg_metrics ms;
	struct sni_stats st;
	json_t *j, *blocked;
	char *t;

	memset(&st, 0, sizeof(st));
	st.allowed = 5;
	st.blocked[SNI_R_IP_MISMATCH] = 2;
	vg_metrics_init(&ms);
	vg_metrics_add_sni(&ms, &st);
	t = prom(&ms);
	cr_assert(strstr(t, "vgate_sni_allowed_total 5\n"), "%s", t);
	cr_assert(strstr(t, "vgate_sni_blocked_total{reason=\"ip_mismatch\"} 2\n"), "%s", t);
	cr_assert_eq(count(t, "# TYPE vgate_sni_blocked_total "), 1);
	free(t);
	j = vg_metrics_json(&ms);
	blocked = json_object_get(json_object_get(j, "sni"), "blocked");
	cr_assert_eq(json_integer_value(json_object_get(blocked, "ip_mismatch")), 2);
	json_decref(j);
}
