#!/usr/bin/env bash
# dns_bench.sh - DNS benchmarks for vgate (not a timed test; needs root).
#
#  1. micro: bench/dns_cache_bench.c (cache bytes for 10,000 entries, hit
#     lookup ns, put ns), built against the build tree's libvgate_dns.a
#  2. dnsperf QPS, all cache hits, from inside the guest netns through the
#     TAP to vgate, next to dnsperf against dnsmasq (--cache-size=10000) on
#     loopback in the same run; both use the same counting test upstream on
#     127.0.0.x, are warmed with two passes, and run pinned to different
#     cores from dnsperf (docs/design.md, "Benchmark targets and rigs"). vgate runs with
#     --dns-max-ttl 3600 so the 10 s runs stay all-hit (like dnsmasq, which
#     keeps the upstream TTL).
#
# Usage: bench/dns_bench.sh [BUILD_DIR]   (default: build)
# Writes bench/dns_results.md (or $BENCH_OUT) and prints it.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
export VGATE=${VGATE:-$BUILD/cmd/vgate}
export VGATE_SRC=$SRC
OUT=${BENCH_OUT:-$SRC/bench/dns_results.md}
NAMES=${NAMES:-1000}
SECS=${SECS:-10}
source "$SRC/tests/e2e/lib.sh"

# --- 1. micro-benchmark ---------------------------------------------------
cc -O2 -std=c11 -D_GNU_SOURCE -I"$SRC" "$SRC/bench/dns_cache_bench.c" \
	"$BUILD/dns/libvgate_dns.a" "$BUILD/netstack/libvgate_loop.a" \
	-o "$VG_TMP/dns_cache_bench"
"$VG_TMP/dns_cache_bench" >"$VG_TMP/micro.txt"
micro() { awk -v k="$1" '$1 == k { print $2 }' "$VG_TMP/micro.txt"; }

# --- 2. dnsperf: vgate (guest path) vs dnsmasq (loopback) -------------------
UPADDR=127.0.0.$((100 + $$ % 100))
vg_bg python3 "$SRC/tests/e2e/dns_upstream.py" --addr "$UPADDR" --port-file "$VG_TMP/port" \
	--count-file "$VG_TMP/counts" --ttl 3600
vg_wait_for 10 test -s "$VG_TMP/port" || vg_fail "upstream did not start"
UPPORT=$(cat "$VG_TMP/port")
for i in $(seq 1 "$NAMES"); do echo "host$i.bench.test A"; done >"$VG_TMP/queries"

VGATE_CPU=0
PERF_CPU=1
vg_start --dns-upstream "$UPADDR:$UPPORT" --dns-max-ttl 3600
taskset -pc "$VGATE_CPU" "$VG_PID" >/dev/null

perf() { # perf SERVER PORT NETNS(0/1) SECONDS -> QPS
	local cmd=(taskset -c "$PERF_CPU" dnsperf -s "$1" -p "$2" -d "$VG_TMP/queries" -c 10 -T 1 -q 100 -l "$4")
	if [ "$3" = 1 ]; then cmd=(vg_ns "${cmd[@]}"); fi
	"${cmd[@]}" 2>&1 | awk '/Queries per second/ { print $4 }'
}
perf 192.168.127.1 53 1 2 >/dev/null # warm: two passes
perf 192.168.127.1 53 1 2 >/dev/null
vg_qps=()
for _ in 1 2 3; do vg_qps+=("$(perf 192.168.127.1 53 1 "$SECS")"); done

DMPORT=$((20000 + $$ % 20000))
taskset -c "$VGATE_CPU" dnsmasq --no-daemon --no-resolv --no-hosts --cache-size=10000 \
	--listen-address=127.0.0.1 --bind-interfaces --port="$DMPORT" \
	--server="$UPADDR#$UPPORT" --user=root 2>"$VG_TMP/dnsmasq.log" &
VG_CLEANUP_PIDS+=($!)
vg_wait_for 10 dig @127.0.0.1 -p "$DMPORT" +time=1 +tries=1 warm.bench.test ||
	vg_fail "dnsmasq did not start: $(cat "$VG_TMP/dnsmasq.log")"
perf 127.0.0.1 "$DMPORT" 0 2 >/dev/null
perf 127.0.0.1 "$DMPORT" 0 2 >/dev/null
dm_qps=()
for _ in 1 2 3; do dm_qps+=("$(perf 127.0.0.1 "$DMPORT" 0 "$SECS")"); done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
vq=$(median "${vg_qps[@]}")
dq=$(median "${dm_qps[@]}")
ratio=$(awk -v a="$vq" -v b="$dq" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')

cat >"$OUT" <<EOF
# DNS benchmark results

Written by \`bench/dns_bench.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs; vgate
and dnsmasq pinned to CPU $VGATE_CPU, dnsperf to CPU $PERF_CPU; $NAMES names,
all hits after two warm passes; dnsperf -c 10 -T 1 -q 100 -l $SECS; medians of 3).

| metric | value | target |
|---|---|---|
| cache bytes, 10,000 entries (A, "hostNNNNN.example.com") | $(micro cache_bytes_10k) | <= 1,048,576 |
| of which answer data | $(micro cache_data_bytes_10k) | |
| cache entry struct | $(micro cache_entry_struct) B | |
| cache get, hit (hash + lookup + LRU touch) | $(micro cache_get_hit) ns | <= 100 ns |
| cache put (replace) | $(micro cache_put_replace) ns | |
| dns_query_in, static answer (parse + build) | $(micro query_in_static) ns | |
| dnsperf QPS, guest netns -> TAP -> vgate (hits) | $vq (${vg_qps[*]}) | >= dnsmasq |
| dnsperf QPS, dnsmasq on loopback (hits) | $dq (${dm_qps[*]}) | |
| ratio vgate / dnsmasq | $ratio | >= 1.0 |
EOF
cat "$OUT"
