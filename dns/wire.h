/* SPDX-License-Identifier: MIT */
/*
 * wire.h - DNS wire format on the hot path, without ldns: strict parsing of
 * guest queries, name helpers (case folding, text <-> wire, bounded
 * decompression), the seeded name hash, and building answer messages from
 * stored answer sections (struct dns_data) with TTL rewriting, EDNS0
 * (DO/CD/AD, Extended DNS Errors) and UDP truncation.
 *
 * Nothing here allocates; every function works on caller buffers with
 * explicit bounds. Internal to dns/.
 */
#ifndef VGATE_DNS_WIRE_H
#define VGATE_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 255
#define DNS_LABEL_MAX 63
#define DNS_MSG_MAX 65535
#define DNS_UDP_MIN 512
#define DNS_OPT_LEN 11 /* our OPT record: root name, type, class, TTL, rdlen 0 */
#define DNS_EDE_TEXT_MAX 64 /* longest EXTRA-TEXT vgate sends */
/* the most our OPT can grow to: header plus one EDE option with its text */
#define DNS_OPT_MAX (DNS_OPT_LEN + 4 + 2 + DNS_EDE_TEXT_MAX)

#define DNS_TYPE_A 1
#define DNS_TYPE_NS 2
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA 6
#define DNS_TYPE_PTR 12
#define DNS_TYPE_MX 15
#define DNS_TYPE_TXT 16
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_SRV 33
#define DNS_TYPE_OPT 41
#define DNS_TYPE_RRSIG 46
#define DNS_TYPE_NSEC 47
#define DNS_TYPE_NSEC3 50
#define DNS_TYPE_IXFR 251
#define DNS_TYPE_AXFR 252
#define DNS_TYPE_ANY 255
#define DNS_CLASS_IN 1

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP 4
#define DNS_RCODE_REFUSED 5
#define DNS_RCODE_BADVERS 16 /* extended: OPT ext-rcode 1, header 0 */

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)

/* EDNS option codes (RFC 6891 registry) vgate looks at */
#define DNS_OPT_ECS 8	  /* EDNS Client Subnet, RFC 7871 */
#define DNS_OPT_COOKIE 10 /* DNS cookie, RFC 7873 */
#define DNS_OPT_EDE 15	  /* Extended DNS Error, RFC 8914 */

/* Extended DNS Error info codes (RFC 8914 section 4) vgate sends */
#define DNS_EDE_STALE 3		 /* Stale Answer */
#define DNS_EDE_BLOCKED 15	 /* Blocked */
#define DNS_EDE_NO_AUTHORITY 22 /* No Reachable Authority */
#define DNS_EDE_NETWORK 23	 /* Network Error */

/*
 * Cache and in-flight keys are (name, qkey): the query type, plus this bit
 * for a query with CD set, so a checking-disabled answer never serves a
 * client that wants its upstream to validate, nor the other way round.
 */
#define DNS_KEY_CD 0x10000u
#define DNS_KEY_TYPE(k) ((uint16_t)((k) & 0xffff))

/* wire_parse_query() results besides an rcode */
#define WIRE_DROP (-1)

/**
 * struct dns_qinfo - what a guest query asked, as needed to answer it
 * @id:		message ID
 * @flags:	header flags word of the query
 * @qname:	name as the guest wrote it (its case is echoed back)
 * @qnamelen:	wire length of @qname, root label included
 * @qtype:	type
 * @qclass:	class
 * @edns:	the query had an OPT record
 * @do_bit:	DNSSEC OK bit of that OPT
 * @udp_size:	its advertised UDP payload size
 * @has_question: @qname/@qtype/@qclass are valid (for error answers)
 * @opt_cookie:	the OPT carried a (well-formed) DNS cookie: not forwarded,
 *		not answered (vgate does not do cookies, RFC 7873 5.4)
 * @opt_ecs:	it carried EDNS Client Subnet: not forwarded
 * @opt_other:	number of other options: ignored, never echoed
 */
struct dns_qinfo {
	uint16_t id;
	uint16_t flags;
	uint8_t qname[DNS_NAME_MAX];
	uint8_t qnamelen;
	uint16_t qtype;
	uint16_t qclass;
	bool edns;
	bool do_bit;
	uint16_t udp_size;
	bool has_question;
	bool opt_cookie;
	bool opt_ecs;
	uint8_t opt_other;
};

/**
 * struct wire_ede - an Extended DNS Error to put in an answer's OPT
 * @code:	INFO-CODE (DNS_EDE_*)
 * @text:	EXTRA-TEXT, NUL-terminated, at most DNS_EDE_TEXT_MAX bytes used
 */
struct wire_ede {
	uint16_t code;
	const char *text;
};

#define DATA_F_AD 0x01	  /* upstream set AD on the reply */
#define DATA_F_PLAIN 0x02 /* a plain view (no DNSSEC records) follows the full one */
#define DATA_F_SYNTH 0x04 /* DNS64: AAAA records synthesized from the A answer */

/**
 * struct dns_data - one stored answer: the sections after the question of a
 * message whose question is (name, type, IN), compression pointers relative
 * to that message. Allocated as one block; immutable once built.
 *
 * It holds one or two views of the same reply. The full view is everything
 * upstream sent (DNSSEC records included), for clients that set DO. When
 * the reply has RRSIG, NSEC or NSEC3 records other than of the query type,
 * DATA_F_PLAIN is set and a second, separately encoded plain view without
 * them follows the full view's bytes, for clients without DO (RFC 4035
 * 3.2.1); without the flag the full view serves both. Each view is a whole
 * message encoding of its own, so its compression pointers never point into
 * records the other view lacks. The plain view's counts are stored in front
 * of its bytes (DNS_PLAIN_HDR, big-endian), so unsigned answers pay nothing
 * for it: read views with dns_data_view().
 * @len:	bytes of RR data of the full view
 * @an:		its answer records
 * @ns:		its authority records
 * @ar:		its additional records (never OPT)
 * @ar_off:	offset of its additional section in its RR data
 * @rcode:	NOERROR, NXDOMAIN or SERVFAIL
 * @namelen:	wire length of the lower-case name
 * @dflags:	DATA_F_*
 * @ede:	for a SERVFAIL made by vgate: the DNS_EDE_* code saying why, 0 none
 * @bytes:	name[namelen], full RR data[len], then with DATA_F_PLAIN the
 *		plain view's len, an, ns, ar, ar_off (2 bytes each) and RR data
 */
struct dns_data {
	uint16_t len;
	uint16_t an;
	uint16_t ns;
	uint16_t ar;
	uint16_t ar_off;
	uint8_t rcode;
	uint8_t namelen;
	uint8_t dflags;
	uint8_t ede;
	uint8_t bytes[];
};

#define DNS_PLAIN_HDR 10

static inline const uint8_t *dns_data_name(const struct dns_data *d)
{
	return d->bytes;
}

static inline const uint8_t *dns_data_rr(const struct dns_data *d)
{
	return d->bytes + d->namelen;
}

/**
 * struct dns_view - one view of a stored answer (see struct dns_data)
 * @rr:		its RR data
 * @len:	length of @rr
 * @an:		answer records
 * @ns:		authority records
 * @ar:		additional records
 * @ar_off:	offset of the additional section in @rr
 */
struct dns_view {
	const uint8_t *rr;
	uint16_t len;
	uint16_t an;
	uint16_t ns;
	uint16_t ar;
	uint16_t ar_off;
};

static inline uint16_t wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/**
 * dns_data_view() - the full view of @d, or its plain view
 * @d:		stored answer
 * @plain:	the view for a client without DO (the full view when @d
 *		has no DNSSEC records)
 * @v:		filled
 */
static inline void dns_data_view(const struct dns_data *d, bool plain, struct dns_view *v)
{
	const uint8_t *p = dns_data_rr(d) + d->len;

	if (!plain || !(d->dflags & DATA_F_PLAIN)) {
		*v = (struct dns_view){dns_data_rr(d), d->len, d->an, d->ns, d->ar, d->ar_off};
		return;
	}
	*v = (struct dns_view){p + DNS_PLAIN_HDR, wire_get16(p),	  wire_get16(p + 2),
			       wire_get16(p + 4), wire_get16(p + 6), wire_get16(p + 8)};
}

static inline uint32_t wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int wire_parse_query(const uint8_t *msg, size_t len, struct dns_qinfo *q);
int wire_check_name(const uint8_t *p, size_t avail);
void wire_name_lower(const uint8_t *in, size_t len, uint8_t *out);
bool wire_name_eq(const uint8_t *a, const uint8_t *b, size_t len);
int wire_name_to_text(const uint8_t *name, char *out, size_t outlen);
int wire_name_from_text(const char *s, uint8_t *out);
int wire_name_read(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *end);
int wire_name_copy(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *end);
size_t wire_put_rr(uint8_t *p, uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
int wire_skip_rrs(const uint8_t *msg, size_t len, size_t off, unsigned int n, size_t *end);
uint64_t wire_hash_name(uint64_t seed, const uint8_t *name, size_t len);

/**
 * wire_hash_key() - hash of (name, qkey) from the name hash
 * @hn:		wire_hash_name() of the lower-case name
 * @type:	query type, with DNS_KEY_CD for a CD query
 *
 * Return: 32-bit bucket hash
 */
static inline uint32_t wire_hash_key(uint64_t hn, uint32_t type)
{
	uint64_t h = (hn ^ type) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32);
}

size_t wire_build_answer(uint8_t *out, const struct dns_qinfo *q, uint16_t edns_size,
			 int rcode, bool aa, const struct dns_data *d, uint32_t ttl,
			 const struct wire_ede *ede, size_t limit, bool *truncated);
size_t wire_build_query(uint8_t *out, uint16_t id, const uint8_t *name, size_t namelen,
			uint16_t type, uint16_t edns_size, bool cd);
int wire_check_reply(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *name,
		     size_t namelen, uint16_t type);
int wire_data_addrs(const struct dns_data *d, uint16_t type, uint8_t *scratch, uint8_t *out,
		    int max);

#endif /* VGATE_DNS_WIRE_H */
