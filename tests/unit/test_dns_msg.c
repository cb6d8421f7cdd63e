/* SPDX-License-Identifier: MIT */
/*
 * test_dns_msg.c - dns/msg.c: an upstream reply re-encoded as a stored
 * answer without ldns. Names inside RDATA are decompressed from the reply's
 * layout and the stored bytes point into the canonical one (owner names
 * and RFC 1035 RDATA names compressed, others written whole, case kept);
 * the SOA MINIMUM caps a negative answer's TTL; OPT records are dropped;
 * malformed replies (overruns, forward pointers, fields that do not fit
 * their RDATA, missing records) are refused.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/wire.h"

/**
 * struct reply - an upstream reply being written by a test
 * @b:		the message
 * @len:	bytes written
 * @name:	the question's lower-case name
 * @n:		its length
 * @type:	the question's type
 */
struct reply {
	uint8_t b[2048];
	size_t len;
	uint8_t name[DNS_NAME_MAX];
	size_t n;
	uint16_t type;
};

static void reply_init(struct reply *r, const char *name, uint16_t type, uint8_t rcode)
{
	int n = wire_name_from_text(name, r->name);

	cr_assert_gt(n, 0);
	r->n = (size_t)n;
	r->type = type;
	r->len = wire_build_query(r->b, 7, r->name, r->n, type, 0, false);
	r->b[2] |= 0x80;
	r->b[3] = (uint8_t)(r->b[3] | rcode);
}

/* raw - append @n bytes */
static void raw(struct reply *r, const void *p, size_t n)
{
	cr_assert_leq(r->len + n, sizeof(r->b));
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

/* rr - append a record: owner bytes as given, class IN, @ttl, @rd as RDATA */
static void rr(struct reply *r, const void *owner, size_t olen, uint16_t type, uint32_t ttl,
	       const void *rd, uint16_t rdlen)
{
	uint8_t f[10];

	raw(r, owner, olen);
	wire_put16(f, type);
	wire_put16(f + 2, DNS_CLASS_IN);
	wire_put32(f + 4, ttl);
	wire_put16(f + 8, rdlen);
	raw(r, f, sizeof(f));
	raw(r, rd, rdlen);
}

static void counts(struct reply *r, uint16_t an, uint16_t ns, uint16_t ar)
{
	wire_put16(r->b + 6, an);
	wire_put16(r->b + 8, ns);
	wire_put16(r->b + 10, ar);
}

static int parse(struct reply *r, struct dns_data **d, uint32_t *ttl)
{
	*d = NULL;
	return msg_from_reply(r->b, r->len, r->name, r->n, r->type, 300, 5, d, ttl);
}

static const uint8_t QPTR[] = {0xc0, 12}; /* the question name */

/*
 * A CNAME whose target is compressed against the reply's question, and an A
 * record owned by that target through a pointer into the CNAME's RDATA: the
 * stored answer still leads from the name to the address, and its pointers
 * are into the canonical layout (the stored CNAME RDATA is "cdn" + pointer).
 */
Test(msg, rdata_names_decompressed_and_recompressed)
{
	struct reply r;
	struct dns_data *d;
	uint32_t ttl;
	uint8_t scratch[4096], addr[4];
	size_t target;
	/* "cdn" + pointer to "example.com" in the question (offset 12 + 4) */
	static const uint8_t cname[] = {3, 'c', 'd', 'n', 0xc0, 16};

	reply_init(&r, "www.example.com", DNS_TYPE_A, 0);
	rr(&r, QPTR, 2, DNS_TYPE_CNAME, 60, cname, sizeof(cname));
	target = r.len - sizeof(cname);
	rr(&r, (uint8_t[]){0xc0, (uint8_t)target}, 2, DNS_TYPE_A, 40, "\x0a\0\0\x07", 4);
	counts(&r, 2, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_OK);
	cr_assert_eq(ttl, 40);
	cr_assert_eq(d->an, 2);
	/* CNAME: 2 owner + 10 + 6 RDATA; A: 2 owner + 10 + 4 */
	cr_assert_eq(d->len, 18 + 16);
	cr_assert_eq(memcmp(dns_data_rr(d) + 12, cname, 4), 0);
	cr_assert_eq(wire_data_addrs(d, DNS_TYPE_A, scratch, addr, 1), 1);
	cr_assert_eq(memcmp(addr, "\x0a\0\0\x07", 4), 0);
	free(d);
}

/*
 * Owner names written out in full by upstream are compressed in the stored
 * answer, their case kept; an SRV target (no compression allowed in its
 * RDATA) arrives compressed and is stored whole.
 */
Test(msg, owners_compressed_case_kept_srv_whole)
{
	struct reply r;
	struct dns_data *d;
	uint32_t ttl;
	static const uint8_t owner[] = "\x04_SIP\x04_tcp\x01S\x04test";
	/* priority, weight, port, target "H" + pointer to "s.test" */
	uint8_t srv[6 + 4] = {0, 1, 0, 2, 0x13, 0xc4, 1, 'H', 0xc0, 12 + 10};
	const uint8_t *p;

	reply_init(&r, "_sip._tcp.s.test", DNS_TYPE_SRV, 0);
	rr(&r, owner, sizeof(owner), DNS_TYPE_SRV, 60, srv, sizeof(srv));
	counts(&r, 1, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_OK);
	p = dns_data_rr(d);
	/* whole question name: a pointer to offset 12, not the upstream case */
	cr_assert_eq(p[0], 0xc0);
	cr_assert_eq(p[1], 12);
	/* RDATA: 6 fixed bytes, then "\1H\1s\4test\0" written whole, case kept */
	cr_assert_eq(wire_get16(p + 10), 6 + 10);
	cr_assert_eq(memcmp(p + 12 + 6, "\x01H\x01s\x04test", 10), 0);
	free(d);
}

/* An NXDOMAIN with an SOA: the TTL is min(TTL, MINIMUM); OPT is dropped */
Test(msg, soa_minimum_and_opt_dropped)
{
	struct reply r;
	struct dns_data *d;
	uint32_t ttl;
	uint8_t soa[64];
	size_t n = 0;

	reply_init(&r, "nope.test", DNS_TYPE_A, DNS_RCODE_NXDOMAIN);
	memcpy(soa + n, "\2ns\xc0\x11", 5); /* ns + pointer to "test" */
	n += 5;
	memcpy(soa + n, "\4root\xc0\x11", 7);
	n += 7;
	memcpy(soa + n, "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\x1e", 20); /* MINIMUM 30 */
	n += 20;
	rr(&r, (uint8_t[]){0xc0, 0x11}, 2, DNS_TYPE_SOA, 3600, soa, (uint16_t)n);
	rr(&r, "", 1, DNS_TYPE_OPT, 0, "", 0);
	counts(&r, 0, 1, 1);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_OK);
	cr_assert_eq(ttl, 30);
	cr_assert_eq(d->rcode, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(d->ns, 1);
	cr_assert_eq(d->ar, 0, "OPT dropped");
	cr_assert_eq(d->ar_off, d->len);
	free(d);

	/* no SOA: the failure TTL */
	reply_init(&r, "nope.test", DNS_TYPE_A, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_OK);
	cr_assert_eq(ttl, 5);
	free(d);
}

/* SERVFAIL and friends: MSG_REFUSED (the resolver tries another server) */
Test(msg, error_rcodes_refused)
{
	struct reply r;
	struct dns_data *d;
	uint32_t ttl;

	reply_init(&r, "x.test", DNS_TYPE_A, DNS_RCODE_SERVFAIL);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_REFUSED);
	cr_assert_null(d);
}

/* malformed replies are refused, never stored */
Test(msg, malformed_refused)
{
	struct reply r;
	struct dns_data *d;
	uint32_t ttl;
	static const uint8_t fwd[] = {1, 'a', 0xc0, 0xff};
	static const uint8_t mx_over[] = {0, 10, 4, 'm', 'a', 'i', 'l'};

	reply_init(&r, "x.test", DNS_TYPE_A, 0);
	rr(&r, QPTR, 2, DNS_TYPE_A, 60, "\1\2\3", 3);
	counts(&r, 1, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_BAD, "A of 3 bytes");

	reply_init(&r, "x.test", DNS_TYPE_A, 0);
	rr(&r, QPTR, 2, DNS_TYPE_A, 60, "\1\2\3\4\5", 5);
	counts(&r, 1, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_BAD, "A of 5 bytes");

	reply_init(&r, "x.test", DNS_TYPE_CNAME, 0);
	rr(&r, QPTR, 2, DNS_TYPE_CNAME, 60, fwd, sizeof(fwd));
	counts(&r, 1, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_BAD, "forward pointer in RDATA");

	reply_init(&r, "x.test", DNS_TYPE_MX, 0);
	rr(&r, QPTR, 2, DNS_TYPE_MX, 60, mx_over, sizeof(mx_over));
	raw(&r, "\0", 1); /* the name's end lies past the RDATA */
	counts(&r, 1, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_BAD, "name past its RDATA");

	reply_init(&r, "x.test", DNS_TYPE_MX, 0);
	rr(&r, QPTR, 2, DNS_TYPE_MX, 60, "\0\12", 2);
	counts(&r, 1, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_BAD, "MX without its exchange");

	reply_init(&r, "x.test", DNS_TYPE_SRV, 0);
	rr(&r, QPTR, 2, DNS_TYPE_SRV, 60, "\0\1\0\2", 4);
	counts(&r, 1, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_BAD, "SRV cut short of port and target");

	reply_init(&r, "x.test", DNS_TYPE_A, 0);
	rr(&r, QPTR, 2, DNS_TYPE_A, 60, "\1\2\3\4", 4);
	counts(&r, 2, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_BAD, "a record missing");

	reply_init(&r, "x.test", DNS_TYPE_A, 0);
	rr(&r, QPTR, 2, DNS_TYPE_A, 60, "\1\2\3\4", 4);
	r.len -= 1;
	counts(&r, 1, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_BAD, "RDATA past the message");
	cr_assert_null(d);
}

/* an empty RDATA is kept (as ldns did), a TXT is copied as it is */
Test(msg, empty_and_opaque_rdata)
{
	struct reply r;
	struct dns_data *d;
	uint32_t ttl;

	reply_init(&r, "x.test", DNS_TYPE_TXT, 0);
	rr(&r, QPTR, 2, DNS_TYPE_A, 60, "", 0);
	rr(&r, QPTR, 2, DNS_TYPE_TXT, 60, "\3\xc0\x0c\x00", 4);
	counts(&r, 2, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_OK);
	cr_assert_eq(d->an, 2);
	cr_assert_eq(d->len, 12 + 16);
	cr_assert_eq(memcmp(dns_data_rr(d) + 12 + 12, "\3\xc0\x0c\x00", 4), 0);
	free(d);

	/* an NSEC's type bitmap (the rest of its RDATA) may be empty */
	reply_init(&r, "x.test", DNS_TYPE_NSEC, 0);
	rr(&r, QPTR, 2, DNS_TYPE_NSEC, 60, "\1y\4test\0", 8);
	counts(&r, 1, 0, 0);
	cr_assert_eq(parse(&r, &d, &ttl), MSG_OK);
	free(d);
}
