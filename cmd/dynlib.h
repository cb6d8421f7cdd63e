/* SPDX-License-Identifier: MIT */
/*
 * dynlib.h - load a shared library at run time and resolve a table of its
 * functions, for optional features whose library should cost a vgate
 * nothing unless their flag is given (the control API's libmicrohttpd:
 * cmd/mhd.h). The caller names the library by its versioned soname (the
 * one its -dev package links against, found at build time) and describes
 * its table as {symbol name, offset of the function pointer} pairs.
 *
 * Ownership: a library once loaded stays loaded for the life of the
 * process (its functions may be in use anywhere); nothing is unloaded.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 */
#ifndef VGATE_CMD_DYNLIB_H
#define VGATE_CMD_DYNLIB_H

#include <stddef.h>

/**
 * struct vg_dl_sym - one function of a table
 * @name:	its symbol
 * @off:	offset of its pointer in the caller's table struct
 */
struct vg_dl_sym {
	const char *name;
	size_t off;
};

/**
 * vg_dl_load() - dlopen @soname and fill @table with its functions
 * @soname:	e.g. "libmicrohttpd.so.12"
 * @what:	who needs it, for the message (e.g. "--api")
 * @syms:	the table's functions
 * @nsyms:	their count
 * @table:	struct of function pointers to fill (untouched on failure)
 * @err:	one-line error: which library or symbol is missing, and why
 * @errlen:	its size
 *
 * Return: 0, or -1 (the library is not installed, or lacks a symbol)
 */
int vg_dl_load(const char *soname, const char *what, const struct vg_dl_sym *syms, size_t nsyms,
	       void *table, char *err, size_t errlen);

#endif
