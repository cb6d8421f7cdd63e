/* SPDX-License-Identifier: MIT */
/*
 * internal.h - struct ns and the functions the netstack's files share:
 * netstack.c (creation, configuration, teardown), link.c (Ethernet, ARP,
 * IPv4 and IPv6 dispatch, DHCP, the RA timer; ndp.c's Neighbour Discovery
 * below it), transport.c (hypervisor sockets and TAP), budget.c
 * (the buffer-memory accountant), log.c (rate-limited log lines of drops
 * and bounds) and the lwIP engine (engine.h: port.c, input.c, syn.c,
 * service.c, flow.c, out.c). Not part of the public contract. The layers
 * below link.c reach the ones above only through the callbacks in
 * struct ns (frame_in, ip_out, ip6_out), which netstack.c installs, so no two files
 * call each other.
 */
#ifndef VGATE_NETSTACK_INTERNAL_H
#define VGATE_NETSTACK_INTERNAL_H

#include "netstack.h"
#include "dhcp.h"
#include "dhcp6.h"
#include "frame.h"
#include "ndp.h"
#include "common/ratelimit.h"

#define NS_NEIGH_MAX   64
#define NS_TXQ_BYTES   (4u << 20)
#define NS_RXBUF_BYTES (256u << 10)

enum ns_transport_kind {
	NS_TR_NONE = 0,
	NS_TR_STREAM,	 /* length-prefixed frames on a byte stream (QEMU, /connect, stdio) */
	NS_TR_DGRAM,	 /* vfkit / QEMU dgram: unixgram socket */
	NS_TR_TAP,	 /* TAP fd */
	NS_TR_SEQPACKET, /* bess: one frame per SOCK_SEQPACKET record */
};

struct ns_neigh {
	uint32_t ip;
	uint8_t mac[6];
	uint64_t seen_ms;
};

/*
 * The link: @kind is what the current (or last) connection is; a stream
 * or seqpacket listener (@listen_io) and ns_attach_stream() callers take
 * turns on it, one live connection at a time. NS_TR_DGRAM and NS_TR_TAP
 * links are permanent.
 */
struct ns_transport {
	enum ns_transport_kind kind;
	struct vg_io listen_io;		 /* stream or seqpacket listening socket */
	struct vg_io_pause listen_pause; /* listener out of fds */
	bool listen_seqpacket;		 /* @listen_io is the bess (SOCK_SEQPACKET) one */
	struct vg_io io;		 /* the data fd (read side; both sides unless @wio) */
	struct vg_io wio;		 /* stdio: the write side when it is another fd */
	bool io_sock;			 /* @io's fd is a socket (recv/send flags apply) */
	bool wio_sock;			 /* the same for @wio */
	char path[108];		/* unix socket path to unlink on exit */
	bool dgram_peer_known;	/* dgram: where to send (the locked peer) */
	struct sockaddr_storage *peer;
	unsigned int peer_len;
	uint64_t probe_ms; /* dgram: last liveness probe of the locked peer */
	bool guest_up;	   /* the connection carried a frame: NS_LINK_GUEST_UP sent */
	uint8_t guest_mac[6]; /* that frame's source (NS_LINK_GUEST_DOWN reports it) */
	struct stream_dec dec;
	struct txq txq;
	uint8_t *rxbuf;
	size_t vnet_hl; /* TAP: virtio-net header length (vnet.h), 0: none */
	bool tso;	/* TAP: the guest's kernel may send TCP super-segments */
};

/**
 * struct ns_charge - what one flow has in the budget (budget.c)
 * @held:	buffered bytes, with per-pbuf costs
 * @windows:	receive window open to the guest
 */
struct ns_charge {
	size_t held, windows;
};

/**
 * struct ns_budget - the buffer-memory accountant (budget.c); all zero
 * except @limit/@low after ns_budget_init()
 * @limit:	ns_config.max_buffer_bytes
 * @low:	low-water mark: waiting flows are woken below it
 * @held:	sum of the flows' ns_charge.held
 * @windows:	sum of the flows' ns_charge.windows
 * @high:	high-water of @held + @windows
 * @held_peak:	high of @held since the last malloc_trim
 * @hits:	times a flow was held back by the limit
 * @paused:	times a flow started waiting for the budget
 * @trim_ms:	loop time of the last malloc_trim
 * @hit_log:	rate limit of the log line of @hits (ns_log_hit())
 */
struct ns_budget {
	size_t limit, low;
	size_t held, windows, high, held_peak;
	uint64_t hits, paused;
	uint64_t trim_ms;
	struct vg_hitlog hit_log;
};

struct ns_engine;

struct ns {
	struct vg_loop *loop;
	struct ns_config cfg;
	struct ns_stats st;
	uint32_t netmask;
	size_t max_frame;
	size_t rx_frame_max; /* max_frame, or VNET_FRAME_MAX with TAP offloads */
	/*
	 * set by the transport while the frame it delivers is a TCP segment
	 * whose checksum the guest's kernel left partial (vnet.h): the engine
	 * does not verify it (tcp_deliver(), ns_tcp_guard()) or completes it
	 * where lwIP's own input would check it (ns_tcp_csum_settle())
	 */
	bool rx_csum_partial;
	struct ns_transport tr;
	struct dhcp_server dhcp;
	struct dhcp6_server dhcp6; /* zeroed (not served) with IPv6 off */
	struct ns_neigh neigh[NS_NEIGH_MAX];
	struct ns_engine *eng;
	struct ns_budget budget;
	void (*capture)(void *ctx, bool out, const uint8_t *f, size_t len);
	void *capture_ctx;
	/* a frame from the transport, up to the link (ns_link_input) */
	void (*frame_in)(struct ns *ns, const uint8_t *f, size_t len);
	/* an IPv4 packet from the engine, down to the link (ns_link_send_ip) */
	int (*ip_out)(struct ns *ns, uint32_t next_hop, const struct iovec *iov, int iovcnt);
	/* an IPv6 packet from the engine, down to the link (ns_link_send_ip6) */
	int (*ip6_out)(struct ns *ns, const uint8_t *dst, const struct iovec *iov, int iovcnt);
	/* bytes of frames the guest's queue takes now, for the engine's held
	 * output (ns_transport_room) */
	size_t (*tx_room)(const struct ns *ns);
	struct ndp nd;		  /* IPv6 Neighbour Discovery (ndp.c) */
	struct vg_timer ra_timer; /* the next unsolicited Router Advertisement */
	struct vg_timer flush_timer;
	ns_log_fn log; /* ns_set_log() */
	void *log_ctx;
	ns_link_watch_fn link_watch; /* ns_set_link_watch() */
	void *link_watch_ctx;
	struct vg_hitlog log_bad_src, log_martian_src, log_accept, log_bad_uid, log_refused,
	    log_foreign_peer, log_desync;
};

/* budget.c (calls only log.c) */
void ns_budget_init(struct ns_budget *b, size_t limit);
void ns_budget_move(struct ns_budget *b, struct ns_charge *c, size_t held, size_t windows);
size_t ns_budget_room(const struct ns_budget *b);
bool ns_budget_below_low(const struct ns_budget *b);
void ns_budget_hit(struct ns *ns);
void ns_budget_idle(struct ns_budget *b, uint64_t now_ms);

/* log.c (a leaf) */
void ns_log_hit(struct ns *ns, struct vg_hitlog *h, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* link.c */
int ns_link_send_ip(struct ns *ns, uint32_t next_hop, const struct iovec *iov, int iovcnt);
int ns_link_send_ip6(struct ns *ns, const uint8_t *dst, const struct iovec *iov, int iovcnt);
void ns_link_init6(struct ns *ns);
void ns_link_free6(struct ns *ns);

/* transport.c */
int ns_transport_send(struct ns *ns, const struct iovec *iov, int iovcnt);
size_t ns_transport_room(const struct ns *ns);
void ns_transport_flush(struct ns *ns);
void ns_transport_close(struct ns *ns);

/* the engine: port.c */
int ns_engine_init(struct ns *ns);
void ns_engine_free(struct ns *ns);
void ns_engine_set_gso(struct ns *ns, bool on);
/* the engine: input.c */
void ns_engine_input(struct ns *ns, const uint8_t *ip, size_t len, bool to_gateway);
void ns_engine_input_frag(struct ns *ns, const uint8_t *ip, size_t len);
void ns_engine_input6(struct ns *ns, const uint8_t *ip, size_t len, bool to_gateway);

#endif /* VGATE_NETSTACK_INTERNAL_H */
