/* SPDX-License-Identifier: MIT */
/*
 * gvnotify.h - gvproxy's -notification unix:///PATH: JSON lines about the
 * guest link to a unix stream socket the supervisor (podman, a VM manager)
 * listens on. Not sd_notify (that is cmd/notify.h).
 *
 * The wire, as gvproxy (gvisor-tap-vsock pkg/notification, issue #419, PR
 * #566) sends it: one JSON object per connection, then a newline and the
 * close (Go's json.Encoder), {"notification_type":"TYPE"} with
 * "mac_address":"xx:xx:xx:xx:xx:xx" after it for the two connection types:
 *   ready                  every listener is up (sent once, at start)
 *   connection_established a hypervisor connection carried its first frame
 *                          (mac_address: that frame's source, the VM's NIC)
 *   connection_closed      that connection ended (same mac_address)
 *   hypervisor_error       a hypervisor listener could not be set up (vgate
 *                          then exits 1) or accept() on it failed for want
 *                          of fds
 * A socket that is absent or refuses is a lost message (counted "failed",
 * logged once, then at most every 10 s); there is no retry of the message,
 * as in gvproxy, where the dial fails and the message is gone.
 *
 * How: vg_gvnotify_send() only formats the line into a bounded FIFO
 * (VG_GVNOTIFY_QUEUE lines; a full queue drops the new line, counted
 * "dropped") and arms a 0 ms timer, so it can be called from inside the
 * netstack's data path and never blocks nor calls back. The timer sends the
 * lines in order, one at a time: a non-blocking socket(), connect(), send()
 * and close() each; a listener whose backlog is full (EAGAIN) is retried
 * every VG_GVNOTIFY_RETRY_MS for at most VG_GVNOTIFY_RETRIES tries, then
 * the line counts as failed; a send that would block waits for EPOLLOUT
 * under the same bound. vg_gvnotify_free() sends what is still queued
 * first, without waiting (the hypervisor_error of a failed start is sent
 * there, the loop having never run).
 *
 * Ownership: the caller owns the struct vg_gvnotify (vg_gvnotify_new() /
 * vg_gvnotify_free()), on the loop's thread; it holds at most one socket.
 */
#ifndef VGATE_CMD_GVNOTIFY_H
#define VGATE_CMD_GVNOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "cmd/log.h"
#include "netstack/loop.h"

#define VG_GVNOTIFY_QUEUE    64 /* lines waiting to be sent, at most */
#define VG_GVNOTIFY_LINE     96 /* one JSON line, newline included */
#define VG_GVNOTIFY_RETRY_MS 50 /* a busy listener (EAGAIN) is tried again after */
#define VG_GVNOTIFY_RETRIES  40 /* ... at most this many times (2 s) */

/* gvproxy's notification types */
enum vg_gvnotify_type {
	VG_GVN_READY,
	VG_GVN_CONNECTION_ESTABLISHED,
	VG_GVN_CONNECTION_CLOSED,
	VG_GVN_HYPERVISOR_ERROR,
};

/**
 * struct vg_gvnotify_stats - counters
 * @sent:	lines delivered (written whole to a connected socket)
 * @failed:	lines lost: no socket there, refused, or busy past the retries
 * @dropped:	lines not queued: the queue was full
 */
struct vg_gvnotify_stats {
	uint64_t sent, failed, dropped;
};

struct vg_gvnotify;

/**
 * vg_gvnotify_uri_check() - gvproxy's check of a -notification value
 * @uri:	e.g. "unix:///run/user/1000/podman/notify.sock"
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 (not unix://, no path, or a path too long for a socket)
 */
int vg_gvnotify_uri_check(const char *uri, char *err, size_t errlen);

/**
 * vg_gvnotify_new() - a sender to the socket @uri names (nothing is
 * connected yet)
 * @loop:	event loop (its timer and io)
 * @uri:	"unix:///PATH" (vg_gvnotify_uri_check())
 * @log:	where failures are logged (rate-limited); outlives the sender
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: the sender, or NULL
 */
struct vg_gvnotify *vg_gvnotify_new(struct vg_loop *loop, const char *uri, struct vg_log *log,
				    char *err, size_t errlen);

/**
 * vg_gvnotify_send() - queue one notification; never blocks
 * @n:		sender, or NULL (no -notification: nothing happens)
 * @type:	what to tell
 * @mac:	6 bytes for the connection types, else NULL
 */
void vg_gvnotify_send(struct vg_gvnotify *n, enum vg_gvnotify_type type, const uint8_t *mac);

/**
 * vg_gvnotify_get_stats() - copy the counters
 * @n:	sender, or NULL (all zero)
 * @st:	output
 */
void vg_gvnotify_get_stats(const struct vg_gvnotify *n, struct vg_gvnotify_stats *st);

/**
 * vg_gvnotify_free() - send what is queued (no waiting: a busy listener
 * loses the rest) and free
 * @n:	sender, or NULL
 */
void vg_gvnotify_free(struct vg_gvnotify *n);

#endif
