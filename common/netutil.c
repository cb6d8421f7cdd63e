/* SPDX-License-Identifier: MIT */
/*
 * netutil.c - the IPv4 and port helpers of netutil.h. Pure functions on
 * values: no state, no allocation.
 */
#include "common/netutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
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

bool vg_ip6_unspecified(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, sizeof(zero));
}

bool vg_ip6_in_prefix(const uint8_t a[16], const uint8_t b[16], unsigned int prefix)
{
	unsigned int full, rest;

	if (prefix > 128)
		prefix = 128;
	full = prefix / 8;
	rest = prefix % 8;
	if (memcmp(a, b, full))
		return false;
	if (!rest)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff00u >> rest)) == 0;
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

int vg_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vg_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t out[6];
	int i;

	for (i = 0; i < 6; i++) {
		int hi = vg_hex_digit(s[0]), lo = hi < 0 ? -1 : vg_hex_digit(s[1]);

		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	memcpy(mac, out, 6);
	return 0;
}

void vg_mac_format(const uint8_t mac[6], char out[VG_MAC_STRLEN])
{
	snprintf(out, VG_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

/* RFC 1071: add @n bytes (big-endian 16-bit words, an odd last byte padded) to @sum */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

/* the one's complement of the folded @sum */
static uint16_t fold16(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t vg_icmp_csum(const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t len)
{
	return fold16(sum16(sum16(0, hdr, hlen), data, len));
}

void vg_ip4_header(uint8_t *hdr, uint16_t tot_len, uint8_t proto, uint32_t src, uint32_t dst)
{
	memset(hdr, 0, VG_IP4_HLEN);
	hdr[0] = 0x45;
	vg_put_be16(hdr + 2, tot_len);
	hdr[8] = VG_IP4_TTL;
	hdr[9] = proto;
	memcpy(hdr + 12, &src, 4);
	memcpy(hdr + 16, &dst, 4);
	vg_put_be16(hdr + 10, fold16(sum16(0, hdr, VG_IP4_HLEN)));
}

size_t vg_tcp4_segment(uint8_t *pkt, const struct vg_tcp4_seg *s)
{
	uint8_t *t = pkt + VG_IP4_HLEN;
	size_t tlen = VG_TCP_HLEN + s->len;
	uint32_t sum;

	vg_ip4_header(pkt, (uint16_t)(VG_IP4_HLEN + tlen), 6, s->src, s->dst);
	memset(t, 0, VG_TCP_HLEN);
	vg_put_be16(t, s->sport);
	vg_put_be16(t + 2, s->dport);
	vg_put_be32(t + 4, s->seq);
	vg_put_be32(t + 8, s->ack);
	t[12] = (VG_TCP_HLEN / 4) << 4;
	t[13] = s->flags;
	vg_put_be16(t + 14, s->window);
	if (s->len)
		memcpy(t + VG_TCP_HLEN, s->data, s->len);
	/* pseudo-header: addresses, protocol, TCP length */
	sum = sum16(0, pkt + 12, 8) + 6 + (uint32_t)tlen;
	vg_put_be16(t + 16, fold16(sum16(sum, t, tlen)));
	return VG_IP4_HLEN + tlen;
}

size_t vg_dns_name_list(const char *list, uint8_t *out, size_t cap)
{
	size_t n = 0;
	const char *p = list;

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		while (*p && *p != ' ' && *p != ',') {
			const char *dot = p;
			size_t l;

			while (*dot && *dot != '.' && *dot != ' ' && *dot != ',')
				dot++;
			l = (size_t)(dot - p);
			if (l > 63 || n + 1 + l + 1 > cap)
				return 0;
			if (l) {
				out[n++] = (uint8_t)l;
				memcpy(out + n, p, l);
				n += l;
			}
			p = *dot == '.' ? dot + 1 : dot;
		}
		if (n + 1 > cap)
			return 0;
		out[n++] = 0;
	}
	return n;
}

static const uint8_t nat64_wkp[12] = {0x00, 0x64, 0xff, 0x9b};

bool vg_nat64_is(const uint8_t a[16])
{
	return !memcmp(a, nat64_wkp, sizeof(nat64_wkp));
}

void vg_nat64_embed(uint32_t ip, uint8_t out[16])
{
	memcpy(out, nat64_wkp, sizeof(nat64_wkp));
	memcpy(out + 12, &ip, 4);
}

uint32_t vg_nat64_extract(const uint8_t a[16])
{
	uint32_t ip;

	memcpy(&ip, a + 12, 4);
	return ip;
}
