/* SPDX-License-Identifier: MIT */
/*
 * frame.c - QEMU stream framing, the transmit queue and the Internet
 * checksum. See frame.h for the rules; nothing here does I/O.
 */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/**
 * zero_with_buf() - zero a decoder or queue and give it its buffer
 * @obj:	the struct
 * @size:	its size
 * @buf:	its buffer pointer, set to @n new bytes
 * @cap:	its buffer size, set to @n (0 on failure)
 * @n:		bytes
 *
 * Return: 0, or -ENOMEM
 */
static int zero_with_buf(void *obj, size_t size, uint8_t **buf, size_t *cap, size_t n)
{
	memset(obj, 0, size);
	*buf = malloc(n);
	*cap = *buf ? n : 0;
	return *buf ? 0 : -ENOMEM;
}

/**
 * stream_dec_init() - prepare a decoder
 * @d:		decoder
 * @max_frame:	largest Ethernet frame accepted (MTU + header)
 *
 * Return: 0, or -ENOMEM
 */
int stream_dec_init(struct stream_dec *d, size_t max_frame)
{
	return zero_with_buf(d, sizeof(*d), &d->buf, &d->max, max_frame);
}

void stream_dec_free(struct stream_dec *d)
{
	free(d->buf);
	d->buf = NULL;
}

/**
 * stream_dec_reset() - forget any partial frame (new connection)
 * @d:	decoder
 */
void stream_dec_reset(struct stream_dec *d)
{
	d->hdr_have = 0;
	d->need = d->have = 0;
	d->skip = false;
}

/**
 * stream_dec_set_fmt() - choose the length prefix (a new connection; the
 * partial state is forgotten as by stream_dec_reset())
 * @d:		decoder
 * @fmt:	FRAME_BE32 or FRAME_LE16
 */
void stream_dec_set_fmt(struct stream_dec *d, enum frame_fmt fmt)
{
	stream_dec_reset(d);
	d->fmt = fmt;
}

/**
 * stream_dec_mid_frame() - whether a frame or length prefix is incomplete
 * @d:	decoder
 *
 * Return: true if the stream stopped inside a frame (a truncated frame)
 */
bool stream_dec_mid_frame(const struct stream_dec *d)
{
	return d->hdr_have > 0 || d->need > 0;
}

/**
 * stream_dec_feed() - consume bytes read from the stream, delivering frames
 * @d:		decoder
 * @data:	bytes read
 * @len:	count
 * @fn:		called for each complete frame (pointer valid during the call)
 * @arg:	its argument
 *
 * Return: 0, or -EPROTO when a length prefix is beyond any sane frame size
 */
int stream_dec_feed(struct stream_dec *d, const uint8_t *data, size_t len, frame_fn fn, void *arg)
{
	while (len) {
		size_t n;

		if (!d->need) {
			unsigned int plen = frame_prefix_len(d->fmt);

			/* reading the length prefix */
			if (d->hdr_have == 0 && len >= plen) {
				memcpy(d->hdr, data, plen);
				d->hdr_have = plen;
				data += plen;
				len -= plen;
			} else {
				d->hdr[d->hdr_have++] = *data++;
				len--;
				if (d->hdr_have < plen)
					continue;
			}
			d->hdr_have = 0;
			if (d->fmt == FRAME_LE16)
				d->need = (uint32_t)d->hdr[0] | (uint32_t)d->hdr[1] << 8;
			else
				d->need = (uint32_t)d->hdr[0] << 24 | (uint32_t)d->hdr[1] << 16 |
					  (uint32_t)d->hdr[2] << 8 | d->hdr[3];
			d->have = 0;
			if (d->need == 0) {
				d->bad_length++;
				d->desync++;
				d->last_bad = 0;
				continue;
			}
			if (d->need > FRAME_STREAM_MAX_SANE) {
				d->bad_length++;
				d->desync++;
				d->last_bad = d->need;
				d->need = 0;
				return -EPROTO;
			}
			d->skip = d->need > d->max;
			if (d->skip)
				d->oversize++;
			/* fast path: the whole frame is in this buffer */
			if (!d->skip && len >= d->need) {
				fn(arg, data, d->need);
				data += d->need;
				len -= d->need;
				d->need = 0;
				continue;
			}
		}
		n = d->need - d->have;
		if (n > len)
			n = len;
		if (!d->skip)
			memcpy(d->buf + d->have, data, n);
		d->have += (uint32_t)n;
		data += n;
		len -= n;
		if (d->have == d->need) {
			if (!d->skip)
				fn(arg, d->buf, d->need);
			d->need = d->have = 0;
			d->skip = false;
		}
	}
	return 0;
}

/**
 * txq_init() - allocate a transmit queue
 * @q:		queue
 * @cap:	capacity in bytes (records include a 4-byte prefix)
 *
 * Return: 0, or -ENOMEM
 */
int txq_init(struct txq *q, size_t cap)
{
	return zero_with_buf(q, sizeof(*q), &q->buf, &q->cap, cap);
}

void txq_free(struct txq *q)
{
	free(q->buf);
	q->buf = NULL;
}

/**
 * txq_push() - append one frame given as an iovec; drop it if no room
 * @q:		queue
 * @iov:	frame pieces
 * @iovcnt:	number of pieces
 *
 * Return: 0, or -ENOBUFS when the frame was dropped (counted)
 */
int txq_push(struct txq *q, const struct iovec *iov, int iovcnt)
{
	size_t len = 0, need;
	uint8_t *p;
	int i;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	need = len + frame_prefix_len(q->fmt);
	if (q->head == q->tail)
		q->head = q->tail = 0;
	if (q->cap - q->tail < need && q->head > 0) {
		memmove(q->buf, q->buf + q->head, q->tail - q->head);
		q->tail -= q->head;
		q->head = 0;
	}
	if (q->cap - q->tail < need || len > (q->fmt == FRAME_LE16 ? UINT16_MAX : UINT32_MAX)) {
		q->dropped++;
		return -ENOBUFS;
	}
	p = q->buf + q->tail;
	if (q->fmt == FRAME_LE16) {
		p[0] = (uint8_t)len;
		p[1] = (uint8_t)(len >> 8);
		p += 2;
	} else {
		p[0] = (uint8_t)(len >> 24);
		p[1] = (uint8_t)(len >> 16);
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p += 4;
	}
	for (i = 0; i < iovcnt; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	q->tail += need;
	return 0;
}

/**
 * txq_advance() - mark @n bytes from the head as sent
 * @q:	queue
 * @n:	bytes (record prefixes included)
 */
void txq_advance(struct txq *q, size_t n)
{
	q->head += n;
	if (q->head >= q->tail)
		q->head = q->tail = 0;
}

/**
 * txq_set_fmt() - choose the record prefix; the queue must be empty (it is
 * cleared: records of the old format would be misread)
 * @q:		queue
 * @fmt:	FRAME_BE32 or FRAME_LE16
 */
void txq_set_fmt(struct txq *q, enum frame_fmt fmt)
{
	txq_clear(q);
	q->fmt = fmt;
}

/**
 * txq_peek_frame() - the first queued frame, without its prefix
 * @q:		queue
 * @frame:	set to the frame bytes
 * @len:	set to the frame length
 *
 * Return: false if the queue is empty
 */
bool txq_peek_frame(const struct txq *q, const uint8_t **frame, size_t *len)
{
	const uint8_t *p = q->buf + q->head;

	if (txq_len(q) < frame_prefix_len(q->fmt))
		return false;
	if (q->fmt == FRAME_LE16) {
		*len = (size_t)p[0] | (size_t)p[1] << 8;
		*frame = p + 2;
	} else {
		*len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		*frame = p + 4;
	}
	return true;
}

/**
 * csum_partial() - add @data to a running one's complement sum
 * @data:	bytes (an even count, except for the last piece of a sum)
 * @len:	count
 * @sum:	running sum (0 to start), in host order
 *
 * Return: the new running sum (fold with csum_fold())
 */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
	uint16_t n = (uint16_t)(len ? vg_lwip_chksum(data, (int)len) : 0);

	/* native order to host-order value of the big-endian words */
	n = (uint16_t)(((const uint8_t *)&n)[0] << 8 | ((const uint8_t *)&n)[1]);
	return sum + n;
}

/**
 * csum_fold() - fold a running sum into the final 16-bit checksum
 * @sum:	running sum
 *
 * Return: checksum in host order (store with htons)
 */
uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/**
 * ip6_opts_bad() - whether the type-length-value options of a hop-by-hop
 * or destination options header run past it (lwIP's own walk of them reads
 * an option's length byte wherever the previous option ends)
 * @o:		the options (after the header's first two bytes)
 * @n:		their length
 *
 * Return: true when an option (Pad1 excepted: one byte) does not fit
 */
static bool ip6_opts_bad(const uint8_t *o, size_t n)
{
	size_t at = 0;

	while (at < n) {
		if (o[at] == 0) { /* Pad1 */
			at++;
			continue;
		}
		if (n - at < 2 || (size_t)o[at + 1] > n - at - 2)
			return true;
		at += 2 + (size_t)o[at + 1];
	}
	return false;
}

/**
 * ip6_upper() - walk an IPv6 packet's extension headers (hop-by-hop,
 * routing, destination options; at most IP6_EXT_MAX) to its upper layer
 * @ip:		IPv6 packet, its fixed header already checked (version 6,
 *		payload length within @len)
 * @len:	bytes from the IPv6 header to the end of the payload
 * @v:		filled: the upper-layer protocol and offset; a fragment
 *		header stops the walk (@v->proto IP6_NH_FRAG)
 *
 * Return: 0, or -1 when an extension header (or one of the options in a
 *	   hop-by-hop or destination options header) runs past @len or its
 *	   header, more than IP6_EXT_MAX are chained, or the packet is shorter
 *	   than 40 bytes
 */
int ip6_upper(const uint8_t *ip, size_t len, struct ip6_view *v)
{
	uint8_t nh;
	size_t off = IP6_HLEN;

	if (len < IP6_HLEN)
		return -1;
	nh = ip[6];
	v->ext = 0;
	while (nh == IP6_NH_HOPOPTS || nh == IP6_NH_ROUTING || nh == IP6_NH_DSTOPTS) {
		size_t hl;

		/* hop-by-hop options are allowed only right after the header */
		if ((nh == IP6_NH_HOPOPTS && off != IP6_HLEN) || v->ext >= IP6_EXT_MAX ||
		    len - off < 8)
			return -1;
		hl = ((size_t)ip[off + 1] + 1) * 8;
		if (hl > len - off || (nh != IP6_NH_ROUTING && ip6_opts_bad(ip + off + 2, hl - 2)))
			return -1;
		nh = ip[off];
		off += hl;
		v->ext++;
	}
	v->proto = nh;
	v->off = off;
	return 0;
}

/**
 * csum_ip6_pseudo() - the running sum of an IPv6 pseudo-header (RFC 8200
 * section 8.1): source, destination, upper-layer length, next header
 * @ip:		IPv6 header
 * @ulen:	upper-layer packet length
 * @proto:	upper-layer protocol
 *
 * Return: the running sum, to continue with csum_partial() over the
 *	   upper-layer packet
 */
uint32_t csum_ip6_pseudo(const uint8_t *ip, uint32_t ulen, uint8_t proto)
{
	uint32_t sum = csum_partial(ip + 8, 32, 0);

	return sum + (ulen >> 16) + (ulen & 0xffff) + proto;
}
