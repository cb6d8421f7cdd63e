/* SPDX-License-Identifier: MIT */
/*
 * service.c - who takes what the guest sends: the foreign-flow registrant
 * (ns_register_foreign()) and the gateway services (ns_register_service(),
 * a fixed table of NS_SERVICES_MAX ports on the gateway's addresses).
 *
 * A gateway port gets a UDP pcb bound to gateway:port when its service has
 * udp_recv, and a listener bound to gateway:port when it has tcp_accept but
 * no tcp_syn (lwIP then completes the handshake itself, as ip4_input()
 * routes it); with a tcp_syn, input.c sends its segments the way of foreign
 * flows (syn.c) and the wildcard listener accepts them. Both accept
 * callbacks hand the new pcb to its registrant through ns_flow_adopt().
 *
 * Unless IPv6 is off, a port without a tcp_syn is also served on the
 * gateway's IPv6 addresses (PREFIX::1 and fe80::1): a second UDP pcb and a
 * second listener, bound to IPv6's any address. Only packets to the
 * gateway's own addresses and groups reach lwIP's ip6_input() (link.c), so
 * "any" here means those two; a datagram to a group (all-nodes, the
 * solicited-node group) is dropped and counted (drop_ip6_dst), never
 * answered. A port with a tcp_syn (the guest API) stays IPv4 only: its
 * IPv6 SYNs find no listener and are answered RST.
 * Registrations hold until ns_free(); the table and the handlers' copies
 * live in struct ns_engine.
 */
#include "engine.h"

#include <errno.h>
#include <string.h>

/**
 * svc_find() - the service registered on a gateway port
 * @eng:	engine
 * @port:	port
 *
 * Return: the slot, or NULL
 */
static struct ns_svc *svc_find(struct ns_engine *eng, uint16_t port)
{
	int i;

	for (i = 0; i < NS_SERVICES_MAX; i++)
		if (port && eng->svc[i].port == port)
			return &eng->svc[i];
	return NULL;
}

/**
 * svc_gateway_addr() - whether @a is one of the gateway's own addresses:
 * the IPv4 gateway, or (IPv6 on) PREFIX::1 or fe80::1; the host alias is not
 * @ns:		netstack
 * @a:		address (its port is not looked at)
 *
 * Return: true when the gateway services own it
 */
static bool svc_gateway_addr(const struct ns *ns, const struct ns_addr *a)
{
	if (!ns_addr_is_v6(a))
		return a->ip == ns->cfg.gateway_ip;
	return !ns->cfg.no_ipv6 &&
	       (!memcmp(a->ip6, ns->cfg.gateway6, 16) || !memcmp(a->ip6, ns->nd.cfg.gw_ll, 16));
}

/**
 * ns_svc_handler() - who takes guest TCP to @dst: the gateway port's service
 * (@dst one of the gateway's own addresses) or the foreign-flow registrant
 * @ns:		netstack
 * @dst:	destination endpoint
 *
 * Return: the handler; its tcp_accept is NULL when nobody takes it
 */
const struct ns_handler *ns_svc_handler(struct ns *ns, const struct ns_addr *dst)
{
	static const struct ns_handler none;
	struct ns_svc *svc;

	if (!svc_gateway_addr(ns, dst))
		return &ns->eng->foreign;
	svc = svc_find(ns->eng, dst->port);
	return svc ? &svc->h : &none;
}

/* accept of the wildcard listener: foreign flows and gateway ports with a tcp_syn */
err_t ns_svc_wild_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct ns *ns = arg;
	struct ns_addr dst;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	dst = addr_of(&pcb->local_ip, pcb->local_port);
	return ns_flow_adopt(ns, pcb, ns_svc_handler(ns, &dst), true);
}

/**
 * ns_svc_tell_abandoned() - hand the half-open flows that died unsettled
 * this loop turn (pcbtab.c) to their registrants' tcp_abandoned
 * @ns:	netstack
 */
void ns_svc_tell_abandoned(struct ns *ns)
{
	struct ns_engine *eng = ns->eng;
	unsigned int i;

	/* a callback may end more half-open flows: they are appended, and told */
	for (i = 0; i < eng->nabandoned; i++) {
		const struct ns_tuple *t = &eng->abandoned[i];
		const struct ns_handler *h = ns_svc_handler(ns, &t->dst);

		if (!h->tcp_syn || !h->tcp_abandoned)
			continue;
		ns->st.tcp_abandoned++;
		h->tcp_abandoned(h->ctx, &t->src, &t->dst);
	}
	eng->nabandoned = 0;
	ns->st.tcp_abandoned_lost += eng->abandoned_lost;
	eng->abandoned_lost = 0;
}

/* accept of a gateway service's own listener (no tcp_syn) */
static err_t svc_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct ns_svc *svc = arg;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	return ns_flow_adopt(svc->ns, pcb, &svc->h, false);
}

/*
 * lwIP UDP callback of a gateway port, either family: hand the datagram to
 * its service (IPv6 to a group is dropped: see the file comment)
 */
static void svc_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			 u16_t port)
{
	struct ns_svc *svc = arg;
	struct ns_engine *eng = svc->ns->eng;
	/* the IP and UDP headers are in the first pbuf, also after reassembly */
	const uint8_t *iph = ip_current_is_v6() ? (const uint8_t *)ip6_current_header()
						: (const uint8_t *)ip4_current_header();
	struct ns_pkt pkt = {iph, (size_t)ip_current_header_tot_len() + 8};
	struct ns_addr src = addr_of(addr, port);
	struct ns_addr dst = addr_of(ip_current_dest_addr(), svc->port);
	size_t len;

	(void)pcb;
	if (ns_addr_is_v6(&dst) && dst.ip6[0] == 0xff) {
		svc->ns->st.drop_ip6_dst++;
		pbuf_free(p);
		return;
	}
	len = pbuf_copy_partial(p, eng->scratch, sizeof(eng->scratch), 0);
	pbuf_free(p);
	svc->h.udp_recv(svc->h.ctx, &src, &dst, eng->scratch, len, &pkt);
}

/**
 * svc_listen() - a listener for a gateway port on @addr, its accepts going
 * to svc_accept()
 * @svc:	the port's slot
 * @addr:	the IPv4 gateway, or IPv6's any address
 * @port:	the port
 *
 * Return: the listening pcb, or NULL (out of memory)
 */
static struct tcp_pcb *svc_listen(struct ns_svc *svc, const ip_addr_t *addr, uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IP_GET_TYPE(addr)), *l;

	if (!pcb || tcp_bind(pcb, addr, port) != ERR_OK) {
		if (pcb)
			tcp_close(pcb);
		return NULL;
	}
	ns_pcbtab_listen(svc->ns->eng, pcb);
	l = tcp_listen(pcb);
	if (!l) {
		tcp_close(pcb);
		return NULL;
	}
	tcp_arg(l, svc);
	tcp_accept(l, svc_accept);
	return l;
}

/**
 * svc_udp() - a UDP pcb for a gateway port on @addr, its datagrams going to
 * svc_udp_recv()
 * @svc:	the port's slot
 * @addr:	the IPv4 gateway, or IPv6's any address
 * @port:	the port
 *
 * Return: the pcb, or NULL (out of memory)
 */
static struct udp_pcb *svc_udp(struct ns_svc *svc, const ip_addr_t *addr, uint16_t port)
{
	struct udp_pcb *u = udp_new_ip_type(IP_GET_TYPE(addr));

	if (!u || udp_bind(u, addr, port) != ERR_OK) {
		if (u)
			udp_remove(u);
		return NULL;
	}
	udp_recv(u, svc_udp_recv, svc);
	return u;
}

/* release a slot's pcbs (a failed registration, teardown) */
static void svc_close(struct ns_svc *svc)
{
	if (svc->listen)
		tcp_close(svc->listen);
	if (svc->listen6)
		tcp_close(svc->listen6);
	if (svc->udp)
		udp_remove(svc->udp);
	if (svc->udp6)
		udp_remove(svc->udp6);
}

int ns_register_service(struct ns *ns, uint16_t port, const struct ns_handler *h)
{
	struct ns_engine *eng = ns->eng;
	struct ns_svc *svc = NULL;
	bool v6 = !ns->cfg.no_ipv6;
	ip_addr_t gwa;
	int i;

	if (!port || !h || (!h->udp_recv && !h->tcp_accept))
		return -EINVAL;
	if (port == 67 || svc_find(eng, port))
		return -EADDRINUSE;
	for (i = 0; i < NS_SERVICES_MAX && !svc; i++)
		if (!eng->svc[i].port)
			svc = &eng->svc[i];
	if (!svc)
		return -ENOSPC;
	svc->ns = ns;
	svc->h = *h;
	addr_set(&gwa, ns->cfg.gateway_ip);
	if (h->udp_recv && (!(svc->udp = svc_udp(svc, &gwa, port)) ||
			    (v6 && !(svc->udp6 = svc_udp(svc, IP6_ADDR_ANY, port)))))
		goto fail;
	if (h->tcp_accept && !h->tcp_syn &&
	    (!(svc->listen = svc_listen(svc, &gwa, port)) ||
	     (v6 && !(svc->listen6 = svc_listen(svc, IP6_ADDR_ANY, port)))))
		goto fail;
	svc->port = port;
	return 0;
fail:
	svc_close(svc);
	memset(svc, 0, sizeof(*svc));
	return -ENOMEM;
}

int ns_register_foreign(struct ns *ns, const struct ns_handler *h)
{
	if (!h || !h->tcp_accept)
		return -EINVAL;
	if (ns->eng->foreign.tcp_accept)
		return -EBUSY;
	ns->eng->foreign = *h;
	return 0;
}

/**
 * ns_svc_tcp_syn_port() - whether @ip is TCP to the gateway's own address
 * on a port whose service has a tcp_syn callback
 * @ns:		netstack
 * @ip:		validated IPv4 packet addressed to the gateway (or broadcast)
 * @len:	its length
 * @hlen:	IP header length
 *
 * Return: true when it is to be terminated like TCP to other addresses
 */
bool ns_svc_tcp_syn_port(struct ns *ns, const uint8_t *ip, size_t len, size_t hlen)
{
	struct ns_svc *svc;
	uint32_t dst;

	if (ip[9] != 6 || len < hlen + 4)
		return false;
	memcpy(&dst, ip + 16, 4);
	if (dst != ns->cfg.gateway_ip)
		return false;
	svc = svc_find(ns->eng, (uint16_t)(ip[hlen + 2] << 8 | ip[hlen + 3]));
	return svc && svc->h.tcp_syn;
}

/**
 * ns_svc_close_all() - release every gateway port's lwIP pcbs (at teardown)
 * @eng:	engine
 */
void ns_svc_close_all(struct ns_engine *eng)
{
	int i;

	for (i = 0; i < NS_SERVICES_MAX; i++)
		svc_close(&eng->svc[i]);
}
