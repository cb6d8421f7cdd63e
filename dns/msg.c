/* SPDX-License-Identifier: MIT */
/*
 * msg.c - upstream reply -> struct dns_data with ldns (see msg.h).
 *
 * The TTL of a stored answer follows RFC 2308: the smallest TTL of the
 * answer and authority records, where an SOA counts as min(TTL, MINIMUM);
 * a negative answer without SOA gets the failure TTL; the result is capped.
 * OPT records are dropped (the server adds its own). A reply is refused
 * when its stored form plus our OPT record would not fit in 65,535 bytes,
 * so every stored answer fits a TCP answer whole.
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

/* copy_section - clone the non-OPT records of @from into @to, tracking the min TTL */
static int copy_section(ldns_pkt *to, ldns_pkt_section sec, const ldns_rr_list *from,
			uint32_t *min_ttl, int *nrec)
{
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(from); i++) {
		ldns_rr *rr = ldns_rr_list_rr(from, i), *c;

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT)
			continue;
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
	ldns_pkt *p = NULL, *np = NULL;
	ldns_rr *q = NULL;
	ldns_rdf *owner;
	uint8_t *wire = NULL;
	size_t wlen = 0, start, end;
	uint32_t min_ttl = UINT32_MAX;
	int ret = MSG_BAD, nrec = 0;
	ldns_pkt_rcode rcode;

	*out = NULL;
	if (ldns_wire2pkt(&p, pkt, len) != LDNS_STATUS_OK)
		return MSG_BAD;
	rcode = ldns_pkt_get_rcode(p);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		ret = MSG_REFUSED;
		goto out;
	}
	np = ldns_pkt_new();
	q = ldns_rr_new();
	owner = ldns_dname_new_frm_data((uint16_t)namelen, name);
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
	if (copy_section(np, LDNS_SECTION_ANSWER, ldns_pkt_answer(p), &min_ttl, &nrec) < 0 ||
	    copy_section(np, LDNS_SECTION_AUTHORITY, ldns_pkt_authority(p), &min_ttl, &nrec) < 0 ||
	    copy_section(np, LDNS_SECTION_ADDITIONAL, ldns_pkt_additional(p), NULL, NULL) < 0)
		goto out;
	ldns_pkt_set_rcode(np, (uint8_t)rcode);
	/* room for our OPT record, so a TCP answer always fits without TC */
	if (ldns_pkt2wire(&wire, np, &wlen) != LDNS_STATUS_OK || wlen > DNS_MSG_MAX - DNS_OPT_LEN)
		goto out;
	start = DNS_HDR_LEN + namelen + 4;
	if (wlen < start ||
	    wire_skip_rrs(wire, wlen, start, (unsigned int)wire_get16(wire + 6) + wire_get16(wire + 8),
			  &end) < 0)
		goto out;
	if (!nrec)
		min_ttl = fail_ttl;
	*ttl = min_ttl < max_ttl ? min_ttl : max_ttl;
	*out = dns_data_new(name, namelen, rcode, wire + start, wlen - start, wire_get16(wire + 6),
			    wire_get16(wire + 8), wire_get16(wire + 10), (uint16_t)(end - start));
	if (*out)
		ret = MSG_OK;
out:
	free(wire);
	ldns_rr_free(q);
	ldns_pkt_free(np);
	ldns_pkt_free(p);
	return ret;
}
