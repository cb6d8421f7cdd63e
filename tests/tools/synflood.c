/* SPDX-License-Identifier: MIT */
/*
 * synflood.c - a spoofed-source TCP SYN flood for the e2e tests: raw
 * Ethernet frames written straight to the guest's TAP (AF_PACKET, run inside
 * the guest namespace), so vgate sees guest SYNs from any source address of
 * the guest subnet. Python cannot send 100k frames/s; this sends batches of
 * NBATCH frames per sendmmsg().
 *
 *	synflood IFACE DST_IP PORTS COUNT SECONDS
 *
 * PORTS is a comma-separated list of destination ports used in turn (e.g.
 * one that listens and one that does not). Sources are 192.168.127.2 to
 * .253 (the subnet the tests use; not the gateway .1 nor the host alias
 * .254), source ports and sequence numbers pseudo-random. The COUNT frames
 * are paced over SECONDS (bursts of NBATCH, COUNT/SECONDS a second); a
 * machine too slow for that rate keeps sending until COUNT went, but never
 * longer than 6 * SECONDS (bounded: at most 10^8 frames, SECONDS <= 20).
 * Prints "sent N frames in S s: R/s". Exit 0, or 1 on a usage or socket
 * error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/netutil.h"

#define NBATCH    256
#define FRAME_LEN 54 /* Ethernet 14 + IPv4 20 + TCP 20 */
#define MAX_PORTS 8

static const uint8_t gw_mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static int read_mac(const char *ifname, uint8_t mac[6])
{
	char path[128];
	unsigned int m[6];
	FILE *f;
	int i, n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
	fclose(f);
	if (n != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

/* one SYN from a random guest-subnet source to @dst:@port into @f */
static void build(uint8_t *f, const uint8_t src_mac[6], uint32_t dst, uint16_t port, uint32_t *rnd)
{
	uint32_t r = xorshift(rnd);
	struct vg_tcp4_seg s = {.src = htonl(0xc0a87f00u | (2 + r % 252)), /* .2 .. .253 */
				.dst = dst,
				.sport = (uint16_t)((r >> 8) % 30000 + 20000),
				.dport = port,
				.seq = xorshift(rnd),
				.flags = 0x02, /* SYN */
				.window = 0xffff};

	memcpy(f, gw_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	vg_tcp4_segment(f + 14, &s);
}

int main(int argc, char **argv)
{
	static uint8_t frames[NBATCH][FRAME_LEN];
	struct mmsghdr msgs[NBATCH];
	struct iovec iov[NBATCH];
	struct sockaddr_ll sll = {0};
	uint16_t ports[MAX_PORTS];
	int nports = 0, fd, i;
	uint8_t mac[6];
	struct in_addr dst;
	unsigned long long count, sent = 0;
	double secs, t0, t;
	uint32_t rnd = (uint32_t)getpid() * 2654435761u | 1;
	char *tok, *save = NULL;

	if (argc != 6 || inet_pton(AF_INET, argv[2], &dst) != 1) {
		fprintf(stderr, "usage: synflood IFACE DST_IP PORT[,PORT..] COUNT SECONDS\n");
		return 1;
	}
	for (tok = strtok_r(argv[3], ",", &save); tok && nports < MAX_PORTS;
	     tok = strtok_r(NULL, ",", &save))
		ports[nports++] = (uint16_t)atoi(tok);
	count = strtoull(argv[4], NULL, 10);
	secs = atof(argv[5]);
	if (!nports || !count || count > 100000000ull || secs <= 0 || secs > 20) {
		fprintf(stderr, "synflood: bad ports, count (1..1e8) or seconds (0..20]\n");
		return 1;
	}
	if (read_mac(argv[1], mac) < 0) {
		fprintf(stderr, "synflood: no MAC for %s\n", argv[1]);
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (fd < 0) {
		perror("synflood: socket");
		return 1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_IP);
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("synflood: bind");
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < NBATCH; i++) {
		iov[i].iov_base = frames[i];
		iov[i].iov_len = FRAME_LEN;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = t = now_s();
	while (sent < count && t - t0 < 6 * secs) {
		unsigned int n = count - sent < NBATCH ? (unsigned int)(count - sent) : NBATCH;
		int r;

		if ((double)sent > (double)count * (t - t0) / secs) {
			struct timespec pause = {0, 200000}; /* ahead of the pace */

			nanosleep(&pause, NULL);
			t = now_s();
			continue;
		}
		for (i = 0; i < (int)n; i++)
			build(frames[i], mac, dst.s_addr, ports[(sent + (unsigned)i) % (unsigned)nports],
			      &rnd);
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				t = now_s();
				continue;
			}
			perror("synflood: sendmmsg");
			return 1;
		}
		sent += (unsigned long long)r;
		t = now_s();
	}
	t = now_s() - t0;
	printf("sent %llu frames in %.2f s: %.0f/s\n", sent, t, t > 0 ? (double)sent / t : 0.0);
	close(fd);
	return 0;
}
