/* SPDX-License-Identifier: MIT */
/*
 * msg.c - upstream reply -> struct dns_data (see msg.h), without a library:
 * the reply is walked record by record and re-encoded into a buffer of its
 * own.
 *
 * Reading: every owner name, and every name inside the RDATA of the types
 * whose layout is known (rdata_layout(): the RFC 1035 types, and those RFC
 * 3597 section 4 says a receiver must decompress, plus DNAME, RRSIG and
 * NSEC) is decompressed with wire_name_copy() (case kept, pointers strictly
 * backwards, label and name limits); the fixed fields of those types must
 * fit their RDATA exactly (a record may end early at a field boundary, as
 * with ldns, but never inside a field or with bytes left over); the RDATA
 * of other types is copied as it is (RFC 3597: no compression there). Any
 * overrun of the message or of a record is MSG_BAD.
 *
 * Writing: a header (only its counts are used), the canonical question
 * (lower-case name, type, IN), then the kept records. Owner names, and the
 * names in the RDATA of the RFC 1035 types that allow it, are compressed
 * against every name written so far in such a place (a bounded table of
 * MSG_SUFFIX_MAX label offsets below 0x4000, matched on length then on the
 * lower-cased labels); other RDATA names are written whole. So the stored
 * RR bytes have compression pointers relative to that canonical layout.
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
 *
 * msg_alias() uses the same writer to turn one stored answer into another
 * under a new name (a CNAME to the old name, then its records): DNS64's
 * PTR synthesis (dns64.c).
 */
#include "msg.h"

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

/* label offsets remembered as compression targets per encoding */
#define MSG_SUFFIX_MAX 256
/* compression pointers hold 14 bits of offset */
#define MSG_PTR_LIMIT 0x4000
#define DNS_TYPE_TSIG 250

/**
 * struct enc - one encoding of a reply being written
 * @buf:	output (@limit bytes)
 * @len:	bytes written
 * @limit:	the most that may be written
 * @sfx_off:	offsets in @buf of labels that may be pointed at
 * @sfx_len:	wire length of the name from that label to the root
 * @nsfx:	entries used
 */
struct enc {
	uint8_t *buf;
	size_t len;
	size_t limit;
	uint16_t sfx_off[MSG_SUFFIX_MAX];
	uint8_t sfx_len[MSG_SUFFIX_MAX];
	unsigned int nsfx;
};

/* put - append @n bytes; -1 when they would pass the limit */
static int put(struct enc *e, const void *p, size_t n)
{
	if (n > e->limit - e->len)
		return -1;
	memcpy(e->buf + e->len, p, n);
	e->len += n;
	return 0;
}

static int put16(struct enc *e, uint16_t v)
{
	uint8_t b[2];

	wire_put16(b, v);
	return put(e, b, 2);
}

/* suffix_at - does the name written at @off in @e equal @sfx (@slen bytes)? */
static bool suffix_at(const struct enc *e, size_t off, const uint8_t *sfx, size_t slen)
{
	uint8_t nm[DNS_NAME_MAX];
	size_t end;
	int n = wire_name_read(e->buf, e->len, off, nm, &end);

	return n == (int)slen && wire_name_eq(nm, sfx, slen);
}

/**
 * put_name() - append an uncompressed wire name, compressed when allowed
 * @e:		the encoding
 * @name:	the name (valid: from wire_name_copy() or the question)
 * @n:		its wire length
 * @compress:	point its longest suffix already written (in a compressible
 *		place) at that, and remember its own labels as targets
 *
 * Return: 0, or -1 when it does not fit
 */
static int put_name(struct enc *e, const uint8_t *name, size_t n, bool compress)
{
	size_t pos = 0, at = e->len, p;
	int target = -1;
	unsigned int i;

	while (compress && name[pos]) {
		for (i = 0; i < e->nsfx && target < 0; i++)
			if (e->sfx_len[i] == n - pos && suffix_at(e, e->sfx_off[i], name + pos, n - pos))
				target = e->sfx_off[i];
		if (target >= 0)
			break;
		pos += 1u + name[pos];
	}
	if (target < 0)
		pos = n; /* whole, root label included */
	if (put(e, name, pos) < 0 ||
	    (target >= 0 && put16(e, (uint16_t)(0xc000 | (unsigned int)target)) < 0))
		return -1;
	for (p = 0; compress && p < pos && name[p]; p += 1u + name[p])
		if (e->nsfx < MSG_SUFFIX_MAX && at + p < MSG_PTR_LIMIT) {
			e->sfx_off[e->nsfx] = (uint16_t)(at + p);
			e->sfx_len[e->nsfx++] = (uint8_t)(n - p);
		}
	return 0;
}

/**
 * rdata_layout() - the fields of a record type whose RDATA holds names
 * @type:	record type
 * @compress:	set when those names may be compressed (RFC 1035 types)
 *
 * Fields: 'n' a name, '1' '2' '4' that many bytes, 's' a character-string,
 * 'r' the rest (possibly nothing).
 *
 * Return: the layout, or NULL for RDATA copied as it is
 */
static const char *rdata_layout(uint16_t type, bool *compress)
{
	*compress = true;
	switch (type) {
	case 2:	 /* NS */
	case 3:	 /* MD */
	case 4:	 /* MF */
	case 5:	 /* CNAME */
	case 7:	 /* MB */
	case 8:	 /* MG */
	case 9:	 /* MR */
	case 12: /* PTR */
		return "n";
	case 6: /* SOA: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM */
		return "nn44444";
	case 14: /* MINFO */
		return "nn";
	case 15: /* MX */
		return "2n";
	default:
		break;
	}
	*compress = false;
	switch (type) {
	case DNS_TYPE_A:
		return "4";
	case DNS_TYPE_AAAA:
		return "4444";
	case 17: /* RP */
		return "nn";
	case 18: /* AFSDB */
	case 21: /* RT */
	case 36: /* KX */
		return "2n";
	case 26: /* PX */
		return "2nn";
	case 30: /* NXT */
	case DNS_TYPE_NSEC:
		return "nr";
	case DNS_TYPE_SRV:
		return "222n";
	case 35: /* NAPTR */
		return "22sssn";
	case 39: /* DNAME (RFC 6672: never compressed) */
		return "n";
	case 24: /* SIG */
	case DNS_TYPE_RRSIG:
		return "2114442nr";
	default:
		return NULL;
	}
}

/**
 * put_rdata() - append the RDATA of one record, its names decompressed
 * @e:		the encoding
 * @m:		the reply
 * @len:	its length
 * @rd:		offset of the RDATA
 * @rdend:	offset just after it
 * @type:	the record's type
 * @soa_min:	for a complete SOA, set to its MINIMUM (left alone otherwise)
 *
 * Return: 0, or -1 when the RDATA does not match its type's layout (a field
 *	   cut short, missing or left over; empty RDATA is kept) or the
 *	   encoding does not fit
 */
static int put_rdata(struct enc *e, const uint8_t *m, size_t len, size_t rd, size_t rdend,
		     uint16_t type, uint32_t *soa_min)
{
	bool compress;
	const char *lay = rdata_layout(type, &compress), *f;
	uint8_t nm[DNS_NAME_MAX];
	size_t end, n, start = rd;
	int l;

	if (!lay)
		return put(e, m + rd, rdend - rd);
	for (f = lay; *f && rd < rdend; f++) {
		switch (*f) {
		case 'n':
			l = wire_name_copy(m, len, rd, nm, &end);
			if (l < 0 || end > rdend || put_name(e, nm, (size_t)l, compress) < 0)
				return -1;
			rd = end;
			continue;
		case 's':
			n = 1u + m[rd];
			break;
		case 'r':
			n = rdend - rd;
			break;
		default:
			n = (size_t)(*f - '0');
			break;
		}
		if (n > rdend - rd || put(e, m + rd, n) < 0)
			return -1;
		rd += n;
	}
	while (*f == 'r') /* a trailing rest may be empty */
		f++;
	/* all of it parsed, and no field missing (empty RDATA is kept as is,
	 * RFC 2136 2.5.2 style) */
	if (rd != rdend || (*f && rd != start))
		return -1;
	if (type == DNS_TYPE_SOA && !*f)
		*soa_min = wire_get32(e->buf + e->len - 4);
	return 0;
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

/**
 * struct view - one encoded view of a reply
 * @wire:	the message (caller frees), NULL until built
 * @len:	its length
 * @ar_off:	offset of its additional section
 * @cnt:	its answer, authority and additional counts
 */
struct view {
	uint8_t *wire;
	size_t len;
	size_t ar_off;
	uint16_t cnt[3];
};

/**
 * encode() - one view of a reply: the canonical question and the reply's
 * records, encoded, and where its sections are
 * @m:		the reply (question checked by wire_check_reply())
 * @len:	its length
 * @name:	lower-case name asked
 * @namelen:	its length
 * @type:	type asked
 * @strip:	leave out DNSSEC records (the plain view)
 * @v:		filled; v->wire is allocated (freed by the caller, also on
 *		failure)
 * @min_ttl:	lowered to the smallest TTL of answer and authority records
 *		(an SOA counting as min(TTL, MINIMUM))
 * @nrec:	count of those records
 * @stripped:	count of DNSSEC records seen (left out with @strip)
 *
 * OPT records are left out, in any section, and a TSIG in the additional
 * section.
 *
 * Return: 0, or -1 when the reply is malformed, or its encoding cannot be
 *	   built or does not fit (with room for our largest OPT record, so a
 *	   TCP answer always fits without TC)
 */
static int encode(const uint8_t *m, size_t len, const uint8_t *name, size_t namelen,
		  uint16_t type, bool strip, struct view *v, uint32_t *min_ttl, int *nrec,
		  int *stripped)
{
	static const uint8_t hdr[DNS_HDR_LEN];
	struct enc enc, *e = &enc;
	size_t off = DNS_HDR_LEN + namelen + 4;
	unsigned int sec, i;

	v->wire = malloc(DNS_MSG_MAX - DNS_OPT_MAX);
	if (!v->wire)
		return -1;
	e->buf = v->wire;
	e->len = 0;
	e->limit = DNS_MSG_MAX - DNS_OPT_MAX;
	e->nsfx = 0;
	if (put(e, hdr, sizeof(hdr)) < 0 || put_name(e, name, namelen, true) < 0 ||
	    put16(e, type) < 0 || put16(e, DNS_CLASS_IN) < 0)
		return -1;
	for (sec = 0; sec < 3; sec++) {
		unsigned int count = wire_get16(m + 6 + 2 * sec);

		v->cnt[sec] = 0;
		if (sec == 2)
			v->ar_off = e->len;
		for (i = 0; i < count; i++) {
			uint8_t nm[DNS_NAME_MAX];
			uint32_t ttl, soa_min = UINT32_MAX;
			size_t end, rdlen_at;
			uint16_t rtype, rdlen;
			int n = wire_name_copy(m, len, off, nm, &end);

			if (n < 0 || end + 10 > len)
				return -1;
			rtype = wire_get16(m + end);
			ttl = wire_get32(m + end + 4);
			rdlen = wire_get16(m + end + 8);
			off = end + 10;
			if (rdlen > len - off)
				return -1;
			off += rdlen;
			if (rtype == DNS_TYPE_OPT || (sec == 2 && rtype == DNS_TYPE_TSIG))
				continue;
			if (msg_is_dnssec(rtype, type)) {
				(*stripped)++;
				if (strip)
					continue;
			}
			if (put_name(e, nm, (size_t)n, true) < 0 || put(e, m + end, 8) < 0)
				return -1;
			rdlen_at = e->len;
			if (put16(e, 0) < 0 ||
			    put_rdata(e, m, len, off - rdlen, off, rtype, &soa_min) < 0 ||
			    e->len - rdlen_at - 2 > UINT16_MAX)
				return -1;
			wire_put16(e->buf + rdlen_at, (uint16_t)(e->len - rdlen_at - 2));
			v->cnt[sec]++;
			if (sec < 2) {
				if (soa_min < ttl)
					ttl = soa_min;
				if (ttl < *min_ttl)
					*min_ttl = ttl;
				(*nrec)++;
			}
		}
	}
	v->len = e->len;
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
	struct view full = {0}, plain = {0};
	size_t start = DNS_HDR_LEN + namelen + 4, rr;
	uint32_t min_ttl = UINT32_MAX, unused_ttl = UINT32_MAX;
	int ret = MSG_BAD, nrec = 0, unused_n = 0, nsec = 0, unused_s = 0, rcode;
	struct dns_data *d;

	*out = NULL;
	if (len < start)
		return MSG_BAD;
	rcode = pkt[3] & 0x0f;
	if (rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN)
		return MSG_REFUSED;
	if (encode(pkt, len, name, namelen, type, false, &full, &min_ttl, &nrec, &nsec) < 0)
		goto out;
	if (nsec && encode(pkt, len, name, namelen, type, true, &plain, &unused_ttl, &unused_n,
			   &unused_s) < 0)
		goto out;
	if (!nrec)
		min_ttl = fail_ttl;
	*ttl = min_ttl < max_ttl ? min_ttl : max_ttl;
	rr = full.len - start;
	d = dns_data_new(name, namelen, rcode, NULL, 0, 0, 0, 0, 0);
	if (d)
		d = realloc_data(d, namelen + rr + (plain.wire ? DNS_PLAIN_HDR + plain.len - start : 0));
	if (!d)
		goto out;
	d->len = (uint16_t)rr;
	d->an = full.cnt[0];
	d->ns = full.cnt[1];
	d->ar = full.cnt[2];
	d->ar_off = (uint16_t)(full.ar_off - start);
	memcpy(d->bytes + namelen, full.wire + start, rr);
	if (plain.wire) {
		uint8_t *ph = d->bytes + namelen + rr;

		d->dflags |= DATA_F_PLAIN;
		wire_put16(ph, (uint16_t)(plain.len - start));
		wire_put16(ph + 2, plain.cnt[0]);
		wire_put16(ph + 4, plain.cnt[1]);
		wire_put16(ph + 6, plain.cnt[2]);
		wire_put16(ph + 8, (uint16_t)(plain.ar_off - start));
		memcpy(ph + DNS_PLAIN_HDR, plain.wire + start, plain.len - start);
	}
	if (wire_get16(pkt + 2) & DNS_FLAG_AD)
		d->dflags |= DATA_F_AD;
	*out = d;
	ret = MSG_OK;
out:
	free(full.wire);
	free(plain.wire);
	return ret;
}

/**
 * msg_alias() - a stored answer for @alias made of a CNAME to @target and
 * @target's records: DNS64's PTR synthesis (RFC 6147 5.3.1) answers the
 * ip6.arpa name with the answer of the in-addr.arpa name
 * @alias:	lower-case wire name the answer is for (the new question)
 * @alen:	its length
 * @type:	the query type
 * @target:	lower-case wire name whose answer @v is
 * @tlen:	its length
 * @rcode:	that answer's rcode (NOERROR or NXDOMAIN), kept
 * @v:		that answer's view (compression pointers relative to a message
 *		whose question is (@target, @type, IN))
 * @scratch:	at least DNS_HDR_LEN + @tlen + 4 + @v->len bytes
 *
 * Every record of @v is re-encoded after the CNAME (names decompressed
 * from @v, compressed again against the new message), in its section.
 *
 * Return: a new block (to free()), NULL when @v is malformed, the result
 *	   does not fit a message with our largest OPT, or on ENOMEM
 */
struct dns_data *msg_alias(const uint8_t *alias, size_t alen, uint16_t type, const uint8_t *target,
			   size_t tlen, int rcode, const struct dns_view *v, uint8_t *scratch)
{
	static const uint8_t hdr[DNS_HDR_LEN];
	size_t off = DNS_HDR_LEN + tlen + 4, len = off + v->len, start, ar_off = 0;
	uint16_t cnt[3] = {v->an, v->ns, v->ar}, out[3] = {1, 0, 0};
	struct dns_data *d = NULL;
	struct enc enc, *e = &enc;
	unsigned int sec, i;
	size_t rdlen_at;

	memset(scratch, 0, DNS_HDR_LEN);
	memcpy(scratch + DNS_HDR_LEN, target, tlen);
	wire_put16(scratch + DNS_HDR_LEN + tlen, type);
	wire_put16(scratch + DNS_HDR_LEN + tlen + 2, DNS_CLASS_IN);
	if (v->len)
		memcpy(scratch + off, v->rr, v->len);
	e->buf = malloc(DNS_MSG_MAX - DNS_OPT_MAX);
	if (!e->buf)
		return NULL;
	e->len = 0;
	e->limit = DNS_MSG_MAX - DNS_OPT_MAX;
	e->nsfx = 0;
	if (put(e, hdr, sizeof(hdr)) < 0 || put_name(e, alias, alen, true) < 0 ||
	    put16(e, type) < 0 || put16(e, DNS_CLASS_IN) < 0)
		goto out;
	start = e->len;
	/* the CNAME: its TTL is rewritten when the answer is sent */
	if (put_name(e, alias, alen, true) < 0 || put16(e, DNS_TYPE_CNAME) < 0 ||
	    put16(e, DNS_CLASS_IN) < 0 || put16(e, 0) < 0 || put16(e, 0) < 0)
		goto out;
	rdlen_at = e->len;
	if (put16(e, 0) < 0 || put_name(e, target, tlen, true) < 0)
		goto out;
	wire_put16(e->buf + rdlen_at, (uint16_t)(e->len - rdlen_at - 2));
	for (sec = 0; sec < 3; sec++) {
		if (sec == 2)
			ar_off = e->len - start;
		for (i = 0; i < cnt[sec]; i++) {
			uint8_t nm[DNS_NAME_MAX];
			uint32_t soa_min;
			size_t end;
			uint16_t rtype, rdlen;
			int n = wire_name_copy(scratch, len, off, nm, &end);

			if (n < 0 || end + 10 > len)
				goto out;
			rtype = wire_get16(scratch + end);
			rdlen = wire_get16(scratch + end + 8);
			off = end + 10;
			if (rdlen > len - off)
				goto out;
			off += rdlen;
			if (put_name(e, nm, (size_t)n, true) < 0 || put(e, scratch + end, 8) < 0)
				goto out;
			rdlen_at = e->len;
			if (put16(e, 0) < 0 ||
			    put_rdata(e, scratch, len, off - rdlen, off, rtype, &soa_min) < 0 ||
			    e->len - rdlen_at - 2 > UINT16_MAX)
				goto out;
			wire_put16(e->buf + rdlen_at, (uint16_t)(e->len - rdlen_at - 2));
			out[sec]++;
		}
	}
	d = dns_data_new(alias, alen, rcode, e->buf + start, e->len - start, out[0], out[1], out[2],
			 (uint16_t)ar_off);
out:
	free(e->buf);
	return d;
}
