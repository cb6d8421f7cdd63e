/* SPDX-License-Identifier: MIT */
/*
 * test_link.c - the netstack from the wire up, through ns_link_input() and
 * a socketpair standing in for a TAP device: ARP answers, ICMP echo, the
 * DHCP exchange on the wire, TCP termination to an arbitrary address, and
 * bad frames (runts, oversize, bad IP, garbage floods) counted, not fatal,
 * and packets from sources that are not plausible guest addresses dropped.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netstack/frame.h"
#include "netstack/netstack.h"

static const uint8_t gw_mac[6] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd };
static const uint8_t guest_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

struct rig {
	struct vg_loop *loop;
	struct ns *ns;
	int peer;    /* the guest's end of the "TAP" */
	bool manual; /* set before rig_up(): the loop on a manual clock */
};

static struct rig rig;

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void rig_up(const struct ns_handler *foreign)
{
	struct ns_config c;
	char err[256];
	int sv[2];

	ns_config_defaults(&c);
	cr_assert_eq(ns_config_check(&c, err, sizeof(err)), 0, "%s", err);
	rig.loop = vg_loop_new(1024);
	cr_assert_not_null(rig.loop);
	if (rig.manual)
		cr_assert_eq(vg_loop_set_clock(rig.loop, VG_CLOCK_MANUAL, 1000000), 0);
	rig.ns = ns_new(rig.loop, &c);
	cr_assert_not_null(rig.ns);
	if (foreign)
		cr_assert_eq(ns_register_foreign(rig.ns, foreign), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(ns_attach_tap(rig.ns, sv[0], err, sizeof(err)), 0, "%s", err);
	rig.peer = sv[1];
}

static void setup(void)
{
	rig_up(NULL);
}

static void teardown(void)
{
	ns_free(rig.ns);
	vg_loop_free(rig.loop);
	close(rig.peer);
}

static void send_frame(const uint8_t *f, size_t len)
{
	cr_assert_eq(send(rig.peer, f, len, 0), (ssize_t)len);
}

/* run the loop until a frame arrives for the guest (or ~2 s pass) */
static ssize_t recv_frame(uint8_t *buf, size_t cap)
{
	int i;

	for (i = 0; i < 200; i++) {
		ssize_t n = recv(rig.peer, buf, cap, MSG_DONTWAIT);

		if (n > 0)
			return n;
		vg_loop_run_once(rig.loop, 10);
	}
	return -1;
}

static void eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
}

static size_t arp_request(uint8_t *f, uint32_t sip, uint32_t tip)
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	memset(f, 0, 42);
	eth(f, bc, 0x0806);
	f[15] = 1;
	f[16] = 8;
	f[18] = 6;
	f[19] = 4;
	f[21] = 1;
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, &sip, 4);
	memcpy(f + 38, &tip, 4);
	return 42;
}

static void ip_header(uint8_t *p, uint8_t proto, size_t tot, uint32_t src, uint32_t dst)
{
	uint16_t s;

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	s = csum_fold(csum_partial(p, 20, 0));
	p[10] = (uint8_t)(s >> 8);
	p[11] = (uint8_t)s;
}

static size_t icmp_echo_from(uint8_t *f, uint32_t src, uint32_t dst)
{
	uint8_t *p = f + 14, *icmp = p + 20;
	uint16_t s;

	eth(f, gw_mac, 0x0800);
	ip_header(p, 1, 20 + 8 + 16, src, dst);
	memset(icmp, 0, 24);
	icmp[0] = 8;
	icmp[4] = 0x12;
	icmp[6] = 0;
	icmp[7] = 1;
	memcpy(icmp + 8, "vgate-echo-data!", 16);
	s = csum_fold(csum_partial(icmp, 24, 0));
	icmp[2] = (uint8_t)(s >> 8);
	icmp[3] = (uint8_t)s;
	return 14 + 20 + 24;
}

static size_t icmp_echo(uint8_t *f, uint32_t dst)
{
	return icmp_echo_from(f, ip("192.168.127.2"), dst);
}

static size_t tcp_syn(uint8_t *f, uint32_t dst, uint16_t dport)
{
	uint8_t *p = f + 14, *t = p + 20;
	uint32_t src = ip("192.168.127.2"), sum;
	uint16_t s;

	eth(f, gw_mac, 0x0800);
	ip_header(p, 6, 40, src, dst);
	memset(t, 0, 20);
	t[0] = 0xc0;
	t[1] = 0x01; /* port 49153 */
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	t[7] = 100; /* seq 100 */
	t[12] = 5 << 4;
	t[13] = 0x02; /* SYN */
	t[14] = 0xff;
	t[15] = 0xff;
	sum = csum_partial(p + 12, 8, 0) + 6 + 20;
	s = csum_fold(csum_partial(t, 20, sum));
	t[16] = (uint8_t)(s >> 8);
	t[17] = (uint8_t)s;
	return 54;
}

TestSuite(link, .init = setup, .fini = teardown);

Test(link, arp_for_gateway_and_host_alias_only)
{
	uint8_t f[128], r[2048];
	ssize_t n;
	uint32_t a;

	send_frame(f, arp_request(f, ip("192.168.127.2"), ip("192.168.127.1")));
	n = recv_frame(r, sizeof(r));
	cr_assert_eq(n, 42);
	cr_assert_eq(r[21], 2, "ARP reply");
	cr_assert_eq(memcmp(r + 22, gw_mac, 6), 0);
	memcpy(&a, r + 28, 4);
	cr_assert_eq(a, ip("192.168.127.1"));
	cr_assert_eq(memcmp(r, guest_mac, 6), 0, "unicast back to the asker");

	send_frame(f, arp_request(f, ip("192.168.127.2"), ip("192.168.127.254")));
	n = recv_frame(r, sizeof(r));
	cr_assert_eq(n, 42);
	memcpy(&a, r + 28, 4);
	cr_assert_eq(a, ip("192.168.127.254"));

	send_frame(f, arp_request(f, ip("192.168.127.2"), ip("192.168.127.77")));
	cr_assert_eq(recv_frame(r, sizeof(r)), -1, "no answer for other addresses");
}

Test(link, icmp_echo_to_gateway)
{
	uint8_t f[128], r[2048];
	ssize_t n;

	send_frame(f, icmp_echo(f, ip("192.168.127.1")));
	n = recv_frame(r, sizeof(r));
	cr_assert_eq(n, 14 + 20 + 24);
	cr_assert_eq(r[14 + 9], 1);
	cr_assert_eq(r[14 + 20], 0, "echo reply");
	cr_assert_eq(memcmp(r + 14 + 28, "vgate-echo-data!", 16), 0);
	cr_assert_eq(memcmp(r, guest_mac, 6), 0);
}

static void *accept_flow(void *ctx, struct ns_flow *f, const struct ns_addr *src,
			 const struct ns_addr *dst)
{
	(void)ctx;
	(void)src;
	(void)dst;
	return f;
}

static void noop(void *user)
{
	(void)user;
}

Test(tcp, syn_to_any_address_is_answered_from_that_address, .fini = teardown)
{
	struct ns_handler h = { .tcp_accept = accept_flow, .ops = { .recv = noop, .sent = noop } };
	uint8_t f[128], r[2048];
	uint32_t src, ack;
	ssize_t n;

	rig_up(&h);
	send_frame(f, tcp_syn(f, ip("203.0.113.7"), 5000));
	n = recv_frame(r, sizeof(r));
	cr_assert_geq(n, 54);
	cr_assert_eq(r[14 + 9], 6);
	memcpy(&src, r + 14 + 12, 4);
	cr_assert_eq(src, ip("203.0.113.7"), "SYN-ACK from the dialled address");
	cr_assert_eq(r[14 + 20 + 0] << 8 | r[14 + 20 + 1], 5000);
	cr_assert_eq(r[14 + 20 + 13] & 0x12, 0x12, "SYN+ACK");
	ack = (uint32_t)r[14 + 28] << 24 | (uint32_t)r[14 + 29] << 16 | r[14 + 30] << 8 | r[14 + 31];
	cr_assert_eq(ack, 101);
}

/*
 * lwIP's timers run on the loop's clock: on a manual clock, a SYN-ACK the
 * guest never answers is sent again once the clock has moved past lwIP's
 * first retransmission timeout (3 s), and not before, with no real waiting.
 */
Test(tcp, lwip_timers_run_on_the_loop_clock, .fini = teardown)
{
	struct ns_handler h = { .tcp_accept = accept_flow, .ops = { .recv = noop, .sent = noop } };
	uint8_t f[128], r[2048];
	uint64_t t0;
	ssize_t n;
	int i;

	rig.manual = true;
	rig_up(&h);
	send_frame(f, tcp_syn(f, ip("203.0.113.9"), 5001));
	n = recv_frame(r, sizeof(r));
	cr_assert_geq(n, 54);
	cr_assert_eq(r[14 + 20 + 13] & 0x12, 0x12, "SYN+ACK");
	t0 = vg_loop_now(rig.loop);
	/* 250 ms steps, each followed by a turn that re-arms lwIP's tick */
	for (i = 0; i < 80; i++) {
		vg_loop_advance(rig.loop, 250);
		vg_loop_run_once(rig.loop, 0);
		n = recv(rig.peer, r, sizeof(r), MSG_DONTWAIT);
		if (n > 0)
			break;
	}
	cr_assert_geq(n, 54, "no SYN-ACK again within 20 s of the manual clock");
	cr_assert_eq(r[14 + 20 + 13] & 0x12, 0x12, "the SYN+ACK again");
	cr_assert_geq(vg_loop_now(rig.loop) - t0, 2500, "retransmitted after %llu ms",
		      (unsigned long long)(vg_loop_now(rig.loop) - t0));
}

static enum ns_syn_verdict refuse(void *ctx, uint64_t token, const struct ns_addr *src,
				  const struct ns_addr *dst)
{
	(void)ctx;
	(void)token;
	(void)src;
	(void)dst;
	return NS_SYN_RESET;
}

Test(tcp, syn_refused_by_hook_gets_rst, .fini = teardown)
{
	struct ns_handler h = { .tcp_syn = refuse, .tcp_accept = accept_flow };
	uint8_t f[128], r[2048];
	struct ns_stats st;
	ssize_t n;

	rig_up(&h);
	send_frame(f, tcp_syn(f, ip("198.51.100.1"), 80));
	n = recv_frame(r, sizeof(r));
	cr_assert_geq(n, 54);
	cr_assert_eq(r[14 + 20 + 13] & 0x04, 0x04, "RST");
	ns_get_stats(rig.ns, &st);
	cr_assert_eq(st.tcp_syn_reset, 1);
}

Test(link, bad_frames_are_counted)
{
	uint8_t f[2048], r[2048];
	struct ns_stats st;
	size_t n;

	memset(f, 0, sizeof(f));
	send_frame(f, 10); /* runt */
	eth(f, gw_mac, 0x0800);
	send_frame(f, 1600); /* above MTU 1500 + 14 */
	n = icmp_echo(f, ip("192.168.127.1"));
	f[14 + 10] ^= 0xff; /* broken IP checksum */
	send_frame(f, n);
	n = icmp_echo(f, ip("192.168.127.1"));
	f[14 + 2] = 0x10; /* total length beyond the frame */
	send_frame(f, n);
	eth(f, gw_mac, 0x86dd); /* IPv6 of version 0: a bad IPv6 header, counted */
	send_frame(f, 60);
	eth(f, gw_mac, 0x88cc); /* LLDP: an ethertype not handled, counted */
	send_frame(f, 60);
	cr_assert_eq(recv_frame(r, sizeof(r)), -1);
	ns_get_stats(rig.ns, &st);
	cr_assert_eq(st.drop_runt, 1);
	cr_assert_eq(st.drop_oversize, 1);
	cr_assert_eq(st.drop_bad_ip, 2);
	cr_assert_eq(st.drop_bad_ip6, 1);
	cr_assert_eq(st.drop_ethertype, 1);
}

Test(link, garbage_flood_then_link_still_works)
{
	uint8_t f[1600], r[2048];
	unsigned int seed = 12345;
	int i;

	for (i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand_r(&seed) % 1600), k;

		for (k = 0; k < len; k++)
			f[k] = (uint8_t)rand_r(&seed);
		/* half of them look like IPv4/ARP to the gateway to go deeper */
		if (len > 14 && (i & 1)) {
			memcpy(f, gw_mac, 6);
			f[12] = 0x08;
			f[13] = (i & 2) ? 0x06 : 0x00;
		}
		ns_link_input(rig.ns, f, len);
		if (!(i % 1000))
			vg_loop_run_once(rig.loop, 0);
	}
	while (recv(rig.peer, r, sizeof(r), MSG_DONTWAIT) > 0)
		;
	send_frame(f, icmp_echo(f, ip("192.168.127.1")));
	cr_assert_gt(recv_frame(r, sizeof(r)), 0);
	send_frame(f, arp_request(f, ip("192.168.127.2"), ip("192.168.127.1")));
	cr_assert_eq(recv_frame(r, sizeof(r)), 42);
}

Test(link, dhcp_on_the_wire)
{
	uint8_t f[600], r[2048];
	uint8_t *p = f + 14, *u = p + 20, *b = u + 8;
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	ssize_t n;
	uint32_t yi;

	memset(f, 0, sizeof(f));
	eth(f, bc, 0x0800);
	ip_header(p, 17, 20 + 8 + 300, 0, 0xffffffffu);
	u[1] = 68;
	u[3] = 67;
	u[5] = 8 + 44; /* length 308 = 0x134 */
	u[4] = 1;
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	memcpy(b + 28, guest_mac, 6);
	b[236] = 0x63;
	b[237] = 0x82;
	b[238] = 0x53;
	b[239] = 0x63;
	b[240] = 53;
	b[241] = 1;
	b[242] = 1;
	b[243] = 255;
	send_frame(f, 14 + 20 + 8 + 300);
	n = recv_frame(r, sizeof(r));
	cr_assert_gt(n, 14 + 28 + 240);
	cr_assert_eq(r[14 + 20 + 1], 67);
	cr_assert_eq(r[14 + 20 + 3], 68);
	cr_assert_eq(r[14 + 28 + 242], 2, "OFFER");
	memcpy(&yi, r + 14 + 28 + 16, 4);
	cr_assert_eq(yi, ip("192.168.127.2"));
	/* the UDP checksum must verify */
	{
		uint32_t sum = csum_partial(r + 14 + 12, 8, 0);
		size_t ulen = (size_t)r[14 + 24] << 8 | r[14 + 25];

		sum += 17 + (uint32_t)ulen;
		cr_assert_eq(csum_fold(csum_partial(r + 14 + 20, ulen, sum)), 0);
	}
}

Test(link, implausible_sources_are_dropped_and_counted)
{
	static const char *const bad[] = {
		"10.9.9.9",	   /* outside the subnet */
		"192.168.127.1",   /* the gateway */
		"192.168.127.254", /* the host alias */
		"192.168.127.0",   /* the network address */
		"192.168.127.255", /* the subnet broadcast */
		"0.0.0.0",	   /* only DHCP may come from here */
		"255.255.255.255", "224.0.0.1",
	};
	uint8_t f[128], r[2048];
	struct ns_stats st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_frame(f, icmp_echo_from(f, ip(bad[i]), ip("192.168.127.1")));
		send_frame(f, icmp_echo_from(f, ip(bad[i]), ip("203.0.113.7")));
	}
	cr_assert_eq(recv_frame(r, sizeof(r)), -1, "no answer to any of them");
	ns_get_stats(rig.ns, &st);
	cr_assert_eq(st.drop_bad_src, 2 * (sizeof(bad) / sizeof(bad[0])));
	cr_assert_eq(st.drop_bad_ip, 0);
	cr_assert_eq(st.icmp_echo_replies, 0);

	/* the guest's own address still works, and ARP is answered as before */
	send_frame(f, icmp_echo(f, ip("192.168.127.1")));
	cr_assert_eq(recv_frame(r, sizeof(r)), 14 + 20 + 24);
	send_frame(f, arp_request(f, ip("192.168.127.2"), ip("192.168.127.1")));
	cr_assert_eq(recv_frame(r, sizeof(r)), 42);
	ns_get_stats(rig.ns, &st);
	cr_assert_eq(st.drop_bad_src, 2 * (sizeof(bad) / sizeof(bad[0])));
}
