/* SPDX-License-Identifier: MIT */
/*
 * msg.h - turning upstream replies into stored answers (struct dns_data).
 * This is the only place that uses ldns: a reply is fully parsed by ldns
 * (which rejects malformed messages and resolves compression safely), then
 * re-encoded by ldns with a fresh question (lower-case name) so the stored
 * RR bytes have compression pointers relative to that canonical layout.
 * Runs only on the miss path. Internal to dns/.
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

#endif /* VGATE_DNS_MSG_H */
