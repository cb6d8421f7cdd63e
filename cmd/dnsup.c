/* SPDX-License-Identifier: MIT */
/*
 * dnsup.c - the daemon's DNS upstreams: from the options, through the
 * outbound policy, and the inotify watch that follows a resolv.conf (see
 * dnsup.h).
 *
 * The chain of a path P: entry basename(P) in dirname(P); when that entry
 * is a symlink, its target T (relative to dirname(P) when relative) is the
 * next entry, and so on for at most VG_DNSUP_LINKS_MAX links. Every entry's
 * directory gets a watch for entries created, deleted, moved or written;
 * the directories of a chain are usually two (/etc and /run/...). A change
 * in a link re-resolves the chain when the settle timer fires, so a
 * replaced symlink that now points elsewhere moves the watch along.
 */
#include "dnsup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |        \
	 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

void vg_dnsup_format(const struct dns_upstream *s, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(s->addr.family, s->addr.a, a, sizeof(a));
	if (s->addr.family == AF_INET6)
		snprintf(out, len, "[%s]:%u", a, s->port);
	else
		snprintf(out, len, "%s:%u", a, s->port);
}

int vg_dnsup_init(struct vg_dnsup *u, const struct vg_options *o, struct vg_log *log, char *err,
		  size_t errlen)
{
	size_t i;

	u->log = log;
	u->io.fd = -1;
	u->want = malloc(sizeof(*u->want));
	if (!u->want) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dns_config_defaults(u->want);
	for (i = 0; i < o->n_dns_upstream; i++) {
		if (dns_config_add_upstream(u->want, o->dns_upstream[i]) < 0) {
			snprintf(err, errlen, "invalid --dns-upstream '%s'", o->dns_upstream[i]);
			return -1;
		}
	}
	if (!o->n_dns_upstream) {
		const char *rc = o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf";

		if (strlen(rc) >= sizeof(u->resolv)) {
			snprintf(err, errlen, "--resolv-conf path too long");
			return -1;
		}
		strcpy(u->resolv, rc);
		if (dns_config_load_resolv_conf(u->want, rc) < 0 && o->resolv_conf) {
			snprintf(err, errlen, "cannot read --resolv-conf '%s'", rc);
			return -1;
		}
	}
	/* checked by the option parser: cannot fail here */
	for (i = 0; i < o->n_dns_upstream_for; i++) {
		char dom[256];
		struct dns_upstream s;

		if (dns_parse_upstream_for(o->dns_upstream_for[i], dom, &s, NULL) < 0 ||
		    dns_config_add_route(u->want, dom, &s) < 0) {
			snprintf(err, errlen, "invalid --dns-upstream-for '%s'",
				 o->dns_upstream_for[i]);
			return -1;
		}
	}
	return 0;
}

/* allowed - @s may be used under @p (IPv4 or IPv6 rules, as for the forwarder's flows) */
static bool allowed(const struct fwd_policy *p, const struct dns_upstream *s)
{
	uint32_t ip4;

	if (s->addr.family == AF_INET6)
		return fwd_policy_allows6(p, s->addr.a);
	memcpy(&ip4, s->addr.a, 4);
	return s->addr.family == AF_INET && fwd_policy_allows(p, ip4);
}

void vg_dnsup_filter(const struct vg_dnsup *u, const struct fwd_policy *p, struct dns_config *cfg)
{
	const struct dns_config *w = u->want;
	char a[64];
	int k, i;

	cfg->n_upstreams = 0;
	for (k = 0; k < w->n_upstreams; k++) {
		if (allowed(p, &w->upstreams[k])) {
			cfg->upstreams[cfg->n_upstreams++] = w->upstreams[k];
			continue;
		}
		vg_dnsup_format(&w->upstreams[k], a, sizeof(a));
		vg_log(u->log, VG_LOG_WARN,
		       "dns upstream #%d (%s) is outside the outbound policy: not used", k + 1, a);
	}
	if (!cfg->n_upstreams)
		vg_log(u->log, VG_LOG_WARN, "no usable DNS upstream: only static names resolve");
	cfg->upstream_timeout_ms = w->upstream_timeout_ms;
	cfg->upstream_attempts = w->upstream_attempts;
	cfg->n_routes = w->n_routes;
	for (k = 0; k < w->n_routes; k++) {
		const struct dns_domain_route *r = &w->routes[k];
		struct dns_domain_route *o = &cfg->routes[k];

		*o = *r;
		o->n_servers = 0;
		for (i = 0; i < r->n_servers; i++) {
			if (allowed(p, &r->servers[i])) {
				o->servers[o->n_servers++] = r->servers[i];
				continue;
			}
			vg_dnsup_format(&r->servers[i], a, sizeof(a));
			vg_log(u->log, VG_LOG_WARN,
			       "dns upstream %s for %s is outside the outbound policy: not used", a,
			       r->domain);
		}
		if (!o->n_servers)
			vg_log(u->log, VG_LOG_WARN,
			       "no usable DNS upstream for %s: its names get SERVFAIL", r->domain);
	}
}

void vg_dnsup_apply(struct vg_dnsup *u)
{
	struct dns_config *c;

	if (!u->dns || !u->want)
		return;
	c = malloc(sizeof(*c));
	if (!c) {
		vg_log(u->log, VG_LOG_ERROR, "dns upstreams not changed: out of memory");
		return;
	}
	dns_config_defaults(c);
	vg_dnsup_filter(u, u->policy, c);
	if (dns_set_upstreams(u->dns, c) < 0)
		vg_log(u->log, VG_LOG_ERROR, "dns upstreams not changed");
	free(c);
}

int vg_dnsup_set_routes(struct vg_dnsup *u, const char *const *specs, size_t n, char *err,
			size_t errlen)
{
	struct dns_config *c;
	size_t i;

	if (vg_dns_routes_check(specs, n, err, errlen) < 0)
		return -1;
	c = malloc(sizeof(*c));
	if (!c || !u->want) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->n_routes = 0;
	for (i = 0; i < n; i++) {
		char dom[256];
		struct dns_upstream s;

		/* checked above */
		if (dns_parse_upstream_for(specs[i], dom, &s, NULL) == 0)
			(void)dns_config_add_route(c, dom, &s);
	}
	memcpy(u->want->routes, c->routes, sizeof(c->routes));
	u->want->n_routes = c->n_routes;
	free(c);
	vg_dnsup_apply(u);
	return 0;
}

/* ---- following the resolv.conf ---- */

/* same_servers - the default upstreams of @a and @b are the same list */
static bool same_servers(const struct dns_config *a, const struct dns_config *b)
{
	int i;

	if (a->n_upstreams != b->n_upstreams || a->upstream_timeout_ms != b->upstream_timeout_ms ||
	    a->upstream_attempts != b->upstream_attempts)
		return false;
	for (i = 0; i < a->n_upstreams; i++) {
		const struct dns_upstream *x = &a->upstreams[i], *y = &b->upstreams[i];

		if (x->addr.family != y->addr.family || x->port != y->port ||
		    x->scope_id != y->scope_id || memcmp(x->addr.a, y->addr.a, 16))
			return false;
	}
	return true;
}

/**
 * split_path() - dirname and basename of @path
 * @path:	path
 * @dir:	PATH_MAX bytes
 * @name:	NAME_MAX + 1 bytes
 *
 * Return: 0, or -1 (too long, no name)
 */
static int split_path(const char *path, char *dir, char *name)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;

	if (!slash) {
		strcpy(dir, ".");
	} else {
		size_t dl = slash == path ? 1 : (size_t)(slash - path);

		if (dl >= PATH_MAX)
			return -1;
		memcpy(dir, path, dl);
		dir[dl] = 0;
	}
	if (!*base || strlen(base) > NAME_MAX)
		return -1;
	strcpy(name, base);
	return 0;
}

/**
 * watch_chain() - watch the directory of the file and of each symlink on
 * the way to the real file; watches no longer needed are removed
 * @u:	state (io.fd open)
 */
static void watch_chain(struct vg_dnsup *u)
{
	struct vg_dnsup_watch nw[VG_DNSUP_LINKS_MAX + 1];
	char path[PATH_MAX], dir[PATH_MAX], target[PATH_MAX];
	int n = 0, i, k;

	snprintf(path, sizeof(path), "%s", u->resolv);
	while (n <= VG_DNSUP_LINKS_MAX) {
		ssize_t tl;

		if (split_path(path, dir, nw[n].name) < 0)
			break;
		nw[n].wd = inotify_add_watch(u->io.fd, dir, WATCH_MASK);
		if (nw[n].wd < 0 && n == 0)
			vg_log(u->log, VG_LOG_WARN, "resolv.conf watch: cannot watch %s: %s", dir,
			       strerror(errno));
		n++;
		tl = readlink(path, target, sizeof(target) - 1);
		if (tl <= 0)
			break; /* not a symlink (or gone): the end of the chain */
		target[tl] = 0;
		if (target[0] == '/') {
			snprintf(path, sizeof(path), "%s", target);
		} else {
			char next[PATH_MAX];

			if ((size_t)snprintf(next, sizeof(next), "%s/%s", dir, target) >=
			    sizeof(next))
				break;
			memcpy(path, next, sizeof(path));
		}
	}
	/* drop the old watches that are not in the new chain (same dir: same wd) */
	for (i = 0; i < u->nw; i++) {
		bool kept = false;

		for (k = 0; k < n && !kept; k++)
			kept = nw[k].wd == u->w[i].wd;
		if (!kept && u->w[i].wd >= 0)
			(void)inotify_rm_watch(u->io.fd, u->w[i].wd);
	}
	memcpy(u->w, nw, sizeof(nw[0]) * (size_t)n);
	u->nw = n;
}

/* reread - the settle time passed: follow the chain again, read the file */
static void reread(void *arg)
{
	struct vg_dnsup *u = arg;
	struct dns_config *c = malloc(sizeof(*c));
	char list[DNS_MAX_UPSTREAMS * 50] = "";
	int n, i;

	u->armed = false;
	watch_chain(u);
	if (!c) {
		vg_log(u->log, VG_LOG_ERROR, "resolv.conf changed, not read: out of memory");
		return;
	}
	dns_config_defaults(c);
	n = dns_config_load_resolv_conf(c, u->resolv);
	if (n <= 0) {
		vg_log(u->log, VG_LOG_WARN, "%s changed but has no nameserver%s%s: upstreams kept",
		       u->resolv, n < 0 ? ": " : "", n < 0 ? strerror(-n) : "");
		free(c);
		return;
	}
	if (same_servers(c, u->want)) {
		free(c);
		return;
	}
	for (i = 0; i < c->n_upstreams; i++) {
		char a[64];

		vg_dnsup_format(&c->upstreams[i], a, sizeof(a));
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 a);
	}
	memcpy(u->want->upstreams, c->upstreams, sizeof(c->upstreams));
	u->want->n_upstreams = c->n_upstreams;
	u->want->upstream_timeout_ms = c->upstream_timeout_ms;
	u->want->upstream_attempts = c->upstream_attempts;
	free(c);
	vg_log(u->log, VG_LOG_INFO, "%s changed: dns upstreams now %s", u->resolv, list);
	vg_dnsup_apply(u);
}

/* interesting - the event concerns an entry of the chain (or the watch itself) */
static bool interesting(const struct vg_dnsup *u, const struct inotify_event *ev)
{
	int i;

	if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
		return true;
	for (i = 0; i < u->nw; i++) {
		if (u->w[i].wd == ev->wd && ev->len && !strcmp(u->w[i].name, ev->name))
			return true;
	}
	return false;
}

static void on_inotify(void *arg, uint32_t events)
{
	struct vg_dnsup *u = arg;
	_Alignas(struct inotify_event) char buf[4096];
	bool hit = false;
	int rounds;

	(void)events;
	for (rounds = 0; rounds < 16; rounds++) {
		ssize_t n = read(u->io.fd, buf, sizeof(buf));
		size_t off = 0;

		if (n <= 0)
			break;
		while (off + sizeof(struct inotify_event) <= (size_t)n) {
			const struct inotify_event *ev = (const void *)(buf + off);

			hit = hit || interesting(u, ev);
			off += sizeof(*ev) + ev->len;
		}
	}
	if (hit && !u->armed) {
		if (vg_timer_start(u->loop, &u->timer, VG_DNSUP_SETTLE_MS) < 0)
			reread(u); /* no timer: read now */
		else
			u->armed = true;
	}
}

int vg_dnsup_start(struct vg_dnsup *u, struct vg_loop *loop, struct dns *dns,
		   const struct fwd_policy *policy, char *err, size_t errlen)
{
	int fd, rc;

	u->loop = loop;
	u->dns = dns;
	u->policy = policy;
	if (!u->resolv[0])
		return 0;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot watch %s: inotify: %s", u->resolv, strerror(errno));
		return -1;
	}
	rc = vg_io_add(loop, &u->io, fd, EPOLLIN, on_inotify, u);
	if (rc < 0) {
		close(fd);
		snprintf(err, errlen, "cannot watch %s: %s", u->resolv, strerror(-rc));
		return -1;
	}
	vg_timer_init(&u->timer, reread, u);
	watch_chain(u);
	vg_log(u->log, VG_LOG_DEBUG, "following %s (%d watched entries)", u->resolv, u->nw);
	return 0;
}

void vg_dnsup_free(struct vg_dnsup *u)
{
	if (u->io.fd >= 0) {
		int fd = u->io.fd;

		if (u->armed)
			vg_timer_stop(u->loop, &u->timer);
		vg_io_del(u->loop, &u->io);
		close(fd);
	}
	free(u->want);
	memset(u, 0, sizeof(*u));
	u->io.fd = -1;
}
