/* SPDX-License-Identifier: MIT */
/*
 * api_fwd.c - the control API's port forwards: GET, POST, DELETE
 * /forwards, with gvproxy's body {"protocol", "local", "remote"} ("local"
 * is the host side, "[ADDR]:PORT" defaulting to 127.0.0.1, or "[IPV6]:PORT"; "remote" the
 * guest's "[ADDR]:PORT", no address: its current lease). gvproxy's own
 * /services/forwarder/ paths, with its codes, are api_gv.c's.
 *
 * The forwards themselves belong to the daemon (struct api_ops:
 * forward_list, forward_add, forward_remove); the route table answers 503
 * before any handler here runs when the daemon has none.
 */
#include "api_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netutil.h"

int api_parse_hostport(const char *s, uint32_t def_ip, struct ns_addr *out)
{
	const char *colon = strrchr(s, ':');
	const char *port = colon ? colon + 1 : s;
	char ip[INET6_ADDRSTRLEN];
	struct in_addr a;
	uint8_t a6[16];

	*out = ns_addr_v4(0, 0);
	if (vg_port_parse_str(port, &out->port) < 0)
		return -1;
	out->ip = def_ip;
	if (colon && s[0] == '[') {
		/* "[IPV6]:PORT" */
		if (colon < s + 2 || colon[-1] != ']' || (size_t)(colon - s - 2) >= sizeof(ip))
			return -1;
		memcpy(ip, s + 1, (size_t)(colon - s - 2));
		ip[colon - s - 2] = '\0';
		if (inet_pton(AF_INET6, ip, a6) != 1)
			return -1;
		*out = ns_addr_v6(a6, out->port);
	} else if (colon && colon > s) {
		if ((size_t)(colon - s) >= sizeof(ip))
			return -1;
		memcpy(ip, s, (size_t)(colon - s));
		ip[colon - s] = '\0';
		if (inet_pton(AF_INET, ip, &a) != 1)
			return -1;
		out->ip = a.s_addr;
	}
	return 0;
}

/* {"protocol", "local": "ADDR:PORT", "remote": ":GUEST_PORT"} */
static json_t *forward_json(const struct fwd_forward *f)
{
	struct ns_addr g = ns_addr_v4(f->guest_ip, f->guest_port);
	char local[FWD_PATH_MAX + INET6_ADDRSTRLEN + 16], remote[32];

	if (f->path[0])
		snprintf(local, sizeof(local), "%s", f->path);
	else
		api_fmt_hostport(&f->host, local, sizeof(local));
	if (f->guest_ip)
		api_fmt_hostport(&g, remote, sizeof(remote));
	else
		snprintf(remote, sizeof(remote), ":%u", f->guest_port);
	return json_pack("{s:s, s:s, s:s}", "protocol", fwd_forward_kind(f), "local", local,
			 "remote", remote);
}

/* the forwards as a list, under "forwards" */
static enum MHD_Result list_forwards(struct api *a, struct MHD_Connection *c)
{
	struct fwd_forward fl[FWD_FORWARD_MAX];
	json_t *arr = json_array();
	size_t i, n;

	if (!arr)
		return MHD_NO;
	n = a->cfg.ops.forward_list(a->cfg.ops.ctx, fl, FWD_FORWARD_MAX);
	for (i = 0; i < n && i < FWD_FORWARD_MAX; i++)
		json_array_append_new(arr, forward_json(&fl[i]));
	return api_send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "forwards", arr));
}

enum MHD_Result api_get_forwards(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	(void)rq;
	return list_forwards(a, c);
}

/**
 * forward_from_json() - read {"protocol", "local", "remote"} (gvproxy's
 * expose body); "remote" is "[GUEST_IP]:PORT" or "PORT" and required when
 * @need_remote
 * @o:		body
 * @need_remote: POST (true) or DELETE (false)
 * @f:		result
 * @err:	message for the 400
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int forward_from_json(json_t *o, bool need_remote, struct fwd_forward *f, char *err,
			     size_t errlen)
{
	const char *proto = api_str_field(o, "protocol");
	const char *local = api_str_field(o, "local");
	const char *remote = api_str_field(o, "remote");
	struct ns_addr g;

	memset(f, 0, sizeof(*f));
	if (json_object_get(o, "protocol") && !proto) {
		snprintf(err, errlen, "field 'protocol' must be \"tcp\" or \"udp\"");
		return -1;
	}
	if (!proto || !strcmp(proto, "tcp"))
		f->proto = FWD_TCP;
	else if (!strcmp(proto, "udp"))
		f->proto = FWD_UDP;
	else {
		snprintf(err, errlen, "field 'protocol' must be \"tcp\" or \"udp\", got '%s'",
			 proto);
		return -1;
	}
	if (!local || api_parse_hostport(local, htonl(INADDR_LOOPBACK), &f->host) < 0) {
		snprintf(err, errlen, "field 'local' must be \"[ADDR]:PORT\", got '%s'",
			 local ? local : "nothing");
		return -1;
	}
	if (!need_remote)
		return 0;
	if (!remote || api_parse_hostport(remote, 0, &g) < 0) {
		snprintf(err, errlen, "field 'remote' must be \"[GUEST_IP]:PORT\", got '%s'",
			 remote ? remote : "nothing");
		return -1;
	}
	f->guest_port = g.port;
	f->guest_ip = g.ip; /* 0: the guest's lease */
	return 0;
}

/**
 * api_edit_forward() - POST (start a forward: 409 when the daemon refuses)
 * or DELETE / unexpose (@rq->removes: stop one, 404 when there is none)
 * @a:		API
 * @c:		connection
 * @rq:		request
 *
 * Return: MHD_YES when a response was queued, MHD_NO to close
 */
enum MHD_Result api_edit_forward(struct api *a, struct MHD_Connection *c, const struct api_req *rq)
{
	static const char *const keys[] = {"protocol", "local", "remote", NULL};
	bool add = !rq->removes;
	enum MHD_Result ret = MHD_NO;
	struct fwd_forward f;
	char err[256];
	json_t *o;

	o = api_body_object(c, rq, keys, &ret);
	if (!o)
		return ret;
	if (forward_from_json(o, add, &f, err, sizeof(err)) < 0) {
		ret = api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err);
		goto out;
	}
	if (add) {
		err[0] = '\0';
		if (a->cfg.ops.forward_add(a->cfg.ops.ctx, &f, err, sizeof(err)) < 0) {
			ret = api_send_error(c, MHD_HTTP_CONFLICT, "%s",
					     err[0] ? err : "cannot add the forward");
		} else {
			api_log(a, VG_LOG_INFO, "forward added: %s %s -> guest:%u",
				fwd_forward_kind(&f), api_str_field(o, "local"), f.guest_port);
			ret = api_send_json(c, MHD_HTTP_OK, forward_json(&f));
		}
	} else if (a->cfg.ops.forward_remove(a->cfg.ops.ctx, &f) < 0) {
		ret = api_send_error(c, MHD_HTTP_NOT_FOUND, "no forward on %s",
				     api_str_field(o, "local"));
	} else {
		api_log(a, VG_LOG_INFO, "forward removed: %s", api_str_field(o, "local"));
		ret = api_send_json(c, MHD_HTTP_OK, json_pack("{s:b}", "removed", 1));
	}
out:
	json_decref(o);
	return ret;
}
