/* SPDX-License-Identifier: MIT */
/*
 * test_sni.c - forwarder/sni.c's configuration: --allow-dest syntax (and
 * its text form for the API), --sni-ports, durations, --dns-filter, and
 * pattern errors at parse time.
 * (The filter itself is exercised end to end by tests/e2e/test_sni.sh.)
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <string.h>

#include "forwarder/sni.h"

static uint32_t ip4(const char *s)
{
	uint32_t a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

Test(sni, dest_parse)
{
	struct sni_dest d;

	cr_assert_eq(sni_dest_parse("10.0.0.0/8:53/udp", &d), 0);
	cr_assert_eq(d.net, ip4("10.0.0.0"));
	cr_assert_eq(d.mask, ip4("255.0.0.0"));
	cr_assert_eq(d.port, 53);
	cr_assert_eq(d.proto, 17);
	cr_assert_eq(sni_dest_parse("127.0.0.5:8080", &d), 0);
	cr_assert_eq(d.mask, 0xffffffffu);
	cr_assert_eq(d.port, 8080);
	cr_assert_eq(d.proto, 0);
	cr_assert_eq(sni_dest_parse("192.0.2.0/24/TCP", &d), 0);
	cr_assert_eq(d.port, 0);
	cr_assert_eq(d.proto, 6);
	cr_assert_eq(sni_dest_parse("0.0.0.0/0", &d), 0);
	cr_assert_eq(d.mask, 0);
	static const char *const bad[] = {
	    "",		  "10.0.0.0/33",  "10.0.0.1:0",	   "10.0.0.1:65536",
	    "10.0.0.1:",  "host.test:80", "10.0.0.1/sctp", "10.0.0.1:80:90",
	    "10.0.0.1:8x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sni_dest_parse(bad[i], &d), -1, "%s", bad[i]);
}

static void ip6(const char *s, uint8_t out[16])
{
	cr_assert_eq(inet_pton(AF_INET6, s, out), 1);
}

/* issue 14 item 5: --allow-dest takes IPv6 rules, a port in brackets */
Test(sni, dest_parse_ipv6)
{
	struct sni_dest d;
	uint8_t want[16];

	cr_assert_eq(sni_dest_parse("2001:db8::/32/udp", &d), 0);
	cr_assert(d.v6);
	ip6("2001:db8::", want);
	cr_assert_eq(memcmp(d.net6, want, 16), 0);
	cr_assert_eq(d.prefix6, 32);
	cr_assert_eq(d.port, 0);
	cr_assert_eq(d.proto, 17);
	cr_assert_eq(d.net, 0);
	cr_assert_eq(d.mask, 0);
	cr_assert_eq(sni_dest_parse("[2001:db8::10]:8080", &d), 0);
	cr_assert(d.v6);
	ip6("2001:db8::10", want);
	cr_assert_eq(memcmp(d.net6, want, 16), 0);
	cr_assert_eq(d.prefix6, 128);
	cr_assert_eq(d.port, 8080);
	cr_assert_eq(d.proto, 0);
	cr_assert_eq(sni_dest_parse("[2001:db8:1::5/48]:53/UDP", &d), 0);
	ip6("2001:db8:1::", want);
	cr_assert_eq(memcmp(d.net6, want, 16), 0, "host bits cleared");
	cr_assert_eq(d.prefix6, 48);
	cr_assert_eq(d.port, 53);
	cr_assert_eq(d.proto, 17);
	cr_assert_eq(sni_dest_parse("::/0", &d), 0);
	cr_assert(d.v6);
	cr_assert_eq(d.prefix6, 0);
	static const char *const bad[] = {
	    "2001:db8::/129",  "[2001:db8::1]",	  "[2001:db8::1]:",   "[2001:db8::1]:0",
	    "[2001:db8::1:80", "2001:db8::1]:80", "[10.0.0.1]:80",    "[2001:db8::1]:80:90",
	    "2001:db8::g",     "[]:80",		  "[2001:db8::1]x:80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sni_dest_parse(bad[i], &d), -1, "%s", bad[i]);
}

/* issue 14 item 7: /icmp rules (ping), an address without a port */
Test(sni, dest_parse_icmp)
{
	struct sni_dest d;

	cr_assert_eq(sni_dest_parse("192.0.2.0/24/icmp", &d), 0);
	cr_assert_eq(d.proto, 1);
	cr_assert_eq(d.port, 0);
	cr_assert_eq(d.mask, ip4("255.255.255.0"));
	cr_assert_eq(sni_dest_parse("2001:db8::10/ICMP", &d), 0);
	cr_assert(d.v6);
	cr_assert_eq(d.proto, 1);
	cr_assert_eq(d.prefix6, 128);
	static const char *const bad[] = {"192.0.2.1:80/icmp", "[2001:db8::1]:80/icmp", "/icmp",
					  "192.0.2.1/icmp/udp"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sni_dest_parse(bad[i], &d), -1, "%s", bad[i]);
}

Test(sni, dest_format_round_trip)
{
	static const char *const in[] = {
	    "10.0.0.0/8:53/udp",   "127.0.0.5:8080",
	    "192.0.2.0/24/TCP",	   "0.0.0.0/0",
	    "10.1.2.3/32/udp",	   "2001:db8::/32/udp",
	    "[2001:db8::10]:8080", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535/udp",
	    "192.0.2.0/24/icmp",   "2001:db8::/32/icmp",
	};
	static const char *const want[] = {
	    "10.0.0.0/8:53/udp",       "127.0.0.5/32:8080",
	    "192.0.2.0/24/tcp",	       "0.0.0.0/0",
	    "10.1.2.3/32/udp",	       "2001:db8::/32/udp",
	    "[2001:db8::10/128]:8080", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128]:65535/udp",
	    "192.0.2.0/24/icmp",       "2001:db8::/32/icmp",
	};
	struct sni_dest d, back;
	char buf[SNI_DEST_TEXT_MAX];

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		cr_assert_eq(sni_dest_parse(in[i], &d), 0, "%s", in[i]);
		sni_dest_format(&d, buf, sizeof(buf));
		cr_assert_str_eq(buf, want[i]);
		cr_assert_eq(sni_dest_parse(buf, &back), 0, "%s", buf);
		cr_assert_eq(memcmp(&d, &back, sizeof(d)), 0, "%s", buf);
	}
	/* a short buffer is cut, never overrun */
	sni_dest_parse("10.0.0.0/8:53/udp", &d);
	sni_dest_format(&d, buf, 6);
	cr_assert_str_eq(buf, "10.0.");
}

Test(sni, options)
{
	struct sni_config c;
	char err[256];

	sni_config_defaults(&c);
	cr_assert_not(sni_config_enabled(&c));
	cr_assert_eq(c.n_ports, 1);
	cr_assert_eq(c.ports[0], 443);
	cr_assert_eq(sni_config_option(&c, "allow-sni", "*.allowed.test", err, sizeof(err)), 0);
	cr_assert(sni_config_enabled(&c));
	cr_assert_eq(sni_config_option(&c, "allow-sni", "a_b.test", err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "a_b.test"));
	cr_assert_eq(sni_config_option(&c, "sni-ports", "8443,9443", err, sizeof(err)), 0);
	cr_assert_eq(sni_config_option(&c, "sni-ports", "443", err, sizeof(err)), 0);
	cr_assert_eq(c.n_ports, 3);
	cr_assert_eq(c.ports[0], 8443);
	cr_assert_eq(sni_config_option(&c, "sni-ports", "1,,2", err, sizeof(err)), -1);
	cr_assert_eq(sni_config_option(&c, "sni-timeout", "500ms", err, sizeof(err)), 0);
	cr_assert_eq(c.timeout_ms, 500);
	cr_assert_eq(sni_config_option(&c, "sni-timeout", "2", err, sizeof(err)), 0);
	cr_assert_eq(c.timeout_ms, 2000);
	cr_assert_eq(sni_config_option(&c, "sni-timeout", "10ms", err, sizeof(err)), -1);
	cr_assert_eq(sni_config_option(&c, "sni-grace", "5m", err, sizeof(err)), 0);
	cr_assert_eq(c.grace_ms, 300000);
	cr_assert_eq(sni_config_option(&c, "sni-grace", "0", err, sizeof(err)), 0);
	cr_assert_eq(sni_config_option(&c, "sni-grace", "-1", err, sizeof(err)), -1);
	cr_assert_eq(sni_config_option(&c, "sni-grace", "5 m", err, sizeof(err)), -1);
	cr_assert_eq(sni_config_option(&c, "dns-filter", "off", err, sizeof(err)), 0);
	cr_assert_not(c.dns_filter);
	cr_assert_eq(sni_config_option(&c, "dns-filter", "maybe", err, sizeof(err)), -1);
	cr_assert_eq(sni_config_option(&c, "allow-dest", "10.0.0.0/8:53/udp", err, sizeof(err)), 0);
	cr_assert_eq(c.n_dest, 1);
	cr_assert_eq(sni_config_option(&c, "allow-dest", "nope", err, sizeof(err)), -1);
	cr_assert_eq(sni_config_option(&c, "mtu", "1500", err, sizeof(err)), 1);
	for (int i = 0; sni_option_names[i]; i++)
		cr_assert_neq(sni_config_option(&c, sni_option_names[i], "", err, sizeof(err)), 1);
}
