/* SPDX-License-Identifier: MIT */
/*
 * notify.h - the systemd readiness protocol (sd_notify(3)) without
 * libsystemd: one datagram of "KEY=VALUE" lines to the AF_UNIX socket named
 * by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Linking
 * libsystemd for this one call mapped it and five more libraries (gcrypt,
 * lzma, zstd, lz4, libcap) into every vgate.
 *
 * Stateless: each call opens a datagram socket, sends, closes it. Works
 * under --sandbox (socket(AF_UNIX), sendto and close are allowed).
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 */
#ifndef VGATE_CMD_NOTIFY_H
#define VGATE_CMD_NOTIFY_H

/**
 * vg_notify() - send @state to the service manager, if there is one
 * @state:	newline-separated assignments, e.g. "READY=1"
 *
 * Return: 0 when sent or when $NOTIFY_SOCKET is not set, -1 when it is set
 *	   but the message could not be sent (bad address, socket error)
 */
int vg_notify(const char *state);

#endif
