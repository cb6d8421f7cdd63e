/* SPDX-License-Identifier: MIT */
/*
 * dhcp6.h - the gateway's DHCPv6 server (RFC 8415), without I/O.
 *
 * dhcp6_input() takes the UDP payload of a client message (to port 547)
 * and, when an answer is due, fills a struct dhcp6_reply with the payload
 * to send back to the client's source address, port 546; the caller wraps
 * it in UDP/IPv6/Ethernet from the gateway's link-local address. It serves
 * Information-Request (stateless: DNS recursive name server and domain
 * search list) and, when @stateful, IA_NA addresses: Solicit/Advertise
 * (Reply with Rapid Commit when the client asks), Request, Renew, Rebind,
 * Confirm, Release and Decline. IA_TA and IA_PD are answered "not
 * available". The server's DUID is a DUID-LL of the gateway's MAC.
 *
 * Leases live in a fixed table of @count slots (at most DHCP6_MAX_LEASES),
 * slot i holding PREFIX::(first + i); a client's (DUID, IAID) hashes to
 * its first slot, so it gets the same address again, also after a restart
 * of vgate. An advertised address is held for DHCP6_OFFER_HOLD_MS, a
 * declined one parked for DHCP6_DECLINE_HOLD_MS.
 *
 * Every length in a message is checked against its enclosing option or
 * the datagram: a malformed or invalid message (RFC 8415 section 16) is
 * counted in stats.bad, one that is valid but not for this server (another
 * Server Identifier, a server or relay message type) in stats.ignored.
 * The caller passes the clock in, so the state machine is testable.
 *
 * Ownership: struct dhcp6_server is the caller's; dhcp6_init() allocates
 * its lease table, dhcp6_free() releases it. Return convention: 0 or a
 * negative errno for init; dhcp6_input() as documented on it.
 */
#ifndef VGATE_NETSTACK_DHCP6_H
#define VGATE_NETSTACK_DHCP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP6_SERVER_PORT     547
#define DHCP6_CLIENT_PORT     546
#define DHCP6_MAX_LEASES      1024
#define DHCP6_LEASES_DEFAULT  256
#define DHCP6_FIRST_DEFAULT   0x100 /* PREFIX::100 */
#define DHCP6_OFFER_HOLD_MS   30000
#define DHCP6_DECLINE_HOLD_MS 600000
#define DHCP6_DUID_MAX	      130  /* 2-byte type + at most 128 bytes (RFC 8415 11.1) */
#define DHCP6_IA_MAX	      8	   /* IA options answered in one message */
#define DHCP6_IAADDR_MAX      4	   /* addresses read from one IA_NA */
#define DHCP6_REPLY_MAX	      1232 /* fits the IPv6 minimum MTU with headers */

/* RA flag bits (RFC 4861 4.2) that dhcp6_ra_flags() asks the router
 * advertisement to carry */
#define DHCP6_RA_MANAGED 0x80
#define DHCP6_RA_OTHER	 0x40

enum dhcp6_msg {
	DHCP6_SOLICIT = 1,
	DHCP6_ADVERTISE = 2,
	DHCP6_REQUEST = 3,
	DHCP6_CONFIRM = 4,
	DHCP6_RENEW = 5,
	DHCP6_REBIND = 6,
	DHCP6_REPLY = 7,
	DHCP6_RELEASE = 8,
	DHCP6_DECLINE = 9,
	DHCP6_RECONFIGURE = 10,
	DHCP6_INFORMATION_REQUEST = 11,
	DHCP6_RELAY_FORW = 12,
	DHCP6_RELAY_REPL = 13,
};

/**
 * struct dhcp6_config - what the server hands out (addresses network order)
 * @server_mac:	the gateway's MAC, for the server DUID (DUID-LL)
 * @prefix:	the guest /64 (only its first 8 bytes are read)
 * @dns:	recursive name server to announce (the gateway's address)
 * @first:	interface identifier of the first leased address (e.g. 0x100)
 * @count:	leased addresses, 1..DHCP6_MAX_LEASES (0 = DHCP6_LEASES_DEFAULT)
 * @lease_s:	valid and preferred lifetime of a lease (0 = 3600)
 * @search:	domain search list, space separated (may be NULL or empty)
 * @stateful:	serve IA_NA addresses; without it only Information-Request
 *		is answered with configuration, IA_NA gets NoAddrsAvail
 */
struct dhcp6_config {
	uint8_t server_mac[6];
	uint8_t prefix[16];
	uint8_t dns[16];
	uint32_t first;
	uint32_t count;
	uint32_t lease_s;
	const char *search;
	bool stateful;
};

enum dhcp6_lease_state {
	DHCP6_LEASE_FREE = 0,
	DHCP6_LEASE_OFFERED,  /* advertised, held until expires_ms */
	DHCP6_LEASE_BOUND,    /* committed by Request/Renew/Rebind/Rapid Commit */
	DHCP6_LEASE_DECLINED, /* a client found it in use: parked */
};

/**
 * struct dhcp6_lease - one slot of the lease table
 * @state:	enum dhcp6_lease_state; a state past @expires_ms counts as free
 * @duid_len:	length of @duid
 * @duid:	the client's DUID (Client Identifier option)
 * @iaid:	the client's IAID
 * @expires_ms:	end of the hold or of the valid lifetime (caller's clock)
 * @mac:	the client's MAC (frame source, else from a DUID-LL/LLT)
 * @hostname:	from the Client FQDN option, printable, may be empty
 */
struct dhcp6_lease {
	uint8_t state;
	uint8_t duid_len;
	uint8_t duid[DHCP6_DUID_MAX];
	uint32_t iaid;
	uint64_t expires_ms;
	uint8_t mac[6];
	char hostname[64];
};

/* counters: client messages received by type, replies sent, drops */
struct dhcp6_stats {
	uint64_t solicit, request, confirm, renew, rebind, release, decline, inform;
	uint64_t advertise, reply;
	uint64_t no_addrs; /* an IA_NA answered NoAddrsAvail (pool full or stateless) */
	uint64_t bad;	   /* malformed or invalid message, dropped */
	uint64_t ignored;  /* valid but not for us (other server, relay, server types) */
};

struct dhcp6_server {
	struct dhcp6_config cfg;
	char search[256];
	uint8_t duid[10]; /* DUID-LL: type 3, hardware type 1, MAC */
	struct dhcp6_lease *leases;
	struct dhcp6_stats st;
};

/**
 * struct dhcp6_reply - an answer to send to the client (port 546)
 * @data:	DHCPv6 message
 * @len:	its length
 * @type:	enum dhcp6_msg of the answer
 */
struct dhcp6_reply {
	uint8_t data[DHCP6_REPLY_MAX];
	size_t len;
	uint8_t type;
};

/**
 * dhcp6_init() - set up a server and its lease table
 * @s:		server
 * @cfg:	configuration (the search string is copied)
 *
 * Return: 0, -EINVAL (count above DHCP6_MAX_LEASES or a range that wraps
 *	   the 32-bit identifier) or -ENOMEM
 */
int dhcp6_init(struct dhcp6_server *s, const struct dhcp6_config *cfg);

/**
 * dhcp6_free() - release the lease table (@s may be zeroed or freed twice)
 * @s:	server
 */
void dhcp6_free(struct dhcp6_server *s);

/**
 * dhcp6_input() - process one client message
 * @s:		server
 * @now_ms:	current time (any monotonic millisecond clock)
 * @src_mac:	Ethernet source of the frame, for the lease listing (may be NULL)
 * @msg:	UDP payload received on port 547
 * @len:	its length
 * @out:	the answer, when one is due
 *
 * Return: 1 if @out holds an answer to send, 0 if none is due (ignored,
 *	   counted), -1 if the message was malformed or invalid (counted in
 *	   stats.bad)
 */
int dhcp6_input(struct dhcp6_server *s, uint64_t now_ms, const uint8_t *src_mac, const uint8_t *msg,
		size_t len, struct dhcp6_reply *out);

/**
 * dhcp6_lease_at() - lease slot @i, for listing
 * @s:		server
 * @i:		slot index, 0..cfg.count-1
 * @now_ms:	current time: expired slots are not listed
 * @addr:	set to the slot's address
 *
 * Return: the lease (offered or bound), or NULL if the slot is free,
 *	   declined, expired or out of range
 */
const struct dhcp6_lease *dhcp6_lease_at(const struct dhcp6_server *s, size_t i, uint64_t now_ms,
					 uint8_t addr[16]);

/**
 * dhcp6_ra_flags() - the RA flags this server wants (RFC 4861 M and O bits)
 * @s:	server, or NULL when DHCPv6 is not served
 *
 * Return: DHCP6_RA_MANAGED | DHCP6_RA_OTHER when IA_NA is served,
 *	   DHCP6_RA_OTHER when only Information-Request is, 0 for NULL or an
 *	   uninitialised server
 */
uint8_t dhcp6_ra_flags(const struct dhcp6_server *s);

#endif /* VGATE_NETSTACK_DHCP6_H */
