/* SPDX-License-Identifier: MIT */
/*
 * gvproxy.h - gvproxy compatibility of the command line (private to the
 * options module; options.h is its contract): vgate started under the name
 * "gvproxy" (a symlink, argv[0]) or with --gvproxy-defaults takes gvproxy's
 * defaults, and some of gvproxy's checks apply in every mode.
 *
 * gvproxy mode, unless the config file is gvproxy's own YAML (which brings
 * its own stack, as with gvproxy -config): -ssh-port 2222 (127.0.0.1:2222
 * to the guest's port 22; -ssh-port -1 turns it off), the static DHCP lease
 * of MAC 5a:94:ef:e4:0c:ee to -deviceIP (default .2 of the subnet), and the
 * DHCP search list from the resolv.conf's "search" line when --dhcp-search
 * is not given. The containers.internal and docker.internal names are
 * vgate's in every mode (main.c). In gvproxy mode vgate also refuses to
 * start when the path of a -listen-qemu unix://, -listen-bess or
 * -listen-vfkit socket already exists (vg_gvproxy_check_paths(), called
 * at start only, not on reload, when the socket is vgate's own).
 *
 * In every mode: -listen-qemu, -listen-vpnkit and -listen-bess are
 * mutually exclusive, as in gvproxy (vg_gvproxy_note(), by option name, so
 * the check does not depend on how each transport is stored).
 *
 * Return convention (all of cmd/): 0, or -1 with a one-line message.
 */
#ifndef VGATE_CMD_GVPROXY_H
#define VGATE_CMD_GVPROXY_H

#include <stdbool.h>
#include <stddef.h>

struct vg_options;

/* gvproxy's MAC for its VM (the static lease) and its gateway's */
#define VG_GV_GUEST_MAC "5a:94:ef:e4:0c:ee"
#define VG_GV_SSH_PORT	2222 /* gvproxy's -ssh-port default */

/* the link transports gvproxy refuses to combine (vg_options.gv_link[]) */
enum { VG_GV_VPNKIT, VG_GV_QEMU, VG_GV_BESS, VG_GV_LINKS };

/**
 * vg_gvproxy_named() - whether vgate was started as gvproxy
 * @argv0:	argv[0] (may be NULL)
 *
 * Return: true when its last path component is "gvproxy"
 */
bool vg_gvproxy_named(const char *argv0);

/**
 * vg_gvproxy_note() - remember a link option's value by its name, and
 * refuse a second transport gvproxy cannot combine with the first
 * @o:		options being built
 * @name:	the option's long name, e.g. "listen-bess"
 * @arg:	its value (NULL: nothing to note)
 * @err:	one-line error naming both
 * @errlen:	its size
 *
 * Return: 0 (also for other options), or -1
 */
int vg_gvproxy_note(struct vg_options *o, const char *name, const char *arg, char *err,
		    size_t errlen);

/**
 * vg_gvproxy_defaults() - apply gvproxy's defaults to @o in gvproxy mode
 * (nothing otherwise, nor with a gvproxy config file): ssh port, static
 * lease, DHCP search list; before ns_config_check()
 * @o:		options, every pass applied
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_gvproxy_defaults(struct vg_options *o, char *err, size_t errlen);

/**
 * vg_gvproxy_check_paths() - in gvproxy mode, refuse socket paths that
 * already exist (gvproxy's check); nothing otherwise
 * @o:		parsed options
 * @err:	one-line error naming the path
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_gvproxy_check_paths(const struct vg_options *o, char *err, size_t errlen);

/**
 * vg_resolv_search() - the domains of the last "search" (or "domain") line
 * of a resolv.conf, space separated, as gvproxy hands them to its guest
 * @path:	file
 * @out:	the list, "" when there is none or the file cannot be read
 * @outlen:	its size; a list that does not fit is cut at a whole domain
 */
void vg_resolv_search(const char *path, char *out, size_t outlen);

#endif
