/* SPDX-License-Identifier: MIT */
/*
 * fdbudget.c - RLIMIT_NOFILE and the forwarder's flow bounds (fdbudget.h).
 * Stateless: main.c calls it once at start, before the forwarder exists.
 */
#include "fdbudget.h"

#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>

#include "api.h"

int vg_fd_raise_limit(uint64_t *limit)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		*limit = 1024;
		return -1;
	}
	*limit = rl.rlim_cur;
	if (rl.rlim_cur == rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	*limit = rl.rlim_cur;
	return 0;
}

unsigned int vg_fd_open_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;
	struct dirent *e;

	if (!d)
		return 64;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n ? n - 1 : 0; /* not the DIR's own fd */
}

unsigned int vg_fd_reserve(unsigned int dns_inflight)
{
	/* host API: listener, MHD epoll + eventfd, connections; the guest API
	 * the same; transports: listener + connection each side */
	unsigned int api = 3 + API_MAX_CONNECTIONS + 3 + API_MAX_GUEST_CONNECTIONS;
	unsigned int transports = 4;
	unsigned int files = 2 /* log, pcap */ + 2 /* epoll, signalfd */;

	return dns_inflight + api + transports + files + VG_FD_RESERVE_SLACK;
}

void vg_fd_budget_split(struct vg_fd_budget *b, unsigned int max_tcp, unsigned int max_udp)
{
	uint64_t used = (uint64_t)b->open + b->reserve, avail, tcp, udp;

	avail = b->limit > used ? b->limit - used : 0;
	if (avail >= (uint64_t)max_tcp + max_udp) {
		tcp = max_tcp;
		udp = max_udp;
	} else {
		/* in the ratio of the maxima; what one cannot use goes to the other */
		tcp = max_tcp + max_udp ? avail * max_tcp / ((uint64_t)max_tcp + max_udp) : 0;
		udp = avail - tcp;
		if (udp > max_udp) {
			tcp += udp - max_udp;
			udp = max_udp;
		}
		if (tcp > max_tcp)
			tcp = max_tcp;
	}
	b->tcp = tcp ? (unsigned int)tcp : 1;
	b->udp = udp ? (unsigned int)udp : 1;
}
