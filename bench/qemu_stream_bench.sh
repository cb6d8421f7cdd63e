#!/bin/bash
# qemu_stream_bench.sh - TCP throughput on the path QEMU VMs use: the QEMU
# stream transport (-netdev stream), vgate next to passt (its QEMU-socket
# mode) and QEMU's own user networking (-netdev user, libslirp), in the same
# run, written as a table with ratios to bench/qemu_stream_results.md. The
# TAP rig beside it is bench/forward_bench.sh.
#
# Usage: bench/qemu_stream_bench.sh VGATE [BASE_VGATE] [RUNS (3)] [SECONDS (4)]
# BASE_VGATE (e.g. a build of main before a change) is measured as a fourth
# peer. BENCH_PEERS="vgate passt" limits the peers; BENCH_MTUS="1500" the
# MTUs (default 1500 9000 32000); BENCH_OUT=FILE writes the table there;
# BENCH_CC=cubic sets the guest's congestion control (default: the host's);
# BENCH_PARALLEL=N runs N parallel iperf3 streams (default 1).
# BENCH_COUNTS=1 also counts, for the vgate peers, what each run cost per
# MB moved: vgate's and QEMU's system calls (perf stat on
# raw_syscalls:sys_enter for the run's seconds), frames to and from the
# guest, vgate's writes to host sockets, the frames its transmit queue
# dropped and the TCP segments it held back instead (its /stats, API on a
# unix socket); medians in a second table. Every run also records the CPU
# time the gateway, QEMU and the whole machine spent (from /proc), as a
# share of the run and per MB moved: the table that shows who is saturated.
#
# Set-up: no guest CPU. QEMU runs with -M none and joins, on its hub
# (hubid 0), a -netdev tap and the peer's netdev; the TAP is moved into a
# fresh "guest" namespace, so that namespace's kernel is the guest and QEMU's
# own stream client talks to the gateway:
#   vgate       --listen-qemu unix://SOCK; QEMU -netdev stream,server=off,
#               addr.type=unix,addr.path=SOCK; guest 192.168.127.2, host
#               alias 192.168.127.254
#   passt       -f -1 -s SOCK (QEMU socket mode), the same -netdev stream;
#               guest 10.99.0.2 (passt copies the host's address), host
#               loopback at the gateway 10.99.0.1
#   QEMU user   -netdev user on the hub (QEMU itself is the gateway); guest
#               10.0.2.15, host loopback at 10.0.2.2
# A private namespace plays the host (lo, and a veth with a default route to
# nobody: nothing can leave the machine); the gateway and QEMU run in it, the
# iperf3 server listens on its 127.0.0.1. The gateway (vgate, passt, or QEMU
# for user networking) is pinned to CPU 0, the iperf3 client and server to
# CPU 1; QEMU as the hub of the stream peers is not pinned. QEMU 7.2's hub
# aborts on frames near 65520 bytes with every gateway, so the rig stops at
# MTU 32000. Medians of RUNS rounds of SECONDS-long runs, the peers taking
# turns in each round, a fresh guest per run; every wait is bounded. Needs
# root, qemu-system-x86, passt, iperf3, python3.
set -euo pipefail

VGATE=$(readlink -f "${1:?usage: $0 VGATE [BASE_VGATE] [RUNS] [SECONDS]}")
BASE=${2:+$(readlink -f "$2")}
RUNS=${3:-3}
SECS=${4:-4}
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-$TOP/bench/qemu_stream_results.md}
NOTES=${BENCH_NOTES:-$TOP/bench/qemu_stream_notes.md} # appended to the table
read -r -a MTUS <<<"${BENCH_MTUS:-1500 9000 32000}"
HOSTNS=vgq-host-$$
TMP=$(mktemp -d /tmp/vgate-qbench.XXXXXX)
PIDS=()
CHILD=""
QPID=""
GW_PID=""

# shellcheck source=bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"
cleanup() { bench_cleanup "^vgq-.*-$$\$"; }
trap cleanup EXIT
trap 'exit 130' INT TERM


# --- the private host namespace and its servers ---
bench_host_ns "$HOSTNS" vgq
bg ip netns exec "$HOSTNS" taskset -c 1 iperf3 -s -B 127.0.0.1 -p 5201 >/dev/null 2>&1
# the readiness probe's server: "ok" for every read
bg ip netns exec "$HOSTNS" python3 "$TOP/tests/e2e/fwd_servers.py" okreply 127.0.0.1 5301

# --- one guest namespace per measurement ---
new_child() {
	CHILD=vgq-c$RANDOM-$$
	ip netns add "$CHILD"
	ip netns exec "$CHILD" ip link set lo up
}
del_child() {
	[ -n "$CHILD" ] || return 0
	ip netns pids "$CHILD" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del "$CHILD" 2>/dev/null || true
	CHILD=""
}

# qemu_hub NETDEV...: QEMU in the host namespace with a TAP and NETDEV on
# hub 0; the TAP then moves into the guest namespace (its fd stays QEMU's)
qemu_hub() {
	local tap=vgqt$RANDOM pin=()
	[ "$PEER_KIND" = user ] && pin=(taskset -c 0)
	ip netns exec "$HOSTNS" "${pin[@]}" qemu-system-x86_64 -M none -nodefaults -display none -monitor none -serial none \
		-netdev "tap,id=t0,ifname=$tap,script=no,downscript=no" "$@" \
		-netdev hubport,id=h0,hubid=0,netdev=t0 -netdev hubport,id=h1,hubid=0,netdev=s0 \
		>>"$TMP/qemu.log" 2>&1 &
	QPID=$!
	PIDS+=("$QPID")
	for _ in $(seq 50); do hx ip link show "$tap" >/dev/null 2>&1 && break; sleep 0.1; done
	hx ip link set "$tap" netns "$CHILD" || return 1
	ip netns exec "$CHILD" ip link set "$tap" name tap0
}

# guest_net ADDR/LEN GW MTU: static configuration of the guest side
guest_net() {
	ip netns exec "$CHILD" ip link set tap0 mtu "$3" up
	ip netns exec "$CHILD" ip addr add "$1" dev tap0
	ip netns exec "$CHILD" ip route add default via "$2"
}

# start_peer PEER MTU: sets GW_PID, QPID and TARGET (the host as the guest sees it)
start_peer() {
	local peer=$1 mtu=$2 sock=$TMP/gw-$RANDOM.sock bin=$VGATE
	new_child
	GW_PID=""
	PEER_KIND=stream
	case $peer in
	vgate | vgate-base)
		[ "$peer" = vgate-base ] && bin=$BASE
		api=()
		rm -f "$TMP/api.sock"
		[ -n "${BENCH_COUNTS:-}" ] && api=(--api "unix://$TMP/api.sock")
		ip netns exec "$HOSTNS" taskset -c 0 "$bin" --listen-qemu "unix://$sock" --mtu "$mtu" \
			--outbound-allow 127.0.0.0/8 --log-level warn "${api[@]}" 2>>"$TMP/vgate.log" &
		GW_PID=$!
		for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
		qemu_hub -netdev "stream,id=s0,server=off,addr.type=unix,addr.path=$sock" || return 1
		guest_net 192.168.127.2/24 192.168.127.1 "$mtu"
		TARGET=192.168.127.254
		;;
	passt)
		ip netns exec "$HOSTNS" taskset -c 0 passt -f -1 -4 --runas 0 -s "$sock" -m "$mtu" -t none -u none \
			>"$TMP/passt.log" 2>&1 &
		GW_PID=$!
		# listening once it says so (a probe connection would be its one client)
		for _ in $(seq 50); do grep -q "start qemu" "$TMP/passt.log" && break; sleep 0.1; done
		qemu_hub -netdev "stream,id=s0,server=off,addr.type=unix,addr.path=$sock" || return 1
		guest_net 10.99.0.2/24 10.99.0.1 "$mtu"
		TARGET=10.99.0.1
		;;
	qemu-user)
		PEER_KIND=user
		qemu_hub -netdev user,id=s0,net=10.0.2.0/24,host=10.0.2.2 || return 1
		guest_net 10.0.2.15/24 10.0.2.2 "$mtu"
		TARGET=10.0.2.2
		;;
	esac
	bench_wait_up "$peer (mtu $mtu)"
}
stop_peer() {
	local p
	for p in $QPID $GW_PID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	QPID="" GW_PID=""
	del_child
}

# stats: vgate's /stats (BENCH_COUNTS), "{}" when there are none
stats() {
	[ -S "$TMP/api.sock" ] || { echo '{}'; return; }
	curl -sS --max-time 5 --unix-socket "$TMP/api.sock" http://vgate/stats 2>/dev/null || echo '{}'
}

# iperf REV: Gbit/s of one run ("-" on failure); with BENCH_COUNTS and a
# vgate peer, appends "PEER MTU DIR MB syscalls_vgate syscalls_qemu
# frames_in frames_out host_writes tx_queue_drops tx_held" to $TMP/counts
iperf() {
	local j s0 s1 pv="" pq="" c0
	c0=$(cpu_now)
	if [ -n "${BENCH_COUNTS:-}" ] && [ -n "$GW_PID" ]; then
		s0=$(stats)
		perf stat -x, -e raw_syscalls:sys_enter -o "$TMP/perf-gw" -p "$GW_PID" -- sleep "$SECS" 2>/dev/null &
		pv=$!
		perf stat -x, -e raw_syscalls:sys_enter -o "$TMP/perf-q" -p "$QPID" -- sleep "$SECS" 2>/dev/null &
		pq=$!
	fi
	j=$(timeout $((SECS + 6)) ip netns exec "$CHILD" taskset -c 1 iperf3 -c "$TARGET" -p 5201 ${BENCH_CC:+-C "$BENCH_CC"} \
		-t "$SECS" -P "${BENCH_PARALLEL:-1}" ${1:+"$1"} -J 2>/dev/null) || j='{}'
	cpu_record "$c0" "$(cpu_now)" "${1:-up}" "$j"
	if [ -n "$pv" ]; then
		wait "$pv" "$pq" 2>/dev/null || true
		s1=$(stats)
		python3 - "$PEER_NOW" "$MTU_NOW" "${1:-up}" "$j" "$s0" "$s1" "$TMP/perf-gw" "$TMP/perf-q" \
			>>"$TMP/counts" <<'PY' || true
import json, sys
peer, mtu, d, j, s0, s1, pg, pq = sys.argv[1:]
j, s0, s1 = json.loads(j), json.loads(s0), json.loads(s1)
mb = j.get("end", {}).get("sum_received", {}).get("bytes", 0) / 1e6
def perf(f):
    for line in open(f):
        if "raw_syscalls" in line:
            return int(line.split(",")[0]) if line.split(",")[0].isdigit() else 0
    return 0
def d_(sec, key):
    return s1.get(sec, {}).get(key, 0) - s0.get(sec, {}).get(key, 0)
writes = d_("forwarder", "tcp_writes_out")
held = d_("link", "tcp_tx_held") if "tcp_tx_held" in s1.get("link", {}) else "-"
print(peer, mtu, "down" if d == "-R" else "up", "%.1f" % mb, perf(pg), perf(pq),
      d_("link", "rx_frames"), d_("link", "tx_frames"), writes if writes > 0 else "-",
      d_("link", "drop_tx_queue"), held)
PY
	fi
	python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' \
		<<<"$j" 2>/dev/null || echo -
}
# cpu_now: "gateway QEMU machine" CPU time in clock ticks so far (the
# gateway's and QEMU's utime+stime, all threads; the machine's busy time
# from /proc/stat) and the wall clock in ms
cpu_now() {
	local p t=() v
	for p in "$GW_PID" "$QPID"; do
		v=0
		[ -n "$p" ] && [ -r "/proc/$p/stat" ] && v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")
		t+=("$v")
	done
	t+=("$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)")
	echo "${t[*]} $(date +%s%3N)"
}
# cpu_record BEFORE AFTER DIR JSON: appends "PEER MTU DIR MB gateway_ms
# qemu_ms machine_ms wall_ms" to $TMP/cpu
cpu_record() {
	python3 - "$PEER_NOW" "$MTU_NOW" "$3" "$1" "$2" "$4" "$(getconf CLK_TCK)" >>"$TMP/cpu" <<'PY' || true
import json, sys
peer, mtu, d, a, b, j, hz = sys.argv[1:]
a, b = [float(x) for x in a.split()], [float(x) for x in b.split()]
mb = json.loads(j).get("end", {}).get("sum_received", {}).get("bytes", 0) / 1e6
ms = [(y - x) * 1000 / float(hz) for x, y in zip(a[:3], b[:3])]
print(peer, mtu, "down" if d == "-R" else "up", "%.1f" % mb, *("%.0f" % v for v in ms), "%.0f" % (b[3] - a[3]))
PY
}
# PY_ROWS: the head of the python that writes a per-run table: run_rows(N)
# yields (MTU, direction, peer, rows) in table order from the file in argv[1],
# whose lines are "PEER MTU up|down MB ..." with N fields
PY_ROWS='import statistics, sys
def run_rows(n):
    r = {}
    for line in open(sys.argv[1]):
        f = line.split()
        if len(f) == n and float(f[3]) > 0:
            r.setdefault((f[1], f[2], f[0]), []).append(f[3:])
    for k in sorted(r, key=lambda k: (int(k[0]), k[1] != "up", k[2])):
        yield k[0], "guest→host" if k[1] == "up" else "host→guest", k[2], r[k]
'
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:] if x!="-"]; print("%.2f" % statistics.median(v) if v else "-")' "$@"; }
ratio() { python3 -c 'import sys; a,b=sys.argv[1:]; print("%.2f×" % (float(a)/float(b)) if a.replace(".","").isdigit() and b.replace(".","").isdigit() and float(b)>0 else "n/a")' "$1" "$2"; }

# the peers take turns within each round of runs, so that a slow spell of
# this shared machine falls on all of them rather than on one peer's runs
declare -A R UP DOWN
read -r -a PEERS <<<"${BENCH_PEERS:-vgate${BASE:+ vgate-base} passt qemu-user}"
for mtu in "${MTUS[@]}"; do
	for _ in $(seq 1 "$RUNS"); do
		for peer in "${PEERS[@]}"; do
			PEER_NOW=$peer MTU_NOW=$mtu
			if ! start_peer "$peer" "$mtu"; then
				UP[$peer]+=" -" DOWN[$peer]+=" -"
				stop_peer
				continue
			fi
			UP[$peer]+=" $(iperf "")"
			DOWN[$peer]+=" $(iperf -R)"
			stop_peer
		done
	done
	for peer in "${PEERS[@]}"; do
		read -r -a up <<<"${UP[$peer]}"
		read -r -a down <<<"${DOWN[$peer]}"
		UP[$peer]="" DOWN[$peer]=""
		R[$peer,$mtu,up]=$(median "${up[@]}")
		R[$peer,$mtu,down]=$(median "${down[@]}")
		log "$peer mtu $mtu: guest→host ${up[*]} host→guest ${down[*]} Gbit/s"
	done
done

{
	echo "# QEMU stream transport benchmarks"
	echo
	echo "Generated by \`bench/qemu_stream_bench.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs, $(uname -r),"
	echo "$(qemu-system-x86_64 --version | head -1)); iperf3 Gbit/s, medians of $RUNS runs of ${SECS} s, all"
	echo "peers in the same run taking turns within each round, a fresh guest namespace per run"
	echo "behind a private host namespace."
	[ -n "${BENCH_PARALLEL:-}" ] && echo "${BENCH_PARALLEL} parallel iperf3 streams per run (BENCH_PARALLEL)."
	echo "The guest is a network namespace whose TAP is joined to the gateway by QEMU's hub"
	echo "(\`-M none\`, no guest CPU). Gateway on CPU 0, iperf3 on CPU 1, QEMU's hub unpinned."
	echo
	hdr="| MTU | direction | vgate |${BASE:+ vgate (base) |} passt | QEMU user | vgate/passt | vgate/QEMU user |${BASE:+ vgate/base |}"
	echo "$hdr"
	echo "|---|---|---|${BASE:+---|}---|---|---|---|${BASE:+---|}"
	for mtu in "${MTUS[@]}"; do
		for d in up down; do
			name=$([ $d = up ] && echo "guest→host" || echo "host→guest")
			v=${R[vgate,$mtu,$d]:--} b=${R[vgate-base,$mtu,$d]:--}
			p=${R[passt,$mtu,$d]:--} u=${R[qemu-user,$mtu,$d]:--}
			line="| $mtu | $name | $v |${BASE:+ $b |} $p | $u | $(ratio "$v" "$p") | $(ratio "$v" "$u") |"
			[ -n "$BASE" ] && line="$line $(ratio "$v" "$b") |"
			echo "$line"
		done
	done
	echo
	echo "Targets (issue 13): vgate ≥ 1.3× passt and ≥ 1.5× QEMU user networking in every row;"
	echo "guest→host at MTU 1500 ≥ 2× the build from before issue 13."
	if [ -s "$TMP/counts" ]; then
		echo
		echo "Counts per MB moved (BENCH_COUNTS; medians of the runs; system calls counted by"
		echo "\`perf stat -e raw_syscalls:sys_enter\` over each run's ${SECS} s, frames and host writes"
		echo "from vgate's /stats; a host write is a sendmsg of guest bytes; frames the transmit"
		echo "queue dropped and TCP segments held back in lwIP instead, per run; \"-\" where the"
		echo "build does not count them):"
		echo
		python3 -c "$PY_ROWS$(
			cat <<'PY'
def med(rows, i, per_mb=True):
    v = [float(x[i]) / (float(x[0]) if per_mb else 1) for x in rows if x[i] != "-"]
    return statistics.median(v) if v else None
print("| MTU | direction | build | vgate syscalls/MB | QEMU syscalls/MB | frames from guest/MB | frames to guest/MB | bytes per host write | tx queue drops | held segments |")
print("|---|---|---|---|---|---|---|---|---|---|")
for mtu, d, peer, rows in run_rows(11):
    w = med(rows, 5)
    fmt = lambda v: "-" if v is None else "%.0f" % v
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        mtu, d, peer, fmt(med(rows, 1)), fmt(med(rows, 2)),
        fmt(med(rows, 3)), fmt(med(rows, 4)), "%.0f" % (1e6 / w) if w and d == "guest→host" else "-",
        fmt(med(rows, 6, False)), fmt(med(rows, 7, False))))
PY
		)" "$TMP/counts"
	fi
	if [ -s "$TMP/cpu" ]; then
		echo
		echo "CPU during the runs (medians; from /proc: the gateway's and QEMU's user+system"
		echo "time, all threads, and the whole machine's busy time, as a share of the run's wall"
		echo "time — 100 % is one core, the machine has $(nproc) — and per MB moved):"
		echo
		python3 -c "$PY_ROWS$(
			cat <<'PY'
print("| MTU | direction | gateway | gateway % | QEMU % | machine % | gateway ms/MB | QEMU ms/MB | machine ms/MB |")
print("|---|---|---|---|---|---|---|---|---|")
for mtu, d, peer, rows in run_rows(8):
    rows = [[float(x) for x in row] for row in rows]
    pct = lambda i: statistics.median(x[i] * 100 / x[4] for x in rows)
    per = lambda i: statistics.median(x[i] / x[0] for x in rows)
    gw = "-" if peer == "qemu-user" else "%.0f" % pct(1)
    gwmb = "-" if peer == "qemu-user" else "%.2f" % per(1)
    print("| %s | %s | %s | %s | %.0f | %.0f | %s | %.2f | %.2f |" % (
        mtu, d, peer, gw, pct(2), pct(3), gwmb, per(2), per(3)))
PY
		)" "$TMP/cpu"
	fi
	if [ -s "$NOTES" ]; then
		echo
		cat "$NOTES"
	fi
} >"$OUT"
cat "$OUT"
