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
 *
 * PTR synthesis (RFC 6147 section 5.3.1): a PTR query for a name in the
 * ip6.arpa zone of 64:ff9b::/96 (32 one-nibble labels, then "ip6.arpa",
 * the first 24 nibbles those of the prefix) is answered from the PTR
 * answer of the in-addr.arpa name of the embedded IPv4 address: a CNAME
 * from the ip6.arpa name to the in-addr.arpa name, then that answer's
 * records (msg_alias()), its rcode passed on (NXDOMAIN with its SOA). The
 * RFC allows a CNAME or rewriting the owner names; a CNAME is what it calls
 * the simplest, what BIND does, and it keeps the IPv4 answer's records as
 * they are. dns64_ptr_target() maps the query name to the in-addr.arpa
 * name, dns64_ptr_alias() back (a waiter of the in-addr.arpa query keeps
 * only the case of the name it asked, not the name).
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

/* the ip6.arpa suffix of a reverse IPv6 name and the in-addr.arpa one of IPv4 */
static const uint8_t ip6_arpa[] = "\003ip6\004arpa";
static const uint8_t in_addr_arpa[] = "\007in-addr\004arpa";
/* wire length of a reverse IPv6 name: 32 one-nibble labels, ip6.arpa */
#define IP6_ARPA_LEN (32 * 2 + sizeof(ip6_arpa))

/**
 * dns64_ptr_target() - the in-addr.arpa name a PTR query is synthesized
 * from: for NAME under the ip6.arpa zone of 64:ff9b::/96, the reverse name
 * of the IPv4 address embedded in it
 * @name:	the query name (wire form, either case)
 * @namelen:	its length
 * @out:	at least DNS_NAME_MAX bytes: d.c.b.a.in-addr.arpa (lower case)
 *
 * Return: the wire length of @out, or 0 when @name is not exactly 32
 *	   one-hex-digit labels followed by ip6.arpa, or its address is
 *	   outside the prefix (such names are not synthesized)
 */
size_t dns64_ptr_target(const uint8_t *name, size_t namelen, uint8_t *out)
{
	uint8_t a6[16];
	size_t o = 0;
	int i;

	if (namelen != IP6_ARPA_LEN || !wire_name_eq(name + 64, ip6_arpa, sizeof(ip6_arpa)))
		return 0;
	for (i = 0; i < 32; i++) {
		int v = name[2 * i] == 1 ? vg_hex_digit(name[2 * i + 1]) : -1;

		if (v < 0)
			return 0;
		/* the first label is the lowest nibble of the address */
		if (i & 1)
			a6[15 - i / 2] |= (uint8_t)(v << 4);
		else
			a6[15 - i / 2] = (uint8_t)v;
	}
	if (!vg_nat64_is(a6))
		return 0;
	for (i = 15; i >= 12; i--) {
		unsigned int v = a6[i];
		size_t len = v >= 100 ? 3 : v >= 10 ? 2 : 1, k;

		out[o++] = (uint8_t)len;
		for (k = len; k > 0; k--, v /= 10)
			out[o + k - 1] = (uint8_t)('0' + v % 10);
		o += len;
	}
	memcpy(out + o, in_addr_arpa, sizeof(in_addr_arpa));
	return o + sizeof(in_addr_arpa);
}

/**
 * dns64_ptr_alias() - the inverse of dns64_ptr_target(): the ip6.arpa name
 * of 64:ff9b::a.b.c.d from the in-addr.arpa name d.c.b.a.in-addr.arpa
 * @name:	the in-addr.arpa name (wire form, as dns64_ptr_target() wrote it)
 * @namelen:	its length
 * @out:	at least DNS_NAME_MAX bytes: the ip6.arpa name (lower case)
 *
 * Return: the wire length of @out, or 0 when @name is not four decimal
 *	   labels (0..255, no leading zero) followed by in-addr.arpa
 */
size_t dns64_ptr_alias(const uint8_t *name, size_t namelen, uint8_t *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t ip[4], a6[16];
	size_t off = 0;
	uint32_t ip4;
	int i;

	for (i = 3; i >= 0; i--) {
		unsigned int v = 0, k, len = off < namelen ? name[off] : 0;

		if (len < 1 || len > 3 || off + 1 + len > namelen ||
		    (len > 1 && name[off + 1] == '0'))
			return 0;
		for (k = 0; k < len; k++) {
			uint8_t c = name[off + 1 + k];

			if (c < '0' || c > '9')
				return 0;
			v = v * 10 + (unsigned int)(c - '0');
		}
		if (v > 255)
			return 0;
		ip[i] = (uint8_t)v;
		off += 1 + len;
	}
	if (namelen - off != sizeof(in_addr_arpa) ||
	    !wire_name_eq(name + off, in_addr_arpa, sizeof(in_addr_arpa)))
		return 0;
	memcpy(&ip4, ip, 4);
	vg_nat64_embed(ip4, a6);
	for (i = 0; i < 32; i++) {
		uint8_t b = a6[15 - i / 2];

		out[2 * i] = 1;
		out[2 * i + 1] = (uint8_t)hex[(i & 1) ? b >> 4 : b & 0xf];
	}
	memcpy(out + 64, ip6_arpa, sizeof(ip6_arpa));
	return IP6_ARPA_LEN;
}
