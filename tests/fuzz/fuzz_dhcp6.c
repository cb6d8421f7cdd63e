/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dhcp6.c - libFuzzer target: arbitrary bytes as DHCPv6 client
 * messages to one long-lived server with a small lease table (so leases,
 * holds, declines and a full pool from earlier inputs are exercised too).
 * Every answer must stay inside its buffer and be a well-framed message.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netstack/dhcp6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* trap unless @r is a header and options that end exactly at r->len */
static void check_framing(const struct dhcp6_reply *r)
{
	size_t i = 4;

	if (r->len > sizeof(r->data) || r->len < 4)
		__builtin_trap();
	while (i < r->len) {
		size_t l;

		if (r->len - i < 4)
			__builtin_trap();
		l = (size_t)(r->data[i + 2] << 8 | r->data[i + 3]);
		if (l > r->len - i - 4)
			__builtin_trap();
		i += 4 + l;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp6_server srv;
	static int ready;
	static uint64_t now;
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 1};
	struct dhcp6_reply r;

	if (!ready) {
		struct dhcp6_config c = {
		    .server_mac = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd},
		    .prefix = {0xfd, 0x00, 0x5a, 0x94, 0xef, 0xe4},
		    .dns = {0xfd, 0x00, 0x5a, 0x94, 0xef, 0xe4, [15] = 1},
		    .first = 0x100,
		    .count = 8,
		    .lease_s = 60,
		    .search = "a.test b.test",
		    .stateful = true,
		};

		if (dhcp6_init(&srv, &c) < 0)
			return 0;
		ready = 1;
	}
	now += 1000;
	if (dhcp6_input(&srv, now, size & 1 ? mac : NULL, data, size, &r) > 0)
		check_framing(&r);
	return 0;
}
