/* SPDX-License-Identifier: MIT */
/*
 * notify.c - sd_notify(3)'s wire protocol, see notify.h. The address is
 * taken from the environment on every call (systemd sets it once; a test
 * may set it per process), "@" at its start stands for the leading NUL of
 * an abstract socket name.
 */
#include "notify.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int vg_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t plen, slen = strlen(state);
	socklen_t alen;
	ssize_t n;
	int fd;

	if (!path || !*path)
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	/* an abstract name is exactly plen bytes long, a path includes its NUL */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, state, slen, MSG_NOSIGNAL, (struct sockaddr *)&sun, alen);
	close(fd);
	return n == (ssize_t)slen ? 0 : -1;
}
