/* SPDX-License-Identifier: MIT */
/*
 * netutil.h - small IPv4, IPv6 and port helpers that several vgate layers need:
 * subnet masks and membership, the host alias, port numbers, big-endian
 * loads and stores of wire fields, a hand-built IPv4 header and TCP
 * segment, and a domain list in DNS wire form. Part of the leaf module
 * common/ (library vgate_common), which depends on nothing else in vgate;
 * every layer may use it.
 *
 * IPv4 addresses are uint32_t in network byte order (as in struct in_addr),
 * prefix lengths 0..32 (larger values count as 32); IPv6 addresses are 16
 * bytes in network order, prefix lengths 0..128; ports uint16_t in host order.
 * The functions are pure: no state, no allocation, no errno.
 *
 * Return convention: predicates return bool; parsers return 0 on success and
 * -1 on a malformed value, leaving their output untouched.
 */
#ifndef VGATE_COMMON_NETUTIL_H
#define VGATE_COMMON_NETUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a big-endian (network order) 16-bit field at @p, as a host-order value */
static inline uint16_t vg_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* a big-endian (network order) 32-bit field at @p, as a host-order value */
static inline uint32_t vg_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* store host-order @v at @p as a big-endian 16-bit field */
static inline void vg_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* store host-order @v at @p as a big-endian 32-bit field */
static inline void vg_put_be32(uint8_t *p, uint32_t v)
{
	vg_put_be16(p, (uint16_t)(v >> 16));
	vg_put_be16(p + 2, (uint16_t)v);
}

/* the IPv4 header vg_ip4_header() writes: no options */
#define VG_IP4_HLEN 20
/* the time-to-live vgate gives the IPv4 packets it builds itself */
#define VG_IP4_TTL 64

/**
 * vg_ip4_mask() - the netmask of a prefix length
 * @prefix:	0..32 (larger: 32)
 *
 * Return: the mask in network order; 0 for /0, 255.255.255.255 for /32
 */
uint32_t vg_ip4_mask(unsigned int prefix);

/**
 * vg_ip4_prefix_len() - the prefix length of a netmask
 * @mask:	netmask in network order
 *
 * Return: the count of leading one bits (0..32)
 */
unsigned int vg_ip4_prefix_len(uint32_t mask);

/**
 * vg_ip4_in_subnet() - whether an address is in a subnet
 * @ip:		address (network order)
 * @net:	any address of the subnet (network order; host bits ignored)
 * @prefix:	prefix length of the subnet
 *
 * Return: true when @ip and @net agree on the first @prefix bits
 */
bool vg_ip4_in_subnet(uint32_t ip, uint32_t net, unsigned int prefix);

/**
 * vg_ip4_broadcast() - the broadcast (last) address of a subnet
 * @net:	any address of the subnet (network order)
 * @prefix:	prefix length
 *
 * Return: @net with all host bits set (network order)
 */
uint32_t vg_ip4_broadcast(uint32_t net, unsigned int prefix);

/**
 * vg_ip6_unspecified() - whether an IPv6 address is :: (all zero)
 * @a:	16 address bytes
 *
 * Return: true for ::
 */
bool vg_ip6_unspecified(const uint8_t a[16]);

/**
 * vg_ip6_in_prefix() - whether two IPv6 addresses agree on their first
 * @prefix bits (an address in a prefix, a rule matching an address)
 * @a:		16 address bytes (network order)
 * @b:		16 address bytes: the prefix (host bits ignored)
 * @prefix:	0..128 (larger: 128)
 *
 * Return: true when the first @prefix bits agree
 */
bool vg_ip6_in_prefix(const uint8_t a[16], const uint8_t b[16], unsigned int prefix);

/* the NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 section 2.1) */
#define VG_NAT64_PREFIX_LEN 96

/**
 * vg_nat64_is() - whether an IPv6 address is in the NAT64 well-known prefix
 * 64:ff9b::/96
 * @a:		16 address bytes (network order)
 *
 * Return: true for 64:ff9b::/96
 */
bool vg_nat64_is(const uint8_t a[16]);

/**
 * vg_nat64_embed() - the NAT64 address of an IPv4 address: 64:ff9b::a.b.c.d
 * @ip:		IPv4 address (network order)
 * @out:	16 bytes, set
 */
void vg_nat64_embed(uint32_t ip, uint8_t out[16]);

/**
 * vg_nat64_extract() - the IPv4 address embedded in a 64:ff9b::/96 address
 * (its last 32 bits; the caller checks vg_nat64_is() first)
 * @a:		16 address bytes
 *
 * Return: the IPv4 address (network order)
 */
uint32_t vg_nat64_extract(const uint8_t a[16]);

/**
 * vg_host_alias_dial() - the address vgate dials for a guest destination:
 * the host alias (the address the guest reaches the host at) is the host's
 * loopback, 127.0.0.1; every other address is itself
 * @host_ip:	the host alias (network order)
 * @ip:		the destination the guest used (network order)
 *
 * Return: 127.0.0.1 when @ip is @host_ip, else @ip (network order)
 */
uint32_t vg_host_alias_dial(uint32_t host_ip, uint32_t ip);

/**
 * vg_port_parse() - parse a port number, 1..65535, of decimal digits only
 * (no sign, no blanks; leading zeros are fine)
 * @s:		the digits (need not be NUL-terminated)
 * @n:		their count; 0 is an error
 * @port:	set on success
 *
 * Return: 0, or -1 when @s is not a port number
 */
int vg_port_parse(const char *s, size_t n, uint16_t *port);

/**
 * vg_port_parse_str() - vg_port_parse() of a whole NUL-terminated string
 * @s:		the string
 * @port:	set on success
 *
 * Return: 0, or -1 when @s is not a port number
 */
int vg_port_parse_str(const char *s, uint16_t *port);

/**
 * vg_hex_digit() - the value of hexadecimal digit @c, either case
 * @c:		character
 *
 * Return: 0..15, or -1 when @c is not one
 */
int vg_hex_digit(int c);

/**
 * vg_mac_parse() - parse a MAC address "xx:xx:xx:xx:xx:xx" (six pairs of
 * hex digits, either case, colons only)
 * @s:		the string
 * @mac:	6 bytes, set on success
 *
 * Return: 0, or -1 when @s is not such a MAC address
 */
int vg_mac_parse(const char *s, uint8_t mac[6]);

#define VG_MAC_STRLEN 18 /* "xx:xx:xx:xx:xx:xx" and its NUL */

/**
 * vg_mac_format() - write a MAC address as "xx:xx:xx:xx:xx:xx" (lower
 * case, as vg_mac_parse() reads it and Go's net.HardwareAddr prints it)
 * @mac:	6 bytes
 * @out:	VG_MAC_STRLEN bytes
 */
void vg_mac_format(const uint8_t mac[6], char out[VG_MAC_STRLEN]);

/**
 * vg_icmp_csum() - the RFC 1071 checksum of an ICMP message given as its
 * header and its payload (no pseudo-header: ICMP over IPv4)
 * @hdr:	header, with a zero checksum field
 * @hlen:	its length (even)
 * @data:	payload
 * @len:	its length
 *
 * Return: the checksum, to store big-endian
 */
uint16_t vg_icmp_csum(const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t len);

/**
 * vg_ip4_header() - write a 20-byte IPv4 header (version 4, no options,
 * TOS 0, ID 0, no fragmentation flags, TTL VG_IP4_TTL) with its checksum
 * @hdr:	VG_IP4_HLEN bytes to fill
 * @tot_len:	total length of the datagram, header included
 * @proto:	protocol number (1 ICMP, 6 TCP, 17 UDP)
 * @src:	source address (network order)
 * @dst:	destination address (network order)
 */
void vg_ip4_header(uint8_t *hdr, uint16_t tot_len, uint8_t proto, uint32_t src, uint32_t dst);

/* the TCP header vg_tcp4_segment() writes: no options */
#define VG_TCP_HLEN 20

/**
 * struct vg_tcp4_seg - one TCP segment for vg_tcp4_segment()
 * @src:	source address (network order)
 * @dst:	destination address (network order)
 * @sport:	source port
 * @dport:	destination port
 * @seq:	sequence number
 * @ack:	acknowledgment number
 * @flags:	TCP flags (0x01 FIN, 0x02 SYN, 0x04 RST, 0x08 PSH, 0x10 ACK)
 * @window:	window field, unscaled
 * @data:	payload, or NULL when @len is 0
 * @len:	payload length
 */
struct vg_tcp4_seg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	const void *data;
	size_t len;
};

/**
 * vg_tcp4_segment() - write an IPv4 packet carrying one TCP segment: the
 * vg_ip4_header() header, a 20-byte TCP header without options, the payload,
 * and the TCP checksum (for tests and tools that play a guest)
 * @pkt:	VG_IP4_HLEN + VG_TCP_HLEN + @s->len bytes to fill
 * @s:		the segment (@s->len at most 65495)
 *
 * Return: the packet's length
 */
size_t vg_tcp4_segment(uint8_t *pkt, const struct vg_tcp4_seg *s);

/**
 * vg_dns_name_list() - encode a domain list as uncompressed RFC 1035 names,
 * one after the other (DHCP option 119, DHCPv6 option 24, the RA's DNSSL)
 * @list:	names separated by blanks or commas, e.g. "a.example b.example"
 * @out:	output buffer
 * @cap:	its size
 *
 * Return: bytes written; 0 when @list is empty, a label is longer than 63
 *	   bytes or the names do not fit in @cap
 */
size_t vg_dns_name_list(const char *list, uint8_t *out, size_t cap);

#endif
