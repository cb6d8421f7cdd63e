/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dns_reply.c - libFuzzer target: arbitrary bytes as an upstream
 * reply, through both layers that read them:
 *
 *  1. msg_from_reply() directly, then every stored answer is checked (TTL
 *     capped, name kept, section offsets walk exactly), round-tripped
 *     through a small cache, scanned by wire_data_addrs(), and built into
 *     guest answers with wire_build_answer() at every size limit, each
 *     checked by fuzz_check_answer() (size bounds, TC rules, ldns parses).
 *  2. The whole service: three guest queries for the reply's question miss
 *     and wait on one in-flight upstream query (singleflight); the reply,
 *     with the query's real ID patched in, goes through
 *     resolver_udp_reply() (ID/question check, TC -> TCP, store or next
 *     try); whatever is left in flight is failed with dns_finish(); every
 *     guest gets exactly one checked answer; a fourth query then hits
 *     whatever was cached.
 *
 * The only upstream is a UDP socket of this process on 127.0.0.1 that
 * never answers (its queue is drained), so nothing leaves loopback.
 *
 * Input: byte 0 flags, the rest the reply.
 *   0x01	first guest over TCP
 *   0x02	guests send EDNS (512 for the first, 4096 for the second)
 *   0x04	guests write the name in upper case
 *   0x08	keep the reply's own ID (almost always dropped as spoofed)
 *   0x10	service EDNS size 512 instead of 1232
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/internal.h"
#include "dns/msg.h"
#include "fuzz_dns_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NGUEST 4
#define MAX_TTL 5

/**
 * struct fz - state of one input
 * @q:		the query of each guest (client port = index + 1)
 * @proto:	its protocol
 * @answers:	answers each guest got
 * @our_size:	the service's EDNS size
 * @parses:	ldns parses the reply (then every answer built from it must
 *		parse too)
 */
struct fz {
	struct dns_qinfo q[NGUEST];
	int proto[NGUEST];
	int answers[NGUEST];
	uint16_t our_size;
	bool parses;
};

static void on_answer(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	struct fz *z = ctx;
	int i = c->port - 1;

	FUZZ_CHECK(i >= 0 && i < NGUEST && c->proto == z->proto[i]);
	fuzz_check_answer(&z->q[i], z->proto[i], z->our_size, MAX_TTL, msg, len, z->parses);
	z->answers[i]++;
}

/* check_data - invariants of a stored answer for (@name, @type) */
static void check_data(const struct dns_data *d, const uint8_t *name, size_t nl, uint32_t ttl)
{
	static uint8_t m[DNS_BUF_SIZE];
	uint8_t scratch[DNS_BUF_SIZE], addrs[32 * 16];
	size_t start = DNS_HDR_LEN + nl + 4, end;
	int n;

	FUZZ_CHECK(ttl <= MAX_TTL);
	FUZZ_CHECK(d->namelen == nl && !memcmp(dns_data_name(d), name, nl));
	FUZZ_CHECK(d->rcode == DNS_RCODE_NOERROR || d->rcode == DNS_RCODE_NXDOMAIN);
	FUZZ_CHECK(d->ar_off <= d->len && start + d->len <= DNS_MSG_MAX);
	memset(m, 0, DNS_HDR_LEN);
	memcpy(m + DNS_HDR_LEN, name, nl);
	memcpy(m + start, dns_data_rr(d), d->len);
	FUZZ_CHECK(wire_skip_rrs(m, start + d->len, start, (unsigned int)d->an + d->ns, &end) == 0);
	FUZZ_CHECK(end == start + d->ar_off);
	FUZZ_CHECK(wire_skip_rrs(m, start + d->len, start,
				 (unsigned int)d->an + d->ns + d->ar, &end) == 0);
	FUZZ_CHECK(end == start + d->len);
	if (d->dflags & DATA_F_PLAIN) {
		struct dns_view v;

		/* the plain view walks to its end on its own, and has fewer records */
		dns_data_view(d, true, &v);
		FUZZ_CHECK(v.ar_off <= v.len && start + v.len <= DNS_MSG_MAX);
		FUZZ_CHECK(v.an + v.ns + v.ar < d->an + d->ns + d->ar);
		FUZZ_CHECK(dns_data_bytes(d) ==
			   sizeof(*d) + nl + d->len + DNS_PLAIN_HDR + v.len);
		memcpy(m + start, v.rr, v.len);
		FUZZ_CHECK(wire_skip_rrs(m, start + v.len, start, (unsigned int)v.an + v.ns,
					 &end) == 0);
		FUZZ_CHECK(end == start + v.ar_off);
		FUZZ_CHECK(wire_skip_rrs(m, start + v.len, start,
					 (unsigned int)v.an + v.ns + v.ar, &end) == 0);
		FUZZ_CHECK(end == start + v.len);
	} else {
		FUZZ_CHECK(dns_data_bytes(d) == sizeof(*d) + nl + d->len);
	}
	n = wire_data_addrs(d, DNS_TYPE_A, scratch, addrs, 32);
	FUZZ_CHECK(n >= 0 && n <= d->an);
	n = wire_data_addrs(d, DNS_TYPE_AAAA, scratch, addrs, 32);
	FUZZ_CHECK(n >= 0 && n <= d->an);
}

/* check_build - build guest answers from @d at every limit and check them
 * (@parses: ldns parses the reply @d came from) */
static void check_build(const struct dns_data *d, const struct dns_qinfo *base, uint32_t ttl,
			bool parses)
{
	static uint8_t out[DNS_BUF_SIZE];
	static const uint16_t sizes[] = { 0, 100, 512, 700, 1232, 4096, 65535 };

	static const struct wire_ede ede = { DNS_EDE_STALE, "upstream failed; this answer has expired" };
	size_t i;

	for (i = 0; i < 4 * sizeof(sizes) / sizeof(sizes[0]); i++) {
		int proto;

		for (proto = 0; proto < 2; proto++) {
			struct dns_qinfo q = *base;
			size_t limit = proto ? DNS_MSG_MAX : DNS_UDP_MIN, len;
			struct dns_view v;
			bool tc;

			q.edns = sizes[i % 7] != 0;
			q.udp_size = sizes[i % 7];
			/* DO off/on, EDE off/on */
			q.do_bit = q.edns && (i / 7) % 2;
			dns_data_view(d, !q.do_bit, &v);
			if (!proto && q.edns)
				limit = q.udp_size < 1232 ? (q.udp_size < 512 ? 512 : q.udp_size)
							  : 1232;
			len = wire_build_answer(out, &q, 1232, d->rcode, false, d, ttl,
						i / 14 ? &ede : NULL, limit, &tc);
			fuzz_check_answer(&q, proto ? DNS_PROTO_TCP : DNS_PROTO_UDP, 1232, MAX_TTL,
					  out, len, parses);
			FUZZ_CHECK(tc == !!(wire_get16(out + 2) & DNS_FLAG_TC));
			if (proto)
				FUZZ_CHECK(!tc && wire_get16(out + 6) == v.an &&
					   wire_get16(out + 8) == v.ns);
		}
	}
}

/* direct - layer 1: msg_from_reply() and what is built from its result */
static void direct(const uint8_t *r, size_t len, const struct dns_qinfo *q, const uint8_t *key,
		   bool parses)
{
	struct dns_data *d = NULL;
	struct dns_cache c;
	struct cache_entry *e;
	uint32_t ttl = 0, h = wire_hash_key(wire_hash_name(3, key, q->qnamelen), q->qtype);

	if (msg_from_reply(r, len, key, q->qnamelen, q->qtype, MAX_TTL, 1, &d, &ttl) != MSG_OK) {
		FUZZ_CHECK(!d);
		return;
	}
	check_data(d, key, q->qnamelen, ttl);
	check_build(d, q, ttl, parses);
	if (cache_init(&c, 2, 2 * SLAB_SIZE, 1000) == 0) {
		e = cache_put(&c, d, q->qtype, h, ttl, 0);
		if (e) {
			FUZZ_CHECK(dns_data_bytes(e->d) == dns_data_bytes(d));
			FUZZ_CHECK(!memcmp(e->d, d, dns_data_bytes(d)));
			FUZZ_CHECK(cache_get(&c, key, q->qnamelen, q->qtype, h, 0) == e);
		}
		FUZZ_CHECK(c.data_bytes <= 2 * SLAB_SIZE);
		cache_destroy(&c);
	}
	free(d);
}

static int guest(struct dns *d, struct fz *z, int i, int proto, uint16_t edns,
		 const struct dns_qinfo *base)
{
	uint8_t m[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	struct dns_client c = { .proto = proto, .ip = htonl(0xc0a87f02), .port = (uint16_t)(i + 1) };
	size_t len = wire_build_query(m, (uint16_t)(0x100 + i), base->qname, base->qnamelen,
				      base->qtype, edns, false);

	/* guests 1 and 3 set DO (the upstream form does), the others not */
	if (edns && !(i & 1))
		m[len - 11 + 7] = 0;

	z->proto[i] = proto;
	if (wire_parse_query(m, len, &z->q[i]) != 0)
		__builtin_trap();
	dns_query_in(d, &c, m, len);
	return 0;
}

static void drain(int fd)
{
	uint8_t b[512];

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

/* service - layer 2: the reply through a real service with waiting guests */
static void service(struct vg_loop *loop, uint16_t port, uint8_t flags, const uint8_t *r,
		    size_t len, const struct dns_qinfo *base, const uint8_t *key, bool parses)
{
	static uint8_t buf[DNS_MSG_MAX];
	struct dns_config cfg;
	struct dns_inflight *f;
	struct fz z;
	struct dns *d;
	uint32_t h;
	int i;

	memset(&z, 0, sizeof(z));
	z.parses = parses;
	dns_config_defaults(&cfg);
	cfg.cache_size = 8;
	cfg.cache_max_bytes = 16 * SLAB_SIZE;
	cfg.max_inflight = 4;
	cfg.max_waiters = 8;
	cfg.max_resolves = 2;
	cfg.addr_keep_max = 4;
	cfg.upstream_attempts = 1;
	cfg.local_zone[0] = 0;
	if (flags & 0x10)
		cfg.edns_udp_size = 512;
	z.our_size = cfg.edns_udp_size;
	cfg.upstreams[0].addr.family = AF_INET;
	memcpy(cfg.upstreams[0].addr.a, "\177\0\0\1", 4);
	cfg.upstreams[0].port = port;
	cfg.n_upstreams = 1;
	d = dns_new(loop, &cfg, on_answer, &z);
	if (!d)
		return;
	guest(d, &z, 0, (flags & 0x01) ? DNS_PROTO_TCP : DNS_PROTO_UDP,
	      (flags & 0x02) ? 512 : 0, base);
	guest(d, &z, 1, DNS_PROTO_TCP, (flags & 0x02) ? 4096 : 0, base);
	guest(d, &z, 2, DNS_PROTO_UDP, 0, base);
	h = wire_hash_key(wire_hash_name(d->seed, key, base->qnamelen), base->qtype);
	f = resolver_find(&d->res, key, base->qnamelen, base->qtype, h);
	FUZZ_CHECK(d->res.ninflight <= 1);
	if (f) {
		FUZZ_CHECK(f->nwait == 3);
		memcpy(buf, r, len);
		if (len >= 2 && !(flags & 0x08))
			wire_put16(buf, f->qid);
		if (len < DNS_HDR_LEN || resolver_udp_reply(f, buf, len) < 0)
			dns_finish(d, f, NULL, 0);
		/* a TC reply leaves a TCP try in flight: fail it */
		f = resolver_find(&d->res, key, base->qnamelen, base->qtype, h);
		if (f)
			dns_finish(d, f, NULL, 0);
	}
	for (i = 0; i < 3; i++)
		FUZZ_CHECK(z.answers[i] == 1);
	FUZZ_CHECK(d->res.ninflight == 0 && d->nwaiters == 0);
	/* a later query hits whatever was cached (or misses again) */
	guest(d, &z, 3, DNS_PROTO_UDP, 1232, base);
	f = resolver_find(&d->res, key, base->qnamelen, base->qtype, h);
	if (f)
		dns_finish(d, f, NULL, 0);
	FUZZ_CHECK(z.answers[3] == 1);
	{
		char text[DNS_NAME_TEXT_MAX];
		struct dns_addr a[4];

		if (wire_name_to_text(key, text, sizeof(text)) > 0)
			dns_lookup_addrs(d, text, 1000, a, 4);
	}
	dns_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_loop *loop;
	static int ufd = -1;
	static uint16_t port;
	uint8_t key[DNS_NAME_MAX], flags;
	struct dns_qinfo q;
	bool parses;
	int n;

	if (!loop) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		socklen_t al = sizeof(a);

		loop = vg_loop_new(64);
		/* a fixed virtual time: runs are reproducible */
		if (loop)
			vg_loop_set_clock(loop, VG_CLOCK_MANUAL, 1u << 30);
		ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (!loop || ufd < 0 || bind(ufd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    getsockname(ufd, (struct sockaddr *)&a, &al) < 0)
			__builtin_trap();
		port = ntohs(a.sin_port);
	}
	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	if (size > DNS_MSG_MAX)
		size = DNS_MSG_MAX; /* no DNS message is longer */
	/* the question: the reply's own when it is usable, else r.example A */
	memset(&q, 0, sizeof(q));
	n = size > DNS_HDR_LEN ? wire_check_name(data + DNS_HDR_LEN, size - DNS_HDR_LEN) : -1;
	if (n > 0 && DNS_HDR_LEN + (size_t)n + 4 <= size) {
		memcpy(q.qname, data + DNS_HDR_LEN, (size_t)n);
		q.qtype = wire_get16(data + DNS_HDR_LEN + n);
	} else {
		n = wire_name_from_text("r.example", q.qname);
		q.qtype = DNS_TYPE_A;
	}
	if (q.qtype == DNS_TYPE_AXFR || q.qtype == DNS_TYPE_IXFR || q.qtype == DNS_TYPE_OPT)
		q.qtype = DNS_TYPE_A;
	q.qnamelen = (uint8_t)n;
	q.qclass = DNS_CLASS_IN;
	q.id = 0x4242;
	q.flags = DNS_FLAG_RD;
	q.has_question = true;
	wire_name_lower(q.qname, q.qnamelen, key);
	if (flags & 0x04) {
		int i;

		for (i = 0; i < n; i++)
			if (q.qname[i] >= 'a' && q.qname[i] <= 'z')
				q.qname[i] = (uint8_t)(q.qname[i] - 32);
	}
	{
		ldns_pkt *p = NULL;

		parses = ldns_wire2pkt(&p, data, size) == LDNS_STATUS_OK;
		ldns_pkt_free(p);
	}
	direct(data, size, &q, key, parses);
	service(loop, port, flags, data, size, &q, key, parses);
	drain(ufd);
	return 0;
}
