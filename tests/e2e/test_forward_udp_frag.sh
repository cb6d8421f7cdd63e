#!/usr/bin/env bash
# test_forward_udp_frag.sh - UDP datagrams larger than the MTU cross vgate
# both ways: the guest's fragments are reassembled before the forwarder sends
# the datagram to a host socket (echo server on 127.0.0.1), and the echoed
# datagram is fragmented again towards the guest.
source "$(dirname "$0")/lib.sh"

python3 - <<'EOF2' &
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 17777))
s.settimeout(30)
try:
    while True:
        d, a = s.recvfrom(70000)
        s.sendto(d, a)
except OSError:
    pass
EOF2
VG_CLEANUP_PIDS+=($!)
# the echo server must be bound before the first datagram: one lost to a closed
# port is answered with port unreachable and the client times out
udp_bound() { ss -Hlun 'sport = :17777' | vg_has .; }
vg_wait_for 20 udp_bound || vg_fail "the UDP echo server did not bind 127.0.0.1:17777"
vg_start
out=$(vg_ns python3 - <<'EOF2'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
for n in (100, 1472, 1473, 4000, 30000, 65000):
    payload = bytes((i * 7 + n) & 0xff for i in range(n))
    s.sendto(payload, ("192.168.127.254", 17777))
    d, a = s.recvfrom(70000)
    print(n, "ok" if d == payload and a == ("192.168.127.254", 17777) else "bad")
EOF2
) || vg_fail "UDP echo failed: $out"
vg_log "$(echo "$out" | tr '\n' ' ')"
[ "$(echo "$out" | grep -c ' ok$')" = 6 ] || vg_fail "some datagrams were lost or changed: $out"
vg_pass
