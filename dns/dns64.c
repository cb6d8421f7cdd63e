/* SPDX-License-Identifier: MIT */
/*
 * dns64.c - DNS64 (RFC 6147) answer synthesis: an AAAA answer made from
 * the A answer of the same name, every A record a.b.c.d becoming the AAAA
 * 64:ff9b::a.b.c.d (the well-known prefix, RFC 6052) with the same owner,
 * the CNAMEs of the chain kept. The query path that decides when to
 * synthesize is dns.c; this file only turns stored answers into stored
 * answers, so it calls nothing but wire.c, msg.c and common/netutil.
 *
 * The output is re-encoded from scratch: owner names equal to the query
 * name are a pointer to the question (offset 12), every other name is
 * written uncompressed, so no pointer of the A answer (whose offsets shift
 * when 4-byte addresses become 16-byte ones) survives. Only the answer
 * section is kept: the A answer's authority and additional records, and
 * its RRSIGs (which cannot sign a synthesized record), are dropped.
 */
#include "internal.h"
#include "msg.h"

#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"

/* the most answer records a synthesized answer holds */
#define DNS64_MAX_RRS 64
/* the most bytes one of them takes: owner, fixed part, a CNAME target */
#define DNS64_RR_MAX (DNS_NAME_MAX + 10 + DNS_NAME_MAX)

/*
 * put_name - write @name (@n bytes, wire form) at @p: a pointer to the
 * question when it equals @qname. Return: bytes written
 */
static size_t put_name(uint8_t *p, const uint8_t *name, size_t n, const uint8_t *qname, size_t qlen)
{
	if (n == qlen && wire_name_eq(name, qname, n)) {
		p[0] = 0xc0;
		p[1] = DNS_HDR_LEN;
		return 2;
	}
	memcpy(p, name, n);
	return n;
}

/**
 * dns64_synth() - the DNS64 answer for the AAAA query of a name, from the
 * answer records of its A query
 * @name:	the query name (wire form, lower case)
 * @namelen:	its length
 * @rr:		the A answer's RR bytes (pointers relative to a message whose
 *		question is @name)
 * @rrlen:	their length
 * @an:		its answer record count
 * @ttl:	TTL of every synthesized record
 * @scratch:	at least DNS_HDR_LEN + DNS_NAME_MAX + 4 + @rrlen bytes
 *
 * Return: a new stored answer (NOERROR, DATA_F_SYNTH, to free()) holding
 *	   the CNAMEs and one AAAA per A record, or NULL when the A answer
 *	   has no A record (nothing to synthesize), is malformed, or on ENOMEM
 */
struct dns_data *dns64_synth(const uint8_t *name, size_t namelen, const uint8_t *rr, size_t rrlen,
			     unsigned int an, uint32_t ttl, uint8_t *scratch)
{
	size_t start = DNS_HDR_LEN + namelen + 4, len = start + rrlen, off = start, o = 0;
	unsigned int i, nout = 0, naaaa = 0;
	struct dns_data *res = NULL;
	uint8_t *out;

	if (an > DNS64_MAX_RRS)
		an = DNS64_MAX_RRS;
	out = malloc((size_t)an * DNS64_RR_MAX + 1);
	if (!out)
		return NULL;
	memset(scratch, 0, DNS_HDR_LEN);
	memcpy(scratch + DNS_HDR_LEN, name, namelen);
	memset(scratch + DNS_HDR_LEN + namelen, 0, 4);
	memcpy(scratch + start, rr, rrlen);
	for (i = 0; i < an; i++) {
		uint8_t owner[DNS_NAME_MAX], target[DNS_NAME_MAX];
		size_t end;
		int n = wire_name_copy(scratch, len, off, owner, &end);
		uint16_t rt, rdl;

		if (n < 0 || end + 10 > len)
			goto out;
		rt = wire_get16(scratch + end);
		rdl = wire_get16(scratch + end + 8);
		off = end + 10;
		if (off + rdl > len)
			goto out;
		if (rt == DNS_TYPE_A && rdl == 4) {
			uint8_t a6[16];
			uint32_t ip;

			memcpy(&ip, scratch + off, 4);
			vg_nat64_embed(ip, a6);
			o += put_name(out + o, owner, (size_t)n, name, namelen);
			wire_put16(out + o, DNS_TYPE_AAAA);
			wire_put16(out + o + 2, DNS_CLASS_IN);
			wire_put32(out + o + 4, ttl);
			wire_put16(out + o + 8, 16);
			memcpy(out + o + 10, a6, 16);
			o += 26;
			nout++;
			naaaa++;
		} else if (rt == DNS_TYPE_CNAME) {
			size_t tend;
			int m = wire_name_copy(scratch, len, off, target, &tend);

			if (m < 0 || tend != off + rdl)
				goto out;
			o += put_name(out + o, owner, (size_t)n, name, namelen);
			wire_put16(out + o, DNS_TYPE_CNAME);
			wire_put16(out + o + 2, DNS_CLASS_IN);
			wire_put32(out + o + 4, ttl);
			wire_put16(out + o + 8, (uint16_t)m);
			memcpy(out + o + 10, target, (size_t)m);
			o += 10 + (size_t)m;
			nout++;
		}
		off += rdl;
	}
	if (!naaaa)
		goto out;
	res = dns_data_new(name, namelen, DNS_RCODE_NOERROR, out, o, (uint16_t)nout, 0, 0,
			   (uint16_t)o);
	if (res)
		res->dflags = DATA_F_SYNTH;
out:
	free(out);
	return res;
}

/**
 * dns64_nodata() - whether a stored AAAA answer is NODATA: DNS64 synthesizes
 * @data:	the AAAA answer
 * @scratch:	as for wire_data_addrs()
 *
 * Return: true when it is NOERROR without any AAAA for the name (after
 *	   CNAMEs); false for real AAAA records, NXDOMAIN and SERVFAIL
 */
bool dns64_nodata(const struct dns_data *data, uint8_t *scratch)
{
	uint8_t one[16];

	return data->rcode == DNS_RCODE_NOERROR &&
	       wire_data_addrs(data, DNS_TYPE_AAAA, scratch, one, 1) == 0;
}
