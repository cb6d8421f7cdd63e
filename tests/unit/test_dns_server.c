/* SPDX-License-Identifier: MIT */
/*
 * test_dns_server.c - the whole dns service against a fake upstream that
 * lives in the test process on 127.0.0.1 (UDP and TCP, ephemeral port): hits
 * and misses, TTL cap and countdown, singleflight, negative caching,
 * spoofed-reply rejection, serve-stale and SERVFAIL, TC -> TCP, failover,
 * prefetch, malformed queries, static records, filter, the forwarder's
 * lookup API, DNSSEC transparency (DO/CD/AD), EDNS hygiene, Extended DNS
 * Errors and DNS64 (names starting "v4" have no AAAA: NODATA with an SOA;
 * a PTR name whose first label is "3" is NXDOMAIN, "4" NODATA, any other
 * gets PTR host.<the name less its first label>, compressed).
 * Nothing leaves the loopback interface.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/dns.h"
#include "dns/wire.h"
#include "netstack/loop.h"

enum { M_NORMAL, M_SILENT, M_SPOOF, M_TC, M_SERVFAIL };

struct answer {
	struct dns_client c;
	uint8_t *msg;
	size_t len;
	uint64_t at; /* virtual time of the answer */
};

static struct {
	struct vg_loop *loop;
	struct dns *d;
	struct dns_config cfg;
	int ufd, tfd, spoof_fd, tconn;
	uint16_t port;
	int mode;
	uint32_t ttl;
	int queries;	 /* UDP queries seen by the fake upstream */
	int tcp_queries; /* TCP queries */
	uint16_t up_flags; /* header flags of the last query upstream saw */
	int up_do;	   /* its DO bit (-1: no OPT) */
	int up_optlen;	   /* its OPT's option bytes */
	char up_name[DNS_NAME_TEXT_MAX]; /* the question name of the last query upstream saw */
	struct answer ans[1024];
	int nans;
} H;

static void on_answer(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	(void)ctx;
	if (H.nans >= 1024)
		return;
	H.ans[H.nans].c = *c;
	H.ans[H.nans].msg = malloc(len);
	memcpy(H.ans[H.nans].msg, msg, len);
	H.ans[H.nans].len = len;
	H.ans[H.nans].at = vg_loop_now(H.loop);
	H.nans++;
}

static void rr(uint8_t *b, size_t *off, uint16_t type, uint32_t ttl, const void *rd, uint16_t rdl)
{
	b[(*off)++] = 0xc0;
	b[(*off)++] = 12;
	wire_put16(b + *off, type);
	wire_put16(b + *off + 2, 1);
	wire_put32(b + *off + 4, ttl);
	wire_put16(b + *off + 8, rdl);
	memcpy(b + *off + 10, rd, rdl);
	*off += 10u + rdl;
}

/* fake_reply - build the fake upstream's reply to @q; returns length */
static size_t fake_reply(const uint8_t *q, size_t qlen, uint8_t *b, bool tcp)
{
	size_t off = DNS_HDR_LEN, nl;
	uint16_t type;
	char first[64];
	int n;

	nl = (size_t)wire_check_name(q + off, qlen - off);
	memcpy(b, q, off + nl + 4);
	type = wire_get16(q + off + nl);
	memcpy(first, q + off + 1, q[off]);
	first[q[off]] = 0;
	H.up_flags = wire_get16(q + 2);
	wire_name_to_text(q + off, H.up_name, sizeof(H.up_name));
	H.up_do = -1;
	H.up_optlen = 0;
	if (wire_get16(q + 10) == 1 && qlen >= off + nl + 4 + 11) {
		H.up_do = (q[off + nl + 4 + 7] & 0x80) != 0;
		H.up_optlen = wire_get16(q + off + nl + 4 + 9);
	}
	off += nl + 4;
	wire_put16(b + 2, DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA);
	wire_put16(b + 6, 0);
	wire_put16(b + 8, 0);
	wire_put16(b + 10, 0);
	if (H.mode == M_SERVFAIL) {
		b[3] |= DNS_RCODE_SERVFAIL;
		return off;
	}
	if (!strncmp(first, "sig", 3) || !strncmp(first, "nxsig", 5)) {
		/* a signed zone: RRSIGs (and NSEC when negative) only with DO; AD with DO */
		static const uint8_t soa[] = { 2, 'n', 's', 0, 1, 'h', 0, 0, 0, 0, 1,
					       0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 60 };
		static const uint8_t nsec[] = { 1, 'z', 4, 't', 'e', 's', 't', 0, 0, 1, 0x40 };
		uint8_t sig[18 + 6 + 8] = { 0, 1, 13, 2, 0, 0, 0, 60 };
		bool dnssec = H.up_do == 1;
		bool neg = first[0] == 'n';

		memcpy(sig + 18, "\004test\000", 6);
		if (dnssec && !(H.up_flags & DNS_FLAG_CD))
			b[3] |= DNS_FLAG_AD;
		if (neg) {
			b[3] |= DNS_RCODE_NXDOMAIN;
			rr(b, &off, DNS_TYPE_SOA, 300, soa, sizeof(soa));
			if (dnssec) {
				wire_put16(sig, DNS_TYPE_SOA);
				rr(b, &off, DNS_TYPE_RRSIG, 300, sig, sizeof(sig));
				rr(b, &off, DNS_TYPE_NSEC, 300, nsec, sizeof(nsec));
				wire_put16(sig, DNS_TYPE_NSEC);
				rr(b, &off, DNS_TYPE_RRSIG, 300, sig, sizeof(sig));
			}
			wire_put16(b + 8, dnssec ? 4 : 1);
			return off;
		}
		if (type == DNS_TYPE_A) {
			rr(b, &off, DNS_TYPE_A, H.ttl, "\012\1\1\1", 4);
			wire_put16(sig, DNS_TYPE_A);
			if (dnssec)
				rr(b, &off, DNS_TYPE_RRSIG, H.ttl, sig, sizeof(sig));
			wire_put16(b + 6, dnssec ? 2 : 1);
		} else if (type == DNS_TYPE_RRSIG) {
			wire_put16(sig, DNS_TYPE_A);
			rr(b, &off, DNS_TYPE_RRSIG, H.ttl, sig, sizeof(sig));
			wire_put16(b + 6, 1);
		}
		return off;
	}
	if (!strncmp(first, "nx", 2)) {
		/* NXDOMAIN with an SOA: negative TTL min(300, 60) */
		static const uint8_t soa[] = { 2, 'n', 's', 0, 1, 'h', 0, 0, 0, 0, 1,
					       0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 60 };

		b[3] |= DNS_RCODE_NXDOMAIN;
		rr(b, &off, DNS_TYPE_SOA, 300, soa, sizeof(soa));
		wire_put16(b + 8, 1);
		return off;
	}
	if (H.mode == M_TC && !tcp) {
		b[2] |= DNS_FLAG_TC >> 8;
		return off;
	}
	if (!strncmp(first, "v4", 2) && type == DNS_TYPE_AAAA) {
		/* an IPv4-only name: NODATA for AAAA with an SOA (minimum 60) */
		/* MNAME ns, RNAME h, serial 1, refresh, retry, expire 1, minimum 60 */
		static const uint8_t soa[27] = {
		    2, 'n', 's', 0, 1, 'h', 0, [10] = 1, [14] = 1, [18] = 1, [22] = 1, [26] = 60};

		rr(b, &off, DNS_TYPE_SOA, 300, soa, sizeof(soa));
		wire_put16(b + 8, 1);
		return off;
	}
	if (type == DNS_TYPE_PTR) {
		static const uint8_t soa[27] = {
		    2, 'n', 's', 0, 1, 'h', 0, [10] = 1, [14] = 1, [18] = 1, [22] = 1, [26] = 60};
		uint8_t target[7] = {4, 'h', 'o', 's', 't', 0xc0};

		if (!strcmp(first, "3") || !strcmp(first, "4")) {
			if (first[0] == '3')
				b[3] |= DNS_RCODE_NXDOMAIN;
			rr(b, &off, DNS_TYPE_SOA, 300, soa, sizeof(soa));
			wire_put16(b + 8, 1);
			return off;
		}
		/* host.<the qname less its first label>, a pointer into the question */
		target[6] = (uint8_t)(DNS_HDR_LEN + 1 + q[DNS_HDR_LEN]);
		rr(b, &off, DNS_TYPE_PTR, H.ttl, target, sizeof(target));
		wire_put16(b + 6, 1);
		return off;
	}
	if (!strncmp(first, "v4fail", 6) && type == DNS_TYPE_A) {
		b[3] |= DNS_RCODE_SERVFAIL; /* no AAAA, and the A query fails */
		return off;
	}
	if ((!strncmp(first, "cn", 2) || !strncmp(first, "v4cn", 4)) && type == DNS_TYPE_A) {
		static const uint8_t target[] = { 6, 't', 'a', 'r', 'g', 'e', 't', 4,
						  't', 'e', 's', 't', 0 };
		static const uint8_t a[4] = { 10, 9, 9, 9 };

		rr(b, &off, DNS_TYPE_CNAME, H.ttl, target, sizeof(target));
		/* owner "target.test" as a pointer into the CNAME rdata */
		b[off++] = 0xc0;
		b[off++] = (uint8_t)(DNS_HDR_LEN + nl + 4 + 12);
		wire_put16(b + off, DNS_TYPE_A);
		wire_put16(b + off + 2, 1);
		wire_put32(b + off + 4, H.ttl);
		wire_put16(b + off + 8, 4);
		memcpy(b + off + 10, a, 4);
		off += 14;
		wire_put16(b + 6, 2);
		return off;
	}
	if (type == DNS_TYPE_A) {
		int count = !strncmp(first, "big", 3) ? 100 : !strncmp(first, "v4two", 5) ? 2 : 1;

		for (n = 0; n < count; n++) {
			uint8_t a[4] = { 10, 0, (uint8_t)(n >> 8), (uint8_t)(n + 1) };

			rr(b, &off, DNS_TYPE_A, H.ttl, a, 4);
		}
		wire_put16(b + 6, (uint16_t)count);
	} else if (type == DNS_TYPE_AAAA) {
		uint8_t a[16] = { 0xfd, 0, [15] = 1 };

		rr(b, &off, DNS_TYPE_AAAA, H.ttl, a, 16);
		wire_put16(b + 6, 1);
	} /* other types: NODATA without SOA */
	return off;
}

/* service_upstream - answer what the fake upstream received; Return: packets handled */
static int service_upstream(void)
{
	uint8_t q[2048], b[8192];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	int c, done = 0;

	while ((n = recvfrom(H.ufd, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) >
	       0) {
		size_t len;

		H.queries++;
		done++;
		if (H.mode == M_SILENT)
			continue;
		len = fake_reply(q, (size_t)n, b, false);
		if (H.mode == M_SPOOF) {
			uint8_t s[8192];

			/* wrong port (another socket), wrong ID, wrong question */
			memcpy(s, b, len);
			s[len - 1] = 66;
			sendto(H.spoof_fd, s, len, 0, (struct sockaddr *)&from, fl);
			s[0] ^= 0x55;
			sendto(H.ufd, s, len, 0, (struct sockaddr *)&from, fl);
			memcpy(s, b, len);
			s[len - 1] = 66;
			s[DNS_HDR_LEN + 1] ^= 1; /* question name differs */
			sendto(H.ufd, s, len, 0, (struct sockaddr *)&from, fl);
		}
		sendto(H.ufd, b, len, 0, (struct sockaddr *)&from, fl);
	}
	if (H.tconn < 0) {
		H.tconn = accept4(H.tfd, NULL, NULL, SOCK_NONBLOCK);
		if (H.tconn >= 0)
			done++;
	}
	if (H.tconn >= 0) {
		uint8_t in[2048];
		size_t len;

		c = H.tconn;
		n = recv(c, in, sizeof(in), MSG_PEEK);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			close(c);
			H.tconn = -1;
			done++;
		} else if (n >= 2 && n >= 2 + wire_get16(in)) {
			done++;
			recv(c, in, (size_t)n, 0);
			H.tcp_queries++;
			len = fake_reply(in + 2, wire_get16(in), b + 2, true);
			wire_put16(b, (uint16_t)len);
			send(c, b, len + 2, 0);
			close(c);
			H.tconn = -1;
		}
	}
	return done;
}

/*
 * settle - exchange packets between dns and the fake upstream until both are
 * idle, without moving the (virtual) clock. Loopback delivers a datagram
 * before sendto() returns; a TCP handshake or segment may take a moment, so
 * idleness is confirmed by a few short real waits.
 */
static void settle(void)
{
	int idle = 0;

	while (idle < 3) {
		int n = vg_loop_run_once(H.loop, idle ? 1 : 0);

		n += service_upstream();
		idle = n > 0 ? 0 : idle + 1;
	}
}

/*
 * pump - run dns and the fake upstream until @want answers or @ms passed on
 * the loop's virtual clock: settle, then jump to the next timer (or the end).
 */
static void pump(int want, int ms)
{
	uint64_t end = vg_loop_now(H.loop) + (uint64_t)ms;

	settle();
	while (vg_loop_now(H.loop) < end && (want < 0 || H.nans < want)) {
		uint64_t next = end;

		if (vg_loop_next_timer(H.loop, &next) < 0 || next > end)
			next = end;
		if (next < vg_loop_now(H.loop))
			next = vg_loop_now(H.loop);
		cr_assert_geq(vg_loop_advance(H.loop, next - vg_loop_now(H.loop)), 0);
		settle();
	}
}

static int udp_socket(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (port && *port)
		a.sin_port = htons(*port);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	if (port)
		*port = ntohs(a.sin_port);
	return fd;
}

static void setup_cfg(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	char up[64];

	int tries;

	memset(&H, 0, sizeof(H));
	H.tconn = -1;
	/*
	 * UDP and TCP on the same ephemeral port: the TCP port may be taken
	 * by someone else's connection (tests run in parallel), so retry.
	 */
	for (tries = 0; tries < 100; tries++) {
		H.port = 0;
		H.ufd = udp_socket(&H.port);
		H.tfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		a.sin_port = htons(H.port);
		setsockopt(H.tfd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
		if (bind(H.tfd, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		close(H.tfd);
		close(H.ufd);
	}
	cr_assert_lt(tries, 100, "no port free for both UDP and TCP");
	listen(H.tfd, 16);
	H.spoof_fd = udp_socket(NULL);
	H.ttl = 300;
	dns_config_defaults(&H.cfg);
	snprintf(up, sizeof(up), "127.0.0.1:%u", H.port);
	cr_assert_eq(dns_config_add_upstream(&H.cfg, up), 0);
	H.cfg.upstream_timeout_ms = 200;
	H.cfg.upstream_attempts = 1;
	H.cfg.client_timeout_ms = 300;
}

static void start(void)
{
	H.loop = vg_loop_new(dns_timers_needed(&H.cfg) + 8);
	cr_assert_not_null(H.loop);
	/* virtual time: TTLs, fail TTL, timeouts move only when pump() says so */
	cr_assert_eq(vg_loop_set_clock(H.loop, VG_CLOCK_MANUAL, 1000000), 0);
	H.d = dns_new(H.loop, &H.cfg, on_answer, NULL);
	cr_assert_not_null(H.d);
}

static void setup(void)
{
	setup_cfg();
	start();
}

static void teardown(void)
{
	int i;

	dns_free(H.d);
	vg_loop_free(H.loop);
	close(H.ufd);
	close(H.tfd);
	close(H.spoof_fd);
	if (H.tconn >= 0)
		close(H.tconn);
	for (i = 0; i < H.nans; i++)
		free(H.ans[i].msg);
}

static size_t build_q(uint8_t *b, uint16_t id, const char *name, uint16_t type, int edns)
{
	uint8_t w[DNS_NAME_MAX];
	int n = wire_name_from_text(name, w);
	size_t len;

	cr_assert_gt(n, 0);
	len = wire_build_query(b, id, w, (size_t)n, type, (uint16_t)edns, false);
	if (edns)
		b[len - 11 + 7] = 0; /* an upstream query sets DO; a plain guest does not */
	/* keep the caller's case in the question */
	{
		size_t o = DNS_HDR_LEN, i = 0;

		while (b[o]) {
			uint8_t l = b[o++];

			for (; l; l--, o++, i++) {
				const char *p = name + i;

				b[o] = (uint8_t)*p;
			}
			i++;
		}
	}
	return len;
}

#define Q_DO 0x10000
#define Q_CD 0x20000
#define Q_AD 0x40000

/*
 * query_x - a guest query with EDNS size @edns (0: none), Q_DO / Q_CD / Q_AD
 * in @bits, and @olen bytes of raw EDNS options @opts
 */
static void query_x(uint16_t id, const char *name, uint16_t type, int edns, int bits,
		    const uint8_t *opts, size_t olen)
{
	uint8_t b[600];
	struct dns_client c = { .proto = DNS_PROTO_UDP, .ip = htonl(0xc0a87f02), .port = id };
	size_t n = build_q(b, id, name, type, edns);

	if (bits & Q_CD)
		b[3] |= DNS_FLAG_CD;
	if (bits & Q_AD)
		b[3] |= DNS_FLAG_AD;
	if (edns) {
		if (bits & Q_DO)
			b[n - 11 + 7] = 0x80;
		if (olen)
			memcpy(b + n, opts, olen);
		wire_put16(b + n - 2, (uint16_t)olen);
		n += olen;
	}
	dns_query_in(H.d, &c, b, n);
}

static void query(uint16_t id, const char *name, uint16_t type, int proto, int edns)
{
	uint8_t b[600];
	struct dns_client c = { .proto = proto, .ip = htonl(0xc0a87f02), .port = id };
	size_t n = build_q(b, id, name, type, edns);

	dns_query_in(H.d, &c, b, n);
}

static int rcode(const struct answer *a)
{
	return a->msg[3] & 0xf;
}

static int ancount(const struct answer *a)
{
	return wire_get16(a->msg + 6);
}

/* first_rr - offset of the first answer record's type field */
static size_t first_rr(const struct answer *a)
{
	size_t off = DNS_HDR_LEN + (size_t)wire_check_name(a->msg + DNS_HDR_LEN,
							    a->len - DNS_HDR_LEN) + 4;

	cr_assert_eq(a->msg[off] & 0xc0, 0xc0);
	return off + 2;
}

/* count_type - records of @type in the answer (an + ns + ar) */
static int count_type(const struct answer *a, uint16_t type)
{
	size_t off = DNS_HDR_LEN + (size_t)wire_check_name(a->msg + DNS_HDR_LEN,
							    a->len - DNS_HDR_LEN) + 4;
	unsigned int i, n = (unsigned int)wire_get16(a->msg + 6) + wire_get16(a->msg + 8) +
			    wire_get16(a->msg + 10);
	int cnt = 0;

	for (i = 0; i < n; i++) {
		size_t end;

		cr_assert_eq(wire_skip_rrs(a->msg, a->len, off, 1, &end), 0);
		while (a->msg[off] && (a->msg[off] & 0xc0) != 0xc0)
			off += 1u + a->msg[off];
		off += (a->msg[off] & 0xc0) ? 2 : 1;
		if (wire_get16(a->msg + off) == type)
			cnt++;
		off = end;
	}
	return cnt;
}

/* opt_rdata - offset of the OPT record's RDATA (the last record); *@len its length */
static size_t opt_rdata(const struct answer *a, size_t *len)
{
	size_t off = DNS_HDR_LEN + (size_t)wire_check_name(a->msg + DNS_HDR_LEN,
							    a->len - DNS_HDR_LEN) + 4;
	unsigned int n = (unsigned int)wire_get16(a->msg + 6) + wire_get16(a->msg + 8) +
			 wire_get16(a->msg + 10);

	cr_assert_gt(n, 0);
	cr_assert_eq(wire_skip_rrs(a->msg, a->len, off, n - 1, &off), 0);
	cr_assert_eq(a->msg[off], 0);
	cr_assert_eq(wire_get16(a->msg + off + 1), DNS_TYPE_OPT);
	*len = wire_get16(a->msg + off + 9);
	return off + 11;
}

/* ede_code - the EDE INFO-CODE of an answer, -1 when it has none (or no OPT) */
static int ede_code(const struct answer *a)
{
	size_t len, off;

	if (!wire_get16(a->msg + 10))
		return -1;
	off = opt_rdata(a, &len);
	if (!len)
		return -1;
	cr_assert_geq(len, 6);
	cr_assert_eq(wire_get16(a->msg + off), DNS_OPT_EDE);
	return wire_get16(a->msg + off + 4);
}

static bool ad(const struct answer *a)
{
	return (a->msg[3] & DNS_FLAG_AD) != 0;
}

static uint32_t ttl0(const struct answer *a)
{
	return wire_get32(a->msg + first_rr(a) + 4);
}

static struct dns_stats stats(void)
{
	struct dns_stats s;

	dns_get_stats(H.d, &s);
	return s;
}

TestSuite(server, .init = setup, .fini = teardown, .timeout = 30);

Test(server, miss_then_hit_ttl_capped)
{
	query(1, "a.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 0, "a miss is answered later");
	pump(1, 2000);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(wire_get16(H.ans[0].msg), 1);
	cr_assert_eq(rcode(&H.ans[0]), 0);
	cr_assert_eq(ancount(&H.ans[0]), 1);
	cr_assert_eq(ttl0(&H.ans[0]), 5, "TTL capped at 5");
	query(2, "A.TEST", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2, "hit answered synchronously");
	cr_assert_eq(memcmp(H.ans[1].msg + 13, "A", 1), 0, "guest case echoed");
	cr_assert_eq(H.queries, 1);
	cr_assert_eq(stats().hits, 1);
	cr_assert_eq(stats().misses, 1);
	cr_assert_eq(stats().entries, 1);
}

Test(server, ttl_counts_down)
{
	query(1, "b.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	pump(-1, 1300);
	query(2, "b.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2);
	cr_assert_eq(ttl0(&H.ans[1]), 4);
	cr_assert_eq(H.queries, 1);
}

Test(server, upstream_ttl_below_cap)
{
	H.ttl = 2;
	query(1, "c.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(ttl0(&H.ans[0]), 2);
}

Test(server, singleflight)
{
	int i;

	for (i = 0; i < 200; i++)
		query((uint16_t)(100 + i), "sf.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(stats().waiters, 200);
	cr_assert_eq(stats().inflight, 1);
	pump(200, 3000);
	cr_assert_eq(H.nans, 200);
	cr_assert_eq(H.queries, 1, "one upstream query for 200 misses");
	for (i = 0; i < 200; i++) {
		cr_assert_eq(wire_get16(H.ans[i].msg), 100 + i);
		cr_assert_eq(H.ans[i].c.port, 100 + i);
		cr_assert_eq(ancount(&H.ans[i]), 1);
	}
	cr_assert_eq(stats().waiters, 0);
	cr_assert_eq(stats().inflight, 0);
}

Test(server, waiters_per_key_bounded)
{
	int i;

	teardown();
	setup_cfg();
	H.cfg.max_waiters_per_key = 10;
	start();
	for (i = 0; i < 12; i++)
		query((uint16_t)i, "wb.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2, "overflow gets SERVFAIL at once");
	cr_assert_eq(rcode(&H.ans[0]), DNS_RCODE_SERVFAIL);
	cr_assert_eq(stats().dropped, 2);
	pump(12, 2000);
	cr_assert_eq(H.nans, 12);
	cr_assert_eq(H.queries, 1);
}

Test(server, negative_caching)
{
	query(1, "nx.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(rcode(&H.ans[0]), DNS_RCODE_NXDOMAIN);
	cr_assert_eq(wire_get16(H.ans[0].msg + 8), 1, "SOA in authority");
	query(2, "nx.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2);
	cr_assert_eq(rcode(&H.ans[1]), DNS_RCODE_NXDOMAIN);
	cr_assert_eq(H.queries, 1, "NXDOMAIN cached");
	/* NODATA (MX of a name with only A) */
	query(3, "d.test", DNS_TYPE_MX, DNS_PROTO_UDP, 0);
	pump(3, 2000);
	cr_assert_eq(rcode(&H.ans[2]), 0);
	cr_assert_eq(ancount(&H.ans[2]), 0);
	query(4, "d.test", DNS_TYPE_MX, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 4);
	cr_assert_eq(H.queries, 2);
}

Test(server, spoofed_replies_dropped)
{
	H.mode = M_SPOOF;
	query(1, "sp.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(ancount(&H.ans[0]), 1);
	/* the genuine address is 10.0.0.1; spoofed ones end in 66 */
	cr_assert_eq(H.ans[0].msg[H.ans[0].len - 1], 1);
	pump(-1, 100);
	cr_assert_geq(stats().spoofed, 2, "wrong port and wrong ID counted");
	query(2, "sp.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.ans[1].msg[H.ans[1].len - 1], 1, "cache holds the genuine answer");
}

Test(server, servfail_uncached_and_cached_1s)
{
	uint64_t t0 = vg_loop_now(H.loop);

	H.mode = M_SILENT;
	query(1, "dead.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 3000);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(H.ans[0].at - t0, 200, "SERVFAIL at the upstream timeout");
	cr_assert_eq(rcode(&H.ans[0]), DNS_RCODE_SERVFAIL);
	cr_assert_eq(stats().upstream_failures, 1);
	cr_assert_eq(stats().upstream_timeouts, 1);
	/* cached for fail_ttl: no new upstream query */
	query(2, "dead.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2);
	cr_assert_eq(rcode(&H.ans[1]), DNS_RCODE_SERVFAIL);
	cr_assert_eq(H.queries, 1);
	/* upstream SERVFAIL replies are failures too */
	H.mode = M_SERVFAIL;
	pump(-1, 1100);
	query(3, "dead.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(3, 2000);
	cr_assert_eq(rcode(&H.ans[2]), DNS_RCODE_SERVFAIL);
	cr_assert_eq(stats().upstream_bad, 1);
	H.mode = M_NORMAL;
	pump(-1, 1100);
	query(4, "dead.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(4, 2000);
	cr_assert_eq(rcode(&H.ans[3]), 0, "fresh again when upstream is back");
}

Test(server, serve_stale)
{
	teardown();
	setup_cfg();
	H.cfg.max_ttl_s = 1;
	start();
	query(1, "st.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(ttl0(&H.ans[0]), 1);
	pump(-1, 1100); /* expired */
	H.mode = M_SILENT;
	query(2, "st.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 1, "expired entry is a miss first");
	pump(2, 2000);
	cr_assert_eq(H.nans, 2);
	cr_assert_eq(rcode(&H.ans[1]), 0);
	cr_assert_eq(ttl0(&H.ans[1]), 1, "stale answer with TTL = the cap");
	cr_assert_geq(stats().stale_serves, 1);
	/* now in stale mode: immediate answers */
	pump(-1, 300);
	query(3, "st.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 3);
	cr_assert_eq(rcode(&H.ans[2]), 0);
	/* upstream back: the background refresh makes it fresh again */
	H.mode = M_NORMAL;
	pump(-1, 1200);
	query(4, "st.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(-1, 300);
	query(5, "st.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 5);
	cr_assert_geq(stats().hits, 1);
	{
		struct dns_stats s = stats();

		cr_assert_geq(s.hits, 1, "hits %lu stale %lu", (unsigned long)s.hits,
			      (unsigned long)s.stale_serves);
	}
}

Test(server, client_timeout_serves_stale_while_resolving)
{
	uint64_t t0;

	teardown();
	setup_cfg();
	H.cfg.max_ttl_s = 1;
	H.cfg.upstream_timeout_ms = 1000;
	H.cfg.upstream_attempts = 2;
	start();
	query(1, "ct.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	pump(-1, 1100);
	H.mode = M_SILENT;
	t0 = vg_loop_now(H.loop);
	query(2, "ct.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(2, 700);
	cr_assert_eq(H.nans, 2, "answered at the client timeout (300 ms), not after 2 s");
	cr_assert_eq(H.ans[1].at - t0, 300);
	cr_assert_eq(rcode(&H.ans[1]), 0);
	cr_assert_eq(stats().inflight, 1, "still resolving in the background");
	query(3, "ct.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 3, "joins the late query: stale at once");
}

Test(server, tc_then_tcp)
{
	H.mode = M_TC;
	query(1, "big.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 3000);
	cr_assert_eq(H.tcp_queries, 1, "TC from upstream retried over TCP");
	cr_assert_eq(H.nans, 1);
	cr_assert(H.ans[0].msg[2] & (DNS_FLAG_TC >> 8), "UDP guest without EDNS gets TC");
	cr_assert_leq(H.ans[0].len, 512);
	cr_assert_eq(stats().truncated, 1);
	query(2, "big.test", DNS_TYPE_A, DNS_PROTO_UDP, 4096);
	cr_assert(H.ans[1].msg[2] & (DNS_FLAG_TC >> 8), "1600 bytes > 1232");
	cr_assert_leq(H.ans[1].len, 1232);
	query(3, "big.test", DNS_TYPE_A, DNS_PROTO_TCP, 0);
	cr_assert_eq(H.nans, 3);
	cr_assert_not(H.ans[2].msg[2] & (DNS_FLAG_TC >> 8));
	cr_assert_eq(ancount(&H.ans[2]), 100, "TCP client gets the full answer");
	cr_assert_eq(H.queries, 1);
}

Test(server, failover_to_second_server)
{
	char up[64];
	uint16_t dead = 0;
	int fd;

	teardown();
	setup_cfg();
	fd = udp_socket(&dead);
	close(fd); /* nothing listens there: ICMP port unreachable */
	H.cfg.n_upstreams = 0;
	snprintf(up, sizeof(up), "127.0.0.1:%u", dead);
	dns_config_add_upstream(&H.cfg, up);
	snprintf(up, sizeof(up), "127.0.0.1:%u", H.port);
	dns_config_add_upstream(&H.cfg, up);
	start();
	query(1, "fo.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 3000);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(rcode(&H.ans[0]), 0);
	cr_assert_eq(H.queries, 1);
	/* the working server is preferred from now on */
	query(2, "fo2.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(2, 3000);
	cr_assert_eq(rcode(&H.ans[1]), 0);
	cr_assert_eq(stats().upstream_queries, 3);
}

Test(server, prefetch)
{
	teardown();
	setup_cfg();
	H.cfg.max_ttl_s = 2;
	start();
	query(1, "pf.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	pump(-1, 600);
	query(2, "pf.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2);
	cr_assert_eq(stats().prefetches, 0, "not before half the TTL");
	pump(-1, 600);
	query(3, "pf.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 3, "hit answered at once");
	cr_assert_eq(stats().prefetches, 1);
	pump(-1, 200);
	cr_assert_eq(H.queries, 2);
	query(4, "pf.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 4);
	cr_assert_eq(ttl0(&H.ans[3]), 2, "refreshed entry");
}

/* advance - move the virtual clock by exactly @ms, serving the fake upstream */
static void advance(int ms)
{
	pump(-1, ms);
}

Test(server, ttl_fail_ttl_and_prefetch_to_the_millisecond)
{
	uint64_t t0;

	teardown();
	setup_cfg();
	H.cfg.max_ttl_s = 2;
	start();
	query(1, "ms.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	t0 = vg_loop_now(H.loop);
	cr_assert_eq(H.ans[0].at, t0, "the reply took no virtual time");
	advance(1000);
	query(2, "ms.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2);
	cr_assert_eq(stats().prefetches, 0, "exactly half the TTL left: no prefetch yet");
	advance(1);
	query(3, "ms.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(stats().prefetches, 1, "past half the TTL: prefetch");
	pump(-1, 0);
	cr_assert_eq(H.queries, 2);
	/* the refreshed entry expires 2000 ms after the refresh, not before */
	advance(1999);
	H.mode = M_SILENT; /* the prefetch this hit starts will fail */
	query(4, "ms.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 4, "still fresh 1 ms before expiry");
	cr_assert_eq(ttl0(&H.ans[3]), 1);
	cr_assert_eq(stats().prefetches, 2);
	advance(1);
	query(5, "ms.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 4, "expired at the millisecond: a miss");
	cr_assert_eq(stats().misses, 2);
	/* the refresh fails at its timeout (200 ms after it started): stale answer */
	pump(5, 2000);
	cr_assert_eq(H.nans, 5);
	cr_assert_eq(H.ans[4].at - t0, 1001 + 1999 + 200);
	cr_assert_eq(ttl0(&H.ans[4]), 2, "stale answers carry the TTL cap");
	query(6, "fail.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(6, 2000);
	cr_assert_eq(rcode(&H.ans[5]), DNS_RCODE_SERVFAIL);
	t0 = vg_loop_now(H.loop);
	advance(999);
	query(7, "fail.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 7, "SERVFAIL cached for the fail TTL");
	cr_assert_eq(rcode(&H.ans[6]), DNS_RCODE_SERVFAIL);
	advance(1);
	H.mode = M_NORMAL;
	query(8, "fail.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 7, "fail TTL over: asks upstream again");
	pump(8, 2000);
	cr_assert_eq(rcode(&H.ans[7]), 0);
	cr_assert_eq(vg_loop_now(H.loop) - t0, 1000);
}

Test(server, malformed)
{
	uint8_t b[600];
	struct dns_client c = { .proto = DNS_PROTO_UDP };
	size_t n;

	dns_query_in(H.d, &c, (const uint8_t *)"\x12\x34\x01", 3);
	cr_assert_eq(H.nans, 0, "short packets are dropped");
	n = build_q(b, 7, "m.test", DNS_TYPE_A, 0);
	wire_put16(b + 4, 2);
	dns_query_in(H.d, &c, b, n);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(rcode(&H.ans[0]), DNS_RCODE_FORMERR);
	cr_assert_eq(wire_get16(H.ans[0].msg), 7);
	wire_put16(b + 4, 1);
	b[DNS_HDR_LEN] = 0xc0; /* pointer in the question */
	dns_query_in(H.d, &c, b, n);
	cr_assert_eq(rcode(&H.ans[1]), DNS_RCODE_FORMERR);
	n = build_q(b, 8, "m.test", DNS_TYPE_A, 0);
	b[2] = 2 << 3; /* opcode STATUS */
	dns_query_in(H.d, &c, b, n);
	cr_assert_eq(rcode(&H.ans[2]), DNS_RCODE_NOTIMP);
	n = build_q(b, 9, "m.test", DNS_TYPE_AXFR, 0);
	dns_query_in(H.d, &c, b, n);
	cr_assert_eq(rcode(&H.ans[3]), DNS_RCODE_NOTIMP);
	cr_assert_eq(stats().malformed, 3);
	cr_assert_eq(H.queries, 0);
	/* random garbage never crashes */
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand() % 80);

		for (size_t k = 0; k < len; k++)
			b[k] = (uint8_t)rand();
		if (len > 5 && (i & 1))
			b[4] = 0, b[5] = 1, b[2] &= 0x7f;
		dns_query_in(H.d, &c, b, len);
	}
}

static bool deny_evil(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "evil.test") != 0;
}

Test(server, static_records_ptr_filter)
{
	struct dns_addr gw = { .family = AF_INET, .a = { 192, 168, 127, 1 } };
	struct dns_addr v6 = { .family = AF_INET6, .a = { 0xfd, [15] = 1 } };

	cr_assert_eq(dns_add_record(H.d, "gateway.vgate.internal", &gw), 0);
	cr_assert_eq(dns_add_record(H.d, "gateway.vgate.internal", &gw), -EEXIST);
	cr_assert_eq(dns_add_record(H.d, "Gateway.vgate.internal.", &v6), 0);
	query(1, "GATEWAY.vgate.internal", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(ancount(&H.ans[0]), 1);
	cr_assert(H.ans[0].msg[2] & (DNS_FLAG_AA >> 8));
	cr_assert_eq(memcmp(H.ans[0].msg + H.ans[0].len - 4, gw.a, 4), 0);
	query(2, "gateway.vgate.internal", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	cr_assert_eq(ancount(&H.ans[1]), 1);
	query(3, "1.127.168.192.in-addr.arpa", DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	cr_assert_eq(ancount(&H.ans[2]), 1);
	cr_assert_eq(wire_get16(H.ans[2].msg + first_rr(&H.ans[2])), DNS_TYPE_PTR);
	query(4, "gateway.vgate.internal", DNS_TYPE_MX, DNS_PROTO_UDP, 0);
	cr_assert_eq(rcode(&H.ans[3]), 0);
	cr_assert_eq(ancount(&H.ans[3]), 0, "NODATA");
	query(5, "nothere.vgate.internal", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(rcode(&H.ans[4]), DNS_RCODE_NXDOMAIN, "local zone");
	cr_assert_eq(H.queries, 0);
	cr_assert_eq(dns_remove_record(H.d, "gateway.vgate.internal", &v6), 1);
	query(6, "gateway.vgate.internal", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	cr_assert_eq(ancount(&H.ans[5]), 0);
	dns_set_filter(H.d, deny_evil, NULL);
	query(7, "EVIL.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(rcode(&H.ans[6]), DNS_RCODE_NXDOMAIN);
	query(8, "gateway.vgate.internal", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	cr_assert_eq(ancount(&H.ans[7]), 1, "static names always allowed");
	cr_assert_eq(stats().filtered, 1);
	cr_assert_eq(H.queries, 0);
}

Test(server, edns_and_badvers)
{
	uint8_t b[600];
	struct dns_client c = { .proto = DNS_PROTO_UDP };
	size_t n = build_q(b, 5, "e.test", DNS_TYPE_A, 1232);

	b[n - 11 + 6] = 1;
	dns_query_in(H.d, &c, b, n);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(rcode(&H.ans[0]), 0);
	cr_assert_eq(wire_get16(H.ans[0].msg + 10), 1, "OPT present");
	cr_assert_eq(H.ans[0].msg[H.ans[0].len - 11 + 5], 1, "BADVERS");
}

static int resolved_status = 99, resolved_n;
static struct dns_addr resolved[8];

static void on_resolved(void *arg, int status, const struct dns_addr *a, int n)
{
	(void)arg;
	resolved_status = status;
	resolved_n = n;
	memcpy(resolved, a, sizeof(*a) * (size_t)(n < 8 ? n : 8));
}

Test(server, lookup_addrs_and_resolve)
{
	struct dns_addr out[8];
	uint64_t h;

	/* CNAME chain: cn.test -> target.test -> 10.9.9.9 */
	query(1, "cn.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(ancount(&H.ans[0]), 2);
	cr_assert_eq(dns_lookup_addrs(H.d, "CN.test.", 0, out, 8), 1);
	cr_assert_eq(out[0].family, AF_INET);
	cr_assert_eq(memcmp(out[0].a, "\x0a\x09\x09\x09", 4), 0);
	cr_assert_eq(dns_lookup_addrs(H.d, "other.test", 0, out, 8), 0);
	/* async resolve: A and AAAA through the singleflight */
	resolved_status = 99;
	h = dns_resolve(H.d, "r.test", on_resolved, NULL);
	cr_assert_neq(h, 0);
	query(2, "r.test", DNS_TYPE_A, DNS_PROTO_UDP, 0); /* joins the same query */
	pump(-1, 500);
	cr_assert_eq(resolved_status, 0);
	cr_assert_eq(resolved_n, 2);
	cr_assert_eq(H.queries, 3, "cn A, r A, r AAAA");
	cr_assert_eq(dns_lookup_addrs(H.d, "r.test", 0, out, 8), 2);
	/* cached: synchronous */
	resolved_status = 99;
	cr_assert_eq(dns_resolve(H.d, "r.test", on_resolved, NULL), 0);
	cr_assert_eq(resolved_status, 0);
	/* cancel */
	resolved_status = 99;
	h = dns_resolve(H.d, "c2.test", on_resolved, NULL);
	cr_assert_neq(h, 0);
	dns_resolve_cancel(H.d, h);
	pump(-1, 300);
	cr_assert_eq(resolved_status, 99);
	/* NXDOMAIN */
	h = dns_resolve(H.d, "nx2.test", on_resolved, NULL);
	pump(-1, 300);
	cr_assert_eq(resolved_status, -ENOENT);
}

Test(server, lookup_addrs_grace_after_expiry_and_replacement)
{
	struct dns_addr out[8];

	teardown();
	setup_cfg();
	H.cfg.max_ttl_s = 1;
	start();
	query(1, "g.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	pump(-1, 1200);
	cr_assert_eq(dns_lookup_addrs(H.d, "g.test", 0, out, 8), 0, "expired");
	cr_assert_eq(dns_lookup_addrs(H.d, "g.test", 5000, out, 8), 1, "within grace");
	/* refresh replaces the entry; the old answer is kept for the grace */
	dns_cache_flush(H.d);
	cr_assert_eq(dns_lookup_addrs(H.d, "g.test", 5000, out, 8), 0, "flush drops all");
	query(2, "g.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(2, 2000);
	pump(-1, 1100);
	query(3, "g.test", DNS_TYPE_A, DNS_PROTO_UDP, 0); /* miss: replaces */
	pump(3, 2000);
	cr_assert_eq(dns_lookup_addrs(H.d, "g.test", 5000, out, 8), 1, "deduplicated");
}

/*
 * Issue 14 item 5: the AAAA addresses the cache handed out to the guest are
 * what the SNI filter's dns_lookup_addrs() sees (as AF_INET6, beside the A
 * of the same name, and within the grace after expiry); the name filter
 * answers AAAA for a name off the list with NXDOMAIN as it does A, and asks
 * no upstream.
 */
Test(server, lookup_addrs_aaaa_and_filtered_aaaa)
{
	static const uint8_t want6[16] = {0xfd, 0, [15] = 1};
	struct dns_addr out[8];
	int n, i, v4 = 0, v6 = 0;

	teardown();
	setup_cfg();
	H.cfg.max_ttl_s = 1;
	start();
	query(1, "six.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(ancount(&H.ans[0]), 1);
	cr_assert_eq(dns_lookup_addrs(H.d, "SIX.test.", 0, out, 8), 1, "the AAAA only");
	cr_assert_eq(out[0].family, AF_INET6);
	cr_assert_eq(memcmp(out[0].a, want6, 16), 0);
	query(2, "six.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(2, 2000);
	n = dns_lookup_addrs(H.d, "six.test", 0, out, 8);
	cr_assert_eq(n, 2, "A and AAAA");
	for (i = 0; i < n; i++) {
		v4 += out[i].family == AF_INET;
		v6 += out[i].family == AF_INET6 && !memcmp(out[i].a, want6, 16);
	}
	cr_assert(v4 == 1 && v6 == 1);
	pump(-1, 1200);
	cr_assert_eq(dns_lookup_addrs(H.d, "six.test", 0, out, 8), 0, "expired");
	cr_assert_eq(dns_lookup_addrs(H.d, "six.test", 5000, out, 8), 2, "within grace");

	dns_set_filter(H.d, deny_evil, NULL);
	n = H.queries;
	query(3, "evil.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	cr_assert_eq(rcode(&H.ans[2]), DNS_RCODE_NXDOMAIN);
	cr_assert_eq(H.queries, n, "no upstream query for a filtered name");
	cr_assert_eq(stats().filtered, 1);
}

static int dumped;

static void on_item(void *ctx, const struct dns_cache_item *it)
{
	(void)ctx;
	if (!strcmp(it->name, "dump.test") && it->type == DNS_TYPE_A && it->ttl_s == 5)
		dumped++;
}

Test(server, dump_and_stats_bytes)
{
	query(1, "dump.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	dns_cache_foreach(H.d, on_item, NULL);
	cr_assert_eq(dumped, 1);
	cr_assert_gt(stats().bytes, 0);
	dns_cache_flush(H.d);
	cr_assert_eq(stats().entries, 0);
}

Test(config, parsers)
{
	struct dns_upstream u;
	struct dns_record r;
	struct dns_config cfg;
	char path[] = "/tmp/vgate-resolv-XXXXXX";
	int fd;

	cr_assert_eq(dns_parse_upstream("127.0.0.5", &u), 0);
	cr_assert_eq(u.port, 53);
	cr_assert_eq(u.addr.family, AF_INET);
	cr_assert_eq(dns_parse_upstream("127.0.0.5:5353", &u), 0);
	cr_assert_eq(u.port, 5353);
	cr_assert_eq(dns_parse_upstream("::1", &u), 0);
	cr_assert_eq(u.addr.family, AF_INET6);
	cr_assert_eq(u.port, 53);
	cr_assert_eq(dns_parse_upstream("[::1]:5300", &u), 0);
	cr_assert_eq(u.port, 5300);
	cr_assert_eq(dns_parse_upstream("[fe80::1%1]:53", &u), 0);
	cr_assert_eq(u.scope_id, 1);
	cr_assert_lt(dns_parse_upstream("1.2.3.4:0", &u), 0);
	cr_assert_lt(dns_parse_upstream("1.2.3.4:70000", &u), 0);
	cr_assert_lt(dns_parse_upstream("example.com", &u), 0);
	cr_assert_lt(dns_parse_upstream("[::1", &u), 0);
	cr_assert_eq(dns_parse_record("host.vgate.internal=10.0.2.2", &r), 0);
	cr_assert_str_eq(r.name, "host.vgate.internal");
	cr_assert_eq(r.addr.family, AF_INET);
	cr_assert_eq(dns_parse_record("v6.test=fd00::1", &r), 0);
	cr_assert_eq(r.addr.family, AF_INET6);
	cr_assert_lt(dns_parse_record("=1.2.3.4", &r), 0);
	cr_assert_lt(dns_parse_record("x.test=nope", &r), 0);
	cr_assert_lt(dns_parse_record("x..test=1.2.3.4", &r), 0);
	dns_config_defaults(&cfg);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	dprintf(fd, "# comment\nsearch example\nnameserver 127.0.0.53\nnameserver ::1\n"
		    "nameserver bogus\noptions edns0 timeout:3 attempts:4\n");
	close(fd);
	cr_assert_eq(dns_config_load_resolv_conf(&cfg, path), 2);
	unlink(path);
	cr_assert_eq(cfg.n_upstreams, 2);
	cr_assert_eq(cfg.upstream_timeout_ms, 3000);
	cr_assert_eq(cfg.upstream_attempts, 4);
	cr_assert_eq(cfg.upstreams[1].addr.family, AF_INET6);
	cr_assert_lt(dns_config_load_resolv_conf(&cfg, "/nonexistent/resolv.conf"), 0);
}

Test(server, dnssec_do_selects_view_one_upstream_query)
{
	/* no DO: A only, no AD; DO: A + RRSIG with AD; AD alone: AD, no RRSIG */
	query_x(1, "sig.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	pump(1, 2000);
	cr_assert_eq(H.up_do, 1, "upstream is always asked with DO");
	cr_assert_eq(H.up_optlen, 0);
	cr_assert_eq(ancount(&H.ans[0]), 1);
	cr_assert_eq(count_type(&H.ans[0], DNS_TYPE_RRSIG), 0);
	cr_assert(!ad(&H.ans[0]));
	query_x(2, "sig.test", DNS_TYPE_A, 1232, Q_DO, NULL, 0);
	cr_assert_eq(H.nans, 2, "a hit");
	cr_assert_eq(ancount(&H.ans[1]), 2);
	cr_assert_eq(count_type(&H.ans[1], DNS_TYPE_RRSIG), 1);
	cr_assert(ad(&H.ans[1]));
	cr_assert(H.ans[1].msg[H.ans[1].len - 11 + 7] & 0x80, "DO echoed");
	query_x(3, "sig.test", DNS_TYPE_A, 1232, Q_AD, NULL, 0);
	cr_assert_eq(ancount(&H.ans[2]), 1);
	cr_assert(ad(&H.ans[2]), "AD to a client that set AD");
	query_x(4, "sig.test", DNS_TYPE_A, 0, 0, NULL, 0);
	cr_assert_eq(ancount(&H.ans[3]), 1);
	cr_assert(!ad(&H.ans[3]));
	cr_assert_eq(wire_get16(H.ans[3].msg + 10), 0, "no OPT without EDNS");
	cr_assert_eq(H.queries, 1, "one entry serves DO and non-DO clients");
	cr_assert_eq(stats().do_queries, 1);
	/* a non-DO client asking for RRSIG gets them: it asked */
	query_x(5, "sig.test", DNS_TYPE_RRSIG, 1232, 0, NULL, 0);
	pump(5, 2000);
	cr_assert_eq(count_type(&H.ans[4], DNS_TYPE_RRSIG), 1);
}

Test(server, dnssec_negative_answer_nsec_only_with_do)
{
	query_x(1, "nxsig.test", DNS_TYPE_A, 1232, Q_DO, NULL, 0);
	pump(1, 2000);
	cr_assert_eq(rcode(&H.ans[0]), DNS_RCODE_NXDOMAIN);
	cr_assert_eq(wire_get16(H.ans[0].msg + 8), 4, "SOA, NSEC and their RRSIGs");
	cr_assert_eq(count_type(&H.ans[0], DNS_TYPE_NSEC), 1);
	cr_assert_eq(count_type(&H.ans[0], DNS_TYPE_RRSIG), 2);
	query_x(2, "nxsig.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	cr_assert_eq(H.nans, 2);
	cr_assert_eq(rcode(&H.ans[1]), DNS_RCODE_NXDOMAIN);
	cr_assert_eq(wire_get16(H.ans[1].msg + 8), 1, "the SOA alone");
	cr_assert_eq(count_type(&H.ans[1], DNS_TYPE_SOA), 1);
	cr_assert_eq(H.queries, 1);
	/* TCP answers use the same views */
	query(3, "nxsig.test", DNS_TYPE_A, DNS_PROTO_TCP, 0);
	cr_assert_eq(wire_get16(H.ans[2].msg + 8), 1);
}

Test(server, dnssec_cd_passed_upstream_and_keyed_apart)
{
	query_x(1, "sig.test", DNS_TYPE_A, 1232, Q_DO | Q_CD, NULL, 0);
	pump(1, 2000);
	cr_assert(H.up_flags & DNS_FLAG_CD, "CD goes upstream");
	cr_assert(H.ans[0].msg[3] & DNS_FLAG_CD, "CD echoed");
	cr_assert(!ad(&H.ans[0]), "upstream did not validate a CD query");
	cr_assert_eq(stats().cd_queries, 1);
	/* a CD=0 client is not served the CD=1 answer */
	query_x(2, "sig.test", DNS_TYPE_A, 1232, Q_DO, NULL, 0);
	cr_assert_eq(H.nans, 1, "a miss: the CD answer is another entry");
	pump(2, 2000);
	cr_assert_eq(H.queries, 2);
	cr_assert(!(H.up_flags & DNS_FLAG_CD));
	cr_assert(ad(&H.ans[1]));
	cr_assert(!(H.ans[1].msg[3] & DNS_FLAG_CD));
	/* each is a hit for its own kind */
	query_x(3, "sig.test", DNS_TYPE_A, 1232, Q_DO | Q_CD, NULL, 0);
	query_x(4, "sig.test", DNS_TYPE_A, 1232, Q_DO, NULL, 0);
	cr_assert_eq(H.nans, 4);
	cr_assert(!ad(&H.ans[2]));
	cr_assert(ad(&H.ans[3]));
	cr_assert_eq(H.queries, 2);
}

Test(server, edns_options_not_forwarded_nor_echoed)
{
	static const uint8_t opts[] = {
		0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,		   /* client cookie */
		0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2,		   /* ECS 192.0.2.0/24 */
		0xfd, 0xe9, 0, 3, 'x', 'y', 'z',		   /* unknown option 65001 */
	};
	static const uint8_t bad_cookie[] = { 0, 10, 0, 5, 1, 2, 3, 4, 5 };
	static const uint8_t overrun[] = { 0, 3, 0, 9, 1 };
	size_t len;

	query_x(1, "opt.test", DNS_TYPE_A, 1232, 0, opts, sizeof(opts));
	pump(1, 2000);
	cr_assert_eq(rcode(&H.ans[0]), 0);
	cr_assert_eq(H.up_optlen, 0, "no guest option goes upstream");
	opt_rdata(&H.ans[0], &len);
	cr_assert_eq(len, 0, "no guest option is echoed");
	cr_assert_eq(stats().edns_cookie, 1);
	cr_assert_eq(stats().edns_ecs, 1);
	cr_assert_eq(stats().edns_other_opts, 1);
	query_x(2, "opt.test", DNS_TYPE_A, 1232, 0, bad_cookie, sizeof(bad_cookie));
	cr_assert_eq(rcode(&H.ans[1]), DNS_RCODE_FORMERR, "cookie of 5 bytes");
	query_x(3, "opt.test", DNS_TYPE_A, 1232, 0, overrun, sizeof(overrun));
	cr_assert_eq(rcode(&H.ans[2]), DNS_RCODE_FORMERR, "option past the OPT");
	cr_assert_eq(H.queries, 1);
}

Test(server, badvers_counted)
{
	uint8_t b[600];
	struct dns_client c = { .proto = DNS_PROTO_UDP };
	size_t n = build_q(b, 5, "e.test", DNS_TYPE_A, 1232);

	b[n - 11 + 6] = 1;
	dns_query_in(H.d, &c, b, n);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(rcode(&H.ans[0]), 0, "header rcode 0");
	cr_assert_eq(H.ans[0].msg[H.ans[0].len - 11 + 5], 1, "extended rcode 1: BADVERS");
	cr_assert_eq(H.ans[0].msg[H.ans[0].len - 11 + 6], 0, "our version is 0");
	cr_assert_eq(stats().badvers, 1);
	cr_assert_eq(H.queries, 0);
}

Test(server, ede_blocked_only_with_edns)
{
	dns_set_filter(H.d, deny_evil, NULL);
	query_x(1, "evil.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	cr_assert_eq(rcode(&H.ans[0]), DNS_RCODE_NXDOMAIN);
	cr_assert_eq(ede_code(&H.ans[0]), DNS_EDE_BLOCKED);
	query_x(2, "evil.test", DNS_TYPE_A, 0, 0, NULL, 0);
	cr_assert_eq(rcode(&H.ans[1]), DNS_RCODE_NXDOMAIN);
	cr_assert_eq(wire_get16(H.ans[1].msg + 10), 0, "no OPT, no EDE without EDNS");
	cr_assert_eq(stats().ede_answers, 1);
}

Test(server, ede_servfail_reasons_and_cached)
{
	H.mode = M_SILENT;
	query_x(1, "dead.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	pump(1, 3000);
	cr_assert_eq(rcode(&H.ans[0]), DNS_RCODE_SERVFAIL);
	cr_assert_eq(ede_code(&H.ans[0]), DNS_EDE_NO_AUTHORITY, "timeouts only");
	query_x(2, "dead.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	cr_assert_eq(H.nans, 2);
	cr_assert_eq(ede_code(&H.ans[1]), DNS_EDE_NO_AUTHORITY, "cached SERVFAIL keeps it");
	H.mode = M_SERVFAIL;
	query_x(3, "bad.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	pump(3, 3000);
	cr_assert_eq(rcode(&H.ans[2]), DNS_RCODE_SERVFAIL);
	cr_assert_eq(ede_code(&H.ans[2]), DNS_EDE_NETWORK, "upstream replied, unusably");
	query_x(4, "ok.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	pump(4, 3000);
	H.mode = M_NORMAL;
	query_x(5, "ok2.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	pump(5, 3000);
	cr_assert_eq(ede_code(&H.ans[4]), -1, "no EDE on a plain answer");
}

Test(server, ede_stale_answer)
{
	teardown();
	setup_cfg();
	H.cfg.max_ttl_s = 1;
	start();
	query_x(1, "st.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	pump(1, 2000);
	cr_assert_eq(ede_code(&H.ans[0]), -1);
	pump(-1, 1100); /* expired */
	H.mode = M_SILENT;
	query_x(2, "st.test", DNS_TYPE_A, 1232, 0, NULL, 0);
	pump(2, 2000);
	cr_assert_eq(rcode(&H.ans[1]), 0);
	cr_assert_eq(ede_code(&H.ans[1]), DNS_EDE_STALE);
	/* stale mode: at once, still marked */
	query_x(3, "st.test", DNS_TYPE_A, 1232, Q_DO, NULL, 0);
	cr_assert_eq(H.nans, 3);
	cr_assert_eq(ede_code(&H.ans[2]), DNS_EDE_STALE);
	query_x(4, "st.test", DNS_TYPE_A, 0, 0, NULL, 0);
	cr_assert_eq(wire_get16(H.ans[3].msg + 10), 0, "no EDE without EDNS");
}

/* ---- DNS64 (--nat64) ---- */

/* rdata_n - the RDATA of the @k-th answer record of @type, NULL when none */
static const uint8_t *rdata_n(const struct answer *a, uint16_t type, int k)
{
	size_t off =
	    DNS_HDR_LEN + (size_t)wire_check_name(a->msg + DNS_HDR_LEN, a->len - DNS_HDR_LEN) + 4;
	unsigned int i, n = wire_get16(a->msg + 6);

	for (i = 0; i < n; i++) {
		size_t end;

		cr_assert_eq(wire_skip_rrs(a->msg, a->len, off, 1, &end), 0);
		while (a->msg[off] && (a->msg[off] & 0xc0) != 0xc0)
			off += 1u + a->msg[off];
		off += (a->msg[off] & 0xc0) ? 2 : 1;
		if (wire_get16(a->msg + off) == type && k-- == 0)
			return a->msg + off + 10;
		off = end;
	}
	return NULL;
}

/* is_nat64_of - whether @rd is 64:ff9b::@a.@b.@c.@d */
static bool is_nat64_of(const uint8_t *rd, int a, int b, int c, int d)
{
	uint8_t want[16] = {0, 0x64, 0xff, 0x9b};

	want[12] = (uint8_t)a;
	want[13] = (uint8_t)b;
	want[14] = (uint8_t)c;
	want[15] = (uint8_t)d;

	return rd && !memcmp(rd, want, 16);
}

static void setup64(void)
{
	setup_cfg();
	H.cfg.dns64 = true;
	H.cfg.max_ttl_s = 3600;
	start();
}

TestSuite(dns64, .init = setup64, .fini = teardown, .timeout = 30);

Test(dns64, a_only_name_gets_synthesized_aaaa_cached)
{
	struct dns_addr out[8];
	int i, n, syn = 0;

	query(1, "v4two.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(rcode(&H.ans[0]), 0);
	cr_assert_eq(ancount(&H.ans[0]), 2, "one AAAA per A record");
	cr_assert_eq(count_type(&H.ans[0], DNS_TYPE_AAAA), 2);
	cr_assert_eq(count_type(&H.ans[0], DNS_TYPE_A), 0);
	cr_assert(is_nat64_of(rdata_n(&H.ans[0], DNS_TYPE_AAAA, 0), 10, 0, 0, 1));
	cr_assert(is_nat64_of(rdata_n(&H.ans[0], DNS_TYPE_AAAA, 1), 10, 0, 0, 2));
	cr_assert_eq(ttl0(&H.ans[0]), 60, "min(A 300, SOA minimum 60, cap 3600)");
	cr_assert_eq(H.queries, 2, "the AAAA, then the A");
	cr_assert_eq(stats().dns64_synth, 1);

	/* cached: a hit, no upstream query */
	query(2, "V4two.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2, "answered at once");
	cr_assert_eq(ancount(&H.ans[1]), 2);
	cr_assert(is_nat64_of(rdata_n(&H.ans[1], DNS_TYPE_AAAA, 0), 10, 0, 0, 1));
	cr_assert_eq(H.queries, 2);
	cr_assert_eq(stats().dns64_synth, 2, "cache hits of synthesized answers count");

	/* the forwarder's view: the A and the synthesized AAAA were handed out */
	n = dns_lookup_addrs(H.d, "v4two.test", 0, out, 8);
	cr_assert_eq(n, 4, "two A, two synthesized AAAA");
	for (i = 0; i < n; i++)
		syn += out[i].family == AF_INET6 && is_nat64_of(out[i].a, 10, 0, 0, out[i].a[15]);
	cr_assert_eq(syn, 2);
}

Test(dns64, a_already_cached_and_singleflight)
{
	query(1, "v4.test", DNS_TYPE_A, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(H.queries, 1);
	query(2, "v4.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	query(3, "v4.test", DNS_TYPE_AAAA, DNS_PROTO_TCP, 1232);
	pump(3, 2000);
	cr_assert_eq(H.nans, 3);
	cr_assert_eq(H.queries, 2, "one AAAA upstream for both; the A came from the cache");
	for (int i = 1; i < 3; i++) {
		cr_assert_eq(ancount(&H.ans[i]), 1);
		cr_assert(is_nat64_of(rdata_n(&H.ans[i], DNS_TYPE_AAAA, 0), 10, 0, 0, 1));
	}
	cr_assert_eq(stats().dns64_synth, 2);
}

Test(dns64, real_aaaa_and_nxdomain_unchanged)
{
	static const uint8_t want6[16] = {0xfd, 0, [15] = 1};

	query(1, "six.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(ancount(&H.ans[0]), 1);
	cr_assert_eq(memcmp(rdata_n(&H.ans[0], DNS_TYPE_AAAA, 0), want6, 16), 0);
	cr_assert_eq(H.queries, 1, "no A query for a name with AAAA");
	query(2, "nx.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(2, 2000);
	cr_assert_eq(rcode(&H.ans[1]), DNS_RCODE_NXDOMAIN);
	cr_assert_eq(H.queries, 2, "no A query for NXDOMAIN");
	cr_assert_eq(stats().dns64_synth, 0);
}

Test(dns64, cname_chain_kept)
{
	query(1, "v4cn.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(rcode(&H.ans[0]), 0);
	cr_assert_eq(count_type(&H.ans[0], DNS_TYPE_CNAME), 1);
	cr_assert_eq(count_type(&H.ans[0], DNS_TYPE_AAAA), 1);
	cr_assert(is_nat64_of(rdata_n(&H.ans[0], DNS_TYPE_AAAA, 0), 10, 9, 9, 9));
}

Test(dns64, cd_bit_gets_the_real_nodata)
{
	query_x(1, "v4.test", DNS_TYPE_AAAA, 1232, Q_DO | Q_CD, NULL, 0);
	pump(1, 2000);
	cr_assert_eq(rcode(&H.ans[0]), 0);
	cr_assert_eq(ancount(&H.ans[0]), 0, "a validating client: no synthesis");
	cr_assert_eq(H.queries, 1);
	/* DO without CD: synthesized */
	query_x(2, "v4.test", DNS_TYPE_AAAA, 1232, Q_DO, NULL, 0);
	pump(2, 2000);
	cr_assert_eq(ancount(&H.ans[1]), 1);
	cr_assert(is_nat64_of(rdata_n(&H.ans[1], DNS_TYPE_AAAA, 0), 10, 0, 0, 1));
}

Test(dns64, failed_a_query_gives_the_nodata)
{
	query(1, "v4fail.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(1, 5000);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(rcode(&H.ans[0]), 0, "the AAAA's own NODATA, not SERVFAIL");
	cr_assert_eq(ancount(&H.ans[0]), 0);
	cr_assert_eq(stats().dns64_synth, 0);
}

Test(dns64, static_a_record_synthesized)
{
	struct dns_addr a = {.family = AF_INET, .a = {10, 1, 2, 3}};

	cr_assert_eq(dns_add_record(H.d, "st.test", &a), 0);
	query(1, "st.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 1, "static: answered at once");
	cr_assert(H.ans[0].msg[2] & (DNS_FLAG_AA >> 8));
	cr_assert_eq(ancount(&H.ans[0]), 1);
	cr_assert(is_nat64_of(rdata_n(&H.ans[0], DNS_TYPE_AAAA, 0), 10, 1, 2, 3));
	cr_assert_eq(H.queries, 0);
	cr_assert_eq(stats().dns64_synth, 1);
}

/*
 * stale_setup - DNS64 with a 1 s cap; v4.test's AAAA NODATA cached over its
 * synthesized answer by a prefetch (the path on which the AAAA key holds
 * the NODATA, not the synthesized answer), then everything expired
 * and upstream silent
 */
static void stale_setup(void)
{
	teardown();
	setup_cfg();
	H.cfg.dns64 = true;
	H.cfg.max_ttl_s = 1;
	start();
	query(1, "v4.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(ancount(&H.ans[0]), 1);
	cr_assert_eq(H.queries, 2, "the AAAA, then the A");
	pump(-1, 600); /* past half the TTL */
	query(2, "v4.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2);
	cr_assert(is_nat64_of(rdata_n(&H.ans[1], DNS_TYPE_AAAA, 0), 10, 0, 0, 1));
	pump(-1, 100);
	cr_assert_eq(H.queries, 3, "the prefetch of the AAAA: its NODATA is cached");
	cr_assert_eq(stats().prefetches, 1);
	pump(-1, 1500); /* the A and the NODATA expired */
	H.mode = M_SILENT;
}

Test(dns64, stale_nodata_is_synthesized)
{
	int i;

	stale_setup();
	/* a miss whose refresh fails: answered from the stale NODATA */
	query_x(3, "v4.test", DNS_TYPE_AAAA, 1232, 0, NULL, 0);
	pump(3, 2000);
	cr_assert_eq(H.nans, 3);
	/* stale mode: the stale NODATA at once */
	pump(-1, 100);
	query_x(4, "v4.test", DNS_TYPE_AAAA, 1232, 0, NULL, 0);
	cr_assert_eq(H.nans, 4);
	for (i = 2; i < 4; i++) {
		cr_assert_eq(rcode(&H.ans[i]), 0);
		cr_assert_eq(ancount(&H.ans[i]), 1, "answer %d synthesized from the stale A", i);
		cr_assert(is_nat64_of(rdata_n(&H.ans[i], DNS_TYPE_AAAA, 0), 10, 0, 0, 1));
		cr_assert_eq(ttl0(&H.ans[i]), 1, "the cap");
		cr_assert_eq(ede_code(&H.ans[i]), DNS_EDE_STALE);
	}
	cr_assert_eq(H.queries, 4, "only the AAAA refresh; no A query while stale");
	cr_assert_geq(stats().stale_serves, 2);
}

Test(dns64, stale_nodata_without_a_answer_stays_nodata)
{
	stale_setup();
	dns_cache_flush(H.d);
	/* nothing cached: the refresh fails, SERVFAIL; no crash, no synthesis */
	query(3, "v4.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(3, 2000);
	cr_assert_eq(rcode(&H.ans[2]), DNS_RCODE_SERVFAIL);
}

Test(dns64, stale_nodata_with_cd_not_synthesized)
{
	teardown();
	setup_cfg();
	H.cfg.dns64 = true;
	H.cfg.max_ttl_s = 1;
	start();
	query_x(1, "v4.test", DNS_TYPE_A, 1232, Q_DO | Q_CD, NULL, 0);
	query_x(2, "v4.test", DNS_TYPE_AAAA, 1232, Q_DO | Q_CD, NULL, 0);
	pump(2, 2000);
	pump(-1, 1500);
	H.mode = M_SILENT;
	query_x(3, "v4.test", DNS_TYPE_AAAA, 1232, Q_DO | Q_CD, NULL, 0);
	pump(3, 2000);
	cr_assert_eq(rcode(&H.ans[2]), 0);
	cr_assert_eq(ancount(&H.ans[2]), 0, "CD: the stale NODATA as it is");
	cr_assert_eq(ede_code(&H.ans[2]), DNS_EDE_STALE);
}

/* PTR synthesis (RFC 6147 5.3.1) */

/* the ip6.arpa names of 64:ff9b::7f00:1, 64:ff9b::a01:203 and 64:ff9b::a01:204 */
#define R6_127_0_0_1 "1.0.0.0.0.0.f.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa"
#define R6_10_1_2_3  "3.0.2.0.1.0.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa"
#define R6_10_1_2_4  "4.0.2.0.1.0.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa"

/*
 * rr_at - the @k-th record of an answer (all sections): its owner and, for a
 * CNAME or PTR, its target as text, and its type; Return: the type
 */
static int rr_at(const struct answer *a, int k, char *owner, char *target)
{
	int qlen = wire_check_name(a->msg + DNS_HDR_LEN, a->len - DNS_HDR_LEN);
	size_t off = DNS_HDR_LEN + (size_t)qlen + 4, end;
	uint8_t nm[DNS_NAME_MAX];
	uint16_t type;

	cr_assert_eq(wire_skip_rrs(a->msg, a->len, off, (unsigned int)k, &off), 0);
	cr_assert_gt(wire_name_copy(a->msg, a->len, off, nm, &end), 0);
	wire_name_to_text(nm, owner, DNS_NAME_TEXT_MAX);
	type = wire_get16(a->msg + end);
	target[0] = 0;
	if (type == DNS_TYPE_CNAME || type == DNS_TYPE_PTR) {
		size_t e2;

		cr_assert_gt(wire_name_copy(a->msg, a->len, end + 10, nm, &e2), 0);
		cr_assert_eq(e2, end + 10 + wire_get16(a->msg + end + 8), "RDLENGTH");
		wire_name_to_text(nm, target, DNS_NAME_TEXT_MAX);
	}
	return type;
}

/* qname_is - the question of an answer is @name, case and all */
static bool qname_is(const struct answer *a, const char *name)
{
	char t[DNS_NAME_TEXT_MAX];

	wire_name_to_text(a->msg + DNS_HDR_LEN, t, sizeof(t));
	return !strcmp(t, name) && wire_get16(a->msg + 4) == 1;
}

Test(dns64, ptr_synthesized_cname_then_ptr_cached)
{
	char o[DNS_NAME_TEXT_MAX], t[DNS_NAME_TEXT_MAX];

	query(1, R6_127_0_0_1, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(rcode(&H.ans[0]), 0);
	cr_assert(qname_is(&H.ans[0], R6_127_0_0_1));
	cr_assert_eq(H.queries, 1);
	cr_assert_str_eq(H.up_name, "1.0.0.127.in-addr.arpa", "upstream asked the IPv4 name");
	cr_assert_eq(ancount(&H.ans[0]), 2);
	cr_assert_eq(rr_at(&H.ans[0], 0, o, t), DNS_TYPE_CNAME);
	cr_assert_str_eq(o, R6_127_0_0_1);
	cr_assert_str_eq(t, "1.0.0.127.in-addr.arpa");
	cr_assert_eq(rr_at(&H.ans[0], 1, o, t), DNS_TYPE_PTR);
	cr_assert_str_eq(o, "1.0.0.127.in-addr.arpa");
	cr_assert_str_eq(t, "host.0.0.127.in-addr.arpa");
	cr_assert_eq(ttl0(&H.ans[0]), 300);

	/* the IPv4 name's answer is cached: a hit, the guest's case echoed */
	query(2, "1.0.0.0.0.0.F.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.B.9.F.F.4.6.0.0.IP6.arpa",
	      DNS_TYPE_PTR, DNS_PROTO_TCP, 1232);
	cr_assert_eq(H.nans, 2, "answered at once");
	cr_assert_eq(H.queries, 1);
	cr_assert(qname_is(
	    &H.ans[1], "1.0.0.0.0.0.F.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.B.9.F.F.4.6.0.0.IP6.arpa"));
	cr_assert_eq(ancount(&H.ans[1]), 2);
	cr_assert_eq(rr_at(&H.ans[1], 1, o, t), DNS_TYPE_PTR);
	cr_assert_str_eq(t, "host.0.0.127.in-addr.arpa");
	cr_assert_eq(stats().hits, 1);

	/* a direct query of the IPv4 name shares that cache entry */
	query(3, "1.0.0.127.in-addr.arpa", DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 3);
	cr_assert_eq(ancount(&H.ans[2]), 1, "no CNAME for the IPv4 name itself");
	cr_assert_eq(H.queries, 1);
}

Test(dns64, ptr_singleflight_waiters_answered_each)
{
	char o[DNS_NAME_TEXT_MAX], t[DNS_NAME_TEXT_MAX];
	int i;

	query(1, R6_127_0_0_1, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	query(2, "1.0.0.127.in-addr.arpa", DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	query(3, R6_127_0_0_1, DNS_TYPE_PTR, DNS_PROTO_TCP, 0);
	pump(3, 2000);
	cr_assert_eq(H.nans, 3);
	cr_assert_eq(H.queries, 1, "one upstream query for all three");
	for (i = 0; i < 3; i++) {
		bool v6 = i != 1;

		cr_assert(qname_is(&H.ans[i], v6 ? R6_127_0_0_1 : "1.0.0.127.in-addr.arpa"));
		cr_assert_eq(ancount(&H.ans[i]), v6 ? 2 : 1);
		cr_assert_eq(rr_at(&H.ans[i], v6 ? 1 : 0, o, t), DNS_TYPE_PTR);
		cr_assert_str_eq(t, "host.0.0.127.in-addr.arpa");
	}
}

Test(dns64, ptr_nxdomain_and_nodata_passed_on)
{
	char o[DNS_NAME_TEXT_MAX], t[DNS_NAME_TEXT_MAX];

	query(1, R6_10_1_2_3, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_str_eq(H.up_name, "3.2.1.10.in-addr.arpa");
	cr_assert_eq(rcode(&H.ans[0]), DNS_RCODE_NXDOMAIN);
	cr_assert(qname_is(&H.ans[0], R6_10_1_2_3));
	cr_assert_eq(ancount(&H.ans[0]), 1, "the CNAME");
	cr_assert_eq(rr_at(&H.ans[0], 0, o, t), DNS_TYPE_CNAME);
	cr_assert_str_eq(o, R6_10_1_2_3, "owner: the query name");
	cr_assert_str_eq(t, "3.2.1.10.in-addr.arpa");
	cr_assert_eq(wire_get16(H.ans[0].msg + 8), 1, "the SOA");
	cr_assert_eq(rr_at(&H.ans[0], 1, o, t), DNS_TYPE_SOA);
	cr_assert_eq(ttl0(&H.ans[0]), 60, "negative TTL: the SOA minimum");

	query(2, R6_10_1_2_4, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	pump(2, 2000);
	cr_assert_eq(rcode(&H.ans[1]), DNS_RCODE_NOERROR);
	cr_assert_eq(ancount(&H.ans[1]), 1, "NODATA: only the CNAME");
	cr_assert_eq(rr_at(&H.ans[1], 0, o, t), DNS_TYPE_CNAME);
	cr_assert_str_eq(o, R6_10_1_2_4);
	cr_assert_eq(count_type(&H.ans[1], DNS_TYPE_SOA), 1);
	cr_assert_eq(count_type(&H.ans[1], DNS_TYPE_PTR), 0);

	/* cached negative answers: hits, synthesized the same */
	query(3, R6_10_1_2_3, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 3);
	cr_assert_eq(rcode(&H.ans[2]), DNS_RCODE_NXDOMAIN);
	cr_assert_eq(count_type(&H.ans[2], DNS_TYPE_CNAME), 1);
	cr_assert_eq(H.queries, 2);
}

Test(dns64, ptr_servfail_keeps_the_question)
{
	H.mode = M_SERVFAIL;
	query(1, R6_127_0_0_1, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	pump(1, 5000);
	cr_assert_eq(H.nans, 1);
	cr_assert_eq(rcode(&H.ans[0]), DNS_RCODE_SERVFAIL);
	cr_assert(qname_is(&H.ans[0], R6_127_0_0_1));
	cr_assert_eq(ancount(&H.ans[0]), 0);
	/* the cached failure answers the next one at once, same question */
	query(2, R6_127_0_0_1, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 2);
	cr_assert_eq(rcode(&H.ans[1]), DNS_RCODE_SERVFAIL);
	cr_assert(qname_is(&H.ans[1], R6_127_0_0_1));
}

Test(dns64, ptr_of_a_static_record)
{
	struct dns_addr a = {.family = AF_INET, .a = {10, 1, 2, 3}};
	char o[DNS_NAME_TEXT_MAX], t[DNS_NAME_TEXT_MAX];

	cr_assert_eq(dns_add_record(H.d, "gw.test", &a), 0);
	query(1, R6_10_1_2_3, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	cr_assert_eq(H.nans, 1, "static: answered at once");
	cr_assert_eq(H.queries, 0);
	cr_assert(H.ans[0].msg[2] & (DNS_FLAG_AA >> 8));
	cr_assert_eq(ancount(&H.ans[0]), 2);
	cr_assert_eq(rr_at(&H.ans[0], 0, o, t), DNS_TYPE_CNAME);
	cr_assert_str_eq(t, "3.2.1.10.in-addr.arpa");
	cr_assert_eq(rr_at(&H.ans[0], 1, o, t), DNS_TYPE_PTR);
	cr_assert_str_eq(o, "3.2.1.10.in-addr.arpa");
	cr_assert_str_eq(t, "gw.test");
}

Test(dns64, ptr_bad_or_foreign_names_not_synthesized)
{
	static const char *const names[] = {
	    /* 31 nibbles */
	    "0.0.0.0.0.f.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa",
	    /* 33 nibbles */
	    "0.1.0.0.0.0.0.f.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa",
	    /* a non-hex nibble */
	    "1.0.0.0.0.0.g.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa",
	    /* a two-character label (the first) */
	    "11.0.0.0.0.0.f.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa",
	    /* another prefix: 2001:db8::7f00:1 */
	    "1.0.0.0.0.0.f.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	    /* 64:ff9b:1::7f00:1, outside the /96 */
	    "1.0.0.0.0.0.f.7.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa",
	    /* right nibbles, not under ip6.arpa */
	    "1.0.0.0.0.0.f.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip7.arpa",
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		query((uint16_t)(i + 1), names[i], DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
		pump((int)i + 1, 2000);
		cr_assert_eq(H.nans, (int)i + 1, "%s answered", names[i]);
		cr_assert_str_eq(H.up_name, names[i], "%s asked upstream as it is", names[i]);
		cr_assert_eq(count_type(&H.ans[i], DNS_TYPE_CNAME), 0, "%s", names[i]);
		cr_assert_eq(count_type(&H.ans[i], DNS_TYPE_PTR), 1, "%s", names[i]);
	}
	cr_assert_eq(H.queries, (int)i);
}

Test(dns64, ptr_with_cd_not_synthesized)
{
	query_x(1, R6_127_0_0_1, DNS_TYPE_PTR, 1232, Q_DO | Q_CD, NULL, 0);
	pump(1, 2000);
	cr_assert_str_eq(H.up_name, R6_127_0_0_1);
	cr_assert_eq(count_type(&H.ans[0], DNS_TYPE_CNAME), 0);
}

Test(dns64, ptr_from_a_stale_answer)
{
	char o[DNS_NAME_TEXT_MAX], t[DNS_NAME_TEXT_MAX];
	int i;

	teardown();
	setup_cfg();
	H.cfg.dns64 = true;
	H.cfg.max_ttl_s = 1;
	start();
	query(1, R6_127_0_0_1, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(ancount(&H.ans[0]), 2);
	pump(-1, 1100); /* expired */
	H.mode = M_SILENT;
	query_x(2, R6_127_0_0_1, DNS_TYPE_PTR, 1232, 0, NULL, 0);
	pump(2, 2000); /* the refresh fails: the stale answer */
	pump(-1, 100);
	query_x(3, R6_127_0_0_1, DNS_TYPE_PTR, 1232, 0, NULL, 0); /* stale mode: at once */
	cr_assert_eq(H.nans, 3);
	for (i = 1; i < 3; i++) {
		cr_assert_eq(rcode(&H.ans[i]), 0);
		cr_assert(qname_is(&H.ans[i], R6_127_0_0_1));
		cr_assert_eq(ancount(&H.ans[i]), 2, "answer %d: CNAME and PTR", i);
		cr_assert_eq(rr_at(&H.ans[i], 0, o, t), DNS_TYPE_CNAME);
		cr_assert_eq(rr_at(&H.ans[i], 1, o, t), DNS_TYPE_PTR);
		cr_assert_str_eq(t, "host.0.0.127.in-addr.arpa");
		cr_assert_eq(ede_code(&H.ans[i]), DNS_EDE_STALE);
	}
}

Test(server, no_ptr_synthesis_by_default)
{
	query(1, R6_127_0_0_1, DNS_TYPE_PTR, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_str_eq(H.up_name, R6_127_0_0_1);
	cr_assert_eq(count_type(&H.ans[0], DNS_TYPE_CNAME), 0);
	cr_assert_eq(ancount(&H.ans[0]), 1);
}

Test(server, no_dns64_by_default)
{
	query(1, "v4.test", DNS_TYPE_AAAA, DNS_PROTO_UDP, 0);
	pump(1, 2000);
	cr_assert_eq(rcode(&H.ans[0]), 0);
	cr_assert_eq(ancount(&H.ans[0]), 0, "NODATA");
	cr_assert_eq(H.queries, 1);
	cr_assert_eq(stats().dns64_synth, 0);
}
