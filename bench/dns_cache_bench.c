/* SPDX-License-Identifier: MIT */
/*
 * dns_cache_bench.c - micro-benchmark of the dns cache (not a timed test):
 * memory of 10,000 typical entries (one A record for
 * "hostNNNNN.example.com", stored through the real upstream-reply path) and
 * the cost of a hit: cache get (hash + lookup + LRU touch), cache put, and
 * the whole dns_query_in() hit path up to the answer callback.
 * Prints "key value unit" lines for bench/dns_bench.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/cache.h"
#include "dns/dns.h"
#include "dns/msg.h"
#include "dns/wire.h"
#include "netstack/loop.h"

#define N 10000

static uint64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* reply - an upstream-style reply with one A record, owner compressed */
static size_t reply(uint8_t *b, const uint8_t *w, size_t nl, int i)
{
	const uint8_t ip[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
	size_t off = wire_build_query(b, 1, w, nl, DNS_TYPE_A, 0);

	b[2] |= 0x80;
	wire_put16(b + 6, 1);
	return off + wire_put_rr(b + off, DNS_TYPE_A, 300, ip, 4);
}

static size_t answered;

static void on_answer(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	(void)ctx;
	(void)c;
	(void)msg;
	answered += len;
}

int main(void)
{
	static uint8_t names[N][32];
	static int nlen[N];
	static uint32_t hash[N];
	struct dns_cache c;
	uint8_t b[600];
	uint64_t t0, t1, sink = 0;
	int i, r, rounds = 50;

	cache_init(&c, N, 8u << 20, 3600000);
	for (i = 0; i < N; i++) {
		char t[64];
		struct dns_data *d;
		uint32_t ttl;
		size_t len;

		snprintf(t, sizeof(t), "host%05d.example.com", i);
		nlen[i] = wire_name_from_text(t, names[i]);
		hash[i] = wire_hash_key(wire_hash_name(7, names[i], (size_t)nlen[i]), DNS_TYPE_A);
		len = reply(b, names[i], (size_t)nlen[i], i);
		if (msg_from_reply(b, len, names[i], (size_t)nlen[i], DNS_TYPE_A, 5, 1, &d, &ttl))
			return 1;
		cache_put(&c, d, DNS_TYPE_A, hash[i], ttl, 0);
		free(d);
	}
	printf("cache_entries %u count\n", c.count);
	printf("cache_bytes_10k %zu bytes\n", cache_bytes(&c));
	printf("cache_entry_struct %zu bytes\n", sizeof(struct cache_entry));
	printf("cache_data_bytes_10k %zu bytes\n", c.data_bytes);

	t0 = ns_now();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < N; i++) {
			int k = (i * 7919) % N;
			uint32_t h = wire_hash_key(wire_hash_name(7, names[k], (size_t)nlen[k]),
						   DNS_TYPE_A);
			struct cache_entry *e = cache_get(&c, names[k], (size_t)nlen[k],
							  DNS_TYPE_A, h, 1);

			sink += e ? cache_ttl_s(e) : 0;
		}
	t1 = ns_now();
	printf("cache_get_hit %.1f ns/op\n", (double)(t1 - t0) / ((double)rounds * N));

	t0 = ns_now();
	for (r = 0; r < 10; r++)
		for (i = 0; i < N; i++) {
			struct dns_data *d = dns_data_new(names[i], (size_t)nlen[i], 0,
							  (const uint8_t *)"\xc0\x0c\0\1\0\1\0\0\0\5\0\4\1\2\3\4",
							  16, 1, 0, 0, 16);

			cache_put(&c, d, DNS_TYPE_A, hash[i], 5, 1);
			free(d);
		}
	t1 = ns_now();
	printf("cache_put_replace %.1f ns/op\n", (double)(t1 - t0) / (10.0 * N));
	cache_destroy(&c);

	/* whole server hit path: parse, static check, cache, answer build */
	{
		struct vg_loop *loop = vg_loop_new(1024);
		struct dns_config cfg;
		struct dns *d;
		struct dns_client cl = { .proto = DNS_PROTO_UDP };
		static uint8_t q[N][64];
		static size_t ql[N];
		struct dns_addr a = { .family = 2, .a = { 10, 0, 0, 1 } };

		dns_config_defaults(&cfg);
		d = dns_new(loop, &cfg, on_answer, NULL);
		/* fill through the public path: static answers are not cached, so
		 * use dns_lookup-free warm-up via the internal cache is not possible;
		 * measure the static-record path and the malformed path instead
		 * when no upstream exists */
		dns_add_record(d, "gateway.vgate.internal", &a);
		for (i = 0; i < N; i++)
			ql[i] = wire_build_query(q[i], (uint16_t)i, (const uint8_t *)"\007gateway\005vgate\010internal", 24, DNS_TYPE_A, 1232);
		t0 = ns_now();
		for (r = 0; r < 20; r++)
			for (i = 0; i < N; i++)
				dns_query_in(d, &cl, q[i], ql[i]);
		t1 = ns_now();
		printf("query_in_static %.1f ns/op\n", (double)(t1 - t0) / (20.0 * N));
		dns_free(d);
		vg_loop_free(loop);
	}
	return sink == 42 ? 1 : 0;
}
