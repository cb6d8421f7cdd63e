/* SPDX-License-Identifier: MIT */
/*
 * dhcp6.c - DHCPv6 server state machine (RFC 8415): Information-Request,
 * and for IA_NA Solicit/Advertise (Rapid Commit), Request, Renew, Rebind,
 * Confirm, Release and Decline, over a fixed lease table indexed by the
 * address's interface identifier (PREFIX::(first + slot)).
 *
 * A message is parsed in one bounded pass (parse_msg()): every option and
 * every option nested in an IA or IA address is checked against the bytes
 * that enclose it, and only fixed-size copies survive the pass (at most
 * DHCP6_IA_MAX IAs of DHCP6_IAADDR_MAX addresses; more are validated and
 * not answered). Then check_msg() applies RFC 8415 section 16 (which
 * identifiers each type must or must not carry) and the answer is built
 * with a writer that never runs past DHCP6_REPLY_MAX: an option that does
 * not fit is left out whole, configuration options (DNS, domain list) last.
 *
 * A client's lease is found by its (DUID, IAID); a new one starts at the
 * slot that pair hashes to (FNV-1a), or at the address the client asks for
 * when that one is free, and probes linearly. Nothing here allocates per
 * message; the table is the caller's struct's, allocated by dhcp6_init().
 */
#include "dhcp6.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"

#define OPT_CLIENTID	 1
#define OPT_SERVERID	 2
#define OPT_IA_NA	 3
#define OPT_IA_TA	 4
#define OPT_IAADDR	 5
#define OPT_PREFERENCE	 7
#define OPT_STATUS	 13
#define OPT_RAPID_COMMIT 14
#define OPT_DNS_SERVERS	 23
#define OPT_DOMAIN_LIST	 24
#define OPT_IA_PD	 25
#define OPT_IAPREFIX	 26
#define OPT_INFO_REFRESH 32
#define OPT_CLIENT_FQDN	 39

#define IAADDR_LEN	 24 /* address, preferred and valid lifetime */
#define IAPREFIX_LEN	 25
#define INFO_REFRESH_MIN 600 /* RFC 8415 21.23 */

enum dhcp6_status {
	ST_SUCCESS = 0,
	ST_NOADDRS = 2,
	ST_NOBINDING = 3,
	ST_NOTONLINK = 4,
	ST_NOPREFIX = 6,
};

/* one IA option of a client message */
struct ia_in {
	uint16_t code; /* OPT_IA_NA, OPT_IA_TA or OPT_IA_PD */
	uint32_t iaid;
	size_t naddr;
	uint8_t addr[DHCP6_IAADDR_MAX][16];
};

/* what parse_msg() keeps of a client message */
struct msg_in {
	uint8_t type;
	uint8_t xid[3];
	uint8_t clientid[DHCP6_DUID_MAX];
	size_t clientid_len; /* 0: none */
	uint8_t serverid[DHCP6_DUID_MAX];
	size_t serverid_len; /* 0: none */
	bool rapid;
	size_t nia;
	struct ia_in ia[DHCP6_IA_MAX];
	char hostname[64];
};

/* the answer being written; an option that does not fit is left out */
struct writer {
	uint8_t *p;
	size_t len, cap;
};

/* the ways IA_NA options are answered */
enum ia_mode {
	IA_HOLD,    /* Solicit: advertise and hold */
	IA_COMMIT,  /* Request, Solicit with Rapid Commit */
	IA_EXTEND,  /* Renew, Rebind */
	IA_RELEASE, /* Release */
	IA_DECLINE, /* Decline */
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int dhcp6_init(struct dhcp6_server *s, const struct dhcp6_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (!s->cfg.count)
		s->cfg.count = DHCP6_LEASES_DEFAULT;
	if (!s->cfg.lease_s)
		s->cfg.lease_s = 3600;
	if (s->cfg.count > DHCP6_MAX_LEASES || s->cfg.first > UINT32_MAX - s->cfg.count)
		return -EINVAL;
	s->leases = calloc(s->cfg.count, sizeof(*s->leases));
	if (!s->leases)
		return -ENOMEM;
	if (cfg->search)
		strncpy(s->search, cfg->search, sizeof(s->search) - 1);
	s->cfg.search = s->search;
	s->duid[0] = 0;
	s->duid[1] = 3; /* DUID-LL */
	s->duid[2] = 0;
	s->duid[3] = 1; /* Ethernet */
	memcpy(s->duid + 4, cfg->server_mac, 6);
	return 0;
}

void dhcp6_free(struct dhcp6_server *s)
{
	free(s->leases);
	s->leases = NULL;
}

uint8_t dhcp6_ra_flags(const struct dhcp6_server *s)
{
	if (!s || !s->leases)
		return 0;
	return s->cfg.stateful ? DHCP6_RA_MANAGED | DHCP6_RA_OTHER : DHCP6_RA_OTHER;
}

static void slot_addr(const struct dhcp6_server *s, size_t i, uint8_t a[16])
{
	memset(a, 0, 16);
	memcpy(a, s->cfg.prefix, 8);
	vg_put_be32(a + 12, s->cfg.first + (uint32_t)i);
}

const struct dhcp6_lease *dhcp6_lease_at(const struct dhcp6_server *s, size_t i, uint64_t now_ms,
					 uint8_t addr[16])
{
	const struct dhcp6_lease *l;

	if (!s->leases || i >= s->cfg.count)
		return NULL;
	l = &s->leases[i];
	if ((l->state != DHCP6_LEASE_OFFERED && l->state != DHCP6_LEASE_BOUND) ||
	    l->expires_ms <= now_ms)
		return NULL;
	slot_addr(s, i, addr);
	return l;
}

/* whether @a is in the guest /64 */
static bool on_link(const struct dhcp6_server *s, const uint8_t *a)
{
	return !memcmp(a, s->cfg.prefix, 8);
}

/* the slot of address @a, or -1 when it is not one of the leased range */
static long slot_of(const struct dhcp6_server *s, const uint8_t *a)
{
	static const uint8_t zero[4];
	uint32_t id;

	if (!on_link(s, a) || memcmp(a + 8, zero, 4))
		return -1;
	id = vg_get_be32(a + 12);
	if (id < s->cfg.first || id - s->cfg.first >= s->cfg.count)
		return -1;
	return (long)(id - s->cfg.first);
}

static bool lease_live(const struct dhcp6_lease *l, uint64_t now)
{
	return l->state != DHCP6_LEASE_FREE && l->expires_ms > now;
}

/* whether @l is (DUID, IAID) of the client */
static bool lease_of(const struct dhcp6_lease *l, const struct msg_in *m, uint32_t iaid)
{
	return (l->state == DHCP6_LEASE_OFFERED || l->state == DHCP6_LEASE_BOUND) &&
	       l->iaid == iaid && l->duid_len == m->clientid_len &&
	       !memcmp(l->duid, m->clientid, m->clientid_len);
}

static bool slot_free_for(const struct dhcp6_lease *l, const struct msg_in *m, uint32_t iaid,
			  uint64_t now)
{
	return !lease_live(l, now) || lease_of(l, m, iaid);
}

/* the live lease of (client, @iaid), or -1 */
static long find_binding(const struct dhcp6_server *s, const struct msg_in *m, uint32_t iaid,
			 uint64_t now)
{
	size_t i;

	for (i = 0; i < s->cfg.count; i++)
		if (lease_live(&s->leases[i], now) && lease_of(&s->leases[i], m, iaid))
			return (long)i;
	return -1;
}

/* FNV-1a over the DUID and the IAID: the slot a client starts from */
static uint32_t client_hash(const struct msg_in *m, uint32_t iaid)
{
	uint32_t h = 2166136261u;
	uint8_t id[4];
	size_t i;

	for (i = 0; i < m->clientid_len; i++)
		h = (h ^ m->clientid[i]) * 16777619u;
	vg_put_be32(id, iaid);
	for (i = 0; i < 4; i++)
		h = (h ^ id[i]) * 16777619u;
	return h;
}

/**
 * pick_slot() - the slot for an IA_NA, without taking it
 * @s:		server
 * @m:		the client's message
 * @ia:		the IA
 * @now:	clock
 * @hint_only:	only the client's current binding or an address it names
 *
 * Return: the client's live binding; else the first address it names that
 *	   is free for it; else (unless @hint_only) the first free slot from
 *	   its hash on; -1 when there is none
 */
static long pick_slot(const struct dhcp6_server *s, const struct msg_in *m, const struct ia_in *ia,
		      uint64_t now, bool hint_only)
{
	long j = find_binding(s, m, ia->iaid, now);
	size_t k;
	uint32_t h;

	if (j >= 0)
		return j;
	for (k = 0; k < ia->naddr; k++) {
		j = slot_of(s, ia->addr[k]);
		if (j >= 0 && slot_free_for(&s->leases[j], m, ia->iaid, now))
			return j;
	}
	if (hint_only)
		return -1;
	h = client_hash(m, ia->iaid) % s->cfg.count;
	for (k = 0; k < s->cfg.count; k++) {
		size_t i = (h + k) % s->cfg.count;

		if (slot_free_for(&s->leases[i], m, ia->iaid, now))
			return (long)i;
	}
	return -1;
}

static void take_slot(struct dhcp6_server *s, size_t i, const struct msg_in *m, uint32_t iaid,
		      uint8_t state, uint64_t until, const uint8_t *src_mac)
{
	struct dhcp6_lease *l = &s->leases[i];
	static const uint8_t zero[6];

	l->state = state;
	l->expires_ms = until;
	l->iaid = iaid;
	l->duid_len = (uint8_t)m->clientid_len;
	memcpy(l->duid, m->clientid, m->clientid_len);
	if (src_mac && memcmp(src_mac, zero, 6))
		memcpy(l->mac, src_mac, 6);
	else if (m->clientid_len == 10 && get16(m->clientid) == 3 && get16(m->clientid + 2) == 1)
		memcpy(l->mac, m->clientid + 4, 6); /* DUID-LL, Ethernet */
	else if (m->clientid_len == 14 && get16(m->clientid) == 1 && get16(m->clientid + 2) == 1)
		memcpy(l->mac, m->clientid + 8, 6); /* DUID-LLT, Ethernet */
	if (m->hostname[0])
		memcpy(l->hostname, m->hostname, sizeof(l->hostname));
}

/**
 * check_options() - whether an option area is well framed
 * @p:		options
 * @len:	their length
 *
 * Return: 0, or -1 when an option header or body runs past @len
 */
static int check_options(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t l;

		if (len - i < 4)
			return -1;
		l = get16(p + i + 2);
		i += 4;
		if (l > len - i)
			return -1;
		i += l;
	}
	return 0;
}

/**
 * parse_ia() - read one IA_NA, IA_TA or IA_PD option
 * @p:		option body
 * @len:	its length
 * @code:	which IA
 * @ia:		filled (addresses beyond DHCP6_IAADDR_MAX are checked, not kept)
 *
 * Return: 0, or -1 when it or an option nested in it is malformed
 */
static int parse_ia(const uint8_t *p, size_t len, uint16_t code, struct ia_in *ia)
{
	size_t i = code == OPT_IA_TA ? 4 : 12; /* IAID (, T1, T2) */

	if (len < i)
		return -1;
	memset(ia, 0, sizeof(*ia));
	ia->code = code;
	ia->iaid = vg_get_be32(p);
	while (i < len) {
		uint16_t c;
		size_t l;

		if (len - i < 4)
			return -1;
		c = get16(p + i);
		l = get16(p + i + 2);
		i += 4;
		if (l > len - i)
			return -1;
		if (c == OPT_IAADDR && code != OPT_IA_PD) {
			if (l < IAADDR_LEN || check_options(p + i + IAADDR_LEN, l - IAADDR_LEN) < 0)
				return -1;
			if (ia->naddr < DHCP6_IAADDR_MAX)
				memcpy(ia->addr[ia->naddr++], p + i, 16);
		} else if (c == OPT_IAPREFIX && code == OPT_IA_PD) {
			if (l < IAPREFIX_LEN ||
			    check_options(p + i + IAPREFIX_LEN, l - IAPREFIX_LEN) < 0)
				return -1;
		} else if (c == OPT_STATUS && l < 2) {
			return -1;
		}
		i += l;
	}
	return 0;
}

/**
 * parse_fqdn() - the first label of a Client FQDN option (RFC 4704), as a
 * printable host name
 * @p:		option body: flags, then a (possibly partial) DNS name
 * @len:	its length
 * @out:	host name, NUL-terminated; left empty when there is none
 * @cap:	its size
 */
static void parse_fqdn(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t n, k;

	if (len < 2 || !cap)
		return;
	n = p[1];
	if (n == 0 || n > 63 || n > len - 2)
		return;
	if (n > cap - 1)
		n = cap - 1;
	for (k = 0; k < n; k++)
		out[k] = (p[2 + k] > 0x20 && p[2 + k] < 0x7f) ? (char)p[2 + k] : '?';
	out[n] = '\0';
}

/**
 * parse_msg() - read a client message (not a relay message) in one pass
 * @msg:	UDP payload
 * @len:	its length
 * @m:		filled
 *
 * Return: 0, or -1 when it is truncated, an option runs past its end,
 *	   an identifier is repeated or of a bad length, or an IA is malformed
 */
static int parse_msg(const uint8_t *msg, size_t len, struct msg_in *m)
{
	size_t i = 4;

	memset(m, 0, sizeof(*m));
	if (len < 4)
		return -1;
	m->type = msg[0];
	memcpy(m->xid, msg + 1, 3);
	while (i < len) {
		uint16_t c;
		size_t l;
		struct ia_in scratch;

		if (len - i < 4)
			return -1;
		c = get16(msg + i);
		l = get16(msg + i + 2);
		i += 4;
		if (l > len - i)
			return -1;
		switch (c) {
		case OPT_CLIENTID:
		case OPT_SERVERID: {
			size_t *have = c == OPT_CLIENTID ? &m->clientid_len : &m->serverid_len;

			if (*have || l < 3 || l > DHCP6_DUID_MAX)
				return -1;
			memcpy(c == OPT_CLIENTID ? m->clientid : m->serverid, msg + i, l);
			*have = l;
			break;
		}
		case OPT_IA_NA:
		case OPT_IA_TA:
		case OPT_IA_PD:
			if (parse_ia(msg + i, l, c,
				     m->nia < DHCP6_IA_MAX ? &m->ia[m->nia] : &scratch) < 0)
				return -1;
			if (m->nia < DHCP6_IA_MAX)
				m->nia++;
			break;
		case OPT_RAPID_COMMIT:
			if (l)
				return -1;
			m->rapid = true;
			break;
		case OPT_CLIENT_FQDN:
			parse_fqdn(msg + i, l, m->hostname, sizeof(m->hostname));
			break;
		default:
			break;
		}
		i += l;
	}
	return 0;
}

/**
 * check_msg() - RFC 8415 section 16: the identifiers each type must carry
 * @s:	server
 * @m:	parsed message
 *
 * Return: 1 to answer, 0 to ignore (another server's, or a type a server
 *	   does not take: counted in stats.ignored), -1 when invalid
 */
static int check_msg(struct dhcp6_server *s, const struct msg_in *m)
{
	bool ours =
	    m->serverid_len == sizeof(s->duid) && !memcmp(m->serverid, s->duid, sizeof(s->duid));

	switch (m->type) {
	case DHCP6_SOLICIT:
	case DHCP6_CONFIRM:
	case DHCP6_REBIND:
		if (!m->clientid_len || m->serverid_len)
			return -1;
		return 1;
	case DHCP6_REQUEST:
	case DHCP6_RENEW:
	case DHCP6_RELEASE:
	case DHCP6_DECLINE:
		if (!m->clientid_len || !m->serverid_len)
			return -1;
		return ours ? 1 : 0;
	case DHCP6_INFORMATION_REQUEST:
		if (m->nia)
			return -1; /* RFC 8415 16.12: no IA options */
		return !m->serverid_len || ours ? 1 : 0;
	default:
		return -1;
	}
}

/**
 * opt_put() - append one option, or nothing when it does not fit
 * @w:		writer
 * @code:	option code
 * @data:	body (may be NULL when @len is 0)
 * @len:	its length
 *
 * Return: true when written
 */
static bool opt_put(struct writer *w, uint16_t code, const void *data, size_t len)
{
	if (len > 0xffff || w->cap - w->len < 4 + len)
		return false;
	vg_put_be16(w->p + w->len, code);
	vg_put_be16(w->p + w->len + 2, (uint16_t)len);
	if (len)
		memcpy(w->p + w->len + 4, data, len);
	w->len += 4 + len;
	return true;
}

/* a Status Code option (RFC 8415 21.13): @code and a short UTF-8 @text */
static void status_put(struct writer *w, uint16_t code, const char *text)
{
	size_t n = strlen(text);

	if (w->cap - w->len < 6 + n)
		return;
	vg_put_be16(w->p + w->len, OPT_STATUS);
	vg_put_be16(w->p + w->len + 2, (uint16_t)(2 + n));
	vg_put_be16(w->p + w->len + 4, code);
	memcpy(w->p + w->len + 6, text, n); /* not NUL-terminated on the wire */
	w->len += 6 + n;
}

static void iaaddr_put(struct writer *w, const uint8_t *a, uint32_t pref, uint32_t valid)
{
	uint8_t b[IAADDR_LEN];

	memcpy(b, a, 16);
	vg_put_be32(b + 16, pref);
	vg_put_be32(b + 20, valid);
	opt_put(w, OPT_IAADDR, b, sizeof(b));
}

/* the IA option header of @ia (IAID, and T1/T2 for IA_NA and IA_PD) */
static void ia_head(struct writer *w, const struct ia_in *ia, uint32_t t1, uint32_t t2)
{
	vg_put_be32(w->p, ia->iaid);
	w->len = 4;
	if (ia->code != OPT_IA_TA) {
		vg_put_be32(w->p + 4, t1);
		vg_put_be32(w->p + 8, t2);
		w->len = 12;
	}
}

/**
 * answer_ia() - act on one IA of the client and append its IA option
 * @s:		server
 * @m:		the message
 * @ia:		the IA
 * @mode:	what the message asks
 * @now:	clock
 * @src_mac:	frame source, for the listing
 * @w:		the answer
 *
 * Return: true when an address was held, committed or extended
 */
static bool answer_ia(struct dhcp6_server *s, const struct msg_in *m, const struct ia_in *ia,
		      enum ia_mode mode, uint64_t now, const uint8_t *src_mac, struct writer *w)
{
	const struct dhcp6_config *c = &s->cfg;
	uint8_t buf[4 + 12 + (4 + IAADDR_LEN) * (DHCP6_IAADDR_MAX + 1) + 4 + 64];
	struct writer iw = {buf, 0, sizeof(buf)};
	uint8_t a[16];
	bool got = false;
	long j = -1;
	size_t k;

	if (ia->code != OPT_IA_NA) {
		ia_head(&iw, ia, 0, 0);
		if (mode == IA_RELEASE || mode == IA_DECLINE)
			status_put(&iw, ST_NOBINDING, "no binding");
		else if (ia->code == OPT_IA_PD)
			status_put(&iw, ST_NOPREFIX, "no prefixes delegated");
		else
			status_put(&iw, ST_NOADDRS, "no temporary addresses");
		opt_put(w, ia->code, buf, iw.len);
		return false;
	}
	ia_head(&iw, ia, c->lease_s / 2, c->lease_s / 5 * 4);
	switch (mode) {
	case IA_HOLD:
	case IA_COMMIT:
		j = c->stateful ? pick_slot(s, m, ia, now, false) : -1;
		if (j < 0) {
			ia_head(&iw, ia, 0, 0);
			status_put(&iw, ST_NOADDRS,
				   c->stateful ? "no addresses left" : "stateless only");
			s->st.no_addrs++;
			break;
		}
		if (mode == IA_COMMIT)
			take_slot(s, (size_t)j, m, ia->iaid, DHCP6_LEASE_BOUND,
				  now + (uint64_t)c->lease_s * 1000u, src_mac);
		else if (!(s->leases[j].state == DHCP6_LEASE_BOUND &&
			   lease_of(&s->leases[j], m, ia->iaid) && lease_live(&s->leases[j], now)))
			take_slot(s, (size_t)j, m, ia->iaid, DHCP6_LEASE_OFFERED,
				  now + DHCP6_OFFER_HOLD_MS, src_mac);
		got = true;
		break;
	case IA_EXTEND:
		j = c->stateful ? pick_slot(s, m, ia, now, true) : -1;
		if (j >= 0) {
			take_slot(s, (size_t)j, m, ia->iaid, DHCP6_LEASE_BOUND,
				  now + (uint64_t)c->lease_s * 1000u, src_mac);
			got = true;
		}
		break;
	case IA_RELEASE:
		j = find_binding(s, m, ia->iaid, now);
		if (j >= 0)
			memset(&s->leases[j], 0, sizeof(s->leases[j]));
		else
			status_put(&iw, ST_NOBINDING, "no binding");
		j = -1;
		break;
	case IA_DECLINE:
		for (k = 0; k < ia->naddr; k++) {
			long d = slot_of(s, ia->addr[k]);
			struct dhcp6_lease *l = d >= 0 ? &s->leases[d] : NULL;

			if (l && lease_live(l, now) && lease_of(l, m, ia->iaid)) {
				memset(l, 0, sizeof(*l));
				l->state = DHCP6_LEASE_DECLINED;
				l->expires_ms = now + DHCP6_DECLINE_HOLD_MS;
				got = true;
			}
		}
		if (!got)
			status_put(&iw, ST_NOBINDING, "no binding");
		got = false;
		break;
	}
	if (j >= 0) {
		slot_addr(s, (size_t)j, a);
		iaaddr_put(&iw, a, c->lease_s, c->lease_s);
	}
	if (mode == IA_EXTEND) {
		/* addresses the client holds that are not (or no longer) its own */
		for (k = 0; k < ia->naddr; k++)
			if (j < 0 || memcmp(ia->addr[k], a, 16))
				iaaddr_put(&iw, ia->addr[k], 0, 0);
		if (j < 0 && !ia->naddr)
			status_put(&iw, ST_NOBINDING, "no binding");
	}
	opt_put(w, OPT_IA_NA, buf, iw.len);
	return got;
}

/* DNS recursive name server and domain search list */
static void config_put(const struct dhcp6_server *s, struct writer *w)
{
	uint8_t names[255];
	size_t n;

	opt_put(w, OPT_DNS_SERVERS, s->cfg.dns, 16);
	if (s->search[0] && (n = vg_dns_name_list(s->search, names, sizeof(names))))
		opt_put(w, OPT_DOMAIN_LIST, names, n);
}

static void reply_head(const struct dhcp6_server *s, const struct msg_in *m, uint8_t type,
		       struct dhcp6_reply *out, struct writer *w)
{
	out->len = 0;
	out->type = type;
	out->data[0] = type;
	memcpy(out->data + 1, m->xid, 3);
	w->p = out->data;
	w->len = 4;
	w->cap = sizeof(out->data);
	opt_put(w, OPT_SERVERID, s->duid, sizeof(s->duid));
	if (m->clientid_len)
		opt_put(w, OPT_CLIENTID, m->clientid, m->clientid_len);
}

/* Solicit: Advertise (Preference 255: clients need not wait for other
 * servers), or Reply when Rapid Commit is asked and possible */
static void do_solicit(struct dhcp6_server *s, const struct msg_in *m, uint64_t now,
		       const uint8_t *src_mac, struct dhcp6_reply *out, struct writer *w)
{
	bool commit = false, any = false;
	size_t k;

	for (k = 0; m->rapid && s->cfg.stateful && k < m->nia && !commit; k++)
		commit = m->ia[k].code == OPT_IA_NA && pick_slot(s, m, &m->ia[k], now, false) >= 0;
	reply_head(s, m, commit ? DHCP6_REPLY : DHCP6_ADVERTISE, out, w);
	if (commit) {
		opt_put(w, OPT_RAPID_COMMIT, NULL, 0);
	} else {
		uint8_t pref = 255; /* the only server: no need to wait for others */

		opt_put(w, OPT_PREFERENCE, &pref, 1);
	}
	for (k = 0; k < m->nia; k++)
		any |= answer_ia(s, m, &m->ia[k], commit ? IA_COMMIT : IA_HOLD, now, src_mac, w);
	if (!any)
		status_put(w, ST_NOADDRS, "no addresses available");
}

/* Confirm: whether the addresses the client holds are on this link */
static int do_confirm(struct dhcp6_server *s, const struct msg_in *m, struct dhcp6_reply *out,
		      struct writer *w)
{
	size_t k, i, n = 0;
	bool onlink = true;

	for (k = 0; k < m->nia; k++)
		for (i = 0; i < m->ia[k].naddr; i++, n++)
			onlink = onlink && on_link(s, m->ia[k].addr[i]);
	if (!n)
		return 0; /* RFC 8415 18.3.3: no addresses, no Reply */
	reply_head(s, m, DHCP6_REPLY, out, w);
	if (onlink)
		status_put(w, ST_SUCCESS, "on link");
	else
		status_put(w, ST_NOTONLINK, "not on link");
	return 1;
}

int dhcp6_input(struct dhcp6_server *s, uint64_t now_ms, const uint8_t *src_mac, const uint8_t *msg,
		size_t len, struct dhcp6_reply *out)
{
	struct msg_in m;
	struct writer w;
	size_t k;
	int rc;

	if (len >= 1 &&
	    (msg[0] == DHCP6_ADVERTISE || msg[0] == DHCP6_REPLY || msg[0] == DHCP6_RECONFIGURE ||
	     msg[0] == DHCP6_RELAY_FORW || msg[0] == DHCP6_RELAY_REPL)) {
		s->st.ignored++; /* a server's or a relay's message: not served */
		return 0;
	}
	if (parse_msg(msg, len, &m) < 0 || (rc = check_msg(s, &m)) < 0) {
		s->st.bad++;
		return -1;
	}
	if (!rc) {
		s->st.ignored++;
		return 0;
	}
	switch (m.type) {
	case DHCP6_SOLICIT:
		s->st.solicit++;
		do_solicit(s, &m, now_ms, src_mac, out, &w);
		break;
	case DHCP6_REQUEST:
	case DHCP6_RENEW:
	case DHCP6_REBIND: {
		enum ia_mode mode = m.type == DHCP6_REQUEST ? IA_COMMIT : IA_EXTEND;

		if (m.type == DHCP6_REQUEST)
			s->st.request++;
		else if (m.type == DHCP6_RENEW)
			s->st.renew++;
		else
			s->st.rebind++;
		reply_head(s, &m, DHCP6_REPLY, out, &w);
		for (k = 0; k < m.nia; k++)
			answer_ia(s, &m, &m.ia[k], mode, now_ms, src_mac, &w);
		break;
	}
	case DHCP6_CONFIRM:
		s->st.confirm++;
		if (!do_confirm(s, &m, out, &w))
			return 0;
		break;
	case DHCP6_RELEASE:
	case DHCP6_DECLINE:
		if (m.type == DHCP6_RELEASE)
			s->st.release++;
		else
			s->st.decline++;
		reply_head(s, &m, DHCP6_REPLY, out, &w);
		for (k = 0; k < m.nia; k++)
			answer_ia(s, &m, &m.ia[k],
				  m.type == DHCP6_RELEASE ? IA_RELEASE : IA_DECLINE, now_ms,
				  src_mac, &w);
		status_put(&w, ST_SUCCESS, "done");
		out->len = w.len;
		s->st.reply++;
		return 1; /* no configuration options in these Replies */
	case DHCP6_INFORMATION_REQUEST: {
		uint8_t irt[4];

		s->st.inform++;
		reply_head(s, &m, DHCP6_REPLY, out, &w);
		vg_put_be32(irt,
			    s->cfg.lease_s < INFO_REFRESH_MIN ? INFO_REFRESH_MIN : s->cfg.lease_s);
		opt_put(&w, OPT_INFO_REFRESH, irt, sizeof(irt));
		break;
	}
	default:
		s->st.bad++; /* check_msg() let an unknown type through */
		return -1;
	}
	if (m.type != DHCP6_CONFIRM)
		config_put(s, &w);
	out->len = w.len;
	if (out->type == DHCP6_ADVERTISE)
		s->st.advertise++;
	else
		s->st.reply++;
	return 1;
}
