/* SPDX-License-Identifier: MIT */
/*
 * msg.c - upstream reply -> struct dns_data with ldns (see msg.h).
 *
 * The TTL of a stored answer follows RFC 2308: the smallest TTL of the
 * answer and authority records, where an SOA counts as min(TTL, MINIMUM);
 * a negative answer without SOA gets the failure TTL; the result is capped.
 * OPT records are dropped (the server adds its own). A reply is refused
 * when its stored form plus our largest OPT record (DNS_OPT_MAX) would not
 * fit in 65,535 bytes, so every stored answer fits a TCP answer whole.
 *
 * DNSSEC: upstream is always asked with DO, so the reply may carry RRSIG,
 * NSEC and NSEC3 records. They are kept in the full view; when there are
 * any (other than of the query type itself), the same reply is encoded a
 * second time without them as the plain view for clients without DO (see
 * struct dns_data). The reply's AD bit is kept as DATA_F_AD.
 */
#include "msg.h"

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

/**
 * dns_data_new() - allocate a stored answer
 * @name:	lower-case wire name
 * @namelen:	its length
 * @rcode:	response code
 * @rr:		RR bytes (may be NULL when @rrlen is 0)
 * @rrlen:	their length
 * @an:		answer count
 * @ns:		authority count
 * @ar:		additional count
 * @ar_off:	offset of the additional section in @rr
 *
 * Return: block to free() (or hand to the cache), NULL on ENOMEM
 */
struct dns_data *dns_data_new(const uint8_t *name, size_t namelen, int rcode, const uint8_t *rr,
			      size_t rrlen, uint16_t an, uint16_t ns, uint16_t ar, uint16_t ar_off)
{
	struct dns_data *d = malloc(sizeof(*d) + namelen + rrlen);

	if (!d)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->len = (uint16_t)rrlen;
	d->an = an;
	d->ns = ns;
	d->ar = ar;
	d->ar_off = ar_off;
	d->rcode = (uint8_t)rcode;
	d->namelen = (uint8_t)namelen;
	memcpy(d->bytes, name, namelen);
	if (rrlen)
		memcpy(d->bytes + namelen, rr, rrlen);
	return d;
}

/* realloc_data - grow a block from dns_data_new() to @bytes after the header */
static struct dns_data *realloc_data(struct dns_data *d, size_t bytes)
{
	struct dns_data *n = realloc(d, sizeof(*d) + bytes);

	if (!n)
		free(d);
	return n;
}

static uint32_t rr_ttl(const ldns_rr *rr)
{
	uint32_t ttl = ldns_rr_ttl(rr);

	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) == 7) {
		uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));

		if (min < ttl)
			ttl = min;
	}
	return ttl;
}

/**
 * msg_is_dnssec() - is @rtype a DNSSEC record a client without DO must not
 * get unless it asked for that type (RFC 4035 3.2.1, RFC 5155 7.2)?
 * @rtype:	record type
 * @qtype:	query type
 *
 * Return: true for RRSIG, NSEC and NSEC3 other than @qtype
 */
bool msg_is_dnssec(uint16_t rtype, uint16_t qtype)
{
	return rtype != qtype &&
	       (rtype == DNS_TYPE_RRSIG || rtype == DNS_TYPE_NSEC || rtype == DNS_TYPE_NSEC3);
}

/*
 * copy_section - clone the non-OPT records of @from into @to, tracking the
 * min TTL; with @strip, DNSSEC records (msg_is_dnssec() for @qtype) are left
 * out and counted in *@stripped
 */
static int copy_section(ldns_pkt *to, ldns_pkt_section sec, const ldns_rr_list *from,
			uint32_t *min_ttl, int *nrec, bool strip, uint16_t qtype, int *stripped)
{
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(from); i++) {
		ldns_rr *rr = ldns_rr_list_rr(from, i), *c;

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT)
			continue;
		if (msg_is_dnssec((uint16_t)ldns_rr_get_type(rr), qtype)) {
			(*stripped)++;
			if (strip)
				continue;
		}
		c = ldns_rr_clone(rr);
		if (!c || !ldns_pkt_push_rr(to, sec, c)) {
			ldns_rr_free(c);
			return -1;
		}
		if (min_ttl) {
			uint32_t t = rr_ttl(rr);

			if (t < *min_ttl)
				*min_ttl = t;
			(*nrec)++;
		}
	}
	return 0;
}

/**
 * encode() - one view of a reply: a packet with the canonical question and
 * the reply's records, encoded, and where its sections are
 * @p:		the parsed reply
 * @name:	lower-case name asked
 * @namelen:	its length
 * @type:	type asked
 * @strip:	leave out DNSSEC records (the plain view)
 * @wire:	set to the encoding (caller frees), NULL on failure
 * @wlen:	its length
 * @end:	set to the offset of its additional section
 * @min_ttl:	lowered to the smallest TTL of answer and authority records
 * @nrec:	count of those records
 * @stripped:	count of DNSSEC records seen (left out with @strip)
 *
 * Return: 0, or -1 when it cannot be built or does not fit
 */
static int encode(ldns_pkt *p, const uint8_t *name, size_t namelen, uint16_t type, bool strip,
		  uint8_t **wire, size_t *wlen, size_t *end, uint32_t *min_ttl, int *nrec,
		  int *stripped)
{
	ldns_pkt *np = ldns_pkt_new();
	ldns_rr *q = ldns_rr_new();
	ldns_rdf *owner = ldns_dname_new_frm_data((uint16_t)namelen, name);
	size_t start = DNS_HDR_LEN + namelen + 4;
	int ret = -1;

	*wire = NULL;
	if (!np || !q || !owner) {
		ldns_rdf_deep_free(owner);
		goto out;
	}
	ldns_rr_set_owner(q, owner);
	ldns_rr_set_type(q, (ldns_rr_type)type);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(q, true);
	if (!ldns_pkt_push_rr(np, LDNS_SECTION_QUESTION, q))
		goto out;
	q = NULL;
	if (copy_section(np, LDNS_SECTION_ANSWER, ldns_pkt_answer(p), min_ttl, nrec, strip, type,
			 stripped) < 0 ||
	    copy_section(np, LDNS_SECTION_AUTHORITY, ldns_pkt_authority(p), min_ttl, nrec, strip,
			 type, stripped) < 0 ||
	    copy_section(np, LDNS_SECTION_ADDITIONAL, ldns_pkt_additional(p), NULL, NULL, strip,
			 type, stripped) < 0)
		goto out;
	ldns_pkt_set_rcode(np, ldns_pkt_get_rcode(p));
	/* room for our largest OPT record, so a TCP answer always fits without TC */
	if (ldns_pkt2wire(wire, np, wlen) != LDNS_STATUS_OK || *wlen > DNS_MSG_MAX - DNS_OPT_MAX)
		goto out;
	if (*wlen < start ||
	    wire_skip_rrs(*wire, *wlen, start,
			  (unsigned int)wire_get16(*wire + 6) + wire_get16(*wire + 8), end) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		free(*wire);
		*wire = NULL;
	}
	ldns_rr_free(q);
	ldns_pkt_free(np);
	return ret;
}

/**
 * msg_from_reply() - build the stored answer from a validated upstream reply
 * @pkt:	reply (wire_check_reply() already matched ID and question)
 * @len:	its length
 * @name:	lower-case name asked
 * @namelen:	its length
 * @type:	type asked
 * @max_ttl:	TTL cap, seconds
 * @fail_ttl:	TTL for negative answers without SOA
 * @out:	the new block (caller owns it)
 * @ttl:	its TTL
 *
 * Return: MSG_OK, MSG_BAD for a malformed reply, MSG_REFUSED for an
 *	   rcode other than NOERROR/NXDOMAIN
 */
int msg_from_reply(const uint8_t *pkt, size_t len, const uint8_t *name, size_t namelen,
		   uint16_t type, uint32_t max_ttl, uint32_t fail_ttl, struct dns_data **out,
		   uint32_t *ttl)
{
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL, *pw = NULL;
	size_t wlen = 0, plen = 0, start = DNS_HDR_LEN + namelen + 4, end, pend = 0;
	uint32_t min_ttl = UINT32_MAX, unused_ttl = UINT32_MAX;
	int ret = MSG_BAD, nrec = 0, unused_n = 0, nsec = 0, unused_s = 0;
	ldns_pkt_rcode rcode;
	struct dns_data *d;
	size_t full;

	*out = NULL;
	if (ldns_wire2pkt(&p, pkt, len) != LDNS_STATUS_OK)
		return MSG_BAD;
	rcode = ldns_pkt_get_rcode(p);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		ret = MSG_REFUSED;
		goto out;
	}
	if (encode(p, name, namelen, type, false, &wire, &wlen, &end, &min_ttl, &nrec, &nsec) < 0)
		goto out;
	if (nsec && encode(p, name, namelen, type, true, &pw, &plen, &pend, &unused_ttl, &unused_n,
			   &unused_s) < 0)
		goto out;
	if (!nrec)
		min_ttl = fail_ttl;
	*ttl = min_ttl < max_ttl ? min_ttl : max_ttl;
	full = wlen - start;
	d = dns_data_new(name, namelen, rcode, NULL, 0, 0, 0, 0, 0);
	if (d)
		d = realloc_data(d, namelen + full + (pw ? DNS_PLAIN_HDR + plen - start : 0));
	if (!d)
		goto out;
	d->len = (uint16_t)full;
	d->an = wire_get16(wire + 6);
	d->ns = wire_get16(wire + 8);
	d->ar = wire_get16(wire + 10);
	d->ar_off = (uint16_t)(end - start);
	memcpy(d->bytes + namelen, wire + start, full);
	if (pw) {
		uint8_t *ph = d->bytes + namelen + full;

		d->dflags |= DATA_F_PLAIN;
		wire_put16(ph, (uint16_t)(plen - start));
		memcpy(ph + 2, pw + 6, 6); /* an, ns, ar */
		wire_put16(ph + 8, (uint16_t)(pend - start));
		memcpy(ph + DNS_PLAIN_HDR, pw + start, plen - start);
	}
	if (ldns_pkt_ad(p))
		d->dflags |= DATA_F_AD;
	*out = d;
	ret = MSG_OK;
out:
	free(wire);
	free(pw);
	ldns_pkt_free(p);
	return ret;
}
