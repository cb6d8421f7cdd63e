/* SPDX-License-Identifier: MIT */
/*
 * main.c - the vgate daemon: parse flags, build the netstack on one event
 * loop, attach the guest link, write the pid file when ready, and run until
 * SIGTERM/SIGINT (signals arrive through a signalfd on the loop). The
 * modules' callbacks (SNI filter log and events, the forwarder's policy
 * refusals) are routed to cmd/daemon.c.
 *
 * Everything lives in one struct vg_daemon (daemon.h): start() sets it up
 * step by step and stops at the first failure with a one-line error;
 * whatever happened, vg_daemon_cleanup() then undoes what was set up, in
 * reverse order. There is no other teardown path.
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
#include "cmd/fdbudget.h"
#include "cmd/log.h"
#include "cmd/options.h"
#include "dns/dns.h"
#include "netstack/netstack.h"

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
	struct vg_daemon *d = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(d->sig_io.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			vg_log(&d->log, VG_LOG_INFO, "signal %u: shutting down", si.ssi_signo);
			vg_loop_stop(d->loop);
		} else if (si.ssi_signo == SIGHUP) {
			vg_log(&d->log, VG_LOG_INFO, "signal %u: reloading", si.ssi_signo);
			vg_daemon_reload(d); /* also the SNI allowlist */
		} else if (si.ssi_signo == SIGUSR1 && d->fwd) {
			struct fwd_stats st;
			char line[2048];

			fwd_get_stats(d->fwd, &st);
			fwd_stats_format(&st, line, sizeof(line));
			vg_log(&d->log, VG_LOG_INFO, "forwarder stats: %s", line);
			if (d->sni) {
				struct sni_stats ss;

				sni_filter_get_stats(d->sni, &ss);
				sni_stats_format(&ss, line, sizeof(line));
				vg_log(&d->log, VG_LOG_INFO, "%s", line);
			}
		}
	}
}

/**
 * setup_signals() - block SIGTERM, SIGINT, SIGHUP and SIGUSR1 and read them
 * from a signalfd on the loop (d->sig_io); ignore SIGPIPE
 * @d:		daemon (loop set)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int setup_signals(struct vg_daemon *d, char *err, size_t errlen)
{
	sigset_t set;
	int fd, rc;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		goto fail;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	rc = vg_io_add(d->loop, &d->sig_io, fd, EPOLLIN, on_signal, d);
	if (rc < 0) {
		close(fd);
		errno = -rc;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
	return -1;
}

/* the budget log sink of the forwarder (fwd_config.budget) and of the
 * netstack (ns_set_log()); they rate-limit */
static void fwd_budget(void *ctx, const char *line)
{
	struct vg_daemon *d = ctx;

	vg_log(&d->log, VG_LOG_WARN, "%s", line);
}

/**
 * fd_budget() - the forwarder's flow bounds from the fds really available
 * (fdbudget.h), logged once
 * @d:	daemon (log set; RLIMIT_NOFILE already raised: d->nofile)
 * @c:	forwarder config: max_flows and max_udp_flows lowered to the budget
 * @dc:	the DNS config in force (its upstream queries are in the reserve)
 */
static void fd_budget(struct vg_daemon *d, struct fwd_config *c, const struct dns_config *dc)
{
	struct vg_fd_budget b = {0};

	b.limit = d->nofile;
	b.open = vg_fd_open_count();
	b.reserve = vg_fd_reserve(dc->max_inflight);
	vg_fd_budget_split(&b, c->max_flows, c->max_udp_flows);
	vg_log(&d->log,
	       b.tcp < c->max_flows || b.udp < c->max_udp_flows ? VG_LOG_INFO : VG_LOG_DEBUG,
	       "fd budget: RLIMIT_NOFILE %llu, %u open, %u reserved: %u TCP flows (max %u), %u "
	       "UDP mappings (max %u)",
	       (unsigned long long)b.limit, b.open, b.reserve, b.tcp, c->max_flows, b.udp,
	       c->max_udp_flows);
	c->max_flows = b.tcp;
	c->max_udp_flows = b.udp;
}

/**
 * new_forwarder() - create the forwarder with its config from the options;
 * flows its outbound policy refuses are reported to the daemon
 * @d:		daemon (loop and options set)
 * @dc:		the DNS config in force
 *
 * Return: the forwarder, or NULL (errno set)
 */
static struct fwd *new_forwarder(struct vg_daemon *d, const struct dns_config *dc)
{
	const struct vg_options *o = &d->opt;
	struct fwd_config c;

	fwd_config_defaults(&c);
	c.policy = o->policy;
	c.host_ip = o->ns.host_ip;
	c.gateway_ip = o->ns.gateway_ip;
	if (!o->ns.no_ipv6) {
		memcpy(c.host_ip6, o->ns.host6, sizeof(c.host_ip6));
		memcpy(c.gateway_ip6, o->ns.gateway6, sizeof(c.gateway_ip6));
		c.nat64 = o->nat64;
	}
	c.max_flows = (unsigned int)o->max_flows;
	c.max_udp_flows = (unsigned int)o->max_udp_flows;
	c.udp_idle_ms = (uint32_t)o->udp_idle_s * 1000u;
	c.tcp_idle_ms = (uint32_t)o->tcp_idle_s * 1000u;
	c.connect_ms = (uint32_t)o->connect_s * 1000u;
	c.max_half_open = (unsigned int)o->max_half_open;
	c.max_half_open_src = (unsigned int)o->max_half_open_src;
	c.n_forwards = vg_options_forwards(o, c.forwards);
	c.denied = vg_daemon_fwd_denied;
	c.denied_ctx = d;
	c.budget = fwd_budget;
	c.budget_ctx = d;
	fd_budget(d, &c, dc);
	if (o->guest_api) {
		c.guest_api_port = VG_GUEST_API_PORT;
		memcpy(c.guest_api_path, o->guest_api_path, sizeof(c.guest_api_path));
	}
	return fwd_new(d->loop, &c);
}

static void addr4(struct dns_addr *a, uint32_t ip)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	memcpy(a->a, &ip, 4);
}

/**
 * dns_configure() - build the DNS config from the options: upstreams (flags
 * or resolv.conf) and split-DNS routes (only servers the outbound policy
 * allows; cmd/dnsup.c), static records
 * @d:		daemon
 * @cfg:	config to fill
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int dns_configure(struct vg_daemon *d, struct dns_config *cfg, char *err, size_t errlen)
{
	const struct vg_options *o = &d->opt;
	struct dns_addr a;
	size_t i;

	dns_config_defaults(cfg);
	if (o->dns_cache_size > 0)
		cfg->cache_size = (uint32_t)o->dns_cache_size;
	if (o->dns_max_ttl >= 0)
		cfg->max_ttl_s = (uint32_t)o->dns_max_ttl;
	if (o->dns_fail_ttl >= 0)
		cfg->fail_ttl_s = (uint32_t)o->dns_fail_ttl;
	if (o->dns_stale_max >= 0)
		cfg->stale_max_s = (uint32_t)o->dns_stale_max;
	cfg->dns64 = o->nat64 && !o->ns.no_ipv6;
	/* the servers and routes (cmd/dnsup.c), bounded by the outbound policy */
	if (vg_dnsup_init(&d->dnsup, o, &d->log, err, errlen) < 0)
		return -1;
	vg_dnsup_filter(&d->dnsup, &o->policy, cfg);
	/* vgate's own names first (they answer the PTR first), then the names
	 * podman (containers.internal) and Docker Desktop (docker.internal)
	 * guests expect from gvproxy (issue 12, item 5) */
	addr4(&a, o->ns.gateway_ip);
	dns_config_add_record(cfg, "gateway.vgate.internal", &a);
	dns_config_add_record(cfg, "gateway.containers.internal", &a);
	dns_config_add_record(cfg, "gateway.docker.internal", &a);
	addr4(&a, o->ns.host_ip);
	dns_config_add_record(cfg, "host.vgate.internal", &a);
	dns_config_add_record(cfg, "host.containers.internal", &a);
	dns_config_add_record(cfg, "host.docker.internal", &a);
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

/**
 * gv_zones() - gvproxy's two default zones, containers.internal. and
 * docker.internal. with "gateway" and "host", so GET /services/dns/all
 * lists them and /services/dns/add merges into them as with gvproxy (the
 * static records above answer those names first)
 * @d:		daemon, DNS up
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int gv_zones(struct vg_daemon *d, char *err, size_t errlen)
{
	static const char *const zones[] = {"containers.internal.", "docker.internal."};
	struct dns_gvzone *z = calloc(1, sizeof(*z));
	size_t i;

	if (!z) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		memset(z, 0, sizeof(*z));
		snprintf(z->name, sizeof(z->name), "%s", zones[i]);
		snprintf(z->rules[0].name, sizeof(z->rules[0].name), "gateway");
		addr4(&z->rules[0].ip, d->opt.ns.gateway_ip);
		snprintf(z->rules[1].name, sizeof(z->rules[1].name), "host");
		addr4(&z->rules[1].ip, d->opt.ns.host_ip);
		z->n_rules = 2;
		if (dns_gvzone_add(d->dns, z, err, errlen) < 0) {
			free(z);
			return -1;
		}
	}
	free(z);
	return 0;
}

/**
 * attach_link() - set up the guest link the options name (the -listen and
 * -listen-vpnkit endpoints come later, after the API: vg_daemon_start())
 * @d:		daemon (netstack set)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 (or the netstack's negative errno)
 */
static int attach_link(struct vg_daemon *d, char *err, size_t errlen)
{
	const struct vg_options *o = &d->opt;
	int fd;

	if (o->listen_qemu)
		return ns_listen_qemu(d->ns, o->listen_qemu, err, errlen);
	if (o->listen_vfkit)
		return ns_listen_vfkit(d->ns, o->listen_vfkit, err, errlen);
	if (o->listen_bess)
		return ns_listen_bess(d->ns, o->listen_bess, err, errlen);
	if (o->listen_stdio) {
		/* the log stays on stderr (or --log-file): stdout carries frames */
		return ns_attach_stream(d->ns, STDIN_FILENO, STDOUT_FILENO, NS_FRAMING_LE16, err,
					errlen) < 0
			   ? -1
			   : 0;
	}
	if (!o->tap_netns && o->tap_fd < 0)
		return 0; /* -listen / -listen-vpnkit only: cmd/glisten.c (vg_daemon_start()) */
	if (o->tap_netns) {
		fd = ns_open_tap_netns(o->tap_netns, o->tap_name, o->ns.mtu, !o->ns.no_tap_offload,
				       err, errlen);
		if (fd < 0)
			return -1;
		return ns_attach_tap(d->ns, fd, err, errlen);
	}
	return ns_attach_tap(d->ns, o->tap_fd, err, errlen);
}

/**
 * start_sshfwd() - the SSH socket forwards (-forward-sock), once the
 * netstack has its link; their sessions start on the loop
 * @d:		daemon
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0 (also without forwards), or -1
 */
static int start_sshfwd(struct vg_daemon *d, char *err, size_t errlen)
{
	struct vg_sshfwd_config c = {
	    .loop = d->loop,
	    .ns = d->ns,
	    .log = &d->log,
	    .gateway_ip = d->opt.ns.gateway_ip,
	    .guest_ip = d->opt.ns.dhcp_first,
	    .spec = d->opt.sshfwd,
	    .n = d->opt.n_sshfwd,
	};

	if (!c.n)
		return 0;
	d->sshfwd = vg_sshfwd_new(&c, err, errlen);
	return d->sshfwd ? 0 : -1;
}

/**
 * start() - set the daemon up, step by step, up to the running loop's
 * readiness; stops at the first step that fails
 * @d:		daemon (vg_daemon_init() done)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 with @err set and d->exit_code the exit status (2 for a
 * bad option or config, 1 otherwise; 0 with @err empty after --help)
 */
static int start(struct vg_daemon *d, char *err, size_t errlen)
{
	struct dns_config dns_cfg;

	err[0] = '\0';
	d->exit_code = 2;
	switch (vg_options_parse(d->argc, d->argv, &d->opt, stdout, err, errlen)) {
	case VG_PARSE_EXIT:
		err[0] = '\0';
		d->exit_code = 0;
		return -1;
	case VG_PARSE_ERROR:
		return -1;
	default:
		break;
	}
	/* gvproxy mode refuses an existing socket path; at start only (a
	 * reload finds vgate's own sockets there) */
	if (vg_gvproxy_check_paths(&d->opt, err, errlen) < 0)
		return -1;
	d->log.level = d->opt.log_level;
	if (vg_daemon_open_log(d, err, errlen) < 0 || dns_configure(d, &dns_cfg, err, errlen) < 0 ||
	    vg_sshfwd_check(d->opt.sshfwd, d->opt.n_sshfwd, err, errlen) < 0)
		return -1;
	/* the SNI filter asks the cache for answers up to --sni-grace old */
	if (sni_config_enabled(&d->opt.sni) && dns_cfg.addr_keep_ms < d->opt.sni.grace_ms)
		dns_cfg.addr_keep_ms = d->opt.sni.grace_ms;
	d->exit_code = 1;
	d->loop = vg_loop_new(65536 + dns_timers_needed(&dns_cfg));
	if (!d->loop) {
		snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	if (setup_signals(d, err, errlen) < 0)
		return -1;
	if (!d->opt.debug_tcp_echo) {
		d->fwd = new_forwarder(d, &dns_cfg);
		if (!d->fwd) {
			snprintf(err, errlen, "cannot start the forwarder: %s", strerror(errno));
			return -1;
		}
	}
	d->dns = dns_new(d->loop, &dns_cfg, NULL, NULL); /* answers: dns_gateway_new() */
	if (!d->dns) {
		snprintf(err, errlen, "cannot start DNS: %s", strerror(errno));
		return -1;
	}
	if (gv_zones(d, err, errlen) < 0)
		return -1;
	/* the policy in force (d->policy) is set by vg_daemon_start() */
	if (vg_dnsup_start(&d->dnsup, d->loop, d->dns, &d->policy, err, errlen) < 0)
		return -1;
	if (d->fwd && sni_config_enabled(&d->opt.sni)) {
		d->sni = sni_filter_new(d->loop, d->fwd, d->dns, &d->opt.sni, vg_daemon_sni_log, d,
					err, errlen);
		if (!d->sni) {
			d->exit_code = 2;
			return -1;
		}
		sni_filter_set_event_fn(d->sni, vg_daemon_sni_event, d);
	}
	d->ns = ns_new(d->loop, &d->opt.ns);
	if (!d->ns) {
		snprintf(err, errlen, "cannot start the netstack: %s", strerror(errno));
		return -1;
	}
	ns_set_log(d->ns, fwd_budget, d);
	/* the netstack's registrants: gateway:53, then foreign flows (and :80) */
	d->dns_gw = dns_gateway_new(d->dns, d->ns, d->opt.ns.gateway_ip);
	if (!d->dns_gw) {
		snprintf(err, errlen, "cannot serve DNS on the gateway: %s", strerror(errno));
		return -1;
	}
	dns_gateway_set_log(d->dns_gw, vg_daemon_sni_log, d); /* the daemon's log, as SNI's */
	if (d->fwd && fwd_attach(d->fwd, d->ns, err, errlen) < 0)
		return -1;
	if (d->opt.debug_tcp_echo && echo_register(d->ns) < 0) {
		snprintf(err, errlen, "cannot start the TCP echo");
		return -1;
	}
	if (vg_daemon_notify_open(d, err, errlen) < 0)
		return -1;
	if (attach_link(d, err, errlen) < 0) {
		vg_daemon_hypervisor_error(d); /* as gvproxy, when its listener fails */
		return -1;
	}
	if (vg_daemon_start(d, err, errlen) < 0 || start_sshfwd(d, err, errlen) < 0)
		return -1;
	if (d->opt.pid_file) {
		if (write_pid_file(d->opt.pid_file) < 0) {
			snprintf(err, errlen, "cannot write pid file %s: %s", d->opt.pid_file,
				 strerror(errno));
			return -1;
		}
		d->pid_written = true;
	}
	d->exit_code = 0;
	return 0;
}

int main(int argc, char **argv)
{
	struct vg_daemon d;
	char err[512];

	vg_daemon_init(&d, argc, argv);
	(void)vg_fd_raise_limit(&d.nofile); /* soft -> hard; fd_budget() splits it */
	if (start(&d, err, sizeof(err)) < 0) {
		if (err[0])
			fprintf(stderr, "vgate: %s\n", err);
	} else if (vg_daemon_ready(&d, err, sizeof(err)) < 0) {
		vg_log(&d.log, VG_LOG_ERROR, "%s", err);
		d.exit_code = 1;
		vg_log(&d.log, VG_LOG_INFO, "stopped");
	} else {
		vg_log(&d.log, VG_LOG_INFO, "vgate %s ready (mtu %u)", VGATE_VERSION, d.opt.ns.mtu);
		if (vg_loop_run(d.loop) < 0) {
			vg_log(&d.log, VG_LOG_ERROR, "event loop failed: %s", strerror(errno));
			d.exit_code = 1;
		}
		vg_log(&d.log, VG_LOG_INFO, "stopped");
	}
	vg_daemon_cleanup(&d);
	return d.exit_code;
}
