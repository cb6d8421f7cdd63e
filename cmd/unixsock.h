/* SPDX-License-Identifier: MIT */
/*
 * unixsock.h - a listening unix stream socket made the way vgate makes
 * every socket it serves on the host: mode 0600 from the start (bound
 * under umask 0177, then chmod()ed in case the file system ignores it),
 * a stale socket at the path replaced, anything else at the path refused
 * and left alone. Used by -forward-sock (cmd/sshfwd.c).
 *
 * Ownership: the caller owns the returned fd and the socket file; it
 * unlinks the file when it closes the fd for good.
 *
 * Return convention (all of cmd/): 0 (here: an fd) on success, -1 on
 * failure with a one-line message in the caller's err buffer.
 */
#ifndef VGATE_CMD_UNIXSOCK_H
#define VGATE_CMD_UNIXSOCK_H

#include <stddef.h>

/**
 * vg_unix_listen() - create, bind (0600) and listen on a unix socket
 * @path:	socket path (shorter than sun_path)
 * @what:	the option it comes from, for the message (e.g. "-forward-sock")
 * @backlog:	listen() backlog
 * @err:	one-line error naming @what and @path
 * @errlen:	its size
 *
 * Return: a non-blocking, close-on-exec listening fd, or -1
 */
int vg_unix_listen(const char *path, const char *what, int backlog, char *err, size_t errlen);

#endif
