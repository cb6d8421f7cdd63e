#!/bin/bash
# test_budget_udp.sh - the fd budget against UDP: vgate under a 1024-fd
# limit, the guest opens 3000 UDP flows to the host alias (one datagram
# each, over ~6 s) and holds their sockets. During the attack, while it sits
# idle and after it the acceptance matrix holds (bud_matrix: DNS over UDP and
# TCP answered, GET /stats within 1 s, a new guest TCP connection, vgate
# under 30 % of a core); the UDP bound holds (over-limit datagrams get ICMP,
# idle mappings are evicted for new ones, both counted), vgate does not spin,
# and a new UDP flow works while the flood's are held and once it is over.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"
source "$(dirname "$0")/budget_lib.sh"

bud_start
P=$BUD_PORT
bud_udp "$P" || vg_fail "UDP before the attack"
cat >"$VG_TMP/flood.py" <<'EOP'
import os, socket, sys, time
exec(open(os.environ["BUD_PRELUDE"]).read())
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks, errs, t0 = [], {}, time.monotonic()
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"x", ("192.168.127.254", port))
    except OSError as e:  # a queued ICMP error of this socket's port, reported here
        errs[e.errno] = errs.get(e.errno, 0) + 1
    socks.append(s)
    lag = t0 + secs * (i + 1) / n - time.monotonic()
    if lag > 0:
        time.sleep(lag)
open(sys.argv[4], "w").write("%d sockets, send errors %r\n" % (len(socks), errs))
end = time.time() + 60
while time.time() < end and not os.path.exists(sys.argv[4] + ".stop"):
    time.sleep(0.1)
EOP
vg_ns python3 "$VG_TMP/flood.py" "$P" 3000 6 "$VG_TMP/flood.done" &
FLOOD=$!
VG_CLEANUP_PIDS+=("$FLOOD")
over_limit() { [ "$(fwd_stat udp_over_limit)" -gt 0 ]; }
vg_wait_for 10 over_limit || vg_fail "the UDP bound was not reached"
bud_basic "during"
bud_dns_tcp || vg_fail "during: DNS over TCP not answered"
bud_tcp "$P" || vg_fail "during: a new TCP connection failed"
vg_log "during the UDP flood: DNS over UDP and TCP, /stats and TCP fine"
vg_wait_for 20 test -s "$VG_TMP/flood.done" || vg_fail "the flood did not finish"
vg_log "flood sent $(cat "$VG_TMP/flood.done") datagrams; udp_active=$(fwd_stat udp_active)"
# the 3000 sockets are held (the table full), the attack sits idle
bud_matrix "3000 UDP flows held"
bud_not_spinning
# the flood's mappings are idle now: a new flow evicts one
vg_wait_for 10 bud_udp "$P" || vg_fail "while held: a new UDP flow does not work"
bud_basic "counters"
python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["forwarder"]
assert f["udp_active"] <= f["udp_max"] < 1024, f
assert f["udp_over_limit"] > 0 and f["udp_evicted"] > 0, f
assert f["fd_exhausted"] == 0, f' "$VG_TMP/stats.json" || vg_fail "counters: $(cat "$VG_TMP/stats.json")"
curl -sS --max-time 2 --unix-socket "$BUD_SOCK" http://vgate/metrics >"$VG_TMP/metrics" ||
	vg_fail "no /metrics"
python3 "$VG_SRC/tests/e2e/prom_parse.py" "$VG_TMP/metrics" vgate_forwarder_udp_evicted_total \
	vgate_forwarder_fd_exhausted_total vgate_forwarder_udp_budget >/dev/null || vg_fail "/metrics does not parse"
grep -q '^vgate_forwarder_udp_evicted_total [1-9]' "$VG_TMP/metrics" || vg_fail "no evictions in /metrics"
touch "$VG_TMP/flood.done.stop"
wait "$FLOOD" || true
# the attack is over: all of it works, without a restart
bud_matrix "after"
vg_wait_for 10 bud_udp "$P" || vg_fail "after: a new UDP flow does not work"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
