#!/bin/bash
# forward_bench.sh - TCP NAT benchmarks of vgate next to slirp4netns and
# pasta, in the same run, written as a table to bench/forward_results.md.
#
# Usage: bench/forward_bench.sh VGATE_BINARY [RUNS (3)] [SECONDS (5)]
#
# Set-up (docs/design.md, "Benchmark targets and rigs"): a private namespace "host" plays the host: a
# veth pair inside it with 10.99.0.2/24 and a default route to nobody, so
# nothing can leave the machine; every server listens on its 127.0.0.1. Each
# peer gets a fresh "guest" namespace:
#   vgate        --tap-netns, guest 192.168.127.2, host alias 192.168.127.254
#   slirp4netns  --configure --mtu, host at 10.0.2.2
#   pasta        --config-net -m MTU, host loopback via the gateway 10.99.0.1
# Measured (medians of RUNS): iperf3 guest→host and host→guest (-R) at MTU
# 1500 and 65520; TCP connections per second (one client, sequential
# connect/send/recv/close, SECONDS long); the gateway process's RSS with
# 1,000 idle connections open (and before them).
# BENCH_PEERS="vgate" limits the peers (quick runs; the table then has gaps).
# BENCH_OUT=FILE writes the table there instead of bench/forward_results.md.
# Needs root, iperf3, python3, slirp4netns, passt (pasta), busybox.
set -euo pipefail

VGATE=${1:?usage: $0 VGATE_BINARY [RUNS] [SECONDS]}
VGATE=$(readlink -f "$VGATE")
RUNS=${2:-3}
SECS=${3:-5}
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-$(cd "$(dirname "$0")" && pwd)/forward_results.md}
HOSTNS=vgb-host-$$
TMP=$(mktemp -d /tmp/vgate-bench.XXXXXX)
PIDS=()
CHILD=""

source "$(dirname "$0")/bench_lib.sh"
cleanup() { bench_cleanup "^vgb-.*-$$\$"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the private host namespace and its servers ---
bench_host_ns "$HOSTNS" vgb
bg ip netns exec "$HOSTNS" iperf3 -s -B 127.0.0.1 -p 5201
# the server the connection-rate client talks to: "ok" for every read
bg ip netns exec "$HOSTNS" python3 "$TOP/tests/e2e/fwd_servers.py" okreply 127.0.0.1 5301
cat >"$TMP/cps.py" <<'PY'
import socket, sys, time
host, secs = sys.argv[1], float(sys.argv[2])
n, t0 = 0, time.time()
while time.time() - t0 < secs:
    s = socket.create_connection((host, 5301), timeout=5)
    s.sendall(b"hi\n"); s.recv(10); s.close()
    n += 1
print(int(n / (time.time() - t0)))
PY
cat >"$TMP/idle.py" <<'PY'
import socket, sys, time
host, n = sys.argv[1], int(sys.argv[2])
conns = []
for i in range(n):
    s = socket.create_connection((host, 5301), timeout=5)
    s.sendall(b"hi\n"); s.recv(10)
    conns.append(s)
print("open", flush=True)
time.sleep(3600)
PY
sleep 1

# --- one guest namespace per measurement ---

# start_peer PEER MTU: sets GW_PID and TARGET (the host as the guest sees it)
start_peer() {
	local peer=$1 mtu=$2
	bench_new_child vgb
	case $peer in
	vgate)
		ip netns exec "$HOSTNS" "$VGATE" --tap-netns "/run/netns/$CHILD" --tap-name tap0 --mtu "$mtu" \
			--outbound-allow 127.0.0.0/8 --log-level warn --pid-file "$TMP/vg.pid" \
			2>>"$TMP/vgate.log" &
		GW_PID=$!
		for _ in $(seq 50); do [ -s "$TMP/vg.pid" ] && break; sleep 0.1; done
		rm -f "$TMP/vg.pid"
		ip netns exec "$CHILD" ip link set tap0 mtu "$mtu" up
		ip netns exec "$CHILD" ip addr add 192.168.127.2/24 dev tap0
		ip netns exec "$CHILD" ip route add default via 192.168.127.1
		TARGET=192.168.127.254
		;;
	slirp4netns)
		ip netns exec "$HOSTNS" slirp4netns --configure --mtu="$mtu" --netns-type=path "/run/netns/$CHILD" tap0 \
			>/dev/null 2>&1 &
		GW_PID=$!
		TARGET=10.0.2.2
		;;
	pasta)
		ip netns exec "$HOSTNS" pasta -f -4 --runas 0 --config-net -m "$mtu" --netns "/run/netns/$CHILD" \
			-t none -u none -T none -U none >/dev/null 2>&1 &
		GW_PID=$!
		TARGET=10.99.0.1
		;;
	esac
	# (ip netns exec execs the command: $! is the gateway itself)
	PIDS+=("$GW_PID")
	for _ in $(seq 50); do
		ip netns exec "$CHILD" python3 -c "import socket; socket.create_connection(('$TARGET', 5301), timeout=1).close()" \
			2>/dev/null && return 0
		sleep 0.2
	done
	log "$peer (mtu $mtu) did not come up"
	return 1
}
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }

declare -A R
read -r -a PEERS <<<"${BENCH_PEERS:-vgate slirp4netns pasta}" # subset for quick runs
for mtu in 1500 65520; do
	for peer in "${PEERS[@]}"; do
		up=() down=()
		for _ in $(seq 1 "$RUNS"); do
			start_peer "$peer" "$mtu" || { up+=(-); down+=(-); continue; }
			up+=("$(bench_iperf)")
			down+=("$(bench_iperf -R)")
			bench_stop_peer
		done
		R[$peer,$mtu,up]=$(bench_median "${up[@]}")
		R[$peer,$mtu,down]=$(bench_median "${down[@]}")
		log "$peer mtu $mtu: guest→host ${up[*]} host→guest ${down[*]} Gbit/s"
	done
done
for peer in "${PEERS[@]}"; do
	cps=()
	for _ in $(seq 1 "$RUNS"); do
		start_peer "$peer" 1500 || continue
		cps+=("$(ip netns exec "$CHILD" python3 "$TMP/cps.py" "$TARGET" "$SECS" || echo -)")
		bench_stop_peer
	done
	R[$peer,cps]=$(bench_median "${cps[@]}")
	start_peer "$peer" 1500
	R[$peer,rss0]=$(rss_kb "$GW_PID")
	ip netns exec "$CHILD" python3 "$TMP/idle.py" "$TARGET" 1000 >"$TMP/idle.out" 2>&1 &
	idle=$!
	for _ in $(seq 300); do grep -q open "$TMP/idle.out" && break; sleep 0.1; done
	sleep 1
	R[$peer,rss1000]=$(rss_kb "$GW_PID")
	grep -q open "$TMP/idle.out" || R[$peer,rss1000]="- (failed)"
	kill "$idle" 2>/dev/null || true
	bench_stop_peer
	log "$peer: ${cps[*]} conn/s; RSS ${R[$peer,rss0]} kB idle, ${R[$peer,rss1000]} kB with 1000 flows"
done

{
	echo "# Forwarder benchmarks"
	echo
	echo "Generated by \`bench/forward_bench.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs, $(uname -r));"
	echo "medians of $RUNS runs of ${SECS} s; all peers in the same run, each in a fresh guest"
	echo "namespace behind a private host namespace (nothing leaves the machine)."
	echo
	echo "## iperf3 throughput (Gbit/s)"
	echo
	echo "| MTU | direction | vgate | slirp4netns | pasta | vgate/slirp4netns | vgate/pasta |"
	echo "|---|---|---|---|---|---|---|"
	for mtu in 1500 65520; do
		for d in up down; do
			name=$([ $d = up ] && echo "guest→host" || echo "host→guest")
			v=${R[vgate,$mtu,$d]:-} s=${R[slirp4netns,$mtu,$d]:-} p=${R[pasta,$mtu,$d]:-}
			echo "| $mtu | $name | $v | $s | $p | $(bench_ratio "$v" "$s") | $(bench_ratio "$v" "$p") |"
		done
	done
	echo
	echo "Targets (docs/design.md): guest→host ≥ 2× slirp4netns at MTU 1500 and ≥ 1.5× at 65520;"
	echo "host→guest ≥ 1× pasta at 65520."
	echo
	echo "## Connection rate and memory"
	echo
	echo "| | vgate | slirp4netns | pasta |"
	echo "|---|---|---|---|"
	echo "| TCP connections/s (sequential, one client) | ${R[vgate,cps]:-} | ${R[slirp4netns,cps]:-} | ${R[pasta,cps]:-} |"
	echo "| RSS idle, kB | ${R[vgate,rss0]:-} | ${R[slirp4netns,rss0]:-} | ${R[pasta,rss0]:-} |"
	echo "| RSS with 1,000 idle flows, kB | ${R[vgate,rss1000]:-} | ${R[slirp4netns,rss1000]:-} | ${R[pasta,rss1000]:-} |"
} >"$OUT"
cat "$OUT"
