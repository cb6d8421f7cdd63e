/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - the counter tables of each module and the two formatters.
 * A table reads like the Prometheus exposition it feeds: GROUP() opens a
 * JSON group, COUNTER() or GAUGE() a family with its HELP text, and the
 * samples below it name their field in the module's stats struct (V) and,
 * for a labelled family, the label (L). Adding a counter to a module's
 * stats struct means adding one line here (two for a new family).
 */
#include "metrics.h"

#include <stddef.h>
#include <string.h>

/*
 * one table row: a group (@group set), a family (@family set) or a sample of
 * the family above it (@key: the field's name, @off: where it is in the
 * module's stats struct)
 */
struct row {
	const char *group, *family, *help;
	bool gauge;
	const char *key, *label;
	size_t off;
};

/* clang-format off */
#define GROUP(g)         { g, NULL, NULL, false, NULL, NULL, 0 }
#define COUNTER(fam, h)  { NULL, fam, h, false, NULL, NULL, 0 }
#define GAUGE(fam, h)    { NULL, fam, h, true, NULL, NULL, 0 }
#define V(f)             { NULL, NULL, NULL, false, #f, NULL, offsetof(STRUCT, f) }
#define L(f, lab)        { NULL, NULL, NULL, false, #f, lab, offsetof(STRUCT, f) }

#define STRUCT struct ns_stats
static const struct row ns_rows[] = {
	GROUP("link"),
	COUNTER("link_rx_frames", "Frames received from the guest."),
		V(rx_frames),
	COUNTER("link_tx_frames", "Frames sent to the guest."),
		V(tx_frames),
	COUNTER("link_rx_bytes", "Bytes received from the guest."),
		V(rx_bytes),
	COUNTER("link_tx_bytes", "Bytes sent to the guest."),
		V(tx_bytes),
	COUNTER("link_dropped_frames", "Frames dropped, by reason."),
		L(drop_oversize, "reason=\"oversize\""),
		L(drop_runt, "reason=\"runt\""),
		L(drop_bad_length, "reason=\"bad_length\""),
		L(drop_ethertype, "reason=\"ethertype\""),
		L(drop_bad_ip, "reason=\"bad_ip\""),
		L(drop_bad_arp, "reason=\"bad_arp\""),
		L(drop_frag, "reason=\"fragment\""),
		L(drop_proto, "reason=\"protocol\""),
		L(drop_no_neigh, "reason=\"no_neighbour\""),
		L(drop_tx_queue, "reason=\"tx_queue_full\""),
		L(drop_no_link, "reason=\"no_link\""),
		L(drop_udp_nohook, "reason=\"udp_no_handler\""),
		L(drop_bad_src, "reason=\"bad_source\""),
		L(drop_foreign_peer, "reason=\"foreign_peer\""),
		L(drop_offload, "reason=\"offload\""),
	COUNTER("link_tx_gso_frames", "TCP super-segments sent to the guest's kernel (TAP offloads)."),
		V(tx_gso_frames),
	COUNTER("link_tx_gso_segments", "Link-MTU segments those super-segments stand for."),
		V(tx_gso_segs),
	COUNTER("link_rx_gso_frames", "TCP super-segments received from the guest's kernel (TAP offloads)."),
		V(rx_gso_frames),
	COUNTER("link_arp_replies", "ARP replies sent."),
		V(arp_replies),
	COUNTER("link_icmp_echo_replies", "ICMP echo replies sent."),
		V(icmp_echo_replies),
	COUNTER("link_ip6_packets", "IPv6 packets from the guest that passed the link's checks."),
		V(ip6_rx),
	COUNTER("link_ip6_dropped", "IPv6 packets dropped at the link, by reason."),
		L(drop_ip6_off, "reason=\"ipv6_off\""),
		L(drop_bad_ip6, "reason=\"bad_ip6\""),
		L(drop_bad_src6, "reason=\"bad_source\""),
		L(drop_ip6_dst, "reason=\"destination\""),
		L(drop_ip6_frag, "reason=\"fragment\""),
		L(drop_ip6_ext, "reason=\"extension\""),
		L(drop_bad_icmp6, "reason=\"bad_icmp6\""),
		L(drop_nd, "reason=\"bad_nd\""),
	COUNTER("link_icmp6_echo_replies", "ICMPv6 echo requests to the gateway answered."),
		V(icmp6_echo_replies),
	COUNTER("link_nd_received", "Neighbour Discovery messages from the guest, by type and outcome."),
		L(nd_ns_in, "type=\"ns\",outcome=\"answered\""),
		L(nd_dad_defended, "type=\"ns\",outcome=\"dad_defended\""),
		L(nd_dad_seen, "type=\"ns\",outcome=\"dad_unanswered\""),
		L(nd_na_in, "type=\"na\",outcome=\"learnt\""),
		L(nd_conflict, "type=\"na\",outcome=\"conflict\""),
		L(nd_rs_in, "type=\"rs\",outcome=\"received\""),
		L(nd_rs_limited, "type=\"rs\",outcome=\"rate_limited\""),
		L(nd_ignored, "type=\"other\",outcome=\"ignored\""),
	COUNTER("link_nd_sent", "Neighbour Discovery messages sent to the guest, by type."),
		L(nd_na_out, "type=\"na\""),
		L(nd_ns_out, "type=\"ns\""),
		L(nd_ra_out, "type=\"ra\""),
	COUNTER("link_tcp_syns", "Guest SYNs for new flows."),
		V(tcp_syn_new),
	COUNTER("link_tcp_syns_reset", "Guest SYNs answered with RST."),
		V(tcp_syn_reset),
	COUNTER("link_tcp_syns_dropped", "Deferred guest SYNs dropped, by reason."),
		L(tcp_syn_expired, "reason=\"hold_expired\""),
		L(tcp_syn_evicted, "reason=\"hold_full\""),
	COUNTER("link_tcp_half_open_reset",
		"Half-open guest TCP handshakes reset (bound reached or forwarder's request)."),
		V(tcp_embryo_reset),
	COUNTER("link_tcp_window_trimmed",
		"Out-of-order guest TCP segments cut to the receive window they overran."),
		V(tcp_window_trimmed),
	COUNTER("link_tcp_acks_folded",
		"Guest TCP segments acknowledged by a later stretch ACK instead of lwIP's own."),
		V(tcp_acks_folded),
	COUNTER("link_tcp_acks_late",
		"Stretch ACKs sent after a short wait because the guest stopped sending before their threshold."),
		V(tcp_acks_late),
	COUNTER("link_tcp_tx_held",
		"TCP data segments to the guest held back in the send queue because the guest's transmit queue was full."),
		V(tcp_tx_held),
	COUNTER("link_tcp_half_open_gone",
		"Half-open guest TCP flows that died before the handshake, by whether their registrant was told."),
		L(tcp_abandoned, "told=\"yes\""),
		L(tcp_abandoned_lost, "told=\"no\""),
	COUNTER("link_tcp_accepted", "Guest TCP flows accepted."),
		V(tcp_accepted),
	GAUGE("link_tcp_active", "Guest TCP flows open now."),
		V(tcp_active),
	COUNTER("link_udp_packets", "Guest UDP datagrams handed to the forwarder."),
		V(udp_fwd_packets),
	GAUGE("link_tx_queued_bytes", "Bytes queued for the guest to read."),
		V(tx_queued_bytes),
	GROUP("buffer"),
	GAUGE("buffer_limit_bytes", "Bound on what the TCP flows buffer together (--max-buffer-memory)."),
		V(buffer_limit),
	GAUGE("buffer_held_bytes", "Bytes the TCP flows buffer now, with per-segment costs."),
		V(buffer_held),
	GAUGE("buffer_window_bytes", "Receive windows open to the guest now (counted in the bound)."),
		V(buffer_windows),
	GAUGE("buffer_high_bytes", "High-water of held bytes plus open windows."),
		V(buffer_high),
	COUNTER("buffer_budget_hits", "Times a flow was held back by the buffer bound."),
		V(buffer_hits),
	COUNTER("buffer_reads_paused", "Times a flow began waiting for buffer memory."),
		V(buffer_paused),
	GROUP("transport"),
	COUNTER("transport_connects", "Hypervisor connections accepted."),
		V(transport_connects),
	COUNTER("transport_disconnects", "Hypervisor connections closed."),
		V(transport_disconnects),
	COUNTER("transport_refused", "Hypervisor clients refused, by reason."),
		L(transport_refused, "reason=\"busy\""),
		L(transport_bad_uid, "reason=\"peer_uid\""),
	COUNTER("transport_peer_lost", "Unixgram peer locks released because the peer was gone."),
		V(transport_peer_lost),
	COUNTER("transport_fd_exhausted", "Hypervisor accepts that found no free fd (the listener pauses)."),
		V(transport_fd_exhausted),
	COUNTER("transport_desync",
		"Stream length prefixes that cannot be QEMU framing (0, or above 68 KiB; above drops the connection)."),
		V(transport_desync),
	GROUP("dhcp"),
	COUNTER("dhcp_messages", "DHCP messages received or sent, by type."),
		L(dhcp_discover, "type=\"discover\""),
		L(dhcp_offer, "type=\"offer\""),
		L(dhcp_request, "type=\"request\""),
		L(dhcp_ack, "type=\"ack\""),
		L(dhcp_nak, "type=\"nak\""),
		L(dhcp_release, "type=\"release\""),
		L(dhcp_decline, "type=\"decline\""),
		L(dhcp_inform, "type=\"inform\""),
	COUNTER("dhcp_malformed", "Malformed DHCP messages."),
		V(dhcp_bad),
	GROUP("dhcp6"),
	COUNTER("dhcp6_messages", "DHCPv6 messages received or sent, by type."),
		L(dhcp6_solicit, "type=\"solicit\""),
		L(dhcp6_advertise, "type=\"advertise\""),
		L(dhcp6_request, "type=\"request\""),
		L(dhcp6_confirm, "type=\"confirm\""),
		L(dhcp6_renew, "type=\"renew\""),
		L(dhcp6_rebind, "type=\"rebind\""),
		L(dhcp6_release, "type=\"release\""),
		L(dhcp6_decline, "type=\"decline\""),
		L(dhcp6_inform, "type=\"information_request\""),
		L(dhcp6_reply, "type=\"reply\""),
	COUNTER("dhcp6_no_addresses", "DHCPv6 IA_NA answered NoAddrsAvail (pool full or stateless only)."),
		V(dhcp6_no_addrs),
	COUNTER("dhcp6_dropped", "DHCPv6 messages dropped, by reason."),
		L(dhcp6_bad, "reason=\"malformed\""),
		L(dhcp6_ignored, "reason=\"not_for_us\""),
};
#undef STRUCT

#define STRUCT struct dns_stats
static const struct row dns_rows[] = {
	GROUP("dns"),
	COUNTER("dns_queries", "Guest DNS queries."),
		V(queries),
	COUNTER("dns_cache_hits", "Answers from a fresh cache entry."),
		V(hits),
	COUNTER("dns_cache_misses", "Queries that waited for upstream."),
		V(misses),
	COUNTER("dns_stale_serves", "Answers from an expired entry."),
		V(stale_serves),
	COUNTER("dns_prefetches", "Background refreshes."),
		V(prefetches),
	COUNTER("dns_static_answers", "Answers from static records."),
		V(static_answers),
	COUNTER("dns_filtered", "NXDOMAIN because of the name filter."),
		V(filtered),
	COUNTER("dns_malformed", "Malformed guest queries."),
		V(malformed),
	COUNTER("dns_notimp", "NOTIMP or REFUSED answers."),
		V(notimp),
	COUNTER("dns_servfail_answers", "SERVFAIL answers."),
		V(servfail_answers),
	COUNTER("dns_truncated", "UDP answers sent with TC."),
		V(truncated),
	COUNTER("dns_upstream_queries", "Queries sent upstream."),
		V(upstream_queries),
	COUNTER("dns_upstream_tcp_queries", "Upstream queries over TCP."),
		V(upstream_tcp),
	COUNTER("dns_upstream_timeouts", "Upstream tries timed out."),
		V(upstream_timeouts),
	COUNTER("dns_upstream_failures", "Resolutions that failed."),
		V(upstream_failures),
	COUNTER("dns_upstream_bad", "Bad upstream replies."),
		V(upstream_bad),
	COUNTER("dns_spoofed", "Upstream replies that did not match."),
		V(spoofed),
	COUNTER("dns_cache_evictions", "Entries pushed out by the LRU."),
		V(evictions),
	COUNTER("dns_cache_expired", "Entries dropped past the stale window."),
		V(expired),
	COUNTER("dns_dropped", "Queries dropped: tables full."),
		V(dropped),
	GAUGE("dns_cache_entries", "Cache entries now."),
		V(entries),
	GAUGE("dns_cache_bytes", "Cache memory now."),
		V(bytes),
	GAUGE("dns_upstream_inflight", "Upstream queries in flight."),
		V(inflight),
	GAUGE("dns_waiters", "Guest queries waiting."),
		V(waiters),
	COUNTER("dns_tcp_connections", "DNS-over-TCP connections accepted."),
		V(tcp_accepted),
	COUNTER("dns_tcp_closed", "DNS-over-TCP connections reset by vgate, by reason."),
		L(tcp_evicted, "reason=\"evicted\""),
		L(tcp_idle_closed, "reason=\"idle\""),
	COUNTER("dns_tcp_refused",
		"New DNS-over-TCP connections reset, by the bound that was full of busy ones."),
		L(tcp_src_refused, "reason=\"per_source\""),
		L(tcp_full_refused, "reason=\"table_full\""),
	GAUGE("dns_tcp_active", "DNS-over-TCP connections open now."),
		V(tcp_active),
	COUNTER("dns_dnssec_queries", "Guest queries with the DO or CD bit, by bit."),
		L(do_queries, "bit=\"do\""),
		L(cd_queries, "bit=\"cd\""),
	COUNTER("dns_badvers", "BADVERS answers to EDNS versions above 0."),
		V(badvers),
	COUNTER("dns_edns_options_dropped",
		"Guest EDNS options neither forwarded nor echoed, by option."),
		L(edns_cookie, "option=\"cookie\""),
		L(edns_ecs, "option=\"client_subnet\""),
		L(edns_other_opts, "option=\"other\""),
	COUNTER("dns_ede_answers", "Answers given an Extended DNS Error."),
		V(ede_answers),
	COUNTER("dns_dns64_synth", "AAAA answers synthesized by DNS64 (--nat64)."),
		V(dns64_synth),
};
#undef STRUCT

#define STRUCT struct fwd_stats
static const struct row fwd_rows[] = {
	GROUP("forwarder"),
	GAUGE("forwarder_tcp_active", "TCP flows open now."),
		V(tcp_active),
	COUNTER("forwarder_tcp_flows", "TCP flows forwarded."),
		V(tcp_total),
	COUNTER("forwarder_tcp_bytes", "TCP payload bytes (out = guest to host)."),
		L(tcp_bytes_out, "direction=\"out\""),
		L(tcp_bytes_in, "direction=\"in\""),
	COUNTER("forwarder_tcp_host_writes", "Writes of guest bytes to host sockets (bytes per write: the bytes out over these)."),
		V(tcp_writes_out),
	COUNTER("forwarder_tcp_failed", "TCP flows that failed, by reason."),
		L(tcp_refused, "reason=\"refused\""),
		L(tcp_denied, "reason=\"denied\""),
		L(tcp_over_limit, "reason=\"over_limit\""),
		L(tcp_timeouts, "reason=\"timeout\""),
		L(tcp_resets, "reason=\"reset\""),
		L(tcp_errors, "reason=\"error\""),
		L(tcp_martian, "reason=\"martian\""),
		L(tcp_revoked, "reason=\"revoked\""),
	GAUGE("forwarder_udp_active", "UDP mappings now."),
		V(udp_active),
	COUNTER("forwarder_udp_flows", "UDP mappings created."),
		V(udp_total),
	COUNTER("forwarder_udp_packets", "UDP datagrams (out = guest to host)."),
		L(udp_pkts_out, "direction=\"out\""),
		L(udp_pkts_in, "direction=\"in\""),
	COUNTER("forwarder_udp_bytes", "UDP payload bytes (out = guest to host)."),
		L(udp_bytes_out, "direction=\"out\""),
		L(udp_bytes_in, "direction=\"in\""),
	COUNTER("forwarder_udp_failed", "UDP datagrams or mappings refused, by reason."),
		L(udp_denied, "reason=\"denied\""),
		L(udp_over_limit, "reason=\"over_limit\""),
		L(udp_refused, "reason=\"refused\""),
		L(udp_errors, "reason=\"error\""),
		L(udp_martian, "reason=\"martian\""),
		L(udp_revoked, "reason=\"revoked\""),
	COUNTER("forwarder_udp_expired", "UDP mappings idle-expired."),
		V(udp_expired),
	COUNTER("forwarder_port_forward_tcp",
		"Host to guest TCP connections through port forwards."),
		L(fwd_tcp_accepted, "result=\"accepted\""),
		L(fwd_tcp_failed, "result=\"failed\""),
	COUNTER("forwarder_port_forward_udp_packets",
		"Host to guest UDP datagrams through port forwards."),
		V(fwd_udp_pkts),
	COUNTER("forwarder_udp_evicted",
		"Idle UDP mappings evicted for a new one at the flow budget."),
		V(udp_evicted),
	COUNTER("forwarder_fd_exhausted",
		"socket() or accept() calls that failed with EMFILE or ENFILE."),
		V(fd_exhausted),
	COUNTER("forwarder_listener_paused", "Port-forward listeners paused on EMFILE or ENFILE."),
		V(lst_paused),
	GAUGE("forwarder_tcp_budget", "TCP flow bound (the fd budget, at most --max-flows)."),
		V(tcp_max),
	GAUGE("forwarder_udp_budget",
		"UDP mapping bound (the fd budget, at most --max-udp-flows)."),
		V(udp_max),
	COUNTER("forwarder_tcp_half_open_dropped",
		"Oldest half-open TCP flows reset for a new SYN, by bound."),
		L(tcp_half_dropped, "bound=\"global\""),
		L(tcp_half_src_dropped, "bound=\"per_source\""),
	COUNTER("forwarder_tcp_evicted",
		"TCP flows reset at the flow bound for a SYN of a source holding fewer."),
		V(tcp_evicted),
	COUNTER("forwarder_tcp_late_connects",
		"Guest handshakes completed after their half-open record was dropped."),
		V(tcp_late),
	COUNTER("forwarder_tcp_abandoned",
		"Half-open TCP flows ended because the guest's handshake died (RST, timeout, bound)."),
		V(tcp_abandoned),
	GAUGE("forwarder_icmp_active", "ICMP and ICMPv6 echo flows now (one host socket each)."),
		V(icmp_active),
	COUNTER("forwarder_icmp_flows", "ICMP and ICMPv6 echo flows opened."),
		V(icmp_total),
	COUNTER("forwarder_icmp_raw_flows",
		"Echo flows on a raw socket (ping sockets not permitted to vgate's group)."),
		V(icmp_raw),
	COUNTER("forwarder_icmp_packets",
		"Echo requests sent (out) and replies given to the guest (in)."),
		L(icmp_pkts_out, "direction=\"out\""),
		L(icmp_pkts_in, "direction=\"in\""),
	COUNTER("forwarder_icmp_failed", "Echo requests refused or lost, by reason."),
		L(icmp_denied, "reason=\"denied\""),
		L(icmp_filtered, "reason=\"filtered\""),
		L(icmp_martian, "reason=\"martian\""),
		L(icmp_errors, "reason=\"error\""),
		L(icmp_revoked, "reason=\"revoked\""),
		L(icmp_over_limit, "reason=\"over_limit\""),
	COUNTER("forwarder_icmp_ended", "Echo flows closed, by cause."),
		L(icmp_expired, "cause=\"idle\""),
		L(icmp_evicted, "cause=\"evicted\""),
	GAUGE("forwarder_tcp_half_open", "Half-open TCP flows now (connecting, handshake pending)."),
		V(tcp_half_open),
	GAUGE("forwarder_tcp_half_open_budget",
		"Half-open TCP flow bound (--max-half-open, at most half the flow bound)."),
		V(tcp_half_max),
};
#undef STRUCT

/* the policy's numbers, gathered from the policy and two modules' stats */
struct policy_counts {
	uint64_t rules_allow, rules_deny, denied_tcp, denied_udp, denied_dns_names;
};

#define STRUCT struct policy_counts
static const struct row policy_rule_rows[] = {
	GROUP("policy"),
	GAUGE("policy_rules", "Outbound CIDR rules, by action."),
		L(rules_allow, "action=\"allow\""),
		L(rules_deny, "action=\"deny\""),
};

/* only with the forwarder's stats */
static const struct row policy_flow_rows[] = {
	GROUP("policy"),
	COUNTER("policy_denied_flows", "Flows refused by the outbound policy."),
		L(denied_tcp, "proto=\"tcp\""),
		L(denied_udp, "proto=\"udp\""),
};

/* only with the DNS stats */
static const struct row policy_name_rows[] = {
	GROUP("policy"),
	COUNTER("policy_denied_dns_names", "DNS names refused by the name filter."),
		V(denied_dns_names),
};
#undef STRUCT

#define STRUCT struct vg_glisten_stats
static const struct row glisten_rows[] = {
	GROUP("listen"),
	COUNTER("listen_accepted", "Connections accepted on -listen and -listen-vpnkit."),
		V(accepted),
	COUNTER("listen_http", "-listen connections handed to the HTTP API."),
		V(http),
	COUNTER("listen_connect", "POST /connect or vpnkit clients that became the guest link."),
		V(connect),
	COUNTER("listen_closed", "-listen and -listen-vpnkit connections closed undecided, by reason."),
		L(connect_refused, "reason=\"link_busy\""),
		L(bad_head, "reason=\"bad_head\""),
		L(timeouts, "reason=\"timeout\""),
		L(closed_early, "reason=\"client_closed\""),
		L(park_full, "reason=\"too_many\""),
	COUNTER("listen_fd_exhausted", "-listen accepts that found no free fd (the listener pauses)."),
		V(fd_exhausted),
	COUNTER("listen_vpnkit_handshakes", "vpnkit handshakes completed."),
		V(vpnkit_ok),
	COUNTER("listen_tunnel", "GET /tunnel requests by outcome (ok: \"OK\" written)."),
		L(tunnel_ok, "result=\"ok\""),
		L(tunnel_bad_request, "result=\"bad_request\""),
		L(tunnel_refused, "result=\"refused\""),
		L(tunnel_full, "result=\"too_many\""),
		L(tunnel_timeouts, "result=\"timeout\""),
	GAUGE("listen_tunnels_active", "GET /tunnel tunnels open or connecting."),
		V(tunnel_active),
};
#undef STRUCT

#define STRUCT struct vg_gvnotify_stats
static const struct row gvnotify_rows[] = {
	GROUP("notification"),
	COUNTER("notification_sent", "-notification lines delivered."),
		V(sent),
	COUNTER("notification_lost", "-notification lines lost, by reason."),
		L(failed, "reason=\"send_failed\""),
		L(dropped, "reason=\"queue_full\""),
};
#undef STRUCT

#define STRUCT struct sni_stats
static const struct row sni_rows[] = {
	GROUP("sni"),
	COUNTER("sni_inspected", "Flows whose first bytes were inspected."),
		V(inspected),
	COUNTER("sni_allowed", "Flows allowed by SNI or Host and DNS correlation."),
		V(allowed),
	COUNTER("sni_resolves", "Names the filter resolved itself."),
		V(resolves),
	GAUGE("sni_patterns", "Patterns in the active allowlist."),
		V(patterns),
	COUNTER("sni_reloads", "Allowlist reloads."),
		V(reloads),
	COUNTER("sni_log_suppressed", "Block log lines dropped by the rate limit."),
		V(log_suppressed),
};
#undef STRUCT

#define STRUCT struct vg_sshfwd_stats
static const struct row ssh_rows[] = {
	GROUP("ssh"),
	GAUGE("ssh_forwards", "SSH socket forwards configured (-forward-sock)."),
		V(forwards),
	GAUGE("ssh_sessions_up", "SSH sessions to the guest's sshd up now."),
		V(sessions_up),
	COUNTER("ssh_session_attempts", "SSH sessions tried."),
		V(session_attempts),
	COUNTER("ssh_session_failures", "SSH session tries that failed (sshd not up, refused, timed out)."),
		V(session_failures),
	COUNTER("ssh_sessions_lost", "SSH sessions that dropped once up."),
		V(sessions_lost),
	COUNTER("ssh_hostkey_refused", "SSH sessions refused: not the pinned host key."),
		V(hostkey_refused),
	COUNTER("ssh_clients_accepted", "Connections accepted on -forward-sock sockets."),
		V(clients_accepted),
	GAUGE("ssh_clients_active", "Forwarded connections open now."),
		V(clients_active),
	COUNTER("ssh_clients_refused", "Connections closed at once: per-forward bound reached."),
		V(clients_refused),
	COUNTER("ssh_channel_failures", "Channels the guest refused (no such socket, forwarding off)."),
		V(channel_failures),
	COUNTER("ssh_bytes_to_guest", "Bytes from forwarded connections into SSH channels."),
		V(bytes_to_guest),
	COUNTER("ssh_bytes_from_guest", "Bytes from SSH channels to forwarded connections."),
		V(bytes_from_guest),
};
#undef STRUCT
#undef GROUP
#undef COUNTER
#undef GAUGE
#undef V
#undef L
/* clang-format on */

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))

void vg_metrics_init(struct vg_metrics *ms)
{
	ms->n = 0;
}

void vg_metrics_add(struct vg_metrics *ms, const struct vg_metric *mt)
{
	if (ms->n < VG_METRICS_MAX)
		ms->m[ms->n++] = *mt;
}

/**
 * add_rows() - append the samples of one module's table
 * @ms:		list
 * @rows:	table (group, family and sample rows)
 * @n:		its length
 * @st:		the module's stats struct the sample rows point into
 */
static void add_rows(struct vg_metrics *ms, const struct row *rows, size_t n, const void *st)
{
	struct vg_metric mt;
	size_t i, n_grp = 0;

	memset(&mt, 0, sizeof(mt));
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		if (r->group) {
			mt.group = r->group;
			n_grp = strlen(r->group);
			continue;
		}
		if (r->family) {
			mt.family = r->family;
			mt.help = r->help;
			mt.gauge = r->gauge;
			continue;
		}
		/* dhcp.dhcp_ack reads better as dhcp.ack */
		mt.key = r->key;
		if (n_grp && !strncmp(mt.key, mt.group, n_grp) && mt.key[n_grp] == '_')
			mt.key += n_grp + 1;
		mt.label = r->label;
		memcpy(&mt.value, (const char *)st + r->off, sizeof(mt.value));
		vg_metrics_add(ms, &mt);
	}
}

void vg_metrics_add_ns(struct vg_metrics *ms, const struct ns_stats *st)
{
	add_rows(ms, ns_rows, ROWS(ns_rows), st);
}

void vg_metrics_add_dns(struct vg_metrics *ms, const struct dns_stats *st)
{
	add_rows(ms, dns_rows, ROWS(dns_rows), st);
}

void vg_metrics_add_fwd(struct vg_metrics *ms, const struct fwd_stats *st)
{
	add_rows(ms, fwd_rows, ROWS(fwd_rows), st);
}

void vg_metrics_add_policy(struct vg_metrics *ms, const struct fwd_policy *p,
			   const struct fwd_stats *st, const struct dns_stats *dst)
{
	struct policy_counts c = {
	    .rules_allow = p->n_allow,
	    .rules_deny = fwd_policy_n_deny(p),
	    .denied_tcp = st ? st->tcp_denied : 0,
	    .denied_udp = st ? st->udp_denied : 0,
	    .denied_dns_names = dst ? dst->filtered : 0,
	};

	add_rows(ms, policy_rule_rows, ROWS(policy_rule_rows), &c);
	if (st)
		add_rows(ms, policy_flow_rows, ROWS(policy_flow_rows), &c);
	if (dst)
		add_rows(ms, policy_name_rows, ROWS(policy_name_rows), &c);
}

void vg_metrics_add_glisten(struct vg_metrics *ms, const struct vg_glisten_stats *st)
{
	add_rows(ms, glisten_rows, ROWS(glisten_rows), st);
}

void vg_metrics_add_sni(struct vg_metrics *ms, const struct sni_stats *st)
{
	struct vg_metric mt;
	int r;

	add_rows(ms, sni_rows, ROWS(sni_rows), st);
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

void vg_metrics_add_gvnotify(struct vg_metrics *ms, const struct vg_gvnotify_stats *st)
{
	add_rows(ms, gvnotify_rows, ROWS(gvnotify_rows), st);
}

void vg_metrics_add_ssh(struct vg_metrics *ms, const struct vg_sshfwd_stats *st)
{
	add_rows(ms, ssh_rows, ROWS(ssh_rows), st);
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
