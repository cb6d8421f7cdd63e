/* SPDX-License-Identifier: MIT */
/*
 * dhcp.c - DHCP server state machine: DISCOVER/OFFER, REQUEST/ACK/NAK,
 * RELEASE, DECLINE and INFORM, over a fixed lease table indexed by address.
 * Messages are parsed with explicit bounds checks; anything malformed is
 * counted in stats.bad and ignored.
 */
#include "dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"

#define BOOTP_FIXED   236
#define BOOTP_MAGIC   0x63825363u
#define OPT_PAD	      0
#define OPT_MASK      1
#define OPT_ROUTER    3
#define OPT_DNS	      6
#define OPT_HOSTNAME  12
#define OPT_DOMAIN    15
#define OPT_MTU	      26
#define OPT_BCAST     28
#define OPT_REQ_IP    50
#define OPT_LEASE     51
#define OPT_OVERLOAD  52
#define OPT_MSG_TYPE  53
#define OPT_SERVER_ID 54
#define OPT_T1	      58
#define OPT_T2	      59
#define OPT_SEARCH    119
#define OPT_END	      255

/* what dhcp_input() extracts from a client message */
struct dhcp_msg_in {
	uint8_t type;
	uint32_t xid;
	uint16_t flags;
	uint32_t ciaddr;
	uint8_t chaddr[6];
	uint32_t req_ip;
	uint32_t server_id;
	char hostname[64];
};

/**
 * dhcp_init() - set up a server and its lease table
 * @s:		server
 * @cfg:	configuration (strings copied)
 *
 * Return: 0, or -EINVAL (bad range) / -ENOMEM
 */
int dhcp_init(struct dhcp_server *s, const struct dhcp_config *cfg)
{
	uint32_t first = ntohl(cfg->first), last = ntohl(cfg->last);

	memset(s, 0, sizeof(*s));
	if (last < first)
		return -EINVAL;
	s->cfg = *cfg;
	s->nleases = (size_t)(last - first) + 1;
	if (s->nleases > DHCP_MAX_LEASES)
		s->nleases = DHCP_MAX_LEASES;
	s->leases = calloc(s->nleases, sizeof(*s->leases));
	if (!s->leases)
		return -ENOMEM;
	if (cfg->domain)
		strncpy(s->domain, cfg->domain, sizeof(s->domain) - 1);
	if (cfg->search)
		strncpy(s->search, cfg->search, sizeof(s->search) - 1);
	s->cfg.domain = s->domain;
	s->cfg.search = s->search;
	return 0;
}

void dhcp_free(struct dhcp_server *s)
{
	free(s->leases);
	s->leases = NULL;
}

/**
 * dhcp_lease_at() - lease slot @i, for listing
 * @s:	server
 * @i:	slot index
 * @ip:	set to the slot's address (network order)
 *
 * Return: the lease, or NULL if the slot is unused or out of range
 */
const struct dhcp_lease *dhcp_lease_at(const struct dhcp_server *s, size_t i, uint32_t *ip)
{
	if (i >= s->nleases || !s->leases[i].used)
		return NULL;
	*ip = htonl(ntohl(s->cfg.first) + (uint32_t)i);
	return &s->leases[i];
}

static struct dhcp_lease *slot_of(struct dhcp_server *s, uint32_t ip, size_t *idx)
{
	uint32_t h = ntohl(ip), first = ntohl(s->cfg.first);

	if (h < first || (size_t)(h - first) >= s->nleases)
		return NULL;
	if (idx)
		*idx = h - first;
	return &s->leases[h - first];
}

static uint32_t slot_ip(const struct dhcp_server *s, size_t i)
{
	return htonl(ntohl(s->cfg.first) + (uint32_t)i);
}

/* the static lease of @mac, or NULL */
static const struct dhcp_static *static_of(const struct dhcp_server *s, const uint8_t *mac)
{
	size_t i;

	for (i = 0; i < s->cfg.n_statics; i++)
		if (!memcmp(s->cfg.statics[i].mac, mac, 6))
			return &s->cfg.statics[i];
	return NULL;
}

/* true if @ip is another client's static address */
static bool reserved_for_other(const struct dhcp_server *s, uint32_t ip, const uint8_t *mac)
{
	size_t i;

	for (i = 0; i < s->cfg.n_statics; i++)
		if (s->cfg.statics[i].ip == ip && memcmp(s->cfg.statics[i].mac, mac, 6))
			return true;
	return false;
}

/* slot @idx may be given to @mac: free, expired or its own, and not reserved */
static bool slot_free_for(const struct dhcp_server *s, size_t idx, const uint8_t *mac, uint64_t now)
{
	const struct dhcp_lease *l = &s->leases[idx];

	if (reserved_for_other(s, slot_ip(s, idx), mac))
		return false;
	return !l->used || l->expires_ms <= now || !memcmp(l->mac, mac, 6);
}

static long find_by_mac(const struct dhcp_server *s, const uint8_t *mac, uint64_t now)
{
	size_t i;

	for (i = 0; i < s->nleases; i++)
		if (s->leases[i].used && s->leases[i].expires_ms > now &&
		    !memcmp(s->leases[i].mac, mac, 6))
			return (long)i;
	return -1;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/**
 * parse_options() - walk an option area, filling @m
 * @p:		options
 * @len:	their length
 * @m:		message being parsed
 * @overload:	set to the value of option 52 if present
 *
 * Return: 0, or -1 if an option runs past the end
 */
static int parse_options(const uint8_t *p, size_t len, struct dhcp_msg_in *m, uint8_t *overload)
{
	size_t i = 0;

	while (i < len) {
		uint8_t code = p[i++], olen;

		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			return 0;
		if (i >= len)
			return -1;
		olen = p[i++];
		if (olen > len - i)
			return -1;
		switch (code) {
		case OPT_MSG_TYPE:
			if (olen == 1)
				m->type = p[i];
			break;
		case OPT_REQ_IP:
			if (olen == 4)
				m->req_ip = get32(p + i);
			break;
		case OPT_SERVER_ID:
			if (olen == 4)
				m->server_id = get32(p + i);
			break;
		case OPT_OVERLOAD:
			if (olen == 1 && overload)
				*overload = p[i];
			break;
		case OPT_HOSTNAME: {
			size_t n = olen < sizeof(m->hostname) - 1 ? olen : sizeof(m->hostname) - 1;
			size_t k;

			for (k = 0; k < n; k++)
				m->hostname[k] =
				    (p[i + k] >= 0x20 && p[i + k] < 0x7f) ? (char)p[i + k] : '?';
			m->hostname[n] = '\0';
			break;
		}
		default:
			break;
		}
		i += olen;
	}
	return 0; /* a missing END is tolerated, as most servers do */
}

static int parse_msg(const uint8_t *msg, size_t len, struct dhcp_msg_in *m)
{
	uint8_t overload = 0;

	memset(m, 0, sizeof(*m));
	if (len < BOOTP_FIXED + 4 || msg[0] != 1 /* BOOTREQUEST */ || msg[1] != 1 || msg[2] != 6)
		return -1;
	if (ntohl(get32(msg + BOOTP_FIXED)) != BOOTP_MAGIC)
		return -1;
	m->xid = get32(msg + 4);
	memcpy(&m->flags, msg + 10, 2);
	m->ciaddr = get32(msg + 12);
	memcpy(m->chaddr, msg + 28, 6);
	if (parse_options(msg + BOOTP_FIXED + 4, len - BOOTP_FIXED - 4, m, &overload) < 0)
		return -1;
	if ((overload & 1) && parse_options(msg + 108, 128, m, NULL) < 0)
		return -1;
	if ((overload & 2) && parse_options(msg + 44, 64, m, NULL) < 0)
		return -1;
	if (m->type < DHCP_DISCOVER || m->type > DHCP_INFORM)
		return -1;
	if (m->chaddr[0] & 1) /* multicast MAC as client hardware address */
		return -1;
	return 0;
}

struct opt_writer {
	uint8_t *p;
	size_t len;
	size_t cap;
};

static void opt_put(struct opt_writer *w, uint8_t code, const void *data, size_t len)
{
	if (len > 255 || w->len + 2 + len + 1 > w->cap)
		return;
	w->p[w->len++] = code;
	w->p[w->len++] = (uint8_t)len;
	memcpy(w->p + w->len, data, len);
	w->len += len;
}

static void opt_put32(struct opt_writer *w, uint8_t code, uint32_t v_net)
{
	opt_put(w, code, &v_net, 4);
}

static void build_reply(struct dhcp_server *s, const struct dhcp_msg_in *m, const uint8_t *req,
			enum dhcp_msg type, uint32_t yiaddr, struct dhcp_reply *out)
{
	const struct dhcp_config *c = &s->cfg;
	struct opt_writer w;
	uint8_t t = (uint8_t)type;
	uint32_t lease = htonl(c->lease_s);

	memset(out, 0, sizeof(*out));
	out->type = type;
	out->data[0] = 2; /* BOOTREPLY */
	out->data[1] = 1;
	out->data[2] = 6;
	memcpy(out->data + 4, &m->xid, 4);
	memcpy(out->data + 10, req + 10, 2); /* flags */
	if (type != DHCP_NAK) {
		if (type == DHCP_ACK && m->type == DHCP_INFORM)
			memcpy(out->data + 12, &m->ciaddr, 4);
		else
			memcpy(out->data + 16, &yiaddr, 4);
		memcpy(out->data + 20, &c->server_ip, 4);
	}
	memcpy(out->data + 28, req + 28, 16); /* chaddr */
	out->data[BOOTP_FIXED] = 0x63;
	out->data[BOOTP_FIXED + 1] = 0x82;
	out->data[BOOTP_FIXED + 2] = 0x53;
	out->data[BOOTP_FIXED + 3] = 0x63;
	w.p = out->data + BOOTP_FIXED + 4;
	w.len = 0;
	w.cap = sizeof(out->data) - BOOTP_FIXED - 4;
	opt_put(&w, OPT_MSG_TYPE, &t, 1);
	opt_put32(&w, OPT_SERVER_ID, c->server_ip);
	if (type != DHCP_NAK) {
		uint16_t mtu = htons(c->mtu);
		uint32_t bcast = (c->server_ip & c->netmask) | ~c->netmask;
		uint8_t search[255];
		size_t slen;

		if (m->type != DHCP_INFORM) {
			opt_put32(&w, OPT_LEASE, lease);
			opt_put32(&w, OPT_T1, htonl(c->lease_s / 2));
			opt_put32(&w, OPT_T2, htonl(c->lease_s / 8 * 7));
		}
		opt_put32(&w, OPT_MASK, c->netmask);
		opt_put32(&w, OPT_ROUTER, c->router);
		opt_put32(&w, OPT_DNS, c->dns);
		opt_put32(&w, OPT_BCAST, bcast);
		opt_put(&w, OPT_MTU, &mtu, 2);
		if (c->domain && *c->domain)
			opt_put(&w, OPT_DOMAIN, c->domain, strlen(c->domain));
		if (c->search && *c->search) {
			slen = vg_dns_name_list(c->search, search, sizeof(search));
			if (slen)
				opt_put(&w, OPT_SEARCH, search, slen);
		}
	}
	w.p[w.len++] = OPT_END;
	out->len = BOOTP_FIXED + 4 + w.len;
	if (out->len < 300) /* BOOTP minimum, some clients insist */
		out->len = 300;
	/* RFC 2131 4.1: unicast to a configured client, else broadcast */
	if (type != DHCP_NAK && m->ciaddr) {
		out->dst_ip = m->ciaddr;
		memcpy(out->dst_mac, m->chaddr, 6);
	} else {
		out->dst_ip = 0xffffffffu;
		if (ntohs(m->flags) & 0x8000 || type == DHCP_NAK)
			memset(out->dst_mac, 0xff, 6);
		else
			memcpy(out->dst_mac, m->chaddr, 6);
	}
}

static void bind_slot(struct dhcp_lease *l, const struct dhcp_msg_in *m, uint64_t until, bool bound)
{
	l->used = true;
	l->bound = bound;
	l->expires_ms = until;
	memcpy(l->mac, m->chaddr, 6);
	if (m->hostname[0])
		memcpy(l->hostname, m->hostname, sizeof(l->hostname));
}

/**
 * dhcp_input() - process one client message
 * @s:		server
 * @now_ms:	current time
 * @msg:	UDP payload received on port 67
 * @len:	its length
 * @out:	the answer, when one is due
 *
 * Return: 1 if @out holds an answer to send, 0 if none is due, -1 if the
 * message was malformed (counted)
 */
int dhcp_input(struct dhcp_server *s, uint64_t now_ms, const uint8_t *msg, size_t len,
	       struct dhcp_reply *out)
{
	const struct dhcp_static *st;
	struct dhcp_msg_in m;
	struct dhcp_lease *l;
	size_t idx = 0;
	long i;

	if (parse_msg(msg, len, &m) < 0) {
		s->st.bad++;
		return -1;
	}
	switch (m.type) {
	case DHCP_DISCOVER:
		s->st.discover++;
		i = find_by_mac(s, m.chaddr, now_ms);
		st = static_of(s, m.chaddr);
		if (st && slot_of(s, st->ip, &idx) && (long)idx != i) {
			/* its reserved address, whatever it held before */
			if (i >= 0)
				s->leases[i].used = false;
			i = (long)idx;
			s->leases[i].used = false;
		}
		if (i < 0 && m.req_ip && slot_of(s, m.req_ip, &idx) &&
		    slot_free_for(s, idx, m.chaddr, now_ms))
			i = (long)idx;
		for (idx = 0; i < 0 && idx < s->nleases; idx++)
			if (slot_free_for(s, idx, m.chaddr, now_ms))
				i = (long)idx;
		if (i < 0)
			return 0; /* pool exhausted */
		l = &s->leases[i];
		if (!(l->used && l->bound && !memcmp(l->mac, m.chaddr, 6) &&
		      l->expires_ms > now_ms))
			bind_slot(l, &m, now_ms + DHCP_OFFER_HOLD_MS, false);
		build_reply(s, &m, msg, DHCP_OFFER, slot_ip(s, (size_t)i), out);
		s->st.offer++;
		return 1;
	case DHCP_REQUEST: {
		uint32_t want = m.req_ip ? m.req_ip : m.ciaddr;

		s->st.request++;
		if (m.server_id && m.server_id != s->cfg.server_ip) {
			/* the client chose another server: drop our offer */
			i = find_by_mac(s, m.chaddr, now_ms);
			if (i >= 0 && !s->leases[i].bound)
				s->leases[i].used = false;
			return 0;
		}
		l = want ? slot_of(s, want, &idx) : NULL;
		st = static_of(s, m.chaddr);
		if (!l || !slot_free_for(s, idx, m.chaddr, now_ms) || (st && st->ip != want)) {
			build_reply(s, &m, msg, DHCP_NAK, 0, out);
			s->st.nak++;
			return 1;
		}
		/* one lease per client: forget any other address it held */
		i = find_by_mac(s, m.chaddr, now_ms);
		if (i >= 0 && &s->leases[i] != l)
			s->leases[i].used = false;
		bind_slot(l, &m, now_ms + (uint64_t)s->cfg.lease_s * 1000u, true);
		build_reply(s, &m, msg, DHCP_ACK, want, out);
		s->st.ack++;
		return 1;
	}
	case DHCP_RELEASE:
		s->st.release++;
		l = slot_of(s, m.ciaddr, NULL);
		if (l && l->used && !memcmp(l->mac, m.chaddr, 6))
			memset(l, 0, sizeof(*l));
		return 0;
	case DHCP_DECLINE:
		s->st.decline++;
		l = slot_of(s, m.req_ip, NULL);
		if (l && l->used && !memcmp(l->mac, m.chaddr, 6)) {
			/* someone else uses it: park the address */
			memset(l, 0, sizeof(*l));
			l->used = true;
			l->expires_ms = now_ms + DHCP_DECLINE_HOLD_MS;
		}
		return 0;
	case DHCP_INFORM:
		s->st.inform++;
		build_reply(s, &m, msg, DHCP_ACK, 0, out);
		s->st.ack++;
		return 1;
	default:
		s->st.bad++;
		return -1;
	}
}
