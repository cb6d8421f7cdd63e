/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dns.c - libFuzzer target: arbitrary bytes as guest DNS queries to
 * dns_query_in(), on a fresh service per input that has no upstream (a miss
 * is answered SERVFAIL at once; nothing is ever sent), static records, a
 * local zone, and a cache preloaded through the real upstream-reply path
 * with fresh, negative, SERVFAIL, stale, CNAME and oversized answers, and
 * signed ones (RRSIG, NSEC: full and plain views; one stored under the CD
 * key), so the hit, stale, truncation, additional-section-dropping and
 * DO/CD/AD paths all run.
 *
 * Input: byte 0 is a set of flags, the rest the query (flag 0x08: a list
 * of queries, each prefixed by one length byte, all to the same service).
 *   0x01	queries come over TCP (else UDP)
 *   0x02	a name filter refuses names containing "x"
 *   0x04	the service's EDNS size is 512 instead of 1232
 * Every answer is checked by fuzz_check_answer(); a query gets exactly one
 * answer unless it is dropped (shorter than a header, or a response).
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/internal.h"
#include "dns/msg.h"
#include "fuzz_dns_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * struct fz - state of one input (no hidden globals but the loop)
 * @q:		the query being answered
 * @proto:	its protocol
 * @cfg:	service config
 * @answers:	answers seen for @q
 */
struct fz {
	struct dns_qinfo q;
	int proto;
	struct dns_config cfg;
	int answers;
};

static void on_answer(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	struct fz *z = ctx;

	FUZZ_CHECK(c->proto == z->proto);
	fuzz_check_answer(&z->q, z->proto, z->cfg.edns_udp_size, z->cfg.max_ttl_s, msg, len,
			  true); /* every cached record is the harness's own, well formed */
	z->answers++;
}

static bool no_x(void *ctx, const char *name)
{
	(void)ctx;
	return !strchr(name, 'x');
}

/* rr - append one record owned by the question name (pointer to offset 12) */
static size_t rr(uint8_t *b, size_t off, uint16_t type, uint32_t ttl, const void *rd,
		 uint16_t rdlen)
{
	b[off] = 0xc0;
	b[off + 1] = DNS_HDR_LEN;
	wire_put16(b + off + 2, type);
	wire_put16(b + off + 4, DNS_CLASS_IN);
	wire_put32(b + off + 6, ttl);
	wire_put16(b + off + 10, rdlen);
	memcpy(b + off + 12, rd, rdlen);
	return off + 12 + rdlen;
}

/*
 * build - the stored answer for @text/@type made from an upstream-style
 * reply by msg_from_reply(): @kind 0 two A, 1 big TXT, 2 many A plus a big
 * additional section, 3 NXDOMAIN with SOA, 4 CNAME to a.example plus A,
 * 5 A plus RRSIG with AD set, 6 NXDOMAIN with SOA, NSEC and their RRSIGs.
 * Return: the block (malloc'd) or NULL; *@ttl its TTL
 */
static struct dns_data *build(const char *text, uint16_t type, int kind, uint32_t max_ttl,
			      uint32_t *ttl)
{
	static const uint8_t soa[] = "\002ns\000\004host\000\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5";
	/* RRSIG rdata: type covered A, alg 13, 2 labels, TTL, times, tag, signer, sig */
	static const uint8_t sig[] = "\0\1\015\2\0\0\0\074\0\0\0\1\0\0\0\0\1\2"
				     "\007example\000ABCDEFGH";
	static const uint8_t nsec[] = "\001z\007example\000\0\1\100";
	uint8_t name[DNS_NAME_MAX], b[8192], txt[251];
	struct dns_data *data;
	size_t off;
	int n = wire_name_from_text(text, name), i, an = 0, nsc = 0, ar = 0;

	off = wire_build_query(b, 7, name, (size_t)n, type, 0, false);
	b[2] |= 0x80;
	memset(txt, 'a', sizeof(txt));
	txt[0] = 250;
	switch (kind) {
	case 0:
		off = rr(b, off, DNS_TYPE_A, 300, "\012\0\0\1", 4);
		off = rr(b, off, DNS_TYPE_A, 2, "\012\0\0\2", 4);
		an = 2;
		break;
	case 1:
		for (i = 0; i < 12; i++, an++)
			off = rr(b, off, DNS_TYPE_TXT, 60, txt, sizeof(txt));
		break;
	case 2:
		for (i = 0; i < 20; i++, an++)
			off = rr(b, off, DNS_TYPE_A, 60, (uint8_t[4]){ 10, 1, 0, (uint8_t)i }, 4);
		for (i = 0; i < 60; i++, ar++)
			off = rr(b, off, DNS_TYPE_AAAA, 60,
				 (uint8_t[16]){ 0xfd, 0, [15] = (uint8_t)i }, 16);
		break;
	case 3:
		off = rr(b, off, DNS_TYPE_SOA, 900, soa, sizeof(soa) - 1);
		nsc = 1;
		wire_put16(b + 2, wire_get16(b + 2) | DNS_RCODE_NXDOMAIN);
		break;
	case 5:
		off = rr(b, off, DNS_TYPE_A, 300, "\012\0\0\5", 4);
		off = rr(b, off, DNS_TYPE_RRSIG, 300, sig, sizeof(sig) - 1);
		an = 2;
		wire_put16(b + 2, wire_get16(b + 2) | DNS_FLAG_AD);
		break;
	case 6:
		off = rr(b, off, DNS_TYPE_SOA, 900, soa, sizeof(soa) - 1);
		off = rr(b, off, DNS_TYPE_RRSIG, 900, sig, sizeof(sig) - 1);
		off = rr(b, off, DNS_TYPE_NSEC, 900, nsec, sizeof(nsec) - 1);
		off = rr(b, off, DNS_TYPE_RRSIG, 900, sig, sizeof(sig) - 1);
		nsc = 4;
		wire_put16(b + 2, wire_get16(b + 2) | DNS_RCODE_NXDOMAIN);
		break;
	default:
		off = rr(b, off, DNS_TYPE_CNAME, 60, "\001a\007example\000", 11);
		memcpy(b + off, "\001a\007example\000", 11);
		off += 11;
		wire_put16(b + off, DNS_TYPE_A);
		wire_put16(b + off + 2, DNS_CLASS_IN);
		wire_put32(b + off + 4, 60);
		wire_put16(b + off + 8, 4);
		memcpy(b + off + 10, "\012\0\0\3", 4);
		off += 14;
		an = 2;
		break;
	}
	wire_put16(b + 6, (uint16_t)an);
	wire_put16(b + 8, (uint16_t)nsc);
	wire_put16(b + 10, (uint16_t)ar);
	if (msg_from_reply(b, off, name, (size_t)n, type, max_ttl, 1, &data, ttl) != MSG_OK)
		__builtin_trap();
	return data;
}

#define NPRE 11

/**
 * struct pre - answers stored in every fresh service (built once)
 * @text:	name
 * @type:	qkey: type, DNS_KEY_CD for an answer to CD queries
 * @kind:	build() kind, or -1 for a SERVFAIL entry
 * @age_ms:	stored this long before now (stale.example: expired)
 * @d:		the block
 * @ttl:	its TTL
 */
static struct pre {
	const char *text;
	uint32_t type;
	int kind;
	uint64_t age_ms;
	struct dns_data *d;
	uint32_t ttl;
} pre[NPRE] = {
	{ "a.example", DNS_TYPE_A, 0, 0, NULL, 0 },
	{ "big.example", DNS_TYPE_TXT, 1, 0, NULL, 0 },
	{ "mid.example", DNS_TYPE_A, 2, 0, NULL, 0 },
	{ "neg.example", DNS_TYPE_A, 3, 0, NULL, 0 },
	{ "cn.example", DNS_TYPE_A, 4, 0, NULL, 0 },
	{ "stale.example", DNS_TYPE_A, 0, 10000, NULL, 0 },
	{ "fail.example", DNS_TYPE_A, -1, 0, NULL, 1 },
	{ "a.example", DNS_TYPE_AAAA, 3, 0, NULL, 0 },
	{ "sig.example", DNS_TYPE_A, 5, 0, NULL, 0 },
	{ "nsec.example", DNS_TYPE_A, 6, 0, NULL, 0 },
	{ "sig.example", DNS_TYPE_A | DNS_KEY_CD, 0, 0, NULL, 0 },
};

static int pre_build(uint32_t max_ttl)
{
	int i;

	for (i = 0; i < NPRE; i++) {
		uint8_t name[DNS_NAME_MAX];
		int n;

		if (pre[i].kind >= 0) {
			pre[i].d = build(pre[i].text, DNS_KEY_TYPE(pre[i].type), pre[i].kind, max_ttl,
					 &pre[i].ttl);
			continue;
		}
		n = wire_name_from_text(pre[i].text, name);
		pre[i].d = dns_data_new(name, (size_t)n, DNS_RCODE_SERVFAIL, NULL, 0, 0, 0, 0, 0);
		if (!pre[i].d)
			return -1;
	}
	return 0;
}

static struct dns *setup(struct vg_loop *loop, struct fz *z, uint8_t flags)
{
	struct dns_addr a4 = { .family = AF_INET, .a = { 192, 168, 127, 1 } };
	struct dns_addr a6 = { .family = AF_INET6, .a = { 0xfd, 0, [15] = 1 } };
	uint64_t now = vg_loop_now(loop);
	struct dns *d;
	int i;

	dns_config_defaults(&z->cfg);
	z->cfg.cache_size = 16;
	z->cfg.cache_max_bytes = 64 * 1024;
	z->cfg.max_inflight = 4;
	z->cfg.max_waiters = 8;
	z->cfg.max_resolves = 2;
	z->cfg.addr_keep_max = 4;
	if (flags & 0x04)
		z->cfg.edns_udp_size = 512;
	dns_config_add_record(&z->cfg, "gateway.vgate.internal", &a4);
	dns_config_add_record(&z->cfg, "gateway.vgate.internal", &a6);
	dns_config_add_record(&z->cfg, "host.vgate.internal", &a4);
	d = dns_new(loop, &z->cfg, on_answer, z);
	if (!d)
		return NULL;
	if (flags & 0x02)
		dns_set_filter(d, no_x, NULL);
	for (i = 0; i < NPRE; i++) {
		const struct dns_data *p = pre[i].d;
		uint32_t h = wire_hash_key(wire_hash_name(d->seed, dns_data_name(p), p->namelen),
					   pre[i].type);
		struct cache_entry *e = cache_put(&d->cache, p, pre[i].type, h, pre[i].ttl,
						  now - pre[i].age_ms);

		if (e && pre[i].age_ms)
			cache_mark_stale(e, now);
	}
	return d;
}

static void one(struct dns *d, struct fz *z, const uint8_t *msg, size_t len)
{
	struct dns_client c = { .proto = z->proto, .ip = htonl(0xc0a87f02), .port = 5353 };
	int r = wire_parse_query(msg, len, &z->q);

	z->answers = 0;
	dns_query_in(d, &c, msg, len);
	FUZZ_CHECK(z->answers == (r == WIRE_DROP ? 0 : 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_loop *loop;
	struct fz z;
	struct dns *d;
	uint8_t flags;

	if (!loop) {
		loop = vg_loop_new(64);
		/* a fixed virtual time: runs are reproducible */
		if (loop)
			vg_loop_set_clock(loop, VG_CLOCK_MANUAL, 1u << 30);
		if (!loop || pre_build(5) < 0)
			__builtin_trap();
	}
	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	memset(&z, 0, sizeof(z));
	z.proto = (flags & 0x01) ? DNS_PROTO_TCP : DNS_PROTO_UDP;
	d = setup(loop, &z, flags);
	if (!d)
		return 0;
	if (!(flags & 0x08)) {
		one(d, &z, data, size);
	} else {
		while (size) {
			size_t l = data[0] < size - 1 ? data[0] : size - 1;

			one(d, &z, data + 1, l);
			data += 1 + l;
			size -= 1 + l;
		}
	}
	FUZZ_CHECK(d->res.ninflight == 0 && d->nwaiters == 0);
	dns_free(d);
	return 0;
}
