#!/bin/bash
# test_budget_tcp.sh - the fd budget against TCP: vgate under a 1024-fd
# limit, the guest opens 2000 TCP connections to the host alias and holds
# them. The TCP bound holds (the SYNs over it get RST at once, counted, no
# fd runs out), and during the attack the acceptance matrix holds (bud_matrix:
# DNS over UDP and TCP, GET /stats within 1 s, vgate under 30 % of a core;
# also after it, with a new TCP connection), a new UDP flow works and vgate
# does not spin. A new TCP connection from the attacker's own address is
# refused at once while it holds the whole budget, but one from another guest
# address succeeds (the attacker's least recently active flow is evicted for
# it: per-source fairness, counted as tcp_evicted); the attacker's address
# connects again as soon as it lets go, without a restart.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"
source "$(dirname "$0")/budget_lib.sh"

bud_start
P=$BUD_PORT
cat >"$VG_TMP/hold.py" <<'EOP'
import os, socket, sys, time
exec(open(os.environ["BUD_PRELUDE"]).read())
port, n = int(sys.argv[1]), int(sys.argv[2])
held, refused, t0 = [], 0, time.monotonic()
for i in range(n):
    if time.monotonic() - t0 > 60:
        break
    try:
        held.append(socket.create_connection(("192.168.127.254", port), timeout=2))
    except OSError:
        refused += 1
open(sys.argv[3], "w").write("%d %d\n" % (len(held), refused))
end = time.time() + 120
while time.time() < end and not os.path.exists(sys.argv[3] + ".stop"):
    time.sleep(0.1)
EOP
vg_ns python3 "$VG_TMP/hold.py" "$P" 2000 "$VG_TMP/hold.done" &
HOLD=$!
VG_CLEANUP_PIDS+=("$HOLD")
vg_wait_for 90 test -s "$VG_TMP/hold.done" || vg_fail "the attacker did not finish connecting"
read -r held refused <"$VG_TMP/hold.done"
vg_log "attacker holds $held connections, $refused refused"
[ "$refused" -gt 0 ] || vg_fail "no connection refused: the bound did not hold"
bud_matrix "2000 TCP flows held" notcp
vg_wait_for 5 bud_udp "$P" || vg_fail "during: a new UDP flow failed"
r0=$(vg_syn_retrans)
out=$(vg_ns python3 -c '
import socket, sys
try:
    socket.create_connection(("192.168.127.254", int(sys.argv[1])), timeout=5)
    print("connected")
except OSError as e:
    print(e.__class__.__name__)' "$P")
r1=$(vg_syn_retrans)
vg_log "during: a new TCP connection: $out"
[ "$out" = ConnectionRefusedError ] || vg_fail "during: a TCP connection over the budget: $out"
# refused at once: the first SYN got the RST (no SYN retransmitted)
[ "$r1" = "$r0" ] || vg_fail "during: the refused SYN was retransmitted ($r0 -> $r1)"
# another guest source: a second address on the guest's interface
vg_ns ip addr add 192.168.127.77/32 dev tap0
other=$(vg_ns python3 -c '
import socket, sys
s = socket.socket(); s.settimeout(5); s.bind(("192.168.127.77", 0))
s.connect(("192.168.127.254", int(sys.argv[1]))); s.sendall(b"ping")
print(s.recv(10).decode())' "$P" 2>&1) || true
vg_log "during: a new TCP connection from another source: $other"
[ "$other" = ping ] || vg_fail "during: a connection from another source failed: $other"
bud_not_spinning
bud_basic "counters"
python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["forwarder"]
assert f["tcp_active"] <= f["tcp_max"] < 1024, f
assert f["tcp_over_limit"] > 0 and f["fd_exhausted"] == 0, f
assert f["tcp_evicted"] > 0, f' "$VG_TMP/stats.json" ||
	vg_fail "counters: $(cat "$VG_TMP/stats.json")"
touch "$VG_TMP/hold.done.stop"
wait "$HOLD" || true
vg_wait_for 20 bud_tcp "$P" || vg_fail "after: no new TCP connection"
bud_matrix "after"
bud_not_spinning
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
