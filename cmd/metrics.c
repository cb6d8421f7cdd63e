/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - the counter tables of each module (field offset, JSON key,
 * Prometheus family and label, help) and the two formatters. Adding a
 * counter to a module's stats struct means adding one line here.
 */
#include "metrics.h"

#include <stddef.h>
#include <string.h>

/* one table row: where the value is in the module's stats struct */
struct row {
	const char *group, *key, *family, *label, *help;
	bool gauge;
	size_t off;
};

/* clang-format off */
#define C(g, f, fam, lab, h)  { g, #f, fam, lab, h, false, offsetof(STRUCT, f) }
#define G(g, f, fam, lab, h)  { g, #f, fam, lab, h, true, offsetof(STRUCT, f) }

#define STRUCT struct ns_stats
static const struct row ns_rows[] = {
	C("link", rx_frames, "link_rx_frames", NULL, "Frames received from the guest."),
	C("link", tx_frames, "link_tx_frames", NULL, "Frames sent to the guest."),
	C("link", rx_bytes, "link_rx_bytes", NULL, "Bytes received from the guest."),
	C("link", tx_bytes, "link_tx_bytes", NULL, "Bytes sent to the guest."),
	C("link", drop_oversize, "link_dropped_frames", "reason=\"oversize\"",
	  "Frames dropped, by reason."),
	C("link", drop_runt, "link_dropped_frames", "reason=\"runt\"", NULL),
	C("link", drop_bad_length, "link_dropped_frames", "reason=\"bad_length\"", NULL),
	C("link", drop_ethertype, "link_dropped_frames", "reason=\"ethertype\"", NULL),
	C("link", drop_bad_ip, "link_dropped_frames", "reason=\"bad_ip\"", NULL),
	C("link", drop_bad_arp, "link_dropped_frames", "reason=\"bad_arp\"", NULL),
	C("link", drop_frag, "link_dropped_frames", "reason=\"fragment\"", NULL),
	C("link", drop_proto, "link_dropped_frames", "reason=\"protocol\"", NULL),
	C("link", drop_no_neigh, "link_dropped_frames", "reason=\"no_neighbour\"", NULL),
	C("link", drop_tx_queue, "link_dropped_frames", "reason=\"tx_queue_full\"", NULL),
	C("link", drop_no_link, "link_dropped_frames", "reason=\"no_link\"", NULL),
	C("link", drop_udp_nohook, "link_dropped_frames", "reason=\"udp_no_handler\"", NULL),
	C("link", drop_bad_src, "link_dropped_frames", "reason=\"bad_source\"", NULL),
	C("link", drop_foreign_peer, "link_dropped_frames", "reason=\"foreign_peer\"", NULL),
	C("link", arp_replies, "link_arp_replies", NULL, "ARP replies sent."),
	C("link", icmp_echo_replies, "link_icmp_echo_replies", NULL, "ICMP echo replies sent."),
	C("link", tcp_syn_new, "link_tcp_syns", NULL, "Guest SYNs for new flows."),
	C("link", tcp_syn_reset, "link_tcp_syns_reset", NULL, "Guest SYNs answered with RST."),
	C("link", tcp_accepted, "link_tcp_accepted", NULL, "Guest TCP flows accepted."),
	G("link", tcp_active, "link_tcp_active", NULL, "Guest TCP flows open now."),
	C("link", udp_fwd_packets, "link_udp_packets", NULL,
	  "Guest UDP datagrams handed to the forwarder."),
	G("link", tx_queued_bytes, "link_tx_queued_bytes", NULL,
	  "Bytes queued for the guest to read."),
	C("transport", transport_connects, "transport_connects", NULL,
	  "Hypervisor connections accepted."),
	C("transport", transport_disconnects, "transport_disconnects", NULL,
	  "Hypervisor connections closed."),
	C("transport", transport_refused, "transport_refused", "reason=\"busy\"",
	  "Hypervisor clients refused, by reason."),
	C("transport", transport_bad_uid, "transport_refused", "reason=\"peer_uid\"", NULL),
	C("transport", transport_peer_lost, "transport_peer_lost", NULL,
	  "Unixgram peer locks released because the peer was gone."),
	C("dhcp", dhcp_discover, "dhcp_messages", "type=\"discover\"",
	  "DHCP messages received or sent, by type."),
	C("dhcp", dhcp_offer, "dhcp_messages", "type=\"offer\"", NULL),
	C("dhcp", dhcp_request, "dhcp_messages", "type=\"request\"", NULL),
	C("dhcp", dhcp_ack, "dhcp_messages", "type=\"ack\"", NULL),
	C("dhcp", dhcp_nak, "dhcp_messages", "type=\"nak\"", NULL),
	C("dhcp", dhcp_release, "dhcp_messages", "type=\"release\"", NULL),
	C("dhcp", dhcp_decline, "dhcp_messages", "type=\"decline\"", NULL),
	C("dhcp", dhcp_inform, "dhcp_messages", "type=\"inform\"", NULL),
	C("dhcp", dhcp_bad, "dhcp_malformed", NULL, "Malformed DHCP messages."),
};
#undef STRUCT

#define STRUCT struct dns_stats
static const struct row dns_rows[] = {
	C("dns", queries, "dns_queries", NULL, "Guest DNS queries."),
	C("dns", hits, "dns_cache_hits", NULL, "Answers from a fresh cache entry."),
	C("dns", misses, "dns_cache_misses", NULL, "Queries that waited for upstream."),
	C("dns", stale_serves, "dns_stale_serves", NULL, "Answers from an expired entry."),
	C("dns", prefetches, "dns_prefetches", NULL, "Background refreshes."),
	C("dns", static_answers, "dns_static_answers", NULL, "Answers from static records."),
	C("dns", filtered, "dns_filtered", NULL, "NXDOMAIN because of the name filter."),
	C("dns", malformed, "dns_malformed", NULL, "Malformed guest queries."),
	C("dns", notimp, "dns_notimp", NULL, "NOTIMP or REFUSED answers."),
	C("dns", servfail_answers, "dns_servfail_answers", NULL, "SERVFAIL answers."),
	C("dns", truncated, "dns_truncated", NULL, "UDP answers sent with TC."),
	C("dns", upstream_queries, "dns_upstream_queries", NULL, "Queries sent upstream."),
	C("dns", upstream_tcp, "dns_upstream_tcp_queries", NULL, "Upstream queries over TCP."),
	C("dns", upstream_timeouts, "dns_upstream_timeouts", NULL, "Upstream tries timed out."),
	C("dns", upstream_failures, "dns_upstream_failures", NULL, "Resolutions that failed."),
	C("dns", upstream_bad, "dns_upstream_bad", NULL, "Bad upstream replies."),
	C("dns", spoofed, "dns_spoofed", NULL, "Upstream replies that did not match."),
	C("dns", evictions, "dns_cache_evictions", NULL, "Entries pushed out by the LRU."),
	C("dns", expired, "dns_cache_expired", NULL, "Entries dropped past the stale window."),
	C("dns", dropped, "dns_dropped", NULL, "Queries dropped: tables full."),
	G("dns", entries, "dns_cache_entries", NULL, "Cache entries now."),
	G("dns", bytes, "dns_cache_bytes", NULL, "Cache memory now."),
	G("dns", inflight, "dns_upstream_inflight", NULL, "Upstream queries in flight."),
	G("dns", waiters, "dns_waiters", NULL, "Guest queries waiting."),
	C("dns", tcp_accepted, "dns_tcp_connections", NULL, "DNS-over-TCP connections accepted."),
	C("dns", tcp_evicted, "dns_tcp_closed", "reason=\"evicted\"",
	  "DNS-over-TCP connections reset by vgate, by reason."),
	C("dns", tcp_idle_closed, "dns_tcp_closed", "reason=\"idle\"", NULL),
	C("dns", tcp_src_refused, "dns_tcp_refused", "reason=\"per_source\"",
	  "New DNS-over-TCP connections reset, by the bound that was full of busy ones."),
	C("dns", tcp_full_refused, "dns_tcp_refused", "reason=\"table_full\"", NULL),
	G("dns", tcp_active, "dns_tcp_active", NULL, "DNS-over-TCP connections open now."),
};
#undef STRUCT

#define STRUCT struct fwd_stats
static const struct row fwd_rows[] = {
	G("forwarder", tcp_active, "forwarder_tcp_active", NULL, "TCP flows open now."),
	C("forwarder", tcp_total, "forwarder_tcp_flows", NULL, "TCP flows forwarded."),
	C("forwarder", tcp_bytes_out, "forwarder_tcp_bytes", "direction=\"out\"",
	  "TCP payload bytes (out = guest to host)."),
	C("forwarder", tcp_bytes_in, "forwarder_tcp_bytes", "direction=\"in\"", NULL),
	C("forwarder", tcp_refused, "forwarder_tcp_failed", "reason=\"refused\"",
	  "TCP flows that failed, by reason."),
	C("forwarder", tcp_denied, "forwarder_tcp_failed", "reason=\"denied\"", NULL),
	C("forwarder", tcp_over_limit, "forwarder_tcp_failed", "reason=\"over_limit\"", NULL),
	C("forwarder", tcp_timeouts, "forwarder_tcp_failed", "reason=\"timeout\"", NULL),
	C("forwarder", tcp_resets, "forwarder_tcp_failed", "reason=\"reset\"", NULL),
	C("forwarder", tcp_errors, "forwarder_tcp_failed", "reason=\"error\"", NULL),
	C("forwarder", tcp_martian, "forwarder_tcp_failed", "reason=\"martian\"", NULL),
	C("forwarder", tcp_revoked, "forwarder_tcp_failed", "reason=\"revoked\"", NULL),
	G("forwarder", udp_active, "forwarder_udp_active", NULL, "UDP mappings now."),
	C("forwarder", udp_total, "forwarder_udp_flows", NULL, "UDP mappings created."),
	C("forwarder", udp_pkts_out, "forwarder_udp_packets", "direction=\"out\"",
	  "UDP datagrams (out = guest to host)."),
	C("forwarder", udp_pkts_in, "forwarder_udp_packets", "direction=\"in\"", NULL),
	C("forwarder", udp_bytes_out, "forwarder_udp_bytes", "direction=\"out\"",
	  "UDP payload bytes (out = guest to host)."),
	C("forwarder", udp_bytes_in, "forwarder_udp_bytes", "direction=\"in\"", NULL),
	C("forwarder", udp_denied, "forwarder_udp_failed", "reason=\"denied\"",
	  "UDP datagrams or mappings refused, by reason."),
	C("forwarder", udp_over_limit, "forwarder_udp_failed", "reason=\"over_limit\"", NULL),
	C("forwarder", udp_refused, "forwarder_udp_failed", "reason=\"refused\"", NULL),
	C("forwarder", udp_errors, "forwarder_udp_failed", "reason=\"error\"", NULL),
	C("forwarder", udp_martian, "forwarder_udp_failed", "reason=\"martian\"", NULL),
	C("forwarder", udp_revoked, "forwarder_udp_failed", "reason=\"revoked\"", NULL),
	C("forwarder", udp_expired, "forwarder_udp_expired", NULL, "UDP mappings idle-expired."),
	C("forwarder", fwd_tcp_accepted, "forwarder_port_forward_tcp", "result=\"accepted\"",
	  "Host to guest TCP connections through port forwards."),
	C("forwarder", fwd_tcp_failed, "forwarder_port_forward_tcp", "result=\"failed\"", NULL),
	C("forwarder", fwd_udp_pkts, "forwarder_port_forward_udp_packets", NULL,
	  "Host to guest UDP datagrams through port forwards."),
	C("forwarder", udp_evicted, "forwarder_udp_evicted", NULL,
	  "Idle UDP mappings evicted for a new one at the flow budget."),
	C("forwarder", fd_exhausted, "forwarder_fd_exhausted", NULL,
	  "socket() or accept() calls that failed with EMFILE or ENFILE."),
	C("forwarder", lst_paused, "forwarder_listener_paused", NULL,
	  "Port-forward listeners paused on EMFILE or ENFILE."),
	G("forwarder", tcp_max, "forwarder_tcp_budget", NULL,
	  "TCP flow bound (the fd budget, at most --max-flows)."),
	G("forwarder", udp_max, "forwarder_udp_budget", NULL,
	  "UDP mapping bound (the fd budget, at most --max-udp-flows)."),
};
#undef STRUCT

#define STRUCT struct sni_stats
static const struct row sni_rows[] = {
	C("sni", inspected, "sni_inspected", NULL, "Flows whose first bytes were inspected."),
	C("sni", allowed, "sni_allowed", NULL, "Flows allowed by SNI or Host and DNS correlation."),
	C("sni", resolves, "sni_resolves", NULL, "Names the filter resolved itself."),
	G("sni", patterns, "sni_patterns", NULL, "Patterns in the active allowlist."),
	C("sni", reloads, "sni_reloads", NULL, "Allowlist reloads."),
	C("sni", log_suppressed, "sni_log_suppressed", NULL,
	  "Block log lines dropped by the rate limit."),
};
#undef STRUCT
#undef C
#undef G
/* clang-format on */

void vg_metrics_init(struct vg_metrics *ms)
{
	ms->n = 0;
}

void vg_metrics_add(struct vg_metrics *ms, const struct vg_metric *mt)
{
	if (ms->n < VG_METRICS_MAX)
		ms->m[ms->n++] = *mt;
}

static void add_rows(struct vg_metrics *ms, const struct row *rows, size_t n, const void *st)
{
	const char *help = NULL;
	size_t i, n_grp;

	for (i = 0; i < n; i++) {
		struct vg_metric mt;

		/* rows after the first of a family share its help */
		if (rows[i].help)
			help = rows[i].help;
		mt.group = rows[i].group;
		mt.key = rows[i].key;
		/* dhcp.dhcp_ack reads better as dhcp.ack */
		n_grp = strlen(mt.group);
		if (!strncmp(mt.key, mt.group, n_grp) && mt.key[n_grp] == '_')
			mt.key += n_grp + 1;
		mt.family = rows[i].family;
		mt.label = rows[i].label;
		mt.label_key = mt.label_val = NULL;
		mt.help = help;
		mt.gauge = rows[i].gauge;
		memcpy(&mt.value, (const char *)st + rows[i].off, sizeof(mt.value));
		vg_metrics_add(ms, &mt);
	}
}

void vg_metrics_add_ns(struct vg_metrics *ms, const struct ns_stats *st)
{
	add_rows(ms, ns_rows, sizeof(ns_rows) / sizeof(ns_rows[0]), st);
}

void vg_metrics_add_dns(struct vg_metrics *ms, const struct dns_stats *st)
{
	add_rows(ms, dns_rows, sizeof(dns_rows) / sizeof(dns_rows[0]), st);
}

void vg_metrics_add_fwd(struct vg_metrics *ms, const struct fwd_stats *st)
{
	add_rows(ms, fwd_rows, sizeof(fwd_rows) / sizeof(fwd_rows[0]), st);
}

void vg_metrics_add_policy(struct vg_metrics *ms, const struct fwd_policy *p,
			   const struct fwd_stats *st, const struct dns_stats *dst)
{
	struct vg_metric mt = {.group = "policy",
			       .key = "rules_allow",
			       .family = "policy_rules",
			       .label = "action=\"allow\"",
			       .help = "Outbound CIDR rules, by action.",
			       .gauge = true,
			       .value = p->n_allow};

	vg_metrics_add(ms, &mt);
	mt.key = "rules_deny";
	mt.label = "action=\"deny\"";
	mt.value = p->n - p->n_allow;
	vg_metrics_add(ms, &mt);
	if (st) {
		mt = (struct vg_metric){.group = "policy",
					.key = "denied_tcp",
					.family = "policy_denied_flows",
					.label = "proto=\"tcp\"",
					.help = "Flows refused by the outbound policy.",
					.value = st->tcp_denied};
		vg_metrics_add(ms, &mt);
		mt.key = "denied_udp";
		mt.label = "proto=\"udp\"";
		mt.value = st->udp_denied;
		vg_metrics_add(ms, &mt);
	}
	if (dst) {
		mt = (struct vg_metric){.group = "policy",
					.key = "denied_dns_names",
					.family = "policy_denied_dns_names",
					.help = "DNS names refused by the name filter.",
					.value = dst->filtered};
		vg_metrics_add(ms, &mt);
	}
}

void vg_metrics_add_sni(struct vg_metrics *ms, const struct sni_stats *st)
{
	struct vg_metric mt;
	int r;

	add_rows(ms, sni_rows, sizeof(sni_rows) / sizeof(sni_rows[0]), st);
	for (r = SNI_R_OK + 1; r < SNI_R_COUNT; r++) {
		memset(&mt, 0, sizeof(mt));
		mt.group = "sni";
		mt.key = sni_reason_name((enum sni_reason)r); /* JSON: sni.blocked.REASON */
		mt.family = "sni_blocked";
		mt.label_key = "reason";
		mt.label_val = mt.key;
		mt.help = "Flows blocked by the SNI allowlist, by reason.";
		mt.value = st->blocked[r];
		vg_metrics_add(ms, &mt);
	}
}

int vg_metrics_prometheus(const struct vg_metrics *ms, FILE *out)
{
	const char *prev = NULL;
	size_t i;

	for (i = 0; i < ms->n; i++) {
		const struct vg_metric *mt = &ms->m[i];
		const char *suffix = mt->gauge ? "" : "_total";

		if (!prev || strcmp(prev, mt->family)) {
			if (mt->help)
				fprintf(out, "# HELP vgate_%s%s %s\n", mt->family, suffix,
					mt->help);
			fprintf(out, "# TYPE vgate_%s%s %s\n", mt->family, suffix,
				mt->gauge ? "gauge" : "counter");
			prev = mt->family;
		}
		if (mt->label)
			fprintf(out, "vgate_%s%s{%s} %llu\n", mt->family, suffix, mt->label,
				(unsigned long long)mt->value);
		else if (mt->label_key)
			fprintf(out, "vgate_%s%s{%s=\"%s\"} %llu\n", mt->family, suffix,
				mt->label_key, mt->label_val, (unsigned long long)mt->value);
		else
			fprintf(out, "vgate_%s%s %llu\n", mt->family, suffix,
				(unsigned long long)mt->value);
	}
	return ferror(out) ? -1 : 0;
}

json_t *vg_metrics_json(const struct vg_metrics *ms)
{
	json_t *root = json_object();
	size_t i;

	if (!root)
		return NULL;
	for (i = 0; i < ms->n; i++) {
		const struct vg_metric *mt = &ms->m[i];
		json_t *g = json_object_get(root, mt->group);

		if (!g) {
			g = json_object();
			if (!g || json_object_set_new(root, mt->group, g) < 0) {
				json_decref(root);
				return NULL;
			}
		}
		if (mt->label_key) {
			/* e.g. "sni": {"blocked": {"ip_mismatch": 3, ...}} */
			const char *sub = strrchr(mt->family, '_');
			json_t *o;

			sub = sub ? sub + 1 : mt->family;
			o = json_object_get(g, sub);
			if (!o) {
				o = json_object();
				if (!o || json_object_set_new(g, sub, o) < 0) {
					json_decref(root);
					return NULL;
				}
			}
			g = o;
		}
		if (json_object_set_new(g, mt->key, json_integer((json_int_t)mt->value)) < 0) {
			json_decref(root);
			return NULL;
		}
	}
	return root;
}
