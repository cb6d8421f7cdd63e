/* SPDX-License-Identifier: MIT */
/*
 * lwipopts.h - vgate's lwIP 2.1.3 build options.
 *
 * NO_SYS=1: lwIP is driven from vgate's single event-loop thread (raw API
 * only, no threads, no locks). Memory comes from the C allocator (PBUF_RAM
 * only, no PBUF_POOL) through heap.c's free lists, so the limits that
 * matter are vgate's own tables (flows, leases), not lwIP's static pools.
 *
 * TCP_MSS is the largest a 65520-byte link MTU allows; lwIP derives each
 * connection's effective MSS from the netif MTU (TCP_CALCULATE_EFF_SEND_MSS),
 * so a 1500-byte link still uses 1460. Window scaling allows a 1 MiB receive
 * window and a 1 MiB send buffer per flow; how much of them a flow really
 * uses is vgate's buffer budget's (netstack/budget.c, netstack/flow.c).
 *
 * The ARP, DHCP and Ethernet layers are vgate's own (netstack/link.c,
 * netstack/dhcp.c); lwIP sees plain IP packets (IPv4 only so far: the link
 * drops IPv6 frames until vgate's own IPv6 link layer exists).
 */
#ifndef VGATE_LWIPOPTS_H
#define VGATE_LWIPOPTS_H

#define NO_SYS                  1
#define LWIP_SOCKET             0
#define LWIP_NETCONN            0
#define SYS_LIGHTWEIGHT_PROT    0
#define LWIP_TIMERS             1

#define MEM_LIBC_MALLOC         1
/* the C allocator behind size classes with free lists (heap.h) */
#include "heap.h"
#define mem_clib_malloc         vg_lwip_malloc
#define mem_clib_calloc         vg_lwip_calloc
#define mem_clib_free           vg_lwip_free
#define MEMP_MEM_MALLOC         1
#define MEM_ALIGNMENT           8
#define MEM_SIZE                (1024 * 1024)
#define MEMP_NUM_TCP_PCB        65535
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_UDP_PCB        16
#define MEMP_NUM_TCP_SEG        65535
#define MEMP_NUM_PBUF           65535
#define MEMP_NUM_SYS_TIMEOUT    (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
#define PBUF_POOL_SIZE          0

#define LWIP_IPV4               1
#define LWIP_IPV6               1
/*
 * Dual-stack lwIP: the IPv6 link (Neighbour Discovery, Router
 * Advertisements, DHCPv6, DAD) is vgate's own, like ARP and DHCP for IPv4;
 * lwIP only carries IPv6 TCP/UDP/ICMPv6, so its own autoconfiguration,
 * router solicitation, MLD and DHCPv6 client are off.
 */
#define LWIP_IPV6_AUTOCONFIG    0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#define LWIP_IPV6_MLD           0
#define LWIP_IPV6_DHCP6         0
#define LWIP_ND6_ALLOW_RA_UPDATES 0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0
#define LWIP_IPV6_REASS         1
#define LWIP_IPV6_FRAG          1
/* 64-bit: ip6_reass()'s helper is larger than a fragment header and must
 * borrow the bytes before it, saved in a copy (else it corrupts them) */
#define IPV6_FRAG_COPYHEADER    1
#define LWIP_ICMP6              1
#define LWIP_IPV6_SCOPES        0
#define LWIP_ARP                0
#define LWIP_ETHERNET           0
#define LWIP_DHCP               0
#define LWIP_AUTOIP             0
#define LWIP_IGMP               0
#define LWIP_DNS                0
#define LWIP_RAW                0
#define LWIP_ICMP               1
#define LWIP_UDP                1
#define LWIP_TCP                1
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK   0
#define LWIP_SINGLE_NETIF       1
#define LWIP_HAVE_LOOPIF        0
#define LWIP_NETIF_LOOPBACK     0

#define IP_FORWARD              0
#define IP_REASSEMBLY           1
#define IP_FRAG                 1
#define IP_REASS_MAX_PBUFS      128
#define IP_DEFAULT_TTL          64
#define IP_SOF_BROADCAST        0

#define TCP_MSS                 65480
#define TCP_CALCULATE_EFF_SEND_MSS 1
#define LWIP_WND_SCALE          1
#define TCP_RCV_SCALE           5
#define TCP_WND                 (1024 * 1024)
#define TCP_SND_BUF             (1024 * 1024)
#define TCP_SND_QUEUELEN        8192
#define TCP_SNDLOWAT            (TCP_SND_BUF / 4)
#define TCP_SNDQUEUELOWAT       (TCP_SND_QUEUELEN / 2)
#define TCP_QUEUE_OOSEQ         1
/*
 * The out-of-order queue lies inside the receive window, which the buffer
 * budget (netstack/budget.c) bounds; per flow it is also capped here, and
 * to a floor while the budget is full (netstack/flow.c).
 */
#define TCP_OOSEQ_MAX_BYTES     (256 * 1024)
#define TCP_OOSEQ_MAX_PBUFS     64
struct tcp_pcb;
unsigned int vg_lwip_ooseq_bytes(const struct tcp_pcb *pcb);
#define TCP_OOSEQ_BYTES_LIMIT(pcb) vg_lwip_ooseq_bytes(pcb)
#define LWIP_TCP_SACK_OUT       0
#define LWIP_TCP_KEEPALIVE      1
/*
 * lwIP's sanity check "TCP_SNDLOWAT must be 4*MSS below u16_t overflow"
 * dates from 16-bit windows and can never hold with a 65480-byte TCP_MSS;
 * with LWIP_WND_SCALE the send buffer is 32-bit. The other checks (window
 * vs scale, SND_QUEUELEN vs SND_BUF/MSS, SNDLOWAT < SND_BUF) hold for the
 * values above; they are re-stated in netstack/port.c as static asserts.
 */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
#define TCP_LISTEN_BACKLOG      0
/* one ext arg per pcb: netstack/pcbtab.c's record (pcbs by 4-tuple) */
#define LWIP_TCP_PCB_NUM_EXT_ARGS 1
#define TCP_OVERSIZE            TCP_MSS
#define LWIP_TCP_TIMESTAMPS     0
#define TCP_TMR_INTERVAL        100
#define LWIP_CALLBACK_API       1
#define LWIP_EVENT_API          0

#define CHECKSUM_GEN_IP         1
#define CHECKSUM_GEN_UDP        1
#define CHECKSUM_GEN_TCP        1
#define CHECKSUM_GEN_ICMP       1
#define CHECKSUM_CHECK_IP       1
#define CHECKSUM_CHECK_UDP      1
#define CHECKSUM_CHECK_TCP      1
#define CHECKSUM_CHECK_ICMP     1
/*
 * TCP checksums are summed when a segment is sent, not when tcp_write()
 * copies its data: with TAP offloads the netif does not generate them at all
 * (the guest's kernel completes them, ns_engine_set_gso()), and summing on
 * copy would be a pass over every byte for nothing. Without offloads it is
 * the same one pass, at the first transmission.
 */
#define LWIP_CHECKSUM_ON_COPY   0
/* the engine skips tcp_input()'s check for a TCP segment whose checksum
 * the guest's kernel left partial (a TAP with offloads: netstack/vnet.h),
 * and TCP's checksum generation with offloads (port.c) */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
/* a faster Internet checksum (netstack/frame.c); same contract as lwIP's */
unsigned short vg_lwip_chksum(const void *dataptr, int len);
#define LWIP_CHKSUM             vg_lwip_chksum

#define LWIP_STATS              0
#define LWIP_DEBUG              0
#define LWIP_NOASSERT           1
#define LWIP_PROVIDE_ERRNO      1

#endif /* VGATE_LWIPOPTS_H */
