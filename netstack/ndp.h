/* SPDX-License-Identifier: MIT */
/*
 * ndp.h - the gateway's IPv6 Neighbour Discovery (RFC 4861) and Router
 * Advertisements (RFC 4861, RFC 8106 RDNSS/DNSSL), without I/O: vgate's
 * own IPv6 link layer, as link.c's ARP and dhcp.c are for IPv4 (lwIP's nd6
 * never sees a Neighbour Discovery message).
 *
 * The gateway owns three addresses on the link: fe80::1 (link-local, the
 * source of every RA and the guest's default router), PREFIX::1 (the
 * gateway in the guest's /64) and PREFIX::254 (the host alias). ndp_input()
 * takes one ICMPv6 Neighbour Discovery message the link has already found
 * (ip6_upper()) and, when an answer is due, builds the whole Ethernet frame
 * in a struct ndp_frame; the caller sends it:
 *  - Neighbour Solicitation for one of the three: a Neighbour Advertisement
 *    (solicited, override; router flag for the gateway's two), the sender
 *    learnt from its source link-layer address option;
 *  - a DAD probe (source ::) for one of the three: defended by an
 *    unsolicited advertisement to all-nodes; a DAD probe for any other
 *    address (the guest's own) is never answered, so the guest's addresses
 *    never clash;
 *  - Neighbour Advertisement from the guest: the target learnt;
 *  - Router Solicitation: a Router Advertisement (at most one per
 *    NDP_RS_MIN_MS, others counted);
 *  - Router Advertisement and Redirect from the guest: ignored, counted.
 * Every message is checked first (RFC 4861 sections 6.1 and 7.1: hop limit
 * 255, code 0, ICMPv6 checksum, length, option lengths, no fragment); a
 * message that fails is a counted drop (struct ndp_stats.bad).
 *
 * Neighbours: a fixed table of NDP_NEIGH_MAX guest addresses and their
 * MACs, learnt by the link from every plausible packet (ndp_learn()) and
 * from the options above; the oldest entry is replaced when full.
 *
 * Router Advertisements (ndp_ra()) carry the source link-layer address,
 * the MTU, the /64 with the on-link and autonomous flags (SLAAC), RDNSS
 * (the gateway's PREFIX::1) and DNSSL (the configured search list), with
 * the O flag (other configuration by stateless DHCPv6) and the M flag when
 * configured (addresses by DHCPv6 IA_NA). ndp_ra_next_ms() says when the
 * next periodic one is due: NDP_RA_INITIAL of them NDP_RA_INITIAL_MS
 * apart after start, then every NDP_RA_MIN_MS..NDP_RA_MAX_MS, jittered.
 *
 * State is one caller-owned struct ndp; nothing here allocates, and the
 * caller passes the clock in, so everything is testable without a link.
 * Return convention: ndp_input() returns 1 with a frame to send, 0 when
 * nothing is to be sent, -1 for a counted drop; builders return the frame
 * length, 0 when nothing was built.
 */
#ifndef VGATE_NETSTACK_NDP_H
#define VGATE_NETSTACK_NDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NDP_NEIGH_MAX	  64
#define NDP_FRAME_MAX	  640 /* largest frame built: an RA with a full DNSSL */
#define NDP_RS_MIN_MS	  500 /* solicited RAs at most this often */
#define NDP_RA_INITIAL	  3   /* first unsolicited RAs (RFC 4861 MAX_INITIAL_RTR_ADVERTISEMENTS) */
#define NDP_RA_INITIAL_MS 16000
#define NDP_RA_FIRST_MS	  1000 /* the first unsolicited RA after start */
#define NDP_RA_MIN_MS	  200000
#define NDP_RA_MAX_MS	  600000
#define NDP_ROUTER_LIFE_S 1800	/* 3 x the longest RA interval */
#define NDP_VALID_LIFE_S  86400 /* prefix valid lifetime */
#define NDP_PREF_LIFE_S	  14400 /* prefix preferred lifetime */
#define NDP_DNS_LIFE_S	  1800	/* RDNSS and DNSSL (RFC 8106: at least 3 x max interval) */

/* ICMPv6 types */
#define ICMP6_ECHO_REQ 128
#define ICMP6_ECHO_REP 129
#define ND_RS	       133
#define ND_RA	       134
#define ND_NS	       135
#define ND_NA	       136
#define ND_REDIRECT    137

/**
 * struct ndp_config - the link's IPv6 parameters (addresses in network order)
 * @gw_mac:	the gateway's MAC
 * @prefix:	the guest's /64 (host bits zero)
 * @gw_ll:	the gateway's link-local address (fe80::1)
 * @gw:		the gateway's address in @prefix (PREFIX::1)
 * @host:	the host alias in @prefix (PREFIX::254)
 * @mtu:	link MTU announced in RAs
 * @search:	DNSSL domains, space or comma separated (may be NULL or empty)
 * @managed:	set the M flag (a DHCPv6 server hands out IA_NA addresses)
 */
struct ndp_config {
	uint8_t gw_mac[6];
	uint8_t prefix[16];
	uint8_t gw_ll[16];
	uint8_t gw[16];
	uint8_t host[16];
	unsigned int mtu;
	const char *search;
	bool managed;
};

/**
 * struct ndp_stats - Neighbour Discovery counters
 * @ns_in:	solicitations for the gateway's addresses answered
 * @na_out:	advertisements sent (answers and DAD defences)
 * @dad_defended: DAD probes for a gateway address answered
 * @dad_seen:	DAD probes for other addresses, deliberately unanswered
 * @na_in:	advertisements from the guest
 * @conflict:	guest advertisements claiming a gateway address (ignored)
 * @ns_out:	solicitations sent for unknown guest addresses
 * @rs_in:	router solicitations
 * @rs_limited:	router solicitations not answered (within NDP_RS_MIN_MS)
 * @ra_out:	router advertisements sent
 * @ignored:	valid messages with nothing to do (RA or redirect from the
 *		guest, solicitations for other addresses)
 * @bad:	dropped: malformed, bad checksum, hop limit not 255, code not
 *		0, bad options, fragmented
 */
struct ndp_stats {
	uint64_t ns_in, na_out, dad_defended, dad_seen, na_in, conflict, ns_out;
	uint64_t rs_in, rs_limited, ra_out, ignored, bad;
};

struct ndp_neigh {
	uint8_t ip6[16];
	uint8_t mac[6];
	uint64_t seen_ms; /* 0: free */
};

/**
 * struct ndp - one link's Neighbour Discovery state
 * @cfg:	configuration (@cfg.search points at @search)
 * @search:	copy of the search list
 * @neigh:	guest neighbours
 * @st:		counters
 * @rs_ms:	loop time of the last solicited RA (0: none yet)
 * @ra_sent:	unsolicited RAs sent so far
 * @seed:	jitter state of the RA interval
 */
struct ndp {
	struct ndp_config cfg;
	char search[256];
	struct ndp_neigh neigh[NDP_NEIGH_MAX];
	struct ndp_stats st;
	uint64_t rs_ms;
	unsigned int ra_sent;
	uint32_t seed;
};

/**
 * struct ndp_frame - an Ethernet frame to send to the guest
 * @data:	Ethernet + IPv6 + ICMPv6
 * @len:	bytes of @data
 */
struct ndp_frame {
	uint8_t data[NDP_FRAME_MAX];
	size_t len;
};

/**
 * ndp_init() - set up @nd from @cfg (copied, search list included)
 * @nd:		state to fill
 * @cfg:	configuration
 */
void ndp_init(struct ndp *nd, const struct ndp_config *cfg);

/**
 * ndp_set_managed() - turn the RA's M flag on or off (the DHCPv6 server
 * serves IA_NA addresses or not)
 * @nd:		state
 * @on:		M flag
 */
void ndp_set_managed(struct ndp *nd, bool on);

/**
 * ndp_input() - one Neighbour Discovery message from the guest
 * @nd:		state
 * @now_ms:	loop time
 * @src_mac:	Ethernet source of the frame
 * @ip:		the IPv6 packet (fixed header checked by the caller)
 * @len:	its length (header + payload length)
 * @off:	offset of the ICMPv6 message (after extension headers)
 * @out:	filled with the frame to send when 1 is returned
 *
 * Return: 1 with @out to send, 0 with nothing to send, -1 dropped (counted
 *	   in @nd->st.bad)
 */
int ndp_input(struct ndp *nd, uint64_t now_ms, const uint8_t *src_mac, const uint8_t *ip,
	      size_t len, size_t off, struct ndp_frame *out);

/**
 * ndp_is_nd() - whether an ICMPv6 type is one of Neighbour Discovery's
 * (133..137), which the link hands to ndp_input() and never to lwIP
 * @type:	ICMPv6 type
 *
 * Return: true for RS, RA, NS, NA and Redirect
 */
static inline bool ndp_is_nd(uint8_t type)
{
	return type >= ND_RS && type <= ND_REDIRECT;
}

/**
 * ndp_is_ours() - whether @ip6 is one of the gateway's unicast addresses
 * (fe80::1, PREFIX::1, PREFIX::254)
 * @nd:		state
 * @ip6:	address
 *
 * Return: true when it is
 */
bool ndp_is_ours(const struct ndp *nd, const uint8_t *ip6);

/**
 * ndp_src_plausible() - whether @ip6 may be the source of a guest packet:
 * a link-local unicast address or one in the prefix, not the gateway's or
 * the host alias, not the prefix's subnet-router anycast address
 * @nd:		state
 * @ip6:	address
 *
 * Return: true when plausible (:: is not)
 */
bool ndp_src_plausible(const struct ndp *nd, const uint8_t *ip6);

/**
 * ndp_learn() - remember that the guest's @ip6 is at @mac (ignored unless
 * @ip6 is plausible and @mac unicast)
 * @nd:		state
 * @now_ms:	loop time (not 0)
 * @ip6:	address
 * @mac:	hardware address
 */
void ndp_learn(struct ndp *nd, uint64_t now_ms, const uint8_t *ip6, const uint8_t *mac);

/**
 * ndp_lookup() - the MAC learnt for @ip6
 * @nd:		state
 * @ip6:	address
 *
 * Return: the MAC (valid until the next ndp_learn()), or NULL
 */
const uint8_t *ndp_lookup(const struct ndp *nd, const uint8_t *ip6);

/**
 * ndp_solicit() - build a Neighbour Solicitation for @target (to its
 * solicited-node group, from fe80::1, with the gateway's MAC); counted in
 * ns_out
 * @nd:		state
 * @target:	the guest address whose MAC is wanted
 * @out:	frame
 *
 * Return: the frame length
 */
size_t ndp_solicit(struct ndp *nd, const uint8_t *target, struct ndp_frame *out);

/**
 * ndp_ra() - build a Router Advertisement; counted in ra_out
 * @nd:		state
 * @dst:	unicast destination, or NULL for all-nodes (ff02::1)
 * @dst_mac:	its MAC (ignored when @dst is NULL)
 * @out:	frame
 *
 * Return: the frame length
 */
size_t ndp_ra(struct ndp *nd, const uint8_t *dst, const uint8_t *dst_mac, struct ndp_frame *out);

/**
 * ndp_ra_next_ms() - delay until the next unsolicited RA: NDP_RA_FIRST_MS
 * on the first call (at start), then NDP_RA_INITIAL_MS until
 * NDP_RA_INITIAL were due, then uniform in NDP_RA_MIN_MS..NDP_RA_MAX_MS,
 * jittered by @nd's own state mixed with the loop clock
 * @nd:		state
 * @now_ms:	loop time
 *
 * Return: milliseconds
 */
uint64_t ndp_ra_next_ms(struct ndp *nd, uint64_t now_ms);

/**
 * ndp_mcast_mac() - the Ethernet group address of IPv6 multicast @ip6
 * (33:33 and its last four bytes, RFC 2464)
 * @ip6:	multicast address
 * @mac:	output
 */
void ndp_mcast_mac(const uint8_t *ip6, uint8_t *mac);

#endif /* VGATE_NETSTACK_NDP_H */
