/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - every counter of vgate as one flat list, formatted two ways:
 * JSON for GET /stats (grouped: link, transport, dhcp, dns, forwarder,
 * policy) and the Prometheus text format for GET /metrics (vgate_ prefix,
 * _total suffix on counters, HELP and TYPE once per family, drop reasons as
 * labels). One list feeds both, so they never disagree.
 *
 * Ownership: struct vg_metrics is a fixed-size value (no allocation); the
 * strings it points to are static.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 */
#ifndef VGATE_CMD_METRICS_H
#define VGATE_CMD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cmd/glisten.h"
#include "cmd/gvnotify.h"
#include "cmd/sshfwd.h"
#include "dns/dns.h"
#include "forwarder/forwarder.h"
#include "forwarder/sni.h"
#include "netstack/netstack.h"

/* room for every sample /metrics produces (test_cmd_metrics: everything_fits) */
#define VG_METRICS_MAX 320

/**
 * struct vg_metric - one sample
 * @group:	JSON object it belongs to ("link", "dns", ...)
 * @key:	JSON key inside @group
 * @family:	Prometheus name without "vgate_" and "_total"
 * @label:	Prometheus label set without braces (e.g. reason="runt"), or NULL
 * @label_key:	when @label is NULL: one label built from @label_key and
 *		@label_val (both static, e.g. a module's reason names), or NULL
 * @label_val:	its value
 * @help:	Prometheus HELP text
 * @gauge:	true for a gauge, false for a counter
 * @value:	the value
 */
struct vg_metric {
	const char *group;
	const char *key;
	const char *family;
	const char *label;
	const char *label_key;
	const char *label_val;
	const char *help;
	bool gauge;
	uint64_t value;
};

struct vg_metrics {
	struct vg_metric m[VG_METRICS_MAX];
	size_t n;
};

void vg_metrics_init(struct vg_metrics *ms);

/**
 * vg_metrics_add() - append one sample (silently ignored past VG_METRICS_MAX)
 * @ms:		list
 * @mt:		sample (strings must be static)
 */
void vg_metrics_add(struct vg_metrics *ms, const struct vg_metric *mt);

/* Append the counters of each module */
void vg_metrics_add_ns(struct vg_metrics *ms, const struct ns_stats *st);
void vg_metrics_add_dns(struct vg_metrics *ms, const struct dns_stats *st);
void vg_metrics_add_fwd(struct vg_metrics *ms, const struct fwd_stats *st);
void vg_metrics_add_sni(struct vg_metrics *ms, const struct sni_stats *st);
void vg_metrics_add_ssh(struct vg_metrics *ms, const struct vg_sshfwd_stats *st);
void vg_metrics_add_glisten(struct vg_metrics *ms, const struct vg_glisten_stats *st);
void vg_metrics_add_gvnotify(struct vg_metrics *ms, const struct vg_gvnotify_stats *st);
void vg_metrics_add_policy(struct vg_metrics *ms, const struct fwd_policy *p,
			   const struct fwd_stats *st, const struct dns_stats *dst);

/**
 * vg_metrics_prometheus() - write the Prometheus text exposition format
 * @ms:		list; samples of one family must be adjacent
 * @out:	stream
 *
 * Return: 0, or -1 on a write error
 */
int vg_metrics_prometheus(const struct vg_metrics *ms, FILE *out);

/**
 * vg_metrics_json() - the list as {"group": {"key": value, ...}, ...}
 * @ms:	list
 *
 * Return: a new JSON object (caller owns the reference), or NULL
 */
json_t *vg_metrics_json(const struct vg_metrics *ms);

#endif
