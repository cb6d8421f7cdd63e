/* SPDX-License-Identifier: MIT */
/*
 * guestfwd.h - --guest-forwards: the rules under which the guest may add
 * and remove port forwards through gvproxy's /services/forwarder/expose
 * and /unexpose on the guest API (http://gateway.containers.internal/,
 * cmd/api.h), as podman inside a VM does to publish a container's port.
 * Off by default; then the guest API is read-only (403) as before.
 *
 * The rules, checked by vg_guest_fwd_check() (pure, unit-tested) in this
 * order, each refusal a 403 with the reason and the flag that lifts it:
 *  - the SNI allowlist is on: refused unless --guest-forwards-with-sni
 *    (a forward would open a path into the guest that the operator's
 *    allowlist set-up did not plan for);
 *  - the local (host) address must be 127.0.0.1 or one given with
 *    --guest-forwards-local ADDR; "all addresses" (":PORT", 0.0.0.0) only
 *    when 0.0.0.0 was given;
 *  - a local port below 1024 only with --guest-forwards-low-ports;
 *  - expose: the remote must be the guest itself: no address (the guest's
 *    current lease) or one of the guest's own leased addresses.
 * The API keeps the forwards the guest added (at most VG_GUEST_FWD_MAX)
 * and lets the guest unexpose only those, never the operator's.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's buffer.
 */
#ifndef VGATE_CMD_GUESTFWD_H
#define VGATE_CMD_GUESTFWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_GUEST_FWD_LOCAL_MAX 8  /* --guest-forwards-local */
#define VG_GUEST_FWD_MAX       32 /* forwards the guest holds at once */

/**
 * struct vg_guest_fwd_rules - what the operator allowed
 * @on:		--guest-forwards given
 * @local:	--guest-forwards-local addresses (network order; 0 = all
 *		addresses), besides 127.0.0.1 which is always allowed
 * @n_local:	their number
 * @low_ports:	--guest-forwards-low-ports: local ports below 1024 allowed
 * @with_sni:	--guest-forwards-with-sni: allowed while the SNI allowlist is on
 */
struct vg_guest_fwd_rules {
	bool on;
	uint32_t local[VG_GUEST_FWD_LOCAL_MAX];
	size_t n_local;
	bool low_ports;
	bool with_sni;
};

/**
 * struct vg_guest_fwd_req - one guest request, as the API parsed it
 * @removes:	unexpose (no remote to check)
 * @local_ip:	host address to listen on, network order (0: all addresses)
 * @local_port:	host port
 * @remote_ip:	guest address, network order (0: the guest's lease)
 * @guest_ips:	the guest's own IPv4 addresses (its leases)
 * @n_guest_ips: their number
 * @sni_on:	the SNI allowlist filter is running
 */
struct vg_guest_fwd_req {
	bool removes;
	uint32_t local_ip;
	uint16_t local_port;
	uint32_t remote_ip;
	const uint32_t *guest_ips;
	size_t n_guest_ips;
	bool sni_on;
};

/**
 * vg_guest_fwd_check() - may the guest make this request?
 * @r:		the operator's rules (@r->on is not looked at: the API only
 *		routes the guest's writes here when it is set)
 * @q:		the request
 * @why:	the reason when refused
 * @len:	its size
 *
 * Return: 0 allowed, -1 refused (the API answers 403 with @why)
 */
int vg_guest_fwd_check(const struct vg_guest_fwd_rules *r, const struct vg_guest_fwd_req *q,
		       char *why, size_t len);

/**
 * vg_guest_fwd_add_local() - add a --guest-forwards-local address
 * @r:		rules
 * @s:		dotted IPv4 address (0.0.0.0: all addresses)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 (not IPv4, or more than VG_GUEST_FWD_LOCAL_MAX)
 */
int vg_guest_fwd_add_local(struct vg_guest_fwd_rules *r, const char *s, char *err, size_t errlen);

#endif
