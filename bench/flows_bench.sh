#!/bin/bash
# flows_bench.sh - what 10,000 live guest TCP flows cost every new SYN and
# every segment: for each vgate binary given, in the same run, the guest's
# TCP connect rate (sequential connect / 1-byte echo / close) and the echo
# round-trip rate of one connection (1 byte ping-pong), first with no other
# flow, then with 10,000 idle flows open through vgate; the ratio of the two
# is the per-SYN / per-segment cost of the flows (1.0: none). Then bulk
# throughput (iperf3, SECONDS, guest->host and host->guest) with 0, 1,000
# and 10,000 idle flows open beside it (issue 13: 10,000 idle flows may cost
# at most 10 % of it, a ratio >= 0.90).
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
# bulk [-R]: iperf3's received rate in Mbit/s, guest->host (host->guest with -R)
bulk() {
	vg_ns iperf3 -c 192.168.127.254 -p "$IPORT" -t "$SECS" -J "$@" >"$VG_TMP/iperf.json" ||
		vg_fail "iperf3 failed: $(tail -c 300 "$VG_TMP/iperf.json")"
	python3 -c 'import json,sys; print("%.0f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$VG_TMP/iperf.json"
}
# hold N TAG: N more idle flows to the second echo server, open until TAG's
# file exists; returns when they are all up
hold() {
	rm -f "$VG_TMP/$2" "$VG_TMP/$2.up"
	vg_ns python3 "$VG_TMP/client.py" hold "$HPORT" "$1" "$VG_TMP/$2" &
	HOLDS+=($!)
	VG_CLEANUP_PIDS+=($!)
	vg_wait_for 300 test -s "$VG_TMP/$2.up" || vg_fail "the $1 flows did not open"
}
# at_most N: vgate holds at most N guest TCP flows (its /metrics)
at_most() {
	local n
	n=$(curl -s --max-time 2 --unix-socket "$VG_TMP/api.sock" http://vgate/metrics |
		awk '$1 == "vgate_link_tcp_active" { print $2 }')
	[ -n "$n" ] && [ "$n" -le "$1" ]
}
# settled N: wait (at most 120 s) until the flows a hold client closed are
# gone and at most N remain, before measuring
settled() { vg_wait_for 120 at_most "$1" || vg_fail "the closed flows did not go away"; }
ratio() { echo "scale=2; $2 / $1" | bc; }

ROWS=()
BULK=()
for bin in "${BINS[@]}"; do
	VGATE=$bin
	vg_start --max-flows 16384 --api "unix://$VG_TMP/api.sock"
	PORT=$(vg_free_port 3)
	HPORT=$((PORT + 1))
	IPORT=$((PORT + 2))
	HOLDS=()
	vg_bg python3 "$VG_TMP/echo.py" "$PORT"
	vg_bg iperf3 -s -B 127.0.0.1 -p "$IPORT" >/dev/null
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$IPORT" || vg_fail "iperf3 server did not start"
	vg_bg python3 "$VG_TMP/echo.py" "$HPORT"
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" || vg_fail "echo server did not start"
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HPORT" || vg_fail "echo server did not start"
	c0=$(measure connect)
	r0=$(measure rtt)
	# bulk at 0, 1000, 10000, 1000 and 0 flows: the two 0s and the two 1000s
	# are averaged, so that a machine getting busier or quieter during the
	# run does not pass for a cost of the flows
	ua=$(bulk)
	da=$(bulk -R)
	vg_log "$(basename "$(dirname "$(dirname "$bin")")"): 0 flows: $c0 connects/s, $r0 round trips/s, bulk $ua up / $da down Mbit/s"
	hold 1000 hold1
	ub=$(bulk)
	db=$(bulk -R)
	vg_log "1000 flows: bulk $ub up / $db down Mbit/s"
	hold $((FLOWS - 1000)) hold2
	c1=$(measure connect)
	r1=$(measure rtt)
	u2=$(bulk)
	d2=$(bulk -R)
	vg_log "$FLOWS flows: $c1 connects/s, $r1 round trips/s, bulk $u2 up / $d2 down Mbit/s"
	touch "$VG_TMP/hold2"
	wait "${HOLDS[1]}" || true
	settled 1010
	uc=$(bulk)
	dc=$(bulk -R)
	vg_log "1000 flows again: bulk $uc up / $dc down Mbit/s"
	touch "$VG_TMP/hold1"
	wait "${HOLDS[0]}" || true
	settled 10
	ud=$(bulk)
	dd=$(bulk -R)
	vg_log "0 flows again: bulk $ud up / $dd down Mbit/s"
	u0=$(((ua + ud) / 2)) d0=$(((da + dd) / 2))
	u1=$(((ub + uc) / 2)) d1=$(((db + dc) / 2))
	ROWS+=("| $bin | $c0 | $c1 | $(ratio "$c0" "$c1") | $r0 | $r1 | $(ratio "$r0" "$r1") |")
	BULK+=("| $bin | $u0 | $u1 | $(ratio "$u0" "$u1") | $u2 | $(ratio "$u0" "$u2") | $d0 | $d1 | $(ratio "$d0" "$d1") | $d2 | $(ratio "$d0" "$d2") |")
	kill "$VG_PID"
	wait "$VG_PID" 2>/dev/null || true
	ip netns pids "$VG_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$VG_NS"
done
{
	echo "| vgate | connects/s, 0 flows | connects/s, $FLOWS flows | ratio | round trips/s, 0 flows | round trips/s, $FLOWS flows | ratio |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "Bulk throughput, Mbit/s (iperf3 ${SECS} s through the host alias), beside idle flows"
	echo "(0 and 1000: the mean of the measurement before and after $FLOWS):"
	echo
	echo "| vgate | up, 0 | up, 1000 | ratio | up, $FLOWS | ratio | down, 0 | down, 1000 | ratio | down, $FLOWS | ratio |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${BULK[@]}"
} | tee "${BENCH_OUT:-/dev/null}"
