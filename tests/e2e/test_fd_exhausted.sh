#!/bin/bash
# test_fd_exhausted.sh - accept() out of fds never spins (issue 10 item 1):
# vgate listens for QEMU (unix stream) and serves the control API; its fd
# limit is then lowered (prlimit) to its lowest free fd, so no accept() can
# get one, while a local client keeps connecting to both sockets (50 a second
# each, 8 s at most). vgate must stay under 10 % of a core (/proc/PID/stat
# over 2 s windows) instead of spinning on the level-triggered listeners; the
# failures are counted (transport.fd_exhausted, api.fd_exhausted in
# /stats and /metrics) and logged once each, not per try. With the limit
# back, both listeners work again without a restart: GET /stats answers and
# a QEMU client is accepted (transport.connects). Loopback unix sockets only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/budget_lib.sh"

QSOCK=$VG_TMP/qemu.sock
BUD_SOCK=$VG_TMP/api.sock
"$VGATE" --listen-qemu "unix://$QSOCK" --api "unix://$BUD_SOCK" --outbound-allow 127.0.0.0/8 \
	--pid-file "$VG_TMP/vgate.pid" 2>"$VG_LOG" &
VG_PID=$!
vg_wait_for 10 test -s "$VG_TMP/vgate.pid" || vg_fail "vgate did not become ready"
vg_wait_for 10 test -S "$BUD_SOCK" || vg_fail "no API socket"

# stat GROUP KEY: a counter from GET /stats (which must answer within 1 s)
stat() {
	curl -sS --max-time 1 --unix-socket "$BUD_SOCK" http://vgate/stats |
		python3 -c "import json, sys; print(json.load(sys.stdin)['$1']['$2'])"
}
[ "$(stat transport fd_exhausted)" = 0 ] || vg_fail "fd_exhausted before the test"
connects0=$(stat transport connects)

# no fd left: the limit at vgate's lowest free fd
read -r _ _ hard _ < <(prlimit --pid "$VG_PID" --nofile --noheadings --raw)
free=0
while [ -e "/proc/$VG_PID/fd/$free" ]; do free=$((free + 1)); done
prlimit --pid "$VG_PID" --nofile="$free:$hard" || vg_fail "prlimit failed"
vg_log "vgate's fd limit lowered to $free"

cat >"$VG_TMP/knock.py" <<'EOP'
import os, socket, sys, time
paths, stop = sys.argv[1:3], sys.argv[3]
end, tries = time.monotonic() + 8, 0
while time.monotonic() < end and not os.path.exists(stop):
    for p in paths:
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        try:
            s.connect(p)
        except OSError:
            pass
        s.close()
        tries += 1
    time.sleep(0.02)
print(tries)
EOP
python3 "$VG_TMP/knock.py" "$QSOCK" "$BUD_SOCK" "$VG_TMP/stop" >"$VG_TMP/knock.out" &
KNOCK=$!
VG_CLEANUP_PIDS+=("$KNOCK")
exhausted() { grep -q 'transport: accept() failed' "$VG_LOG" && grep -q 'api: accept() failed' "$VG_LOG"; }
vg_wait_for 5 exhausted || vg_fail "no accept() failure logged: $(tail -n 5 "$VG_LOG")"
bud_cpu_below 10 "out of fds, clients knocking"
touch "$VG_TMP/stop"
wait "$KNOCK" || true
vg_log "the client tried $(cat "$VG_TMP/knock.out") connections"
n=$(grep -c 'accept() failed' "$VG_LOG" || true)
[ "$n" -le 4 ] || vg_fail "accept() failures logged $n times, not rate-limited"
bud_cpu_below 10 "out of fds, idle"

# the limit back: both listeners work again
prlimit --pid "$VG_PID" --nofile="$hard:$hard" || vg_fail "prlimit failed"
vg_log "limit restored"
vg_wait_for 10 stat api fd_exhausted || vg_fail "GET /stats does not answer after the fds came back"
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(1.5)' "$QSOCK" &
HOLD=$!
VG_CLEANUP_PIDS+=("$HOLD")
accepted() { [ "$(stat transport connects)" -gt "$connects0" ]; }
vg_wait_for 5 accepted || vg_fail "no QEMU client accepted after the fds came back"
wait "$HOLD" || true
vg_log "a QEMU client accepted"
[ "$(stat transport fd_exhausted)" -gt 0 ] || vg_fail "transport_fd_exhausted not counted"
[ "$(stat api fd_exhausted)" -gt 0 ] || vg_fail "api fd_exhausted not counted"
curl -sS --max-time 2 --unix-socket "$BUD_SOCK" http://vgate/metrics >"$VG_TMP/metrics" ||
	vg_fail "no /metrics"
grep -Eq '^vgate_transport_fd_exhausted_total [1-9]' "$VG_TMP/metrics" || vg_fail "metrics: transport"
grep -Eq '^vgate_api_fd_exhausted_total [1-9]' "$VG_TMP/metrics" || vg_fail "metrics: api"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
