/* SPDX-License-Identifier: MIT */
/*
 * frame.h - netstack internals with no I/O: the QEMU stream frame decoder,
 * the transmit queue shared by every transport, and packet helpers
 * (Internet checksum, Ethernet/IPv4 header views). Pure functions over
 * caller-owned memory, so the unit tests and fuzzers can drive them.
 *
 * Stream decoder: QEMU -netdev stream sends each Ethernet frame after a
 * 4-byte big-endian length (FRAME_BE32); gvproxy's /connect, vpnkit and
 * stdio transports after a 2-byte little-endian one (FRAME_LE16, the
 * "hyperkit" framing; a prefix of 0 is a desync, skipped, and every other
 * value is a plausible frame, so nothing is fatal there). Frames that
 * arrive whole inside one read buffer are delivered in place (no copy);
 * only a frame split across reads is assembled in the decoder's own buffer
 * (max frame size, allocated once). An oversize frame whose length is
 * still plausible is skipped and counted; a length of 0 or above
 * FRAME_STREAM_MAX_SANE cannot come from QEMU: the stream has lost its
 * framing (desynchronised). Both are counted in @desync with the prefix
 * kept in @last_bad for the caller's log line; 0 is skipped, above the
 * bound the caller should drop the connection.
 *
 * Transmit queue: a linear buffer of records [length prefix][frame] with
 * fixed capacity; the prefix is the queue's @fmt (4-byte BE by default,
 * 2-byte LE for FRAME_LE16; set it with txq_set_fmt() while empty). Stream
 * transports write the records as they are (that is the wire format);
 * datagram and TAP transports send one frame per record. A full queue
 * drops the new frame and counts it: a stalled guest never blocks the loop
 * and never makes vgate grow.
 */
#ifndef VGATE_NETSTACK_FRAME_H
#define VGATE_NETSTACK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define ETH_HLEN_	      14
#define ETHERTYPE_IPV4	      0x0800
#define ETHERTYPE_ARP	      0x0806
#define ETHERTYPE_IPV6	      0x86dd
#define ETH_MAX_FRAME(mtu)    ((mtu) + ETH_HLEN_)
/*
 * the largest length a QEMU stream can carry: QEMU's net layer holds a
 * packet in 64 KiB + 4 KiB (NET_BUFSIZE), and the largest Ethernet frame
 * is an IPv4 datagram of 65535 bytes plus its headers. A larger prefix is
 * not a frame: skipping it would swallow up to 4 GiB of real frames.
 */
#define FRAME_STREAM_MAX_SANE (64u * 1024 + 4096)

typedef void (*frame_fn)(void *arg, const uint8_t *frame, size_t len);

/**
 * enum frame_fmt - the length prefix of a stream transport
 * @FRAME_BE32:	4 bytes, big-endian (QEMU -netdev stream); the zero value
 * @FRAME_LE16:	2 bytes, little-endian (gvproxy's /connect, vpnkit, stdio)
 */
enum frame_fmt {
	FRAME_BE32 = 0,
	FRAME_LE16 = 1,
};

/**
 * frame_prefix_len() - bytes of the length prefix of @fmt
 * @fmt:	framing
 *
 * Return: 4 or 2
 */
static inline unsigned int frame_prefix_len(enum frame_fmt fmt)
{
	return fmt == FRAME_LE16 ? 2u : 4u;
}

/**
 * struct stream_dec - QEMU stream decoder state
 * @buf:	assembly buffer (@max bytes)
 * @max:	largest frame accepted
 * @fmt:	length prefix (stream_dec_set_fmt(); FRAME_BE32 after init)
 * @hdr:	length prefix bytes seen so far
 * @hdr_have:	how many of them
 * @need:	length of the current frame
 * @have:	bytes of it assembled (or skipped, when @skip)
 * @skip:	discarding an oversize frame
 * @oversize:	counter: frames above @max
 * @bad_length:	counter: zero-length frames and prefixes above the bound
 * @desync:	counter: prefixes that cannot be QEMU framing (0 or above
 *		FRAME_STREAM_MAX_SANE)
 * @last_bad:	the last such prefix
 */
struct stream_dec {
	uint8_t *buf;
	size_t max;
	enum frame_fmt fmt;
	uint8_t hdr[4];
	unsigned int hdr_have;
	uint32_t need;
	uint32_t have;
	bool skip;
	uint64_t oversize;
	uint64_t bad_length;
	uint64_t desync;
	uint32_t last_bad;
};

int stream_dec_init(struct stream_dec *d, size_t max_frame);
void stream_dec_free(struct stream_dec *d);
void stream_dec_reset(struct stream_dec *d);
void stream_dec_set_fmt(struct stream_dec *d, enum frame_fmt fmt);
bool stream_dec_mid_frame(const struct stream_dec *d);
int stream_dec_feed(struct stream_dec *d, const uint8_t *data, size_t len, frame_fn fn, void *arg);

/**
 * struct txq - transmit queue of length-prefixed frame records
 * @buf:	storage
 * @cap:	its size
 * @head:	first unsent byte
 * @tail:	end of queued data
 * @dropped:	frames dropped because the queue was full (or too long for
 *		a FRAME_LE16 prefix)
 * @fmt:	record prefix (FRAME_BE32 after init)
 */
struct txq {
	uint8_t *buf;
	size_t cap;
	size_t head, tail;
	uint64_t dropped;
	enum frame_fmt fmt;
};

int txq_init(struct txq *q, size_t cap);
void txq_free(struct txq *q);
int txq_push(struct txq *q, const struct iovec *iov, int iovcnt);
static inline size_t txq_len(const struct txq *q)
{
	return q->tail - q->head;
}
static inline void txq_clear(struct txq *q)
{
	q->head = q->tail = 0;
}
void txq_advance(struct txq *q, size_t n);
void txq_set_fmt(struct txq *q, enum frame_fmt fmt);
bool txq_peek_frame(const struct txq *q, const uint8_t **frame, size_t *len);

uint32_t csum_partial(const void *data, size_t len, uint32_t sum);
unsigned short vg_lwip_chksum(const void *dataptr, int len);
uint16_t csum_fold(uint32_t sum);

#define IP6_HLEN    40
#define IP6_EXT_MAX 8 /* extension headers walked at most (ip6_upper()) */
/* IPv6 next-header values */
#define IP6_NH_HOPOPTS 0
#define IP6_NH_TCP     6
#define IP6_NH_UDP     17
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAG    44
#define IP6_NH_ICMP6   58
#define IP6_NH_NONE    59
#define IP6_NH_DSTOPTS 60

/**
 * struct ip6_view - where the upper layer of an IPv6 packet starts
 * @proto:	next header after the extension headers walked (a fragment
 *		header, 44, stops the walk: @off is then the fragment header's)
 * @off:	its offset from the start of the IPv6 header
 * @ext:	extension headers walked
 */
struct ip6_view {
	uint8_t proto;
	size_t off;
	unsigned int ext;
};

int ip6_upper(const uint8_t *ip, size_t len, struct ip6_view *v);
uint32_t csum_ip6_pseudo(const uint8_t *ip, uint32_t ulen, uint8_t proto);

#endif /* VGATE_NETSTACK_FRAME_H */
