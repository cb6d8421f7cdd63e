/* SPDX-License-Identifier: MIT */
/*
 * test_dhcp.c - the DHCP server state machine without I/O: the four-way
 * exchange, every option a guest needs, NAK, another server chosen,
 * RELEASE, DECLINE, INFORM, pool exhaustion, expiry and malformed messages.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "netstack/dhcp.h"

static struct dhcp_server srv;

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void setup_small(uint32_t first, uint32_t last)
{
	struct dhcp_config c = {
		.server_ip = ip("192.168.127.1"),
		.netmask = ip("255.255.255.0"),
		.router = ip("192.168.127.1"),
		.dns = ip("192.168.127.1"),
		.first = first,
		.last = last,
		.lease_s = 3600,
		.mtu = 1400,
		.domain = "vgate.internal",
		.search = "vgate.internal example.test",
	};

	cr_assert_eq(dhcp_init(&srv, &c), 0);
}

static void setup(void)
{
	setup_small(ip("192.168.127.2"), ip("192.168.127.253"));
}

static void teardown(void)
{
	dhcp_free(&srv);
}

/* build a client message; returns its length */
static size_t msg(uint8_t *b, uint8_t type, uint8_t macid, uint32_t ciaddr, uint32_t req,
		  uint32_t server_id)
{
	size_t n = 240;

	memset(b, 0, 548);
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	b[4] = 0x12;
	b[5] = 0x34;
	b[6] = 0x56;
	b[7] = macid;
	memcpy(b + 12, &ciaddr, 4);
	b[28] = 0x02;
	b[29] = 0x11;
	b[33] = macid;
	b[236] = 0x63;
	b[237] = 0x82;
	b[238] = 0x53;
	b[239] = 0x63;
	b[n++] = 53;
	b[n++] = 1;
	b[n++] = type;
	if (req) {
		b[n++] = 50;
		b[n++] = 4;
		memcpy(b + n, &req, 4);
		n += 4;
	}
	if (server_id) {
		b[n++] = 54;
		b[n++] = 4;
		memcpy(b + n, &server_id, 4);
		n += 4;
	}
	b[n++] = 12;
	b[n++] = 5;
	memcpy(b + n, "guest", 5);
	n += 5;
	b[n++] = 255;
	return n;
}

/* find option @code in a reply; returns its length or -1 */
static int opt(const struct dhcp_reply *r, uint8_t code, const uint8_t **val)
{
	size_t i = 240;

	while (i + 1 < r->len) {
		uint8_t c = r->data[i], l;

		if (c == 0) {
			i++;
			continue;
		}
		if (c == 255)
			break;
		l = r->data[i + 1];
		if (c == code) {
			*val = r->data + i + 2;
			return l;
		}
		i += 2 + l;
	}
	return -1;
}

static uint32_t yiaddr(const struct dhcp_reply *r)
{
	uint32_t a;

	memcpy(&a, r->data + 16, 4);
	return a;
}

TestSuite(dhcp, .init = setup, .fini = teardown);

Test(dhcp, discover_offer_request_ack_with_options)
{
	uint8_t b[548];
	struct dhcp_reply r;
	const uint8_t *v;
	uint32_t u;

	cr_assert_eq(dhcp_input(&srv, 1000, b, msg(b, DHCP_DISCOVER, 1, 0, 0, 0), &r), 1);
	cr_assert_eq(r.type, DHCP_OFFER);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.2"));
	cr_assert_eq(r.data[0], 2);
	cr_assert_eq(memcmp(r.data + 4, b + 4, 4), 0, "xid echoed");
	cr_assert_eq(r.dst_ip, 0xffffffffu);
	cr_assert_eq(r.dst_mac[5], 1);

	cr_assert_eq(dhcp_input(&srv, 1100, b,
				msg(b, DHCP_REQUEST, 1, 0, ip("192.168.127.2"), ip("192.168.127.1")),
				&r),
		     1);
	cr_assert_eq(r.type, DHCP_ACK);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.2"));
	cr_assert_eq(opt(&r, 1, &v), 4);
	memcpy(&u, v, 4);
	cr_assert_eq(u, ip("255.255.255.0"));
	cr_assert_eq(opt(&r, 3, &v), 4);
	memcpy(&u, v, 4);
	cr_assert_eq(u, ip("192.168.127.1"));
	cr_assert_eq(opt(&r, 6, &v), 4);
	memcpy(&u, v, 4);
	cr_assert_eq(u, ip("192.168.127.1"));
	cr_assert_eq(opt(&r, 26, &v), 2);
	cr_assert_eq(v[0] << 8 | v[1], 1400);
	cr_assert_eq(opt(&r, 51, &v), 4);
	cr_assert_eq(((uint32_t)v[2] << 8 | v[3]), 3600);
	cr_assert_eq(opt(&r, 15, &v), (int)strlen("vgate.internal"));
	cr_assert_eq(memcmp(v, "vgate.internal", 14), 0);
	/* option 119: \5vgate\10internal\0 \7example\4test\0 */
	cr_assert_eq(opt(&r, 119, &v), 16 + 14);
	cr_assert_eq(v[0], 5);
	cr_assert_eq(memcmp(v + 1, "vgate", 5), 0);
	cr_assert_eq(v[16], 7);
	cr_assert_eq(opt(&r, 54, &v), 4);
	cr_assert_eq(srv.st.discover, 1);
	cr_assert_eq(srv.st.ack, 1);
	cr_assert_str_eq(srv.leases[0].hostname, "guest");
	cr_assert(srv.leases[0].bound);
}

Test(dhcp, same_client_gets_same_address_and_others_differ)
{
	uint8_t b[548];
	struct dhcp_reply r;

	dhcp_input(&srv, 0, b, msg(b, DHCP_DISCOVER, 1, 0, 0, 0), &r);
	dhcp_input(&srv, 0, b, msg(b, DHCP_REQUEST, 1, 0, yiaddr(&r), ip("192.168.127.1")), &r);
	cr_assert_eq(r.type, DHCP_ACK);
	dhcp_input(&srv, 10, b, msg(b, DHCP_DISCOVER, 1, 0, 0, 0), &r);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.2"));
	dhcp_input(&srv, 10, b, msg(b, DHCP_DISCOVER, 2, 0, 0, 0), &r);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.3"));
}

Test(dhcp, request_for_taken_or_foreign_address_is_nak)
{
	uint8_t b[548];
	struct dhcp_reply r;

	dhcp_input(&srv, 0, b, msg(b, DHCP_DISCOVER, 1, 0, 0, 0), &r);
	dhcp_input(&srv, 0, b, msg(b, DHCP_REQUEST, 1, 0, yiaddr(&r), 0), &r);
	/* client 2 asks for client 1's address (INIT-REBOOT) */
	cr_assert_eq(dhcp_input(&srv, 1, b, msg(b, DHCP_REQUEST, 2, 0, ip("192.168.127.2"), 0), &r),
		     1);
	cr_assert_eq(r.type, DHCP_NAK);
	cr_assert_eq(r.dst_mac[0], 0xff, "NAK is broadcast");
	/* an address outside the range */
	cr_assert_eq(dhcp_input(&srv, 1, b, msg(b, DHCP_REQUEST, 3, 0, ip("10.0.0.5"), 0), &r), 1);
	cr_assert_eq(r.type, DHCP_NAK);
	cr_assert_eq(srv.st.nak, 2);
}

Test(dhcp, other_server_chosen_releases_offer)
{
	uint8_t b[548];
	struct dhcp_reply r;

	dhcp_input(&srv, 0, b, msg(b, DHCP_DISCOVER, 1, 0, 0, 0), &r);
	cr_assert(srv.leases[0].used);
	cr_assert_eq(dhcp_input(&srv, 1, b,
				msg(b, DHCP_REQUEST, 1, 0, ip("192.168.127.2"), ip("192.168.127.99")),
				&r),
		     0);
	cr_assert_not(srv.leases[0].used);
}

Test(dhcp, renew_unicast_release_and_reuse)
{
	uint8_t b[548];
	struct dhcp_reply r;

	dhcp_input(&srv, 0, b, msg(b, DHCP_DISCOVER, 1, 0, 0, 0), &r);
	dhcp_input(&srv, 0, b, msg(b, DHCP_REQUEST, 1, 0, yiaddr(&r), 0), &r);
	/* RENEWING: ciaddr set, no requested-ip, answer unicast */
	cr_assert_eq(dhcp_input(&srv, 5000, b, msg(b, DHCP_REQUEST, 1, ip("192.168.127.2"), 0, 0),
				&r),
		     1);
	cr_assert_eq(r.type, DHCP_ACK);
	cr_assert_eq(r.dst_ip, ip("192.168.127.2"));
	cr_assert_eq(srv.leases[0].expires_ms, 5000 + 3600 * 1000ull);
	cr_assert_eq(dhcp_input(&srv, 6000, b, msg(b, DHCP_RELEASE, 1, ip("192.168.127.2"), 0, 0),
				&r),
		     0);
	cr_assert_not(srv.leases[0].used);
	dhcp_input(&srv, 7000, b, msg(b, DHCP_DISCOVER, 2, 0, 0, 0), &r);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.2"));
}

Test(dhcp, decline_parks_address)
{
	uint8_t b[548];
	struct dhcp_reply r;

	dhcp_input(&srv, 0, b, msg(b, DHCP_DISCOVER, 1, 0, 0, 0), &r);
	dhcp_input(&srv, 0, b, msg(b, DHCP_REQUEST, 1, 0, yiaddr(&r), 0), &r);
	dhcp_input(&srv, 1, b, msg(b, DHCP_DECLINE, 1, 0, ip("192.168.127.2"), 0), &r);
	dhcp_input(&srv, 2, b, msg(b, DHCP_DISCOVER, 1, 0, 0, 0), &r);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.3"), "declined address is not offered again");
	cr_assert_eq(srv.st.decline, 1);
}

Test(dhcp, inform_gets_options_without_lease)
{
	uint8_t b[548];
	struct dhcp_reply r;
	const uint8_t *v;
	uint32_t ci;

	cr_assert_eq(dhcp_input(&srv, 0, b, msg(b, DHCP_INFORM, 1, ip("192.168.127.50"), 0, 0), &r),
		     1);
	cr_assert_eq(r.type, DHCP_ACK);
	cr_assert_eq(opt(&r, 51, &v), -1, "no lease time in an INFORM answer");
	cr_assert_eq(opt(&r, 6, &v), 4);
	memcpy(&ci, r.data + 12, 4);
	cr_assert_eq(ci, ip("192.168.127.50"));
	cr_assert_eq(yiaddr(&r), 0);
}

Test(dhcp, pool_exhaustion_and_expiry)
{
	uint8_t b[548];
	struct dhcp_reply r;

	dhcp_free(&srv);
	setup_small(ip("192.168.127.2"), ip("192.168.127.3"));
	dhcp_input(&srv, 0, b, msg(b, DHCP_DISCOVER, 1, 0, 0, 0), &r);
	dhcp_input(&srv, 0, b, msg(b, DHCP_REQUEST, 1, 0, yiaddr(&r), 0), &r);
	dhcp_input(&srv, 0, b, msg(b, DHCP_DISCOVER, 2, 0, 0, 0), &r);
	dhcp_input(&srv, 0, b, msg(b, DHCP_REQUEST, 2, 0, yiaddr(&r), 0), &r);
	cr_assert_eq(dhcp_input(&srv, 10, b, msg(b, DHCP_DISCOVER, 3, 0, 0, 0), &r), 0,
		     "no free address: no offer");
	/* after the leases expire, the address is reused */
	cr_assert_eq(dhcp_input(&srv, 3601 * 1000ull, b, msg(b, DHCP_DISCOVER, 3, 0, 0, 0), &r), 1);
	cr_assert_eq(r.type, DHCP_OFFER);
}

Test(dhcp, malformed_messages_are_counted_not_answered)
{
	uint8_t b[548];
	struct dhcp_reply r;
	size_t n;

	n = msg(b, DHCP_DISCOVER, 1, 0, 0, 0);
	cr_assert_eq(dhcp_input(&srv, 0, b, 100, &r), -1, "short");
	b[236] = 0;
	cr_assert_eq(dhcp_input(&srv, 0, b, n, &r), -1, "bad magic");
	n = msg(b, DHCP_DISCOVER, 1, 0, 0, 0);
	b[n - 1] = 12; /* hostname option running off the end */
	b[n] = 200;
	cr_assert_eq(dhcp_input(&srv, 0, b, n + 1, &r), -1, "option overrun");
	n = msg(b, 42, 1, 0, 0, 0);
	cr_assert_eq(dhcp_input(&srv, 0, b, n, &r), -1, "unknown type");
	n = msg(b, DHCP_DISCOVER, 1, 0, 0, 0);
	b[0] = 2;
	cr_assert_eq(dhcp_input(&srv, 0, b, n, &r), -1, "BOOTREPLY from a client");
	cr_assert_eq(srv.st.bad, 5);
	cr_assert_eq(srv.st.offer, 0);
}

/* static leases: client 9 (02:11:00:00:00:09) always gets .2, and .2 is
 * never given to anyone else, even when it asks for it */
static void setup_static(void)
{
	struct dhcp_config c = {
	    .server_ip = ip("192.168.127.1"),
	    .netmask = ip("255.255.255.0"),
	    .router = ip("192.168.127.1"),
	    .dns = ip("192.168.127.1"),
	    .first = ip("192.168.127.2"),
	    .last = ip("192.168.127.253"),
	    .lease_s = 3600,
	    .mtu = 1500,
	    .statics = {{.mac = {0x02, 0x11, 0, 0, 0, 9}}},
	    .n_statics = 1,
	};

	c.statics[0].ip = ip("192.168.127.2");
	cr_assert_eq(dhcp_init(&srv, &c), 0);
}

Test(dhcp_static, reserved_address_only_for_its_mac, .init = setup_static, .fini = teardown)
{
	uint8_t b[548];
	struct dhcp_reply r;

	/* another client first: not .2, even when it asks for .2 */
	cr_assert_eq(
	    dhcp_input(&srv, 0, b, msg(b, DHCP_DISCOVER, 1, 0, ip("192.168.127.2"), 0), &r), 1);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.3"));
	cr_assert_eq(dhcp_input(&srv, 0, b, msg(b, DHCP_REQUEST, 1, 0, ip("192.168.127.2"), 0), &r),
		     1);
	cr_assert_eq(r.type, DHCP_NAK, "a reserved address is NAKed to others");
	dhcp_input(&srv, 0, b, msg(b, DHCP_REQUEST, 1, 0, ip("192.168.127.3"), 0), &r);
	cr_assert_eq(r.type, DHCP_ACK);
	/* the owner gets .2 even when it asks for another address */
	cr_assert_eq(
	    dhcp_input(&srv, 1, b, msg(b, DHCP_DISCOVER, 9, 0, ip("192.168.127.7"), 0), &r), 1);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.2"));
	dhcp_input(&srv, 1, b, msg(b, DHCP_REQUEST, 9, 0, ip("192.168.127.7"), 0), &r);
	cr_assert_eq(r.type, DHCP_NAK, "the owner is sent back to its address");
	dhcp_input(&srv, 1, b, msg(b, DHCP_REQUEST, 9, 0, ip("192.168.127.2"), 0), &r);
	cr_assert_eq(r.type, DHCP_ACK);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.2"));
	/* a third client goes on after .3 */
	dhcp_input(&srv, 2, b, msg(b, DHCP_DISCOVER, 2, 0, 0, 0), &r);
	cr_assert_eq(yiaddr(&r), ip("192.168.127.4"));
}
