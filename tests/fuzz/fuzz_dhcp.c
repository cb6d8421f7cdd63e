/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dhcp.c - libFuzzer target: arbitrary bytes as DHCP client messages
 * to one long-lived server (so state from earlier inputs is exercised too).
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp_server srv;
	static int ready;
	static uint64_t now;
	struct dhcp_reply r;

	if (!ready) {
		struct dhcp_config c = {
			.server_ip = htonl(0xc0a87f01),
			.netmask = htonl(0xffffff00),
			.router = htonl(0xc0a87f01),
			.dns = htonl(0xc0a87f01),
			.first = htonl(0xc0a87f02),
			.last = htonl(0xc0a87f0a),
			.lease_s = 60,
			.mtu = 1500,
			.domain = "vgate.internal",
			.search = "a.test b.test",
		};

		if (dhcp_init(&srv, &c) < 0)
			return 0;
		ready = 1;
	}
	now += 1000;
	if (dhcp_input(&srv, now, data, size, &r) > 0 && r.len > sizeof(r.data))
		__builtin_trap();
	return 0;
}
