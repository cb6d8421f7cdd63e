/* SPDX-License-Identifier: MIT */
/*
 * mhd.h - libmicrohttpd, loaded when the control API starts (--api): the
 * library and what it pulls in (GnuTLS, nettle, p11-kit, libidn2, ...) are
 * not mapped into a vgate that serves no API. The functions the API calls
 * are a table with libmicrohttpd's own prototypes (taken from
 * <microhttpd.h> with __typeof__, so they cannot drift); its types and
 * constants still come from the header at build time.
 *
 * The table is process-wide, as the loaded library is: vg_mhd_load() fills
 * it once (later calls return at once), vg_mhd() hands it out after that.
 * The soname is VGATE_MHD_SONAME, read from the -dev package's
 * libmicrohttpd.so at configure time.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 */
#ifndef VGATE_CMD_MHD_H
#define VGATE_CMD_MHD_H

#include <stddef.h>

#include <microhttpd.h>

/**
 * struct vg_mhd_fns - the libmicrohttpd functions vgate calls, each named
 * as in the library without its MHD_ prefix
 */
struct vg_mhd_fns {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_add_connection) *add_connection;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_get_connection_info) *get_connection_info;
	__typeof__(MHD_suspend_connection) *suspend_connection;
	__typeof__(MHD_resume_connection) *resume_connection;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_create_response_from_callback) *create_response_from_callback;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
};

/**
 * vg_mhd_load() - load libmicrohttpd unless it is loaded already
 * @err:	one-line error (the library or a function missing)
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_mhd_load(char *err, size_t errlen);

/**
 * vg_mhd() - the loaded functions; only after vg_mhd_load() succeeded
 *
 * Return: the table
 */
const struct vg_mhd_fns *vg_mhd(void);

#endif
