/* SPDX-License-Identifier: MIT */
/*
 * vnet.h - the virtio-net header a TAP opened with IFF_VNET_HDR puts before
 * every frame (struct virtio_net_hdr, 10 bytes, or 12 with the mergeable
 * buffers count): checksum offload and GSO between vgate and the guest's
 * kernel. Pure functions over caller-owned memory (no I/O), so the unit
 * tests and a fuzzer drive them; transport.c owns the TAP and calls them.
 *
 * Towards the guest (vnet_tx()): a TCP segment goes with NEEDS_CSUM (its
 * checksum field rewritten in place to the pseudo-header sum, so the
 * guest's kernel neither verifies nor needs a full checksum), and a TCP
 * segment whose payload exceeds one link-MTU segment goes as one GSO
 * super-segment (TCPV4/TCPV6, gso_size = MTU - IP and TCP headers): the
 * kernel cuts it, or passes it up whole (GRO), for one write instead of up
 * to 44. Everything else gets a zero header (sent as it is).
 *
 * From the guest (vnet_rx()): a frame with NEEDS_CSUM gets its checksum
 * completed here (csum_start and csum_offset checked against the frame, an
 * odd csum_offset refused: the guest may be hostile), except a TCP segment
 * without SYN in an unfragmented packet with no IPv6 extension header: its
 * checksum stays partial and the caller is told (the engine then does not
 * verify it: two passes over the payload saved; a checksum guards against
 * corruption on a wire, and there is none between the guest's kernel and
 * vgate). A TCP GSO
 * super-segment (TCPV4/TCPV6 with NEEDS_CSUM, at most VNET_FRAME_MAX bytes)
 * is passed up whole, as the one large segment it stands for, when TSO was
 * offered; any other GSO type (UDP, an unknown one, or TCP when TSO was not
 * offered) is dropped.
 *
 * Return convention: vnet_tx() a count (segments), vnet_rx() an enum
 * vnet_rx_result; neither fails otherwise.
 */
#ifndef VGATE_NETSTACK_VNET_H
#define VGATE_NETSTACK_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VNET_HDR_MAX   12	    /* struct virtio_net_hdr_mrg_rxbuf */
#define VNET_HDR_MIN   10	    /* struct virtio_net_hdr */
#define VNET_FRAME_MAX (14 + 65535) /* a super-segment: one IP datagram's worth */

/**
 * enum vnet_rx_result - what vnet_rx() made of a frame from the guest
 * @VNET_RX_DROP:	bad header, bad checksum offsets, or an offload not
 *			offered: drop the frame (count it)
 * @VNET_RX_PLAIN:	an ordinary frame (its checksum completed if it was
 *			partial): it must fit the link MTU
 * @VNET_RX_SUPER:	a TCP super-segment, up to VNET_FRAME_MAX bytes
 */
enum vnet_rx_result {
	VNET_RX_DROP = -1,
	VNET_RX_PLAIN = 0,
	VNET_RX_SUPER = 1,
};

unsigned int vnet_tx(uint8_t *hdr, size_t hl, const struct iovec *iov, int iovcnt,
		     unsigned int mtu);
enum vnet_rx_result vnet_rx(const uint8_t *hdr, size_t hl, uint8_t *frame, size_t len, bool tso,
			    bool *tcp_partial);

#endif /* VGATE_NETSTACK_VNET_H */
