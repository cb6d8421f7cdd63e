/* SPDX-License-Identifier: MIT */
/*
 * test_allow.c - forwarder/allow.c: pattern syntax and wildcard rules,
 * allowlist files (comments, blanks, errors naming the line), the HTTP/1.x
 * Host parser, and sni_decide() with the DNS cache's addresses present,
 * expired within the grace period, expired past it, and absent.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "forwarder/allow.h"
#include "forwarder/http.h"
#include "forwarder/tls.h"

static struct allowlist *al;
static char err[512];

static void setup(void)
{
	al = malloc(sizeof(*al));
	cr_assert_not_null(al);
	allow_init(al);
}

static void teardown(void)
{
	free(al);
}

static void add(const char *p)
{
	cr_assert_eq(allow_add(al, p, err, sizeof(err)), 0, "%s: %s", p, err);
}

TestSuite(allow, .init = setup, .fini = teardown);

Test(allow, exact_case_and_trailing_dot)
{
	add("Allowed.Test.");
	cr_assert(allow_match(al, "allowed.test"));
	cr_assert(allow_match(al, "ALLOWED.test."));
	cr_assert_not(allow_match(al, "a.allowed.test"));
	cr_assert_not(allow_match(al, "allowed.test.evil"));
	cr_assert_not(allow_match(al, "xallowed.test"));
	cr_assert_not(allow_match(al, "test"));
	cr_assert_not(allow_match(al, ""));
	cr_assert_not(allow_match(al, NULL));
}

Test(allow, wildcard_rules)
{
	add("*.Example.COM");
	cr_assert(allow_match(al, "a.example.com"));
	cr_assert(allow_match(al, "a.b.c.example.com")); /* any depth */
	cr_assert(allow_match(al, "WWW.EXAMPLE.COM."));
	cr_assert_not(allow_match(al, "example.com")); /* not the apex */
	cr_assert_not(allow_match(al, "badexample.com"));
	cr_assert_not(allow_match(al, "example.com.evil.test"));
	add("example.com");
	cr_assert(allow_match(al, "example.com"));
}

Test(allow, empty_list_matches_nothing)
{
	cr_assert_not(allow_match(al, "a.test"));
}

Test(allow, bad_patterns)
{
	static const char *const bad[] = {
	    "",		"*",	     "*.",	   "**.a.test", "a.*.test", "*a.test", "a..test",
	    "a_b.test", "127.0.0.1", "*.10.0.0.1", "a test",	"a.test/x", "."};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(allow_add(al, bad[i], err, sizeof(err)), -1, "%s", bad[i]);
		cr_assert_neq(err[0], '\0');
	}
	cr_assert_eq(al->n, 0);
	cr_assert_not_null(
	    strstr((allow_add(al, "10.1.1.1", err, sizeof(err)), err), "--allow-dest"));
}

Test(allow, duplicates_and_bounds)
{
	char name[64];
	int i;

	add("a.test");
	add("A.TEST.");
	cr_assert_eq(al->n, 1);
	add("*.a.test");
	cr_assert_eq(al->n, 2);
	for (i = 2; i < ALLOW_MAX_PATTERNS; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		add(name);
	}
	cr_assert_eq(allow_add(al, "one-too-many.test", err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "full"));
	cr_assert(allow_match(al, "n4095.test"));
	cr_assert(allow_match(al, "x.y.a.test"));
	cr_assert_not(allow_match(al, "n4096.test"));
}

static void count_cb(void *ctx, const char *p)
{
	char *out = ctx;

	strcat(out, p);
	strcat(out, ";");
}

Test(allow, foreach_in_order)
{
	char out[256] = "";

	add("b.test");
	add("*.a.test");
	allow_foreach(al, count_cb, out);
	cr_assert_str_eq(out, "b.test;*.a.test;");
}

static char *write_tmp(const char *text, size_t len)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/vgate-allow-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

Test(allow, file_ok)
{
	const char *t = "# allowed names\n"
			"\n"
			"allowed.test\n"
			"   *.cdn.test   # trailing comment\r\n"
			"\t\n"
			"last.test";
	char *p = write_tmp(t, strlen(t));

	cr_assert_eq(allow_load_file(al, p, err, sizeof(err)), 3, "%s", err);
	unlink(p);
	cr_assert(allow_match(al, "allowed.test"));
	cr_assert(allow_match(al, "x.cdn.test"));
	cr_assert(allow_match(al, "last.test"));
}

Test(allow, file_errors_name_the_line)
{
	const char *t = "ok.test\n# c\nbad_name.test\n";
	char *p = write_tmp(t, strlen(t));
	char want[128], big[2000];

	cr_assert_eq(allow_load_file(al, p, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: bad pattern 'bad_name.test'", p);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
	unlink(p);

	p = write_tmp("a.test b.test\n", 14);
	cr_assert_eq(allow_load_file(al, p, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, ":1: one pattern per line"), "%s", err);
	unlink(p);

	p = write_tmp("a.test\nb\0c.test\n", 16);
	cr_assert_eq(allow_load_file(al, p, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, ":2: NUL"), "%s", err);
	unlink(p);

	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	p = write_tmp(big, sizeof(big));
	cr_assert_eq(allow_load_file(al, p, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, ":1: line longer"), "%s", err);
	unlink(p);

	cr_assert_eq(allow_load_file(al, "/nonexistent/allow", err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "/nonexistent/allow: "), "%s", err);
}

/* ---- HTTP Host ---- */

static int host_of(const char *req, char *host)
{
	return http_host_parse((const uint8_t *)req, strlen(req), HTTP_HEAD_MAX_DEFAULT, host,
			       TLS_SNI_MAX + 1);
}

Test(http, host_found)
{
	char h[TLS_SNI_MAX + 1];

	cr_assert_eq(host_of("GET / HTTP/1.1\r\nHost: Allowed.Test\r\nAccept: */*\r\n\r\n", h),
		     HTTP_DONE);
	cr_assert_str_eq(h, "allowed.test");
	cr_assert_eq(
	    host_of("POST /x?y=1 HTTP/1.0\nUser-Agent: a\nhOsT:\tallowed.test:8080 \n\n", h),
	    HTTP_DONE);
	cr_assert_str_eq(h, "allowed.test");
	cr_assert_eq(host_of("OPTIONS * HTTP/1.1\r\nHost: a.test.\r\n\r\n", h), HTTP_DONE);
	cr_assert_str_eq(h, "a.test");
}

Test(http, every_prefix_needs_more)
{
	const char *req = "GET /index.html HTTP/1.1\r\nHost: allowed.test\r\nX: y\r\n\r\n";
	char h[TLS_SNI_MAX + 1];
	size_t i, n = strlen(req);

	for (i = 0; i < n; i++)
		cr_assert_eq(http_host_parse((const uint8_t *)req, i, 8192, h, sizeof(h)),
			     HTTP_NEED_MORE, "prefix %zu", i);
	cr_assert_eq(http_host_parse((const uint8_t *)req, n, 8192, h, sizeof(h)), HTTP_DONE);
}

Test(http, errors)
{
	struct {
		const char *req;
		int want;
	} c[] = {
	    {"\x16\x03\x01", HTTP_ERR_MALFORMED},
	    {"GET http://evil.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n", HTTP_ERR_MALFORMED},
	    {"CONNECT evil.test:443 HTTP/1.1\r\nHost: allowed.test\r\n\r\n", HTTP_ERR_MALFORMED},
	    {"GET / HTTP/2.0\r\n\r\n", HTTP_ERR_MALFORMED},
	    {"GET / HTTP/1.1 \r\n\r\n", HTTP_ERR_MALFORMED},
	    {"GET  / HTTP/1.1\r\n\r\n", HTTP_ERR_MALFORMED},
	    {"GET / HTTP/1.1\r\nHost: a.test\r\nHost: evil.test\r\n\r\n", HTTP_ERR_MALFORMED},
	    {"GET / HTTP/1.1\r\nHost: a.test\r\n folded\r\n\r\n", HTTP_ERR_MALFORMED},
	    {"GET / HTTP/1.1\r\nHost : a.test\r\n\r\n", HTTP_ERR_MALFORMED},
	    {"GET / HTTP/1.1\rHost: a.test\r\n\r\n", HTTP_ERR_MALFORMED},
	    {"GET / HTTP/1.1\r\nX: a\x01\r\nHost: a.test\r\n\r\n", HTTP_ERR_MALFORMED},
	    {"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", HTTP_ERR_NO_HOST},
	    {"GET / HTTP/1.1\r\nHost: \r\n\r\n", HTTP_ERR_NO_HOST},
	    {"GET / HTTP/1.1\r\nHost: 127.0.0.4\r\n\r\n", HTTP_ERR_HOST_IP},
	    {"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", HTTP_ERR_HOST_IP},
	    {"GET / HTTP/1.1\r\nHost: a.test:0\r\n\r\n", HTTP_ERR_BAD_HOST},
	    {"GET / HTTP/1.1\r\nHost: a.test:99999\r\n\r\n", HTTP_ERR_BAD_HOST},
	    {"GET / HTTP/1.1\r\nHost: a.test:\r\n\r\n", HTTP_ERR_BAD_HOST},
	    {"GET / HTTP/1.1\r\nHost: a_b.test\r\n\r\n", HTTP_ERR_BAD_HOST},
	    {"GET / HTTP/1.1\r\nHost: user@a.test\r\n\r\n", HTTP_ERR_BAD_HOST},
	};
	char h[TLS_SNI_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int rc = host_of(c[i].req, h);

		cr_expect_eq(rc, c[i].want, "%zu: got %s", i, http_status_name(rc));
	}
	/* a NUL inside the Host value */
	cr_assert_eq(http_host_parse((const uint8_t *)"GET / HTTP/1.1\r\nHost: a\0.test\r\n\r\n",
				     33, 8192, h, sizeof(h)),
		     HTTP_ERR_MALFORMED);
}

Test(http, bounded)
{
	static char big[10000];
	char h[TLS_SNI_MAX + 1];

	strcpy(big, "GET / HTTP/1.1\r\nX: ");
	memset(big + strlen(big), 'a', 9000);
	cr_assert_eq(http_host_parse((const uint8_t *)big, strlen(big), 8192, h, sizeof(h)),
		     HTTP_ERR_TOO_BIG);
	cr_assert_eq(http_host_parse((const uint8_t *)big, 8000, 8192, h, sizeof(h)),
		     HTTP_NEED_MORE);
	memset(big, 'G', 100);
	cr_assert_eq(http_host_parse((const uint8_t *)big, 100, 8192, h, sizeof(h)),
		     HTTP_ERR_MALFORMED);
}

/* ---- the decision ---- */

/* an IPv4 or IPv6 address from its text */
static struct dns_addr addr(const char *s)
{
	struct dns_addr a = {.family = strchr(s, ':') ? AF_INET6 : AF_INET};

	cr_assert_eq(inet_pton(a.family, s, a.a), 1, "%s", s);
	return a;
}

static struct sni_seen_addr seen_at(const char *ip, uint64_t expires)
{
	struct sni_seen_addr s = {.addr = addr(ip), .expires_ms = expires};

	return s;
}

#define GRACE 300000u

Test(allow, decide)
{
	struct sni_seen_addr seen[3];
	struct sni_facts f = {.name = "allowed.test",
			      .dst = addr("127.0.0.2"),
			      .now_ms = 1000000,
			      .grace_ms = GRACE,
			      .seen = seen};
	enum sni_reason why;

	add("allowed.test");
	add("*.cdn.test");

	/* absent: resolve first, then decide on the answer */
	cr_assert_eq(sni_decide(al, &f, &why), SNI_NEED_RESOLVE);
	f.resolved = true;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_IP_MISMATCH);
	f.resolved = false;

	/* present and fresh */
	seen[0] = seen_at("127.0.0.9", 1005000);
	seen[1] = seen_at("127.0.0.2", 1005000);
	f.n_seen = 2;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_ALLOW);
	cr_assert_eq(why, SNI_R_OK);

	/* present, but the destination is not among them: no resolve */
	f.dst = addr("127.0.0.4");
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_IP_MISMATCH);
	f.dst = addr("127.0.0.2");

	/* expired 60 s ago, within the 5 min grace */
	seen[1].expires_ms = f.now_ms - 60000;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_ALLOW);
	/* exactly at the end of the grace period: still counts */
	seen[1].expires_ms = f.now_ms - GRACE;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_ALLOW);

	/* expired past the grace, while another address is live: mismatch */
	seen[1].expires_ms = f.now_ms - GRACE - 1;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_IP_MISMATCH);
	/* everything past the grace: as if absent */
	seen[0].expires_ms = f.now_ms - GRACE - 1;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_NEED_RESOLVE);

	/* an IPv6 address with the same leading bytes never matches */
	seen[2].addr.family = AF_INET6;
	memset(seen[2].addr.a, 0, 16);
	memcpy(seen[2].addr.a, f.dst.a, 4);
	seen[2].expires_ms = f.now_ms + 1000;
	f.seen = &seen[2];
	f.n_seen = 1;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_IP_MISMATCH);
}

/*
 * Issue 14 item 5: an IPv6 destination is allowed by an AAAA address the
 * cache handed out for the name, with the same grace and resolve rules; an
 * A record never vouches for it (nor an AAAA for an IPv4 destination, even
 * a v4-mapped one).
 */
Test(allow, decide_ipv6)
{
	struct sni_seen_addr seen[3];
	struct sni_facts f = {.name = "allowed.test",
			      .dst = addr("2001:db8::10"),
			      .now_ms = 1000000,
			      .grace_ms = GRACE,
			      .seen = seen};
	enum sni_reason why;

	add("allowed.test");
	/* nothing cached: resolve, then decide on the answer */
	cr_assert_eq(sni_decide(al, &f, &why), SNI_NEED_RESOLVE);
	/* an A and an AAAA for the name: the AAAA matches */
	seen[0] = seen_at("127.0.0.2", 1005000);
	seen[1] = seen_at("2001:db8::10", 1005000);
	f.n_seen = 2;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_ALLOW);
	cr_assert_eq(why, SNI_R_OK);
	/* a foreign IPv6 address: mismatch, no resolve */
	f.dst = addr("2001:db8::20");
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_IP_MISMATCH);
	/* an address next to it does not match either: all 16 bytes count */
	f.dst = addr("2001:db8::11");
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	f.dst = addr("2001:db8::10");
	/* the AAAA expired 60 s ago, inside the grace: still allowed */
	seen[1].expires_ms = f.now_ms - 60000;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_ALLOW);
	/* past the grace while the A is live: mismatch (the A does not count) */
	seen[1].expires_ms = f.now_ms - GRACE - 1;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_IP_MISMATCH);
	/* an IPv4 destination is not vouched for by an AAAA of its v4-mapped form */
	seen[2] = seen_at("::ffff:127.0.0.2", 1005000);
	f.seen = &seen[2];
	f.n_seen = 1;
	f.dst = addr("127.0.0.2");
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_IP_MISMATCH);
	/* a name off the list is refused whatever its AAAA */
	f.name = "other.test";
	f.dst = addr("::ffff:127.0.0.2");
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_NOT_ALLOWED);
}

Test(allow, decide_names)
{
	struct sni_seen_addr s = seen_at("127.0.0.3", 2000);
	struct sni_facts f = {.name = "other.test",
			      .dst = addr("127.0.0.3"),
			      .now_ms = 1000,
			      .grace_ms = GRACE,
			      .seen = &s,
			      .n_seen = 1};
	enum sni_reason why;

	add("allowed.test");
	add("*.cdn.test");
	/* off the list, even though the IP matches what DNS said */
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_NOT_ALLOWED);
	cr_assert_str_eq(sni_reason_name(why), "sni_not_allowed");
	f.name = "cdn.test";
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	f.name = "img.cdn.test";
	cr_assert_eq(sni_decide(al, &f, &why), SNI_ALLOW);
	/* no name */
	f.name = NULL;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_NO_SNI);
	f.name = "";
	f.ech = true;
	cr_assert_eq(sni_decide(al, &f, &why), SNI_BLOCK);
	cr_assert_eq(why, SNI_R_ECH_ONLY);
}

Test(allow, reason_names)
{
	int r;

	for (r = 0; r < SNI_R_COUNT; r++) {
		cr_assert_not_null(sni_reason_name((enum sni_reason)r));
		cr_assert_str_neq(sni_reason_name((enum sni_reason)r), "unknown");
	}
	cr_assert_str_eq(sni_reason_name(SNI_R_COUNT), "unknown");
	cr_assert_str_eq(sni_reason_name(SNI_R_IP_MISMATCH), "ip_mismatch");
}
