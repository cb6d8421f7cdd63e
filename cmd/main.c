/* SPDX-License-Identifier: MIT */
/*
 * main.c - the vgate daemon: parse flags, build the netstack on one event
 * loop, attach the guest link, write the pid file when ready, and run until
 * SIGTERM/SIGINT (signals arrive through a signalfd on the loop).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmd/echo.h"
#include "cmd/log.h"
#include "cmd/options.h"
#include "netstack/netstack.h"

struct vgate {
	struct vg_options opt;
	struct vg_log log;
	struct vg_loop *loop;
	struct ns *ns;
	struct vg_io sig_io;
	int exit_code;
};

/**
 * write_pid_file() - write our pid atomically (temp file + rename)
 * @path:	destination
 *
 * Return: 0, or -1 (errno set)
 */
static int write_pid_file(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void on_signal(void *arg, uint32_t events)
{
	struct vgate *vg = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(vg->sig_io.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			vg_log(&vg->log, VG_LOG_INFO, "signal %u: shutting down", si.ssi_signo);
			vg_loop_stop(vg->loop);
		}
	}
}

static int setup_signals(struct vgate *vg)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	return vg_io_add(vg->loop, &vg->sig_io, fd, EPOLLIN, on_signal, vg);
}

static void *reset_accept(void *ctx, struct ns_flow *f, const struct ns_addr *src,
			  const struct ns_addr *dst)
{
	(void)ctx;
	(void)f;
	(void)src;
	(void)dst;
	return NULL; /* no forwarder yet: refuse */
}

static int attach_link(struct vgate *vg, char *err, size_t errlen)
{
	const struct vg_options *o = &vg->opt;
	int fd;

	if (o->listen_qemu)
		return ns_listen_qemu(vg->ns, o->listen_qemu, err, errlen);
	if (o->listen_vfkit)
		return ns_listen_vfkit(vg->ns, o->listen_vfkit, err, errlen);
	if (o->tap_netns) {
		fd = ns_open_tap_netns(o->tap_netns, o->tap_name, o->ns.mtu, err, errlen);
		if (fd < 0)
			return -1;
		return ns_attach_tap(vg->ns, fd, err, errlen);
	}
	return ns_attach_tap(vg->ns, o->tap_fd, err, errlen);
}

int main(int argc, char **argv)
{
	struct vgate vg;
	struct ns_hooks hooks;
	char err[512];

	memset(&vg, 0, sizeof(vg));
	vg.sig_io.fd = -1;
	switch (vg_options_parse(argc, argv, &vg.opt, stdout, err, sizeof(err))) {
	case VG_PARSE_EXIT:
		return 0;
	case VG_PARSE_ERROR:
		fprintf(stderr, "vgate: %s\n", err);
		return 2;
	default:
		break;
	}
	vg.log.out = stderr;
	vg.log.level = vg.opt.log_level;
	vg.loop = vg_loop_new(65536);
	if (!vg.loop || setup_signals(&vg) < 0) {
		fprintf(stderr, "vgate: cannot set up the event loop: %s\n", strerror(errno));
		return 1;
	}
	memset(&hooks, 0, sizeof(hooks));
	hooks.ctx = &vg;
	if (vg.opt.debug_tcp_echo)
		echo_hooks(&hooks);
	else
		hooks.tcp_accept = reset_accept;
	vg.ns = ns_new(vg.loop, &vg.opt.ns, &hooks);
	if (!vg.ns) {
		fprintf(stderr, "vgate: cannot start the netstack: %s\n", strerror(errno));
		return 1;
	}
	if (attach_link(&vg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vgate: %s\n", err);
		ns_free(vg.ns);
		return 1;
	}
	if (vg.opt.pid_file && write_pid_file(vg.opt.pid_file) < 0) {
		fprintf(stderr, "vgate: cannot write pid file %s: %s\n", vg.opt.pid_file,
			strerror(errno));
		ns_free(vg.ns);
		return 1;
	}
	vg_log(&vg.log, VG_LOG_INFO, "vgate %s ready (mtu %u)", VGATE_VERSION, vg.opt.ns.mtu);
	if (vg_loop_run(vg.loop) < 0) {
		vg_log(&vg.log, VG_LOG_ERROR, "event loop failed: %s", strerror(errno));
		vg.exit_code = 1;
	}
	ns_free(vg.ns);
	if (vg.opt.pid_file)
		unlink(vg.opt.pid_file);
	if (vg.sig_io.fd >= 0) {
		int fd = vg.sig_io.fd;

		vg_io_del(vg.loop, &vg.sig_io);
		close(fd);
	}
	vg_loop_free(vg.loop);
	return vg.exit_code;
}
