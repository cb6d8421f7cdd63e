/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dns_check.h - invariants of every answer message the dns service
 * sends to a guest, shared by the dns fuzz targets (fuzz_dns.c,
 * fuzz_dns_reply.c). A violated invariant aborts with __builtin_trap() so
 * libFuzzer records the input.
 *
 * Checked: header (ID, QR, opcode echoed), the question echoed byte for
 * byte (guest case kept), size bounds (UDP: 512, or the guest's EDNS size
 * clamped to [512, our size]; TCP: 65535), every record walks to exactly the
 * end of the message, TC only over UDP and then with no records but the OPT,
 * an OPT exactly when the query had one (and last), its options a
 * well-formed list of at most one Extended DNS Error, record TTLs within
 * the cap, no RRSIG/NSEC/NSEC3 (other than of the query type) unless the
 * query set DO, AD only when the query set DO or AD, and the whole message
 * parses with ldns whenever the records it carries came from a message ldns
 * parses (vgate passes the RDATA of types it does not interpret through
 * unchanged, RFC 3597, so a malformed URI or TXT from upstream stays
 * malformed; what vgate must never do is turn a good message into a bad one).
 */
#ifndef VGATE_FUZZ_DNS_CHECK_H
#define VGATE_FUZZ_DNS_CHECK_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/dns.h"
#include "dns/wire.h"

#define FUZZ_CHECK(cond)                  \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

/**
 * fuzz_check_answer() - abort unless @msg is a valid answer to @q
 * @q:		the guest query as parsed by wire_parse_query()
 * @proto:	DNS_PROTO_UDP or DNS_PROTO_TCP
 * @our_size:	cfg.edns_udp_size of the service
 * @max_ttl:	cfg.max_ttl_s of the service
 * @msg:	answer
 * @len:	its length
 * @src_parses:	the records came from a message ldns parses: @msg must too
 */
static inline void fuzz_check_answer(const struct dns_qinfo *q, int proto, uint16_t our_size,
				     uint32_t max_ttl, const uint8_t *msg, size_t len,
				     bool src_parses)
{
	size_t limit = DNS_MSG_MAX, off = DNS_HDR_LEN;
	uint16_t flags, qd, an, ns, ar;
	unsigned int i, nopt = 0;
	ldns_pkt *p = NULL;

	if (proto != DNS_PROTO_TCP) {
		limit = DNS_UDP_MIN;
		if (q->edns) {
			limit = q->udp_size < our_size ? q->udp_size : our_size;
			if (limit < DNS_UDP_MIN)
				limit = DNS_UDP_MIN;
		}
	}
	FUZZ_CHECK(len >= DNS_HDR_LEN && len <= limit);
	flags = wire_get16(msg + 2);
	qd = wire_get16(msg + 4);
	an = wire_get16(msg + 6);
	ns = wire_get16(msg + 8);
	ar = wire_get16(msg + 10);
	FUZZ_CHECK(wire_get16(msg) == q->id);
	FUZZ_CHECK(flags & DNS_FLAG_QR);
	FUZZ_CHECK(DNS_OPCODE(flags) == DNS_OPCODE(q->flags));
	FUZZ_CHECK(qd == (q->has_question ? 1 : 0));
	if (flags & DNS_FLAG_AD)
		FUZZ_CHECK(q->do_bit || (q->flags & DNS_FLAG_AD));
	FUZZ_CHECK((flags & DNS_FLAG_CD) == (q->flags & DNS_FLAG_CD));
	if (qd) {
		FUZZ_CHECK(off + q->qnamelen + 4u <= len);
		FUZZ_CHECK(!memcmp(msg + off, q->qname, q->qnamelen));
		off += q->qnamelen;
		FUZZ_CHECK(wire_get16(msg + off) == q->qtype);
		FUZZ_CHECK(wire_get16(msg + off + 2) == q->qclass);
		off += 4;
	}
	if (flags & DNS_FLAG_TC) {
		FUZZ_CHECK(proto == DNS_PROTO_UDP);
		FUZZ_CHECK(an == 0 && ns == 0 && ar == (q->edns ? 1 : 0));
	}
	for (i = 0; i < (unsigned int)an + ns + ar; i++) {
		uint8_t nm[DNS_NAME_MAX];
		size_t end;
		uint16_t type, rdlen;

		FUZZ_CHECK(wire_name_read(msg, len, off, nm, &end) >= 0);
		FUZZ_CHECK(end + 10 <= len);
		type = wire_get16(msg + end);
		rdlen = wire_get16(msg + end + 8);
		FUZZ_CHECK(end + 10 + rdlen <= len);
		if (type == DNS_TYPE_OPT) {
			FUZZ_CHECK(i == (unsigned int)an + ns + ar - 1 && nm[0] == 0);
			FUZZ_CHECK(wire_get16(msg + end + 2) == our_size);
			FUZZ_CHECK(!!(msg[end + 6] & 0x80) == q->do_bit);
			if (rdlen) {
				/* one EDE: code 2, length 2 + text, INFO-CODE, text */
				FUZZ_CHECK(rdlen >= 6 && rdlen <= 6 + DNS_EDE_TEXT_MAX);
				FUZZ_CHECK(wire_get16(msg + end + 10) == DNS_OPT_EDE);
				FUZZ_CHECK(wire_get16(msg + end + 12) == rdlen - 4u);
			}
			nopt++;
		} else {
			FUZZ_CHECK(wire_get32(msg + end + 4) <= max_ttl);
			if (!q->do_bit)
				FUZZ_CHECK(type == q->qtype ||
					   (type != DNS_TYPE_RRSIG && type != DNS_TYPE_NSEC &&
					    type != DNS_TYPE_NSEC3));
		}
		off = end + 10 + rdlen;
	}
	FUZZ_CHECK(off == len);
	FUZZ_CHECK(nopt == (q->edns ? 1u : 0u));
	FUZZ_CHECK(ldns_wire2pkt(&p, msg, len) == LDNS_STATUS_OK || !src_parses);
	ldns_pkt_free(p);
}

#endif /* VGATE_FUZZ_DNS_CHECK_H */
