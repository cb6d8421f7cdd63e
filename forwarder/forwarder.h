/* SPDX-License-Identifier: MIT */
/*
 * forwarder.h - NAT of guest flows to host sockets, and the outbound policy.
 *
 * This header is the module's whole contract.
 */
#ifndef VGATE_FORWARDER_H
#define VGATE_FORWARDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forwarder/policy.h"

/**
 * fwd_cidr_parse() - parse "A.B.C.D/N" (or a bare address, /32)
 * @s:		text
 * @net:	network address, network order (host bits cleared)
 * @prefix:	prefix length
 *
 * Return: 0, or -1 if malformed
 */
int fwd_cidr_parse(const char *s, uint32_t *net, uint8_t *prefix);

/**
 * fwd_policy_init() - empty policy with the built-in link-local deny
 * @p:	policy
 */
void fwd_policy_init(struct fwd_policy *p);

/**
 * fwd_policy_add() - add an allow or deny rule
 * @p:		policy
 * @allow:	true for allow
 * @cidr:	"A.B.C.D/N"
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int fwd_policy_add(struct fwd_policy *p, bool allow, const char *cidr, char *err, size_t errlen);

/**
 * fwd_policy_allows() - whether a flow to @ip may leave the machine
 * @p:	policy
 * @ip:	destination, network order
 *
 * Return: true if allowed
 */
bool fwd_policy_allows(const struct fwd_policy *p, uint32_t ip);

#endif /* VGATE_FORWARDER_H */
