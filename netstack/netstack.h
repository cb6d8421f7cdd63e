/* SPDX-License-Identifier: MIT */
/*
 * netstack.h - the guest side of vgate: hypervisor transports, the Ethernet
 * link (ARP), the gateway's own services (DHCP, ICMP echo, DNS on :53) and a
 * userspace TCP/IP engine (lwIP) that terminates guest TCP to ANY destination
 * address and port.
 *
 * This header is the module's whole contract; lwIP types never leave it.
 *
 * Ownership and lifetimes: struct ns is created by ns_new() on a caller's
 * event loop and owns every transport, flow and lwIP object. Everything runs
 * on the loop's thread. A guest TCP flow (struct ns_flow) is offered to the
 * tcp_accept hook; from then on the hook's user pointer receives tcp_recv,
 * tcp_sent and exactly one tcp_closed call, after which the flow is gone and
 * must not be touched. The user may end a flow earlier with ns_flow_close()
 * or ns_flow_reset(); then no tcp_closed call follows.
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

/**
 * struct ns_addr - an IPv4 endpoint
 * @ip:		address, network byte order
 * @port:	port, host byte order
 */
struct ns_addr {
	uint32_t ip;
	uint16_t port;
};

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
 */
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
};

/**
 * struct ns_dns_client - where a guest DNS query came from
 * @tcp:	true for TCP (one framed message on a connection)
 * @ip:		guest address, network order
 * @port:	guest port, host order
 * @conn_id:	TCP connection identity (0 for UDP); answers for a closed
 *		connection are dropped
 */
struct ns_dns_client {
	bool tcp;
	uint32_t ip;
	uint16_t port;
	uint64_t conn_id;
};

struct ns;
struct ns_flow;
struct ns_pkt;

/* Reasons given to tcp_closed */
enum ns_close_reason {
	NS_CLOSED_NORMAL = 0, /* both sides finished */
	NS_CLOSED_RESET,      /* guest sent RST */
	NS_CLOSED_ABORTED,    /* timeout, link gone, or out of memory */
};

/* Verdicts of the tcp_syn hook */
enum ns_syn_verdict {
	NS_SYN_ACCEPT = 0, /* complete the handshake now */
	NS_SYN_RESET,	   /* answer the SYN with RST (refused) */
	NS_SYN_DEFER,	   /* hold it; the caller answers with ns_syn_resume() */
	NS_SYN_DROP,	   /* ignore it (the guest will time out) */
};

/**
 * struct ns_hooks - what the netstack delivers upward (all optional)
 * @ctx:	first argument of the hooks that take one
 * @tcp_syn:	a guest SYN for a new flow; @token identifies it for
 *		ns_syn_resume(). No hook means NS_SYN_ACCEPT.
 * @tcp_accept:	a guest flow completed its handshake; return the user pointer
 *		passed to the per-flow hooks, or NULL to reset the flow
 * @tcp_recv:	data or FIN from the guest is available (ns_flow_peek)
 * @tcp_sent:	send space towards the guest was freed
 * @tcp_closed:	the flow is gone (enum ns_close_reason); the last call
 * @udp_recv:	a UDP datagram to a non-gateway address; @pkt is valid only
 *		during the call (for ns_icmp_unreachable())
 * @dns_query:	a DNS message to gateway:53 (UDP, or TCP with framing removed)
 * @tcp_connected: a flow opened by ns_flow_connect() completed its handshake;
 *		from then on it is like an accepted flow. A connect that fails
 *		(guest RST, timeout) ends with tcp_closed instead.
 */
struct ns_hooks {
	void *ctx;
	enum ns_syn_verdict (*tcp_syn)(void *ctx, uint64_t token, const struct ns_addr *src,
				       const struct ns_addr *dst);
	void *(*tcp_accept)(void *ctx, struct ns_flow *f, const struct ns_addr *src,
			    const struct ns_addr *dst);
	void (*tcp_recv)(void *user);
	void (*tcp_sent)(void *user);
	void (*tcp_closed)(void *user, enum ns_close_reason reason);
	void (*udp_recv)(void *ctx, const struct ns_addr *src, const struct ns_addr *dst,
			 const uint8_t *data, size_t len, const struct ns_pkt *pkt);
	void (*dns_query)(void *ctx, const struct ns_dns_client *c, const uint8_t *msg, size_t len);
	void (*tcp_connected)(void *user);
};

/**
 * struct ns_stats - counters of the link, transports and gateway services
 */
struct ns_stats {
	uint64_t rx_frames, tx_frames, rx_bytes, tx_bytes;
	uint64_t drop_oversize;	  /* frame above MTU + Ethernet header */
	uint64_t drop_runt;	  /* shorter than an Ethernet header */
	uint64_t drop_bad_length; /* stream length prefix 0 or > max */
	uint64_t drop_ethertype;  /* not IPv4 or ARP (IPv6 included) */
	uint64_t drop_bad_ip;	  /* malformed IPv4 header, checksum */
	uint64_t drop_bad_arp;
	uint64_t drop_frag;	 /* fragments that could not be reassembled */
	uint64_t ip_reassembled; /* datagrams to elsewhere rebuilt from fragments */
	uint64_t drop_proto;	 /* IP protocol not handled */
	uint64_t drop_no_neigh;	 /* no MAC known for the next hop */
	uint64_t drop_tx_queue;	 /* transmit queue full (guest not reading) */
	uint64_t drop_no_link;	 /* frame to send but no guest connected */
	uint64_t drop_udp_nohook;
	uint64_t arp_replies, icmp_echo_replies;
	uint64_t dhcp_discover, dhcp_offer, dhcp_request, dhcp_ack, dhcp_nak, dhcp_release,
	    dhcp_decline, dhcp_inform, dhcp_bad;
	uint64_t tcp_syn_new, tcp_syn_reset, tcp_accepted, tcp_active;
	uint64_t udp_fwd_packets;
	uint64_t transport_connects, transport_disconnects;
	uint64_t tx_queued_bytes; /* bytes waiting for the guest to read now */
};

/**
 * struct ns_lease - one DHCP lease, for listing
 */
struct ns_lease {
	uint8_t mac[6];
	uint32_t ip;
	uint64_t expires_ms; /* loop clock; 0 = offered, not yet bound */
	char hostname[64];
};

/**
 * ns_config_defaults() - fill @c with gvproxy's defaults (192.168.127.0/24,
 * gateway .1, host alias .254, DHCP .2-.253, MTU 1500, 1 h leases)
 * @c:	config to fill
 */
void ns_config_defaults(struct ns_config *c);

/**
 * ns_config_check() - validate and complete a config (derive DHCP range from
 * subnet when zero)
 * @c:		config
 * @err:	buffer for a one-line error message
 * @errlen:	its size
 *
 * Return: 0, or -1 with @err set
 */
int ns_config_check(struct ns_config *c, char *err, size_t errlen);

/**
 * ns_new() - create the netstack on @loop
 * @loop:	event loop (outlives the netstack)
 * @cfg:	validated configuration (copied)
 * @hooks:	upward hooks (copied)
 *
 * Return: the netstack, or NULL (errno set)
 */
struct ns *ns_new(struct vg_loop *loop, const struct ns_config *cfg, const struct ns_hooks *hooks);

/**
 * ns_free() - close every transport and flow and free the netstack
 * @ns:	netstack, may be NULL
 */
void ns_free(struct ns *ns);

/**
 * ns_listen_qemu() - accept QEMU -netdev stream connections (one at a time)
 * @ns:		netstack
 * @uri:	"unix:///path" or "tcp://127.0.0.1:port"
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1
 */
int ns_listen_qemu(struct ns *ns, const char *uri, char *err, size_t errlen);

/**
 * ns_listen_vfkit() - receive frames as datagrams on "unixgram:///path"
 * @ns:		netstack
 * @uri:	socket URI
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1
 */
int ns_listen_vfkit(struct ns *ns, const char *uri, char *err, size_t errlen);

/**
 * ns_attach_tap() - use an open TAP fd (IFF_TAP | IFF_NO_PI) as the link
 * @ns:		netstack
 * @fd:		descriptor, owned by the netstack from now on
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1
 */
int ns_attach_tap(struct ns *ns, int fd, char *err, size_t errlen);

/**
 * ns_open_tap_netns() - create/open TAP @ifname inside the network namespace
 * at @netns_path, bring it up, and return its fd; the caller stays in its
 * own namespace
 * @netns_path:	e.g. /run/netns/NAME
 * @ifname:	e.g. tap0
 * @mtu:	MTU to set on the TAP device
 * @err:	one-line error on failure
 * @errlen:	size of @err
 *
 * Return: fd, or -1
 */
int ns_open_tap_netns(const char *netns_path, const char *ifname, unsigned int mtu, char *err,
		      size_t errlen);

/**
 * ns_get_stats() - copy the counters
 * @ns:	netstack
 * @st:	output
 */
void ns_get_stats(const struct ns *ns, struct ns_stats *st);

/**
 * ns_leases() - list DHCP leases
 * @ns:		netstack
 * @out:	array
 * @max:	its length
 *
 * Return: number of leases written
 */
size_t ns_leases(const struct ns *ns, struct ns_lease *out, size_t max);

/**
 * ns_syn_resume() - answer a SYN that tcp_syn deferred
 * @ns:		netstack
 * @token:	token given to tcp_syn
 * @verdict:	NS_SYN_ACCEPT, NS_SYN_RESET or NS_SYN_DROP
 */
void ns_syn_resume(struct ns *ns, uint64_t token, enum ns_syn_verdict verdict);

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
 * ns_flow_eof() - whether the guest sent FIN and every byte was consumed
 * @f:	flow
 *
 * Return: true at end of stream
 */
bool ns_flow_eof(const struct ns_flow *f);

/**
 * ns_flow_sndbuf() - bytes ns_flow_write() would accept now
 * @f:	flow
 *
 * Return: byte count
 */
size_t ns_flow_sndbuf(const struct ns_flow *f);

/**
 * ns_flow_write() - copy bytes into the flow's send buffer towards the guest
 * @f:		flow
 * @buf:	data
 * @len:	length
 *
 * Return: bytes taken (≤ ns_flow_sndbuf()), or -1 if the flow can't send
 */
long ns_flow_write(struct ns_flow *f, const void *buf, size_t len);

/**
 * ns_flow_shutdown() - send FIN to the guest after the queued data
 * @f:	flow
 */
void ns_flow_shutdown(struct ns_flow *f);

/**
 * ns_flow_close() - release the flow (FIN if not sent); no more hooks run
 * @f:	flow, invalid afterwards
 */
void ns_flow_close(struct ns_flow *f);

/**
 * ns_flow_reset() - abort the flow with RST; no more hooks run
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
 * Return: 0, or -1 when it could not be sent (counted)
 */
int ns_udp_send(struct ns *ns, const struct ns_addr *from, const struct ns_addr *to,
		const void *data, size_t len);

/**
 * ns_icmp_unreachable() - answer the packet being delivered to udp_recv with
 * ICMP destination unreachable
 * @ns:		netstack
 * @pkt:	the packet handle given to udp_recv
 * @code:	ICMP code (3 = port unreachable, 13 = administratively prohibited)
 */
void ns_icmp_unreachable(struct ns *ns, const struct ns_pkt *pkt, uint8_t code);

/**
 * ns_dns_answer() - send an answer to a query delivered by dns_query
 * @ns:		netstack
 * @c:		the client given to dns_query
 * @msg:	DNS message
 * @len:	length
 */
void ns_dns_answer(struct ns *ns, const struct ns_dns_client *c, const uint8_t *msg, size_t len);

/**
 * ns_link_input() - feed one Ethernet frame as if received from the guest
 * (used by transports, tests and fuzzers)
 * @ns:		netstack
 * @frame:	frame bytes
 * @len:	length
 */
void ns_link_input(struct ns *ns, const uint8_t *frame, size_t len);

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
 * @user:	pointer passed to the per-flow hooks (tcp_connected, then
 *		tcp_recv/tcp_sent/tcp_closed as for accepted flows)
 *
 * Completion is asynchronous: exactly one of tcp_connected(@user) or
 * tcp_closed(@user, NS_CLOSED_RESET when the guest refused, else
 * NS_CLOSED_ABORTED) follows, unless the caller ends the flow first with
 * ns_flow_reset()/ns_flow_close(). Requires the tcp_connected hook.
 *
 * Return: the flow, or NULL (no hook, no memory, address in use)
 */
struct ns_flow *ns_flow_connect(struct ns *ns, const struct ns_addr *src, const struct ns_addr *dst,
				void *user);

/**
 * ns_set_gateway_tcp_port() - terminate guest TCP to the gateway's own
 * address on @port like TCP to any other address: the SYN goes to the
 * tcp_syn hook and the flow to tcp_accept with dst = gateway_ip:@port (the
 * user decides where it leads, e.g. the control API's guest socket). TCP to
 * the gateway's other ports is still answered with RST, DNS and ICMP are
 * unchanged. Only unfragmented segments take this path.
 * @ns:		netstack
 * @port:	TCP port, 0 to turn it off again (new SYNs are then refused)
 *
 * Return: 0, or -1 for port 53 (the gateway's DNS over TCP)
 */
int ns_set_gateway_tcp_port(struct ns *ns, uint16_t port);

/**
 * ns_udp_unreachable() - send the guest an ICMP destination unreachable for
 * a UDP flow, quoting a synthesised IPv4+UDP header (for errors learnt
 * after the datagram's delivery, e.g. ECONNREFUSED on a host socket)
 * @ns:		netstack
 * @guest:	the guest's endpoint (source of the original datagrams)
 * @dst:	the destination the guest sent to (also the ICMP's source)
 * @code:	ICMP code (3 = port unreachable)
 */
void ns_udp_unreachable(struct ns *ns, const struct ns_addr *guest, const struct ns_addr *dst,
			uint8_t code);

#endif /* VGATE_NETSTACK_H */
