/* SPDX-License-Identifier: MIT */
/*
 * sshlib.h - libssh, loaded when an SSH socket forward is configured
 * (-forward-sock, issue 12 item 3; the forwarding module itself is planned
 * in docs/design.md, "SSH socket forwarding"). The library and what it
 * pulls in (libcrypto, zlib, libgssapi) are not mapped into a vgate that
 * forwards no socket. The functions the forwarder is to call are a table
 * with libssh's own prototypes (taken from <libssh/libssh.h> with
 * __typeof__, so they cannot drift); its types and constants still come
 * from the header at build time.
 *
 * The table is process-wide, as the loaded library is: vg_sshlib_load()
 * fills it once (later calls return at once), vg_sshlib() hands it out
 * after that. The soname is VGATE_SSH_SONAME, read from the -dev package's
 * libssh.so at configure time.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno.
 */
#ifndef VGATE_CMD_SSHLIB_H
#define VGATE_CMD_SSHLIB_H

#include <stddef.h>

#include <libssh/libssh.h>

/**
 * struct vg_ssh_fns - the libssh functions vgate calls, each named as in
 * the library without its ssh_ prefix
 */
struct vg_ssh_fns {
	__typeof__(ssh_version) *version;
	__typeof__(ssh_new) *new_session;
	__typeof__(ssh_free) *free_session;
	__typeof__(ssh_options_set) *options_set;
	__typeof__(ssh_set_blocking) *set_blocking;
	__typeof__(ssh_connect) *connect;
	__typeof__(ssh_disconnect) *disconnect;
	__typeof__(ssh_get_fd) *get_fd;
	__typeof__(ssh_get_poll_flags) *get_poll_flags;
	__typeof__(ssh_get_error) *get_error;
	__typeof__(ssh_get_server_publickey) *get_server_publickey;
	__typeof__(ssh_get_publickey_hash) *get_publickey_hash;
	__typeof__(ssh_get_fingerprint_hash) *get_fingerprint_hash;
	__typeof__(ssh_clean_pubkey_hash) *clean_pubkey_hash;
	__typeof__(ssh_string_free_char) *string_free_char;
	__typeof__(ssh_key_free) *key_free;
	__typeof__(ssh_pki_import_privkey_file) *pki_import_privkey_file;
	__typeof__(ssh_userauth_publickey) *userauth_publickey;
	__typeof__(ssh_channel_new) *channel_new;
	__typeof__(ssh_channel_free) *channel_free;
	__typeof__(ssh_channel_open_forward_unix) *channel_open_forward_unix;
	__typeof__(ssh_channel_read_nonblocking) *channel_read_nonblocking;
	__typeof__(ssh_channel_write) *channel_write;
	__typeof__(ssh_channel_window_size) *channel_window_size;
	__typeof__(ssh_channel_send_eof) *channel_send_eof;
	__typeof__(ssh_channel_is_eof) *channel_is_eof;
	__typeof__(ssh_channel_close) *channel_close;
	/* driving a non-blocking session from vgate's loop (cmd/sshfwd.c) */
	__typeof__(ssh_channel_is_closed) *channel_is_closed;
	__typeof__(ssh_is_connected) *is_connected;
	__typeof__(ssh_event_new) *event_new;
	__typeof__(ssh_event_add_session) *event_add_session;
	__typeof__(ssh_event_remove_session) *event_remove_session;
	__typeof__(ssh_event_dopoll) *event_dopoll;
	__typeof__(ssh_event_free) *event_free;
};

/**
 * vg_sshlib_load() - load libssh unless it is loaded already
 * @err:	one-line error (the library or a function missing)
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_sshlib_load(char *err, size_t errlen);

/**
 * vg_sshlib() - the loaded functions; only after vg_sshlib_load() succeeded
 *
 * Return: the process-wide table
 */
const struct vg_ssh_fns *vg_sshlib(void);

#endif
