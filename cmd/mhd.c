/* SPDX-License-Identifier: MIT */
/*
 * mhd.c - the libmicrohttpd table (see mhd.h), filled by vg_dl_load().
 */
#include "mhd.h"

#include <stdbool.h>
#include <stddef.h>

#include "cmd/dynlib.h"

#ifndef VGATE_MHD_SONAME
#define VGATE_MHD_SONAME "libmicrohttpd.so.12"
#endif

#define SYM(f)                                                                                     \
	{                                                                                          \
		"MHD_" #f, offsetof(struct vg_mhd_fns, f)                                          \
	}

static const struct vg_dl_sym mhd_syms[] = {
    SYM(start_daemon),
    SYM(stop_daemon),
    SYM(run),
    SYM(get_timeout),
    SYM(add_connection),
    SYM(get_daemon_info),
    SYM(get_connection_info),
    SYM(suspend_connection),
    SYM(resume_connection),
    SYM(create_response_from_buffer),
    SYM(create_response_from_callback),
    SYM(add_response_header),
    SYM(queue_response),
    SYM(destroy_response),
};

/* process-wide like the library itself: filled once, then read-only */
static struct vg_mhd_fns mhd_fns;
static bool mhd_loaded;

int vg_mhd_load(char *err, size_t errlen)
{
	if (mhd_loaded)
		return 0;
	if (vg_dl_load(VGATE_MHD_SONAME, "--api", mhd_syms, sizeof(mhd_syms) / sizeof(mhd_syms[0]),
		       &mhd_fns, err, errlen) < 0)
		return -1;
	mhd_loaded = true;
	return 0;
}

const struct vg_mhd_fns *vg_mhd(void)
{
	return &mhd_fns;
}
