/* SPDX-License-Identifier: MIT */
/*
 * wire.h - DNS wire format on the hot path, without ldns: strict parsing of
 * guest queries, name helpers (case folding, text <-> wire, bounded
 * decompression), the seeded name hash, and building answer messages from
 * stored answer sections (struct dns_data) with TTL rewriting, EDNS0 and
 * UDP truncation.
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
#define DNS_FLAG_CD 0x0010
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)

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
};

/**
 * struct dns_data - one stored answer: the sections after the question of a
 * message whose question is (name, type, IN), compression pointers relative
 * to that message. Allocated as one block; immutable once built.
 * @len:	bytes of RR data
 * @an:		answer records
 * @ns:		authority records
 * @ar:		additional records (never OPT)
 * @ar_off:	offset of the additional section in the RR data
 * @rcode:	NOERROR, NXDOMAIN or SERVFAIL
 * @namelen:	wire length of the lower-case name
 * @bytes:	name[namelen] then RR data[len]
 */
struct dns_data {
	uint16_t len;
	uint16_t an;
	uint16_t ns;
	uint16_t ar;
	uint16_t ar_off;
	uint8_t rcode;
	uint8_t namelen;
	uint8_t bytes[];
};

static inline const uint8_t *dns_data_name(const struct dns_data *d)
{
	return d->bytes;
}

static inline const uint8_t *dns_data_rr(const struct dns_data *d)
{
	return d->bytes + d->namelen;
}

static inline uint16_t wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
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
size_t wire_put_rr(uint8_t *p, uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
int wire_skip_rrs(const uint8_t *msg, size_t len, size_t off, unsigned int n, size_t *end);
uint64_t wire_hash_name(uint64_t seed, const uint8_t *name, size_t len);

/**
 * wire_hash_key() - hash of (name, type) from the name hash
 * @hn:		wire_hash_name() of the lower-case name
 * @type:	query type
 *
 * Return: 32-bit bucket hash
 */
static inline uint32_t wire_hash_key(uint64_t hn, uint16_t type)
{
	uint64_t h = (hn ^ type) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32);
}

size_t wire_build_answer(uint8_t *out, const struct dns_qinfo *q, uint16_t edns_size,
			 int rcode, bool aa, const struct dns_data *d, uint32_t ttl, size_t limit,
			 bool *truncated);
size_t wire_build_query(uint8_t *out, uint16_t id, const uint8_t *name, size_t namelen,
			uint16_t type, uint16_t edns_size);
int wire_check_reply(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *name,
		     size_t namelen, uint16_t type);
int wire_data_addrs(const struct dns_data *d, uint16_t type, uint8_t *scratch, uint8_t *out,
		    int max);

#endif /* VGATE_DNS_WIRE_H */
