#!/bin/bash
# flows_bench.sh - what 10,000 live guest TCP flows cost every new SYN and
# every segment: for each vgate binary given, in the same run, the guest's
# TCP connect rate (sequential connect / 1-byte echo / close) and the echo
# round-trip rate of one connection (1 byte ping-pong), first with no other
# flow, then with 10,000 idle flows open through vgate; the ratio of the two
# is the per-SYN / per-segment cost of the flows (1.0: none).
#
# Usage: bench/flows_bench.sh VGATE_BINARY [OTHER_VGATE_BINARY] [SECONDS (5)]
#
# Set-up: the e2e tests' rig (tests/e2e/lib.sh): a guest namespace on
# vgate's TAP (--outbound-allow 127.0.0.0/8 only), an echo server on the
# host's 127.0.0.1 reached at the host alias 192.168.127.254 (the 10,000
# flows go to a second one, so that the kernels' port choice for the
# measured connects does not search among them); vgate and the
# clients run with RLIMIT_NOFILE raised to its hard limit (>= 12000). Bounded: 10,000 flows, SECONDS per
# measurement. BENCH_OUT=FILE also writes the markdown table there.
set -euo pipefail

BINS=("$(readlink -f "${1:?usage: $0 VGATE_BINARY [OTHER_VGATE_BINARY] [SECONDS]}")")
if [ -n "${2:-}" ] && [ -x "$2" ]; then
	BINS+=("$(readlink -f "$2")")
	SECS=${3:-5}
else
	SECS=${2:-5}
fi
FLOWS=10000
VGATE_SRC=$(cd "$(dirname "$0")/.." && pwd)
export VGATE_SRC
VGATE=${BINS[0]}
# shellcheck source=../tests/e2e/lib.sh
source "$VGATE_SRC/tests/e2e/lib.sh"
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 12000 ] || vg_fail "RLIMIT_NOFILE hard limit under 12000"

cat >"$VG_TMP/echo.py" <<'EOP'
import selectors, socket, sys
sel = selectors.DefaultSelector()
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(4096); ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ)
while True:
    for k, _ in sel.select():
        if k.fileobj is ls:
            try:
                c, _ = ls.accept()
            except OSError:
                continue
            c.setblocking(False); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(c, selectors.EVENT_READ)
            continue
        try:
            d = k.fileobj.recv(4096)
        except OSError:
            d = b""
        if d:
            k.fileobj.send(d)
        else:
            sel.unregister(k.fileobj); k.fileobj.close()
EOP
cat >"$VG_TMP/client.py" <<'EOP'
import os, socket, sys, time
mode, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
addr = ("192.168.127.254", port)
if mode == "connect":
    n, end = 0, time.monotonic() + secs
    while time.monotonic() < end:
        s = socket.create_connection(addr, timeout=5)
        s.sendall(b"x"); s.recv(1); s.close(); n += 1
    print("%.0f" % (n / secs))
elif mode == "rtt":
    s = socket.create_connection(addr, timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n, end = 0, time.monotonic() + secs
    while time.monotonic() < end:
        s.sendall(b"x"); s.recv(1); n += 1
    print("%.0f" % (n / secs))
else:  # hold N flows open until the file argv[4] exists (at most 600 s)
    held = []
    for i in range(int(sys.argv[3])):
        held.append(socket.create_connection(addr, timeout=10))
    open(sys.argv[4] + ".up", "w").write("%d\n" % len(held))
    end = time.time() + 600
    while time.time() < end and not os.path.exists(sys.argv[4]):
        time.sleep(0.2)
EOP

measure() { vg_ns python3 "$VG_TMP/client.py" "$1" "$PORT" "$SECS"; }

ROWS=()
for bin in "${BINS[@]}"; do
	VGATE=$bin
	vg_start --max-flows 16384
	PORT=$(vg_free_port 2)
	HPORT=$((PORT + 1))
	vg_bg python3 "$VG_TMP/echo.py" "$PORT"
	vg_bg python3 "$VG_TMP/echo.py" "$HPORT"
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" || vg_fail "echo server did not start"
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HPORT" || vg_fail "echo server did not start"
	c0=$(measure connect)
	r0=$(measure rtt)
	vg_log "$(basename "$(dirname "$(dirname "$bin")")"): 0 flows: $c0 connects/s, $r0 round trips/s"
	rm -f "$VG_TMP/hold" "$VG_TMP/hold.up"
	vg_ns python3 "$VG_TMP/client.py" hold "$HPORT" "$FLOWS" "$VG_TMP/hold" &
	HOLD=$!
	VG_CLEANUP_PIDS+=("$HOLD")
	vg_wait_for 300 test -s "$VG_TMP/hold.up" || vg_fail "the $FLOWS flows did not open"
	c1=$(measure connect)
	r1=$(measure rtt)
	vg_log "$FLOWS flows: $c1 connects/s, $r1 round trips/s"
	touch "$VG_TMP/hold"
	wait "$HOLD" || true
	ROWS+=("| $bin | $c0 | $c1 | $(echo "scale=2; $c1 / $c0" | bc) | $r0 | $r1 | $(echo "scale=2; $r1 / $r0" | bc) |")
	kill "$VG_PID"
	wait "$VG_PID" 2>/dev/null || true
	ip netns pids "$VG_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$VG_NS"
done
{
	echo "| vgate | connects/s, 0 flows | connects/s, $FLOWS flows | ratio | round trips/s, 0 flows | round trips/s, $FLOWS flows | ratio |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
} | tee "${BENCH_OUT:-/dev/null}"
