/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h - --sandbox: after start-up, a seccomp filter (libseccomp) that
 * allows only the system calls the running daemon makes; anything else
 * kills the process (SIGSYS), so a compromised vgate cannot exec, ptrace,
 * mount, change namespaces or load modules. Also sets no_new_privs.
 *
 * Return convention (all of cmd/): 0 on success, -1 on failure with a
 * one-line message in the caller's err buffer when the function takes one;
 * constructors return the object, or NULL the same way. No cmd/ function
 * returns -errno: a loop call's -errno (vg_timer_start(), vg_io_add()) is
 * turned into a message, or a fallback, where it is made.
 */
#ifndef VGATE_CMD_SANDBOX_H
#define VGATE_CMD_SANDBOX_H

#include <stddef.h>

/**
 * vg_sandbox_enter() - install the filter for this process (irreversible)
 * @err:	one-line error
 * @errlen:	its size
 *
 * Return: 0, or -1
 */
int vg_sandbox_enter(char *err, size_t errlen);

#endif
