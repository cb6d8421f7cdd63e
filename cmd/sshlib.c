/* SPDX-License-Identifier: MIT */
/*
 * sshlib.c - the libssh table (see sshlib.h), filled by vg_dl_load().
 */
#include "sshlib.h"

#include <stdbool.h>
#include <stddef.h>

#include "cmd/dynlib.h"

#ifndef VGATE_SSH_SONAME
#define VGATE_SSH_SONAME "libssh.so.4"
#endif

#define SYM(f, name)                                                                               \
	{                                                                                          \
		"ssh_" #name, offsetof(struct vg_ssh_fns, f)                                       \
	}

static const struct vg_dl_sym ssh_syms[] = {
    SYM(version, version),
    SYM(new_session, new),
    SYM(free_session, free),
    SYM(options_set, options_set),
    SYM(set_blocking, set_blocking),
    SYM(connect, connect),
    SYM(disconnect, disconnect),
    SYM(get_fd, get_fd),
    SYM(get_poll_flags, get_poll_flags),
    SYM(get_error, get_error),
    SYM(get_server_publickey, get_server_publickey),
    SYM(get_publickey_hash, get_publickey_hash),
    SYM(get_fingerprint_hash, get_fingerprint_hash),
    SYM(clean_pubkey_hash, clean_pubkey_hash),
    SYM(string_free_char, string_free_char),
    SYM(key_free, key_free),
    SYM(pki_import_privkey_file, pki_import_privkey_file),
    SYM(userauth_publickey, userauth_publickey),
    SYM(channel_new, channel_new),
    SYM(channel_free, channel_free),
    SYM(channel_open_forward_unix, channel_open_forward_unix),
    SYM(channel_read_nonblocking, channel_read_nonblocking),
    SYM(channel_write, channel_write),
    SYM(channel_window_size, channel_window_size),
    SYM(channel_send_eof, channel_send_eof),
    SYM(channel_is_eof, channel_is_eof),
    SYM(channel_close, channel_close),
    SYM(channel_is_closed, channel_is_closed),
    SYM(is_connected, is_connected),
    SYM(event_new, event_new),
    SYM(event_add_session, event_add_session),
    SYM(event_remove_session, event_remove_session),
    SYM(event_dopoll, event_dopoll),
    SYM(event_free, event_free),
};

/* process-wide like the library itself: filled once, then read-only */
static struct vg_ssh_fns ssh_fns;
static bool ssh_loaded;

int vg_sshlib_load(char *err, size_t errlen)
{
	if (ssh_loaded)
		return 0;
	if (vg_dl_load(VGATE_SSH_SONAME, "-forward-sock", ssh_syms,
		       sizeof(ssh_syms) / sizeof(ssh_syms[0]), &ssh_fns, err, errlen) < 0)
		return -1;
	ssh_loaded = true;
	return 0;
}

const struct vg_ssh_fns *vg_sshlib(void)
{
	return &ssh_fns;
}
