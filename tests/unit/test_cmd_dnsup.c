/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_dnsup.c - the daemon's DNS upstreams (cmd/dnsup.c): no watch when
 * --dns-upstream is given; with a resolv.conf that is a symlink, the watch
 * covers both directories, and a rewrite of the target switches the DNS
 * service's upstreams (seen in dns_get_upstream_stats()) within the settle
 * time, on the real loop; the outbound policy filters the new servers.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/dnsup.h"
#include "cmd/options.h"
#include "dns/dns.h"
#include "netstack/loop.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/vg-dnsup.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(dnsup, .init = setup, .fini = teardown, .timeout = 30);

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* first_upstream - the first default upstream in force, as "ADDR:PORT" */
static void first_upstream(struct dns *d, char *out, size_t len)
{
	struct dns_upstream_stats st[DNS_MAX_SERVERS];
	int n = dns_get_upstream_stats(d, st, DNS_MAX_SERVERS);

	out[0] = 0;
	if (n > 0 && !st[0].domain[0])
		vg_dnsup_format(&st[0].server, out, len);
}

struct rig {
	struct vg_options o;
	struct vg_log log;
	struct vg_dnsup u;
	struct vg_loop *loop;
	struct dns *d;
	struct dns_config *cfg;
};

static void rig_start(struct rig *r, int argc, const char **argv)
{
	char err[512] = "";

	memset(r, 0, sizeof(*r));
	r->log.out = stderr;
	r->log.level = VG_LOG_ERROR;
	cr_assert_eq(vg_options_parse(argc, (char **)argv, &r->o, stdout, err, sizeof(err)),
		     VG_PARSE_OK, "%s", err);
	cr_assert_eq(vg_dnsup_init(&r->u, &r->o, &r->log, err, sizeof(err)), 0, "%s", err);
	r->cfg = malloc(sizeof(*r->cfg));
	dns_config_defaults(r->cfg);
	vg_dnsup_filter(&r->u, &r->o.policy, r->cfg);
	r->loop = vg_loop_new(64 + dns_timers_needed(r->cfg));
	cr_assert_not_null(r->loop);
	r->d = dns_new(r->loop, r->cfg, NULL, NULL);
	cr_assert_not_null(r->d);
	cr_assert_eq(vg_dnsup_start(&r->u, r->loop, r->d, &r->o.policy, err, sizeof(err)), 0, "%s",
		     err);
}

static void rig_stop(struct rig *r)
{
	vg_dnsup_free(&r->u);
	dns_free(r->d);
	vg_loop_free(r->loop);
	vg_options_free(&r->o);
	free(r->cfg);
}

/* run the loop until the first upstream is @want or 2 s passed */
static bool wait_upstream(struct rig *r, const char *want)
{
	char cur[64];
	int i;

	for (i = 0; i < 200; i++) {
		first_upstream(r->d, cur, sizeof(cur));
		if (!strcmp(cur, want))
			return true;
		vg_loop_run_once(r->loop, 10);
	}
	return false;
}

Test(dnsup, no_watch_with_dns_upstream)
{
	char conf[128];
	const char *argv[] = {"vgate",	   "--tap-fd",	    "3",  "--dns-upstream",
			      "127.0.0.9", "--resolv-conf", conf, NULL};
	struct rig r;
	char cur[64];

	snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
	write_file(conf, "nameserver 127.0.0.1\n");
	rig_start(&r, 7, argv);
	cr_assert_eq(r.u.io.fd, -1, "no inotify fd");
	first_upstream(r.d, cur, sizeof(cur));
	cr_assert_str_eq(cur, "127.0.0.9:53");
	rig_stop(&r);
}

Test(dnsup, follows_a_symlinked_resolv_conf)
{
	char link[128], sub[128], target[160], cmd[1024];
	const char *argv[] = {"vgate",		 "--tap-fd",	  "3", "--resolv-conf", link,
			      "--outbound-deny", "127.0.0.66/32", NULL};
	struct rig r;

	snprintf(link, sizeof(link), "%s/resolv.conf", dir);
	snprintf(sub, sizeof(sub), "%s/run", dir);
	snprintf(target, sizeof(target), "%s/stub.conf", sub);
	cr_assert_eq(mkdir(sub, 0700), 0);
	write_file(target, "nameserver 127.0.0.1\n");
	cr_assert_eq(symlink("run/stub.conf", link), 0);
	rig_start(&r, 7, argv);
	cr_assert_geq(r.u.io.fd, 0, "watching");
	cr_assert_eq(r.u.nw, 2, "the link and its target");
	cr_assert(wait_upstream(&r, "127.0.0.1:53"));

	write_file(target, "nameserver 127.0.0.2\nnameserver 127.0.0.66\n");
	cr_assert(wait_upstream(&r, "127.0.0.2:53"), "target rewritten in place");
	cr_assert_eq(dns_get_upstream_stats(r.d, NULL, 0), 1, "127.0.0.66 is denied");

	/* the link replaced by one to another directory */
	snprintf(cmd, sizeof(cmd),
		 "mkdir %s/other && echo 'nameserver 127.0.0.3' > %s/other/r.conf && "
		 "ln -s other/r.conf %s/new && mv -T %s/new %s",
		 dir, dir, dir, dir, link);
	cr_assert_eq(system(cmd), 0);
	cr_assert(wait_upstream(&r, "127.0.0.3:53"), "symlink replaced");
	cr_assert_eq(r.u.nw, 2);
	snprintf(cmd, sizeof(cmd), "echo 'nameserver 127.0.0.4' > %s/other/r.conf", dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert(wait_upstream(&r, "127.0.0.4:53"), "the new target is watched");

	/* no nameserver: the upstreams stay */
	write_file(link, "# nothing\n");
	for (int i = 0; i < 20; i++)
		vg_loop_run_once(r.loop, 10);
	cr_assert(wait_upstream(&r, "127.0.0.4:53"));
	rig_stop(&r);
}

/*
 * An IPv6 upstream is judged by the IPv6 outbound rules (issue 14 item 4):
 * with ::1/128 allowed it is used; with only IPv4 allowed it is dropped and
 * the IPv4 one behind it serves.
 */
Test(dnsup, ipv6_upstream_follows_the_ipv6_policy)
{
	const char *allowed[] = {"vgate",	"--tap-fd",	    "3",	 "--dns-upstream",
				 "[::1]:5353",	"--dns-upstream",   "127.0.0.9", "--outbound-allow",
				 "127.0.0.0/8", "--outbound-allow", "::1/128",	 NULL};
	const char *denied[] = {"vgate",       "--tap-fd",
				"3",	       "--dns-upstream",
				"[::1]:5353",  "--dns-upstream",
				"127.0.0.9",   "--outbound-allow",
				"127.0.0.0/8", NULL};
	struct rig r;
	char cur[64];

	rig_start(&r, 11, allowed);
	first_upstream(r.d, cur, sizeof(cur));
	cr_assert_str_eq(cur, "[::1]:5353");
	rig_stop(&r);
	rig_start(&r, 9, denied);
	first_upstream(r.d, cur, sizeof(cur));
	cr_assert_str_eq(cur, "127.0.0.9:53");
	rig_stop(&r);
}
