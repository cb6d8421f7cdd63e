/* SPDX-License-Identifier: MIT */
/*
 * sockuri.h - socket URIs as gvproxy writes them (unix://, tcp://,
 * vsock://), turned into socket addresses. Part of the leaf module common/
 * (library vgate_common); pure, keeps no state. Used by the option parser
 * (cmd/options.c, to refuse a bad -listen at start) and by cmd/glisten.c,
 * which binds them.
 *
 * Return convention: 0, or -1 with a one-line message in the caller's err
 * buffer.
 */
#ifndef VGATE_COMMON_SOCKURI_H
#define VGATE_COMMON_SOCKURI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/**
 * vg_sock_uri_parse() - a socket URI (gvproxy's -listen and -listen-vpnkit
 * forms) as a socket address: unix://PATH, tcp://IPV4:PORT (also
 * tcp://:PORT and tcp://localhost:PORT), vsock://CID:PORT or vsock://:PORT
 * (any CID)
 * @uri:	the URI
 * @vsock_ok:	whether vsock:// is allowed (not for -listen-vpnkit)
 * @ss:		address out
 * @len:	its length out
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_sock_uri_parse(const char *uri, bool vsock_ok, struct sockaddr_storage *ss, socklen_t *len,
		      char *err, size_t errlen);

#endif
