#!/usr/bin/env bash
# dns_callgrind.sh - instructions per DNS cache-hit query through the guest
# path (dnsperf in the guest namespace -> TAP -> vgate), counted by callgrind:
# a load-independent figure for comparing builds on this shared machine.
#
# Usage: bench/dns_callgrind.sh VGATE_BINARY [VGATE_BINARY...]
# Each binary runs under valgrind --tool=callgrind; 200 warm-up queries, then
# 20,000 hits (100 names); the line printed per binary is its whole-process
# instruction count (start-up and DHCP included) divided by the queries.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 VGATE_BINARY..." >&2; exit 2; }
# shellcheck source=bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"
for bin in "$@"; do
	out=$(mktemp /tmp/vgate-cg.XXXXXX)
	# one e2e rig per binary, in a subshell (lib.sh's cleanup trap ends it)
	(
		wrap=$(bench_callgrind_wrap "$out" "$bin")
		export VGATE=$wrap VGATE_SRC=$SRC
		# shellcheck source=../tests/e2e/lib.sh
		source "$SRC/tests/e2e/lib.sh"
		up=127.0.0.$((100 + $$ % 100))
		vg_bg python3 "$SRC/tests/e2e/dns_upstream.py" --addr "$up" --port-file "$VG_TMP/port" \
			--count-file "$VG_TMP/counts" --ttl 3600
		vg_wait_for 10 test -s "$VG_TMP/port" || vg_fail "upstream did not start"
		for i in $(seq 1 100); do echo "host$i.bench.test A"; done >"$VG_TMP/q"
		vg_start --dns-upstream "$up:$(cat "$VG_TMP/port")" --dns-max-ttl 3600
		vg_ns dnsperf -s 192.168.127.1 -d "$VG_TMP/q" -c 1 -q 10 -n 2 >/dev/null 2>&1
		res=$(vg_ns dnsperf -s 192.168.127.1 -d "$VG_TMP/q" -c 1 -q 10 -n 200 2>&1)
		grep -q "Queries lost:         0 " <<<"$res" || vg_fail "queries lost: $res"
		kill "$VG_PID"
		for _ in $(seq 100); do kill -0 "$VG_PID" 2>/dev/null || break; sleep 0.2; done
		VG_PID=""
		rm -f "$wrap"
	)
	total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	rm -f "$out"
	printf '%s: %s instructions, %d per query\n' "$bin" "$total" $((total / 20200))
done
