/* SPDX-License-Identifier: MIT */
/*
 * capture.h - --pcap FILE: every guest frame in both directions, written in
 * the classic pcap file format (Ethernet link type, microsecond timestamps;
 * vgate writes it itself, libpcap is not needed), so tshark/wireshark/tcpdump
 * read it. Fed by ns_set_capture().
 *
 * Ownership: struct vg_capture owns the FILE; it is
 * flushed once a second from a loop timer (so the file can be followed
 * while vgate runs) and closed, fully flushed, by vg_capture_close().
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 */
#ifndef VGATE_CMD_CAPTURE_H
#define VGATE_CMD_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/loop.h"

#define VG_CAPTURE_SNAPLEN  (65535 + 14)
#define VG_CAPTURE_FLUSH_MS 1000

struct vg_capture;

/**
 * vg_capture_open() - create (truncate) @path and write the pcap header
 * @loop:	loop for the flush timer (may be NULL: no periodic flush)
 * @path:	file
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: the capture, or NULL
 */
struct vg_capture *vg_capture_open(struct vg_loop *loop, const char *path, char *err,
				   size_t errlen);

/**
 * vg_capture_frame() - the ns_set_capture() callback: append one frame
 * @ctx:	struct vg_capture
 * @out:	true for frames sent to the guest (unused: pcap has no direction)
 * @f:		frame
 * @len:	length (truncated to VG_CAPTURE_SNAPLEN in the file)
 */
void vg_capture_frame(void *ctx, bool out, const uint8_t *f, size_t len);

/**
 * vg_capture_close() - flush and close
 * @c:	capture, may be NULL
 */
void vg_capture_close(struct vg_capture *c);

#endif
