/* SPDX-License-Identifier: MIT */
/*
 * fuzz_vnet.c - libFuzzer target: arbitrary bytes as a virtio-net header
 * and frame from the guest's kernel (vnet_rx()), and as a frame to the
 * guest (vnet_tx(), whole and cut into three iovecs at input-given points).
 * Checked: vnet_rx() writes only the checksum field inside the frame, a
 * completed checksum verifies against the pseudo-header sum it replaced, one
 * left partial only for a NEEDS_CSUM TCP segment (frame unchanged), a
 * super-segment only with TSO, TCP GSO and NEEDS_CSUM, at most
 * VNET_FRAME_MAX; vnet_tx() gives the same header and frame however the
 * frame is cut, touches at most the two checksum bytes, and a GSO header
 * has a segment size and header length that fit the frame and the MTU,
 * and a segment count that covers the payload.
 *
 * Input: byte 0: bit 0 the 12-byte header (else 10), bit 1 TSO offered;
 * byte 1: the MTU (576 + 64 * byte); bytes 2-3: the iovec cuts; then the
 * header (for vnet_rx()) and the frame.
 */
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netstack/frame.h"
#include "netstack/vnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static uint8_t f1[VNET_FRAME_MAX + 1], f2[VNET_FRAME_MAX + 1];

static void rx(const uint8_t *h, size_t hl, const uint8_t *f, size_t len, bool tso)
{
	struct virtio_net_hdr v;
	enum vnet_rx_result r;
	size_t i, at = 0;
	uint16_t pseudo = 0;
	bool partial = true;

	memcpy(&v, h, sizeof(v));
	memcpy(f1, f, len);
	if (v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		at = (size_t)v.csum_start + v.csum_offset;
		if (at + 2 <= len)
			pseudo = (uint16_t)(f[at] << 8 | f[at + 1]);
	}
	r = vnet_rx(h, hl, f1, len, tso, &partial);
	if (partial) {
		CHECK(r != VNET_RX_DROP && (v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		      v.csum_offset == 16 && at + 2 <= len && !memcmp(f1, f, len));
		CHECK(((f[12] == 0x08 && f[13] == 0x00) || (f[12] == 0x86 && f[13] == 0xdd)) &&
		      !(f[v.csum_start + 13] & 0x02));
		return;
	}
	if (r == VNET_RX_DROP) {
		CHECK(!memcmp(f1, f, len) || (v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM));
		return;
	}
	for (i = 0; i < len; i++)
		CHECK(f1[i] == f[i] ||
		      ((v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && (i == at || i == at + 1)));
	if (v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		CHECK(csum_fold(csum_partial(f1 + v.csum_start, len - v.csum_start, pseudo)) == 0);
	if (r == VNET_RX_SUPER)
		CHECK(tso && (v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && len <= VNET_FRAME_MAX &&
		      ((v.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4 ||
		       (v.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV6));
	else
		CHECK((v.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_NONE);
}

static void tx(const uint8_t *f, size_t len, unsigned int mtu, size_t c1, size_t c2)
{
	uint8_t h1[VNET_HDR_MAX], h2[VNET_HDR_MAX];
	struct iovec one = {f1, len}, three[3];
	struct virtio_net_hdr v;
	unsigned int s1, s2;
	size_t i, diff = 0;

	if (c1 > len)
		c1 = len;
	if (c2 > len - c1)
		c2 = len - c1;
	memcpy(f1, f, len);
	memcpy(f2, f, len);
	three[0] = (struct iovec){f2, c1};
	three[1] = (struct iovec){f2 + c1, c2};
	three[2] = (struct iovec){f2 + c1 + c2, len - c1 - c2};
	s1 = vnet_tx(h1, sizeof(h1), &one, 1, mtu);
	s2 = vnet_tx(h2, sizeof(h2), three, 3, mtu);
	CHECK(s1 == s2 && !memcmp(h1, h2, sizeof(h1)) && !memcmp(f1, f2, len));
	for (i = 0; i < len; i++)
		diff += f1[i] != f[i];
	memcpy(&v, h1, sizeof(v));
	CHECK(h1[10] == 0 && h1[11] == 0);
	if (!v.flags) {
		CHECK(!diff && !s1 && v.gso_type == VIRTIO_NET_HDR_GSO_NONE);
		return;
	}
	CHECK(v.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && v.csum_offset == 16 && diff <= 2 &&
	      (size_t)v.csum_start + 18 <= len);
	if (v.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		CHECK(!s1);
		return;
	}
	CHECK(v.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 || v.gso_type == VIRTIO_NET_HDR_GSO_TCPV6);
	CHECK(v.gso_size && v.hdr_len < len && v.hdr_len - ETH_HLEN_ + v.gso_size == mtu);
	CHECK(s1 >= 2 && (size_t)s1 * v.gso_size >= len - v.hdr_len &&
	      (size_t)(s1 - 1) * v.gso_size < len - v.hdr_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t hl, len;
	unsigned int mtu;

	if (size < 4)
		return 0;
	hl = (data[0] & 1) ? VNET_HDR_MAX : VNET_HDR_MIN;
	mtu = 576 + 64u * data[1];
	if (size < 4 + hl)
		return 0;
	len = size - 4 - hl;
	if (len > VNET_FRAME_MAX)
		len = VNET_FRAME_MAX;
	rx(data + 4, hl, data + 4 + hl, len, data[0] & 2);
	tx(data + 4 + hl, len, mtu, data[2] * 4u, data[3] * 4u);
	return 0;
}
