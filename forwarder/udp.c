/* SPDX-License-Identifier: MIT */
/*
 * udp.c - UDP NAT ("conntrack" style): one connected host socket per
 * (guest addr:port → destination addr:port), replies sent back to the guest
 * from the original destination; and the guest side of UDP port forwards.
 *
 * One struct fwd_udp per mapping, allocated on the first datagram and freed
 * exactly once in udp_end(): on idle expiry (cfg.udp_idle_ms, LRU order,
 * swept by the forwarder's timer) or at fwd_free(). The table is bounded
 * (cfg.max_udp_flows, the fd budget); when it is full, expired mappings
 * are reaped first, then the least recently used mapping is evicted if it
 * is idle (FWD_UDP_EVICT_IDLE_MS), else the datagram gets ICMP port
 * unreachable; all counted. Destinations that are martians (fwd_martian())
 * are dropped before anything else; a policy reload drops the mappings it
 * denies (fwd_udp_revoke()).
 *
 * Outbound mappings own a connected socket, so the kernel filters replies
 * by source and reports ICMP errors as ECONNREFUSED, which become ICMP port
 * unreachable to the guest. Inbound (port-forward) mappings own no socket:
 * they remember the host peer and reply through the listener's socket; the
 * guest sees them as coming from the host alias and a per-mapping port.
 * A second table indexes inbound mappings by host peer. A first datagram
 * the outbound policy refuses gets ICMP administratively prohibited and is
 * reported to cfg.denied. Both families: an IPv6 guest flow gets an
 * AF_INET6 socket, and its errors ICMPv6 (the netstack translates the
 * codes); a destination the host has no route to is answered at once (no
 * route / host unreachable), never left to time out. Inbound forwards
 * accept IPv4 and IPv6 host peers; a forward on an IPv6 host address
 * reaches the guest over IPv6 once its IPv6 address is known (as TCP's,
 * fwd_inbound_ends()).
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define FWD_UDP_BATCH 64

struct fwd_udp {
	struct fwd_entry ent;  /* guest tuple; on fwd->udp_lru */
	struct fwd_entry pent; /* inbound: host peer, in fwd->udp_peer_tab */
	struct fwd *fwd;
	struct vg_io io;
	int fd; /* outbound: own connected socket; inbound: -1 */
	struct ns_addr src, dst; /* the guest's view: src = guest */
	struct fwd_listener *lst; /* inbound */
	struct sockaddr_storage peer; /* inbound: the host peer (IPv4 or IPv6) */
	socklen_t peer_len;
};

static void udp_end(struct fwd_udp *u)
{
	struct fwd *fwd = u->fwd;

	if (u->fd >= 0) {
		vg_io_del(fwd->loop, &u->io);
		close(u->fd);
	}
	if (u->lst)
		fwd_table_del(&fwd->udp_peer_tab, &u->pent);
	fwd_list_del(&fwd->udp_lru, &u->ent);
	fwd_table_del(&fwd->udp_tab, &u->ent);
	fwd->st.udp_active--;
	free(u);
}

static void udp_on_io(void *arg, uint32_t events)
{
	struct fwd_udp *u = arg;
	struct fwd *fwd = u->fwd;
	int i;

	(void)events;
	for (i = 0; i < FWD_UDP_BATCH; i++) {
		ssize_t r = recv(u->fd, fwd->bounce, FWD_BOUNCE_BYTES, MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ECONNREFUSED) {
				fwd->st.udp_refused++;
				if (fwd->ns)
					ns_udp_unreachable(fwd->ns, &u->src, &u->dst, 3);
				continue;
			}
			fwd->st.udp_errors++;
			break;
		}
		fwd_list_touch(&fwd->udp_lru, &u->ent, vg_loop_now(fwd->loop));
		if (!fwd->ns || ns_udp_send(fwd->ns, &u->dst, &u->src, fwd->bounce, (size_t)r) < 0) {
			fwd->st.udp_errors++;
			continue;
		}
		fwd->st.udp_pkts_in++;
		fwd->st.udp_bytes_in += (uint64_t)r;
	}
}

/**
 * udp_room() - make room for a new mapping at the budget: reap expired
 * mappings, else evict the least recently used one if it is idle (no
 * datagram either way for FWD_UDP_EVICT_IDLE_MS)
 * @fwd:	forwarder
 *
 * Return: true if there is room now; false is a budget hit (counted as
 * over_limit by the caller, reported here)
 */
static bool udp_room(struct fwd *fwd)
{
	uint64_t now = vg_loop_now(fwd->loop);
	struct fwd_entry *e;

	if (!fwd_table_full(&fwd->udp_tab))
		return true;
	fwd_udp_sweep(fwd, now);
	if (!fwd_table_full(&fwd->udp_tab))
		return true;
	e = fwd_list_expired(&fwd->udp_lru, now, FWD_UDP_EVICT_IDLE_MS);
	if (e) {
		fwd->st.udp_evicted++;
		fwd_budget_hit(fwd, "udp flow budget");
		udp_end(fwd_container_of(e, struct fwd_udp, ent));
		return true;
	}
	fwd_budget_hit(fwd, "udp flow budget");
	return false;
}

static struct fwd_udp *udp_alloc(struct fwd *fwd, const struct ns_addr *src,
				 const struct ns_addr *dst)
{
	struct fwd_udp *u = malloc(sizeof(*u));

	if (!u)
		return NULL;
	*u = (struct fwd_udp){
	    .ent.key = fwd_key_of(src, dst),
	    .fwd = fwd,
	    .io.fd = -1,
	    .fd = -1,
	    .src = *src,
	    .dst = *dst,
	};
	if (fwd_table_add(&fwd->udp_tab, &u->ent, true) < 0) {
		free(u);
		return NULL;
	}
	fwd_list_push(&fwd->udp_lru, &u->ent, vg_loop_now(fwd->loop));
	fwd->st.udp_active++;
	fwd->st.udp_total++;
	return u;
}

/**
 * udp_open() - a new outbound mapping with its connected host socket (of
 * the destination's family)
 * @fwd:	forwarder
 * @src:	guest endpoint
 * @dst:	destination as the guest sent it
 * @code:	set on failure: the ICMP code to answer (0 no route to it, 1
 *		host unreachable, 3 port unreachable)
 *
 * Return: the mapping, or NULL (counted)
 */
static struct fwd_udp *udp_open(struct fwd *fwd, const struct ns_addr *src,
				const struct ns_addr *dst, uint8_t *code)
{
	struct ns_addr d = fwd_dialled(fwd, dst);
	struct sockaddr_storage ss;
	socklen_t slen;
	struct fwd_udp *u;
	int fd;

	*code = 3;
	fd = socket(ns_addr_is_v6(&d) ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		if (fwd_fd_exhausted(errno)) {
			fwd->st.fd_exhausted++;
			fwd_budget_hit(fwd, "fd limit");
		} else {
			fwd->st.udp_errors++;
		}
		return NULL;
	}
	slen = fwd_sockaddr(&ss, &d);
	if (connect(fd, (struct sockaddr *)&ss, slen) < 0) {
		if (errno == ENETUNREACH || errno == EHOSTUNREACH || errno == EACCES ||
		    errno == EADDRNOTAVAIL)
			fwd->st.udp_refused++;
		else
			fwd->st.udp_errors++;
		if (errno == ENETUNREACH || errno == EADDRNOTAVAIL)
			*code = 0; /* no route (ICMPv6 0) */
		else if (errno == EHOSTUNREACH)
			*code = 1; /* host (ICMPv6: address) unreachable */
		close(fd);
		return NULL;
	}
	u = udp_alloc(fwd, src, dst);
	if (!u) {
		fwd->st.udp_errors++;
		close(fd);
		return NULL;
	}
	u->fd = fd;
	if (vg_io_add(fwd->loop, &u->io, fd, EPOLLIN, udp_on_io, u) < 0) {
		fwd->st.udp_errors++;
		udp_end(u);
		return NULL;
	}
	return u;
}

void fwd_udp_recv(void *ctx, const struct ns_addr *src, const struct ns_addr *dst,
		  const uint8_t *data, size_t len, const struct ns_pkt *pkt)
{
	struct fwd *fwd = ctx;
	struct fwd_entry *e;
	struct fwd_udp *u;
	struct fwd_key k = fwd_key_of(src, dst);
	uint8_t code;
	ssize_t w;

	if (fwd_martian_dst(fwd, dst)) {
		fwd->st.udp_martian++; /* before any policy; no ICMP about these */
		fwd_martian_hit(fwd, FWD_UDP, dst);
		return;
	}
	if (fwd->has_filter && fwd->filter.udp && fwd_allowed(fwd, dst)) {
		enum fwd_udp_verdict v = fwd->filter.udp(fwd->filter.ctx, src, dst);

		if (v != FWD_UDP_ALLOW) {
			ns_icmp_unreachable(fwd->ns, pkt, v == FWD_UDP_UNREACHABLE ? 3 : 13);
			return;
		}
	}
	e = fwd_table_find(&fwd->udp_tab, &k);
	if (e) {
		u = fwd_container_of(e, struct fwd_udp, ent);
	} else {
		if (fwd_is_gateway(fwd, dst) || !fwd->ns)
			return;
		if (!fwd_allowed(fwd, dst)) {
			fwd->st.udp_denied++;
			ns_icmp_unreachable(fwd->ns, pkt, 13);
			fwd_report_denied(fwd, FWD_UDP, src, dst);
			return;
		}
		if (!udp_room(fwd)) {
			fwd->st.udp_over_limit++;
			ns_icmp_unreachable(fwd->ns, pkt, 3);
			return;
		}
		u = udp_open(fwd, src, dst, &code);
		if (!u) {
			ns_icmp_unreachable(fwd->ns, pkt, code);
			return;
		}
		fwd_guest6_seen(fwd, src);
	}
	fwd_list_touch(&fwd->udp_lru, &u->ent, vg_loop_now(fwd->loop));
	if (u->lst) {
		if (u->lst->fd < 0) {
			fwd->st.udp_errors++; /* the forward was removed */
			return;
		}
		w = sendto(u->lst->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&u->peer,
			   u->peer_len);
	} else {
		w = send(u->fd, data, len, MSG_DONTWAIT);
	}
	if (w < 0) {
		if (errno == ECONNREFUSED) {
			fwd->st.udp_refused++;
			ns_icmp_unreachable(fwd->ns, pkt, 3);
		} else {
			fwd->st.udp_errors++;
		}
		return;
	}
	fwd->st.udp_pkts_out++;
	fwd->st.udp_bytes_out += len;
}

/* ---- inbound: datagrams to a UDP port-forward listener ---- */

/**
 * inbound_map() - the mapping of a host peer of a UDP forward's listener,
 * made on its first datagram (towards the guest, from the host alias of
 * the forward's family and a port of its own; fwd_inbound_ends())
 * @l:		listener
 * @peer:	the host peer (a struct sockaddr_storage, AF_INET or AF_INET6)
 * @plen:	its length
 *
 * Return: the mapping, or NULL
 */
static struct fwd_udp *inbound_map(struct fwd_listener *l, const struct sockaddr_storage *peer,
				   socklen_t plen)
{
	struct fwd *fwd = l->fwd;
	struct ns_addr p, none = ns_addr_v4(0, 0), guest, from;
	struct fwd_key pk;
	struct fwd_entry *e;
	struct fwd_udp *u;
	bool ok;
	int i;

	p = fwd_sockaddr_addr(peer, &ok);
	if (!ok)
		return NULL;
	if (ns_addr_is_v6(&p))
		none = ns_addr_v6(none.ip6, 0);
	none.port = (uint16_t)(l - fwd->lst); /* the listener's slot */
	pk = fwd_key_of(&p, &none);
	e = fwd_table_find(&fwd->udp_peer_tab, &pk);
	if (e)
		return fwd_container_of(e, struct fwd_udp, pent);
	if (!fwd_inbound_ends(fwd, &l->spec, &from, &guest))
		return NULL;
	if (!udp_room(fwd)) {
		fwd->st.udp_over_limit++;
		return NULL;
	}
	/* a source port the guest has no other mapping with */
	for (i = 0; i < 64; i++) {
		struct fwd_key k;

		if (fwd->udp_port_seq < 49152)
			fwd->udp_port_seq = 49152;
		from.port = fwd->udp_port_seq++;
		k = fwd_key_of(&guest, &from);
		if (!fwd_table_find(&fwd->udp_tab, &k))
			break;
	}
	if (i == 64)
		return NULL;
	u = udp_alloc(fwd, &guest, &from);
	if (!u)
		return NULL;
	u->pent.key = pk;
	if (fwd_table_add(&fwd->udp_peer_tab, &u->pent, true) < 0) {
		udp_end(u);
		return NULL;
	}
	u->lst = l;
	u->peer = *peer;
	u->peer_len = plen;
	return u;
}

/**
 * fwd_udp_inbound() - read datagrams from a UDP forward's listener and pass
 * them to the guest
 * @l:	listener
 */
void fwd_udp_inbound(struct fwd_listener *l)
{
	struct fwd *fwd = l->fwd;
	int i;

	for (i = 0; i < FWD_UDP_BATCH && l->fd >= 0; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		struct fwd_udp *u;
		ssize_t r;

		r = recvfrom(l->fd, fwd->bounce, FWD_BOUNCE_BYTES, MSG_DONTWAIT,
			     (struct sockaddr *)&peer, &plen);
		if (r < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			break;
		}
		if (plen > sizeof(peer) || (peer.ss_family != AF_INET && peer.ss_family != AF_INET6))
			continue;
		u = inbound_map(l, &peer, plen);
		if (!u || !fwd->ns) {
			fwd->st.udp_errors++;
			continue;
		}
		fwd_list_touch(&fwd->udp_lru, &u->ent, vg_loop_now(fwd->loop));
		if (ns_udp_send(fwd->ns, &u->dst, &u->src, fwd->bounce, (size_t)r) < 0) {
			fwd->st.udp_errors++;
			continue;
		}
		fwd->st.fwd_udp_pkts++;
		fwd->st.udp_pkts_in++;
		fwd->st.udp_bytes_in += (uint64_t)r;
	}
}

/**
 * fwd_udp_sweep() - forget mappings idle for cfg.udp_idle_ms
 * @fwd:	forwarder
 * @now:	loop time
 */
void fwd_udp_sweep(struct fwd *fwd, uint64_t now)
{
	struct fwd_entry *e;

	while ((e = fwd_list_expired(&fwd->udp_lru, now, fwd->cfg.udp_idle_ms))) {
		fwd->st.udp_expired++;
		udp_end(fwd_container_of(e, struct fwd_udp, ent));
	}
}

/**
 * fwd_udp_drop_listener() - forget the inbound mappings of a listener that
 * is being closed
 * @l:	listener
 */
void fwd_udp_drop_listener(struct fwd_listener *l)
{
	struct fwd *fwd = l->fwd;
	struct fwd_lnode *n, *next;

	for (n = fwd->udp_lru.head.next; n != &fwd->udp_lru.head; n = next) {
		struct fwd_udp *u = fwd_container_of(n, struct fwd_udp, ent.lru);

		next = n->next;
		if (u->lst == l)
			udp_end(u);
	}
}

/**
 * fwd_udp_revoke() - drop the outbound mappings the (new) outbound policy
 * denies; the next datagram of such a flow is refused as a new one (ICMP
 * administratively prohibited)
 * @fwd:	forwarder
 */
void fwd_udp_revoke(struct fwd *fwd)
{
	struct fwd_lnode *n, *next;

	for (n = fwd->udp_lru.head.next; n != &fwd->udp_lru.head; n = next) {
		struct fwd_udp *u = fwd_container_of(n, struct fwd_udp, ent.lru);

		next = n->next;
		if (u->lst || fwd_allowed(fwd, &u->dst))
			continue;
		fwd->st.udp_revoked++;
		udp_end(u);
	}
}

void fwd_udp_free_all(struct fwd *fwd)
{
	struct fwd_entry *e;

	while ((e = fwd_list_first(&fwd->udp_lru)))
		udp_end(fwd_container_of(e, struct fwd_udp, ent));
}
