/* SPDX-License-Identifier: MIT */
/*
 * dynlib.c - dlopen() plus a table of dlsym()s (see dynlib.h). RTLD_NOW so
 * a missing symbol is found here, with a message, not at the first call;
 * RTLD_LOCAL so the library's symbols do not leak into later lookups. The
 * pointers are gathered first and copied into the caller's table only when
 * all resolved. POSIX guarantees a dlsym() result converts to a function
 * pointer of the same size; the copy is a memcpy of that object pointer.
 */
#include "dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VG_DL_MAX_SYMS 64

int vg_dl_load(const char *soname, const char *what, const struct vg_dl_sym *syms, size_t nsyms,
	       void *table, char *err, size_t errlen)
{
	void *found[VG_DL_MAX_SYMS];
	const char *e;
	void *h;
	size_t i;

	if (nsyms > VG_DL_MAX_SYMS) {
		snprintf(err, errlen, "%s: %zu functions of %s, at most %d", what, nsyms, soname,
			 VG_DL_MAX_SYMS);
		return -1;
	}
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		e = dlerror();
		snprintf(err, errlen, "%s needs %s, which cannot be loaded (%s); install it", what,
			 soname, e ? e : "unknown error");
		return -1;
	}
	for (i = 0; i < nsyms; i++) {
		dlerror();
		found[i] = dlsym(h, syms[i].name);
		if (!found[i]) {
			e = dlerror();
			snprintf(err, errlen, "%s: %s has no %s (%s)", what, soname, syms[i].name,
				 e ? e : "NULL symbol");
			dlclose(h);
			return -1;
		}
	}
	for (i = 0; i < nsyms; i++)
		memcpy((char *)table + syms[i].off, &found[i], sizeof(found[i]));
	return 0; /* @h stays open for the life of the process */
}
