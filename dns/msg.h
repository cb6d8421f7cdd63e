/* SPDX-License-Identifier: MIT */
/*
 * msg.h - turning upstream replies into stored answers (struct dns_data).
 * A reply is fully parsed (every record, names decompressed with bounds,
 * the fields of known RDATA layouts checked: a malformed reply is refused),
 * then re-encoded with a fresh question (lower-case name) so the stored RR
 * bytes have compression pointers relative to that canonical layout. No
 * library: vgate used ldns here, whose Debian build also maps libssl and
 * libcrypto into every vgate (about 1.9 MB of RSS for no DNSSEC or TLS
 * vgate does). Runs only on the miss path. Internal to dns/.
 */
#ifndef VGATE_DNS_MSG_H
#define VGATE_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define MSG_OK 0
#define MSG_BAD (-1)	  /* malformed or unusable: try another server */
#define MSG_REFUSED (-2) /* SERVFAIL/REFUSED/NOTIMP/FORMERR: try another server */

struct dns_data *dns_data_new(const uint8_t *name, size_t namelen, int rcode, const uint8_t *rr,
			      size_t rrlen, uint16_t an, uint16_t ns, uint16_t ar, uint16_t ar_off);
bool msg_is_dnssec(uint16_t rtype, uint16_t qtype);
int msg_from_reply(const uint8_t *pkt, size_t len, const uint8_t *name, size_t namelen,
		   uint16_t type, uint32_t max_ttl, uint32_t fail_ttl, struct dns_data **out,
		   uint32_t *ttl);
struct dns_data *msg_alias(const uint8_t *alias, size_t alen, uint16_t type, const uint8_t *target,
			   size_t tlen, int rcode, const struct dns_view *v, uint8_t *scratch);

#endif /* VGATE_DNS_MSG_H */
