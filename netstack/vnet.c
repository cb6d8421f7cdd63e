/* SPDX-License-Identifier: MIT */
/*
 * vnet.c - the virtio-net header of a TAP with IFF_VNET_HDR (see vnet.h):
 * what goes before a frame to the guest, and what a header from the guest
 * means for the frame after it. The header's fields are in the host's byte
 * order (a legacy virtio header, as tun uses unless told otherwise); the
 * frame's are big-endian.
 */
#include "vnet.h"

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#include "common/netutil.h"

#include "frame.h"

/* the headers vnet_tx() reads: Ethernet, IPv4 with options, TCP's first 20 */
#define VNET_PEEK (ETH_HLEN_ + 60 + 20)

_Static_assert(sizeof(struct virtio_net_hdr) == VNET_HDR_MIN, "virtio_net_hdr layout");
_Static_assert(sizeof(struct virtio_net_hdr_mrg_rxbuf) == VNET_HDR_MAX, "mrg_rxbuf layout");

/**
 * iov_gather() - copy the first bytes of a frame given as pieces
 * @iov:	pieces
 * @iovcnt:	count
 * @buf:	destination
 * @n:		at most this many bytes
 *
 * Return: bytes copied
 */
static size_t iov_gather(const struct iovec *iov, int iovcnt, uint8_t *buf, size_t n)
{
	size_t got = 0;
	int i;

	for (i = 0; i < iovcnt && got < n; i++) {
		size_t k = iov[i].iov_len < n - got ? iov[i].iov_len : n - got;

		memcpy(buf + got, iov[i].iov_base, k);
		got += k;
	}
	return got;
}

/**
 * iov_put16() - store a big-endian 16-bit value at byte @off of a frame
 * given as pieces (the two bytes may lie in different pieces)
 * @iov:	pieces (writable memory)
 * @iovcnt:	count
 * @off:	offset in the frame
 * @v:		value
 */
static void iov_put16(const struct iovec *iov, int iovcnt, size_t off, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	size_t k = 0;
	int i;

	for (i = 0; i < iovcnt && k < 2; i++) {
		uint8_t *p = iov[i].iov_base;

		while (k < 2 && off < iov[i].iov_len)
			p[off++] = b[k++];
		off -= iov[i].iov_len;
	}
}

/**
 * tcp_iphl() - the IP header length of a frame whose TCP segment follows
 * its IP header right away: an unfragmented IPv4 packet, or IPv6 with no
 * extension header
 * @f:		frame, at least ETH_HLEN_ + 40 bytes
 *
 * Return: 20..60 (IPv4) or IP6_HLEN, or 0 when the frame is not one
 */
static size_t tcp_iphl(const uint8_t *f)
{
	const uint8_t *ip = f + ETH_HLEN_;
	size_t iphl = (size_t)(ip[0] & 0x0f) * 4;

	switch (vg_get_be16(f + 12)) {
	case ETHERTYPE_IPV4:
		if ((ip[0] >> 4) != 4 || iphl < 20 || ip[9] != IPPROTO_TCP || (ip[6] & 0x3f) ||
		    ip[7])
			return 0;
		return iphl;
	case ETHERTYPE_IPV6:
		return (ip[0] >> 4) == 6 && ip[6] == IPPROTO_TCP ? IP6_HLEN : 0;
	default:
		return 0;
	}
}

/**
 * vnet_tx() - the header for a frame to the guest; a TCP segment's checksum
 * field is rewritten in place to its pseudo-header sum (NEEDS_CSUM)
 * @hdr:	header to fill (@hl bytes)
 * @hl:		header length, VNET_HDR_MIN or VNET_HDR_MAX
 * @iov:	the Ethernet frame; the TCP header must be writable
 * @iovcnt:	count
 * @mtu:	the link MTU: a TCP payload longer than one segment at it goes
 *		as a GSO super-segment
 *
 * Return: the segments the guest's kernel cuts the frame into (0: not a
 *	   super-segment)
 */
unsigned int vnet_tx(uint8_t *hdr, size_t hl, const struct iovec *iov, int iovcnt, unsigned int mtu)
{
	struct virtio_net_hdr h;
	uint8_t b[VNET_PEEK], *ip = b + ETH_HLEN_;
	size_t n, len = 0, iphl, l4, thl, pay, seg;
	uint32_t sum;
	bool v6;
	int i;

	memset(hdr, 0, hl);
	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	n = iov_gather(iov, iovcnt, b, sizeof(b));
	if (n < ETH_HLEN_ + 40)
		return 0; /* too short for IP and TCP headers */
	iphl = tcp_iphl(b);
	if (!iphl)
		return 0;
	v6 = vg_get_be16(b + 12) == ETHERTYPE_IPV6;
	/* the length the IP header says is the frame's */
	if ((v6 ? (size_t)vg_get_be16(ip + 4) + IP6_HLEN : vg_get_be16(ip + 2)) != len - ETH_HLEN_)
		return 0;
	l4 = len - ETH_HLEN_ - iphl;
	if (l4 < 20 || n < ETH_HLEN_ + iphl + 20)
		return 0;
	if (v6)
		sum = csum_ip6_pseudo(ip, (uint32_t)l4, IPPROTO_TCP);
	else
		sum = csum_partial(ip + 12, 8, 0) + IPPROTO_TCP + (uint32_t)l4;
	thl = (size_t)(ip[iphl + 12] >> 4) * 4;
	if (thl < 20 || thl > l4 || mtu <= iphl + thl)
		return 0;
	iov_put16(iov, iovcnt, ETH_HLEN_ + iphl + 16, (uint16_t)~csum_fold(sum));
	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = (uint16_t)(ETH_HLEN_ + iphl);
	h.csum_offset = 16;
	pay = l4 - thl;
	seg = mtu - iphl - thl;
	if (pay > seg) {
		h.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		h.gso_size = (uint16_t)seg;
		h.hdr_len = (uint16_t)(ETH_HLEN_ + iphl + thl);
	}
	memcpy(hdr, &h, sizeof(h));
	return pay > seg ? (unsigned int)((pay + seg - 1) / seg) : 0;
}

/**
 * tcp_partial_ok() - may a frame's partial checksum stay partial: a TCP
 * segment other than a SYN, its checksum field where TCP's is, in an
 * unfragmented IPv4 packet or an IPv6 packet with TCP right after its header
 * @f:		frame
 * @len:	its length
 * @start:	csum_start
 * @off:	csum_offset
 *
 * Return: true when it may
 */
static bool tcp_partial_ok(const uint8_t *f, size_t len, size_t start, size_t off)
{
	size_t iphl;

	if (off != 16 || len < ETH_HLEN_ + 40)
		return false;
	iphl = tcp_iphl(f);
	return iphl && start == ETH_HLEN_ + iphl && start + 20 <= len && !(f[start + 13] & 0x02);
}

/**
 * vnet_rx() - check the header of a frame from the guest and complete a
 * partial checksum in the frame
 * @hdr:	header (@hl bytes)
 * @hl:		its length, VNET_HDR_MIN or VNET_HDR_MAX
 * @frame:	the frame after it (written: the checksum)
 * @len:	its length
 * @tso:	TCP super-segments were offered (TUNSETOFFLOAD TSO4 | TSO6)
 * @tcp_partial: set true when the frame is a TCP segment whose checksum was
 *		left partial (tcp_partial_ok()): it must not be verified
 *
 * Return: VNET_RX_PLAIN, VNET_RX_SUPER, or VNET_RX_DROP
 */
enum vnet_rx_result vnet_rx(const uint8_t *hdr, size_t hl, uint8_t *frame, size_t len, bool tso,
			    bool *tcp_partial)
{
	struct virtio_net_hdr h;
	uint8_t gso;
	size_t at;

	*tcp_partial = false;
	if (hl < sizeof(h) || len < ETH_HLEN_)
		return VNET_RX_DROP;
	memcpy(&h, hdr, sizeof(h));
	gso = h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		uint16_t type = vg_get_be16(frame + 12);

		/* TCP of the frame's family only (UDP fragmentation or
		 * segmentation was not offered), with TSO offered */
		if (!(gso == VIRTIO_NET_HDR_GSO_TCPV4 && type == ETHERTYPE_IPV4) &&
		    !(gso == VIRTIO_NET_HDR_GSO_TCPV6 && type == ETHERTYPE_IPV6))
			return VNET_RX_DROP;
		if (!tso || !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || len > VNET_FRAME_MAX ||
		    !h.gso_size)
			return VNET_RX_DROP;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint16_t sum;

		at = (size_t)h.csum_start + h.csum_offset;
		/* inside the frame, past Ethernet, a 16-bit word of the summed part */
		if (h.csum_start < ETH_HLEN_ || h.csum_start >= len || at + 2 > len ||
		    (h.csum_offset & 1))
			return VNET_RX_DROP;
		if (tcp_partial_ok(frame, len, h.csum_start, h.csum_offset)) {
			*tcp_partial = true;
		} else {
			/* the field holds the pseudo-header sum: sum from csum_start on */
			sum = csum_fold(csum_partial(frame + h.csum_start, len - h.csum_start, 0));
			if (!sum)
				sum = 0xffff; /* same for TCP; for UDP 0 would mean "none" */
			vg_put_be16(frame + at, sum);
		}
	}
	return gso == VIRTIO_NET_HDR_GSO_NONE ? VNET_RX_PLAIN : VNET_RX_SUPER;
}
