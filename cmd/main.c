/* SPDX-License-Identifier: MIT */
/*
 * main.c - the vgate daemon: parse flags, build the netstack on one event
 * loop, attach the guest link, write the pid file when ready, and run until
 * SIGTERM/SIGINT (signals arrive through a signalfd on the loop). The
 * modules' callbacks (SNI filter log and events, the forwarder's policy
 * refusals) are routed to cmd/daemon.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmd/daemon.h"
#include "cmd/echo.h"
#include "cmd/log.h"
#include "cmd/options.h"
#include "dns/dns.h"
#include "netstack/netstack.h"

struct vgate {
	struct vg_options opt;
	struct vg_log log;
	struct vg_loop *loop;
	struct ns *ns;
	struct dns *dns;
	struct dns_gateway *dns_gw; /* the guest's DNS on gateway:53 */
	struct fwd *fwd;
	struct sni_filter *sni; /* NULL unless an allowlist is configured */
	struct vg_io sig_io;
	struct vg_daemon daemon; /* log file, API, pcap, reload, sandbox */
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

static void sni_log(void *ctx, bool warn, const char *line)
{
	struct vgate *vg = ctx;

	vg_daemon_sni_log(&vg->daemon, warn, line);
}

static void sni_event(void *ctx, const struct sni_event *ev)
{
	struct vgate *vg = ctx;

	vg_daemon_sni_event(&vg->daemon, ev); /* GET /events */
}

static void fwd_denied(void *ctx, const struct fwd_denied *ev)
{
	struct vgate *vg = ctx;

	vg_daemon_fwd_denied(&vg->daemon, ev); /* log line and GET /events */
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
		} else if (si.ssi_signo == SIGHUP) {
			vg_log(&vg->log, VG_LOG_INFO, "signal %u: reloading", si.ssi_signo);
			vg_daemon_reload(&vg->daemon); /* also the SNI allowlist */
		} else if (si.ssi_signo == SIGUSR1 && vg->fwd) {
			struct fwd_stats st;
			char line[1024];

			fwd_get_stats(vg->fwd, &st);
			fwd_stats_format(&st, line, sizeof(line));
			vg_log(&vg->log, VG_LOG_INFO, "forwarder stats: %s", line);
			if (vg->sni) {
				struct sni_stats ss;

				sni_filter_get_stats(vg->sni, &ss);
				sni_stats_format(&ss, line, sizeof(line));
				vg_log(&vg->log, VG_LOG_INFO, "%s", line);
			}
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
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	return vg_io_add(vg->loop, &vg->sig_io, fd, EPOLLIN, on_signal, vg);
}

/**
 * new_forwarder() - create the forwarder with its config from the options;
 * flows its outbound policy refuses are reported to the daemon
 * @vg:		daemon (loop and options set)
 *
 * Return: the forwarder, or NULL (errno set)
 */
static struct fwd *new_forwarder(struct vgate *vg)
{
	const struct vg_options *o = &vg->opt;
	struct fwd_config c;
	size_t i;

	fwd_config_defaults(&c);
	c.policy = o->policy;
	c.host_ip = o->ns.host_ip;
	c.gateway_ip = o->ns.gateway_ip;
	c.max_flows = (unsigned int)o->max_flows;
	c.max_udp_flows = (unsigned int)o->max_udp_flows;
	c.udp_idle_ms = (uint32_t)o->udp_idle_s * 1000u;
	c.tcp_idle_ms = (uint32_t)o->tcp_idle_s * 1000u;
	for (i = 0; i < o->n_forward && c.n_forwards < FWD_FORWARD_MAX; i++)
		c.forwards[c.n_forwards++] = o->forward[i];
	if (o->ssh_port > 0 && c.n_forwards < FWD_FORWARD_MAX) {
		struct fwd_forward *f = &c.forwards[c.n_forwards++];

		f->proto = FWD_TCP;
		f->host.ip = htonl(INADDR_LOOPBACK);
		f->host.port = (uint16_t)o->ssh_port;
		f->guest_port = 22;
	}
	c.denied = fwd_denied;
	c.denied_ctx = vg;
	if (o->guest_api) {
		c.guest_api_port = VG_GUEST_API_PORT;
		memcpy(c.guest_api_path, o->guest_api_path, sizeof(c.guest_api_path));
	}
	return fwd_new(vg->loop, &c);
}

static void addr4(struct dns_addr *a, uint32_t ip)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	memcpy(a->a, &ip, 4);
}

/**
 * dns_configure() - build the DNS config from the options: upstreams (flags
 * or resolv.conf; only those the outbound policy allows), static records
 * @vg:		daemon
 * @cfg:	config to fill
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int dns_configure(struct vgate *vg, struct dns_config *cfg, char *err, size_t errlen)
{
	const struct vg_options *o = &vg->opt;
	struct dns_config all;
	struct dns_addr a;
	size_t i;
	int k;

	dns_config_defaults(cfg);
	if (o->dns_cache_size > 0)
		cfg->cache_size = (uint32_t)o->dns_cache_size;
	if (o->dns_max_ttl >= 0)
		cfg->max_ttl_s = (uint32_t)o->dns_max_ttl;
	if (o->dns_fail_ttl >= 0)
		cfg->fail_ttl_s = (uint32_t)o->dns_fail_ttl;
	if (o->dns_stale_max >= 0)
		cfg->stale_max_s = (uint32_t)o->dns_stale_max;
	all = *cfg;
	for (i = 0; i < o->n_dns_upstream; i++) {
		if (dns_config_add_upstream(&all, o->dns_upstream[i]) < 0) {
			snprintf(err, errlen, "invalid --dns-upstream '%s'", o->dns_upstream[i]);
			return -1;
		}
	}
	if (!o->n_dns_upstream) {
		const char *rc = o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf";

		if (dns_config_load_resolv_conf(&all, rc) < 0 && o->resolv_conf) {
			snprintf(err, errlen, "cannot read --resolv-conf '%s'", rc);
			return -1;
		}
	}
	/* the outbound policy bounds DNS upstreams too */
	for (k = 0; k < all.n_upstreams; k++) {
		uint32_t ip4;

		memcpy(&ip4, all.upstreams[k].addr.a, 4);
		if (all.upstreams[k].addr.family == AF_INET && fwd_policy_allows(&o->policy, ip4))
			cfg->upstreams[cfg->n_upstreams++] = all.upstreams[k];
		else
			vg_log(&vg->log, VG_LOG_WARN,
			       "dns upstream #%d is outside the outbound policy: not used", k + 1);
	}
	if (!cfg->n_upstreams)
		vg_log(&vg->log, VG_LOG_WARN, "no usable DNS upstream: only static names resolve");
	cfg->upstream_timeout_ms = all.upstream_timeout_ms;
	cfg->upstream_attempts = all.upstream_attempts;
	addr4(&a, o->ns.gateway_ip);
	dns_config_add_record(cfg, "gateway.vgate.internal", &a);
	addr4(&a, o->ns.host_ip);
	dns_config_add_record(cfg, "host.vgate.internal", &a);
	for (i = 0; i < o->n_dns_record; i++) {
		struct dns_record r;

		if (dns_parse_record(o->dns_record[i], &r) < 0 ||
		    dns_config_add_record(cfg, r.name, &r.addr) < 0) {
			snprintf(err, errlen, "invalid --dns-record '%s'", o->dns_record[i]);
			return -1;
		}
	}
	return 0;
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
	struct dns_config dns_cfg;
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
	vg.daemon.argc = argc;
	vg.daemon.argv = argv;
	vg.daemon.opt = &vg.opt;
	vg.daemon.log = &vg.log;
	if (vg_daemon_open_log(&vg.daemon, err, sizeof(err)) < 0) {
		fprintf(stderr, "vgate: %s\n", err);
		return 2;
	}
	if (dns_configure(&vg, &dns_cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vgate: %s\n", err);
		return 2;
	}
	/* the SNI filter asks the cache for answers up to --sni-grace old */
	if (sni_config_enabled(&vg.opt.sni) && dns_cfg.addr_keep_ms < vg.opt.sni.grace_ms)
		dns_cfg.addr_keep_ms = vg.opt.sni.grace_ms;
	vg.loop = vg_loop_new(65536 + dns_timers_needed(&dns_cfg));
	if (!vg.loop || setup_signals(&vg) < 0) {
		fprintf(stderr, "vgate: cannot set up the event loop: %s\n", strerror(errno));
		return 1;
	}
	if (!vg.opt.debug_tcp_echo) {
		vg.fwd = new_forwarder(&vg);
		if (!vg.fwd) {
			fprintf(stderr, "vgate: cannot start the forwarder: %s\n", strerror(errno));
			return 1;
		}
	}
	vg.dns = dns_new(vg.loop, &dns_cfg, NULL, NULL); /* answers: dns_gateway_new() */
	if (!vg.dns) {
		fprintf(stderr, "vgate: cannot start DNS: %s\n", strerror(errno));
		return 1;
	}
	if (vg.fwd && sni_config_enabled(&vg.opt.sni)) {
		vg.sni = sni_filter_new(vg.loop, vg.fwd, vg.dns, &vg.opt.sni, vg.opt.ns.host_ip,
					sni_log, &vg, err, sizeof(err));
		if (!vg.sni) {
			fprintf(stderr, "vgate: %s\n", err);
			return 2;
		}
		sni_filter_set_event_fn(vg.sni, sni_event, &vg);
	}
	vg.ns = ns_new(vg.loop, &vg.opt.ns);
	if (!vg.ns) {
		fprintf(stderr, "vgate: cannot start the netstack: %s\n", strerror(errno));
		return 1;
	}
	/* the netstack's registrants: gateway:53, then foreign flows (and :80) */
	vg.dns_gw = dns_gateway_new(vg.dns, vg.ns, vg.opt.ns.gateway_ip);
	if (!vg.dns_gw) {
		fprintf(stderr, "vgate: cannot serve DNS on the gateway: %s\n", strerror(errno));
		ns_free(vg.ns);
		return 1;
	}
	if (vg.fwd && fwd_attach(vg.fwd, vg.ns, err, sizeof(err)) < 0) {
		fprintf(stderr, "vgate: %s\n", err);
		ns_free(vg.ns);
		fwd_free(vg.fwd);
		return 1;
	}
	if (vg.opt.debug_tcp_echo && echo_register(vg.ns) < 0) {
		fprintf(stderr, "vgate: cannot start the TCP echo\n");
		ns_free(vg.ns);
		return 1;
	}
	if (attach_link(&vg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vgate: %s\n", err);
		ns_free(vg.ns);
		return 1;
	}
	vg.daemon.loop = vg.loop;
	vg.daemon.ns = vg.ns;
	vg.daemon.dns = vg.dns;
	vg.daemon.fwd = vg.fwd;
	vg.daemon.sni = vg.sni;
	if (vg_daemon_start(&vg.daemon, err, sizeof(err)) < 0) {
		fprintf(stderr, "vgate: %s\n", err);
		vg_daemon_stop(&vg.daemon);
		ns_free(vg.ns);
		return 1;
	}
	if (vg.opt.pid_file && write_pid_file(vg.opt.pid_file) < 0) {
		fprintf(stderr, "vgate: cannot write pid file %s: %s\n", vg.opt.pid_file,
			strerror(errno));
		ns_free(vg.ns);
		return 1;
	}
	if (vg_daemon_ready(&vg.daemon, err, sizeof(err)) < 0) {
		vg_log(&vg.log, VG_LOG_ERROR, "%s", err);
		vg.exit_code = 1;
	} else {
		vg_log(&vg.log, VG_LOG_INFO, "vgate %s ready (mtu %u)", VGATE_VERSION,
		       vg.opt.ns.mtu);
	}
	if (!vg.exit_code && vg_loop_run(vg.loop) < 0) {
		vg_log(&vg.log, VG_LOG_ERROR, "event loop failed: %s", strerror(errno));
		vg.exit_code = 1;
	}
	vg_log(&vg.log, VG_LOG_INFO, "stopped");
	vg_daemon_stop(&vg.daemon);
	ns_free(vg.ns);
	sni_filter_free(vg.sni); /* before the forwarder and dns it plugs into */
	fwd_free(vg.fwd); /* after ns_free: no netstack callback reaches it */
	dns_gateway_free(vg.dns_gw);
	dns_free(vg.dns);
	if (vg.opt.pid_file)
		unlink(vg.opt.pid_file);
	if (vg.sig_io.fd >= 0) {
		int fd = vg.sig_io.fd;

		vg_io_del(vg.loop, &vg.sig_io);
		close(fd);
	}
	vg_loop_free(vg.loop);
	vg_daemon_close_log(&vg.daemon);
	vg_options_free(&vg.opt);
	return vg.exit_code;
}
