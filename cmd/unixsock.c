/* SPDX-License-Identifier: MIT */
/*
 * unixsock.c - vg_unix_listen() (see unixsock.h): lstat() the path first
 * so that only a socket is ever unlinked, bind under umask 0177 so the
 * socket is never reachable with wider permissions, chmod() to be sure.
 */
#include "unixsock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int vg_unix_listen(const char *path, const char *what, int backlog, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "invalid %s socket path '%s' (1 to %zu bytes)", what, path,
			 sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
				 "%s '%s' exists and is not a socket: not replacing it", what,
				 path);
			return -1;
		}
		if (unlink(path) < 0) {
			snprintf(err, errlen, "%s: cannot remove the old socket '%s': %s", what,
				 path, strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot examine '%s': %s", what, path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", what, strerror(errno));
		return -1;
	}
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	umask(old);
	if (rc == 0 && (chmod(path, 0600) < 0 || listen(fd, backlog) < 0))
		e = errno;
	else if (rc == 0)
		return fd;
	snprintf(err, errlen, "cannot listen on %s '%s': %s", what, path, strerror(e));
	close(fd);
	if (rc == 0)
		unlink(path);
	return -1;
}
