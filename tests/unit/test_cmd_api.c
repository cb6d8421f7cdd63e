/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_api.c - the control API's input helpers (cmd/api.c):
 * "[ADDR]:PORT" parsing for port forwards and DNS type names.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "cmd/api.h"

Test(api, hostport)
{
	struct ns_addr a;
	uint32_t lo = htonl(INADDR_LOOPBACK);

	cr_assert_eq(api_parse_hostport("127.0.0.2:2222", lo, &a), 0);
	cr_assert_eq(a.ip, htonl(0x7f000002));
	cr_assert_eq(a.port, 2222);
	cr_assert_eq(api_parse_hostport(":22", lo, &a), 0);
	cr_assert_eq(a.ip, lo);
	cr_assert_eq(a.port, 22);
	cr_assert_eq(api_parse_hostport("8080", lo, &a), 0);
	cr_assert_eq(a.port, 8080);
	cr_assert_eq(api_parse_hostport("", lo, &a), -1);
	cr_assert_eq(api_parse_hostport(":", lo, &a), -1);
	cr_assert_eq(api_parse_hostport(":0", lo, &a), -1);
	cr_assert_eq(api_parse_hostport(":65536", lo, &a), -1);
	cr_assert_eq(api_parse_hostport(":-1", lo, &a), -1);
	cr_assert_eq(api_parse_hostport(":22x", lo, &a), -1);
	cr_assert_eq(api_parse_hostport("300.1.1.1:22", lo, &a), -1);
	cr_assert_eq(api_parse_hostport("host:22", lo, &a), -1);
	cr_assert_eq(api_parse_hostport("1111111111111111111111111111:22", lo, &a), -1);
}

Test(api, dns_type_names)
{
	char buf[16];

	cr_assert_str_eq(api_dns_type_name(1, buf, sizeof(buf)), "A");
	cr_assert_str_eq(api_dns_type_name(28, buf, sizeof(buf)), "AAAA");
	cr_assert_str_eq(api_dns_type_name(65, buf, sizeof(buf)), "HTTPS");
	cr_assert_str_eq(api_dns_type_name(4242, buf, sizeof(buf)), "TYPE4242");
}
