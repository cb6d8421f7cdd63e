#!/bin/bash
# test_connect_timeout.sh - --connect-timeout bounds a connect-out that the
# host never completes: a host listener whose accept queue is full (backlog
# 0, one connection queued and never accepted) makes the kernel drop further
# SYNs, so vgate's connect for the guest's SYN hangs. With --connect-timeout
# 3 the forwarder gives up on it (tcp_timeouts, its record and fd gone)
# between 2 and 20 s after the guest's SYN (the default, 30 s, would not
# fit); the guest's SYN is dropped, as on a real network, and its connect
# fails by itself. Meanwhile a connection to a working port succeeds.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

vg_start --connect-timeout 3
P=$(fwd_port 0)
OK=$((P + 1))
cat >"$VG_TMP/stuck.py" <<'EOP'
import socket, sys, time
port, ok, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(0)
c = socket.create_connection(("127.0.0.1", port))  # fills the accept queue
o = socket.socket(); o.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
o.bind(("127.0.0.1", ok)); o.listen(8)
open(ready, "w").write("ready\n")
end = time.time() + 120
o.settimeout(1)
while time.time() < end:
    try:
        a, _ = o.accept()
    except socket.timeout:
        continue
    a.sendall(b"hello\n"); a.close()
EOP
vg_bg python3 "$VG_TMP/stuck.py" "$P" "$OK" "$VG_TMP/ready"
vg_wait_for 10 test -s "$VG_TMP/ready" || vg_fail "the host listeners did not start"

t0=$SECONDS
vg_bg vg_ns python3 -c '
import socket, sys
try:
    socket.create_connection(("192.168.127.254", int(sys.argv[1])), timeout=25)
    print("connected")
except OSError as e:
    print("failed: %s" % e)' "$P" >"$VG_TMP/guest.out" 2>&1
GUEST=$!
connecting() { [ "$(fwd_stat tcp_active)" -ge 1 ]; }
vg_wait_for 10 connecting || vg_fail "the forwarder never started the connect-out"
timed_out() { [ "$(fwd_stat tcp_timeouts)" -ge 1 ]; }
until timed_out; do
	[ $((SECONDS - t0)) -le 20 ] || vg_fail "no connect timeout within 20 s of the SYN"
	sleep 0.2
done
took=$((SECONDS - t0))
vg_log "the connect-out was given up after ~${took} s (--connect-timeout 3)"
[ "$took" -ge 2 ] || vg_fail "given up after ${took} s: before the timeout"
out=$(vg_ns bash -c "exec 3<>/dev/tcp/192.168.127.254/$OK && head -c 6 <&3") || true
[ "$out" = hello ] || vg_fail "a connection to a working port failed: '$out'"
wait "$GUEST" || true
vg_has "failed" <"$VG_TMP/guest.out" || vg_fail "the stuck connect succeeded: $(cat "$VG_TMP/guest.out")"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
