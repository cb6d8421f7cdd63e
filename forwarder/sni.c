/* SPDX-License-Identifier: MIT */
/*
 * sni.c - the SNI allowlist filter (see sni.h for the policy).
 *
 * How: the filter is the forwarder's struct fwd_filter. At a guest SYN the
 * outbound policy allows, its syn verdict refuses (RST) ports nobody
 * allowed; at a UDP datagram, its udp verdict answers ICMP for QUIC and for
 * destinations nobody allowed; everything else goes on in the forwarder
 * unchanged. For SNI ports and port 80: each time guest bytes arrive, the
 * forwarder hands all of them so far (gathered, not consumed, up to
 * gather_max whatever the number of segments) and they are parsed
 * from the start by tls.c / the HTTP Host parser, which keep no state; a
 * whole ClientHello or request head goes to sni_decide() with the addresses
 * from dns_lookup_addrs(). When the cache knows nothing, the flow waits
 * (FWD_FILTER_WAIT) for dns_resolve() in a fixed table of pending flows and
 * is decided with fwd_filter_decide() from the resolve callback. A flow
 * that ends before a verdict (the forwarder's --sni-timeout, a guest reset)
 * comes back through fwd_filter.ended: it is counted and reported as a
 * block, and its pending resolve, if any, is cancelled.
 *
 * Every block goes to blocked(): counter, rate-limited log line, and the
 * event callback with a struct sni_event.
 *
 * State: one struct sni_filter, allocated in sni_filter_new() with two
 * allowlists (active + spare for reload), the handshake
 * scratch buffer and the copy of the settings' strings (replaced by each
 * reload); nothing else is allocated afterwards. The settings themselves
 * are parsed in sni_config.c.
 */
#include "forwarder/sni.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/netutil.h"
#include "common/ratelimit.h"
#include "forwarder/http.h"
#include "forwarder/tls.h"

#define SNI_GATHER_SLACK 1024 /* record headers on top of the ClientHello bound */

/**
 * struct sni_pending - a flow waiting for the filter's own resolve
 * @f:		owner
 * @used:	slot in use
 * @in_call:	dns_resolve() has not returned yet (a callback now is synchronous)
 * @done:	the synchronous callback stored @v and @why
 * @id:		the forwarder's flow id
 * @handle:	dns_resolve() handle
 * @src:	guest endpoint
 * @dst:	destination
 * @ech:	the ClientHello offered ECH
 * @v:		stored verdict
 * @why:	stored reason
 * @name:	the SNI / Host being resolved
 */
struct sni_pending {
	struct sni_filter *f;
	bool used;
	bool in_call;
	bool done;
	uint64_t id;
	uint64_t handle;
	struct ns_addr src, dst;
	bool ech;
	enum sni_verdict v;
	enum sni_reason why;
	char name[TLS_SNI_MAX + 1];
};

struct sni_filter {
	struct vg_loop *loop;
	struct fwd *fwd;
	struct dns *dns;
	struct sni_config cfg;
	sni_log_fn log;
	void *log_ctx;
	sni_event_fn event;
	void *event_ctx;
	struct allowlist *active, *spare;
	struct sni_stats st;
	struct vg_ratelimit log_rl; /* SNI_LOG_PER_S lines a second */
	char *strings;		    /* cfg's pattern and file-name strings, owned */
	size_t gather_max;	    /* what the forwarder gathers at most */
	uint8_t *scratch;	    /* ClientHello reassembly */
	size_t scratch_cap;
	struct sni_pending pend[SNI_MAX_PENDING];
};

/* ---- helpers ---- */

static bool is_sni_port(const struct sni_filter *f, uint16_t port)
{
	size_t i;

	for (i = 0; i < f->cfg.n_ports; i++)
		if (f->cfg.ports[i] == port)
			return true;
	return false;
}

static bool is_http(const struct sni_filter *f, uint16_t port)
{
	return port == SNI_HTTP_PORT && !is_sni_port(f, port);
}

/* whether rule @d covers the address of @a (same family only) */
static bool dest_covers(const struct sni_dest *d, const struct ns_addr *a)
{
	if (ns_addr_is_v6(a))
		return d->v6 && vg_ip6_in_prefix(a->ip6, d->net6, d->prefix6);
	return !d->v6 && (a->ip & d->mask) == d->net;
}

/* --allow-dest: matched against the address the guest dialled and the one
 * vgate dials (they differ for the host aliases: 127.0.0.1, ::1) */
static bool dest_allowed(const struct sni_filter *f, const struct ns_addr *dst, uint8_t proto)
{
	struct ns_addr b = fwd_dialled(f->fwd, dst);
	size_t i;

	for (i = 0; i < f->cfg.n_dest; i++) {
		const struct sni_dest *d = &f->cfg.dest[i];

		if ((d->proto && d->proto != proto) || (d->port && d->port != dst->port))
			continue;
		if (dest_covers(d, dst) || dest_covers(d, &b))
			return true;
	}
	return false;
}

static void logf_(struct sni_filter *f, bool warn, const char *line)
{
	uint64_t dropped;
	char buf[128];

	if (!f->log)
		return;
	if (!vg_ratelimit_allow(&f->log_rl, SNI_LOG_PER_S, vg_loop_now(f->loop), &dropped)) {
		f->st.log_suppressed++;
		return;
	}
	if (dropped) {
		snprintf(buf, sizeof(buf), "sni: %llu log lines suppressed",
			 (unsigned long long)dropped);
		f->log(f->log_ctx, true, buf);
	}
	f->log(f->log_ctx, warn, line);
}

/**
 * blocked() - account for one blocked flow or datagram: count it by reason,
 * tell the event callback, and log one (rate-limited) line
 * @f:		filter
 * @proto:	FWD_TCP or FWD_UDP
 * @src:	guest endpoint
 * @dst:	destination
 * @name:	SNI or Host, NULL or "" when none
 * @why:	reason
 */
static void blocked(struct sni_filter *f, enum fwd_proto proto, const struct ns_addr *src,
		    const struct ns_addr *dst, const char *name, enum sni_reason why)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], line[512];
	bool has_name = name && name[0];

	f->st.blocked[why]++;
	if (f->event) {
		struct sni_event ev = {
		    .proto = proto,
		    .src = *src,
		    .dst = *dst,
		    .name = has_name ? name : NULL,
		    .reason = why,
		};

		f->event(f->event_ctx, &ev);
	}
	if (!f->log)
		return;
	if (ns_addr_is_v6(src)) {
		inet_ntop(AF_INET6, src->ip6, s, sizeof(s));
		inet_ntop(AF_INET6, dst->ip6, d, sizeof(d));
	} else {
		inet_ntop(AF_INET, &src->ip, s, sizeof(s));
		inet_ntop(AF_INET, &dst->ip, d, sizeof(d));
	}
	snprintf(line, sizeof(line), "sni: blocked %s %s:%u -> %s:%u name=%s reason=%s",
		 fwd_proto_name(proto), s, src->port, d, dst->port,
		 has_name ? name : "-", sni_reason_name(why));
	logf_(f, true, line);
}

/* ---- decisions ---- */

/**
 * decide_with() - sni_decide() for a flow to @dst with the addresses @addrs
 * (A and AAAA) the cache or a resolve gave for @name
 * @f:		filter
 * @name:	SNI or Host ("" for none)
 * @ech:	the ClientHello offered ECH
 * @dst:	destination the guest dialled, either family
 * @addrs:	addresses handed out for @name
 * @n:		their number
 * @resolved:	@addrs is the answer of a resolve made for this flow
 * @why:	reason
 *
 * With NAT64 (the forwarder's cfg.nat64: fwd_dialled() maps a 64:ff9b::/96
 * destination to IPv4) an A record a.b.c.d also vouches
 * for 64:ff9b::a.b.c.d, the address DNS64 synthesizes from it (the cache
 * also hands out the synthesized AAAA itself, which matches as any AAAA).
 *
 * Return: enum sni_verdict
 */
static enum sni_verdict decide_with(struct sni_filter *f, const char *name, bool ech,
				    const struct ns_addr *dst, const struct dns_addr *addrs, int n,
				    bool resolved, enum sni_reason *why)
{
	bool nat64 = false;
	struct sni_seen_addr seen[2 * DNS_RESOLVE_MAX_ADDRS];
	struct sni_facts facts = {
	    .name = name,
	    .ech = ech,
	    .seen = seen,
	    .now_ms = vg_loop_now(f->loop),
	    .grace_ms = f->cfg.grace_ms,
	    .resolved = resolved,
	};
	int i;

	if (ns_addr_is_v6(dst)) {
		facts.dst.family = AF_INET6;
		memcpy(facts.dst.a, dst->ip6, 16);
	} else {
		facts.dst.family = AF_INET;
		memcpy(facts.dst.a, &dst->ip, 4);
	}
	if (n > DNS_RESOLVE_MAX_ADDRS)
		n = DNS_RESOLVE_MAX_ADDRS;
	/* the cache already applied the grace period: what it returns is live */
	for (i = 0; i < n; i++) {
		seen[i].addr = addrs[i];
		seen[i].expires_ms = facts.now_ms;
	}
	facts.n_seen = n < 0 ? 0 : n;
	/* NAT64 is on for this flow when its IPv6 destination is dialled as IPv4 */
	if (f->fwd && ns_addr_is_v6(dst) && vg_nat64_is(dst->ip6)) {
		struct ns_addr b = fwd_dialled(f->fwd, dst);

		nat64 = !ns_addr_is_v6(&b);
	}
	for (i = 0; nat64 && i < n; i++) {
		struct sni_seen_addr *s = &seen[facts.n_seen];
		uint32_t ip;

		if (addrs[i].family != AF_INET)
			continue;
		memcpy(&ip, addrs[i].a, 4);
		memset(s, 0, sizeof(*s));
		s->addr.family = AF_INET6;
		vg_nat64_embed(ip, s->addr.a);
		s->expires_ms = facts.now_ms;
		facts.n_seen++;
	}
	return sni_decide(f->active, &facts, why);
}

static void pend_free(struct sni_pending *p)
{
	p->used = false;
	p->handle = 0;
}

static void on_resolved(void *arg, int status, const struct dns_addr *addrs, int n)
{
	struct sni_pending *p = arg;
	struct sni_filter *f = p->f;
	enum sni_verdict v;
	enum sni_reason why;

	if (status != 0) {
		v = SNI_BLOCK;
		why = SNI_R_RESOLVE_FAILED;
	} else {
		v = decide_with(f, p->name, p->ech, &p->dst, addrs, n, true, &why);
	}
	if (p->in_call) {
		p->v = v;
		p->why = why;
		p->done = true;
		return;
	}
	p->handle = 0;
	if (fwd_filter_decide(f->fwd, p->id, v == SNI_ALLOW ? FWD_FILTER_ALLOW : FWD_FILTER_DENY) <
	    0) {
		/*
		 * The flow is gone. sni_ended() normally cancels the resolve
		 * of a flow that ends; this only happens when the filter was
		 * not installed at that moment.
		 */
		blocked(f, FWD_TCP, &p->src, &p->dst, p->name, SNI_R_TIMEOUT);
	} else if (v == SNI_ALLOW) {
		f->st.allowed++;
	} else {
		blocked(f, FWD_TCP, &p->src, &p->dst, p->name, why);
	}
	pend_free(p);
}

static struct sni_pending *pend_alloc(struct sni_filter *f)
{
	size_t i;

	for (i = 0; i < SNI_MAX_PENDING; i++)
		if (!f->pend[i].used) {
			memset(&f->pend[i], 0, sizeof(f->pend[i]));
			f->pend[i].used = true;
			f->pend[i].f = f;
			return &f->pend[i];
		}
	return NULL;
}

static enum fwd_filter_verdict verdict_of(struct sni_filter *f, enum sni_verdict v,
					  enum sni_reason why, const struct ns_addr *src,
					  const struct ns_addr *dst, const char *name)
{
	if (v == SNI_ALLOW) {
		f->st.allowed++;
		return FWD_FILTER_ALLOW;
	}
	blocked(f, FWD_TCP, src, dst, name, why);
	return FWD_FILTER_DENY;
}

static enum fwd_filter_verdict decide(struct sni_filter *f, uint64_t id, const struct ns_addr *src,
				      const struct ns_addr *dst, const char *name, bool ech)
{
	struct dns_addr addrs[DNS_RESOLVE_MAX_ADDRS];
	struct sni_pending *p;
	enum sni_reason why;
	enum sni_verdict v;
	uint64_t h;
	int n = 0;

	f->st.inspected++;
	if (name[0]) {
		n = dns_lookup_addrs(f->dns, name, f->cfg.grace_ms, addrs, DNS_RESOLVE_MAX_ADDRS);
		if (n < 0)
			n = 0;
	}
	v = decide_with(f, name, ech, dst, addrs, n, false, &why);
	if (v != SNI_NEED_RESOLVE)
		return verdict_of(f, v, why, src, dst, name);

	p = pend_alloc(f);
	if (!p)
		return verdict_of(f, SNI_BLOCK, SNI_R_RESOLVE_FAILED, src, dst, name);
	f->st.resolves++;
	p->id = id;
	p->src = *src;
	p->dst = *dst;
	p->ech = ech;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->in_call = true;
	h = dns_resolve(f->dns, name, on_resolved, p);
	p->in_call = false;
	if (p->done || h == 0) {
		if (!p->done) { /* no answer and no handle: treat as a failure */
			p->v = SNI_BLOCK;
			p->why = SNI_R_RESOLVE_FAILED;
		}
		v = p->v;
		why = p->why;
		pend_free(p);
		return verdict_of(f, v, why, src, dst, name);
	}
	p->handle = h;
	return FWD_FILTER_WAIT;
}

static enum sni_reason reason_of_tls(int rc)
{
	switch (rc) {
	case TLS_ERR_NOT_TLS:
	case TLS_ERR_NOT_HELLO:
		return SNI_R_NOT_TLS;
	case TLS_ERR_TOO_BIG:
		return SNI_R_TOO_BIG;
	case TLS_ERR_SNI_IP:
		return SNI_R_IP_LITERAL;
	default:
		return SNI_R_MALFORMED;
	}
}

static enum sni_reason reason_of_http(int rc)
{
	switch (rc) {
	case HTTP_ERR_TOO_BIG:
		return SNI_R_TOO_BIG;
	case HTTP_ERR_NO_HOST:
		return SNI_R_NO_HOST;
	case HTTP_ERR_HOST_IP:
		return SNI_R_IP_LITERAL;
	default:
		return SNI_R_MALFORMED;
	}
}

/* fwd_filter.wants: inspect SNI ports and port 80 unless --allow-dest names them */
static bool sni_wants(void *ctx, const struct ns_addr *src, const struct ns_addr *dst)
{
	struct sni_filter *f = ctx;

	(void)src;
	if (dest_allowed(f, dst, 6))
		return false;
	return is_sni_port(f, dst->port) || dst->port == SNI_HTTP_PORT;
}

/* fwd_filter.inspect: everything the guest sent so far, from the start */
static enum fwd_filter_verdict sni_inspect(void *ctx, uint64_t id, const struct ns_addr *src,
					   const struct ns_addr *dst, const uint8_t *data, size_t n,
					   bool eof)
{
	struct sni_filter *f = ctx;
	struct tls_client_hello ch;
	char host[TLS_SNI_MAX + 1];
	int rc;

	if (is_http(f, dst->port)) {
		rc = http_host_parse(data, n, HTTP_HEAD_MAX_DEFAULT, host, sizeof(host));
		if (rc == HTTP_DONE)
			return decide(f, id, src, dst, host, false);
		if (rc != HTTP_NEED_MORE)
			return verdict_of(f, SNI_BLOCK, reason_of_http(rc), src, dst, NULL);
	} else {
		rc = tls_parse_client_hello(data, n, f->scratch, f->scratch_cap, &ch);
		if (rc == TLS_DONE)
			return decide(f, id, src, dst, ch.sni, ch.ech);
		if (rc != TLS_NEED_MORE)
			return verdict_of(f, SNI_BLOCK, reason_of_tls(rc), src, dst, NULL);
	}
	if (eof)
		return verdict_of(f, SNI_BLOCK, SNI_R_EOF, src, dst, NULL);
	if (n >= f->gather_max)
		return verdict_of(f, SNI_BLOCK, SNI_R_TOO_BIG, src, dst, NULL);
	return FWD_FILTER_MORE;
}

/**
 * sni_ended() - fwd_filter.ended: a flow ended before the filter's
 * verdict; count and report it as a block (timeout, or eof when the guest
 * reset it) and drop its pending resolve
 * @ctx:	filter
 * @id:		the forwarder's flow id
 * @src:	guest endpoint
 * @dst:	destination
 * @why:	FWD_FILTER_END_TIMEOUT or FWD_FILTER_END_CLOSED
 */
static void sni_ended(void *ctx, uint64_t id, const struct ns_addr *src, const struct ns_addr *dst,
		      enum fwd_filter_end why)
{
	struct sni_filter *f = ctx;
	enum sni_reason r = why == FWD_FILTER_END_TIMEOUT ? SNI_R_TIMEOUT : SNI_R_EOF;
	char name[TLS_SNI_MAX + 1] = "";
	size_t i;

	for (i = 0; i < SNI_MAX_PENDING; i++) {
		struct sni_pending *p = &f->pend[i];

		if (!p->used || p->id != id || p->in_call)
			continue;
		if (p->handle)
			dns_resolve_cancel(f->dns, p->handle);
		memcpy(name, p->name, sizeof(name));
		pend_free(p);
		break;
	}
	blocked(f, FWD_TCP, src, dst, name, r);
}

/* ---- verdicts on new flows (the outbound policy allowed them) ---- */

/* fwd_filter.syn: SNI ports and port 80 are inspected, others need --allow-dest */
static bool sni_syn(void *ctx, const struct ns_addr *src, const struct ns_addr *dst)
{
	struct sni_filter *f = ctx;

	if (dest_allowed(f, dst, 6) || is_sni_port(f, dst->port) || dst->port == SNI_HTTP_PORT)
		return true;
	blocked(f, FWD_TCP, src, dst, NULL, SNI_R_PORT_DENIED);
	return false;
}

/* fwd_filter.udp: only --allow-dest; QUIC gets "unreachable" so it falls back to TCP */
static enum fwd_udp_verdict sni_udp(void *ctx, const struct ns_addr *src, const struct ns_addr *dst)
{
	struct sni_filter *f = ctx;
	bool quic;

	if (dest_allowed(f, dst, 17))
		return FWD_UDP_ALLOW;
	quic = is_sni_port(f, dst->port);
	blocked(f, FWD_UDP, src, dst, NULL, quic ? SNI_R_QUIC : SNI_R_PORT_DENIED);
	return quic ? FWD_UDP_UNREACHABLE : FWD_UDP_PROHIBITED;
}

/* fwd_filter.echo: only --allow-dest rules without a port (all protocols or /icmp) */
static bool sni_echo(void *ctx, const struct ns_addr *src, const struct ns_addr *dst)
{
	struct sni_filter *f = ctx;

	if (dest_allowed(f, dst, 1))
		return true;
	blocked(f, FWD_ICMP, src, dst, NULL, SNI_R_PORT_DENIED);
	return false;
}

static bool sni_dns_allowed(void *ctx, const char *name)
{
	struct sni_filter *f = ctx;

	return allow_match(f->active, name);
}

/* ---- life cycle ---- */

static int load(struct allowlist *al, const struct sni_config *c, char *err, size_t errlen)
{
	char e[512];
	size_t i;

	allow_init(al);
	for (i = 0; i < c->n_allow; i++)
		if (allow_add(al, c->allow[i], e, sizeof(e)) < 0) {
			snprintf(err, errlen, "--allow-sni: %s", e);
			return -1;
		}
	if (c->allowlist_file && allow_load_file(al, c->allowlist_file, err, errlen) < 0)
		return -1;
	return (int)al->n;
}

static void install(struct sni_filter *f)
{
	struct fwd_filter flt = {
	    .ctx = f,
	    .max_bytes = f->gather_max,
	    .timeout_ms = f->cfg.timeout_ms,
	    .syn = sni_syn,
	    .udp = sni_udp,
	    .echo = sni_echo,
	    .wants = sni_wants,
	    .inspect = sni_inspect,
	    .ended = sni_ended,
	};

	fwd_set_filter(f->fwd, &flt);
	if (f->cfg.dns_filter)
		dns_set_filter(f->dns, sni_dns_allowed, f);
	else
		dns_set_filter(f->dns, NULL, NULL);
}

/**
 * own_config() - copy @src to @dst with its pattern and file-name strings
 * copied into one new block, which the caller then owns
 * @dst:	the filter's settings (may be @src)
 * @src:	settings whose strings the caller may free after the call
 *
 * Return: the block (free() it once @dst is replaced), or NULL when out of
 * memory (@dst untouched)
 */
static char *own_config(struct sni_config *dst, const struct sni_config *src)
{
	size_t need = 1, off = 0, i, n;
	char *pool;

	for (i = 0; i < src->n_allow; i++)
		need += strlen(src->allow[i]) + 1;
	if (src->allowlist_file)
		need += strlen(src->allowlist_file) + 1;
	pool = malloc(need);
	if (!pool)
		return NULL;
	if (dst != src)
		*dst = *src;
	for (i = 0; i < dst->n_allow; i++) {
		n = strlen(dst->allow[i]) + 1;
		memcpy(pool + off, dst->allow[i], n);
		dst->allow[i] = pool + off;
		off += n;
	}
	if (dst->allowlist_file) {
		n = strlen(dst->allowlist_file) + 1;
		memcpy(pool + off, dst->allowlist_file, n);
		dst->allowlist_file = pool + off;
	}
	return pool;
}

struct sni_filter *sni_filter_new(struct vg_loop *loop, struct fwd *fwd, struct dns *dns,
				  const struct sni_config *cfg, sni_log_fn log, void *log_ctx,
				  char *err, size_t errlen)
{
	struct sni_filter *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(err, errlen, "SNI filter: out of memory");
		return NULL;
	}
	f->loop = loop;
	f->fwd = fwd;
	f->dns = dns;
	f->strings = own_config(&f->cfg, cfg); /* checked below with the buffers */
	f->log = log;
	f->log_ctx = log_ctx;
	f->scratch_cap = cfg->max_bytes ? cfg->max_bytes : SNI_MAX_BYTES_DEF;
	f->gather_max = f->scratch_cap + SNI_GATHER_SLACK;
	f->active = malloc(sizeof(*f->active));
	f->spare = malloc(sizeof(*f->spare));
	f->scratch = malloc(f->scratch_cap);
	if (!f->active || !f->spare || !f->scratch || !f->strings) {
		snprintf(err, errlen, "SNI filter: out of memory");
		sni_filter_free(f);
		return NULL;
	}
	if (load(f->active, cfg, err, errlen) < 0) {
		sni_filter_free(f);
		return NULL;
	}
	f->st.patterns = f->active->n;
	install(f);
	return f;
}

void sni_filter_set_event_fn(struct sni_filter *f, sni_event_fn fn, void *ctx)
{
	f->event = fn;
	f->event_ctx = fn ? ctx : NULL;
}

int sni_filter_reload(struct sni_filter *f, const struct sni_config *cfg, char *err, size_t errlen)
{
	struct allowlist *t;
	char line[160], *old = f->strings;
	int n = load(f->spare, cfg, err, errlen);

	if (n < 0)
		return -1;
	/* @cfg may point into the old strings (sni_filter_config()): free last */
	f->strings = own_config(&f->cfg, cfg);
	if (!f->strings) {
		f->strings = old;
		snprintf(err, errlen, "SNI filter: out of memory");
		return -1;
	}
	free(old);
	t = f->active;
	f->active = f->spare;
	f->spare = t;
	f->cfg.max_bytes = f->scratch_cap; /* buffers are sized once */
	f->st.patterns = f->active->n;
	f->st.reloads++;
	install(f);
	snprintf(line, sizeof(line), "sni: allowlist reloaded, %d patterns", n);
	logf_(f, false, line);
	return n;
}

const struct sni_config *sni_filter_config(const struct sni_filter *f)
{
	return &f->cfg;
}

const struct allowlist *sni_filter_allowlist(const struct sni_filter *f)
{
	return f->active;
}

void sni_filter_get_stats(const struct sni_filter *f, struct sni_stats *st)
{
	*st = f->st;
}

void sni_stats_format(const struct sni_stats *st, char *buf, size_t len)
{
	size_t off;
	int r;

	off = (size_t)snprintf(buf, len,
			       "sni: patterns=%llu inspected=%llu allowed=%llu resolves=%llu",
			       (unsigned long long)st->patterns, (unsigned long long)st->inspected,
			       (unsigned long long)st->allowed, (unsigned long long)st->resolves);
	for (r = 1; r < SNI_R_COUNT && off < len; r++)
		if (st->blocked[r])
			off += (size_t)snprintf(buf + off, len - off, " %s=%llu",
						sni_reason_name((enum sni_reason)r),
						(unsigned long long)st->blocked[r]);
}

void sni_filter_free(struct sni_filter *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < SNI_MAX_PENDING; i++)
		if (f->pend[i].used && f->pend[i].handle)
			dns_resolve_cancel(f->dns, f->pend[i].handle);
	if (f->dns && f->active)
		dns_set_filter(f->dns, NULL, NULL);
	if (f->fwd && f->active)
		fwd_set_filter(f->fwd, NULL);
	free(f->active);
	free(f->spare);
	free(f->scratch);
	free(f->strings);
	free(f);
}
