/* SPDX-License-Identifier: MIT */
/*
 * echo.h - --debug-tcp-echo: a test behaviour for guest TCP flows that
 * sends every byte back to the guest (with backpressure) and closes when
 * the guest closes. Used by the foundation's end-to-end tests to prove
 * that any destination address and port is terminated by vgate.
 */
#ifndef VGATE_CMD_ECHO_H
#define VGATE_CMD_ECHO_H

#include "netstack/netstack.h"

/**
 * echo_register() - take every guest TCP flow to a non-gateway address and
 * echo it (UDP to those addresses is dropped)
 * @ns:	netstack
 *
 * Return: 0, or -1 (the netstack refused the registration)
 */
int echo_register(struct ns *ns);

#endif
