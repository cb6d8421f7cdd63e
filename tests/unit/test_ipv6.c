/* SPDX-License-Identifier: MIT */
/*
 * test_ipv6.c - the IPv6 link from the wire up, through ns_link_input()
 * and a socketpair standing in for a TAP device: ICMPv6 echo to fe80::1
 * and PREFIX::1 answered by the engine, a UDP datagram to a closed gateway
 * port answered port unreachable, Neighbour Solicitation answered on the
 * wire, the Router Advertisement timer on a manual clock (silent until the
 * guest speaks IPv6), and every kind of bad IPv6 packet a counted drop:
 * hop limit not 255 on ND, bad ICMPv6 checksums, truncated headers,
 * implausible sources, groups not served, fragments to the gateway, and all
 * IPv6 with no_ipv6.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ip6_frames.h"
#include "netstack/frame.h"
#include "netstack/ndp.h"
#include "netstack/netstack.h"

static struct vg_loop *loop;
static struct ns *ns;
static int peer;

static void rig_up(bool manual, bool no_ipv6)
{
	struct ns_config c;
	char err[256];
	int sv[2];

	ns_config_defaults(&c);
	c.no_ipv6 = no_ipv6;
	strcpy(c.search, "vgate.internal");
	cr_assert_eq(ns_config_check(&c, err, sizeof(err)), 0, "%s", err);
	loop = vg_loop_new(1024);
	cr_assert_not_null(loop);
	if (manual)
		cr_assert_eq(vg_loop_set_clock(loop, VG_CLOCK_MANUAL, 1000000), 0);
	ns = ns_new(loop, &c);
	cr_assert_not_null(ns);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(ns_attach_tap(ns, sv[0], err, sizeof(err)), 0, "%s", err);
	peer = sv[1];
}

/* on a manual clock, so no Router Advertisement comes between */
static void setup(void)
{
	rig_up(true, false);
}

static void teardown(void)
{
	ns_free(ns);
	vg_loop_free(loop);
	close(peer);
}

static void send_frame(const uint8_t *f, size_t len)
{
	cr_assert_eq(send(peer, f, len, 0), (ssize_t)len);
}

/* run the loop until a frame arrives for the guest (or @tries turns pass) */
static ssize_t recv_frame_n(uint8_t *buf, size_t cap, int tries)
{
	int i;

	for (i = 0; i < tries; i++) {
		ssize_t n = recv(peer, buf, cap, MSG_DONTWAIT);

		if (n > 0)
			return n;
		vg_loop_run_once(loop, 10);
	}
	return -1;
}

static ssize_t recv_frame(uint8_t *buf, size_t cap)
{
	return recv_frame_n(buf, cap, 100);
}

static size_t echo6(uint8_t *f, const char *src, const char *dst)
{
	uint8_t b[24] = {ICMP6_ECHO_REQ, 0, 0, 0, 0x12, 0x34, 0, 1};

	memcpy(b + 8, "vgate-echo-data!", 16);
	return t6_frame(f, src, dst, IP6_NH_ICMP6, 64, b, sizeof(b), 2);
}

static size_t ns6(uint8_t *f, const char *src, const char *dst, const char *target, uint8_t hop)
{
	uint8_t b[32];

	return t6_frame(f, src, dst, IP6_NH_ICMP6, hop, b, t6_ns_body(b, target, src[0] != ':'), 2);
}

/* the frame's IPv6 source or destination equals @a */
static void assert_addr(const uint8_t *f, size_t at, const char *a)
{
	uint8_t x[16];

	t6_addr(a, x);
	cr_assert_eq(memcmp(f + ETH_HLEN_ + at, x, 16), 0, "%s", a);
}

TestSuite(ipv6, .init = setup, .fini = teardown);

Test(ipv6, echo_to_the_gateway_is_answered)
{
	static const char *const gw[] = {"fe80::1", "fd00:7661:7465::1"};
	uint8_t f[256], r[2048];
	struct ns_stats st;
	ssize_t n;
	size_t i;

	for (i = 0; i < 2; i++) {
		send_frame(f, echo6(f, i ? "fd00:7661:7465::5" : "fe80::2", gw[i]));
		n = recv_frame(r, sizeof(r));
		cr_assert_eq(n, ETH_HLEN_ + IP6_HLEN + 24, "an echo reply from %s", gw[i]);
		cr_assert_eq(memcmp(r, t6_guest_mac, 6), 0, "to the sender's MAC");
		cr_assert_eq(r[12], 0x86);
		cr_assert_eq(r[ETH_HLEN_ + 6], IP6_NH_ICMP6);
		cr_assert_eq(r[ETH_HLEN_ + IP6_HLEN], ICMP6_ECHO_REP);
		assert_addr(r, 8, gw[i]);
		assert_addr(r, 24, i ? "fd00:7661:7465::5" : "fe80::2");
		cr_assert_eq(memcmp(r + ETH_HLEN_ + IP6_HLEN + 8, "vgate-echo-data!", 16), 0);
	}
	ns_get_stats(ns, &st);
	cr_assert_eq(st.icmp6_echo_replies, 2);
	cr_assert_eq(st.ip6_rx, 2);
}

Test(ipv6, udp_to_a_closed_gateway_port_is_unreachable)
{
	uint8_t f[256], r[2048], u[12] = {0xc0, 0x01, 0x13, 0x88, 0, 12, 0, 0, 'h', 'i', '!', '\n'};
	ssize_t n;

	send_frame(f, t6_frame(f, "fd00:7661:7465::5", "fd00:7661:7465::1", IP6_NH_UDP, 64, u,
			       sizeof(u), 6));
	n = recv_frame(r, sizeof(r));
	cr_assert_gt(n, ETH_HLEN_ + IP6_HLEN + 8);
	cr_assert_eq(r[ETH_HLEN_ + IP6_HLEN], 1, "destination unreachable");
	cr_assert_eq(r[ETH_HLEN_ + IP6_HLEN + 1], 4, "port unreachable");
}

Test(ipv6, neighbour_solicitation_on_the_wire)
{
	uint8_t f[256], r[2048];
	struct ns_stats st;
	ssize_t n;

	send_frame(f, ns6(f, "fe80::2", "ff02::1:ff00:1", "fe80::1", 255));
	n = recv_frame(r, sizeof(r));
	cr_assert_eq(n, ETH_HLEN_ + IP6_HLEN + 32);
	cr_assert_eq(r[ETH_HLEN_ + IP6_HLEN], ND_NA);
	cr_assert_eq(memcmp(r, t6_guest_mac, 6), 0);
	assert_addr(r, 24, "fe80::2");
	/* hop limit 64: not from this link, dropped and counted */
	send_frame(f, ns6(f, "fe80::2", "ff02::1:ff00:1", "fe80::1", 64));
	cr_assert_eq(recv_frame(r, sizeof(r)), -1);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.nd_ns_in, 1);
	cr_assert_eq(st.nd_na_out, 1);
	cr_assert_eq(st.drop_nd, 1);
}

Test(ipv6, bad_packets_are_counted_drops)
{
	uint8_t f[256], r[2048];
	struct ns_stats st;
	size_t n;

	/* bad ICMPv6 checksum to the gateway */
	n = echo6(f, "fe80::2", "fe80::1");
	f[ETH_HLEN_ + IP6_HLEN + 2] ^= 0x40;
	send_frame(f, n);
	/* truncated: payload length beyond the frame */
	n = echo6(f, "fe80::2", "fe80::1");
	f[ETH_HLEN_ + 4] = 0x04;
	send_frame(f, n);
	/* an extension header running past the packet */
	n = echo6(f, "fe80::2", "fe80::1");
	f[ETH_HLEN_ + 6] = IP6_NH_DSTOPTS;
	f[ETH_HLEN_ + IP6_HLEN + 1] = 200;
	send_frame(f, n);
	/* sources that are not the guest's */
	send_frame(f, echo6(f, "2001:db8::5", "fd00:7661:7465::1"));
	send_frame(f, echo6(f, "fd00:7661:7465::254", "fd00:7661:7465::1"));
	send_frame(f, echo6(f, "::", "fd00:7661:7465::1"));
	/* groups and link-local hosts that are not served */
	send_frame(f, echo6(f, "fe80::2", "ff02::16"));
	send_frame(f, echo6(f, "fe80::2", "fe80::99"));
	/* a fragment to the gateway */
	{
		uint8_t b[16] = {IP6_NH_ICMP6, 0, 0, 1, 0, 0, 0, 7, ICMP6_ECHO_REQ};

		send_frame(f, t6_frame(f, "fe80::2", "fe80::1", IP6_NH_FRAG, 64, b, sizeof(b), 10));
	}
	/* ICMPv6 echo to another address: the engine forwards TCP and UDP only
	 * (ping to the outside is issue 14 item 7) */
	send_frame(f, echo6(f, "fd00:7661:7465::5", "2001:db8::1"));
	cr_assert_eq(recv_frame(r, sizeof(r)), -1, "nothing answered");
	ns_get_stats(ns, &st);
	cr_assert_eq(st.drop_bad_icmp6, 1);
	cr_assert_eq(st.drop_bad_ip6, 2);
	cr_assert_eq(st.drop_bad_src6, 3);
	cr_assert_eq(st.drop_ip6_dst, 2);
	cr_assert_eq(st.drop_ip6_frag, 1);
	cr_assert_eq(st.drop_proto, 1);
	cr_assert_eq(st.icmp6_echo_replies, 0);
}

Test(ipv6_rig, no_ipv6_drops_every_ipv6_frame, .fini = teardown)
{
	uint8_t f[256], r[2048];
	struct ns_stats st;

	rig_up(false, true);
	send_frame(f, echo6(f, "fe80::2", "fe80::1"));
	send_frame(f, ns6(f, "fe80::2", "ff02::1:ff00:1", "fe80::1", 255));
	cr_assert_eq(recv_frame(r, sizeof(r)), -1);
	ns_get_stats(ns, &st);
	cr_assert_eq(st.drop_ip6_off, 2);
	cr_assert_eq(st.nd_na_out, 0);
	cr_assert_eq(st.icmp6_echo_replies, 0);
}

Test(ipv6_rig, router_advertisements_start_when_the_guest_speaks_ipv6, .fini = teardown)
{
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	uint8_t f[256], r[2048];
	ssize_t n;
	int i;

	rig_up(true, false);
	vg_loop_advance(loop, 700000);
	cr_assert_eq(recv_frame_n(r, sizeof(r), 5), -1, "no RA into a silent link");
	/* the guest's DAD probe starts them */
	send_frame(f, ns6(f, "::", "ff02::1:ff00:5", "fd00:7661:7465::5", 255));
	vg_loop_run_once(loop, 10);
	cr_assert_eq(recv_frame_n(r, sizeof(r), 3), -1, "the probe itself is not answered");
	vg_loop_advance(loop, NDP_RA_FIRST_MS);
	for (i = 0; i < NDP_RA_INITIAL; i++) {
		n = recv_frame_n(r, sizeof(r), 5);
		cr_assert_gt(n, ETH_HLEN_ + IP6_HLEN + 16, "RA %d", i);
		cr_assert_eq(memcmp(r, all_nodes_mac, 6), 0);
		cr_assert_eq(r[ETH_HLEN_ + 7], 255);
		cr_assert_eq(r[ETH_HLEN_ + IP6_HLEN], ND_RA);
		assert_addr(r, 8, "fe80::1");
		assert_addr(r, 24, "ff02::1");
		if (i + 1 < NDP_RA_INITIAL) {
			vg_loop_advance(loop, NDP_RA_INITIAL_MS - 1);
			cr_assert_eq(recv_frame_n(r, sizeof(r), 2), -1, "not before 16 s");
			vg_loop_advance(loop, 1);
		}
	}
	/* then every 200-600 s */
	vg_loop_advance(loop, NDP_RA_MIN_MS - 1);
	cr_assert_eq(recv_frame_n(r, sizeof(r), 2), -1, "not before 200 s");
	vg_loop_advance(loop, NDP_RA_MAX_MS - NDP_RA_MIN_MS + 1);
	cr_assert_gt(recv_frame_n(r, sizeof(r), 5), 0, "by 600 s");
}
