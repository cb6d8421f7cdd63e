/* SPDX-License-Identifier: MIT */
/*
 * netutil.c - the IPv4 and port helpers of netutil.h. Pure functions on
 * values: no state, no allocation.
 */
#include "common/netutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

uint32_t vg_ip4_mask(unsigned int prefix)
{
	if (prefix == 0)
		return 0; /* a shift by 32 would be undefined */
	if (prefix > 32)
		prefix = 32;
	return htonl(0xffffffffu << (32 - prefix));
}

unsigned int vg_ip4_prefix_len(uint32_t mask)
{
	uint32_t m = ntohl(mask);
	unsigned int prefix = 0;

	while (m & 0x80000000u) {
		prefix++;
		m <<= 1;
	}
	return prefix;
}

bool vg_ip4_in_subnet(uint32_t ip, uint32_t net, unsigned int prefix)
{
	uint32_t m = vg_ip4_mask(prefix);

	return (ip & m) == (net & m);
}

uint32_t vg_ip4_broadcast(uint32_t net, unsigned int prefix)
{
	return net | ~vg_ip4_mask(prefix);
}

uint32_t vg_host_alias_dial(uint32_t host_ip, uint32_t ip)
{
	return ip == host_ip ? htonl(INADDR_LOOPBACK) : ip;
}

int vg_port_parse(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int vg_port_parse_str(const char *s, uint16_t *port)
{
	return vg_port_parse(s, strlen(s), port);
}

void vg_ip4_header(uint8_t *hdr, uint16_t tot_len, uint8_t proto, uint32_t src, uint32_t dst)
{
	uint32_t sum = 0;
	size_t i;

	memset(hdr, 0, VG_IP4_HLEN);
	hdr[0] = 0x45;
	hdr[2] = (uint8_t)(tot_len >> 8);
	hdr[3] = (uint8_t)tot_len;
	hdr[8] = VG_IP4_TTL;
	hdr[9] = proto;
	memcpy(hdr + 12, &src, 4);
	memcpy(hdr + 16, &dst, 4);
	/* RFC 1071 one's complement sum of the header's 16-bit words */
	for (i = 0; i < VG_IP4_HLEN; i += 2)
		sum += (uint32_t)hdr[i] << 8 | hdr[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	hdr[10] = (uint8_t)(sum >> 8);
	hdr[11] = (uint8_t)sum;
}
