/* SPDX-License-Identifier: MIT */
/*
 * sshfwd.h - gvproxy's SSH socket forwarding (-forward-sock HOSTPATH
 * -forward-dest GUESTPATH -forward-user U -forward-identity KEY, paired
 * by order): vgate listens on HOSTPATH and carries each connection to the
 * unix socket GUESTPATH in the guest, as a direct-streamlocal@openssh.com
 * channel of an SSH session with the guest's sshd. The session reaches
 * guest:22 through vgate's own netstack (cmd/flowpipe.h: from the
 * gateway's address, no host port), and libssh (cmd/sshlib.h, dlopen()ed)
 * runs non-blocking on vgate's loop.
 *
 * Per forward: one listening socket (mode 0600; a stale socket at the path
 * is replaced, anything else refused; removed at exit), one SSH session,
 * one channel per accepted client, at most VG_SSHFWD_CLIENTS clients at
 * once (further ones are closed and counted). Nothing is accepted while
 * the session is down: clients wait in the listen backlog. When a session
 * drops, clients whose channel was open are closed; those still waiting
 * for their channel wait for the next session. The connection to guest:22
 * has TCP keepalive, so a guest gone without a word is noticed.
 *
 * Session life: made at start and again whenever it fails or drops, after
 * a back-off doubling from VG_SSHFWD_RETRY_MIN_MS to VG_SSHFWD_RETRY_MAX_MS
 * (reset once a session is up), forever, as gvproxy waits for sshd. A
 * set-up (TCP, key exchange, public key authentication) that takes longer
 * than VG_SSHFWD_SETUP_MS is abandoned and retried. The guest is the
 * bound DHCP lease that expires last, else the first address of the DHCP
 * range (gvproxy's fixed 192.168.127.2).
 *
 * Host key: trust on first use. The first session's host key is accepted,
 * its SHA-256 fingerprint logged and pinned for the life of the process
 * (one pin for all forwards: they reach the same sshd); a later session
 * presenting another key is refused and logged, and retried like any
 * failure. gvproxy checks no host key at all unless asked (secure=true).
 *
 * Buffers: per client two VG_SSHFWD_BUF buffers (one each way); libssh
 * buffers at most the channel's receive window per channel (it grows the
 * window only as vgate reads), and vgate hands it client bytes only up to
 * the peer's window and only while its output to the session is flushed.
 *
 * Ownership: struct vg_sshfwd owns the listeners, sessions, pipes and
 * clients; vg_sshfwd_free() closes them all (before ns_free(): the pipes
 * hold netstack flows). Everything runs on the loop's thread.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way.
 */
#ifndef VGATE_CMD_SSHFWD_H
#define VGATE_CMD_SSHFWD_H

#include <stddef.h>
#include <stdint.h>

#include "cmd/log.h"
#include "netstack/loop.h"
#include "netstack/netstack.h"

#define VG_SSHFWD_MAX	       8	   /* -forward-sock values */
#define VG_SSHFWD_CLIENTS      32	   /* connections at once per forward */
#define VG_SSHFWD_BUF	       (32u << 10) /* per client, each way */
#define VG_SSHFWD_RETRY_MIN_MS 100u
#define VG_SSHFWD_RETRY_MAX_MS 2000u
#define VG_SSHFWD_CONNECT_MS   2000u  /* guest:22 answers the SYN */
#define VG_SSHFWD_SETUP_MS     10000u /* TCP + key exchange + authentication */

/**
 * struct vg_sshfwd_spec - one forward, as given on the command line
 * @sock:	HOSTPATH, a path or unix://PATH
 * @dest:	GUESTPATH, the unix socket in the guest
 * @user:	SSH user
 * @identity:	private key file (OpenSSH or PEM, no passphrase)
 */
struct vg_sshfwd_spec {
	const char *sock;
	const char *dest;
	const char *user;
	const char *identity;
};

/**
 * struct vg_sshfwd_config - what vg_sshfwd_new() needs
 * @loop:	event loop
 * @ns:		netstack (guest link attached or not)
 * @log:	the daemon's log
 * @gateway_ip:	source of the connections to guest:22 (network order)
 * @guest_ip:	guest address while no DHCP lease is bound (network order)
 * @spec:	the forwards (strings copied)
 * @n:		their number, 1..VG_SSHFWD_MAX
 */
struct vg_sshfwd_config {
	struct vg_loop *loop;
	struct ns *ns;
	const struct vg_log *log;
	uint32_t gateway_ip;
	uint32_t guest_ip;
	const struct vg_sshfwd_spec *spec;
	size_t n;
};

/**
 * struct vg_sshfwd_stats - counters over all forwards (/stats, /metrics)
 */
struct vg_sshfwd_stats {
	uint64_t forwards;	   /* configured */
	uint64_t sessions_up;	   /* sessions up now */
	uint64_t session_attempts; /* sessions tried */
	uint64_t session_failures; /* tries that failed (sshd not up, auth, timeout) */
	uint64_t sessions_lost;	   /* sessions that dropped once up */
	uint64_t hostkey_refused;  /* sessions refused: not the pinned host key */
	uint64_t clients_accepted; /* HOSTPATH connections taken */
	uint64_t clients_active;   /* now */
	uint64_t clients_refused;  /* closed at once: VG_SSHFWD_CLIENTS reached */
	uint64_t channel_failures; /* the guest refused the channel (no GUESTPATH...) */
	uint64_t bytes_to_guest;   /* client bytes written to channels */
	uint64_t bytes_from_guest; /* channel bytes written to clients */
};

struct vg_sshfwd;

/**
 * vg_sshfwd_check() - the start-up checks that need no loop: counts, paths,
 * the libssh library, each key readable and parsable
 * @spec:	forwards
 * @n:		their number
 * @err:	one-line error naming the flag and value
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_sshfwd_check(const struct vg_sshfwd_spec *spec, size_t n, char *err, size_t errlen);

/**
 * vg_sshfwd_new() - load libssh, bind every HOSTPATH and start the first
 * sessions
 * @cfg:	configuration (copied, strings included)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: the forwards, or NULL (nothing left bound)
 */
struct vg_sshfwd *vg_sshfwd_new(const struct vg_sshfwd_config *cfg, char *err, size_t errlen);

/**
 * vg_sshfwd_free() - close every client, session and listener, remove the
 * socket files
 * @s:	forwards, may be NULL
 */
void vg_sshfwd_free(struct vg_sshfwd *s);

/**
 * vg_sshfwd_get_stats() - the counters
 * @s:	forwards, may be NULL (all zero)
 * @st:	output
 */
void vg_sshfwd_get_stats(const struct vg_sshfwd *s, struct vg_sshfwd_stats *st);

#endif
