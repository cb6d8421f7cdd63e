/* SPDX-License-Identifier: MIT */
/*
 * version.c - the build-time pin on lwIP 2.1.3. netstack/engine.c relies on
 * lwIP 2.1.3 internals (the global ip_data, the wildcard listener's port, the
 * tcp_active_pcbs/tcp_listen_pcbs lists), which other versions change
 * silently; so any other version fails here, at compile time, with a message
 * saying what to do. Compiled into the lwIP library (vgate_lwip), so every
 * build that links lwIP checks the headers it was built with. The top-level
 * CMakeLists.txt makes the same check at configure time from lwip/init.h.
 */
#include "lwip/init.h"

#if LWIP_VERSION_MAJOR != 2 || LWIP_VERSION_MINOR != 1 || LWIP_VERSION_REVISION != 3 ||            \
    !LWIP_VERSION_IS_RELEASE
#error "vgate needs lwIP 2.1.3 exactly: rm -rf third_party/lwip; run scripts/fetch-lwip"
#endif

/* The pinned version as a string, for logs; also keeps this unit non-empty. */
const char vg_lwip_version[] = LWIP_VERSION_STRING;
