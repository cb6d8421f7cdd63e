/* SPDX-License-Identifier: MIT */
/*
 * dhcp.h - the gateway's DHCP server (RFC 2131), without I/O.
 *
 * dhcp_input() takes the UDP payload of a client message and, when an
 * answer is due, fills a struct dhcp_reply with the BOOTP payload and where
 * to send it; the caller wraps it in UDP/IPv4/Ethernet. Leases live in a
 * fixed table, one slot per address of the range (at most DHCP_MAX_LEASES),
 * indexed by address; an offered address is held for DHCP_OFFER_HOLD_MS.
 * The caller passes the clock in, so the state machine is testable.
 *
 * Static leases (dhcp_config.statics, at most DHCP_MAX_STATIC, gvproxy's
 * dhcpStaticLeases): each MAC listed always gets its address, and no other
 * client is ever offered or acknowledged that address. Their addresses
 * lie inside first..last (the caller checks; others are ignored).
 */
#ifndef VGATE_NETSTACK_DHCP_H
#define VGATE_NETSTACK_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_MAX_LEASES	     4096
#define DHCP_OFFER_HOLD_MS   30000
#define DHCP_REPLY_MAX	     576
#define DHCP_DECLINE_HOLD_MS 600000
#define DHCP_MAX_STATIC	     16

/* a MAC that always gets one address (network order) */
struct dhcp_static {
	uint8_t mac[6];
	uint32_t ip;
};

enum dhcp_msg {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* all addresses in network byte order */
struct dhcp_config {
	uint32_t server_ip;
	uint32_t netmask;
	uint32_t router;
	uint32_t dns;
	uint32_t first;
	uint32_t last;
	uint32_t lease_s;
	uint16_t mtu;
	const char *domain;
	const char *search;
	struct dhcp_static statics[DHCP_MAX_STATIC];
	size_t n_statics;
};

struct dhcp_lease {
	uint8_t mac[6];
	bool used;
	bool bound;
	uint64_t expires_ms;
	char hostname[64];
};

struct dhcp_stats {
	uint64_t discover, offer, request, ack, nak, release, decline, inform, bad;
};

struct dhcp_server {
	struct dhcp_config cfg;
	char domain[128];
	char search[256];
	size_t nleases;
	struct dhcp_lease *leases;
	struct dhcp_stats st;
};

/**
 * struct dhcp_reply - an answer to send
 * @data:	BOOTP message
 * @len:	its length
 * @dst_ip:	IPv4 destination (network order); 0xffffffff for broadcast
 * @dst_mac:	Ethernet destination
 * @type:	DHCP message type of the answer
 */
struct dhcp_reply {
	uint8_t data[DHCP_REPLY_MAX];
	size_t len;
	uint32_t dst_ip;
	uint8_t dst_mac[6];
	enum dhcp_msg type;
};

int dhcp_init(struct dhcp_server *s, const struct dhcp_config *cfg);
void dhcp_free(struct dhcp_server *s);
int dhcp_input(struct dhcp_server *s, uint64_t now_ms, const uint8_t *msg, size_t len,
	       struct dhcp_reply *out);
const struct dhcp_lease *dhcp_lease_at(const struct dhcp_server *s, size_t i, uint32_t *ip);

#endif /* VGATE_NETSTACK_DHCP_H */
