/* SPDX-License-Identifier: MIT */
/*
 * tls.c - stateless, bounded TLS ClientHello parser (see tls.h for the
 * contract). Two passes per call: gather the handshake fragments of the
 * leading handshake records into the scratch buffer, then parse the whole
 * message with a bounds-checked reader. Every length is checked against the
 * bytes that enclose it before anything is read.
 */
#include "forwarder/tls.h"

#include <string.h>

/* a bounds-checked cursor over a byte range */
struct rd {
	const uint8_t *p;
	size_t n;
};

static bool rd_u8(struct rd *r, unsigned int *v)
{
	if (r->n < 1)
		return false;
	*v = r->p[0];
	r->p++;
	r->n--;
	return true;
}

static bool rd_u16(struct rd *r, unsigned int *v)
{
	if (r->n < 2)
		return false;
	*v = (unsigned int)r->p[0] << 8 | r->p[1];
	r->p += 2;
	r->n -= 2;
	return true;
}

/* take @len bytes as a sub-reader */
static bool rd_sub(struct rd *r, size_t len, struct rd *sub)
{
	if (r->n < len)
		return false;
	sub->p = r->p;
	sub->n = len;
	r->p += len;
	r->n -= len;
	return true;
}

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* numeric last label: "1", "010", "0x7f" - what inet_aton() would take */
static bool label_is_numeric(const char *l, size_t n)
{
	size_t i = 0;

	if (n >= 3 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
		for (i = 2; i < n && is_hex(l[i]); i++)
			;
		return i == n;
	}
	for (i = 0; i < n && is_digit(l[i]); i++)
		;
	return i == n;
}

int tls_hostname_check(const char *name, size_t len, char *out, size_t outlen)
{
	size_t i, label = 0, last_start = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > TLS_SNI_MAX || len >= outlen)
		return TLS_ERR_BAD_SNI;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0)
				return TLS_ERR_BAD_SNI;
			label = 0;
			last_start = i + 1;
			out[i] = c;
			continue;
		}
		if (!is_ldh(c) || ++label > 63)
			return TLS_ERR_BAD_SNI;
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	if (label == 0)
		return TLS_ERR_BAD_SNI;
	if (label_is_numeric(out + last_start, len - last_start))
		return TLS_ERR_SNI_IP;
	return 0;
}

static int parse_sni(struct rd *ext, struct tls_client_hello *ch)
{
	unsigned int list_len, type, nlen;
	struct rd list, name;
	int rc;

	if (!rd_u16(ext, &list_len) || list_len != ext->n || list_len == 0)
		return TLS_ERR_MALFORMED;
	rd_sub(ext, list_len, &list);
	while (list.n) {
		if (!rd_u8(&list, &type) || !rd_u16(&list, &nlen) || nlen == 0 ||
		    !rd_sub(&list, nlen, &name))
			return TLS_ERR_MALFORMED;
		if (type != 0)
			continue; /* unknown name type: skipped */
		if (ch->has_sni)
			return TLS_ERR_MALFORMED; /* RFC 6066: one name per type */
		rc = tls_hostname_check((const char *)name.p, name.n, ch->sni, sizeof(ch->sni));
		if (rc) {
			ch->sni[0] = '\0';
			return rc;
		}
		ch->has_sni = true;
	}
	return 0;
}

static int parse_alpn(struct rd *ext, struct tls_client_hello *ch)
{
	unsigned int list_len, plen;
	struct rd list, proto;
	size_t i;

	if (!rd_u16(ext, &list_len) || list_len != ext->n || list_len < 2)
		return TLS_ERR_MALFORMED;
	rd_sub(ext, list_len, &list);
	while (list.n) {
		if (!rd_u8(&list, &plen) || plen == 0 || !rd_sub(&list, plen, &proto))
			return TLS_ERR_MALFORMED;
		if (ch->n_alpn < TLS_ALPN_KEEP) {
			char *o = ch->alpn[ch->n_alpn];

			for (i = 0; i < proto.n && i < TLS_ALPN_NAME_MAX; i++)
				o[i] = (proto.p[i] >= 0x20 && proto.p[i] < 0x7f) ? (char)proto.p[i]
										 : '?';
			o[i] = '\0';
		}
		ch->n_alpn++;
	}
	return 0;
}

/* the ClientHello body: everything after the 4-byte handshake header */
static int parse_body(struct rd *r, struct tls_client_hello *ch)
{
	uint64_t seen[65536 / 64];
	unsigned int v, sid_len, cs_len, comp_len, ext_len, type, len;
	struct rd skip, exts, ext;
	int rc;

	if (!rd_u16(r, &v))
		return TLS_ERR_MALFORMED;
	ch->version = (uint16_t)v;
	if (!rd_sub(r, 32, &skip)) /* random */
		return TLS_ERR_MALFORMED;
	if (!rd_u8(r, &sid_len) || sid_len > 32 || !rd_sub(r, sid_len, &skip))
		return TLS_ERR_MALFORMED;
	if (!rd_u16(r, &cs_len) || cs_len < 2 || cs_len % 2 || !rd_sub(r, cs_len, &skip))
		return TLS_ERR_MALFORMED;
	if (!rd_u8(r, &comp_len) || comp_len < 1 || !rd_sub(r, comp_len, &skip))
		return TLS_ERR_MALFORMED;
	if (r->n == 0)
		return 0; /* no extensions (allowed before TLS 1.3): no SNI */
	if (!rd_u16(r, &ext_len) || ext_len != r->n)
		return TLS_ERR_MALFORMED;
	rd_sub(r, ext_len, &exts);
	memset(seen, 0, sizeof(seen));
	while (exts.n) {
		if (!rd_u16(&exts, &type) || !rd_u16(&exts, &len) || !rd_sub(&exts, len, &ext))
			return TLS_ERR_MALFORMED;
		if (seen[type / 64] & (1ull << (type % 64)))
			return TLS_ERR_DUP_EXT;
		seen[type / 64] |= 1ull << (type % 64);
		ch->n_ext++;
		rc = 0;
		switch (type) {
		case TLS_EXT_SERVER_NAME:
			rc = parse_sni(&ext, ch);
			break;
		case TLS_EXT_ALPN:
			rc = parse_alpn(&ext, ch);
			break;
		case TLS_EXT_ECH:
			ch->ech = true;
			break;
		default:
			break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int tls_parse_client_hello(const uint8_t *buf, size_t len, uint8_t *scratch, size_t scratch_len,
			   struct tls_client_hello *ch)
{
	size_t off = 0, have = 0, total = 0; /* total: 0 while unknown */
	struct rd r;

	memset(ch, 0, sizeof(*ch));
	if (scratch_len < 4)
		return TLS_ERR_TOO_BIG;
	for (;;) {
		size_t rlen, avail, take;

		/* record header, judged on as many of its bytes as are here */
		if (len - off >= 1 && buf[off] != 22)
			return off == 0 ? TLS_ERR_NOT_TLS : TLS_ERR_RECORD;
		if (len - off >= 2 && buf[off + 1] != 3)
			return off == 0 ? TLS_ERR_NOT_TLS : TLS_ERR_RECORD;
		if (len - off < 5) {
			ch->need = off + 5;
			return TLS_NEED_MORE;
		}
		rlen = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (rlen == 0 || rlen > TLS_RECORD_MAX)
			return TLS_ERR_RECORD;
		if (total && have + rlen > total)
			return TLS_ERR_MALFORMED; /* bytes past the ClientHello */
		if (have + rlen > scratch_len)
			return TLS_ERR_TOO_BIG;
		avail = len - off - 5;
		take = avail < rlen ? avail : rlen;
		memcpy(scratch + have, buf + off + 5, take);
		if (have == 0 && take >= 1 && scratch[0] != 1)
			return TLS_ERR_NOT_HELLO;
		if (total == 0 && have + take >= 4) {
			total =
			    4 + ((size_t)scratch[1] << 16 | (size_t)scratch[2] << 8 | scratch[3]);
			if (total > scratch_len)
				return TLS_ERR_TOO_BIG;
		}
		/* the record that revealed the length may not overrun it */
		if (total && have + rlen > total)
			return TLS_ERR_MALFORMED;
		have += take;
		if (take < rlen) {
			ch->need = off + 5 + rlen;
			return TLS_NEED_MORE;
		}
		off += 5 + rlen;
		ch->n_records++;
		if (total && have == total)
			break;
	}
	ch->consumed = off;
	ch->hs_len = total;
	r.p = scratch + 4;
	r.n = total - 4;
	return parse_body(&r, ch);
}

const char *tls_status_name(int st)
{
	/* by value: TLS_NEED_MORE (1), TLS_DONE (0), then the errors from -1 down */
	static const char *const names[] = {
	    "need_more",	"done",		 "not_tls",   "bad_record",
	    "not_client_hello", "too_big",	 "malformed", "duplicate_extension",
	    "bad_sni",		"sni_ip_literal"};
	unsigned int i = (unsigned int)(TLS_NEED_MORE - st);

	_Static_assert(sizeof(names) / sizeof(names[0]) == TLS_NEED_MORE - TLS_ERR_SNI_IP + 1,
		       "a name for every status");
	return i < sizeof(names) / sizeof(names[0]) ? names[i] : "unknown";
}
