/* SPDX-License-Identifier: MIT */
/*
 * gvproxy.c - gvproxy's defaults and checks on vgate's options (see
 * gvproxy.h for what applies when). It only reads and completes a struct
 * vg_options that options.c built; it calls nothing of options.c (no
 * cycle), and keeps no state of its own.
 */
#include "gvproxy.h"
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/netutil.h"

/* option name of each VG_GV_* transport, and gvproxy's word for it */
static const struct {
	const char *opt;
	const char *proto;
} links[VG_GV_LINKS] = {
    [VG_GV_VPNKIT] = {"listen-vpnkit", "vpnkit"},
    [VG_GV_QEMU] = {"listen-qemu", "qemu"},
    [VG_GV_BESS] = {"listen-bess", "bess"},
};

bool vg_gvproxy_named(const char *argv0)
{
	const char *base;

	if (!argv0)
		return false;
	base = strrchr(argv0, '/');
	return !strcmp(base ? base + 1 : argv0, "gvproxy");
}

int vg_gvproxy_note(struct vg_options *o, const char *name, const char *arg, char *err,
		    size_t errlen)
{
	int i, j;

	for (i = 0; i < VG_GV_LINKS; i++)
		if (!strcmp(name, links[i].opt))
			break;
	if (i == VG_GV_LINKS || !arg)
		return 0;
	o->gv_link[i] = arg;
	for (j = 0; j < VG_GV_LINKS; j++) {
		if (j == i || !o->gv_link[j])
			continue;
		snprintf(err, errlen, "cannot use %s and %s protocol at the same time (-%s, -%s)",
			 links[i < j ? i : j].proto, links[i < j ? j : i].proto, links[j].opt,
			 links[i].opt);
		return -1;
	}
	return 0;
}

void vg_resolv_search(const char *path, char *out, size_t outlen)
{
	char line[1024];
	FILE *f;

	out[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *w = strtok_r(line, " \t\r\n", &save);
		size_t n = 0;

		if (!w || (strcmp(w, "search") && strcmp(w, "domain")))
			continue;
		out[0] = '\0'; /* the last such line wins, as for the resolver */
		while ((w = strtok_r(NULL, " \t\r\n", &save))) {
			size_t len = strlen(w);

			if (n + (n > 0) + len >= outlen)
				break;
			if (n > 0)
				out[n++] = ' ';
			memcpy(out + n, w, len + 1);
			n += len;
		}
	}
	fclose(f);
}

/**
 * add_default_lease() - gvproxy's static lease: its VM's MAC gets -deviceIP
 * (default: .2 of the subnet), unless that MAC already has a lease
 * @o:		options
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1 when the lease table is full
 */
static int add_default_lease(struct vg_options *o, char *err, size_t errlen)
{
	uint8_t mac[6];
	size_t i;

	(void)vg_mac_parse(VG_GV_GUEST_MAC, mac);
	for (i = 0; i < o->ns.n_dhcp_static; i++)
		if (!memcmp(o->ns.dhcp_static[i].mac, mac, 6))
			return 0;
	if (o->ns.n_dhcp_static >= NS_DHCP_STATIC_MAX) {
		snprintf(err, errlen, "too many static DHCP leases (max %d)", NS_DHCP_STATIC_MAX);
		return -1;
	}
	memcpy(o->ns.dhcp_static[o->ns.n_dhcp_static].mac, mac, 6);
	o->ns.dhcp_static[o->ns.n_dhcp_static].ip =
	    o->device_ip ? o->device_ip
			 : htonl(ntohl(o->ns.subnet & vg_ip4_mask(o->ns.prefix)) + 2);
	o->ns.n_dhcp_static++;
	return 0;
}

int vg_gvproxy_defaults(struct vg_options *o, char *err, size_t errlen)
{
	if (o->device_ip && !vg_ip4_in_subnet(o->device_ip, o->ns.subnet, o->ns.prefix)) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &o->device_ip, a, sizeof(a));
		snprintf(err, errlen, "device IP %s is not in the subnet", a);
		return -1;
	}
	if (!o->gvproxy || o->gv_config)
		return 0;
	if (!o->ssh_port_set)
		o->ssh_port = VG_GV_SSH_PORT;
	if (!o->ns.search[0])
		vg_resolv_search(o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf", o->ns.search,
				 sizeof(o->ns.search));
	return add_default_lease(o, err, errlen);
}

/**
 * path_exists() - refuse @uri's path when it exists, if @uri has @scheme
 * @uri:	option value, may be NULL
 * @scheme:	e.g. "unix://"
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
static int path_exists(const char *uri, const char *scheme, char *err, size_t errlen)
{
	size_t n = strlen(scheme);
	struct stat st;

	if (!uri || strncmp(uri, scheme, n) || !uri[n])
		return 0;
	if (lstat(uri + n, &st) < 0)
		return 0;
	snprintf(err, errlen, "\"%s\" already exists (gvproxy mode does not replace it)", uri + n);
	return -1;
}

int vg_gvproxy_check_paths(const struct vg_options *o, char *err, size_t errlen)
{
	if (!o->gvproxy)
		return 0;
	if (path_exists(o->gv_link[VG_GV_QEMU], "unix://", err, errlen) < 0 ||
	    path_exists(o->gv_link[VG_GV_BESS], "unixpacket://", err, errlen) < 0 ||
	    path_exists(o->listen_vfkit, "unixgram://", err, errlen) < 0)
		return -1;
	return 0;
}
