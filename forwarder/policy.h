/* SPDX-License-Identifier: MIT */
/*
 * policy.h - outbound CIDR policy shared by the TCP and UDP forwarders
 * (internal to forwarder/; cmd reaches it through forwarder.h).
 *
 * Rules are IPv4 or IPv6 prefixes marked allow or deny, in a fixed table
 * (one table, each rule tagged with its family). The most
 * specific matching rule wins; on a tie, an explicit rule beats the built-in
 * link-local deny, and deny beats allow. No match: allowed when there are no
 * allow rules, denied otherwise. 169.254.0.0/16 (cloud metadata) is denied
 * unless a rule allows it. For IPv6 the built-in denies (not stored in the
 * table, so n and n_allow count what the user gave) are fe80::/10
 * (link-local), ff00::/8 (multicast), ::/128 (unspecified) and
 * fd00:ec2::254/128 (the IPv6 cloud metadata address); a v4-mapped
 * destination (::ffff:a.b.c.d) is judged by the IPv4 rules. An allow rule
 * of either family makes "no match" a deny for both families.
 */
#ifndef VGATE_FORWARDER_POLICY_H
#define VGATE_FORWARDER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FWD_POLICY_MAX 256

struct fwd_rule {
	uint32_t net;  /* network order */
	uint32_t mask; /* network order */
	uint8_t net6[16]; /* IPv6 network (host bits cleared) when v6 */
	uint8_t prefix;
	bool v6;
	bool allow;
	bool builtin;
};

struct fwd_policy {
	struct fwd_rule rules[FWD_POLICY_MAX];
	size_t n;
	size_t n_allow;   /* the user's allow rules */
	size_t n_builtin; /* rules vgate added itself (metadata deny/allow) */
};

#endif
