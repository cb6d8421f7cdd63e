/* SPDX-License-Identifier: MIT */
/*
 * ping.c - the guest's ICMP and ICMPv6 echo to the outside: one host socket
 * per (guest address, echo identifier, destination), the replies sent back
 * to the guest from the address it pinged, with its own identifier.
 *
 * A flow's socket is an unprivileged ping socket (SOCK_DGRAM with
 * IPPROTO_ICMP or IPPROTO_ICMPV6: the kernel picks the identifier on the
 * wire, fills in the checksum and hands back only the replies to it); where
 * those are not permitted (net.ipv4.ping_group_range leaves vgate's group
 * out) a raw socket, connected to the destination so the kernel passes only
 * that peer's ICMP, with an identifier of vgate's own that replies are
 * matched against. Either way the socket is connected, so a reply comes
 * from the address pinged.
 *
 * Bounded: at most FWD_PING_MAX flows in one array allocated at the first
 * echo request (none before: no memory for a guest that never pings); at
 * the bound the least recently used flow is closed for the new one
 * (icmp_evicted). Each flow's socket also counts against the UDP mappings'
 * bound (an unhashed entry in fwd->udp_tab: the fd budget's UDP share), so
 * ping cannot take fds the budget did not give: when that table is full the
 * oldest echo flow makes room, or with none the request is refused
 * (icmp_over_limit). Flows idle for cfg.udp_idle_ms are closed by the
 * forwarder's sweep (icmp_expired), oldest first from fwd->ping_lru. Echo
 * requests to martians are dropped (icmp_martian); with a filter installed
 * (the SNI allowlist) only destinations its echo hook allows pass, the
 * others get ICMP administratively prohibited (icmp_filtered); the outbound
 * policy refuses the same way (icmp_denied) and a policy reload closes the
 * flows it now denies (fwd_ping_revoke()). The flow owns its socket; the
 * array is the forwarder's, freed by fwd_ping_free_all(). With NAT64
 * (cfg.nat64) an ICMPv6 echo to 64:ff9b::a.b.c.d goes out as ICMP echo on
 * an IPv4 socket to a.b.c.d (fwd_dialled()); its replies go back to the
 * guest as ICMPv6 from the address it pinged.
 */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/netutil.h"

#define FWD_PING_BATCH 16 /* replies read per readiness */

struct fwd_ping {
	struct fwd_entry ent; /* on fwd->ping_lru (never hashed) */
	struct fwd *fwd;
	struct vg_io io;
	int fd;		      /* -1: the slot is free */
	bool raw;	      /* a raw socket: replies matched on @wire_id */
	uint16_t wire_id;     /* raw sockets: the identifier on the wire */
	struct ns_addr guest; /* the guest; port = its echo identifier */
	struct ns_addr dst;   /* as the guest pinged it */
};

/**
 * ping_end() - close a flow and free its slot
 * @p:	flow in use
 */
static void ping_end(struct fwd_ping *p)
{
	struct fwd *fwd = p->fwd;

	vg_io_del(fwd->loop, &p->io);
	close(p->fd);
	p->fd = -1;
	fwd_list_del(&fwd->ping_lru, &p->ent);
	fwd_table_del(&fwd->udp_tab, &p->ent);
	fwd->st.icmp_active--;
}

/**
 * ping_on_io() - replies on a flow's socket: each echo reply goes to the
 * guest with the guest's identifier; anything else is skipped
 * @arg:	flow
 * @events:	epoll events
 */
static void ping_on_io(void *arg, uint32_t events)
{
	struct fwd_ping *p = arg;
	struct fwd *fwd = p->fwd;
	struct ns_addr sock = fwd_dialled(fwd, &p->dst);
	bool v6 = ns_addr_is_v6(&sock); /* the socket's family (NAT64: IPv4) */
	int i;

	(void)events;
	for (i = 0; i < FWD_PING_BATCH; i++) {
		const uint8_t *m = fwd->bounce;
		ssize_t r = recv(p->fd, fwd->bounce, FWD_BOUNCE_BYTES, MSG_DONTWAIT);
		size_t n;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fwd->st.icmp_errors++; /* an ICMP error about the flow */
			return;
		}
		n = (size_t)r;
		if (p->raw && !v6) { /* raw IPv4 sockets see the IP header */
			size_t ihl = n ? (size_t)(m[0] & 15) * 4 : 0;

			if (ihl < 20 || n < ihl)
				continue;
			m += ihl;
			n -= ihl;
		}
		if (n < 8 || m[0] != (v6 ? 129 : 0) || m[1] != 0)
			continue;
		if (p->raw && (uint16_t)(m[4] << 8 | m[5]) != p->wire_id)
			continue;
		if (!fwd->ns || ns_echo_reply(fwd->ns, &p->dst, &p->guest,
					      (uint16_t)(m[6] << 8 | m[7]), m + 8, n - 8) < 0) {
			fwd->st.icmp_errors++;
			continue;
		}
		fwd->st.icmp_pkts_in++;
		fwd_list_touch(&fwd->ping_lru, &p->ent, vg_loop_now(fwd->loop));
	}
}

/**
 * ping_socket() - a socket for echo to @d: a ping socket, else a raw one
 * @fwd:	forwarder
 * @d:		the address dialled
 * @raw:	set when the socket is raw
 *
 * Return: the connected non-blocking socket, or -1 (counted)
 */
static int ping_socket(struct fwd *fwd, const struct ns_addr *d, bool *raw)
{
	int fam = ns_addr_is_v6(d) ? AF_INET6 : AF_INET;
	int proto = fam == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	int flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
	struct sockaddr_storage ss;
	unsigned int slen;
	int fd;

	*raw = false;
	fd = socket(fam, SOCK_DGRAM | flags, proto);
	if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EPROTONOSUPPORT)) {
		*raw = true;
		fd = socket(fam, SOCK_RAW | flags, proto);
	}
	if (fd < 0) {
		if (fwd_fd_exhausted(errno)) {
			fwd->st.fd_exhausted++;
			fwd_budget_hit(fwd, "fd limit");
		} else {
			fwd->st.icmp_errors++; /* neither ping nor raw sockets */
		}
		return -1;
	}
	slen = fwd_sockaddr(&ss, d);
	if (connect(fd, (struct sockaddr *)&ss, slen) < 0) {
		fwd->st.icmp_errors++;
		close(fd);
		return -1;
	}
	return fd;
}

/**
 * ping_find() - the flow of (@guest, @dst), or a free slot for it
 * @fwd:	forwarder (fwd->ping allocated)
 * @guest:	guest address and identifier
 * @dst:	destination
 * @found:	set when the flow exists
 *
 * Return: the flow, a free slot, or the least recently used flow closed
 * for it (icmp_evicted)
 */
static struct fwd_ping *ping_find(struct fwd *fwd, const struct ns_addr *guest,
				  const struct ns_addr *dst, bool *found)
{
	struct fwd_ping *free_slot = NULL;
	struct fwd_entry *e;
	size_t i;

	*found = false;
	for (i = 0; i < FWD_PING_MAX; i++) {
		struct fwd_ping *p = &fwd->ping[i];

		if (p->fd < 0) {
			if (!free_slot)
				free_slot = p;
			continue;
		}
		if (ns_addr_eq(&p->guest, guest) && ns_addr_eq(&p->dst, dst)) {
			*found = true;
			return p;
		}
	}
	if (free_slot)
		return free_slot;
	e = fwd_list_first(&fwd->ping_lru);
	free_slot = fwd_container_of(e, struct fwd_ping, ent);
	fwd->st.icmp_evicted++;
	ping_end(free_slot);
	return free_slot;
}

/**
 * ping_open() - a new flow in slot @p
 * @fwd:	forwarder
 * @p:		free slot
 * @guest:	guest address and identifier
 * @dst:	destination
 *
 * Return: 0, or -1 (counted; the slot stays free)
 */
static int ping_open(struct fwd *fwd, struct fwd_ping *p, const struct ns_addr *guest,
		     const struct ns_addr *dst)
{
	struct ns_addr d = fwd_dialled(fwd, dst);

	/* the socket counts against the UDP mappings' share of the fds */
	if (fwd_table_full(&fwd->udp_tab) && fwd->ping_lru.n) {
		fwd->st.icmp_evicted++;
		ping_end(fwd_container_of(fwd_list_first(&fwd->ping_lru), struct fwd_ping, ent));
	}
	if (fwd_table_add(&fwd->udp_tab, &p->ent, false) < 0) {
		fwd->st.icmp_over_limit++;
		fwd_budget_hit(fwd, "udp flow budget");
		return -1;
	}
	p->fd = ping_socket(fwd, &d, &p->raw);
	if (p->fd < 0) {
		fwd_table_del(&fwd->udp_tab, &p->ent);
		return -1;
	}
	p->fwd = fwd;
	p->guest = *guest;
	p->dst = *dst;
	if (++fwd->ping_id_seq == 0)
		fwd->ping_id_seq = 1;
	p->wire_id = fwd->ping_id_seq;
	if (vg_io_add(fwd->loop, &p->io, p->fd, EPOLLIN, ping_on_io, p) < 0) {
		fwd->st.icmp_errors++;
		fwd_table_del(&fwd->udp_tab, &p->ent);
		close(p->fd);
		p->fd = -1;
		return -1;
	}
	fwd_list_push(&fwd->ping_lru, &p->ent, vg_loop_now(fwd->loop));
	fwd->st.icmp_active++;
	fwd->st.icmp_total++;
	fwd->st.icmp_raw += p->raw;
	return 0;
}

/**
 * ping_alloc() - the flow array, at the first echo request
 * @fwd:	forwarder
 *
 * Return: 0, or -1 out of memory (counted)
 */
static int ping_alloc(struct fwd *fwd)
{
	size_t i;

	if (fwd->ping)
		return 0;
	fwd->ping = calloc(FWD_PING_MAX, sizeof(*fwd->ping));
	if (!fwd->ping) {
		fwd->st.icmp_errors++;
		return -1;
	}
	for (i = 0; i < FWD_PING_MAX; i++) {
		fwd->ping[i].fd = -1;
		fwd->ping[i].io.fd = -1;
	}
	return 0;
}

void fwd_ping_echo(void *ctx, const struct ns_addr *src, const struct ns_addr *dst, uint16_t seq,
		   const uint8_t *data, size_t len, const struct ns_pkt *pkt)
{
	struct fwd *fwd = ctx;
	uint8_t hdr[8];
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)data, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	struct fwd_ping *p;
	struct ns_addr dialled = fwd_dialled(fwd, dst);
	bool v6 = ns_addr_is_v6(&dialled), found; /* the socket's family (NAT64: IPv4) */
	uint16_t sum;

	if (fwd_martian_dst(fwd, dst)) {
		fwd->st.icmp_martian++;
		fwd_martian_hit(fwd, FWD_ICMP, dst);
		return;
	}
	if (!fwd_allowed(fwd, dst)) {
		fwd->st.icmp_denied++;
		ns_icmp_unreachable(fwd->ns, pkt, 13);
		fwd_report_denied(fwd, FWD_ICMP, src, dst);
		return;
	}
	if (fwd->has_filter &&
	    (!fwd->filter.echo || !fwd->filter.echo(fwd->filter.ctx, src, dst))) {
		fwd->st.icmp_filtered++;
		ns_icmp_unreachable(fwd->ns, pkt, 13);
		return;
	}
	if (ping_alloc(fwd) < 0)
		return;
	p = ping_find(fwd, src, dst, &found);
	if (!found && ping_open(fwd, p, src, dst) < 0)
		return;
	hdr[0] = v6 ? 128 : 8; /* echo request */
	hdr[1] = 0;
	hdr[2] = hdr[3] = 0;
	vg_put_be16(hdr + 4, p->raw ? p->wire_id : 0); /* ping sockets set their own */
	vg_put_be16(hdr + 6, seq);
	if (p->raw && !v6) { /* the kernel sums ICMPv6 and ping sockets */
		sum = vg_icmp_csum(hdr, sizeof(hdr), data, len);
		vg_put_be16(hdr + 2, sum);
	}
	if (sendmsg(p->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		fwd->st.icmp_errors++;
		return;
	}
	fwd->st.icmp_pkts_out++;
	fwd_list_touch(&fwd->ping_lru, &p->ent, vg_loop_now(fwd->loop));
}

/**
 * fwd_ping_sweep() - close flows idle for cfg.udp_idle_ms
 * @fwd:	forwarder
 * @now:	loop time
 */
void fwd_ping_sweep(struct fwd *fwd, uint64_t now)
{
	struct fwd_entry *e;

	while ((e = fwd_list_expired(&fwd->ping_lru, now, fwd->cfg.udp_idle_ms))) {
		fwd->st.icmp_expired++;
		ping_end(fwd_container_of(e, struct fwd_ping, ent));
	}
}

/**
 * fwd_ping_revoke() - close the flows the (new) outbound policy denies
 * @fwd:	forwarder
 */
void fwd_ping_revoke(struct fwd *fwd)
{
	size_t i;

	for (i = 0; fwd->ping && i < FWD_PING_MAX; i++) {
		struct fwd_ping *p = &fwd->ping[i];

		if (p->fd >= 0 && !fwd_allowed(fwd, &p->dst)) {
			fwd->st.icmp_revoked++;
			ping_end(p);
		}
	}
}

/**
 * fwd_ping_free_all() - close every flow and free the array
 * @fwd:	forwarder
 */
void fwd_ping_free_all(struct fwd *fwd)
{
	size_t i;

	for (i = 0; fwd->ping && i < FWD_PING_MAX; i++)
		if (fwd->ping[i].fd >= 0)
			ping_end(&fwd->ping[i]);
	free(fwd->ping);
	fwd->ping = NULL;
}
