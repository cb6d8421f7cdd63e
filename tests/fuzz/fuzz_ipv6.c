/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ipv6.c - libFuzzer target: IPv6 frames from the "guest" through
 * ns_link_input() into the IPv6 link (the header and extension-header
 * walk, the source and destination rules), Neighbour Discovery (ndp.c:
 * NS, NA, RS and their options) and, for the gateway's addresses, lwIP's
 * ip6_input() (ICMPv6 echo, UDP/TCP to the gateway's ports).
 *
 * How: one netstack for the whole process (lwIP is global state) on a
 * manual clock, without a transport; every frame vgate sends is seen
 * through the capture hook and must be a well-formed IPv6 frame whose
 * ICMPv6 checksum is right (else the target traps). Each input is a list
 * of records [ctl][len_hi][len_lo][bytes...]; the bytes are the IPv6
 * packet. ctl bits choose what the harness repairs so packets get past the
 * checks: 0x80 version and payload length; 0x40 hop limit 255; 0x30 the
 * source (guest link-local, guest global, ::, the gateway's); 0x0e the
 * destination (fe80::1, PREFIX::1, all-nodes, all-routers, the
 * solicited-node group, the guest's DAD group, another address, an MLD
 * group); 0x01 the ICMPv6 (or UDP/TCP) checksum, after the extension
 * headers. The first byte after a record's header also moves the clock,
 * so the RA timer and the RS rate limit run.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/frame.h"
#include "netstack/netstack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vg_loop *loop;
static struct ns *ns;

/* trap unless @f is a well-formed frame (IPv6 ones: length, ICMPv6 sum) */
static void check_out(void *ctx, bool out, const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + ETH_HLEN_;
	struct ip6_view v;
	size_t tot;

	(void)ctx;
	if (!out || len < ETH_HLEN_ || f[12] != 0x86 || f[13] != 0xdd)
		return;
	if (len < ETH_HLEN_ + IP6_HLEN || (ip[0] >> 4) != 6)
		__builtin_trap();
	tot = IP6_HLEN + ((size_t)ip[4] << 8 | ip[5]);
	if (tot != len - ETH_HLEN_ || ip6_upper(ip, tot, &v) < 0)
		__builtin_trap();
	if (v.proto == IP6_NH_ICMP6) {
		uint32_t s = csum_ip6_pseudo(ip, (uint32_t)(tot - v.off), IP6_NH_ICMP6);

		if (csum_fold(csum_partial(ip + v.off, tot - v.off, s)) != 0)
			__builtin_trap();
	}
}

static void setup(void)
{
	struct ns_config cfg;
	char err[128];

	ns_config_defaults(&cfg);
	strcpy(cfg.search, "a.test b.test");
	if (ns_config_check(&cfg, err, sizeof(err)) < 0)
		abort();
	loop = vg_loop_new(1024);
	if (!loop || vg_loop_set_clock(loop, VG_CLOCK_MANUAL, 1000) < 0)
		abort();
	ns = ns_new(loop, &cfg);
	if (!ns)
		abort();
	ns_set_capture(ns, check_out, NULL);
}

/* repair the IPv6 packet @ip of @len bytes (at least 40) as @ctl asks */
static void repair(uint8_t *ip, size_t len, uint8_t ctl)
{
	static const char *const srcs[4] = {"fe80::2", "fd00:7661:7465::5", "::", "fe80::1"};
	static const char *const dsts[8] = {"fe80::1",	   "fd00:7661:7465::1", "ff02::1",
					    "ff02::2",	   "ff02::1:ff00:1",	"ff02::1:ff00:5",
					    "2001:db8::7", "ff02::16"};
	struct ip6_view v;

	if (ctl & 0x80) {
		ip[0] = (uint8_t)(0x60 | (ip[0] & 0x0f));
		ip[4] = (uint8_t)((len - IP6_HLEN) >> 8);
		ip[5] = (uint8_t)(len - IP6_HLEN);
	}
	if (ctl & 0x40)
		ip[7] = 255;
	inet_pton(AF_INET6, srcs[(ctl >> 4) & 3], ip + 8);
	inet_pton(AF_INET6, dsts[(ctl >> 1) & 7], ip + 24);
	if (!(ctl & 1) || ip6_upper(ip, len, &v) < 0)
		return;
	if (v.proto == IP6_NH_ICMP6 && len - v.off >= 4) {
		uint8_t *m = ip + v.off;
		uint32_t s = csum_ip6_pseudo(ip, (uint32_t)(len - v.off), IP6_NH_ICMP6);
		uint16_t c;

		m[2] = m[3] = 0;
		c = csum_fold(csum_partial(m, len - v.off, s));
		m[2] = (uint8_t)(c >> 8);
		m[3] = (uint8_t)c;
	} else if ((v.proto == IP6_NH_UDP && len - v.off >= 8) ||
		   (v.proto == IP6_NH_TCP && len - v.off >= 20)) {
		uint8_t *l4 = ip + v.off;
		size_t at = v.proto == IP6_NH_UDP ? 6 : 16;
		uint32_t s;
		uint16_t c;

		if (v.proto == IP6_NH_UDP) {
			l4[4] = (uint8_t)((len - v.off) >> 8);
			l4[5] = (uint8_t)(len - v.off);
		}
		l4[at] = l4[at + 1] = 0;
		s = csum_ip6_pseudo(ip, (uint32_t)(len - v.off), v.proto);
		c = csum_fold(csum_partial(l4, len - v.off, s));
		l4[at] = (uint8_t)(c >> 8);
		l4[at + 1] = (uint8_t)c;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[ETH_HLEN_ + 2048];
	static const uint8_t hdr[14] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x01, 0x52,
					0x54, 0x00, 0x12, 0x34, 0x56, 0x86, 0xdd};
	static const uint8_t gw_mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd};
	size_t off = 0;

	if (!ns)
		setup();
	while (off + 3 <= size) {
		uint8_t ctl = data[off];
		size_t len = ((size_t)data[off + 1] << 8 | data[off + 2]) % 1500;

		off += 3;
		if (len > size - off)
			len = size - off;
		memcpy(frame, hdr, sizeof(hdr));
		memcpy(frame + ETH_HLEN_, data + off, len);
		if (len >= IP6_HLEN) {
			repair(frame + ETH_HLEN_, len, ctl);
			if (frame[ETH_HLEN_ + 24] == 0xff) /* the group's MAC, as a guest sends */
				memcpy(frame + 2, frame + ETH_HLEN_ + 36, 4);
			else
				memcpy(frame, gw_mac, 6);
		}
		ns_link_input(ns, frame, ETH_HLEN_ + len);
		if (len)
			vg_loop_advance(loop, (uint64_t)data[off] * 4000);
		off += len;
		vg_loop_run_once(loop, 0);
	}
	return 0;
}
