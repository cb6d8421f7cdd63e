/* SPDX-License-Identifier: MIT */
/*
 * test_dns_wire.c - dns/wire.c: strict query parsing (malformed input),
 * name case folding and decompression limits, answer building with TTL
 * rewriting, EDNS0 (options, DO/CD/AD, Extended DNS Errors) and truncation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dns/dns.h"
#include "dns/wire.h"
#include "dns/msg.h"

static size_t mkq(uint8_t *b, const char *name, uint16_t type, bool edns, uint16_t size)
{
	uint8_t w[DNS_NAME_MAX];
	int n = wire_name_from_text(name, w);

	cr_assert(n > 0);
	return wire_build_query(b, 0x1234, w, (size_t)n, type, edns ? size : 0, false);
}

Test(wire, valid_query)
{
	uint8_t b[600];
	struct dns_qinfo q;
	size_t n = mkq(b, "WWW.Example.com", DNS_TYPE_AAAA, true, 4096);

	cr_assert_eq(wire_parse_query(b, n, &q), 0);
	cr_assert_eq(q.id, 0x1234);
	cr_assert_eq(q.qtype, DNS_TYPE_AAAA);
	cr_assert_eq(q.qclass, DNS_CLASS_IN);
	cr_assert(q.edns);
	cr_assert_eq(q.udp_size, 4096);
	cr_assert_eq(q.qnamelen, 17);
	/* the guest's case is kept for the answer */
	cr_assert_eq(memcmp(q.qname, "\003www", 4), 0); /* from_text lower-cases */
}

Test(wire, short_packets_dropped)
{
	uint8_t b[600];
	struct dns_qinfo q;
	size_t n = mkq(b, "example.com", DNS_TYPE_A, false, 0), i;

	for (i = 0; i < DNS_HDR_LEN; i++)
		cr_assert_eq(wire_parse_query(b, i, &q), WIRE_DROP);
	/* header but truncated question: FORMERR */
	for (i = DNS_HDR_LEN; i < n; i++)
		cr_assert_eq(wire_parse_query(b, i, &q), DNS_RCODE_FORMERR, "len %zu", i);
}

Test(wire, responses_dropped)
{
	uint8_t b[600];
	struct dns_qinfo q;
	size_t n = mkq(b, "example.com", DNS_TYPE_A, false, 0);

	b[2] |= 0x80;
	cr_assert_eq(wire_parse_query(b, n, &q), WIRE_DROP);
}

Test(wire, qdcount_0_and_2)
{
	uint8_t b[600];
	struct dns_qinfo q;
	size_t n = mkq(b, "example.com", DNS_TYPE_A, false, 0);

	wire_put16(b + 4, 0);
	cr_assert_eq(wire_parse_query(b, n, &q), DNS_RCODE_FORMERR);
	wire_put16(b + 4, 2);
	cr_assert_eq(wire_parse_query(b, n, &q), DNS_RCODE_FORMERR);
	/* a real second question */
	memcpy(b + n, b + DNS_HDR_LEN, n - DNS_HDR_LEN);
	cr_assert_eq(wire_parse_query(b, 2 * n - DNS_HDR_LEN, &q), DNS_RCODE_FORMERR);
}

Test(wire, opcode_notimp)
{
	uint8_t b[600];
	struct dns_qinfo q;
	size_t n = mkq(b, "example.com", DNS_TYPE_A, false, 0);

	b[2] |= 5 << 3; /* UPDATE */
	cr_assert_eq(wire_parse_query(b, n, &q), DNS_RCODE_NOTIMP);
}

Test(wire, label_over_63)
{
	uint8_t b[600];
	struct dns_qinfo q;
	size_t off = DNS_HDR_LEN;

	memset(b, 0, sizeof(b));
	wire_put16(b + 4, 1);
	b[off++] = 64; /* 0x40: extended label type, also > 63 */
	memset(b + off, 'a', 64);
	off += 64;
	b[off++] = 0;
	wire_put16(b + off, 1);
	wire_put16(b + off + 2, 1);
	off += 4;
	cr_assert_eq(wire_parse_query(b, off, &q), DNS_RCODE_FORMERR);
	cr_assert_eq(wire_check_name(b + DNS_HDR_LEN, 100), -1);
	{
		char t[80];
		uint8_t w[DNS_NAME_MAX];

		memset(t, 'a', 64);
		strcpy(t + 64, ".com");
		cr_assert_eq(wire_name_from_text(t, w), -1);
		memset(t, 'a', 63);
		strcpy(t + 63, ".com");
		cr_assert_gt(wire_name_from_text(t, w), 0);
	}
}

Test(wire, name_over_255)
{
	uint8_t b[600];
	struct dns_qinfo q;
	size_t off = DNS_HDR_LEN;
	int i;

	memset(b, 0, sizeof(b));
	wire_put16(b + 4, 1);
	/* 5 labels of 50 = 255 bytes + root = 256 > 255 */
	for (i = 0; i < 5; i++) {
		b[off++] = 50;
		memset(b + off, 'x', 50);
		off += 50;
	}
	b[off++] = 0;
	wire_put16(b + off, 1);
	wire_put16(b + off + 2, 1);
	off += 4;
	cr_assert_eq(wire_parse_query(b, off, &q), DNS_RCODE_FORMERR);
	/* 255 exactly is fine: 4 x 50 + 53 + root */
	cr_assert_eq(wire_check_name((const uint8_t *)"\001a\000", 3), 3);
}

Test(wire, compression_in_query_rejected)
{
	uint8_t b[64] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1 };
	struct dns_qinfo q;

	cr_assert_eq(wire_parse_query(b, 18, &q), DNS_RCODE_FORMERR);
}

Test(wire, compression_loops)
{
	uint8_t out[DNS_NAME_MAX];
	size_t end;
	/* header + self pointer at 12 */
	uint8_t self[16] = { 0 };
	/* 12: label "a" then pointer to 12 (a loop through a label) */
	uint8_t loop2[20] = { 0 };
	/* forward pointer */
	uint8_t fwd[20] = { 0 };

	self[12] = 0xc0;
	self[13] = 12;
	cr_assert_eq(wire_name_read(self, 14, 12, out, &end), -1);
	loop2[12] = 1;
	loop2[13] = 'a';
	loop2[14] = 0xc0;
	loop2[15] = 12;
	cr_assert_eq(wire_name_read(loop2, 16, 12, out, &end), -1);
	fwd[12] = 0xc0;
	fwd[13] = 14;
	fwd[14] = 0;
	cr_assert_eq(wire_name_read(fwd, 15, 12, out, &end), -1);
	/* a good backward pointer */
	fwd[12] = 1;
	fwd[13] = 'B';
	fwd[14] = 0;
	fwd[15] = 1;
	fwd[16] = 'c';
	fwd[17] = 0xc0;
	fwd[18] = 12;
	cr_assert_eq(wire_name_read(fwd, 19, 15, out, &end), 5);
	cr_assert_eq(end, 19);
	cr_assert_eq(memcmp(out, "\001c\001b\000", 5), 0);
	/* truncated pointer */
	cr_assert_eq(wire_name_read(fwd, 18, 15, out, &end), -1);
}

Test(wire, name_too_long_via_pointers)
{
	/* a name built from pointers whose expansion exceeds 255 bytes */
	uint8_t m[400] = { 0 };
	uint8_t out[DNS_NAME_MAX];
	size_t off = 12, end, prev;
	int i;

	m[off++] = 60;
	memset(m + off, 'q', 60);
	off += 60;
	m[off++] = 0;
	prev = 12;
	for (i = 0; i < 5; i++) {
		size_t here = off;

		m[off++] = 60;
		memset(m + off, 'r', 60);
		off += 60;
		m[off++] = (uint8_t)(0xc0 | (prev >> 8));
		m[off++] = (uint8_t)prev;
		prev = here;
		if (off > 330)
			break;
	}
	cr_assert_eq(wire_name_read(m, off, prev, out, &end), -1);
}

Test(wire, case_folding)
{
	uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX], la[DNS_NAME_MAX];
	int n = wire_name_from_text("Example.COM", a);

	cr_assert_eq(wire_name_from_text("example.com.", b), n);
	cr_assert_eq(memcmp(a, b, (size_t)n), 0);
	memcpy(la, "\007ExAmPlE\003CoM\000", 13);
	cr_assert(wire_name_eq(la, b, 13));
	wire_name_lower(la, 13, la);
	cr_assert_eq(memcmp(la, b, 13), 0);
	cr_assert_eq(wire_hash_name(42, la, 13), wire_hash_name(42, b, 13));
	cr_assert_neq(wire_hash_name(42, la, 13), wire_hash_name(43, b, 13));
}

Test(wire, text_roundtrip)
{
	uint8_t w[DNS_NAME_MAX];
	char t[DNS_NAME_TEXT_MAX];
	int n = wire_name_from_text("a\\.b.c\\032d.", w);

	cr_assert_eq(n, 9);
	cr_assert_eq(wire_name_to_text(w, t, sizeof(t)), (int)strlen("a\\046b.c\\032d"));
	cr_assert_str_eq(t, "a\\046b.c\\032d");
	cr_assert_eq(wire_name_from_text("", w), -1);
	cr_assert_eq(wire_name_from_text("a..b", w), -1);
	cr_assert_eq(wire_name_from_text(".", w), 1);
	cr_assert_eq(wire_name_to_text(w, t, sizeof(t)), 1);
	cr_assert_str_eq(t, ".");
}

/* a stored answer with @n A records and one additional record */
static struct dns_data *mkdata(const uint8_t *name, size_t nl, int n, int extra)
{
	uint8_t rr[8192];
	size_t off = 0;
	int i;

	for (i = 0; i < n + extra; i++) {
		rr[off++] = 0xc0;
		rr[off++] = 12;
		wire_put16(rr + off, DNS_TYPE_A);
		wire_put16(rr + off + 2, 1);
		wire_put32(rr + off + 4, 300);
		wire_put16(rr + off + 8, 4);
		rr[off + 10] = 10;
		rr[off + 11] = 0;
		rr[off + 12] = (uint8_t)(i >> 8);
		rr[off + 13] = (uint8_t)i;
		off += 14;
	}
	return dns_data_new(name, nl, 0, rr, off, (uint16_t)n, 0, (uint16_t)extra,
			    (uint16_t)(n * 16));
}

Test(wire, answer_ttl_and_case)
{
	uint8_t out[DNS_MSG_MAX + 512], w[DNS_NAME_MAX];
	struct dns_qinfo q = { .id = 7, .flags = DNS_FLAG_RD, .qtype = 1, .qclass = 1,
			       .has_question = true };
	int n = wire_name_from_text("host.example", w);
	struct dns_data *d = mkdata(w, (size_t)n, 3, 0);
	bool tc;
	size_t len;

	memcpy(q.qname, "\004HoSt\007example\000", 14);
	q.qnamelen = 14;
	len = wire_build_answer(out, &q, 1232, 0, false, d, 4, NULL, 512, &tc);
	cr_assert_not(tc);
	cr_assert_eq(len, 12 + 14 + 4 + 3 * 16);
	cr_assert_eq(wire_get16(out), 7);
	cr_assert_eq(wire_get16(out + 2), DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA);
	cr_assert_eq(wire_get16(out + 6), 3);
	cr_assert_eq(memcmp(out + 12, "\004HoSt", 5), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(wire_get32(out + 30 + i * 16 + 6), 4);
	free(d);
}

Test(wire, truncation)
{
	uint8_t out[DNS_MSG_MAX + 512], w[DNS_NAME_MAX];
	struct dns_qinfo q = { .id = 7, .qtype = 1, .qclass = 1, .has_question = true };
	int n = wire_name_from_text("big.example", w);
	struct dns_data *d = mkdata(w, (size_t)n, 60, 0), *d2;
	bool tc;
	size_t len;

	memcpy(q.qname, w, (size_t)n);
	q.qnamelen = (uint8_t)n;
	/* 60 * 16 = 960 bytes: no EDNS -> 512 limit -> TC, no records */
	len = wire_build_answer(out, &q, 1232, 0, false, d, 5, NULL, 512, &tc);
	cr_assert(tc);
	cr_assert(wire_get16(out + 2) & DNS_FLAG_TC);
	cr_assert_eq(wire_get16(out + 6), 0);
	cr_assert_eq(len, 12 + (size_t)n + 4);
	/* with EDNS 1232 it fits, and an OPT record is added */
	q.edns = true;
	q.udp_size = 1232;
	len = wire_build_answer(out, &q, 1232, 0, false, d, 5, NULL, 1232, &tc);
	cr_assert_not(tc);
	cr_assert_eq(wire_get16(out + 6), 60);
	cr_assert_eq(wire_get16(out + 10), 1);
	cr_assert_eq(len, 12 + (size_t)n + 4 + 960 + 11);
	/* TCP limit: everything */
	len = wire_build_answer(out, &q, 1232, 0, false, d, 5, NULL, DNS_MSG_MAX, &tc);
	cr_assert_not(tc);
	free(d);
	/* only the additional section overflows: dropped without TC */
	d2 = mkdata(w, (size_t)n, 10, 50);
	q.edns = false;
	len = wire_build_answer(out, &q, 1232, 0, false, d2, 5, NULL, 512, &tc);
	cr_assert_not(tc);
	cr_assert_eq(wire_get16(out + 6), 10);
	cr_assert_eq(wire_get16(out + 10), 0);
	cr_assert_leq(len, 512);
	free(d2);
}

Test(wire, edns_badvers)
{
	uint8_t b[600];
	struct dns_qinfo q;
	size_t n = mkq(b, "example.com", DNS_TYPE_A, true, 1232);

	b[n - 11 + 6] = 1; /* version 1 */
	cr_assert_eq(wire_parse_query(b, n, &q), DNS_RCODE_BADVERS);
	/* OPT not at root / wrong type */
	b[n - 11 + 6] = 0;
	b[n - 11 + 2] = 1;
	cr_assert_eq(wire_parse_query(b, n, &q), DNS_RCODE_FORMERR);
}

Test(wire, check_reply)
{
	uint8_t b[600], w[DNS_NAME_MAX];
	int nl = wire_name_from_text("example.com", w);
	size_t n = wire_build_query(b, 99, w, (size_t)nl, DNS_TYPE_A, 0, false);

	cr_assert_eq(wire_check_reply(b, n, 99, w, (size_t)nl, DNS_TYPE_A), -1); /* not QR */
	b[2] |= 0x80;
	cr_assert_eq(wire_check_reply(b, n, 99, w, (size_t)nl, DNS_TYPE_A), 0);
	cr_assert_eq(wire_check_reply(b, n, 98, w, (size_t)nl, DNS_TYPE_A), -1);
	cr_assert_eq(wire_check_reply(b, n, 99, w, (size_t)nl, DNS_TYPE_AAAA), -1);
	b[13] = 'E'; /* case differs: still our question */
	cr_assert_eq(wire_check_reply(b, n, 99, w, (size_t)nl, DNS_TYPE_A), 0);
	b[14] = 'y';
	cr_assert_eq(wire_check_reply(b, n, 99, w, (size_t)nl, DNS_TYPE_A), -1);
	cr_assert_eq(wire_check_reply(b, 11, 99, w, (size_t)nl, DNS_TYPE_A), -1);
}

/*
 * Found by fuzz_dns_reply (reasoning about its TC rule): a 65,535-byte
 * upstream reply (over TCP) used to be stored whole, and the TCP answer to
 * a guest query with EDNS then needed 11 more bytes for the OPT record than
 * the 65,535-byte limit, so it went out with TC and no records over TCP.
 * Every stored answer must fit a TCP answer with an OPT record.
 */
Test(wire, largest_reply_fits_tcp_answer_with_opt)
{
	static uint8_t r[DNS_MSG_MAX], out[DNS_MSG_MAX + 512];
	struct dns_qinfo q = { .id = 9, .qtype = DNS_TYPE_TXT, .qclass = 1, .has_question = true,
			       .edns = true, .udp_size = 1232 };
	uint8_t w[DNS_NAME_MAX];
	int n = wire_name_from_text("big.test", w), i, an = 0;
	size_t off = wire_build_query(r, 1, w, (size_t)n, DNS_TYPE_TXT, 0, false), len;
	struct dns_data *d = NULL;
	uint32_t ttl;
	bool tc;

	r[2] |= 0x80;
	/* 244 TXT records of 268 bytes, then one of 117: exactly 65,535 bytes */
	for (i = 0; i < 245; i++, an++) {
		uint16_t rdl = i < 244 ? 256 : 105;

		r[off] = 0xc0;
		r[off + 1] = 12;
		wire_put16(r + off + 2, DNS_TYPE_TXT);
		wire_put16(r + off + 4, 1);
		wire_put32(r + off + 6, 60);
		wire_put16(r + off + 10, rdl);
		r[off + 12] = (uint8_t)(rdl - 1);
		memset(r + off + 13, 't', rdl - 1u);
		off += 12u + rdl;
	}
	wire_put16(r + 6, (uint16_t)an);
	cr_assert_eq(off, DNS_MSG_MAX);
	memcpy(q.qname, w, (size_t)n);
	q.qnamelen = (uint8_t)n;
	if (msg_from_reply(r, off, w, (size_t)n, DNS_TYPE_TXT, 5, 1, &d, &ttl) != MSG_OK)
		return; /* refusing it is fine too */
	len = wire_build_answer(out, &q, 1232, 0, false, d, ttl, NULL, DNS_MSG_MAX, &tc);
	cr_assert_not(tc, "TC set on a TCP answer");
	cr_assert_leq(len, DNS_MSG_MAX);
	cr_assert_eq(wire_get16(out + 6), d->an);
	free(d);
}

/* put_rr - append a record owned by the question name */
static size_t put_rr(uint8_t *r, size_t off, uint16_t type, const void *rd, uint16_t rdl)
{
	return off + wire_put_rr(r + off, type, 60, rd, rdl);
}

/*
 * A signed reply: the stored answer keeps the RRSIG for DO clients and a
 * plain view without it; AD is kept and shown only to DO or AD clients; an
 * EDE is appended to the OPT and dropped first when room is short.
 */
Test(wire, dnssec_views_ad_and_ede)
{
	static uint8_t r[4096], out[DNS_MSG_MAX + 512];
	static const uint8_t sig[] = "\0\1\015\2\0\0\0\074\0\0\0\1\0\0\0\0\1\2\004test\000SIGNATURE";
	struct dns_qinfo q = { .id = 9, .qtype = DNS_TYPE_A, .qclass = 1, .has_question = true,
			       .edns = true, .udp_size = 1232 };
	struct wire_ede ede = { DNS_EDE_STALE, "stale" };
	uint8_t w[DNS_NAME_MAX];
	int n = wire_name_from_text("s.test", w);
	size_t off = wire_build_query(r, 1, w, (size_t)n, DNS_TYPE_A, 0, false), len;
	struct dns_data *d = NULL;
	struct dns_view v;
	uint32_t ttl;
	bool tc;

	wire_put16(r + 2, DNS_FLAG_QR | DNS_FLAG_AD);
	off = put_rr(r, off, DNS_TYPE_A, "\012\0\0\1", 4);
	off = put_rr(r, off, DNS_TYPE_RRSIG, sig, sizeof(sig) - 1);
	wire_put16(r + 6, 2);
	memcpy(q.qname, w, (size_t)n);
	q.qnamelen = (uint8_t)n;
	cr_assert_eq(msg_from_reply(r, off, w, (size_t)n, DNS_TYPE_A, 5, 1, &d, &ttl), MSG_OK);
	cr_assert(d->dflags & DATA_F_PLAIN);
	cr_assert(d->dflags & DATA_F_AD);
	cr_assert_eq(d->an, 2);
	dns_data_view(d, true, &v);
	cr_assert_eq(v.an, 1);
	cr_assert_lt(v.len, d->len);

	len = wire_build_answer(out, &q, 1232, 0, false, d, ttl, NULL, 1232, &tc);
	cr_assert_eq(wire_get16(out + 6), 1, "no DO: the plain view");
	cr_assert_not(out[3] & DNS_FLAG_AD, "no DO, no AD: no AD bit");
	cr_assert_eq(out[len - 11 + 7], 0);
	q.flags = DNS_FLAG_AD;
	wire_build_answer(out, &q, 1232, 0, false, d, ttl, NULL, 1232, &tc);
	cr_assert(out[3] & DNS_FLAG_AD, "AD asked: AD shown");
	q.flags = DNS_FLAG_CD;
	q.do_bit = true;
	len = wire_build_answer(out, &q, 1232, 0, false, d, ttl, &ede, 1232, &tc);
	cr_assert_eq(wire_get16(out + 6), 2, "DO: the RRSIG too");
	cr_assert(out[3] & DNS_FLAG_AD);
	cr_assert(out[3] & DNS_FLAG_CD, "CD echoed");
	/* OPT rdata: EDE option code 15, length 2 + 5, info code 3, "stale" */
	cr_assert_eq(wire_get16(out + len - 11), DNS_OPT_EDE);
	cr_assert_eq(wire_get16(out + len - 9), 7);
	cr_assert_eq(wire_get16(out + len - 7), DNS_EDE_STALE);
	cr_assert_eq(memcmp(out + len - 5, "stale", 5), 0);
	cr_assert_eq(wire_get16(out + len - 13), 11, "OPT rdlen");
	/* no room for the EDE: it goes, the records stay */
	len = wire_build_answer(out, &q, 1232, 0, false, d, ttl, &ede, len - 1, &tc);
	cr_assert_not(tc);
	cr_assert_eq(wire_get16(out + 6), 2);
	cr_assert_eq(wire_get16(out + len - 2), 0, "OPT without options");
	/* without EDNS: no OPT, no EDE, no DNSSEC records */
	q.edns = false;
	q.do_bit = false;
	len = wire_build_answer(out, &q, 1232, 0, false, d, ttl, &ede, 512, &tc);
	cr_assert_eq(wire_get16(out + 10), 0);
	cr_assert_eq(wire_get16(out + 6), 1);
	free(d);
}

/* the guest's EDNS options: noted, checked, never kept */
Test(wire, edns_options_parsed)
{
	static const uint8_t good[] = { 0, 10, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
					0, 8, 0, 4, 0, 1, 0, 0, 0, 12, 0, 2, 0, 0 };
	static const struct {
		uint8_t opt[12];
		size_t len;
	} bad[] = {
		{ { 0, 10, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8 }, 12 }, /* overruns */
		{ { 0, 10, 0, 5, 1, 2, 3, 4, 5 }, 9 },				   /* cookie 5 */
		{ { 0, 8, 0, 2, 0, 1 }, 6 },					   /* ECS short */
		{ { 0, 3, 0 }, 3 },						   /* half header */
	};
	uint8_t b[600];
	struct dns_qinfo q;
	size_t n = mkq(b, "o.test", DNS_TYPE_A, true, 1232), i;

	memcpy(b + n, good, sizeof(good));
	wire_put16(b + n - 2, sizeof(good));
	cr_assert_eq(wire_parse_query(b, n + sizeof(good), &q), 0);
	cr_assert(q.opt_cookie && q.opt_ecs);
	cr_assert_eq(q.opt_other, 1, "padding is an other option");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = mkq(b, "o.test", DNS_TYPE_A, true, 1232);
		memcpy(b + n, bad[i].opt, bad[i].len);
		wire_put16(b + n - 2, (uint16_t)bad[i].len);
		cr_assert_eq(wire_parse_query(b, n + bad[i].len, &q), DNS_RCODE_FORMERR, "case %zu",
			     i);
	}
	/* version 1 is BADVERS whatever its options */
	n = mkq(b, "o.test", DNS_TYPE_A, true, 1232);
	b[n - 11 + 6] = 1;
	memcpy(b + n, bad[1].opt, bad[1].len);
	wire_put16(b + n - 2, (uint16_t)bad[1].len);
	cr_assert_eq(wire_parse_query(b, n + bad[1].len, &q), DNS_RCODE_BADVERS);
}
