#!/usr/bin/env bash
# cost_bench.sh - instructions per byte of bulk TCP through vgate, both
# directions, counted by callgrind (issue 13: a figure that does not depend
# on the load of this shared machine). Only vgate's own user-space
# instructions count; the kernel's work in its syscalls does not (for that,
# bench/tap_offload_bench.sh reports CPU seconds per GiB).
#
# Usage: bench/cost_bench.sh [MB (64)] NAME=VGATE_BINARY[:EXTRA_ARG...]...
#   e.g. bench/cost_bench.sh 64 before=/tmp/old/vgate after=build/cmd/vgate \
#        nooff=build/cmd/vgate:--no-tap-offload
# For each build, three runs in the e2e rig (tests/e2e/lib.sh: TAP in a
# namespace, DHCP) under valgrind --tool=callgrind: idle (start, lease,
# stop), a download of MB megabytes from a server on the host's 127.0.0.1
# and an upload of as many; instructions per byte = (run - idle) / bytes.
# The table goes to stdout (markdown rows).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
MB=64
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
	MB=$1
	shift
fi
[ $# -ge 1 ] || { echo "usage: $0 [MB] NAME=VGATE_BINARY[:ARG...]..." >&2; exit 2; }
# shellcheck source=bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"

# run BINARY MODE [ARGS...]: whole-process instructions of one vgate run
run() {
	local bin=$1 mode=$2 out
	shift 2
	out=$(mktemp /tmp/vgate-cg.XXXXXX)
	(
		wrap=$(bench_callgrind_wrap "$out" "$bin")
		export VGATE=$wrap VGATE_SRC=$SRC
		# shellcheck source=../tests/e2e/lib.sh
		source "$SRC/tests/e2e/lib.sh"
		port=$(vg_free_port 2)
		mkdir -p "$VG_TMP/www"
		head -c "${MB}M" /dev/zero >"$VG_TMP/www/big"
		vg_bg python3 -m http.server --bind 127.0.0.1 --directory "$VG_TMP/www" "$port" >/dev/null 2>&1
		vg_bg python3 "$SRC/tests/e2e/fwd_servers.py" upload 127.0.0.1 $((port + 1))
		vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || vg_fail "server did not start"
		vg_start "$@"
		case $mode in
		down)
			vg_ns curl -sS -f --max-time 300 -o /dev/null "http://192.168.127.254:$port/big" ||
				vg_fail "download failed"
			;;
		up)
			vg_ns curl -sS -f --max-time 300 -H 'Expect:' --data-binary "@$VG_TMP/www/big" \
				"http://192.168.127.254:$((port + 1))/" >/dev/null || vg_fail "upload failed"
			;;
		esac
		kill "$VG_PID"
		for _ in $(seq 300); do kill -0 "$VG_PID" 2>/dev/null || break; sleep 0.2; done
		VG_PID=""
		rm -f "$wrap"
	) >&2
	callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
	rm -f "$out"
}

bytes=$((MB << 20))
echo "| build | idle, instructions | download, instr/byte | upload, instr/byte |"
echo "|---|---|---|---|"
for spec in "$@"; do
	name=${spec%%=*}
	rest=${spec#*=}
	IFS=: read -r -a parts <<<"$rest"
	bin=${parts[0]}
	extra=("${parts[@]:1}")
	idle=$(run "$bin" idle "${extra[@]}")
	down=$(run "$bin" down "${extra[@]}")
	up=$(run "$bin" up "${extra[@]}")
	python3 -c 'import sys; n,i,d,u,b=sys.argv[1:]; i,d,u,b=int(i),int(d),int(u),int(b)
print("| %s | %d | %.2f | %.2f |" % (n, i, (d-i)/b, (u-i)/b))' "$name" "$idle" "$down" "$up" "$bytes"
done
