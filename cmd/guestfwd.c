/* SPDX-License-Identifier: MIT */
/*
 * guestfwd.c - the --guest-forwards rules (see guestfwd.h): a pure check
 * of one request against the operator's flags, and the parsing of
 * --guest-forwards-local. No state: the API keeps which forwards are the
 * guest's (cmd/api_gv.c).
 */
#include "cmd/guestfwd.h"

#include <arpa/inet.h>
#include <stdio.h>

int vg_guest_fwd_add_local(struct vg_guest_fwd_rules *r, const char *s, char *err, size_t errlen)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1) {
		snprintf(err, errlen, "invalid --guest-forwards-local '%s' (an IPv4 address)", s);
		return -1;
	}
	if (r->n_local >= VG_GUEST_FWD_LOCAL_MAX) {
		snprintf(err, errlen, "too many --guest-forwards-local (max %d)",
			 VG_GUEST_FWD_LOCAL_MAX);
		return -1;
	}
	r->local[r->n_local++] = in.s_addr;
	return 0;
}

/* whether @ip is 127.0.0.1 or one of @r's addresses */
static bool local_allowed(const struct vg_guest_fwd_rules *r, uint32_t ip)
{
	size_t i;

	if (ip == htonl(INADDR_LOOPBACK))
		return true;
	for (i = 0; i < r->n_local; i++)
		if (r->local[i] == ip)
			return true;
	return false;
}

int vg_guest_fwd_check(const struct vg_guest_fwd_rules *r, const struct vg_guest_fwd_req *q,
		       char *why, size_t len)
{
	char ip[INET_ADDRSTRLEN];
	size_t i;

	if (q->sni_on && !r->with_sni) {
		snprintf(why, len,
			 "guest forwards are off while the SNI allowlist is on "
			 "(--guest-forwards-with-sni)");
		return -1;
	}
	if (!local_allowed(r, q->local_ip)) {
		inet_ntop(AF_INET, &q->local_ip, ip, sizeof(ip));
		snprintf(why, len,
			 "local address %s is not allowed for guest forwards "
			 "(127.0.0.1, or --guest-forwards-local%s)",
			 q->local_ip ? ip : "(all addresses)", q->local_ip ? "" : " 0.0.0.0");
		return -1;
	}
	if (q->local_port < 1024 && !r->low_ports) {
		snprintf(why, len,
			 "local port %u is below 1024 (--guest-forwards-low-ports allows it)",
			 q->local_port);
		return -1;
	}
	if (q->removes || !q->remote_ip)
		return 0;
	for (i = 0; i < q->n_guest_ips; i++)
		if (q->guest_ips[i] == q->remote_ip)
			return 0;
	inet_ntop(AF_INET, &q->remote_ip, ip, sizeof(ip));
	snprintf(why, len, "remote %s is not the guest's own address", ip);
	return -1;
}
