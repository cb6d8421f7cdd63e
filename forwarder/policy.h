/* SPDX-License-Identifier: MIT */
/*
 * policy.h - outbound CIDR policy shared by the TCP and UDP forwarders
 * (internal to forwarder/; cmd reaches it through forwarder.h).
 *
 * Rules are IPv4 prefixes marked allow or deny, in a fixed table. The most
 * specific matching rule wins; on a tie, an explicit rule beats the built-in
 * link-local deny, and deny beats allow. No match: allowed when there are no
 * allow rules, denied otherwise. 169.254.0.0/16 (cloud metadata) is denied
 * unless a rule allows it.
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
	uint8_t prefix;
	bool allow;
	bool builtin;
};

struct fwd_policy {
	struct fwd_rule rules[FWD_POLICY_MAX];
	size_t n;
	size_t n_allow;
};

#endif
