/* SPDX-License-Identifier: MIT */
/*
 * sockuri.c - socket URIs (sockuri.h). Pure: parses text into a socket
 * address, opens nothing.
 */
#include "common/sockuri.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

int vg_sock_uri_parse(const char *uri, bool vsock_ok, struct sockaddr_storage *ss, socklen_t *len,
		      char *err, size_t errlen)
{
	memset(ss, 0, sizeof(*ss));
	if (!strncmp(uri, "unix://", 7)) {
		struct sockaddr_un *sun = (struct sockaddr_un *)ss;
		const char *path = uri + 7;

		if (!*path || strlen(path) >= sizeof(sun->sun_path)) {
			snprintf(err, errlen, "bad socket path in '%s'", uri);
			return -1;
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, path);
		*len = sizeof(*sun);
		return 0;
	}
	if (!strncmp(uri, "tcp://", 6) || (vsock_ok && !strncmp(uri, "vsock://", 8))) {
		bool tcp = uri[0] == 't';
		const char *host = uri + (tcp ? 6 : 8);
		const char *colon = strrchr(host, ':');
		char h[64], *end;
		unsigned long port, cid = VMADDR_CID_ANY;

		if (!colon || (size_t)(colon - host) >= sizeof(h) || !colon[1])
			goto bad;
		memcpy(h, host, (size_t)(colon - host));
		h[colon - host] = '\0';
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (*end || errno || colon[1] == '-' || port > (tcp ? 65535ul : 0xfffffffful) ||
		    (tcp && port == 0))
			goto bad;
		if (tcp) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)port);
			if (!h[0])
				sin->sin_addr.s_addr = htonl(INADDR_ANY);
			else if (!strcmp(h, "localhost"))
				sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			else if (inet_pton(AF_INET, h, &sin->sin_addr) != 1)
				goto bad;
			*len = sizeof(*sin);
		} else {
			struct sockaddr_vm *svm = (struct sockaddr_vm *)ss;

			if (h[0]) {
				cid = strtoul(h, &end, 10);
				if (*end || h[0] == '-' || cid > 0xfffffffful)
					goto bad;
			}
			svm->svm_family = AF_VSOCK;
			svm->svm_cid = (unsigned int)cid;
			svm->svm_port = (unsigned int)port;
			*len = sizeof(*svm);
		}
		return 0;
	}
bad:
	snprintf(err, errlen, "bad address '%s' (expected unix://PATH, tcp://IP:PORT%s)", uri,
		 vsock_ok ? " or vsock://CID:PORT" : "");
	return -1;
}
