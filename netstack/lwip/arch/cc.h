/* SPDX-License-Identifier: MIT */
/*
 * arch/cc.h - lwIP compiler/platform glue for vgate on Linux (gcc/clang).
 * Never include <netinet/tcp.h> in a file that includes lwIP headers: it
 * redefines TCP_MSS.
 */
#ifndef VGATE_LWIP_ARCH_CC_H
#define VGATE_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define LWIP_NO_INTTYPES_H 0
#define LWIP_RAND() ((u32_t)random())
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { fprintf(stderr, "lwip assert: %s\n", x); abort(); } while (0)
#define BYTE_ORDER LITTLE_ENDIAN

#endif
