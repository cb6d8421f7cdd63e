/* SPDX-License-Identifier: MIT */
/*
 * wire.c - hot-path DNS wire handling without ldns (see wire.h).
 *
 * Guest queries are parsed strictly: header, exactly one question with an
 * uncompressed name (labels <= 63, name <= 255 bytes; a compression pointer
 * or extended label type is FORMERR), no answer/authority records, and at
 * most one additional record which must be an OPT at the root. The OPT's
 * options are walked: an option list that overruns the record, or a cookie
 * or client-subnet option of impossible length, is FORMERR (RFC 7873
 * 5.2.2, RFC 7871 7.1.2); well-formed options are noted (struct dns_qinfo)
 * and then ignored: vgate builds its own OPT both upstream and in answers,
 * so a guest's options are never forwarded nor echoed. EDNS version > 0 is
 * BADVERS (RFC 6891 6.1.3), before its options are looked at.
 *
 * Answers: DO selects the stored answer's full view (with DNSSEC records),
 * else the plain view; AD is set only when upstream set it and the client
 * sent DO or AD (RFC 6840 5.8); CD is echoed. An Extended DNS Error goes in
 * the OPT when the query had one; it is the first thing dropped when the
 * answer would not fit otherwise.
 *
 * Stored answers (struct dns_data) keep the RR sections of a message whose
 * question is (lower-case name, type, IN) at offset 12. Because the guest's
 * question has the same wire length, an answer is built by writing a header
 * and the guest's own question, then copying the RR bytes: every compression
 * pointer stays valid. TTLs are then rewritten in place by walking the RRs.
 *
 * Names read from network messages (upstream replies, stored answers) are
 * decompressed with a hop limit and pointers must point strictly backwards,
 * so compression loops terminate.
 */
#include "wire.h"

#include <string.h>

/* label_at()'s answer for a compression pointer (a label is at most 63) */
#define LABEL_POINTER 0xc0

/**
 * label_at() - what a name holds at @pos: the one step all name walkers take
 * @msg:	message (or name)
 * @len:	bytes available from @msg
 * @pos:	offset of a length byte
 *
 * Return: the label's length (0 for the root) when its bytes are within @len,
 *	   LABEL_POINTER for a compression pointer whose two bytes are within
 *	   @len, or -1 when truncated or an extended label type
 */
static int label_at(const uint8_t *msg, size_t len, size_t pos)
{
	uint8_t l;

	if (pos >= len)
		return -1;
	l = msg[pos];
	if ((l & 0xc0) == 0xc0)
		return pos + 1 < len ? LABEL_POINTER : -1;
	if (l & 0xc0)
		return -1;
	return pos + 1u + l <= len ? l : -1;
}

/**
 * wire_check_name() - validate an uncompressed wire name
 * @p:		start of the name
 * @avail:	bytes available from @p
 *
 * Return: wire length including the root label, or -1 when the name is
 *	   truncated, compressed, uses an extended label type, has a label
 *	   over 63 bytes or is longer than 255 bytes
 */
int wire_check_name(const uint8_t *p, size_t avail)
{
	size_t off = 0;

	for (;;) {
		int l = label_at(p, avail, off);

		if (l < 0 || l == LABEL_POINTER)
			return -1;
		off += 1u + (size_t)l;
		if (off > DNS_NAME_MAX)
			return -1;
		if (l == 0)
			return (int)off;
	}
}

/**
 * parse_options() - walk the options of a guest's OPT record
 * @p:		the option data (RDATA of the OPT)
 * @len:	its length
 * @q:		opt_cookie, opt_ecs and opt_other are set
 *
 * Return: 0, or DNS_RCODE_FORMERR for a malformed option list, a cookie
 *	   that is neither 8 (client only) nor 16..40 bytes, or a client
 *	   subnet option shorter than its fixed part
 */
static int parse_options(const uint8_t *p, size_t len, struct dns_qinfo *q)
{
	size_t off = 0;

	while (off < len) {
		uint16_t code, olen;

		if (off + 4 > len)
			return DNS_RCODE_FORMERR;
		code = wire_get16(p + off);
		olen = wire_get16(p + off + 2);
		off += 4;
		if (off + olen > len)
			return DNS_RCODE_FORMERR;
		off += olen;
		if (code == DNS_OPT_COOKIE) {
			if (q->opt_cookie || (olen != 8 && (olen < 16 || olen > 40)))
				return DNS_RCODE_FORMERR;
			q->opt_cookie = true;
		} else if (code == DNS_OPT_ECS) {
			if (q->opt_ecs || olen < 4)
				return DNS_RCODE_FORMERR;
			q->opt_ecs = true;
		} else if (q->opt_other < UINT8_MAX) {
			q->opt_other++;
		}
	}
	return 0;
}

/**
 * wire_parse_query() - parse and validate a guest query
 * @msg:	message
 * @len:	its length
 * @q:		filled with what is needed to answer (also on errors, as far
 *		as parsed: @q->has_question tells whether the question is usable)
 *
 * Return: 0 for a valid query, WIRE_DROP when no answer should be sent
 *	   (shorter than a header, or a response), else the rcode to answer
 *	   with: DNS_RCODE_FORMERR, DNS_RCODE_NOTIMP or DNS_RCODE_BADVERS
 */
int wire_parse_query(const uint8_t *msg, size_t len, struct dns_qinfo *q)
{
	uint16_t qd, an, ns, ar;
	size_t off;
	int n;

	q->has_question = false;
	q->edns = false;
	q->do_bit = false;
	q->udp_size = 0;
	q->qnamelen = 0;
	q->opt_cookie = false;
	q->opt_ecs = false;
	q->opt_other = 0;
	if (len < DNS_HDR_LEN)
		return WIRE_DROP;
	q->id = wire_get16(msg);
	q->flags = wire_get16(msg + 2);
	if (q->flags & DNS_FLAG_QR)
		return WIRE_DROP;
	qd = wire_get16(msg + 4);
	an = wire_get16(msg + 6);
	ns = wire_get16(msg + 8);
	ar = wire_get16(msg + 10);
	if (DNS_OPCODE(q->flags) != 0)
		return DNS_RCODE_NOTIMP;
	if (qd != 1)
		return DNS_RCODE_FORMERR;
	n = wire_check_name(msg + DNS_HDR_LEN, len - DNS_HDR_LEN);
	if (n < 0 || DNS_HDR_LEN + (size_t)n + 4 > len)
		return DNS_RCODE_FORMERR;
	memcpy(q->qname, msg + DNS_HDR_LEN, (size_t)n);
	q->qnamelen = (uint8_t)n;
	off = DNS_HDR_LEN + (size_t)n;
	q->qtype = wire_get16(msg + off);
	q->qclass = wire_get16(msg + off + 2);
	q->has_question = true;
	off += 4;
	if (an || ns || ar > 1)
		return DNS_RCODE_FORMERR;
	if (ar == 1) {
		uint16_t rdlen;

		if (off + 11 > len || msg[off] != 0 || wire_get16(msg + off + 1) != DNS_TYPE_OPT)
			return DNS_RCODE_FORMERR;
		rdlen = wire_get16(msg + off + 9);
		if (off + 11 + rdlen > len)
			return DNS_RCODE_FORMERR;
		q->edns = true;
		q->udp_size = wire_get16(msg + off + 3);
		q->do_bit = (msg[off + 7] & 0x80) != 0;
		if (msg[off + 6] != 0)
			return DNS_RCODE_BADVERS;
		return parse_options(msg + off + 11, rdlen, q);
	}
	return 0;
}

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/**
 * wire_name_lower() - copy an uncompressed wire name, folding ASCII case
 * @in:		name
 * @len:	its wire length
 * @out:	destination (may be @in)
 */
void wire_name_lower(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = lower(in[i]);
}

/**
 * wire_name_eq() - compare two uncompressed names of equal wire length,
 * ignoring ASCII case (length bytes are < 64, never letters)
 * @a:		name
 * @b:		name
 * @len:	wire length of both
 *
 * Return: true when equal
 */
bool wire_name_eq(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/**
 * wire_name_to_text() - presentation form of a wire name, no trailing dot
 * @name:	uncompressed, valid name
 * @out:	destination
 * @outlen:	its size (DNS_NAME_TEXT_MAX always suffices)
 *
 * Bytes other than letters, digits, '-', '_' and '*' are written as \DDD.
 *
 * Return: length written (without NUL), or -1 when @out is too small
 */
int wire_name_to_text(const uint8_t *name, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (outlen < 2)
		return -1;
	if (name[0] == 0) {
		out[0] = '.';
		out[1] = 0;
		return 1;
	}
	while (name[i]) {
		uint8_t l = name[i++], k;

		if (o && o + 1 < outlen)
			out[o++] = '.';
		for (k = 0; k < l; k++, i++) {
			uint8_t c = name[i];
			bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				     (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';

			if (plain) {
				if (o + 1 >= outlen)
					return -1;
				out[o++] = (char)c;
			} else {
				if (o + 4 >= outlen)
					return -1;
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + (c / 10) % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
	}
	out[o] = 0;
	return (int)o;
}

/**
 * wire_name_from_text() - lower-case wire name from presentation text
 * @s:		"a.b.c" or "a.b.c." ("." is the root); \DDD and \X escapes
 * @out:	destination of DNS_NAME_MAX bytes
 *
 * Return: wire length, or -1 for an invalid name
 */
int wire_name_from_text(const char *s, uint8_t *out)
{
	size_t o = 1, lab = 0;

	if (!s || !*s)
		return -1;
	if (s[0] == '.' && s[1] == 0) {
		out[0] = 0;
		return 1;
	}
	out[0] = 0;
	while (*s) {
		uint8_t c = (uint8_t)*s++;

		if (c == '.') {
			if (out[lab] == 0)
				return -1; /* empty label */
			lab = o++;
			if (o > DNS_NAME_MAX)
				return -1;
			out[lab] = 0;
			continue;
		}
		if (c == '\\') {
			if (s[0] >= '0' && s[0] <= '9') {
				int v;

				if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'))
					return -1;
				v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
				if (v > 255)
					return -1;
				c = (uint8_t)v;
				s += 3;
			} else if (*s) {
				c = (uint8_t)*s++;
			} else {
				return -1;
			}
		}
		if (out[lab] >= DNS_LABEL_MAX || o + 1 >= DNS_NAME_MAX)
			return -1;
		out[o++] = lower(c);
		out[lab]++;
	}
	if (out[lab] != 0) {
		if (o >= DNS_NAME_MAX)
			return -1;
		out[o++] = 0;
	}
	return (int)o;
}

/*
 * name_read - the walk of wire_name_read() and wire_name_copy(): decompress
 * the name at @off into @out, lower-casing its labels when @fold
 */
static int name_read(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *end,
		     bool fold)
{
	size_t o = 0, pos = off;
	bool jumped = false;
	int hops = 0;

	for (;;) {
		int l = label_at(msg, len, pos);

		if (l < 0)
			return -1;
		if (l == LABEL_POINTER) {
			size_t to = (size_t)(msg[pos] & 0x3f) << 8 | msg[pos + 1];

			if (++hops > 64 || to >= pos)
				return -1;
			if (!jumped)
				*end = pos + 2;
			jumped = true;
			pos = to;
			continue;
		}
		if (o + 1u + (size_t)l > DNS_NAME_MAX)
			return -1;
		out[o++] = (uint8_t)l;
		if (l == 0)
			break;
		if (fold)
			wire_name_lower(msg + pos + 1, (size_t)l, out + o);
		else
			memcpy(out + o, msg + pos + 1, (size_t)l);
		o += (size_t)l;
		pos += 1u + (size_t)l;
	}
	if (!jumped)
		*end = pos + 1;
	return (int)o;
}

/**
 * wire_name_read() - read a possibly compressed name, lower-cased
 * @msg:	whole message
 * @len:	its length
 * @off:	where the name starts
 * @out:	destination of DNS_NAME_MAX bytes
 * @end:	set to the offset just after the name at @off
 *
 * Pointers must point strictly before the label that holds them, so loops
 * cannot happen; the result must obey the label and name limits.
 *
 * Return: wire length of the name, or -1 when malformed
 */
int wire_name_read(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *end)
{
	return name_read(msg, len, off, out, end, true);
}

/**
 * wire_name_copy() - read a possibly compressed name as it is written (case
 * kept), with the same checks as wire_name_read()
 * @msg:	whole message
 * @len:	its length
 * @off:	where the name starts
 * @out:	destination of DNS_NAME_MAX bytes
 * @end:	set to the offset just after the name at @off
 *
 * Return: wire length of the name, or -1 when malformed
 */
int wire_name_copy(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *end)
{
	return name_read(msg, len, off, out, end, false);
}

/**
 * wire_put_rr() - write one class IN record whose owner is a compression
 * pointer to the question name (offset DNS_HDR_LEN)
 * @p:		where the record goes (12 + @rdlen bytes)
 * @type:	record type
 * @ttl:	TTL in seconds
 * @rdata:	record data
 * @rdlen:	its length
 *
 * Return: bytes written, 12 + @rdlen
 */
size_t wire_put_rr(uint8_t *p, uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	p[0] = 0xc0;
	p[1] = DNS_HDR_LEN;
	wire_put16(p + 2, type);
	wire_put16(p + 4, DNS_CLASS_IN);
	wire_put32(p + 6, ttl);
	wire_put16(p + 10, rdlen);
	memcpy(p + 12, rdata, rdlen);
	return 12u + rdlen;
}

/* skip_name - skip a possibly compressed name without following pointers */
static int skip_name(const uint8_t *msg, size_t len, size_t *off)
{
	size_t pos = *off;

	for (;;) {
		int l = label_at(msg, len, pos);

		if (l < 0)
			return -1;
		if (l == LABEL_POINTER) {
			*off = pos + 2;
			return 0;
		}
		pos += 1u + (size_t)l;
		if (l == 0) {
			*off = pos;
			return 0;
		}
	}
}

/**
 * wire_skip_rrs() - skip @n resource records
 * @msg:	message
 * @len:	its length
 * @off:	offset of the first record
 * @n:		how many
 * @end:	set to the offset after the last one
 *
 * Return: 0, or -1 when the records run past @len
 */
int wire_skip_rrs(const uint8_t *msg, size_t len, size_t off, unsigned int n, size_t *end)
{
	while (n--) {
		if (skip_name(msg, len, &off) < 0 || off + 10 > len)
			return -1;
		off += 10u + wire_get16(msg + off + 8);
		if (off > len)
			return -1;
	}
	*end = off;
	return 0;
}

/**
 * wire_hash_name() - seeded hash of a lower-case wire name
 * @seed:	per-instance random seed (guests cannot aim at one bucket)
 * @name:	name
 * @len:	its length
 *
 * Return: 64-bit hash
 */
uint64_t wire_hash_name(uint64_t seed, const uint8_t *name, size_t len)
{
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ull);
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, name + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (i < len) {
		uint64_t w = 0;

		memcpy(&w, name + i, len - i);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* patch_ttls - set the TTL of @n records at @off in @msg to @ttl */
static void patch_ttls(uint8_t *msg, size_t len, size_t off, unsigned int n, uint32_t ttl)
{
	while (n--) {
		if (skip_name(msg, len, &off) < 0 || off + 10 > len)
			return;
		wire_put32(msg + off + 4, ttl);
		off += 10u + wire_get16(msg + off + 8);
	}
}

/**
 * ede_len() - bytes an EDE option takes in the OPT record
 * @ede:	the error, or NULL
 *
 * Return: 0 for none, else 4 + 2 + the text length (at most DNS_EDE_TEXT_MAX)
 */
static size_t ede_len(const struct wire_ede *ede)
{
	size_t t;

	if (!ede)
		return 0;
	t = ede->text ? strlen(ede->text) : 0;
	return 6 + (t > DNS_EDE_TEXT_MAX ? DNS_EDE_TEXT_MAX : t);
}

/**
 * wire_build_answer() - build an answer message for a guest query
 * @out:	buffer of at least DNS_MSG_MAX + 512 bytes
 * @q:		the query (ID, flags, question, EDNS)
 * @edns_size:	our UDP size to advertise in the OPT record
 * @rcode:	response code (DNS_RCODE_BADVERS allowed with EDNS)
 * @aa:		set the AA bit (static answers)
 * @d:		stored sections to include, or NULL; its full view when the
 *		query set DO, else its plain view
 * @ttl:	TTL to give every record of @d
 * @ede:	Extended DNS Error for the OPT, or NULL (only sent with EDNS)
 * @limit:	maximum message size (512..65535)
 * @truncated:	set when TC had to be set
 *
 * When the full answer exceeds @limit, the EDE is dropped first, then the
 * additional section (no TC, RFC 2181 9); if it still does not fit, only
 * the header, question and OPT are sent, with TC.
 *
 * Return: message length
 */
size_t wire_build_answer(uint8_t *out, const struct dns_qinfo *q, uint16_t edns_size,
			 int rcode, bool aa, const struct dns_data *d, uint32_t ttl,
			 const struct wire_ede *ede, size_t limit, bool *truncated)
{
	uint16_t flags = DNS_FLAG_QR | DNS_FLAG_RA | (q->flags & (0x7800 | DNS_FLAG_RD | DNS_FLAG_CD));
	size_t off = DNS_HDR_LEN, optlen = q->edns ? DNS_OPT_LEN : 0, rrlen = 0, elen = 0;
	unsigned int an = 0, ns = 0, ar = 0;

	*truncated = false;
	if (q->edns)
		elen = ede_len(ede);
	if (aa)
		flags |= DNS_FLAG_AA;
	flags |= (uint16_t)(rcode & 0xf);
	wire_put16(out, q->id);
	if (q->has_question) {
		memcpy(out + off, q->qname, q->qnamelen);
		off += q->qnamelen;
		wire_put16(out + off, q->qtype);
		wire_put16(out + off + 2, q->qclass);
		off += 4;
	}
	if (d && (d->dflags & DATA_F_AD) && (q->do_bit || (q->flags & DNS_FLAG_AD)))
		flags |= DNS_FLAG_AD;
	if (d && d->len) {
		struct dns_view v;

		dns_data_view(d, !q->do_bit, &v);
		if (off + v.len + optlen + elen > limit)
			elen = 0;
		if (off + v.len + optlen <= limit) {
			rrlen = v.len;
			an = v.an;
			ns = v.ns;
			ar = v.ar;
		} else if (off + v.ar_off + optlen <= limit) {
			rrlen = v.ar_off;
			an = v.an;
			ns = v.ns;
		} else {
			flags |= DNS_FLAG_TC;
			*truncated = true;
		}
		if (rrlen) {
			memcpy(out + off, v.rr, rrlen);
			patch_ttls(out, off + rrlen, off, an + ns + ar, ttl);
			off += rrlen;
		}
	} else if (off + optlen + elen > limit) {
		elen = 0;
	}
	if (q->edns) {
		out[off] = 0;
		wire_put16(out + off + 1, DNS_TYPE_OPT);
		wire_put16(out + off + 3, edns_size);
		out[off + 5] = (uint8_t)(rcode >> 4);
		out[off + 6] = 0;
		out[off + 7] = q->do_bit ? 0x80 : 0;
		out[off + 8] = 0;
		wire_put16(out + off + 9, (uint16_t)elen);
		off += optlen;
		if (elen) {
			wire_put16(out + off, DNS_OPT_EDE);
			wire_put16(out + off + 2, (uint16_t)(elen - 4));
			wire_put16(out + off + 4, ede->code);
			if (elen > 6)
				memcpy(out + off + 6, ede->text, elen - 6);
			off += elen;
		}
		ar++;
	}
	wire_put16(out + 2, flags);
	wire_put16(out + 4, q->has_question ? 1 : 0);
	wire_put16(out + 6, (uint16_t)an);
	wire_put16(out + 8, (uint16_t)ns);
	wire_put16(out + 10, (uint16_t)ar);
	return off;
}

/**
 * wire_build_query() - build an upstream query (RD set)
 * @out:	buffer of at least DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11 bytes
 * @id:		random message ID
 * @name:	lower-case wire name
 * @namelen:	its length
 * @type:	query type (class IN)
 * @edns_size:	UDP size to advertise in an OPT record, 0 for no EDNS
 * @cd:		set CD (checking disabled: the client validates itself)
 *
 * With EDNS the OPT always sets DO, whatever the guest asked: one stored
 * answer then serves DO and non-DO clients (cache.h). The OPT carries no
 * options: nothing of the guest's OPT (cookie, client subnet) goes upstream.
 *
 * Return: message length
 */
size_t wire_build_query(uint8_t *out, uint16_t id, const uint8_t *name, size_t namelen,
			uint16_t type, uint16_t edns_size, bool cd)
{
	size_t off = DNS_HDR_LEN;

	memset(out, 0, DNS_HDR_LEN);
	wire_put16(out, id);
	wire_put16(out + 2, DNS_FLAG_RD | (cd ? DNS_FLAG_CD : 0));
	wire_put16(out + 4, 1);
	memcpy(out + off, name, namelen);
	off += namelen;
	wire_put16(out + off, type);
	wire_put16(out + off + 2, DNS_CLASS_IN);
	off += 4;
	if (edns_size) {
		wire_put16(out + 10, 1);
		memset(out + off, 0, 11);
		wire_put16(out + off + 1, DNS_TYPE_OPT);
		wire_put16(out + off + 3, edns_size);
		out[off + 7] = 0x80; /* DO */
		off += 11;
	}
	return (size_t)off;
}

/**
 * wire_check_reply() - does an upstream message answer our query?
 * @msg:	received message
 * @len:	its length
 * @id:		ID we sent
 * @name:	lower-case name we asked
 * @namelen:	its length
 * @type:	type we asked (class IN)
 *
 * Return: 0 when it is a response with our ID and exactly our question,
 *	   -1 otherwise (the caller drops and counts it)
 */
int wire_check_reply(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *name,
		     size_t namelen, uint16_t type)
{
	size_t off = DNS_HDR_LEN;
	int n;

	if (len < DNS_HDR_LEN || wire_get16(msg) != id)
		return -1;
	if (!(msg[2] & 0x80) || DNS_OPCODE(wire_get16(msg + 2)) != 0)
		return -1;
	if (wire_get16(msg + 4) != 1)
		return -1;
	n = wire_check_name(msg + off, len - off);
	if (n < 0 || (size_t)n != namelen || off + (size_t)n + 4 > len)
		return -1;
	if (!wire_name_eq(msg + off, name, namelen))
		return -1;
	off += (size_t)n;
	if (wire_get16(msg + off) != type || wire_get16(msg + off + 2) != DNS_CLASS_IN)
		return -1;
	return 0;
}

/* name_at - lower-case owner/target name at *off, advancing *off */
static int name_at(const uint8_t *m, size_t len, size_t *off, uint8_t *out)
{
	size_t end;
	int n = wire_name_read(m, len, *off, out, &end);

	if (n >= 0)
		*off = end;
	return n;
}

/**
 * wire_data_addrs() - the A or AAAA addresses a stored answer gives its name,
 * following the CNAME chain (at most 16 links) in the answer section
 * @d:		stored answer
 * @type:	DNS_TYPE_A or DNS_TYPE_AAAA
 * @scratch:	buffer of at least DNS_HDR_LEN + DNS_NAME_MAX + 4 + d->len bytes
 * @out:	@max addresses of 4 (A) or 16 (AAAA) bytes each
 * @max:	capacity of @out
 *
 * Return: number of addresses found (only the first @max are written)
 */
int wire_data_addrs(const struct dns_data *d, uint16_t type, uint8_t *scratch, uint8_t *out,
		    int max)
{
	size_t alen = type == DNS_TYPE_A ? 4 : 16, start, len, off;
	uint8_t cur[DNS_NAME_MAX], nm[DNS_NAME_MAX];
	int curlen = d->namelen, hop, count = 0;
	unsigned int i;

	memset(scratch, 0, DNS_HDR_LEN);
	memcpy(scratch + DNS_HDR_LEN, dns_data_name(d), d->namelen);
	start = DNS_HDR_LEN + d->namelen + 4;
	memcpy(scratch + start, dns_data_rr(d), d->len);
	len = start + d->len;
	memcpy(cur, dns_data_name(d), d->namelen);
	for (hop = 0; hop < 16; hop++) {
		bool moved = false;

		off = start;
		for (i = 0; i < d->an; i++) {
			int n = name_at(scratch, len, &off, nm);
			uint16_t rt, rdl;

			if (n < 0 || off + 10 > len)
				return count;
			rt = wire_get16(scratch + off);
			rdl = wire_get16(scratch + off + 8);
			off += 10;
			if (off + rdl > len)
				return count;
			if (rt == DNS_TYPE_CNAME && n == curlen && !memcmp(nm, cur, (size_t)n)) {
				size_t t = off;
				int m = name_at(scratch, len, &t, nm);

				if (m < 0)
					return count;
				memcpy(cur, nm, (size_t)m);
				curlen = m;
				moved = true;
				break;
			}
			off += rdl;
		}
		if (!moved)
			break;
	}
	off = start;
	for (i = 0; i < d->an; i++) {
		int n = name_at(scratch, len, &off, nm);
		uint16_t rt, rdl;

		if (n < 0 || off + 10 > len)
			break;
		rt = wire_get16(scratch + off);
		rdl = wire_get16(scratch + off + 8);
		off += 10;
		if (off + rdl > len)
			break;
		if (rt == type && rdl == alen && n == curlen && !memcmp(nm, cur, (size_t)n)) {
			if (count < max)
				memcpy(out + (size_t)count * alen, scratch + off, alen);
			count++;
		}
		off += rdl;
	}
	return count;
}
