/* SPDX-License-Identifier: MIT */
/*
 * txq.c - send memory that lwIP points at instead of copying from: a flow's
 * user reads host bytes straight into a chunk here (ns_flow_wbuf()) and
 * lwIP's segments reference them (tcp_write() without TCP_WRITE_FLAG_COPY,
 * PBUF_ROM pbufs), so host->guest data is copied once in user space, into
 * the frame the transport sends, instead of a second time into a pbuf.
 *
 * How: a pcb's queue is a list of chunks, oldest first; bytes are appended
 * to the newest one and given back from the oldest. The bytes of a chunk
 * are consecutive in sequence space (a chunk records the sequence number
 * that follows its last byte); when the next write does not follow on, it
 * starts a new chunk. lwIP frees a segment only once all of it is
 * acknowledged and resends whole segments, so it still references every
 * byte from the lowest sequence number of its unacked and unsent segments
 * on (snd_lbb when both are empty); the bytes before it are given back
 * (ns_txq_release(), after each ACK and before each write) and a chunk
 * with none left is freed, so an idle flow holds none. A chunk is as
 * large as the space asked for (at least 4 KiB, at most one block of
 * VG_LWIP_HEAP_CLASS_MAX), rounded up to a class of lwIP's heap
 * (lwip/heap.h), which keeps freed chunks for the next; the caller asks
 * for what it has to write (the forwarder: what the host socket holds),
 * so a chunk that stays partly empty, as when the guest stops reading, is
 * the exception and its room is used by the next write.
 *
 * Ownership and lifetime: the queue hangs on the pcb (lwIP ext arg slot
 * NS_TXQ_EXT_ID), not on struct ns_flow, because lwIP goes on sending and
 * resending after the flow's user closed it; lwIP's destroy callback frees
 * it with the pcb, after which no segment references it. The flow counts
 * the chunks in its budget charge (flow.c, ns_txq_bytes()).
 */
#include "engine.h"

#include "lwip/priv/tcp_priv.h"
#include "netstack/lwip/heap.h"

#include <string.h>

#define TXQ_CHUNK_MIN 4096u
#define TXQ_CHUNK_MAX VG_LWIP_HEAP_CLASS_MAX
/* the rest of a chunk is left unused when smaller than this and the ask */
#define TXQ_TAIL_MIN 1024u
/* a closed window's chunks are compacted when this much of them is idle */
#define TXQ_COMPACT_MIN (16u << 10)

/**
 * struct txq_chunk - bytes lwIP's segments reference
 * @next:	the next newer chunk
 * @start:	offset of the first byte lwIP may still need
 * @end:	offset after the last byte written
 * @cap:	bytes of @data
 * @seq_end:	sequence number after the byte at @end - 1
 * @data:	the bytes
 */
struct txq_chunk {
	struct txq_chunk *next;
	uint32_t start, end, cap;
	uint32_t seq_end;
	uint8_t data[];
};

/**
 * struct ns_txq - a pcb's chunks
 * @head:	oldest chunk
 * @tail:	newest chunk, the one written to
 * @bytes:	allocated bytes of all chunks (what the budget is charged)
 */
struct ns_txq {
	struct txq_chunk *head, *tail;
	size_t bytes;
};

static void txq_destroy(u8_t id, void *data)
{
	struct ns_txq *q = data;

	(void)id;
	while (q->head) {
		struct txq_chunk *c = q->head;

		q->head = c->next;
		vg_lwip_free(c);
	}
	vg_lwip_free(q);
}

static const struct tcp_ext_arg_callbacks txq_cbs = {
    .destroy = txq_destroy,
};

/* the lowest sequence number lwIP's segments of @pcb still reference */
static uint32_t txq_keep_from(const struct tcp_pcb *pcb)
{
	uint32_t seq = pcb->snd_lbb;

	if (pcb->unacked && TCP_SEQ_LT(lwip_ntohl(pcb->unacked->tcphdr->seqno), seq))
		seq = lwip_ntohl(pcb->unacked->tcphdr->seqno);
	if (pcb->unsent && TCP_SEQ_LT(lwip_ntohl(pcb->unsent->tcphdr->seqno), seq))
		seq = lwip_ntohl(pcb->unsent->tcphdr->seqno);
	return seq;
}

/* unlink and free @q's oldest chunk */
static void txq_pop(struct ns_txq *q)
{
	struct txq_chunk *c = q->head;

	q->head = c->next;
	if (!q->head)
		q->tail = NULL;
	q->bytes -= sizeof(*c) + c->cap;
	vg_lwip_free(c);
}

size_t ns_txq_bytes(const struct tcp_pcb *pcb)
{
	const struct ns_txq *q = tcp_ext_arg_get(pcb, NS_TXQ_EXT_ID);

	return q ? q->bytes : 0;
}

/**
 * txq_chunk_alloc() - a chunk for about @want bytes, not linked
 * @want:	bytes the caller asks room for
 *
 * Return: the chunk, or NULL out of memory
 */
static struct txq_chunk *txq_chunk_alloc(size_t want)
{
	size_t size = want < TXQ_CHUNK_MIN ? TXQ_CHUNK_MIN : want;
	struct txq_chunk *c;

	if (size > TXQ_CHUNK_MAX - sizeof(*c) - 16u)
		size = TXQ_CHUNK_MAX - sizeof(*c) - 16u; /* 16: the heap's header */
	size = vg_lwip_usable(sizeof(*c) + size);
	c = vg_lwip_malloc(size);
	if (!c)
		return NULL;
	c->next = NULL;
	c->start = c->end = 0;
	c->cap = (uint32_t)(size - sizeof(*c));
	c->seq_end = 0;
	return c;
}

/* append @c to @q as its newest chunk */
static void txq_link(struct ns_txq *q, struct txq_chunk *c)
{
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += sizeof(*c) + c->cap;
}

/**
 * txq_repoint() - make the data pbufs of @seg's segments that point into
 * @from point at the same bytes in @to (moved there from @from->start on)
 * @seg:	a list of lwIP's segments (unacked or unsent)
 * @from:	old chunk
 * @to:		new chunk
 * @at:		offset in @to of @from's byte at @from->start
 */
static void txq_repoint(struct tcp_seg *seg, const struct txq_chunk *from, struct txq_chunk *to,
			size_t at)
{
	const uint8_t *lo = from->data + from->start, *hi = from->data + from->end;

	for (; seg; seg = seg->next) {
		for (struct pbuf *p = seg->p; p; p = p->next) {
			const uint8_t *d = p->payload;

			if (p->type_internal == PBUF_ROM && d >= lo && d < hi)
				p->payload = to->data + at + (size_t)(d - lo);
		}
	}
}

/**
 * txq_compact() - the guest closed its window: move the bytes lwIP still
 * needs into one chunk of their size, when the chunks they sit in are
 * mostly bytes already acknowledged or never written (a flow whose guest
 * stopped reading would hold them for as long as it does)
 * @q:		queue
 * @pcb:	its pcb
 */
static void txq_compact(struct ns_txq *q, struct tcp_pcb *pcb)
{
	struct txq_chunk *c, *n;
	size_t live = 0, at = 0;

	for (c = q->head; c; c = c->next) {
		/* only chunks that follow on in sequence space become one */
		if (c->next && c->next->seq_end - (c->next->end - c->next->start) != c->seq_end)
			return;
		live += c->end - c->start;
	}
	if (!live || q->bytes - live < TXQ_COMPACT_MIN || live > TXQ_CHUNK_MAX / 2)
		return;
	n = txq_chunk_alloc(live);
	if (!n)
		return; /* the old chunks stay */
	for (c = q->head; c; c = c->next) {
		memcpy(n->data + at, c->data + c->start, c->end - c->start);
		txq_repoint(pcb->unacked, c, n, at);
		txq_repoint(pcb->unsent, c, n, at);
		at += c->end - c->start;
		n->seq_end = c->seq_end;
	}
	n->end = (uint32_t)live;
	while (q->head)
		txq_pop(q);
	txq_link(q, n);
}

void ns_txq_release(struct tcp_pcb *pcb)
{
	struct ns_txq *q = tcp_ext_arg_get(pcb, NS_TXQ_EXT_ID);
	uint32_t keep;

	if (!q)
		return;
	keep = txq_keep_from(pcb);
	while (q->head) {
		struct txq_chunk *c = q->head;
		uint32_t first = c->seq_end - (c->end - c->start);

		if (c->start == c->end || TCP_SEQ_GEQ(keep, c->seq_end)) {
			txq_pop(q);
			continue;
		}
		if (TCP_SEQ_GT(keep, first))
			c->start += keep - first;
		break;
	}
	if (!pcb->snd_wnd && q->head)
		txq_compact(q, pcb);
}

void *ns_txq_space(struct tcp_pcb *pcb, size_t want, size_t *len)
{
	struct ns_txq *q = tcp_ext_arg_get(pcb, NS_TXQ_EXT_ID);
	struct txq_chunk *c;
	size_t left;

	if (!q) {
		q = vg_lwip_calloc(1, sizeof(*q));
		if (!q)
			return NULL;
		tcp_ext_arg_set_callbacks(pcb, NS_TXQ_EXT_ID, &txq_cbs);
		tcp_ext_arg_set(pcb, NS_TXQ_EXT_ID, q);
	}
	ns_txq_release(pcb);
	c = q->tail;
	left = c ? c->cap - c->end : 0;
	/* a chunk's bytes must follow on in sequence space */
	if (!c || (c->end > c->start && c->seq_end != pcb->snd_lbb) ||
	    (left < want && left < TXQ_TAIL_MIN)) {
		c = txq_chunk_alloc(want);
		if (!c)
			return NULL;
		txq_link(q, c);
		left = c->cap;
	}
	*len = left < want ? left : want;
	return c->data + c->end;
}

size_t ns_txq_commit(struct tcp_pcb *pcb, size_t n)
{
	struct ns_txq *q = tcp_ext_arg_get(pcb, NS_TXQ_EXT_ID);
	struct txq_chunk *c = q ? q->tail : NULL;
	size_t done = 0;

	if (!c || n > c->cap - c->end)
		return 0;
	if (c->end == c->start)
		c->seq_end = pcb->snd_lbb;
	while (done < n) {
		size_t chunk = n - done > 0xffff ? 0xffff : n - done;
		u8_t flags = done + chunk < n ? TCP_WRITE_FLAG_MORE : 0;

		if (tcp_write(pcb, c->data + c->end, (u16_t)chunk, flags) != ERR_OK)
			break;
		c->end += (uint32_t)chunk;
		c->seq_end += (uint32_t)chunk;
		done += chunk;
	}
	return done;
}
