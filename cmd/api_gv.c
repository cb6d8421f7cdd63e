/* SPDX-License-Identifier: MIT */
/*
 * api_gv.c - gvproxy's HTTP API on vgate's control API, with gvproxy's
 * shapes and status codes (read from gvisor-tap-vsock's source, not
 * copied), so its clients (podman machine, crc, gvproxy's own client
 * package, scripts using curl) work unchanged. vgate's own endpoints
 * (/forwards, /dns/records, /leases, ...) are untouched; these are aliases
 * onto the same state:
 *
 *	/services/forwarder/all		[{"local","remote","protocol"}, ...]
 *					sorted by local, then protocol
 *	/services/forwarder/expose	POST {"local","remote","protocol"}
 *	/services/forwarder/unexpose	POST {"local","protocol"}
 *	/services/dns/all		[{"Name","Records":[{"Name","IP",
 *					"Regexp"}],"DefaultIP"}, ...]
 *	/services/dns/add		POST a zone (400 when it is refused)
 *	/services/dhcp/leases		{"IP": "MAC", ...}
 *	/cam				{"MAC": 0, ...} (the one link is 0)
 *
 * gvproxy's conventions, kept here: success is 200 with an empty body;
 * any method but POST on expose/unexpose is 400 "post only"; a body that
 * is not JSON is 400 with the decoder's message; an expose that fails (a
 * duplicate, a bind error, an unknown protocol) and an unexpose of nothing
 * are 500; error bodies are one line of text/plain. Unknown JSON members
 * are ignored, as Go's decoder does. A "local" of ":PORT" listens on every
 * host address (0.0.0.0) and is listed back as ":PORT"; a "remote" without
 * an address is the guest (its current DHCP lease at each connection).
 * Protocol "unix" listens on the unix socket path "local" (mode 0600, an
 * existing file is a 500; removed by unexpose) and connects each client to
 * the guest's TCP "remote", as a tcp forward does; the guest cannot add
 * one (403). "npipe" (Windows) is a 500.
 *
 * The guest (its API socket, --guest-api) may POST expose and unexpose
 * only with --guest-forwards, under cmd/guestfwd.h's rules: 403 with the
 * reason when they refuse, and an unexpose only of a forward the guest
 * added (kept in struct api's gfwd table, at most VG_GUEST_FWD_MAX).
 *
 * The forwards themselves are the daemon's (struct api_ops), shared with
 * /forwards. Return convention: api_int.h.
 */
#include "api_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"

#define GV_MAX_LEASES 256

/**
 * api_gv_send() - queue a gvproxy-style text response: @msg and a newline
 * (as Go's http.Error writes it), or an empty body when @msg is NULL
 * @c:		connection
 * @status:	HTTP status
 * @msg:	message, or NULL
 *
 * Return: MHD_YES, or MHD_NO
 */
static enum MHD_Result api_gv_send(struct MHD_Connection *c, unsigned int status, const char *msg)
{
	char *s;

	if (asprintf(&s, "%s%s", msg ? msg : "", msg ? "\n" : "") < 0)
		return MHD_NO;
	return api_send_text(c, status, s, strlen(s), "text/plain; charset=utf-8");
}

/* a JSON body the way Go's json.Encoder writes it: compact, a newline */
static enum MHD_Result api_gv_json(struct MHD_Connection *c, json_t *j)
{
	char *s;
	size_t n;

	if (!j)
		return MHD_NO;
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	json_decref(j);
	if (!s)
		return MHD_NO;
	n = strlen(s);
	{
		char *t = realloc(s, n + 2);

		if (!t) {
			free(s);
			return MHD_NO;
		}
		s = t;
	}
	s[n] = '\n';
	s[n + 1] = '\0';
	return api_send_text(c, MHD_HTTP_OK, s, n + 1, "application/json");
}

/* "ADDR:PORT", ":PORT" for 0.0.0.0 (gvproxy's "all host addresses") */
static void gv_fmt_local(const struct ns_addr *a, char *buf, size_t len)
{
	if (a->ip == htonl(INADDR_ANY))
		snprintf(buf, len, ":%u", a->port);
	else
		api_fmt_hostport(a, buf, len);
}

/* the guest's address for listing a forward without one (0: no lease) */
static uint32_t gv_guest_ip(struct api *a)
{
	uint32_t ip = 0;

	if (ns_lease_latest(a->cfg.ns, &ip) < 0)
		return 0;
	return ip;
}

static int cmp_forward(const void *pa, const void *pb)
{
	const struct fwd_forward *x = pa, *y = pb;
	char lx[32], ly[32];
	int r;

	gv_fmt_local(&x->host, lx, sizeof(lx));
	gv_fmt_local(&y->host, ly, sizeof(ly));
	r = strcmp(lx, ly);
	if (r)
		return r;
	return (int)x->proto - (int)y->proto; /* "tcp" < "udp" */
}

enum MHD_Result api_gv_forward_all(struct api *a, struct MHD_Connection *c,
				   const struct api_req *rq)
{
	struct fwd_forward *fl = calloc(FWD_FORWARD_MAX, sizeof(*fl));
	uint32_t guest = gv_guest_ip(a);
	json_t *arr = json_array();
	size_t i, n;

	(void)rq;
	if (!fl || !arr) {
		free(fl);
		json_decref(arr);
		return MHD_NO;
	}
	n = a->cfg.ops.forward_list(a->cfg.ops.ctx, fl, FWD_FORWARD_MAX);
	qsort(fl, n, sizeof(*fl), cmp_forward);
	for (i = 0; i < n; i++) {
		struct ns_addr r =
		    ns_addr_v4(fl[i].guest_ip ? fl[i].guest_ip : guest, fl[i].guest_port);
		char local[FWD_PATH_MAX + 32], remote[32];

		if (fl[i].path[0])
			snprintf(local, sizeof(local), "%s", fl[i].path);
		else
			gv_fmt_local(&fl[i].host, local, sizeof(local));
		if (r.ip)
			api_fmt_hostport(&r, remote, sizeof(remote));
		else
			snprintf(remote, sizeof(remote), ":%u", r.port);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "local", local, "remote",
						     remote, "protocol", fwd_forward_kind(&fl[i])));
	}
	free(fl);
	return api_gv_json(c, arr);
}

/**
 * gv_parse_addr() - "[IPv4]:PORT" (gvproxy's host:port form; "localhost"
 * is 127.0.0.1, no address is @def)
 * @s:		text
 * @def:	address when none is given (network order)
 * @out:	result
 *
 * Return: 0, or -1
 */
static int gv_parse_addr(const char *s, uint32_t def, struct ns_addr *out)
{
	const char *colon = strrchr(s, ':');
	char ip[INET_ADDRSTRLEN];
	struct in_addr in;
	size_t hl;

	*out = ns_addr_v4(def, 0);
	if (!colon || vg_port_parse_str(colon + 1, &out->port) < 0)
		return -1;
	hl = (size_t)(colon - s);
	if (!hl)
		return 0;
	if (hl >= sizeof(ip))
		return -1;
	memcpy(ip, s, hl);
	ip[hl] = '\0';
	if (!strcmp(ip, "localhost")) {
		out->ip = htonl(INADDR_LOOPBACK);
		return 0;
	}
	if (inet_pton(AF_INET, ip, &in) != 1)
		return -1;
	out->ip = in.s_addr;
	return 0;
}

/**
 * gv_body() - the request body as a JSON object (members not read are
 * ignored, as gvproxy's Go decoder does)
 * @c:		connection (for the 400)
 * @rq:		request
 * @ret:	the queued response when this fails
 *
 * Return: a new reference, or NULL when a 400 was queued
 */
static json_t *gv_body(struct MHD_Connection *c, const struct api_req *rq, enum MHD_Result *ret)
{
	json_error_t e;
	json_t *j;

	if (!rq->len) {
		*ret = api_gv_send(c, MHD_HTTP_BAD_REQUEST, "EOF");
		return NULL;
	}
	j = json_loadb(rq->body, rq->len, JSON_DISABLE_EOF_CHECK, &e);
	if (!j || !json_is_object(j)) {
		char msg[256];

		if (j)
			snprintf(msg, sizeof(msg), "json: cannot unmarshal %s into an object",
				 json_is_array(j) ? "array" : "value");
		else
			snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d: %s", e.line,
				 e.column, e.text);
		json_decref(j);
		*ret = api_gv_send(c, MHD_HTTP_BAD_REQUEST, msg);
		return NULL;
	}
	return j;
}

/* a member that must be a string when present; 400 queued otherwise */
static int gv_str(struct MHD_Connection *c, json_t *o, const char *key, const char **out,
		  enum MHD_Result *ret)
{
	json_t *v = json_object_get(o, key);
	char msg[128];

	*out = "";
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		*out = json_string_value(v);
		return 0;
	}
	snprintf(msg, sizeof(msg), "json: cannot unmarshal a non-string into field %s", key);
	*ret = api_gv_send(c, MHD_HTTP_BAD_REQUEST, msg);
	return -1;
}

/* the index of (@proto, @host) in the guest's table, or -1 */
static int gv_gfwd_find(const struct api *a, enum fwd_proto proto, const struct ns_addr *host)
{
	size_t i;

	for (i = 0; i < a->n_gfwd; i++)
		if (a->gfwd[i].proto == proto && ns_addr_eq(&a->gfwd[i].host, host))
			return (int)i;
	return -1;
}

/* forget entry @i of the guest's table */
static void gv_gfwd_drop(struct api *a, size_t i)
{
	a->gfwd[i] = a->gfwd[--a->n_gfwd];
}

/**
 * gv_gfwd_prune() - drop the guest's entries whose forward is gone (the
 * host removed it through its own API), and tell whether a forward on
 * (@proto, @host) exists
 * @a:		API
 * @proto:	protocol of the forward asked about
 * @host:	its host side
 *
 * Return: true when that forward exists (false too when out of memory)
 */
static bool gv_gfwd_prune(struct api *a, enum fwd_proto proto, const struct ns_addr *host)
{
	struct fwd_forward *l = calloc(FWD_FORWARD_MAX, sizeof(*l));
	bool exists = false;
	size_t n, i, j;

	if (!l)
		return false;
	n = a->cfg.ops.forward_list(a->cfg.ops.ctx, l, FWD_FORWARD_MAX);
	for (j = 0; j < n; j++)
		exists |= l[j].proto == proto && ns_addr_eq(&l[j].host, host);
	for (i = a->n_gfwd; i-- > 0;) {
		bool live = false;

		for (j = 0; j < n && !live; j++)
			live = l[j].proto == a->gfwd[i].proto &&
			       ns_addr_eq(&l[j].host, &a->gfwd[i].host);
		if (!live)
			gv_gfwd_drop(a, i);
	}
	free(l);
	return exists;
}

/**
 * gv_guest_allowed() - apply --guest-forwards' rules to a guest's expose
 * (@remote set) or unexpose (@remote NULL)
 * @a:		API
 * @c:		connection (for the 403)
 * @f:		the forward: protocol and host side
 * @remote:	the guest side asked for, or NULL
 * @ret:	the queued response when refused
 *
 * Return: 0 allowed, -1 when a 403 was queued
 */
static int gv_guest_allowed(struct api *a, struct MHD_Connection *c, const struct fwd_forward *f,
			    const struct ns_addr *remote, enum MHD_Result *ret)
{
	struct ns_lease *ls = calloc(GV_MAX_LEASES, sizeof(*ls));
	uint32_t ips[GV_MAX_LEASES];
	struct vg_guest_fwd_req q = {
	    .removes = !remote,
	    .local_ip = f->host.ip,
	    .local_port = f->host.port,
	    .remote_ip = remote ? remote->ip : 0,
	    .guest_ips = ips,
	    .sni_on = a->cfg.ops.sni && a->cfg.ops.sni(a->cfg.ops.ctx),
	};
	char why[200];
	size_t i, n;

	if (!ls) {
		*ret = MHD_NO;
		return -1;
	}
	n = ns_leases(a->cfg.ns, ls, GV_MAX_LEASES);
	for (i = 0; i < n; i++)
		if (ls[i].family == NS_AF_INET && ls[i].expires_ms)
			ips[q.n_guest_ips++] = ls[i].ip;
	free(ls);
	if (vg_guest_fwd_check(&a->cfg.guest_fwd, &q, why, sizeof(why)) == 0) {
		if (remote && a->n_gfwd >= VG_GUEST_FWD_MAX)
			(void)gv_gfwd_prune(a, f->proto, &f->host);
		/* unexpose of a forward that is not there: gvproxy's 500 */
		if (!remote && gv_gfwd_find(a, f->proto, &f->host) < 0 &&
		    gv_gfwd_prune(a, f->proto, &f->host))
			snprintf(why, sizeof(why), "not a forward the guest exposed");
		else if (remote && a->n_gfwd >= VG_GUEST_FWD_MAX)
			snprintf(why, sizeof(why), "the guest holds %d forwards already",
				 VG_GUEST_FWD_MAX);
		else
			return 0;
	}
	api_log(a, VG_LOG_INFO, "guest forward refused: %s", why);
	*ret = api_gv_send(c, MHD_HTTP_FORBIDDEN, why);
	return -1;
}

/**
 * api_gv_expose() - POST /services/forwarder/expose (or, @rq->removes,
 * unexpose): gvproxy's status codes, onto the daemon's port forwards
 * @a:		API
 * @c:		connection
 * @rq:		request
 *
 * Return: MHD_YES when a response was queued, MHD_NO to close
 */
enum MHD_Result api_gv_expose(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	const char *proto, *local, *remote;
	enum MHD_Result ret = MHD_NO;
	struct fwd_forward f;
	struct ns_addr g;
	char err[300];
	json_t *o;

	if (rq->method != API_POST)
		return api_gv_send(c, MHD_HTTP_BAD_REQUEST, "post only");
	o = gv_body(c, rq, &ret);
	if (!o)
		return ret;
	if (gv_str(c, o, "protocol", &proto, &ret) < 0 || gv_str(c, o, "local", &local, &ret) < 0 ||
	    gv_str(c, o, "remote", &remote, &ret) < 0)
		goto out;
	memset(&f, 0, sizeof(f));
	if (!*proto || !strcmp(proto, "tcp")) {
		f.proto = FWD_TCP;
		proto = "tcp";
	} else if (!strcmp(proto, "udp")) {
		f.proto = FWD_UDP;
	} else if (!strcmp(proto, "unix")) {
		f.proto = FWD_TCP;
		if (rq->guest) {
			snprintf(err, sizeof(err), "unix forwards are the host's: not the guest's");
			ret = api_gv_send(c, MHD_HTTP_FORBIDDEN, err);
			goto out;
		}
		if (!*local || strlen(local) >= sizeof(f.path)) {
			snprintf(err, sizeof(err), "listen unix %s: bad path", local);
			ret = api_gv_send(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  rq->removes ? "proxy not found" : err);
			goto out;
		}
		memcpy(f.path, local, strlen(local) + 1);
	} else {
		/* gvproxy: "unknown protocol" from Expose, a 500; npipe
		 * (Windows named pipes) listeners are not built in vgate */
		snprintf(err, sizeof(err), "%s protocol %s",
			 strcmp(proto, "npipe") ? "unknown" : "unsupported", proto);
		ret = api_gv_send(c, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
		goto out;
	}
	if (!rq->removes && gv_parse_addr(remote, 0, &g) < 0) {
		/* gvproxy splits "remote" as host:port before anything: 400 */
		snprintf(err, sizeof(err), "address %s: missing or bad port in address", remote);
		ret = api_gv_send(c, MHD_HTTP_BAD_REQUEST, err);
		goto out;
	}
	if (!f.path[0] && gv_parse_addr(local, htonl(INADDR_ANY), &f.host) < 0) {
		snprintf(err, sizeof(err), "listen %s %s: bad address", proto, local);
		ret = api_gv_send(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  rq->removes ? "proxy not found" : err);
		goto out;
	}
	if (rq->guest && gv_guest_allowed(a, c, &f, rq->removes ? NULL : &g, &ret) < 0)
		goto out;
	if (rq->removes) {
		if (a->cfg.ops.forward_remove(a->cfg.ops.ctx, &f) < 0) {
			int gi = gv_gfwd_find(a, f.proto, &f.host);

			if (gi >= 0)
				gv_gfwd_drop(a, (size_t)gi); /* the host removed it */
			ret = api_gv_send(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "proxy not found");
		} else {
			int gi = gv_gfwd_find(a, f.proto, &f.host);

			if (gi >= 0)
				gv_gfwd_drop(a, (size_t)gi);
			api_log(a, VG_LOG_INFO, "forward removed: %s %s%s", proto, local,
				rq->guest ? " (by the guest)" : "");
			ret = api_gv_send(c, MHD_HTTP_OK, NULL);
		}
		goto out;
	}
	f.guest_port = g.port;
	f.guest_ip = g.ip;
	err[0] = '\0';
	if (a->cfg.ops.forward_add(a->cfg.ops.ctx, &f, err, sizeof(err)) < 0) {
		char msg[400];

		snprintf(msg, sizeof(msg), "%s", err[0] ? err : "cannot add the forward");
		if (strstr(err, "exists"))
			snprintf(msg, sizeof(msg), "proxy already running for %s on %s", proto,
				 local);
		ret = api_gv_send(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
		goto out;
	}
	if (rq->guest) {
		a->gfwd[a->n_gfwd].proto = f.proto;
		a->gfwd[a->n_gfwd].host = f.host;
		a->n_gfwd++;
	}
	api_log(a, VG_LOG_INFO, "forward added: %s %s -> %s%s", proto, local, remote,
		rq->guest ? " (by the guest)" : "");
	ret = api_gv_send(c, MHD_HTTP_OK, NULL);
out:
	json_decref(o);
	return ret;
}

enum MHD_Result api_gv_leases(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	struct ns_lease *ls = calloc(GV_MAX_LEASES, sizeof(*ls));
	json_t *o = json_object();
	size_t i, n;

	(void)rq;
	if (!ls || !o) {
		free(ls);
		json_decref(o);
		return MHD_NO;
	}
	n = ns_leases(a->cfg.ns, ls, GV_MAX_LEASES);
	for (i = 0; i < n; i++) {
		char ip[INET_ADDRSTRLEN], mac[VG_MAC_STRLEN];

		if (ls[i].family != NS_AF_INET)
			continue; /* gvproxy's map is IPv4's; DHCPv6 leases are in /leases */
		inet_ntop(AF_INET, &ls[i].ip, ip, sizeof(ip));
		vg_mac_format(ls[i].mac, mac);
		json_object_set_new(o, ip, json_string(mac));
	}
	free(ls);
	return api_gv_json(c, o);
}

enum MHD_Result api_gv_cam(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	struct ns_neighbour nb[64];
	json_t *o = json_object();
	size_t i, n;

	(void)rq;
	if (!o)
		return MHD_NO;
	n = ns_neighbours(a->cfg.ns, nb, sizeof(nb) / sizeof(nb[0]));
	for (i = 0; i < n; i++) {
		char mac[VG_MAC_STRLEN];

		vg_mac_format(nb[i].mac, mac);
		json_object_set_new(o, mac, json_integer(0));
	}
	return api_gv_json(c, o);
}

/* gvproxy's Zone as its Go encoder writes it: Name, Records, DefaultIP */
static void zone_item(void *ctx, const struct dns_gvzone *z)
{
	json_t *recs = json_array();
	char ip[INET_ADDRSTRLEN] = "";
	int k;

	for (k = 0; recs && k < z->n_rules; k++) {
		const struct dns_gvrule *r = &z->rules[k];
		char rip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, r->ip.a, rip, sizeof(rip));
		json_array_append_new(
		    recs, json_pack("{s:o, s:s, s:o}", "Name", api_jstr(r->name), "IP", rip,
				    "Regexp", *r->regexp ? api_jstr(r->regexp) : json_null()));
	}
	if (z->default_ip.family == AF_INET)
		inet_ntop(AF_INET, z->default_ip.a, ip, sizeof(ip));
	json_array_append_new(ctx,
			      json_pack("{s:o, s:o, s:s}", "Name", api_jstr(z->name), "Records",
					recs ? recs : json_null(), "DefaultIP", ip));
}

enum MHD_Result api_gv_dns_all(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	json_t *arr = json_array();

	(void)rq;
	if (!arr)
		return MHD_NO;
	dns_gvzone_foreach(a->cfg.dns, zone_item, arr);
	return api_gv_json(c, arr);
}

/* an IPv4 "IP" member (absent, null or "": none); Return: 1 set, 0 none, -1 bad */
static int zone_ip(json_t *o, const char *key, struct dns_addr *out)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (!*s)
		return 0;
	if (inet_pton(AF_INET, s, out->a) != 1)
		return -1;
	out->family = AF_INET;
	return 1;
}

/* copy string member @key of @o into @buf; Return: 0, or -1 (not a string or too long) */
static int zone_str(json_t *o, const char *key, char *buf, size_t cap)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	buf[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (strlen(s) >= cap)
		return -1;
	strcpy(buf, s);
	return 0;
}

/* copy the members of @from into @to under lower-case names (Go's decoder
 * matches field names case-insensitively); names past 31 bytes are cut */
static void lower_keys(json_t *from, json_t *to)
{
	const char *k;
	json_t *v;

	json_object_foreach(from, k, v)
	{
		char low[32];
		size_t n;

		for (n = 0; n < sizeof(low) - 1 && k[n]; n++)
			low[n] = (char)((k[n] >= 'A' && k[n] <= 'Z') ? k[n] + 32 : k[n]);
		low[n] = '\0';
		json_object_set(to, low, v);
	}
}

/**
 * zone_from_json() - gvproxy's Zone {"Name", "Records": [{"Name", "IP",
 * "Regexp"}], "DefaultIP"} (members matched case-insensitively, as Go does)
 * @o:		body
 * @z:		result
 * @err:	message for the 400
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int zone_from_json(json_t *o, struct dns_gvzone *z, char *err, size_t errlen)
{
	json_t *recs, *r, *lo = json_object();
	size_t i;
	int rc = -1;

	memset(z, 0, sizeof(*z));
	if (!lo) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	lower_keys(o, lo);
	if (zone_str(lo, "name", z->name, sizeof(z->name)) < 0 || !*z->name) {
		snprintf(err, errlen, "json: field Name must be a string naming the zone");
		goto out;
	}
	if (zone_ip(lo, "defaultip", &z->default_ip) < 0) {
		snprintf(err, errlen, "invalid IP address in DefaultIP");
		goto out;
	}
	recs = json_object_get(lo, "records");
	if (recs && !json_is_null(recs) && !json_is_array(recs)) {
		snprintf(err, errlen, "json: cannot unmarshal Records: not an array");
		goto out;
	}
	json_array_foreach(recs, i, r)
	{
		struct dns_gvrule *rule = &z->rules[z->n_rules];
		json_t *rl = json_object();

		if (!json_is_object(r) || !rl || z->n_rules >= DNS_GVZONE_RULES_MAX) {
			json_decref(rl);
			snprintf(err, errlen, "record %zu: not an object, or over %d records", i,
				 DNS_GVZONE_RULES_MAX);
			goto out;
		}
		lower_keys(r, rl);
		if (zone_str(rl, "name", rule->name, sizeof(rule->name)) < 0 ||
		    zone_str(rl, "regexp", rule->regexp, sizeof(rule->regexp)) < 0 ||
		    zone_ip(rl, "ip", &rule->ip) <= 0) {
			json_decref(rl);
			snprintf(err, errlen, "record %zu: Name, Regexp strings and an IPv4 IP", i);
			goto out;
		}
		json_decref(rl);
		z->n_rules++;
	}
	rc = 0;
out:
	json_decref(lo);
	return rc;
}

enum MHD_Result api_gv_dns_add(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	enum MHD_Result ret = MHD_NO;
	struct dns_gvzone *z;
	char err[300];
	json_t *o;

	if (rq->method != API_POST)
		return api_gv_send(c, MHD_HTTP_BAD_REQUEST, "post only");
	o = gv_body(c, rq, &ret);
	if (!o)
		return ret;
	z = malloc(sizeof(*z));
	if (!z) {
		json_decref(o);
		return MHD_NO;
	}
	if (zone_from_json(o, z, err, sizeof(err)) < 0 ||
	    dns_gvzone_add(a->cfg.dns, z, err, sizeof(err)) < 0) {
		ret = api_gv_send(c, MHD_HTTP_BAD_REQUEST, err);
	} else {
		api_log(a, VG_LOG_INFO, "dns zone added: %s (%d records)", z->name, z->n_rules);
		ret = api_gv_send(c, MHD_HTTP_OK, NULL);
	}
	free(z);
	json_decref(o);
	return ret;
}
