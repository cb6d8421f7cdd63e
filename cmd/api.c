/* SPDX-License-Identifier: MIT */
/*
 * api.c - the control API (api.h) on libmicrohttpd and jansson.
 *
 * How it runs on vgate's loop: we create, bind (umask 0177, so the socket
 * is 0600 from the start), listen on and accept from the unix socket
 * ourselves (struct api_listener) and hand each connection to MHD
 * (MHD_add_connection(); the daemon runs with MHD_USE_NO_LISTEN_SOCKET,
 * MHD_USE_EPOLL and no internal thread). Accepting ourselves is what keeps
 * an fd shortage from spinning: MHD busy-waits when accept() fails with
 * EMFILE and it has no connection; we count it (fd_exhausted), log it
 * (first, then every API_LOG_MS) and take the listener off the poll set for
 * API_ACCEPT_PAUSE_MS. MHD's own epoll fd is registered in the vg loop; when it is
 * readable, or when the timer armed from MHD_get_timeout() fires, MHD_run()
 * does the work. MHD_ALLOW_SUSPEND_RESUME adds an eventfd to MHD's epoll
 * set, so resuming a connection wakes the loop too.
 *
 * Requests: the access handler is called once with the headers (we attach
 * a struct api_req), then with body chunks (copied, bounded by
 * API_MAX_BODY), then once more to answer through the route table
 * (api_route.c). struct api_req is freed by the completion callback.
 *
 /events (api_events.c) suspends idle clients' connections; api_free()
 * resumes them first, as MHD must not be stopped with suspended ones.
 *
 * Guest side (api_config.guest_path): a second MHD daemon on a second unix
 * socket, with the same handlers, epoll registration and timer. A request
 * is the guest's when MHD_CONNECTION_INFO_DAEMON is that daemon; the guest
 * may only read (GET/HEAD, anything else is 403), and it has its own
 * connection limit and at most API_MAX_GUEST_SSE /events clients, so it
 * cannot starve the host's API.
 *
 * Connections accepted elsewhere (gvproxy's -listen sockets, cmd/glisten.c,
 * after it has peeked that they are not "POST /connect") come in through
 * api_add_connection() to the host daemon, as the --api socket's do. With
 * api_config.uri NULL the daemon runs without a socket of its own.
 *
 * Routing and the endpoints live in the other api_*.c files (api_int.h
 * lists them); this file is the HTTP glue: sockets, the two MHD daemons,
 * request bodies, and the API's lifecycle.
 */
#include "api_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 2, 0))) static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct api *a = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	vg_log(a->cfg.log, VG_LOG_DEBUG, "api: microhttpd: %s", msg);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *rq = *con_cls;

	(void)version;
	if (!rq) {
		const union MHD_ConnectionInfo *ci;

		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		ci = vg_mhd()->get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
		/* unknown daemon: treat as the guest's, the safe side */
		rq->guest = !ci || ci->daemon != a->mhd;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		if (!rq->too_big && rq->len + n <= API_MAX_BODY) {
			char *b = realloc(rq->body, rq->len + n + 1);

			if (!b)
				return MHD_NO;
			memcpy(b + rq->len, upload_data, n);
			rq->body = b;
			rq->len += n;
			b[rq->len] = '\0';
		} else {
			rq->too_big = true;
			free(rq->body);
			rq->body = NULL;
			rq->len = 0;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	api_log(a, VG_LOG_DEBUG, "%s %s", method, url);
	rq->method = api_method_bit(method);
	return api_route(a, c, url, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* run both MHD daemons and re-arm the timer from the nearer next timeout */
static void api_run(struct api *a)
{
	MHD_UNSIGNED_LONG_LONG ms, next = 60000;
	bool any = false;

	vg_mhd()->run(a->mhd);
	if (a->guest_mhd)
		vg_mhd()->run(a->guest_mhd);
	if (vg_mhd()->get_timeout(a->mhd, &ms) == MHD_YES) {
		next = ms < next ? ms : next;
		any = true;
	}
	if (a->guest_mhd && vg_mhd()->get_timeout(a->guest_mhd, &ms) == MHD_YES) {
		next = ms < next ? ms : next;
		any = true;
	}
	if (any)
		api_timer_start(a, &a->timer, next);
	else
		vg_timer_stop(a->cfg.loop, &a->timer);
}

static void on_epoll(void *arg, uint32_t events)
{
	(void)events;
	api_run(arg);
}

static void on_timer(void *arg)
{
	api_run(arg);
}

/**
 * on_listen() - a listening socket is readable: accept (a bounded number)
 * and hand each connection to the listener's MHD daemon; out of fds,
 * pause the listener (see the file comment)
 * @arg:	struct api_listener
 * @events:	unused
 */
static void on_listen(void *arg, uint32_t events)
{
	struct api_listener *l = arg;
	struct api *a = l->a;
	uint64_t hits;
	int i;

	(void)events;
	for (i = 0; i < API_ACCEPTS_PER_EVENT; i++) {
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa);
		int fd =
		    accept4(l->io.fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			/* MHD closes it when it cannot take it (connection limit) */
			vg_mhd()->add_connection(l->mhd, fd, (struct sockaddr *)&sa, len);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			int e = errno;

			a->fd_exhausted++;
			if (vg_hitlog_hit(&a->log_fd, API_LOG_MS, vg_loop_now(a->cfg.loop), &hits))
				api_log(a, VG_LOG_WARN,
					"accept() failed (%s): the API listener pauses %u ms (%llu "
					"since the last such line)",
					strerror(e), API_ACCEPT_PAUSE_MS, (unsigned long long)hits);
			vg_io_pause(&l->pause, API_ACCEPT_PAUSE_MS);
		}
		break; /* EAGAIN: the next event */
	}
	api_run(a);
}

/**
 * listen_unix() - create, bind (mode 0600) and listen on a unix socket;
 * a stale socket file at @path is replaced, any other file is an error
 * @path:	socket path
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: the fd, or -1
 */
static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "invalid --api socket path '%s'", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--api '%s' exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the API socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "cannot listen on --api '%s': %s", path, strerror(errno));
		close(fd);
		if (rc == 0)
			unlink(path);
		return -1;
	}
	return fd;
}

/**
 * start_daemon() - serve the listening socket @fd with a new MHD daemon
 * driven from the loop (its epoll fd registered as @io, @fd as @l)
 * @a:		API
 * @fd:		listening unix socket, or -1 for none
 * @limit:	connections at once
 * @io:		loop registration to fill
 * @l:		listener to fill
 *
 * Return: the daemon, or NULL
 */
static struct MHD_Daemon *start_daemon(struct api *a, int fd, unsigned int limit, struct vg_io *io,
				       struct api_listener *l)
{
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;

	d = vg_mhd()->start_daemon(
	    MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_request, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, a,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, a, MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
	if (!d)
		return NULL;
	info = vg_mhd()->get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || vg_io_add(a->cfg.loop, io, info->epoll_fd, EPOLLIN, on_epoll, a) < 0) {
		vg_mhd()->stop_daemon(d);
		return NULL;
	}
	l->a = a;
	l->mhd = d;
	if (fd < 0)
		return d; /* connections come through api_add_connection() only */
	if (vg_io_add(a->cfg.loop, &l->io, fd, EPOLLIN, on_listen, l) < 0) {
		vg_io_del(a->cfg.loop, io);
		vg_mhd()->stop_daemon(d);
		return NULL;
	}
	vg_io_pause_init(&l->pause, a->cfg.loop, &l->io);
	return d;
}

/* stop accepting on @l (no-op when it never started) */
static void stop_listener(struct api *a, struct api_listener *l)
{
	vg_io_pause_stop(&l->pause);
	vg_io_del(a->cfg.loop, &l->io);
}

/**
 * start_guest() - open the guest's read-only socket (api_config.guest_path)
 * @a:		API, host side running
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int start_guest(struct api *a, char *err, size_t errlen)
{
	const char *path = a->cfg.guest_path;

	if (strlen(path) >= sizeof(a->guest_path)) {
		snprintf(err, errlen, "guest API socket path too long: '%s'", path);
		return -1;
	}
	strcpy(a->guest_path, path);
	a->guest_fd = listen_unix(a->guest_path, err, errlen);
	if (a->guest_fd < 0)
		return -1;
	a->guest_mhd =
	    start_daemon(a, a->guest_fd, API_MAX_GUEST_CONNECTIONS, &a->guest_io, &a->guest_lst);
	if (!a->guest_mhd) {
		snprintf(err, errlen, "cannot start the guest API server on '%s'", a->guest_path);
		close(a->guest_fd);
		a->guest_fd = -1;
		unlink(a->guest_path);
		return -1;
	}
	api_log(a, VG_LOG_INFO, "guest API (read-only) on unix://%s", a->guest_path);
	return 0;
}

/* close the guest's side (no-op when it is off) */
static void stop_guest(struct api *a)
{
	if (a->guest_fd < 0)
		return;
	if (a->guest_mhd) {
		stop_listener(a, &a->guest_lst);
		vg_io_del(a->cfg.loop, &a->guest_io);
		vg_mhd()->stop_daemon(a->guest_mhd);
		a->guest_mhd = NULL;
	}
	close(a->guest_fd);
	a->guest_fd = -1;
	unlink(a->guest_path);
}

struct api *api_new(const struct api_config *cfg, char *err, size_t errlen)
{
	struct api *a;

	if (cfg->uri && strncmp(cfg->uri, "unix://", 7)) {
		snprintf(err, errlen, "invalid --api '%s' (expected unix:///PATH)", cfg->uri);
		return NULL;
	}
	if (vg_mhd_load(err, errlen) < 0)
		return NULL; /* libmicrohttpd is only mapped when the API starts */
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->cfg = *cfg;
	a->io.fd = -1;
	a->guest_io.fd = -1;
	a->lst.io.fd = -1;
	a->guest_lst.io.fd = -1;
	a->guest_fd = -1;
	vg_timer_init(&a->timer, on_timer, a);
	vg_timer_init(&a->keepalive, api_sse_keepalive, a);
	a->listen_fd = -1;
	if (cfg->uri) {
		if (strlen(cfg->uri + 7) >= sizeof(a->path)) {
			snprintf(err, errlen, "--api path too long: '%s'", cfg->uri + 7);
			free(a);
			return NULL;
		}
		strcpy(a->path, cfg->uri + 7);
		a->listen_fd = listen_unix(a->path, err, errlen);
		if (a->listen_fd < 0) {
			free(a);
			return NULL;
		}
	}
	a->mhd = start_daemon(a, a->listen_fd, API_MAX_CONNECTIONS, &a->io, &a->lst);
	if (!a->mhd) {
		snprintf(err, errlen, "cannot start the API server%s%s", a->path[0] ? " on " : "",
			 a->path);
		goto fail;
	}
	if (a->path[0])
		api_log(a, VG_LOG_INFO, "listening on unix://%s", a->path);
	if (cfg->guest_path && start_guest(a, err, errlen) < 0)
		goto fail;
	if (api_timer_start(a, &a->keepalive, API_SSE_KEEPALIVE_MS) < 0) {
		snprintf(err, errlen, "cannot arm the API's keepalive timer");
		goto fail;
	}
	return a;
fail:
	stop_guest(a);
	if (a->mhd) {
		stop_listener(a, &a->lst);
		vg_io_del(cfg->loop, &a->io);
		vg_mhd()->stop_daemon(a->mhd);
	}
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		unlink(a->path);
	}
	free(a);
	return NULL;
}

int api_add_connection(struct api *a, int fd, const struct sockaddr *sa, socklen_t salen)
{
	/* MHD closes @fd itself when it cannot take it (connection limit) */
	enum MHD_Result r = vg_mhd()->add_connection(a->mhd, fd, sa, salen);

	api_run(a);
	return r == MHD_YES ? 0 : -1;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	/* MHD must not be stopped with suspended connections */
	api_sse_resume_all(a);
	stop_listener(a, &a->lst);
	vg_io_del(a->cfg.loop, &a->io);
	vg_timer_stop(a->cfg.loop, &a->timer);
	vg_timer_stop(a->cfg.loop, &a->keepalive);
	stop_guest(a);
	vg_mhd()->stop_daemon(a->mhd);
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		unlink(a->path);
	}
	free(a);
}
