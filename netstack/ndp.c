/* SPDX-License-Identifier: MIT */
/*
 * ndp.c - the gateway's Neighbour Discovery and Router Advertisements (see
 * ndp.h for the contract): the checks of RFC 4861 sections 6.1 and 7.1 on
 * every message, the answers built as whole Ethernet frames in the caller's
 * struct ndp_frame, and the fixed neighbour table. No I/O, no allocation;
 * the clock comes from the caller.
 */
#include "ndp.h"

#include <string.h>

#include "frame.h"
#include "common/netutil.h"

#define ND_HOPLIMIT	 255
#define RA_CUR_HOPLIMIT	 64
#define OPT_SLLA	 1
#define OPT_TLLA	 2
#define OPT_PREFIX	 3
#define OPT_MTU		 5
#define OPT_RDNSS	 25
#define OPT_DNSSL	 31
#define NA_FLAG_ROUTER	 0x80
#define NA_FLAG_SOLICIT	 0x40
#define NA_FLAG_OVERRIDE 0x20
#define RA_FLAG_MANAGED	 0x80
#define RA_FLAG_OTHER	 0x40
#define PIO_FLAG_ONLINK	 0x80
#define PIO_FLAG_AUTO	 0x40

#define BODY_OFF (ETH_HLEN_ + IP6_HLEN) /* the ICMPv6 message in a frame */

static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};

static bool is_mcast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static bool is_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* ff02::1:ffXX:XXXX */
static bool is_solicited_node(const uint8_t *a)
{
	static const uint8_t pfx[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	return !memcmp(a, pfx, sizeof(pfx));
}

static bool in_prefix(const struct ndp *nd, const uint8_t *a)
{
	return !memcmp(a, nd->cfg.prefix, 8);
}

void ndp_init(struct ndp *nd, const struct ndp_config *cfg)
{
	unsigned int i;

	memset(nd, 0, sizeof(*nd));
	nd->cfg = *cfg;
	if (cfg->search)
		strncpy(nd->search, cfg->search, sizeof(nd->search) - 1);
	nd->cfg.search = nd->search;
	nd->seed = 0x9e3779b9u;
	for (i = 0; i < 6; i++)
		nd->seed = (nd->seed ^ cfg->gw_mac[i]) * 16777619u;
}

void ndp_set_managed(struct ndp *nd, bool on)
{
	nd->cfg.managed = on;
}

bool ndp_is_ours(const struct ndp *nd, const uint8_t *ip6)
{
	return !memcmp(ip6, nd->cfg.gw_ll, 16) || !memcmp(ip6, nd->cfg.gw, 16) ||
	       !memcmp(ip6, nd->cfg.host, 16);
}

bool ndp_src_plausible(const struct ndp *nd, const uint8_t *ip6)
{
	static const uint8_t zero_iid[8];

	if (is_mcast(ip6) || ndp_is_ours(nd, ip6))
		return false;
	if (is_linklocal(ip6))
		return memcmp(ip6 + 8, zero_iid, 8) != 0;
	/* in the prefix, not its subnet-router anycast address (IID 0) */
	return in_prefix(nd, ip6) && memcmp(ip6 + 8, zero_iid, 8) != 0;
}

void ndp_learn(struct ndp *nd, uint64_t now_ms, const uint8_t *ip6, const uint8_t *mac)
{
	struct ndp_neigh *oldest = &nd->neigh[0];
	unsigned int i;

	if (!ndp_src_plausible(nd, ip6) || (mac[0] & 1))
		return;
	if (!now_ms)
		now_ms = 1; /* 0 marks a free slot */
	for (i = 0; i < NDP_NEIGH_MAX; i++) {
		struct ndp_neigh *n = &nd->neigh[i];

		if (n->seen_ms && !memcmp(n->ip6, ip6, 16)) {
			memcpy(n->mac, mac, 6);
			n->seen_ms = now_ms;
			return;
		}
		if (n->seen_ms < oldest->seen_ms)
			oldest = n;
	}
	memcpy(oldest->ip6, ip6, 16);
	memcpy(oldest->mac, mac, 6);
	oldest->seen_ms = now_ms;
}

const uint8_t *ndp_lookup(const struct ndp *nd, const uint8_t *ip6)
{
	unsigned int i;

	for (i = 0; i < NDP_NEIGH_MAX; i++)
		if (nd->neigh[i].seen_ms && !memcmp(nd->neigh[i].ip6, ip6, 16))
			return nd->neigh[i].mac;
	return NULL;
}

void ndp_mcast_mac(const uint8_t *ip6, uint8_t *mac)
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, ip6 + 12, 4);
}

/**
 * frame_finish() - put the Ethernet and IPv6 headers in front of the
 * ICMPv6 message at @out->data + BODY_OFF and fill its checksum
 * @nd:		state (the gateway's MAC)
 * @out:	frame; its message already written
 * @dst_mac:	Ethernet destination
 * @src:	IPv6 source
 * @dst:	IPv6 destination
 * @blen:	message length
 *
 * Return: the frame length
 */
static size_t frame_finish(const struct ndp *nd, struct ndp_frame *out, const uint8_t *dst_mac,
			   const uint8_t *src, const uint8_t *dst, size_t blen)
{
	uint8_t *f = out->data, *ip = f + ETH_HLEN_, *m = f + BODY_OFF;
	uint32_t sum;

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, nd->cfg.gw_mac, 6);
	vg_put_be16(f + 12, 0x86dd);
	memset(ip, 0, IP6_HLEN);
	ip[0] = 0x60;
	vg_put_be16(ip + 4, (uint16_t)blen);
	ip[6] = IP6_NH_ICMP6;
	ip[7] = ND_HOPLIMIT;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	m[2] = m[3] = 0;
	sum = csum_ip6_pseudo(ip, (uint32_t)blen, IP6_NH_ICMP6);
	vg_put_be16(m + 2, csum_fold(csum_partial(m, blen, sum)));
	out->len = BODY_OFF + blen;
	return out->len;
}

/* a link-layer address option (type 1 source, 2 target) at @p */
static size_t opt_lladdr(uint8_t *p, uint8_t type, const uint8_t *mac)
{
	p[0] = type;
	p[1] = 1;
	memcpy(p + 2, mac, 6);
	return 8;
}

/**
 * na_build() - a Neighbour Advertisement for @target, one of ours
 * @nd:		state
 * @out:	frame
 * @dst:	IPv6 destination (the solicitor, or all-nodes)
 * @dst_mac:	its MAC
 * @target:	the gateway address advertised (also the source)
 * @solicited:	S flag
 *
 * Return: the frame length
 */
static size_t na_build(struct ndp *nd, struct ndp_frame *out, const uint8_t *dst,
		       const uint8_t *dst_mac, const uint8_t *target, bool solicited)
{
	uint8_t *m = out->data + BODY_OFF;
	bool router = memcmp(target, nd->cfg.host, 16) != 0; /* the host alias routes nothing */

	memset(m, 0, 24);
	m[0] = ND_NA;
	m[4] = (uint8_t)((router ? NA_FLAG_ROUTER : 0) | (solicited ? NA_FLAG_SOLICIT : 0) |
			 NA_FLAG_OVERRIDE);
	memcpy(m + 8, target, 16);
	nd->st.na_out++;
	return frame_finish(nd, out, dst_mac, target, dst,
			    24 + opt_lladdr(m + 24, OPT_TLLA, nd->cfg.gw_mac));
}

size_t ndp_solicit(struct ndp *nd, const uint8_t *target, struct ndp_frame *out)
{
	uint8_t *m = out->data + BODY_OFF, dst[16], mac[6];

	memcpy(dst, (const uint8_t[13]){0xff, 0x02, [11] = 0x01, [12] = 0xff}, 13);
	memcpy(dst + 13, target + 13, 3);
	ndp_mcast_mac(dst, mac);
	memset(m, 0, 24);
	m[0] = ND_NS;
	memcpy(m + 8, target, 16);
	nd->st.ns_out++;
	return frame_finish(nd, out, mac, nd->cfg.gw_ll, dst,
			    24 + opt_lladdr(m + 24, OPT_SLLA, nd->cfg.gw_mac));
}

size_t ndp_ra(struct ndp *nd, const uint8_t *dst, const uint8_t *dst_mac, struct ndp_frame *out)
{
	uint8_t *m = out->data + BODY_OFF, *p, names[256], mac[6];
	size_t nlen = 0;

	memset(m, 0, 16);
	m[0] = ND_RA;
	m[4] = RA_CUR_HOPLIMIT;
	m[5] = (uint8_t)((nd->cfg.managed ? RA_FLAG_MANAGED : 0) | RA_FLAG_OTHER);
	vg_put_be16(m + 6, NDP_ROUTER_LIFE_S);
	p = m + 16;
	p += opt_lladdr(p, OPT_SLLA, nd->cfg.gw_mac);
	/* MTU */
	memset(p, 0, 8);
	p[0] = OPT_MTU;
	p[1] = 1;
	vg_put_be32(p + 4, nd->cfg.mtu);
	p += 8;
	/* the /64, on-link and for SLAAC */
	memset(p, 0, 32);
	p[0] = OPT_PREFIX;
	p[1] = 4;
	p[2] = 64;
	p[3] = PIO_FLAG_ONLINK | PIO_FLAG_AUTO;
	vg_put_be32(p + 4, NDP_VALID_LIFE_S);
	vg_put_be32(p + 8, NDP_PREF_LIFE_S);
	memcpy(p + 16, nd->cfg.prefix, 8);
	p += 32;
	/* RDNSS: the gateway's address in the prefix */
	memset(p, 0, 8);
	p[0] = OPT_RDNSS;
	p[1] = 3;
	vg_put_be32(p + 4, NDP_DNS_LIFE_S);
	memcpy(p + 8, nd->cfg.gw, 16);
	p += 24;
	/* DNSSL: the search list, padded with zeros to 8 bytes */
	if (nd->search[0])
		nlen = vg_dns_name_list(nd->search, names, sizeof(names));
	if (nlen) {
		size_t olen = (8 + nlen + 7) & ~(size_t)7;

		memset(p, 0, olen);
		p[0] = OPT_DNSSL;
		p[1] = (uint8_t)(olen / 8);
		vg_put_be32(p + 4, NDP_DNS_LIFE_S);
		memcpy(p + 8, names, nlen);
		p += olen;
	}
	nd->st.ra_out++;
	if (!dst) {
		dst = all_nodes;
		ndp_mcast_mac(dst, mac);
		dst_mac = mac;
	}
	return frame_finish(nd, out, dst_mac, nd->cfg.gw_ll, dst, (size_t)(p - m));
}

uint64_t ndp_ra_next_ms(struct ndp *nd, uint64_t now_ms)
{
	uint32_t x = nd->seed ^ (uint32_t)now_ms ^ (uint32_t)(now_ms >> 32);

	/* xorshift32, its state never 0 */
	if (!x)
		x = 0x2545f491u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	nd->seed = x;
	if (nd->ra_sent++ == 0)
		return NDP_RA_FIRST_MS;
	if (nd->ra_sent <= NDP_RA_INITIAL)
		return NDP_RA_INITIAL_MS;
	return NDP_RA_MIN_MS + x % (NDP_RA_MAX_MS - NDP_RA_MIN_MS + 1);
}

/**
 * nd_options() - check a message's options and find its link-layer ones
 * @m:		the message
 * @mlen:	its length
 * @at:		offset of the first option
 * @slla:	set to the source link-layer address, or NULL
 * @tlla:	set to the target link-layer address, or NULL
 *
 * Return: 0, or -1 when an option has length 0 or runs past the message
 */
static int nd_options(const uint8_t *m, size_t mlen, size_t at, const uint8_t **slla,
		      const uint8_t **tlla)
{
	*slla = *tlla = NULL;
	while (at < mlen) {
		size_t ol;

		if (mlen - at < 2)
			return -1;
		ol = (size_t)m[at + 1] * 8;
		if (!ol || ol > mlen - at)
			return -1;
		if (m[at] == OPT_SLLA)
			*slla = m + at + 2;
		else if (m[at] == OPT_TLLA)
			*tlla = m + at + 2;
		at += ol;
	}
	return 0;
}

/* the fixed part of each message type, where its options start */
static size_t nd_fixed_len(uint8_t type)
{
	switch (type) {
	case ND_RS:
		return 8;
	case ND_RA:
		return 16;
	case ND_NS:
	case ND_NA:
		return 24;
	default: /* redirect */
		return 40;
	}
}

static int ns_input(struct ndp *nd, uint64_t now_ms, const uint8_t *src_mac, const uint8_t *ip,
		    const uint8_t *m, const uint8_t *slla, struct ndp_frame *out)
{
	const uint8_t *src = ip + 8, *dst = ip + 24, *target = m + 8;

	if (vg_ip6_unspecified(src) && (!is_solicited_node(dst) || slla)) {
		nd->st.bad++;
		return -1;
	}
	if (!ndp_is_ours(nd, target)) {
		if (vg_ip6_unspecified(src))
			nd->st.dad_seen++; /* the guest's own DAD: never answered */
		else
			nd->st.ignored++;
		return 0;
	}
	if (vg_ip6_unspecified(src)) {
		uint8_t mac[6];

		/* someone probes for a gateway address: defend it */
		nd->st.dad_defended++;
		ndp_mcast_mac(all_nodes, mac);
		na_build(nd, out, all_nodes, mac, target, false);
		return 1;
	}
	nd->st.ns_in++;
	if (slla)
		ndp_learn(nd, now_ms, src, slla);
	na_build(nd, out, src, slla ? slla : src_mac, target, true);
	return 1;
}

static int rs_input(struct ndp *nd, uint64_t now_ms, const uint8_t *src_mac, const uint8_t *ip,
		    const uint8_t *slla, struct ndp_frame *out)
{
	const uint8_t *src = ip + 8;

	if (vg_ip6_unspecified(src) && slla) {
		nd->st.bad++;
		return -1;
	}
	nd->st.rs_in++;
	if (nd->rs_ms && now_ms < nd->rs_ms + NDP_RS_MIN_MS) {
		nd->st.rs_limited++;
		return 0;
	}
	nd->rs_ms = now_ms ? now_ms : 1;
	if (vg_ip6_unspecified(src) || !ndp_src_plausible(nd, src)) {
		ndp_ra(nd, NULL, NULL, out);
		return 1;
	}
	if (slla)
		ndp_learn(nd, now_ms, src, slla);
	ndp_ra(nd, src, slla ? slla : src_mac, out);
	return 1;
}

int ndp_input(struct ndp *nd, uint64_t now_ms, const uint8_t *src_mac, const uint8_t *ip,
	      size_t len, size_t off, struct ndp_frame *out)
{
	const uint8_t *m = ip + off, *slla, *tlla;
	size_t mlen = off <= len ? len - off : 0;
	uint32_t sum;

	if (mlen < 8 || !ndp_is_nd(m[0]) || mlen < nd_fixed_len(m[0]) || ip[7] != ND_HOPLIMIT ||
	    m[1] != 0) {
		nd->st.bad++;
		return -1;
	}
	sum = csum_ip6_pseudo(ip, (uint32_t)mlen, IP6_NH_ICMP6);
	if (csum_fold(csum_partial(m, mlen, sum)) != 0 ||
	    nd_options(m, mlen, nd_fixed_len(m[0]), &slla, &tlla) < 0) {
		nd->st.bad++;
		return -1;
	}
	switch (m[0]) {
	case ND_NS:
		if (is_mcast(m + 8)) {
			nd->st.bad++;
			return -1;
		}
		return ns_input(nd, now_ms, src_mac, ip, m, slla, out);
	case ND_NA:
		/* a multicast target, or a solicited advertisement to a group */
		if (is_mcast(m + 8) || (is_mcast(ip + 24) && (m[4] & NA_FLAG_SOLICIT))) {
			nd->st.bad++;
			return -1;
		}
		nd->st.na_in++;
		if (ndp_is_ours(nd, m + 8)) {
			nd->st.conflict++;
			return 0;
		}
		ndp_learn(nd, now_ms, m + 8, tlla ? tlla : src_mac);
		return 0;
	case ND_RS:
		return rs_input(nd, now_ms, src_mac, ip, slla, out);
	default: /* RA or redirect from the guest: not ours to act on */
		nd->st.ignored++;
		return 0;
	}
}
