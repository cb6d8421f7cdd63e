/* SPDX-License-Identifier: MIT */
/*
 * netstack.h - the guest side of vgate: hypervisor transports, the Ethernet
 * link (ARP; IPv6 Neighbour Discovery and Router Advertisements for SLAAC
 * unless ns_config.no_ipv6), the gateway's own DHCP and ICMP/ICMPv6 echo,
 * ports on the gateway's
 * address for other modules' services (DNS, the guest API), and a userspace
 * TCP/IP engine (lwIP) that terminates guest TCP to ANY destination address
 * and port.
 *
 * This header is the module's whole contract; lwIP types never leave it.
 *
 * Registration model: nothing is delivered upward until someone registers
 * for it, after ns_new() and before the link carries traffic:
 *  - "foreign flows" (ns_register_foreign(), one registrant, e.g. the
 *    forwarder): guest TCP and UDP to any address other than the gateway's.
 *    Without a registrant, SYNs are accepted and the flows reset once
 *    established, and datagrams are dropped (drop_udp_nohook).
 *  - "gateway services" (ns_register_service(), a fixed table of
 *    NS_SERVICES_MAX ports on the gateway's own address, e.g. DNS on 53 and
 *    the guest API on 80): a UDP callback for datagrams to gateway:port
 *    (answered with ns_udp_send() from gateway:port) and/or TCP callbacks.
 *    The gateway's other ports answer RST (TCP) or ICMP port unreachable
 *    (UDP) as a host would; DHCP (67) and ICMP echo are the netstack's own.
 * Registrations hold for the netstack's lifetime; their callbacks and ctx
 * must stay valid until ns_free().
 *
 * Flows: a guest TCP flow (struct ns_flow) is offered to the tcp_accept
 * callback of its registration, which returns the user pointer of the flow;
 * the registration's struct ns_flow_ops are bound to the flow then (or given
 * to ns_flow_connect() for an active open). From then on ops.recv, ops.sent
 * and exactly one ops.closed call receive that user pointer, after which the
 * flow is gone and must not be touched. The user may end a flow earlier with
 * ns_flow_close() or ns_flow_reset(); then no ops.closed call follows. Every
 * callback runs on the loop's thread and may call any ns_* function,
 * including ending its own flow.
 *
 * Ownership and lifetimes: struct ns is created by ns_new() on a caller's
 * event loop and owns every transport, flow and lwIP object. ns_free()
 * releases every flow without calling any callback, so registrants free
 * their own state after it.
 *
 * Return convention: functions that can fail return 0 (or a count, an fd, a
 * pointer) on success and a negative errno value (or NULL with errno set) on
 * failure; those taking an @err buffer also write a one-line message there.
 *
 * lwIP keeps its own process-wide state: there is at most one struct ns per
 * process.
 */
#ifndef VGATE_NETSTACK_H
#define VGATE_NETSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "netstack/loop.h"

#define NS_MTU_MIN     576
#define NS_MTU_MAX     65520
#define NS_MTU_DEFAULT 1500
/* deferred SYNs held at once (NS_SYN_DEFER): a registrant keeps fewer
 * connecting flows than this, or the oldest holds are dropped */
#define NS_SYN_HOLD_MAX 1024

/* the buffer-memory budget across guest TCP flows (ns_config.max_buffer_bytes) */
#define NS_BUFFER_BYTES_DEFAULT (64u << 20)
#define NS_BUFFER_BYTES_MIN	(1u << 20)

#define NS_LOG_MS	   10000u /* at most one line per kind of drop this often */
#define NS_ACCEPT_PAUSE_MS 500u	  /* a listener out of fds is not polled this long */

/* Address families of struct ns_addr (not the socket API's AF_*: the zero
 * value is IPv4, so a zeroed or {ip, port}-initialised address is IPv4) */
enum ns_family {
	NS_AF_INET = 0,
	NS_AF_INET6 = 1,
};

/**
 * struct ns_addr - an IPv4 or IPv6 endpoint, as every callback and call of
 * this header gives or takes it
 * @ip:		IPv4 address, network byte order (@family NS_AF_INET); 0 for IPv6
 * @port:	port, host byte order
 * @family:	enum ns_family
 * @ip6:	IPv6 address, network byte order (@family NS_AF_INET6); all
 *		zero for IPv4
 *
 * The netstack fills every field of the addresses it gives (unused ones
 * zero), so two endpoints compare equal with ns_addr_eq() and may be
 * hashed over @ip, @port, @family and @ip6. Calls taking an address read
 * @ip6 only when @family is NS_AF_INET6. IPv6 addresses reach a registrant
 * only when the netstack runs dual-stack (IPv6 not disabled in ns_config);
 * a registrant that cannot serve them answers their SYNs NS_SYN_RESET (or
 * returns NULL from tcp_accept) and ignores their datagrams, or answers
 * ns_icmp_unreachable() (ICMPv6 for an IPv6 packet).
 */
struct ns_addr {
	uint32_t ip;
	uint16_t port;
	uint8_t family;
	uint8_t ip6[16];
};

/**
 * ns_addr_v4() - an IPv4 endpoint
 * @ip:		address, network byte order
 * @port:	port, host byte order
 *
 * Return: the endpoint, its IPv6 fields zero
 */
static inline struct ns_addr ns_addr_v4(uint32_t ip, uint16_t port)
{
	struct ns_addr a = {.ip = ip, .port = port, .family = NS_AF_INET};

	return a;
}

/**
 * ns_addr_v6() - an IPv6 endpoint
 * @ip6:	16 address bytes, network byte order
 * @port:	port, host byte order
 *
 * Return: the endpoint, @ip 0
 */
static inline struct ns_addr ns_addr_v6(const uint8_t ip6[16], uint16_t port)
{
	struct ns_addr a = {.ip = 0, .port = port, .family = NS_AF_INET6};

	for (int i = 0; i < 16; i++)
		a.ip6[i] = ip6[i];
	return a;
}

/**
 * ns_addr_is_v6() - whether @a is an IPv6 endpoint
 * @a:	endpoint
 *
 * Return: true for NS_AF_INET6
 */
static inline bool ns_addr_is_v6(const struct ns_addr *a)
{
	return a->family == NS_AF_INET6;
}

/**
 * ns_addr_eq() - whether two endpoints are the same address and port
 * @a:	endpoint
 * @b:	endpoint
 *
 * Return: true when family, address and port are equal
 */
static inline bool ns_addr_eq(const struct ns_addr *a, const struct ns_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family != NS_AF_INET6)
		return a->ip == b->ip;
	for (int i = 0; i < 16; i++)
		if (a->ip6[i] != b->ip6[i])
			return false;
	return true;
}

/**
 * struct ns_config - link and gateway parameters (addresses in network order)
 * @subnet:	network address, e.g. 192.168.127.0
 * @prefix:	prefix length, e.g. 24
 * @gateway_ip:	vgate's own address (ARP, ICMP, DHCP server, DNS, router)
 * @host_ip:	host alias answered by ARP; flows to it reach the host's loopback
 * @dhcp_first:	first address leased by DHCP
 * @dhcp_last:	last address leased by DHCP
 * @gw_mac:	the gateway's MAC address
 * @mtu:	link MTU (IP packet size), NS_MTU_MIN..NS_MTU_MAX
 * @lease_s:	DHCP lease time in seconds
 * @domain:	DHCP domain name option (may be empty)
 * @search:	DHCP domain search list, space separated (may be empty)
 * @socket_mode: permission bits of the unix sockets ns_listen_qemu() and
 *		ns_listen_vfkit() create (0 = 0600), whatever the umask
 * @peer_uid:	a uid accepted as a unix stream peer besides vgate's own
 *		euid and root (when @peer_uid_set)
 * @peer_uid_set: @peer_uid is given
 * @peer_uid_any: accept a unix stream peer of any uid
 * @max_buffer_bytes: bound on what the TCP flows buffer together (0 =
 *		NS_BUFFER_BYTES_DEFAULT): bytes queued towards the guest, the
 *		guest's bytes not yet consumed, and the receive windows open to
 *		the guest (which hold the out-of-order queues). Over it, flows
 *		get no send space (ns_flow_sndbuf() 0; a user stops reading its
 *		source) and no new receive window beyond a small per-flow floor
 *		(NS_FLOW_FLOOR_BYTES); they are woken through ops.sent when the
 *		total falls below 3/4 of it.
 * @no_ipv6:	IPv4 only: IPv6 frames are dropped and counted
 *		(drop_ip6_off), no Router Advertisements; also set by
 *		ns_config_check() when @mtu is below NS_MTU_MIN6
 * @subnet6:	the guest's IPv6 /64 (its SLAAC prefix), network order
 *		(default NS_SUBNET6_DEFAULT)
 * @prefix6:	its length (64: the only one SLAAC works with)
 * @gateway6:	the gateway's address in @subnet6 (all zero: PREFIX::1,
 *		filled by ns_config_check()); the gateway is also fe80::1
 * @host6:	the host alias in @subnet6 (all zero: PREFIX::254)
 * @dhcp_static: static DHCP leases (gvproxy's dhcpStaticLeases): the MAC
 *		always gets the address, nobody else does; each address lies
 *		in dhcp_first..dhcp_last, not the gateway's nor the host alias
 * @n_dhcp_static: their number, at most NS_DHCP_STATIC_MAX
 * @dhcp6_stateless: the DHCPv6 server answers Information-Request only
 *		(DNS, search list), no IA_NA addresses, and the RA has no M
 *		flag (only O); by default it leases PREFIX::100 upward
 * @no_tap_offload: a TAP with a virtio-net header (IFF_VNET_HDR) gets
 *		zero headers only: no checksum offload, no GSO either way
 */
#define NS_DHCP_STATIC_MAX 16
struct ns_config {
	uint32_t subnet;
	uint8_t prefix;
	uint32_t gateway_ip;
	uint32_t host_ip;
	uint32_t dhcp_first;
	uint32_t dhcp_last;
	uint8_t gw_mac[6];
	unsigned int mtu;
	uint32_t lease_s;
	char domain[128];
	char search[256];
	unsigned int socket_mode;
	uint32_t peer_uid;
	bool peer_uid_set;
	bool peer_uid_any;
	size_t max_buffer_bytes;
	bool no_ipv6;
	uint8_t subnet6[16];
	uint8_t prefix6;
	uint8_t gateway6[16];
	uint8_t host6[16];
	struct {
		uint8_t mac[6];
		uint32_t ip;
	} dhcp_static[NS_DHCP_STATIC_MAX];
	size_t n_dhcp_static;
	bool dhcp6_stateless;
	bool no_tap_offload;
};

/* the default IPv6 prefix: a fixed ULA /64 (RFC 4193), "vgate" in its global ID */
#define NS_SUBNET6_DEFAULT "fd00:7661:7465::/64"
#define NS_MTU_MIN6	   1280 /* IPv6's minimum link MTU: below it IPv6 is off */

/* send space and receive window a flow keeps even over the budget */
#define NS_FLOW_FLOOR_BYTES (4u << 10)

struct ns;
struct ns_flow;
struct ns_pkt;

/* Reasons given to ns_flow_ops.closed */
enum ns_close_reason {
	NS_CLOSED_NORMAL = 0, /* both sides finished */
	NS_CLOSED_RESET,      /* guest sent RST */
	NS_CLOSED_ABORTED,    /* timeout, link gone, or out of memory */
};

/* Verdicts of a tcp_syn callback */
enum ns_syn_verdict {
	NS_SYN_ACCEPT = 0, /* complete the handshake now */
	NS_SYN_RESET,	   /* answer the SYN with RST (refused) */
	NS_SYN_DEFER,	   /* hold it; the caller answers with ns_syn_resume() */
	NS_SYN_DROP,	   /* ignore it (the guest will time out) */
};

/**
 * typedef ns_syn_fn - a guest SYN for a new flow
 * @ctx:	the registration's ctx
 * @token:	identifies the SYN for ns_syn_resume() (after NS_SYN_DEFER)
 * @src:	guest endpoint
 * @dst:	destination the guest dialled
 *
 * Return: the verdict
 */
typedef enum ns_syn_verdict (*ns_syn_fn)(void *ctx, uint64_t token, const struct ns_addr *src,
					 const struct ns_addr *dst);

/**
 * typedef ns_accept_fn - a guest flow completed its handshake
 * @ctx:	the registration's ctx
 * @f:		the flow
 * @src:	guest endpoint
 * @dst:	destination the guest dialled (its local address and port)
 *
 * Return: the user pointer given to the flow's ops, or NULL to reset the flow
 */
typedef void *(*ns_accept_fn)(void *ctx, struct ns_flow *f, const struct ns_addr *src,
			      const struct ns_addr *dst);

/**
 * typedef ns_abandoned_fn - a SYN the registrant let through (accepted at
 * once or by ns_syn_resume()) lost its half-open flow before the handshake
 * completed: the guest reset it, lwIP gave up on the guest's ACK, or the
 * netstack's bound on half-open flows reset it. Not told for flows it cancelled
 * itself (ns_syn_cancel()). Called at the end of the loop turn, never from
 * inside lwIP.
 * @ctx:	the registration's ctx
 * @src:	guest endpoint
 * @dst:	destination the guest dialled
 */
typedef void (*ns_abandoned_fn)(void *ctx, const struct ns_addr *src, const struct ns_addr *dst);

/**
 * typedef ns_echo_fn - an ICMP or ICMPv6 echo request from the guest to a
 * non-gateway address (length and checksum checked)
 * @ctx:	the registration's ctx
 * @src:	guest address; its port is the echo identifier
 * @dst:	destination (port 0)
 * @seq:	sequence number
 * @data:	the echo payload, valid during the call
 * @len:	its length
 * @pkt:	the packet, valid during the call (for ns_icmp_unreachable())
 */
typedef void (*ns_echo_fn)(void *ctx, const struct ns_addr *src, const struct ns_addr *dst,
			   uint16_t seq, const uint8_t *data, size_t len,
			   const struct ns_pkt *pkt);

/**
 * typedef ns_udp_fn - a UDP datagram from the guest
 * @ctx:	the registration's ctx
 * @src:	guest endpoint
 * @dst:	destination
 * @data:	payload, valid during the call
 * @len:	its length
 * @pkt:	the packet, valid during the call (for ns_icmp_unreachable())
 */
typedef void (*ns_udp_fn)(void *ctx, const struct ns_addr *src, const struct ns_addr *dst,
			  const uint8_t *data, size_t len, const struct ns_pkt *pkt);

/**
 * struct ns_flow_ops - per-flow callbacks, bound to a flow when it is
 * adopted (accepted, or opened by ns_flow_connect()); each gets the flow's
 * user pointer
 * @recv:	data or FIN from the guest is available (ns_flow_peek)
 * @sent:	send space towards the guest was freed
 * @closed:	the flow is gone (enum ns_close_reason); the last call
 * @connected:	a flow opened by ns_flow_connect() completed its handshake;
 *		from then on it is like an accepted flow. A connect that fails
 *		(guest RST, timeout) ends with @closed instead. Only needed by
 *		ns_flow_connect() users.
 *
 * All optional except @closed for anyone who keeps the flow.
 */
struct ns_flow_ops {
	void (*recv)(void *user);
	void (*sent)(void *user);
	void (*closed)(void *user, enum ns_close_reason reason);
	void (*connected)(void *user);
};

/**
 * struct ns_handler - what one registrant takes from the guest: foreign
 * flows (ns_register_foreign()) or one gateway port (ns_register_service())
 * @ctx:	first argument of @tcp_syn, @tcp_accept and @udp_recv
 * @tcp_syn:	optional: a SYN for a new flow. For foreign flows none means
 *		NS_SYN_ACCEPT. For a gateway port, with it SYNs are handled
 *		like those of foreign flows (verdict, deferral, counted in
 *		tcp_syn_new, tcp_accepted and tcp_active; unfragmented segments
 *		only); without it lwIP completes the handshake at once and the
 *		flow is not counted.
 * @tcp_accept:	a flow completed its handshake. Foreign flows without it are
 *		reset; a gateway port without it answers SYNs with RST.
 * @tcp_abandoned: optional: a half-open flow it let through is gone (see
 *		ns_abandoned_fn); only with @tcp_syn
 * @udp_recv:	optional: a datagram. Foreign flows without it are dropped
 *		(drop_udp_nohook); a gateway port without it answers ICMP port
 *		unreachable. A gateway port also gets datagrams to the subnet
 *		broadcast and answers with ns_udp_send() from gateway:port.
 * @echo:	optional, foreign flows only: an echo request to a non-gateway
 *		address (answered with ns_echo_reply()); without it those are
 *		dropped (drop_proto)
 * @ops:	bound to every flow @tcp_accept adopts
 */
struct ns_handler {
	void *ctx;
	ns_syn_fn tcp_syn;
	ns_accept_fn tcp_accept;
	ns_abandoned_fn tcp_abandoned;
	ns_udp_fn udp_recv;
	ns_echo_fn echo;
	struct ns_flow_ops ops;
};

#define NS_SERVICES_MAX 8 /* gateway ports with a registered service */

/**
 * struct ns_stats - counters of the link, transports and gateway services
 */
struct ns_stats {
	uint64_t rx_frames, tx_frames, rx_bytes, tx_bytes;
	uint64_t drop_oversize;	  /* frame above MTU + Ethernet header */
	uint64_t drop_runt;	  /* shorter than an Ethernet header */
	uint64_t drop_bad_length; /* stream length prefix 0 or > max */
	uint64_t drop_ethertype;  /* not IPv4, ARP or IPv6 */
	uint64_t drop_bad_ip;	  /* malformed IPv4 header, checksum */
	uint64_t drop_bad_arp;
	uint64_t drop_frag;	 /* fragments that could not be reassembled */
	uint64_t ip_reassembled; /* datagrams to elsewhere rebuilt from fragments */
	uint64_t drop_proto;	 /* IP protocol not handled */
	uint64_t drop_ip6_ext;	 /* IPv6 extension header not handled or malformed */
	uint64_t drop_no_neigh;	 /* no MAC known for the next hop */
	uint64_t drop_tx_queue;	 /* transmit queue full (guest not reading) */
	uint64_t drop_no_link;	 /* frame to send but no guest connected */
	uint64_t drop_udp_nohook;
	uint64_t drop_bad_src;	    /* IPv4 source not a plausible guest address */
	uint64_t drop_foreign_peer; /* unixgram datagram not from the locked peer */
	uint64_t arp_replies, icmp_echo_replies;
	uint64_t dhcp_discover, dhcp_offer, dhcp_request, dhcp_ack, dhcp_nak, dhcp_release,
	    dhcp_decline, dhcp_inform, dhcp_bad;
	/* DHCPv6 (dhcp6.c): client messages by type, answers, drops */
	uint64_t dhcp6_solicit, dhcp6_request, dhcp6_confirm, dhcp6_renew, dhcp6_rebind,
	    dhcp6_release, dhcp6_decline, dhcp6_inform, dhcp6_advertise, dhcp6_reply;
	uint64_t dhcp6_no_addrs; /* IA_NA answered NoAddrsAvail (pool full, stateless) */
	uint64_t dhcp6_bad;	 /* malformed or invalid DHCPv6 message */
	uint64_t dhcp6_ignored;	 /* for another server, or a relay's/server's message */
	uint64_t tcp_syn_new, tcp_syn_reset, tcp_accepted, tcp_active;
	uint64_t tcp_syn_expired;  /* deferred SYN held over NS_SYN_HOLD_MS, dropped */
	uint64_t tcp_syn_evicted;  /* deferred SYN dropped for a new one (hold table full) */
	uint64_t tcp_embryo_reset; /* half-open pcb reset: NS_EMBRYO_MAX or ns_syn_cancel() */
	uint64_t tcp_window_trimmed; /* out-of-order segment cut to the receive window */
	uint64_t tcp_acks_folded;    /* guest segments acknowledged with later ones */
	uint64_t tcp_acks_late;	     /* stretch ACKs sent when the guest stopped short */
	uint64_t tcp_tx_held;	     /* data segments held in lwIP: the guest's queue was full */
	uint64_t tcp_abandoned;	     /* half-open flow gone, its registrant told */
	uint64_t tcp_abandoned_lost; /* ... not told: too many in one loop turn */
	uint64_t udp_fwd_packets;
	uint64_t transport_connects, transport_disconnects;
	uint64_t transport_refused;   /* second stream client while one is alive (any source) */
	uint64_t transport_bad_uid;   /* stream client of a uid not allowed */
	uint64_t transport_peer_lost; /* unixgram peer lock released (peer gone) */
	uint64_t transport_fd_exhausted; /* accept() out of fds: listener paused */
	uint64_t transport_desync; /* stream length prefix 0 or > 68 KiB (FRAME_STREAM_MAX_SANE) */
	uint64_t tx_queued_bytes;     /* bytes waiting for the guest to read now */
	/* the buffer-memory budget (ns_config.max_buffer_bytes) */
	uint64_t buffer_limit;	 /* the bound */
	uint64_t buffer_held;	 /* bytes buffered now, with per-segment costs */
	uint64_t buffer_windows; /* receive windows open to the guest now */
	uint64_t buffer_high;	 /* high-water of held + windows */
	uint64_t buffer_hits;	 /* times a flow was held back by the bound */
	uint64_t buffer_paused;	 /* times a flow began waiting for memory */
	/* IPv6 link (link.c, ndp.c) */
	uint64_t ip6_rx;	   /* IPv6 packets that passed the link's checks */
	uint64_t drop_ip6_off;	   /* IPv6 frames while IPv6 is off (no_ipv6) */
	uint64_t drop_bad_ip6;	   /* malformed IPv6 header, length, extension headers */
	uint64_t drop_bad_src6;	   /* IPv6 source not a plausible guest address */
	uint64_t drop_ip6_dst;	   /* to a group or link-local address not served (MLD, mDNS) */
	uint64_t drop_ip6_frag;	   /* fragments to the gateway's own addresses */
	uint64_t drop_bad_icmp6;   /* ICMPv6 to the gateway: too short, bad checksum */
	uint64_t drop_nd;	   /* ND: malformed, checksum, hop limit not 255, options */
	uint64_t nd_ns_in;	   /* solicitations for a gateway address answered */
	uint64_t nd_na_out;	   /* advertisements sent (answers, DAD defences) */
	uint64_t nd_dad_defended;  /* DAD probes for a gateway address answered */
	uint64_t nd_dad_seen;	   /* DAD probes for guest addresses, left unanswered */
	uint64_t nd_na_in;	   /* advertisements from the guest */
	uint64_t nd_conflict;	   /* guest advertisements of a gateway address */
	uint64_t nd_ns_out;	   /* solicitations sent for unknown guest addresses */
	uint64_t nd_rs_in;	   /* router solicitations */
	uint64_t nd_rs_limited;	   /* ... not answered (another one just was) */
	uint64_t nd_ra_out;	   /* router advertisements sent */
	uint64_t nd_ignored;	   /* valid ND with nothing to do (guest RA, redirect) */
	uint64_t icmp6_echo_replies;
	/* TAP offloads (vnet.h): the virtio-net header of an IFF_VNET_HDR TAP */
	uint64_t drop_offload;	/* bad header, checksum offsets, GSO type not offered */
	uint64_t tx_gso_frames; /* super-segments to the guest's kernel */
	uint64_t tx_gso_segs;	/* ... the link-MTU segments they stand for */
	uint64_t rx_gso_frames; /* TCP super-segments from the guest's kernel */
};

/**
 * struct ns_lease - one DHCP or DHCPv6 lease, for listing: @family
 * NS_AF_INET with @ip, or NS_AF_INET6 (an IA_NA address) with @ip6
 */
#define NS_LEASES_MAX (4096 + 1024) /* DHCP_MAX_LEASES + DHCP6_MAX_LEASES */

struct ns_lease {
	uint8_t mac[6];
	uint32_t ip;
	uint8_t family;
	uint8_t ip6[16];
	uint64_t expires_ms; /* loop clock; 0 = offered, not yet bound */
	char hostname[64];
};

/**
 * ns_config_defaults() - fill @c with gvproxy's defaults (192.168.127.0/24,
 * gateway .1, host alias .254, DHCP .2-.253, MTU 1500, 1 h leases) and
 * vgate's IPv6 ones (NS_SUBNET6_DEFAULT, gateway ::1 and fe80::1, host
 * alias ::254)
 * @c:	config to fill
 */
void ns_config_defaults(struct ns_config *c);

/**
 * ns_config_check() - validate and complete a config (derive DHCP range from
 * subnet when zero, the IPv6 gateway and host alias from subnet6; IPv6 off
 * below NS_MTU_MIN6)
 * @c:		config
 * @err:	buffer for a one-line error message
 * @errlen:	its size
 *
 * Return: 0, or -EINVAL with @err set
 */
int ns_config_check(struct ns_config *c, char *err, size_t errlen);

/**
 * ns_new() - create the netstack on @loop; nothing is delivered upward until
 * ns_register_foreign() / ns_register_service()
 * @loop:	event loop (outlives the netstack)
 * @cfg:	validated configuration (copied)
 *
 * Return: the netstack, or NULL (errno set)
 */
struct ns *ns_new(struct vg_loop *loop, const struct ns_config *cfg);

/**
 * ns_register_foreign() - take guest TCP and UDP to addresses other than
 * the gateway's (one registrant per netstack)
 * @ns:		netstack
 * @reg:	callbacks (copied)
 *
 * Return: 0, -EINVAL without @reg->tcp_accept, or -EBUSY when taken
 */
int ns_register_foreign(struct ns *ns, const struct ns_handler *reg);

/**
 * ns_register_service() - serve @port on the gateway's own address
 * @ns:		netstack
 * @port:	UDP and TCP port (not 0, not 67: DHCP is the netstack's)
 * @svc:	callbacks (copied); at least @svc->udp_recv or @svc->tcp_accept
 *
 * Return: 0, -EINVAL, -EADDRINUSE (port taken or 67), -ENOSPC
 *	   (NS_SERVICES_MAX ports), or -ENOMEM
 */
int ns_register_service(struct ns *ns, uint16_t port, const struct ns_handler *svc);

/**
 * ns_free() - close every transport and flow and free the netstack
 * @ns:	netstack, may be NULL
 */
void ns_free(struct ns *ns);

/**
 * ns_listen_qemu() - accept QEMU -netdev stream connections (one at a time)
 * @ns:		netstack
 * @uri:	"unix:///path" or "tcp://127.0.0.1:port"
 *
 * A unix socket is created with mode cfg.socket_mode (default 0600); an
 * existing path is replaced only if it is a socket. A unix peer must be
 * vgate's euid, root or the configured peer uid (SO_PEERCRED; else closed,
 * transport_bad_uid). A new connection while the current one is alive is
 * closed at once (transport_refused); one whose current peer is gone (EOF,
 * HUP or error seen, or found by a non-blocking check) replaces it. When
 * accept() fails for want of fds (EMFILE, ENFILE, ENOBUFS, ENOMEM) the
 * listener is not polled for NS_ACCEPT_PAUSE_MS (transport_fd_exhausted,
 * logged through ns_set_log()): it would be reported ready again at once.
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * Return: 0, or a negative errno (-EBUSY: a link exists, -EINVAL: bad URI)
 */
int ns_listen_qemu(struct ns *ns, const char *uri, char *err, size_t errlen);

/**
 * ns_listen_vfkit() - receive frames as datagrams on "unixgram:///path"
 * @ns:		netstack
 * @uri:	socket URI
 *
 * The socket is created like ns_listen_qemu()'s. The first named sender is
 * the peer; datagrams from any other address are dropped (drop_foreign_peer)
 * until the peer is gone: a send to it fails with ECONNREFUSED or ENOENT, or
 * a probe (connect() from a scratch socket, at most once a second, made when
 * a foreign datagram arrives) finds no socket bound at its address.
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * Return: 0, or a negative errno (-EBUSY: a link exists, -EINVAL: bad URI)
 */
int ns_listen_vfkit(struct ns *ns, const char *uri, char *err, size_t errlen);

/**
 * ns_listen_bess() - accept bess connections on "unixpacket:///path"
 * (SOCK_SEQPACKET, one frame per record, no length prefix), one at a time
 * @ns:		netstack
 * @uri:	socket URI
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * The socket, the peer uid check, the one-live-client rule and the pause
 * out of fds are ns_listen_qemu()'s. A record longer than MTU + 14 is
 * dropped (drop_oversize); EOF or a send error drops the connection.
 *
 * Return: 0, or a negative errno (-EBUSY: a link exists, -EINVAL: bad URI)
 */
int ns_listen_bess(struct ns *ns, const char *uri, char *err, size_t errlen);

/**
 * enum ns_framing - the length prefix of frames on a stream
 * @NS_FRAMING_QEMU:	4-byte big-endian (QEMU -netdev stream)
 * @NS_FRAMING_LE16:	2-byte little-endian (gvproxy's /connect, vpnkit,
 *			stdio: its "hyperkit" framing)
 */
enum ns_framing {
	NS_FRAMING_QEMU = 0,
	NS_FRAMING_LE16 = 1,
};

/**
 * ns_attach_stream() - make an already connected stream the guest link
 * @ns:		netstack
 * @fd:		the connection (read side; also the write side unless @wfd);
 *		made non-blocking. Owned by the netstack on success only.
 * @wfd:	another fd to write frames to (stdin/stdout: @fd 0, @wfd 1),
 *		or -1
 * @framing:	its length prefix
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * Shares the link with a ns_listen_qemu() or ns_listen_bess() listener,
 * under the same rule: while the current connection's peer is alive the
 * new one is refused (transport_refused, logged); a dead one is replaced.
 * A unixgram or TAP link is never replaced. Bad length prefixes are
 * counted and logged as on a QEMU stream (a 2-byte prefix cannot be
 * insane: only 0 is a desync, skipped). The peer is not checked here: the
 * caller decided it may be the guest.
 *
 * Return: 0, -EBUSY (the link is taken: the caller closes @fd), -EINVAL,
 *	   -ENOMEM, or the errno of fcntl()/epoll
 */
int ns_attach_stream(struct ns *ns, int fd, int wfd, enum ns_framing framing, char *err,
		     size_t errlen);

/**
 * ns_attach_tap() - use an open TAP fd (IFF_TAP | IFF_NO_PI) as the link
 * @ns:		netstack
 * @fd:		descriptor, owned by the netstack from now on
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * A TAP opened with IFF_VNET_HDR (found with TUNGETIFF) carries a
 * virtio-net header before every frame: unless cfg.no_tap_offload, vgate
 * then offers checksum offload and TSO (TUNSETOFFLOAD) and sends TCP as
 * GSO super-segments (docs/design.md, "TAP offloads").
 *
 * Return: 0, or a negative errno (-EBUSY: a link exists)
 */
int ns_attach_tap(struct ns *ns, int fd, char *err, size_t errlen);

/**
 * ns_open_tap_netns() - create/open TAP @ifname inside the network namespace
 * at @netns_path, bring it up, and return its fd; the caller stays in its
 * own namespace
 * @netns_path:	e.g. /run/netns/NAME
 * @ifname:	e.g. tap0
 * @mtu:	MTU to set on the TAP device
 * @offload:	open it with a virtio-net header (IFF_VNET_HDR), for the
 *		offloads ns_attach_tap() then sets up
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * Return: fd, or a negative errno
 */
int ns_open_tap_netns(const char *netns_path, const char *ifname, unsigned int mtu, bool offload,
		      char *err, size_t errlen);

/**
 * typedef ns_log_fn - where the netstack's few log lines go
 * @ctx:	argument given to ns_set_log()
 * @line:	one line, no newline: a bound or a drop first hit, then at
 *		most one every NS_LOG_MS while hits go on, with their count
 */
typedef void (*ns_log_fn)(void *ctx, const char *line);

/**
 * ns_set_log() - set (or with NULL clear) the log sink; without one the
 * netstack only counts
 * @ns:		netstack
 * @fn:		sink
 * @ctx:	its first argument
 */
void ns_set_log(struct ns *ns, ns_log_fn fn, void *ctx);

/**
 * ns_get_stats() - copy the counters
 * @ns:	netstack
 * @st:	output
 */
void ns_get_stats(const struct ns *ns, struct ns_stats *st);

/**
 * ns_leases() - list DHCP leases, then DHCPv6 (IA_NA) leases
 * @ns:		netstack
 * @out:	array (NS_LEASES_MAX entries hold every lease)
 * @max:	its length
 *
 * Return: number of leases written
 */
size_t ns_leases(const struct ns *ns, struct ns_lease *out, size_t max);

/**
 * ns_lease_latest() - the guest's address as host -> guest connections
 * use it: the bound DHCP lease that expires last (the most recently
 * renewed)
 * @ns:		netstack
 * @ip:		set to the address (network order)
 *
 * Return: 0, or -ENOENT when no lease is bound
 */
int ns_lease_latest(const struct ns *ns, uint32_t *ip);

/**
 * struct ns_neighbour - one guest address the link learnt (ARP, IPv4 source)
 * @ip:		address, network order
 * @mac:	the MAC it was seen at
 * @seen_ms:	loop time it was last seen
 */
struct ns_neighbour {
	uint32_t ip;
	uint8_t mac[6];
	uint64_t seen_ms;
};

/**
 * ns_neighbours() - list the guest neighbour table (at most 64 entries, the
 * least recently seen replaced first), e.g. for gvproxy's /cam
 * @ns:		netstack
 * @out:	array
 * @max:	its length
 *
 * Return: number written
 */
size_t ns_neighbours(const struct ns *ns, struct ns_neighbour *out, size_t max);

/**
 * ns_syn_resume() - answer a SYN that a tcp_syn callback deferred
 * @ns:		netstack
 * @token:	token given to the tcp_syn callback
 * @verdict:	NS_SYN_ACCEPT, NS_SYN_RESET or NS_SYN_DROP
 */
void ns_syn_resume(struct ns *ns, uint64_t token, enum ns_syn_verdict verdict);

/**
 * ns_syn_cancel() - reset the half-open flow @src -> @dst: a SYN that was
 * accepted (at once or by ns_syn_resume()) whose handshake the guest has
 * not completed gets RST at the end of the loop turn; anything else on the
 * tuple is left alone
 * @ns:		netstack
 * @src:	guest endpoint
 * @dst:	destination (either family)
 */
void ns_syn_cancel(struct ns *ns, const struct ns_addr *src, const struct ns_addr *dst);

/* Guest TCP flows */

/**
 * ns_flow_peek() - map the guest's unread bytes without copying
 * @f:		flow
 * @iov:	array to fill
 * @iovcnt:	in: its length; out: entries used
 *
 * Return: bytes described by @iov
 */
size_t ns_flow_peek(struct ns_flow *f, struct iovec *iov, int *iovcnt);

/**
 * ns_flow_copy() - copy the first unread bytes without consuming them,
 * however many segments they came in
 * @f:		flow
 * @buf:	output
 * @cap:	its size
 *
 * Return: bytes copied: min(@cap, ns_flow_pending())
 */
size_t ns_flow_copy(const struct ns_flow *f, void *buf, size_t cap);

/**
 * ns_flow_consume() - drop @n bytes from the front of the unread data and
 * open the guest's receive window by as much
 * @f:	flow
 * @n:	bytes, at most what ns_flow_peek() described
 */
void ns_flow_consume(struct ns_flow *f, size_t n);

/**
 * ns_flow_pending() - unread bytes from the guest
 * @f:	flow
 *
 * Return: byte count
 */
size_t ns_flow_pending(const struct ns_flow *f);

/**
 * ns_flow_pushed() - whether the unread data should be passed on now rather
 * than wait to gather more: the guest marked some of it PSH (its sender had
 * nothing more right behind it), sent its FIN, or has filled half of the
 * receive window with it (so it may be waiting for the rest)
 * @f:	flow
 *
 * Return: true (for PSH: until all of the unread data is consumed)
 */
bool ns_flow_pushed(const struct ns_flow *f);

/**
 * ns_flow_eof() - whether the guest sent FIN and every byte was consumed
 * @f:	flow
 *
 * Return: true at end of stream
 */
bool ns_flow_eof(const struct ns_flow *f);

/**
 * ns_flow_sndbuf() - bytes ns_flow_write() would accept now: lwIP's free
 * send buffer, at most the guest's open window plus a little (what the
 * guest cannot take yet is left with the source, e.g. the host's kernel),
 * and within the buffer-memory budget. When the budget is what says 0, the
 * flow waits for memory and ops.sent runs once some is free again.
 * @f:	flow
 *
 * Return: byte count
 */
size_t ns_flow_sndbuf(struct ns_flow *f);

/**
 * ns_flow_queued() - bytes queued towards the guest, sent or not, that the
 * guest has not acknowledged yet
 * @f:	flow
 *
 * Return: byte count
 */
size_t ns_flow_queued(const struct ns_flow *f);

/**
 * ns_flow_write() - copy bytes into the flow's send buffer towards the guest
 * @f:		flow
 * @buf:	data
 * @len:	length
 *
 * Return: bytes taken (≤ ns_flow_sndbuf()), or -ENOTCONN / -EIO if the flow
 * can't send
 */
long ns_flow_write(struct ns_flow *f, const void *buf, size_t len);

/**
 * ns_flow_shutdown() - send FIN to the guest after the queued data
 * @f:	flow
 */
void ns_flow_shutdown(struct ns_flow *f);

/**
 * ns_flow_close() - release the flow (FIN if not sent); no more ops run
 * @f:	flow, invalid afterwards
 */
void ns_flow_close(struct ns_flow *f);

/**
 * ns_flow_reset() - abort the flow with RST; no more ops run
 * @f:	flow, invalid afterwards
 */
void ns_flow_reset(struct ns_flow *f);

/**
 * ns_flow_set_keepalive() - enable TCP keepalive probes towards the guest
 * @f:		flow
 * @idle_ms:	idle time before the first probe, 0 disables
 */
void ns_flow_set_keepalive(struct ns_flow *f, uint32_t idle_ms);

/* UDP and ICMP towards the guest */

/**
 * ns_udp_send() - send a datagram to the guest
 * @ns:		netstack
 * @from:	source endpoint shown to the guest (the original destination)
 * @to:		guest endpoint
 * @data:	payload
 * @len:	length (fragmented if above the MTU)
 *
 * Return: 0, or -EMSGSIZE, -ENOMEM or -EIO when it could not be sent,
 * -EAFNOSUPPORT when @from and @to are not of one family
 */
int ns_udp_send(struct ns *ns, const struct ns_addr *from, const struct ns_addr *to,
		const void *data, size_t len);

/**
 * ns_echo_reply() - send the guest an ICMP echo reply (ICMPv6 for IPv6
 * endpoints)
 * @ns:		netstack
 * @from:	the address the guest pinged (port ignored)
 * @to:		guest address; its port is the echo identifier
 * @seq:	sequence number
 * @data:	echo payload
 * @len:	its length (a reply above the MTU is fragmented)
 *
 * Return: 0, -EMSGSIZE above one IP datagram, -EAFNOSUPPORT when @from and
 * @to are not of one family, -ENOMEM or -EIO for a fragmented reply, or the
 * link's negative errno
 */
int ns_echo_reply(struct ns *ns, const struct ns_addr *from, const struct ns_addr *to,
		  uint16_t seq, const void *data, size_t len);

/**
 * ns_icmp_unreachable() - answer the packet being delivered to a udp_recv
 * callback with ICMP destination unreachable (ICMPv6 destination
 * unreachable for an IPv6 packet: codes 3 → 4 port unreachable, 13 → 1
 * administratively prohibited, 1 → 3 address unreachable, others → 0 no
 * route)
 * @ns:		netstack
 * @pkt:	the packet handle given to the callback
 * @code:	ICMP code (3 = port unreachable, 13 = administratively prohibited)
 */
void ns_icmp_unreachable(struct ns *ns, const struct ns_pkt *pkt, uint8_t code);

/**
 * ns_link_input() - feed one Ethernet frame as if received from the guest
 * (used by transports, tests and fuzzers)
 * @ns:		netstack
 * @frame:	frame bytes
 * @len:	length
 */
void ns_link_input(struct ns *ns, const uint8_t *frame, size_t len);

/**
 * enum ns_link_event - what ns_set_link_watch() reports about the guest link
 * @NS_LINK_GUEST_UP:	a link connection (a stream or seqpacket client, the
 *			unixgram peer, the TAP) carried its first frame; @mac is
 *			that frame's source MAC
 * @NS_LINK_GUEST_DOWN:	that connection ended (EOF, error, a dead one replaced,
 *			the unixgram peer gone); @mac is the one reported up.
 *			Not reported when the netstack is freed.
 * @NS_LINK_ACCEPT_FAILED: accept() on the hypervisor listener failed for want
 *			of fds (transport_fd_exhausted); @mac is NULL
 */
enum ns_link_event {
	NS_LINK_GUEST_UP,
	NS_LINK_GUEST_DOWN,
	NS_LINK_ACCEPT_FAILED,
};

/**
 * typedef ns_link_watch_fn - a guest link event, called on the loop's thread
 * from inside the transport: it must not call back into the netstack
 * @ctx:	argument given to ns_set_link_watch()
 * @ev:		what happened
 * @mac:	6 bytes, or NULL (see enum ns_link_event)
 */
typedef void (*ns_link_watch_fn)(void *ctx, enum ns_link_event ev, const uint8_t *mac);

/**
 * ns_set_link_watch() - set (or with NULL clear) the link event callback
 * @ns:		netstack
 * @fn:		callback
 * @ctx:	its first argument
 */
void ns_set_link_watch(struct ns *ns, ns_link_watch_fn fn, void *ctx);

/**
 * ns_set_capture() - observe every frame in both directions (e.g. pcap)
 * @ns:		netstack
 * @fn:		callback (@out true for frames sent to the guest), NULL to stop
 * @ctx:	its first argument
 */
void ns_set_capture(struct ns *ns, void (*fn)(void *ctx, bool out, const uint8_t *f, size_t len),
		    void *ctx);

/* Active opens towards the guest (port forwarding) */

/**
 * ns_flow_connect() - open a TCP connection from the gateway's stack to the
 * guest (an active open: SYN to @dst)
 * @ns:		netstack
 * @src:	source shown to the guest (e.g. the host alias); port 0 picks a
 *		free ephemeral port
 * @dst:	guest endpoint
 * @ops:	the flow's callbacks (copied; @ops->connected required)
 * @user:	pointer passed to them
 *
 * Completion is asynchronous: exactly one of ops->connected(@user) or
 * ops->closed(@user, NS_CLOSED_RESET when the guest refused, else
 * NS_CLOSED_ABORTED) follows, unless the caller ends the flow first with
 * ns_flow_reset()/ns_flow_close(); then it is like an accepted flow.
 *
 * Return: the flow, or NULL (no connected op, no memory, address in use;
 * errno EAFNOSUPPORT when @src and @dst are not of one family)
 */
struct ns_flow *ns_flow_connect(struct ns *ns, const struct ns_addr *src, const struct ns_addr *dst,
				const struct ns_flow_ops *ops, void *user);

/**
 * ns_udp_unreachable() - send the guest an ICMP destination unreachable for
 * a UDP flow, quoting a synthesised IPv4+UDP header (for errors learnt
 * after the datagram's delivery, e.g. ECONNREFUSED on a host socket)
 * @ns:		netstack
 * @guest:	the guest's endpoint (source of the original datagrams)
 * @dst:	the destination the guest sent to (also the ICMP's source)
 * @code:	ICMP code (3 = port unreachable)
 *
 * For IPv6 endpoints it is ICMPv6 destination unreachable quoting an
 * IPv6+UDP header (codes translated as for ns_icmp_unreachable()); mixed
 * families are ignored.
 */
void ns_udp_unreachable(struct ns *ns, const struct ns_addr *guest, const struct ns_addr *dst,
			uint8_t code);

#endif /* VGATE_NETSTACK_H */
