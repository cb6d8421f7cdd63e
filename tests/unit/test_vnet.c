/* SPDX-License-Identifier: MIT */
/*
 * test_vnet.c - the virtio-net header of a TAP with offloads (vnet.h):
 * vnet_tx() marks TCP NEEDS_CSUM with the pseudo-header sum in place (the
 * receiving side's completion gives back the checksum lwIP wrote, also when
 * the field straddles two iovecs), makes a payload above one link-MTU
 * segment a GSO super-segment (TCPV4/TCPV6, gso_size from the MTU and the
 * headers, the segment count returned), and leaves anything else with a
 * zero header and unchanged; vnet_rx() completes a partial checksum, takes
 * a TCP super-segment only when TSO was offered, and drops offsets outside
 * the frame, GSO of UDP or of the other family, and oversize super-segments.
 */
#include <criterion/criterion.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "common/netutil.h"
#include "ip6_frames.h"
#include "netstack/vnet.h"

static uint8_t frame[VNET_FRAME_MAX + 16];

/* tcp4 - an Ethernet frame with an IPv4 TCP segment of @len payload bytes */
static size_t tcp4(size_t len)
{
	static uint8_t data[65535];
	struct vg_tcp4_seg s = {
	    .src = htonl(0xc0a87f01),
	    .dst = htonl(0xc0a87f02),
	    .sport = 80,
	    .dport = 40000,
	    .seq = 1,
	    .ack = 1,
	    .flags = 0x10,
	    .window = 1000,
	    .data = data,
	    .len = len,
	};
	size_t i;

	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 13 + 7);
	memcpy(frame, t6_guest_mac, 6);
	memcpy(frame + 6, t6_gw_mac, 6);
	frame[12] = 0x08;
	frame[13] = 0x00;
	return ETH_HLEN_ + vg_tcp4_segment(frame + ETH_HLEN_, &s);
}

/* tcp6 - the same over IPv6 */
static size_t tcp6(size_t len)
{
	static uint8_t body[65535];
	size_t i;

	memset(body, 0, 20);
	body[0] = 0;
	body[1] = 80;
	body[12] = 5 << 4;
	body[13] = 0x10;
	for (i = 20; i < 20 + len; i++)
		body[i] = (uint8_t)(i * 11 + 3);
	return t6_frame(frame, "fd00:7661:7465::1", "fd00:7661:7465::2", 6, 64, body, 20 + len, 16);
}

static bool partial;

static struct virtio_net_hdr hdr_of(const uint8_t *h)
{
	struct virtio_net_hdr v;

	memcpy(&v, h, sizeof(v));
	return v;
}

/*
 * a small TCP segment: NEEDS_CSUM, no GSO; from the guest, a data segment's
 * checksum stays partial (and is said to), a SYN's is completed to what
 * lwIP wrote
 */
Test(vnet, tcp_checksum_offload_round_trip)
{
	uint8_t h[VNET_HDR_MAX], copy[2000];
	size_t len = tcp4(1000);
	uint16_t want = (uint16_t)(frame[ETH_HLEN_ + 36] << 8 | frame[ETH_HLEN_ + 37]);
	struct iovec iov = {frame, len};
	struct virtio_net_hdr v;

	cr_assert_eq(vnet_tx(h, VNET_HDR_MAX, &iov, 1, 1500), 0);
	v = hdr_of(h);
	cr_assert_eq(v.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	cr_assert_eq(v.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	cr_assert_eq(v.csum_start, ETH_HLEN_ + 20);
	cr_assert_eq(v.csum_offset, 16);
	cr_assert_eq(h[10], 0, "num_buffers left zero");
	cr_assert_neq(frame[ETH_HLEN_ + 36] << 8 | frame[ETH_HLEN_ + 37], want,
		      "the field now holds the pseudo-header sum");
	memcpy(copy, frame, len);
	cr_assert_eq(vnet_rx(h, VNET_HDR_MAX, frame, len, false, &partial), VNET_RX_PLAIN);
	cr_assert(partial, "an ACK with data: left partial");
	cr_assert_eq(memcmp(copy, frame, len), 0, "and unchanged");
	frame[ETH_HLEN_ + 33] = 0x12;	/* SYN-ACK */
	want = (uint16_t)(want - 0x02); /* one's complement: the flags word grew by 2 */
	cr_assert_eq(vnet_rx(h, VNET_HDR_MAX, frame, len, false, &partial), VNET_RX_PLAIN);
	cr_assert(!partial, "a SYN is completed");
	cr_assert_eq(frame[ETH_HLEN_ + 36] << 8 | frame[ETH_HLEN_ + 37], want);
}

/* the checksum field split across two iovecs is written the same */
Test(vnet, checksum_field_across_iovecs)
{
	uint8_t h1[VNET_HDR_MIN], h2[VNET_HDR_MIN], copy[2000];
	size_t len = tcp4(1000), cut = ETH_HLEN_ + 20 + 17; /* between the field's bytes */
	struct iovec one = {copy, len}, two[2] = {{frame, cut}, {frame + cut, len - cut}};

	memcpy(copy, frame, len);
	vnet_tx(h1, sizeof(h1), &one, 1, 1500);
	vnet_tx(h2, sizeof(h2), two, 2, 1500);
	cr_assert_eq(memcmp(h1, h2, sizeof(h1)), 0);
	cr_assert_eq(memcmp(copy, frame, len), 0);
}

/* above one segment: a TCPV4 super-segment cut at MTU - 40 */
Test(vnet, tcp4_super_segment)
{
	uint8_t h[VNET_HDR_MIN];
	size_t len = tcp4(3000);
	struct iovec iov = {frame, len};
	struct virtio_net_hdr v;

	cr_assert_eq(vnet_tx(h, sizeof(h), &iov, 1, 1500), 3, "3000 bytes: 1460 + 1460 + 80");
	v = hdr_of(h);
	cr_assert_eq(v.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	cr_assert_eq(v.gso_size, 1460);
	cr_assert_eq(v.hdr_len, ETH_HLEN_ + 40);
	cr_assert_eq(v.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	/* exactly one segment's payload is not a super-segment */
	len = tcp4(1460);
	iov.iov_len = len;
	cr_assert_eq(vnet_tx(h, sizeof(h), &iov, 1, 1500), 0);
	cr_assert_eq(hdr_of(h).gso_type, VIRTIO_NET_HDR_GSO_NONE);
}

/* IPv6: TCPV6 at MTU - 60, and the round trip of the checksum */
Test(vnet, tcp6_super_segment)
{
	uint8_t h[VNET_HDR_MIN];
	size_t len = tcp6(20000);
	uint16_t want = (uint16_t)(frame[ETH_HLEN_ + 56] << 8 | frame[ETH_HLEN_ + 57]);
	struct iovec iov = {frame, len};
	struct virtio_net_hdr v;

	cr_assert_eq(vnet_tx(h, sizeof(h), &iov, 1, 1500), 14, "20000 / 1440, rounded up");
	v = hdr_of(h);
	cr_assert_eq(v.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	cr_assert_eq(v.gso_size, 1440);
	cr_assert_eq(v.csum_start, ETH_HLEN_ + 40);
	frame[ETH_HLEN_ + 53] = 0x02; /* a SYN: completed */
	want = (uint16_t)(want + 0x10 - 0x02);
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, true, &partial), VNET_RX_SUPER);
	cr_assert(!partial);
	cr_assert_eq(frame[ETH_HLEN_ + 56] << 8 | frame[ETH_HLEN_ + 57], want);
}

/* not TCP, or not a whole TCP packet: zero header, frame unchanged */
Test(vnet, others_plain)
{
	uint8_t h[VNET_HDR_MIN], body[8 + 3000] = {0}, copy[4000];
	size_t len = t6_frame(frame, "fd00:7661:7465::1", "fd00:7661:7465::2", 17, 64, body,
			      sizeof(body), 6);
	struct iovec iov = {frame, len};
	static const uint8_t zero[VNET_HDR_MIN];

	memcpy(copy, frame, len);
	cr_assert_eq(vnet_tx(h, sizeof(h), &iov, 1, 1500), 0);
	cr_assert_eq(memcmp(h, zero, sizeof(h)), 0, "UDP: zero header");
	cr_assert_eq(memcmp(copy, frame, len), 0);
	len = tcp4(100);
	iov.iov_len = len - 1; /* IP length says one byte more */
	memcpy(copy, frame, len);
	cr_assert_eq(vnet_tx(h, sizeof(h), &iov, 1, 1500), 0);
	cr_assert_eq(memcmp(h, zero, sizeof(h)), 0, "truncated TCP: zero header");
	cr_assert_eq(memcmp(copy, frame, len), 0);
	frame[ETH_HLEN_ + 6] = 0x20; /* MF: a fragment */
	iov.iov_len = len;
	cr_assert_eq(vnet_tx(h, sizeof(h), &iov, 1, 1500), 0);
	cr_assert_eq(memcmp(h, zero, sizeof(h)), 0, "fragment: zero header");
}

/* what the guest's kernel may not send, or sent wrong, is dropped */
Test(vnet, rx_refusals)
{
	struct virtio_net_hdr v;
	uint8_t h[VNET_HDR_MIN];
	size_t len = tcp4(3000);

	memset(&v, 0, sizeof(v));
	v.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	v.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	v.gso_size = 1448;
	v.hdr_len = ETH_HLEN_ + 40;
	v.csum_start = ETH_HLEN_ + 20;
	v.csum_offset = 16;
	memcpy(h, &v, sizeof(v));
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, false, &partial), VNET_RX_DROP,
		     "TSO not offered");
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, true, &partial), VNET_RX_SUPER);
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, VNET_FRAME_MAX + 1, true, &partial), VNET_RX_DROP,
		     "above one IP datagram");
	v.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	memcpy(h, &v, sizeof(v));
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, true, &partial), VNET_RX_DROP,
		     "TCPV6 on IPv4");
	v.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	memcpy(h, &v, sizeof(v));
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, true, &partial), VNET_RX_DROP, "UFO");
	v.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	v.flags = 0;
	memcpy(h, &v, sizeof(v));
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, true, &partial), VNET_RX_DROP,
		     "GSO without csum");
	v.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	v.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	v.csum_start = (uint16_t)(len - 1);
	memcpy(h, &v, sizeof(v));
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, true, &partial), VNET_RX_DROP,
		     "field past the end");
	v.csum_start = 4;
	memcpy(h, &v, sizeof(v));
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, true, &partial), VNET_RX_DROP,
		     "inside Ethernet");
	v.csum_start = ETH_HLEN_ + 20;
	v.csum_offset = 17;
	memcpy(h, &v, sizeof(v));
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, true, &partial), VNET_RX_DROP, "odd offset");
	v.flags = 0;
	memcpy(h, &v, sizeof(v));
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, len, false, &partial), VNET_RX_PLAIN);
	cr_assert_eq(vnet_rx(h, sizeof(h), frame, 10, false, &partial), VNET_RX_DROP, "runt");
}
