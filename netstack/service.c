/* SPDX-License-Identifier: MIT */
/*
 * service.c - who takes what the guest sends: the foreign-flow registrant
 * (ns_register_foreign()) and the gateway services (ns_register_service(),
 * a fixed table of NS_SERVICES_MAX ports on the gateway's address).
 *
 * A gateway port gets a UDP pcb bound to gateway:port when its service has
 * udp_recv, and a listener bound to gateway:port when it has tcp_accept but
 * no tcp_syn (lwIP then completes the handshake itself, as ip4_input()
 * routes it); with a tcp_syn, input.c sends its segments the way of foreign
 * flows (syn.c) and the wildcard listener accepts them. Both accept
 * callbacks hand the new pcb to its registrant through ns_flow_adopt().
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
 * ns_svc_handler() - who takes guest TCP to @dst: the gateway port's service or
 * the foreign-flow registrant (every IPv6 destination: the gateway services
 * are IPv4 only so far)
 * @ns:		netstack
 * @dst:	destination endpoint
 *
 * Return: the handler; its tcp_accept is NULL when nobody takes it
 */
const struct ns_handler *ns_svc_handler(struct ns *ns, const struct ns_addr *dst)
{
	static const struct ns_handler none;
	struct ns_svc *svc;

	if (ns_addr_is_v6(dst) || dst->ip != ns->cfg.gateway_ip)
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

/* lwIP UDP callback of a gateway port: hand the datagram to its service */
static void svc_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			 u16_t port)
{
	struct ns_svc *svc = arg;
	struct ns_engine *eng = svc->ns->eng;
	const struct ip_hdr *iph = ip4_current_header();
	/* the IP and UDP headers are in the first pbuf, also after reassembly */
	struct ns_pkt pkt = {(const uint8_t *)iph, (size_t)IPH_HL(iph) * 4 + 8};
	struct ns_addr src = ns_addr_v4(addr_get(addr), port);
	struct ns_addr dst = ns_addr_v4(ip4_addr_get_u32(ip4_current_dest_addr()), svc->port);
	size_t len;

	(void)pcb;
	len = pbuf_copy_partial(p, eng->scratch, sizeof(eng->scratch), 0);
	pbuf_free(p);
	svc->h.udp_recv(svc->h.ctx, &src, &dst, eng->scratch, len, &pkt);
}

int ns_register_service(struct ns *ns, uint16_t port, const struct ns_handler *h)
{
	struct ns_engine *eng = ns->eng;
	struct ns_svc *svc = NULL;
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
	if (h->udp_recv) {
		svc->udp = udp_new();
		if (!svc->udp || udp_bind(svc->udp, &gwa, port) != ERR_OK)
			goto fail;
		udp_recv(svc->udp, svc_udp_recv, svc);
	}
	if (h->tcp_accept && !h->tcp_syn) {
		struct tcp_pcb *pcb = tcp_new();

		if (!pcb || tcp_bind(pcb, &gwa, port) != ERR_OK) {
			if (pcb)
				tcp_close(pcb);
			goto fail;
		}
		ns_pcbtab_listen(eng, pcb);
		svc->listen = tcp_listen(pcb);
		if (!svc->listen) {
			tcp_close(pcb);
			goto fail;
		}
		tcp_arg(svc->listen, svc);
		tcp_accept(svc->listen, svc_accept);
	}
	svc->port = port;
	return 0;
fail:
	if (svc->udp)
		udp_remove(svc->udp);
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

	for (i = 0; i < NS_SERVICES_MAX; i++) {
		if (eng->svc[i].listen)
			tcp_close(eng->svc[i].listen);
		if (eng->svc[i].udp)
			udp_remove(eng->svc[i].udp);
	}
}
