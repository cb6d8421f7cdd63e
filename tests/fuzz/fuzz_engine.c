/* SPDX-License-Identifier: MIT */
/*
 * fuzz_engine.c - libFuzzer target: random IPv4/TCP/UDP packets from the
 * "guest" through ns_link_input() into the link, the IPv4 checks and the
 * lwIP engine (TCP termination to any address, deferred SYNs, active opens,
 * flows' peek/consume/write/shutdown/reset, UDP and ICMP to the guest,
 * echo requests to outside addresses and their replies).
 *
 * How: one netstack for the whole process (lwIP is global state; ns_new()
 * cannot be repeated without leaking lwIP's timeouts) with no transport, so
 * frames to the guest are counted and dropped. Each input is a list of
 * records: [ctl][len_hi][len_lo][bytes...]. ctl bits choose what the harness
 * repairs so packets get past the checksums (IPv4 version/IHL/length and
 * header checksum, TCP/UDP/ICMP checksum, addresses from a small set: gateway,
 * host alias, an outside address), and how the foreign-flow callbacks answer
 * (SYN verdicts, resuming deferred SYNs, reading, writing, closing, an active
 * open). The gateway's port 53 is served by dns/'s gateway (UDP, and TCP
 * with its framing) on a DNS service without upstreams. Every flow the
 * callbacks accepted is reset at the end of the input, so state stays
 * bounded between inputs; lwIP's own timers run on the real clock.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "netstack/netstack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FLOWS 64
#define MAX_TOKENS 16

struct harness {
	struct vg_loop *loop;
	struct ns *ns;
	struct dns *dns;
	uint8_t ctl; /* current record's control byte */
	struct ns_flow *flows[MAX_FLOWS];
	uint64_t tokens[MAX_TOKENS];
	int ntokens;
};

static struct harness H;

static int flow_slot(struct ns_flow *f)
{
	int i;

	for (i = 0; i < MAX_FLOWS; i++)
		if (H.flows[i] == f)
			return i;
	return -1;
}

static void forget(struct ns_flow *f)
{
	int i = flow_slot(f);

	if (i >= 0)
		H.flows[i] = NULL;
}

static enum ns_syn_verdict h_syn(void *ctx, uint64_t token, const struct ns_addr *src,
				 const struct ns_addr *dst)
{
	(void)ctx;
	(void)src;
	(void)dst;
	switch (H.ctl >> 6) {
	case 0:
		return NS_SYN_ACCEPT;
	case 1:
		return NS_SYN_RESET;
	case 2:
		if (H.ntokens < MAX_TOKENS)
			H.tokens[H.ntokens++] = token;
		return NS_SYN_DEFER;
	default:
		return NS_SYN_DROP;
	}
}

static void *h_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
		      const struct ns_addr *dst)
{
	int i = flow_slot(NULL);

	(void)ctx;
	(void)src;
	(void)dst;
	if (i < 0 || (H.ctl & 0x20))
		return NULL; /* refused: the netstack resets it */
	H.flows[i] = f;
	ns_flow_set_keepalive(f, (H.ctl & 1) ? 1000 : 0);
	return f;
}

static void h_recv(void *user)
{
	struct ns_flow *f = user;
	struct iovec iov[8];
	int n = 8;
	size_t len = ns_flow_peek(f, iov, &n), room;

	if (len && (H.ctl & 2)) {
		room = ns_flow_sndbuf(f);
		if (room > iov[0].iov_len)
			room = iov[0].iov_len;
		if (room && ns_flow_write(f, iov[0].iov_base, room) < 0)
			__builtin_trap(); /* sndbuf said there was room */
	}
	ns_flow_consume(f, (H.ctl & 4) ? len : len / 2);
	if (ns_flow_eof(f)) {
		forget(f);
		if (H.ctl & 8)
			ns_flow_reset(f);
		else
			ns_flow_close(f);
	} else if ((H.ctl & 0x18) == 0x18) {
		ns_flow_shutdown(f);
	}
}

static void h_sent(void *user)
{
	(void)user;
}

static void h_closed(void *user, enum ns_close_reason reason)
{
	(void)reason;
	forget(user);
}

static void h_connected(void *user)
{
	(void)user;
}

static void h_udp(void *ctx, const struct ns_addr *src, const struct ns_addr *dst,
		  const uint8_t *d, size_t len, const struct ns_pkt *pkt)
{
	(void)ctx;
	switch (H.ctl & 3) {
	case 0:
		ns_icmp_unreachable(H.ns, pkt, 3);
		break;
	case 1:
		ns_udp_send(H.ns, dst, src, d, len);
		break;
	case 2:
		ns_udp_unreachable(H.ns, src, dst, 13);
		break;
	default:
		break;
	}
}

/* an echo request to an outside address: answered, refused or ignored */
static void h_echo(void *ctx, const struct ns_addr *src, const struct ns_addr *dst, uint16_t seq,
		   const uint8_t *d, size_t len, const struct ns_pkt *pkt)
{
	(void)ctx;
	switch (H.ctl & 3) {
	case 0:
		ns_icmp_unreachable(H.ns, pkt, 13);
		break;
	case 1:
		ns_echo_reply(H.ns, dst, src, seq, d, len);
		break;
	default:
		break;
	}
}

static const struct ns_flow_ops h_ops = {
	.recv = h_recv,
	.sent = h_sent,
	.closed = h_closed,
	.connected = h_connected,
};

static void setup(void)
{
	struct ns_config cfg;
	struct dns_config dc;
	struct ns_handler foreign = { 0 };
	char err[128];

	ns_config_defaults(&cfg);
	if (ns_config_check(&cfg, err, sizeof(err)) < 0)
		abort();
	foreign.tcp_syn = h_syn;
	foreign.tcp_accept = h_accept;
	foreign.udp_recv = h_udp;
	foreign.echo = h_echo;
	foreign.ops = h_ops;
	dns_config_defaults(&dc);
	H.loop = vg_loop_new(1024 + dns_timers_needed(&dc));
	H.ns = H.loop ? ns_new(H.loop, &cfg) : NULL;
	H.dns = H.ns ? dns_new(H.loop, &dc, NULL, NULL) : NULL;
	if (!H.dns || ns_register_foreign(H.ns, &foreign) < 0 ||
	    !dns_gateway_new(H.dns, H.ns, cfg.gateway_ip))
		abort();
}

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* repair an IPv4 packet in @ip (len bytes, len >= 20) as @ctl asks */
static void repair(uint8_t *ip, size_t len, uint8_t ctl)
{
	static const uint8_t dsts[4][4] = {
		{ 192, 168, 127, 1 }, { 192, 168, 127, 254 }, { 10, 99, 0, 7 }, { 192, 168, 127, 1 }
	};
	size_t hlen;
	uint16_t s;

	if (!(ctl & 0x80))
		return; /* raw: whatever the fuzzer wrote */
	ip[0] = 0x45;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	if (ctl & 0x40) {
		ip[6] &= 0x40; /* no fragments */
		ip[7] = 0;
	}
	ip[12] = 192, ip[13] = 168, ip[14] = 127, ip[15] = 2;
	memcpy(ip + 16, dsts[(ctl >> 4) & 3], 4);
	if (ctl & 1)
		ip[9] = (ctl & 2) ? 17 : 6;
	hlen = 20;
	if ((ctl & 4) && len >= hlen + 8 && (ip[9] == 6 || ip[9] == 17)) {
		uint8_t *l4 = ip + hlen;
		size_t l4len = len - hlen;
		uint32_t ph = 0;
		size_t off = ip[9] == 6 ? 16 : 6;

		if (ip[9] == 6 && l4len < 20)
			goto iphdr;
		if (ip[9] == 6)
			l4[12] = (uint8_t)((l4[12] & 0x0f) | 0x50);
		if (ip[9] == 17) {
			l4[4] = (uint8_t)(l4len >> 8);
			l4[5] = (uint8_t)l4len;
		}
		l4[off] = l4[off + 1] = 0;
		ph += (uint32_t)ip[12] << 8 | ip[13];
		ph += (uint32_t)ip[14] << 8 | ip[15];
		ph += (uint32_t)ip[16] << 8 | ip[17];
		ph += (uint32_t)ip[18] << 8 | ip[19];
		ph += ip[9];
		ph += (uint32_t)l4len;
		s = csum(l4, l4len, ph);
		l4[off] = (uint8_t)(s >> 8);
		l4[off + 1] = (uint8_t)s;
	}
	if ((ctl & 4) && len >= hlen + 8 && ip[9] == 1) { /* ICMP: no pseudo-header */
		ip[hlen + 2] = ip[hlen + 3] = 0;
		s = csum(ip + hlen, len - hlen, 0);
		ip[hlen + 2] = (uint8_t)(s >> 8);
		ip[hlen + 3] = (uint8_t)s;
	}
iphdr:
	ip[10] = ip[11] = 0;
	s = csum(ip, 20, 0);
	ip[10] = (uint8_t)(s >> 8);
	ip[11] = (uint8_t)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[14 + 65535];
	static const uint8_t hdr[14] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd, 0x52, 0x54,
					 0x00, 0x12, 0x34, 0x56, 0x08, 0x00 };
	size_t off = 0;
	int i;

	if (!H.ns)
		setup();
	while (off + 3 <= size) {
		uint8_t ctl = data[off], ctl2 = data[off + 1];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];

		off += 3;
		len %= 1600;
		if (len > size - off)
			len = size - off;
		memcpy(frame, hdr, 14);
		memcpy(frame + 14, data + off, len);
		off += len;
		if (len >= 20)
			repair(frame + 14, len, ctl);
		H.ctl = ctl2;
		ns_link_input(H.ns, frame, 14 + len);
		/* resume a deferred SYN now and then */
		if (H.ntokens && (ctl2 & 0x10)) {
			uint64_t t = H.tokens[--H.ntokens];

			ns_syn_resume(H.ns, t, (enum ns_syn_verdict)(ctl2 & 3));
		}
		/* an active open to the guest now and then */
		if ((ctl & 0x0f) == 0x0f) {
			struct ns_addr src = ns_addr_v4(htonl(0xc0a87ffe), 0);
			struct ns_addr dst = ns_addr_v4(htonl(0xc0a87f02), 22);
			struct ns_flow *f = ns_flow_connect(H.ns, &src, &dst, &h_ops, NULL);

			if (f && (ctl2 & 0x40))
				ns_flow_reset(f); /* else lwIP retries, then tcp_closed */
		}
		vg_loop_run_once(H.loop, 0);
	}
	/* bounded state between inputs */
	for (i = 0; i < MAX_FLOWS; i++) {
		if (H.flows[i]) {
			struct ns_flow *f = H.flows[i];

			H.flows[i] = NULL;
			ns_flow_reset(f);
		}
	}
	while (H.ntokens)
		ns_syn_resume(H.ns, H.tokens[--H.ntokens], NS_SYN_DROP);
	return 0;
}
