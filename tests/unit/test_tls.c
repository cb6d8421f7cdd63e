/* SPDX-License-Identifier: MIT */
/*
 * test_tls.c - forwarder/tls.c: ClientHellos built here, layer by layer
 * (extensions → ClientHello body → handshake message → records → TCP
 * segments), with knobs to lie about every length; plus ClientHellos
 * captured live from `openssl s_client` and `curl` connecting to a listener
 * on 127.0.0.1 that this test opens itself (skipped when the tools are
 * missing). Nothing leaves the loopback interface.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forwarder/tls.h"

/* ---- builder ---- */

struct buf {
	uint8_t b[70000];
	size_t n;
};

static void put8(struct buf *b, unsigned int v)
{
	cr_assert_lt(b->n, sizeof(b->b));
	b->b[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, unsigned int v)
{
	put8(b, v >> 8);
	put8(b, v & 0xff);
}

static void put24(struct buf *b, unsigned int v)
{
	put8(b, v >> 16);
	put16(b, v & 0xffff);
}

static void putn(struct buf *b, const void *p, size_t n)
{
	cr_assert_leq(b->n + n, sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void putfill(struct buf *b, uint8_t v, size_t n)
{
	cr_assert_leq(b->n + n, sizeof(b->b));
	memset(b->b + b->n, v, n);
	b->n += n;
}

/* a 16-bit length placeholder, filled by end16() with the real length + delta */
static size_t begin16(struct buf *b)
{
	put16(b, 0);
	return b->n;
}

static void end16(struct buf *b, size_t start, int delta)
{
	unsigned int len = (unsigned int)((long)(b->n - start) + delta);

	b->b[start - 2] = (uint8_t)(len >> 8);
	b->b[start - 1] = (uint8_t)len;
}

/* the knobs of one ClientHello */
struct hello {
	const char *sni; /* NULL: no server_name extension */
	size_t sni_len;	 /* 0: strlen(sni) (set it to embed NULs) */
	int sni_type;	 /* name_type, 0 = host_name */
	bool sni_twice;	 /* two host_name entries */
	const char *alpn[4];
	bool ech;
	bool grease;
	size_t key_share;     /* bytes of a fake key share (X25519MLKEM768: 1216) */
	size_t padding;	      /* bytes of a padding extension */
	bool dup_ext;	      /* supported_versions twice */
	bool no_ext;	      /* no extension block at all */
	unsigned int sid_len; /* session id bytes */
	int d_sid, d_cs, d_comp, d_exts, d_sni_list, d_sni_name, d_alpn_list, d_ext_len;
	bool odd_cs;	 /* an odd cipher suites length */
	int d_hs;	 /* handshake length delta */
	uint8_t hs_type; /* 0: ClientHello (1) */
};

static void build_sni(struct buf *b, const struct hello *h)
{
	size_t ext, list, name;
	size_t n = h->sni_len ? h->sni_len : strlen(h->sni);
	int i;

	put16(b, TLS_EXT_SERVER_NAME);
	ext = begin16(b);
	list = begin16(b);
	for (i = 0; i < (h->sni_twice ? 2 : 1); i++) {
		put8(b, (unsigned int)h->sni_type);
		name = begin16(b);
		putn(b, h->sni, n);
		end16(b, name, h->d_sni_name);
	}
	end16(b, list, h->d_sni_list);
	end16(b, ext, h->d_ext_len);
}

/* the handshake message (header + ClientHello body) */
static void build_hs(struct buf *b, const struct hello *h)
{
	size_t body, p, ext, e, l;
	unsigned int len;
	int i;

	put8(b, h->hs_type ? h->hs_type : 1);
	put24(b, 0);
	body = b->n;
	put16(b, 0x0303);
	putfill(b, 0x42, 32);
	put8(b, (unsigned int)((int)h->sid_len + h->d_sid));
	putfill(b, 0x17, h->sid_len);
	/* cipher suites */
	p = begin16(b);
	if (h->grease)
		put16(b, 0x3a3a);
	put16(b, 0x1301);
	put16(b, 0x1302);
	put16(b, 0xc02f);
	if (h->odd_cs)
		put8(b, 0);
	end16(b, p, h->d_cs);
	/* compression */
	put8(b, (unsigned int)(1 + h->d_comp));
	put8(b, 0);
	if (!h->no_ext) {
		ext = begin16(b);
		if (h->grease) {
			put16(b, 0x0a0a);
			put16(b, 0);
		}
		if (h->sni)
			build_sni(b, h);
		/* supported_versions */
		put16(b, 43);
		e = begin16(b);
		l = b->n;
		put8(b, 0);
		if (h->grease)
			put16(b, 0x5a5a);
		put16(b, 0x0304);
		put16(b, 0x0303);
		b->b[l] = (uint8_t)(b->n - l - 1);
		end16(b, e, 0);
		if (h->dup_ext) {
			put16(b, 43);
			put16(b, 3);
			put8(b, 2);
			put16(b, 0x0304);
		}
		if (h->alpn[0]) {
			put16(b, TLS_EXT_ALPN);
			e = begin16(b);
			l = begin16(b);
			for (i = 0; i < 4 && h->alpn[i]; i++) {
				put8(b, (unsigned int)strlen(h->alpn[i]));
				putn(b, h->alpn[i], strlen(h->alpn[i]));
			}
			end16(b, l, h->d_alpn_list);
			end16(b, e, 0);
		}
		if (h->key_share) {
			put16(b, 51);
			e = begin16(b);
			l = begin16(b);
			put16(b, 0x11ec);
			put16(b, (unsigned int)h->key_share);
			putfill(b, 0x99, h->key_share);
			end16(b, l, 0);
			end16(b, e, 0);
		}
		if (h->ech) {
			put16(b, TLS_EXT_ECH);
			e = begin16(b);
			put8(b, 0); /* outer */
			putfill(b, 0x55, 200);
			end16(b, e, 0);
		}
		if (h->grease) {
			put16(b, 0xfafa);
			put16(b, 1);
			put8(b, 0);
		}
		if (h->padding) {
			put16(b, 21);
			put16(b, (unsigned int)h->padding);
			putfill(b, 0, h->padding);
		}
		end16(b, ext, h->d_exts);
	}
	len = (unsigned int)((long)(b->n - body) + h->d_hs);
	b->b[body - 3] = (uint8_t)(len >> 16);
	b->b[body - 2] = (uint8_t)(len >> 8);
	b->b[body - 1] = (uint8_t)len;
}

/* wrap @hs in handshake records of at most @frag bytes */
static void wrap(struct buf *out, const struct buf *hs, size_t frag)
{
	size_t off = 0;

	while (off < hs->n) {
		size_t n = hs->n - off < frag ? hs->n - off : frag;

		put8(out, 22);
		put16(out, off == 0 ? 0x0301 : 0x0303);
		put16(out, (unsigned int)n);
		putn(out, hs->b + off, n);
		off += n;
	}
}

static struct buf hs, rec;
static uint8_t scratch[TLS_CH_MAX_DEFAULT];

static int parse_frag(const struct hello *h, size_t frag, struct tls_client_hello *ch)
{
	hs.n = 0;
	rec.n = 0;
	build_hs(&hs, h);
	wrap(&rec, &hs, frag);
	return tls_parse_client_hello(rec.b, rec.n, scratch, sizeof(scratch), ch);
}

static int parse(const struct hello *h, struct tls_client_hello *ch)
{
	return parse_frag(h, TLS_RECORD_MAX, ch);
}

/* ---- well-formed hellos ---- */

Test(tls, single_record)
{
	struct hello h = {.sni = "Allowed.TEST", .alpn = {"h2", "http/1.1"}, .sid_len = 32};
	struct tls_client_hello ch;

	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	cr_assert(ch.has_sni);
	cr_assert_str_eq(ch.sni, "allowed.test");
	cr_assert_eq(ch.n_alpn, 2);
	cr_assert_str_eq(ch.alpn[0], "h2");
	cr_assert_str_eq(ch.alpn[1], "http/1.1");
	cr_assert_not(ch.ech);
	cr_assert_eq(ch.n_records, 1);
	cr_assert_eq(ch.consumed, rec.n);
	cr_assert_eq(ch.hs_len, hs.n);
	cr_assert_eq(ch.version, 0x0303);
}

Test(tls, trailing_bytes_after_records_are_not_read)
{
	struct hello h = {.sni = "a.test"};
	struct tls_client_hello ch;
	size_t n;

	hs.n = rec.n = 0;
	build_hs(&hs, &h);
	wrap(&rec, &hs, TLS_RECORD_MAX);
	n = rec.n;
	/* a ChangeCipherSpec + early data after the hello: not part of it */
	putn(&rec, "\x14\x03\x03\x00\x01\x01\x17\x03\x03\x00\x05hello", 17);
	cr_assert_eq(tls_parse_client_hello(rec.b, rec.n, scratch, sizeof(scratch), &ch), TLS_DONE);
	cr_assert_eq(ch.consumed, n);
}

Test(tls, split_across_records)
{
	struct hello h = {.sni = "allowed.test", .alpn = {"h2"}, .key_share = 1216};
	struct tls_client_hello ch;
	size_t frags[] = {1, 3, 4, 5, 100, 512, 1000};
	size_t i;

	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		cr_assert_eq(parse_frag(&h, frags[i], &ch), TLS_DONE, "frag %zu", frags[i]);
		cr_assert_str_eq(ch.sni, "allowed.test");
		cr_assert_eq(ch.n_records, (hs.n + frags[i] - 1) / frags[i]);
		cr_assert_eq(ch.consumed, rec.n);
	}
}

Test(tls, split_across_segments_every_prefix)
{
	struct hello h = {.sni = "allowed.test", .key_share = 1216, .grease = true};
	struct tls_client_hello ch;
	size_t frag, cut;

	for (frag = 300; frag <= TLS_RECORD_MAX; frag += TLS_RECORD_MAX - 300) {
		hs.n = rec.n = 0;
		build_hs(&hs, &h);
		wrap(&rec, &hs, frag);
		for (cut = 0; cut < rec.n; cut++) {
			int rc = tls_parse_client_hello(rec.b, cut, scratch, sizeof(scratch), &ch);

			cr_assert_eq(rc, TLS_NEED_MORE, "cut %zu: %s", cut, tls_status_name(rc));
			cr_assert_gt(ch.need, cut);
			cr_assert_leq(ch.need, rec.n);
		}
		cr_assert_eq(tls_parse_client_hello(rec.b, rec.n, scratch, sizeof(scratch), &ch),
			     TLS_DONE);
	}
}

Test(tls, need_is_exact_for_a_partial_record)
{
	struct hello h = {.sni = "allowed.test"};
	struct tls_client_hello ch;

	parse(&h, &ch);
	cr_assert_eq(tls_parse_client_hello(rec.b, 3, scratch, sizeof(scratch), &ch),
		     TLS_NEED_MORE);
	cr_assert_eq(ch.need, 5);
	cr_assert_eq(tls_parse_client_hello(rec.b, 10, scratch, sizeof(scratch), &ch),
		     TLS_NEED_MORE);
	cr_assert_eq(ch.need, rec.n);
}

Test(tls, post_quantum_size_over_1500)
{
	struct hello h = {.sni = "pq.allowed.test",
			  .alpn = {"h2", "http/1.1"},
			  .key_share = 1216,
			  .padding = 300,
			  .grease = true,
			  .sid_len = 32};
	struct tls_client_hello ch;

	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	cr_assert_gt(rec.n, 1500);
	cr_assert_str_eq(ch.sni, "pq.allowed.test");
	/* in 1,400-byte segments: NEED_MORE, then DONE */
	cr_assert_eq(tls_parse_client_hello(rec.b, 1400, scratch, sizeof(scratch), &ch),
		     TLS_NEED_MORE);
	cr_assert_eq(tls_parse_client_hello(rec.b, rec.n, scratch, sizeof(scratch), &ch), TLS_DONE);
}

Test(tls, up_to_the_bound_and_over)
{
	struct hello h = {.sni = "big.test", .padding = 16000};
	struct tls_client_hello ch;

	cr_assert_eq(parse_frag(&h, 8192, &ch), TLS_DONE); /* ~16.1 KB in two records */
	cr_assert_eq(ch.n_records, 2);
	cr_assert_gt(hs.n, 16000);
	h.padding = 16400; /* handshake > 16 KiB */
	cr_assert_eq(parse(&h, &ch), TLS_ERR_TOO_BIG);
	/* known from the header alone */
	cr_assert_eq(tls_parse_client_hello(rec.b, 9, scratch, sizeof(scratch), &ch),
		     TLS_ERR_TOO_BIG);
	/* a smaller bound */
	h.padding = 0;
	parse(&h, &ch);
	cr_assert_eq(tls_parse_client_hello(rec.b, rec.n, scratch, 64, &ch), TLS_ERR_TOO_BIG);
}

Test(tls, ech_and_grease)
{
	struct hello h = {.sni = "public.ech.test", .ech = true, .grease = true, .alpn = {"h2"}};
	struct tls_client_hello ch;

	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	cr_assert(ch.ech);
	cr_assert_str_eq(ch.sni, "public.ech.test"); /* outer SNI */
	h.sni = NULL;
	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	cr_assert(ch.ech);
	cr_assert_not(ch.has_sni);
}

Test(tls, no_sni_and_no_extensions)
{
	struct hello h = {.alpn = {"h2"}};
	struct tls_client_hello ch;

	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	cr_assert_not(ch.has_sni);
	cr_assert_str_eq(ch.sni, "");
	h.no_ext = true;
	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	cr_assert_not(ch.has_sni);
	cr_assert_eq(ch.n_ext, 0);
}

Test(tls, unknown_name_type_is_skipped)
{
	struct hello h = {.sni = "x.test", .sni_type = 7};
	struct tls_client_hello ch;

	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	cr_assert_not(ch.has_sni);
}

Test(tls, sni_trailing_dot_and_limits)
{
	char name[300];
	struct hello h = {.sni = "allowed.test."};
	struct tls_client_hello ch;

	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	cr_assert_str_eq(ch.sni, "allowed.test");
	/* 63-character label: fine; 64: not */
	memset(name, 'a', 63);
	strcpy(name + 63, ".test");
	h.sni = name;
	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	memset(name, 'a', 64);
	strcpy(name + 64, ".test");
	cr_assert_eq(parse(&h, &ch), TLS_ERR_BAD_SNI);
	/* 253 characters: fine; 254: not */
	memset(name, 0, sizeof(name));
	for (size_t i = 0; i < 253; i++)
		name[i] = (i % 50 == 49) ? '.' : 'b';
	cr_assert_eq(parse(&h, &ch), TLS_DONE);
	cr_assert_eq(strlen(ch.sni), 253);
	name[253] = 'c';
	cr_assert_eq(parse(&h, &ch), TLS_ERR_BAD_SNI);
}

Test(tls, bad_sni_names)
{
	static const char *const bad[] = {"a..test",  ".a.test",  "a_b.test", "a b.test",
					  "a/b.test", "ünï.test", "a.test..", "*.test",
					  "a:443",    "[::1]",	  "."};
	struct hello h = {0};
	struct tls_client_hello ch;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h.sni = bad[i];
		cr_assert_eq(parse(&h, &ch), TLS_ERR_BAD_SNI, "%s", bad[i]);
		cr_assert_not(ch.has_sni);
	}
}

Test(tls, sni_with_nul)
{
	struct hello h = {.sni = "allowed.test\0.evil.test", .sni_len = 23};
	struct tls_client_hello ch;

	cr_assert_eq(parse(&h, &ch), TLS_ERR_BAD_SNI);
	h.sni_len = 13; /* "allowed.test\0" */
	cr_assert_eq(parse(&h, &ch), TLS_ERR_BAD_SNI);
}

Test(tls, ip_literal_sni)
{
	static const char *const ips[] = {"127.0.0.4", "10.1", "2130706436", "0x7f.0.0.1",
					  "1.2.3.0x4"};
	static const char *const names[] = {"1.test", "test.1a", "0x.test", "a1"};
	struct hello h = {0};
	struct tls_client_hello ch;
	size_t i;

	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		h.sni = ips[i];
		cr_assert_eq(parse(&h, &ch), TLS_ERR_SNI_IP, "%s", ips[i]);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		h.sni = names[i];
		cr_assert_eq(parse(&h, &ch), TLS_DONE, "%s", names[i]);
	}
}

Test(tls, duplicates)
{
	struct hello h = {.sni = "a.test", .dup_ext = true};
	struct tls_client_hello ch;

	cr_assert_eq(parse(&h, &ch), TLS_ERR_DUP_EXT);
	h.dup_ext = false;
	h.sni_twice = true;
	cr_assert_eq(parse(&h, &ch), TLS_ERR_MALFORMED);
}

/* ---- lying lengths at every level ---- */

Test(tls, lying_lengths)
{
	struct {
		const char *what;
		struct hello h;
		int want;
	} cases[] = {
	    {"sid > 32", {.sni = "a.test", .sid_len = 32, .d_sid = 1}, TLS_ERR_MALFORMED},
	    {"sid short", {.sni = "a.test", .sid_len = 8, .d_sid = -1}, TLS_ERR_MALFORMED},
	    {"sid long", {.sni = "a.test", .sid_len = 8, .d_sid = 1}, TLS_ERR_MALFORMED},
	    {"cs long", {.sni = "a.test", .d_cs = 2}, TLS_ERR_MALFORMED},
	    {"cs huge", {.sni = "a.test", .d_cs = 30000}, TLS_ERR_MALFORMED},
	    {"cs short", {.sni = "a.test", .d_cs = -2}, TLS_ERR_MALFORMED},
	    {"cs odd", {.sni = "a.test", .odd_cs = true}, TLS_ERR_MALFORMED},
	    {"cs zero", {.sni = "a.test", .d_cs = -6}, TLS_ERR_MALFORMED},
	    {"comp zero", {.sni = "a.test", .d_comp = -1}, TLS_ERR_MALFORMED},
	    {"comp long", {.sni = "a.test", .d_comp = 200}, TLS_ERR_MALFORMED},
	    {"exts long", {.sni = "a.test", .d_exts = 1}, TLS_ERR_MALFORMED},
	    {"exts short", {.sni = "a.test", .d_exts = -1}, TLS_ERR_MALFORMED},
	    {"ext long", {.sni = "a.test", .d_ext_len = 1}, TLS_ERR_MALFORMED},
	    {"ext short", {.sni = "a.test", .d_ext_len = -1}, TLS_ERR_MALFORMED},
	    {"sni list long", {.sni = "a.test", .d_sni_list = 1}, TLS_ERR_MALFORMED},
	    {"sni list short", {.sni = "a.test", .d_sni_list = -1}, TLS_ERR_MALFORMED},
	    {"sni list empty", {.sni = "a.test", .d_sni_list = -9}, TLS_ERR_MALFORMED},
	    {"sni name long", {.sni = "a.test", .d_sni_name = 1}, TLS_ERR_MALFORMED},
	    {"sni name short", {.sni = "a.test", .d_sni_name = -1}, TLS_ERR_MALFORMED},
	    {"sni name huge", {.sni = "a.test", .d_sni_name = 60000}, TLS_ERR_MALFORMED},
	    {"alpn list long",
	     {.sni = "a.test", .alpn = {"h2"}, .d_alpn_list = 1},
	     TLS_ERR_MALFORMED},
	    {"alpn list short",
	     {.sni = "a.test", .alpn = {"h2"}, .d_alpn_list = -1},
	     TLS_ERR_MALFORMED},
	    {"hs short", {.sni = "a.test", .d_hs = -1}, TLS_ERR_MALFORMED},
	    {"hs tiny", {.sni = "a.test", .d_hs = -40}, TLS_ERR_MALFORMED},
	    {"not hello", {.sni = "a.test", .hs_type = 2}, TLS_ERR_NOT_HELLO},
	};
	struct tls_client_hello ch;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(&cases[i].h, &ch);

		cr_expect_eq(rc, cases[i].want, "%s: got %s", cases[i].what, tls_status_name(rc));
	}
}

Test(tls, handshake_longer_than_its_records)
{
	struct hello h = {.sni = "a.test", .d_hs = 10};
	struct tls_client_hello ch;

	/* waits for a further record ... */
	cr_assert_eq(parse(&h, &ch), TLS_NEED_MORE);
	cr_assert_eq(ch.need, rec.n + 5);
	/* ... which must be a handshake record */
	putn(&rec, "\x15\x03\x03\x00\x02\x02\x28", 7);
	cr_assert_eq(tls_parse_client_hello(rec.b, rec.n, scratch, sizeof(scratch), &ch),
		     TLS_ERR_RECORD);
}

Test(tls, bad_records)
{
	struct hello h = {.sni = "a.test"};
	struct tls_client_hello ch;

	parse(&h, &ch);
	rec.b[3] = 0;
	rec.b[4] = 0; /* empty record */
	cr_assert_eq(tls_parse_client_hello(rec.b, rec.n, scratch, sizeof(scratch), &ch),
		     TLS_ERR_RECORD);
	rec.b[3] = 0x40;
	rec.b[4] = 0x01; /* 16385 */
	cr_assert_eq(tls_parse_client_hello(rec.b, rec.n, scratch, sizeof(scratch), &ch),
		     TLS_ERR_RECORD);
	parse(&h, &ch);
	rec.b[1] = 2; /* SSL 2 version */
	cr_assert_eq(tls_parse_client_hello(rec.b, rec.n, scratch, sizeof(scratch), &ch),
		     TLS_ERR_NOT_TLS);
	/* record length one more than the handshake: bytes past the hello */
	parse(&h, &ch);
	rec.b[4]++;
	put8(&rec, 0);
	cr_assert_eq(tls_parse_client_hello(rec.b, rec.n, scratch, sizeof(scratch), &ch),
		     TLS_ERR_MALFORMED);
}

Test(tls, not_tls_at_first_byte)
{
	struct tls_client_hello ch;
	const char *get = "GET / HTTP/1.1\r\n";

	cr_assert_eq(tls_parse_client_hello((const uint8_t *)get, 1, scratch, sizeof(scratch), &ch),
		     TLS_ERR_NOT_TLS);
	cr_assert_eq(tls_parse_client_hello((const uint8_t *)"\x80\x2e\x01", 3, scratch,
					    sizeof(scratch), &ch),
		     TLS_ERR_NOT_TLS);
	cr_assert_eq(tls_parse_client_hello((const uint8_t *)"", 0, scratch, sizeof(scratch), &ch),
		     TLS_NEED_MORE);
	cr_assert_eq(ch.need, 5);
}

Test(tls, truncated_never_reads_past_len)
{
	struct hello h = {.sni = "allowed.test", .alpn = {"h2"}, .key_share = 32};
	struct tls_client_hello ch;
	size_t cut;

	parse(&h, &ch);
	/* each prefix copied to the END of a heap buffer so ASan sees overruns */
	for (cut = 0; cut < rec.n; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);

		memcpy(p, rec.b, cut);
		cr_assert_eq(tls_parse_client_hello(p, cut, scratch, sizeof(scratch), &ch),
			     TLS_NEED_MORE);
		free(p);
	}
}

Test(tls, mutations_do_not_crash)
{
	struct hello h = {.sni = "allowed.test",
			  .alpn = {"h2", "x"},
			  .ech = true,
			  .grease = true,
			  .key_share = 64};
	struct tls_client_hello ch;
	unsigned int seed = 1;
	size_t i;
	int rc;

	parse_frag(&h, 60, &ch);
	for (i = 0; i < 20000; i++) {
		static uint8_t m[sizeof(rec.b)];
		size_t pos, len = rec.n;

		memcpy(m, rec.b, rec.n);
		seed = seed * 1103515245u + 12345u;
		pos = (seed >> 8) % len;
		m[pos] ^= (uint8_t)(1u << ((seed >> 4) % 8));
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % 3 ? len : (seed >> 12) % (len + 1);
		rc = tls_parse_client_hello(m, len, scratch, sizeof(scratch), &ch);
		cr_assert(rc >= TLS_ERR_SNI_IP && rc <= TLS_NEED_MORE);
		if (rc == TLS_DONE)
			cr_assert_leq(ch.consumed, len);
	}
}

/* ---- real clients on loopback ---- */

static bool have_tool(const char *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", t);
	return system(cmd) == 0;
}

/*
 * Listen on 127.0.0.1, run @cmd (a shell command; $PORT is the port) in the background,
 * read what it sends until the parser is done (or 5 s), then stop it.
 */
static int capture(const char *cmd, struct tls_client_hello *ch, size_t *got)
{
	static uint8_t in[65536];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char port[16];
	int ls, cs, rc = TLS_NEED_MORE;
	size_t n = 0;
	pid_t pid;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(ls, 0);
	cr_assert_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(ls, 1), 0);
	cr_assert_eq(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(ls);
		setenv("PORT", port, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	struct pollfd pfd = {.fd = ls, .events = POLLIN};

	if (poll(&pfd, 1, 5000) == 1) {
		cs = accept(ls, NULL, NULL);
		cr_assert_geq(cs, 0);
		while (rc == TLS_NEED_MORE && n < sizeof(in)) {
			ssize_t r;

			pfd.fd = cs;
			if (poll(&pfd, 1, 5000) != 1)
				break;
			r = read(cs, in + n, sizeof(in) - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			rc = tls_parse_client_hello(in, n, scratch, sizeof(scratch), ch);
		}
		close(cs);
	}
	close(ls);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	*got = n;
	return rc;
}

Test(tls_live, openssl_s_client)
{
	struct tls_client_hello ch;
	size_t n;
	int rc;

	if (!have_tool("openssl"))
		cr_skip_test("no openssl");
	rc = capture("exec openssl s_client -connect 127.0.0.1:$PORT -servername Allowed.Test "
		     "-alpn h2,http/1.1 </dev/null >/dev/null 2>&1",
		     &ch, &n);
	cr_assert_eq(rc, TLS_DONE, "%s after %zu bytes", tls_status_name(rc), n);
	cr_assert_str_eq(ch.sni, "allowed.test");
	cr_assert_eq(ch.n_alpn, 2);
	cr_assert_str_eq(ch.alpn[0], "h2");
}

Test(tls_live, openssl_s_client_large)
{
	struct tls_client_hello ch;
	char cmd[1600], *p;
	size_t n;
	int rc, i;

	if (!have_tool("openssl"))
		cr_skip_test("no openssl");
	/* an 8192-bit FFDHE key share (1 KB) and a long ALPN list: > 1,500 bytes */
	p = cmd + sprintf(cmd, "exec openssl s_client -connect 127.0.0.1:$PORT -servername "
			       "big.allowed.test -groups ffdhe8192:X25519:P-256:P-384:P-521:"
			       "ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144 -alpn h2");
	for (i = 0; i < 40; i++)
		p += sprintf(p, ",proto-number-%02d", i);
	sprintf(p, " </dev/null >/dev/null 2>&1");
	rc = capture(cmd, &ch, &n);
	cr_assert_eq(rc, TLS_DONE, "%s after %zu bytes", tls_status_name(rc), n);
	cr_assert_gt(ch.consumed, 1500);
	cr_assert_str_eq(ch.sni, "big.allowed.test");
	cr_assert_eq(ch.n_alpn, 41);
}

Test(tls_live, curl)
{
	struct tls_client_hello ch;
	size_t n;
	int rc;

	if (!have_tool("curl"))
		cr_skip_test("no curl");
	rc = capture("exec curl -sk --max-time 5 --resolve allowed.test:$PORT:127.0.0.1 "
		     "https://allowed.test:$PORT/ >/dev/null 2>&1",
		     &ch, &n);
	cr_assert_eq(rc, TLS_DONE, "%s after %zu bytes", tls_status_name(rc), n);
	cr_assert_str_eq(ch.sni, "allowed.test");
	cr_assert_geq(ch.n_alpn, 1);
}
