#!/bin/bash
# budget_bench.sh - the buffer-memory budget's fairness: one bulk TCP flow's
# iperf3 throughput (guest→host and host→guest, -R) alone and beside 1000
# stalled flows (the guest never reads a host server that sends as fast as
# it can), both in the same run, as a ratio; and the solo rows of a second
# build (e.g. main before the budget) to show the default budget does not
# slow a lone flow. Written as a table to bench/budget_results.md.
#
# Usage: bench/budget_bench.sh VGATE [BASE_VGATE] [RUNS (3)] [SECONDS (5)]
# BENCH_BUDGET=SIZE runs vgate with --max-buffer-memory SIZE (default: the
# default 64M). BENCH_OUT=FILE writes the table there.
#
# The rig is the end-to-end tests' (tests/e2e/lib.sh, budget_lib.sh,
# stall_lib.sh): vgate on a TAP in a fresh guest namespace, the servers on
# the host's 127.0.0.1 (reached at the host alias 192.168.127.254), vgate
# with --outbound-allow 127.0.0.0/8 under a 4096-fd limit. Nothing leaves
# the machine; every loop is bounded in count and time. Not a test.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VGATE=$(readlink -f "${1:?usage: $0 VGATE [BASE_VGATE] [RUNS] [SECONDS]}")
BASE=${2:+$(readlink -f "$2")}
RUNS=${3:-3}
SECS=${4:-5}
OUT=${BENCH_OUT:-$HERE/budget_results.md}
export VGATE VGATE_SRC=$HERE/..
set +u
# shellcheck source=../tests/e2e/lib.sh
source "$HERE/../tests/e2e/lib.sh"
# shellcheck source=../tests/e2e/fwd_lib.sh
source "$HERE/../tests/e2e/fwd_lib.sh"
# shellcheck source=../tests/e2e/budget_lib.sh
source "$HERE/../tests/e2e/budget_lib.sh"
# shellcheck source=../tests/e2e/stall_lib.sh
source "$HERE/../tests/e2e/stall_lib.sh"
set -u
export BUD_NOFILE=4096

# gbps DIR: one iperf3 run's received throughput in Gbit/s (DIR: up or down)
gbps() {
	local rev=
	[ "$1" = down ] && rev=-R
	timeout $((SECS + 20)) ip netns exec "$VG_NS" iperf3 -c 192.168.127.254 -p "$IPERF" \
		-t "$SECS" $rev -J 2>/dev/null |
		python3 -c 'import json, sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

# median VALUES...
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# measure BINARY solo|stalled: one up and one down run, beside 1000 stalled
# flows or alone; sets UP and DOWN
measure() {
	VGATE=$1
	bud_start ${BENCH_BUDGET:+--max-buffer-memory "$BENCH_BUDGET"}
	IPERF=$((BUD_PORT + 4))
	vg_bg iperf3 -s -B 127.0.0.1 -p "$IPERF"
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$IPERF" || vg_fail "iperf3 did not start"
	if [ "$2" = stalled ]; then
		stall_servers $((BUD_PORT + 2))
		stall_guest $((BUD_PORT + 2)) 1000 0 "$VG_TMP/stall.done"
		vg_wait_for 200 test -s "$VG_TMP/stall.done" || vg_fail "1000 stalled flows did not open"
		stall_cpu_below 30 soft
		vg_log "stalled: $(stall_stat forwarder tcp_active) flows, held $(stall_stat buffer held)"
	fi
	UP=$(gbps up)
	DOWN=$(gbps down)
	vg_log "$1 $2: up $UP down $DOWN Gbit/s; RSS $(stall_rss) KiB"
	[ "$2" = stalled ] && touch "$VG_TMP/stall.done.stop"
	vg_cleanup_run
}

# vg_cleanup_run: end this vgate, its namespace and helpers (lib.sh's
# cleanup without exiting)
vg_cleanup_run() {
	local p
	for p in "${VG_CLEANUP_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	VG_CLEANUP_PIDS=()
	kill "$VG_PID" 2>/dev/null || true
	wait "$VG_PID" 2>/dev/null || true
	ip netns pids "$VG_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del "$VG_NS" 2>/dev/null || true
	rm -rf "/etc/netns/$VG_NS"
	VG_PID='' VG_NS=''

}

# rounds, each: alone, beside the stalled flows, the base build alone (so
# that the machine's load changes hit all rows alike); medians of the rounds
su=() sd=() tu=() td=() bu=() bd=()
for _ in $(seq "$RUNS"); do
	measure "$VGATE" solo
	su+=("$UP") sd+=("$DOWN")
	measure "$VGATE" stalled
	tu+=("$UP") td+=("$DOWN")
	if [ -n "$BASE" ]; then
		measure "$BASE" solo
		bu+=("$UP") bd+=("$DOWN")
	fi
done
SU=$(median "${su[@]}") SD=$(median "${sd[@]}") TU=$(median "${tu[@]}") TD=$(median "${td[@]}")
rows=("| vgate, alone | $SU | $SD | ${su[*]} / ${sd[*]} |"
	"| vgate, beside 1000 stalled flows | $TU | $TD | ${tu[*]} / ${td[*]} |"
	"| ratio (beside / alone) | $(echo "scale=2; $TU / $SU" | bc) | $(echo "scale=2; $TD / $SD" | bc) | |")
[ -n "$BASE" ] && rows+=("| base build, alone | $(median "${bu[@]}") | $(median "${bd[@]}") | ${bu[*]} / ${bd[*]} |")
{
	echo "# Buffer-memory budget: a bulk flow beside 1000 stalled flows"
	echo
	echo "Taken by bench/budget_bench.sh on $(date -u +%Y-%m-%d) on a loaded, shared 2-core"
	echo "machine (other jobs running; load average $(cut -d' ' -f1 /proc/loadavg) at the end):"
	echo "iperf3, medians of $RUNS rounds of one ${SECS} s run per row, Gbit/s, MTU 1500, budget"
	echo "${BENCH_BUDGET:-64M (the default)}; the base build is $BASE."
	echo "\"up\" is guest→host, \"down\" host→guest (-R). The stalled flows: the guest"
	echo "opens 1000 connections to a host server that sends as fast as it can and"
	echo "never reads them. The acceptance wants the ratio ≥ 0.5."
	echo
	echo "| run | up | down | rounds (up / down) |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} >"$OUT"
cat "$OUT"
