#!/usr/bin/env bash
# soak.sh - vgate under a long mixed hostile-guest load: do its RSS, open fds
# and CPU stay flat? (issue 10; not a timed test; needs root)
#
# Usage: bench/soak.sh [--duration S] [--interval S] [--table-every S]
#                      [--burst-every S] [--udp-idle S] [--build DIR]
# (or SOAK_DURATION=..., SOAK_INTERVAL=... in the environment). Defaults:
# 600 s of load, a sample every 5 s, a table row every 30 s, a flood burst
# every 60 s, --udp-idle-timeout 30 (so that each burst's UDP mappings are
# gone before the next burst); `--duration 60` is a quick check (too short
# for bursts; `--duration 240 --udp-idle 10` has one burst of each kind).
#
# Rig (tests/e2e/lib.sh and budget_lib.sh): a guest namespace on a TAP,
# vgate under `ulimit -n 1024` with --outbound-allow 127.0.0.0/8, servers
# on the host's 127.0.0.1 reached through the host alias 192.168.127.254, a
# test DNS upstream (tests/e2e/dns_upstream.py). Nothing leaves the machine.
# Load (guest side: bench/soak_guest.py), every loop bounded in time:
#   1. TCP flows opening and closing: 4 clients downloading 1-256 KiB files
#      over new connections, 20 ms apart
#   2. DNS: dnsperf at <= 100 qps through the gateway (hot names that hit
#      the cache, unique names that miss, NXDOMAIN, AAAA)
#   3. slow readers: 4 flows reading a fast host sender at ~400 KB/s,
#      reconnecting every 120 s
#   4. a flood burst every --burst-every s or more, in turn: 300 UDP flows
#      (one datagram each, over the UDP budget); 300 TCP connections held
#      5 s, then closed, half with RST; 300 hand-made SYNs from the guest's
#      address and 100 from spoofed guest-subnet addresses, never completed
#      (tests/e2e/raw_guest.py). After each, the next "quiet" gap starts once
#      the forwarder holds no more flows than the continuous load
#   5. after each TCP burst, one bulk iperf3 run of 10 s (directions alternate)
# Sampled every --interval s (bench/soak_report.py): VmRSS, /proc/PID/fd,
# CPU % (utime + stime), /stats counters and latency, DNS probes over UDP
# and TCP. The series goes to bench/soak_series.csv, the table and the
# verdict (soak_report.py's verdict()) into the soak section of
# bench/hostile_results.md ($SOAK_OUT), the rest of that file kept.
# SOAK_KEEP=DIR keeps the raw data there (soak_report.py report DIR ... redoes
# the report from it). Exit status: 0 if RSS and fds stayed flat, 1 if not
# (or on a set-up error).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
DURATION=${SOAK_DURATION:-600}
INTERVAL=${SOAK_INTERVAL:-5}
TABLE_EVERY=${SOAK_TABLE_EVERY:-30}
BURST_EVERY=${SOAK_BURST_EVERY:-60}
UDP_IDLE=${SOAK_UDP_IDLE:-30}
ARGS="$*"
while [ $# -gt 0 ]; do
	case $1 in
	--duration) DURATION=$2 ;;
	--interval) INTERVAL=$2 ;;
	--table-every) TABLE_EVERY=$2 ;;
	--burst-every) BURST_EVERY=$2 ;;
	--udp-idle) UDP_IDLE=$2 ;;
	--build) BUILD=$(cd "$2" && pwd) ;;
	*)
		sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
	shift 2
done
OUT=${SOAK_OUT:-$SRC/bench/hostile_results.md}
CSV=${SOAK_CSV:-$SRC/bench/soak_series.csv}
FLOW_CLIENTS=4 SLOW_READERS=4 SLOW_SESSION=120 DNS_QPS=100
BURST_UDP=300 BURST_TCP=300 BURST_SYN=300 BURST_SPOOF=100 BULK_SECS=10
SETTLE_MAX=$((UDP_IDLE + 45)) # UDP idle timeout, the 30 s connect timeout, slack
WARMUP=$((DURATION * 3 / 10 < 180 ? DURATION * 3 / 10 : 180)) # all three burst kinds once
export VGATE=${VGATE:-$BUILD/cmd/vgate}
export VGATE_SRC=$SRC
source "$SRC/tests/e2e/lib.sh"
source "$SRC/tests/e2e/fwd_lib.sh"
source "$SRC/tests/e2e/budget_lib.sh"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
D=$VG_TMP/soak
mkdir -p "$D" "$VG_TMP/www"
GUEST=(python3 "$SRC/bench/soak_guest.py")
HOST=192.168.127.254

# --- servers on the host's loopback ----------------------------------------
vg_bg python3 "$SRC/tests/e2e/dns_upstream.py" --addr 127.0.0.1 --port-file "$D/upport"
vg_wait_for 10 test -s "$D/upport" || vg_fail "DNS upstream did not start"
VGATE_ARGS="--dns-upstream 127.0.0.1:$(cat "$D/upport") --udp-idle-timeout $UDP_IDLE"
# shellcheck disable=SC2086 # two options and their values
bud_start $VGATE_ARGS
BUDGETS=$(sed -n 's/.*fd budget: //p' "$VG_LOG" | head -n 1)
for n in 1024 16384 65536 262144; do head -c "$n" /dev/urandom >"$VG_TMP/www/s$n"; done
truncate -s 4G "$VG_TMP/www/big" # sparse: reading it costs no disk
HTTP=$(fwd_port 0)
IPERF=$((HTTP + 1))
vg_bg python3 -m http.server --bind 127.0.0.1 --directory "$VG_TMP/www" "$HTTP" >/dev/null 2>&1
vg_bg iperf3 -s -B 127.0.0.1 -p "$IPERF" >/dev/null 2>&1
vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HTTP" || vg_fail "HTTP server did not start"
vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$IPERF" || vg_fail "iperf3 server did not start"
# a pass over the query file (its unique names fill the DNS cache) fits in
# the warm-up: 5 queries per name at DNS_QPS
NAMES=$((WARMUP * DNS_QPS / 5 < 3000 ? WARMUP * DNS_QPS / 5 : 3000))
{
	for i in $(seq 1 "$NAMES"); do
		echo "hot$((i % 50)).soak.test A"
		echo "hot$((i % 7)).soak.test AAAA"
		echo "miss$i.soak.test A"
		echo "nx$i.soak.test A"
		echo "static.test A"
	done
} >"$D/queries"

# one of everything first, so that what vgate opens lazily (upstream
# sockets) counts in the fds before the load
bud_basic "before the load"
vg_ns dig +short +tcp +time=2 +tries=1 @192.168.127.1 static.test | vg_has 10.1.2.3 ||
	vg_fail "DNS over TCP before the load"
vg_ns dig +short +time=2 +tries=1 @192.168.127.1 first.soak.test | vg_has 10. ||
	vg_fail "an upstream DNS answer before the load"
vg_ns curl -sS --max-time 5 -o /dev/null "http://$HOST:$HTTP/s1024" || vg_fail "HTTP before the load"
sleep 1 # let the closed flows' fds go
FDS_BEFORE=$(find "/proc/$VG_PID/fd" -mindepth 1 | wc -l)
vg_log "vgate pid $VG_PID: $FDS_BEFORE fds, budgets: $BUDGETS; load for $DURATION s"

# --- the load ---------------------------------------------------------------
T0=$(date +%s)
END=$((T0 + DURATION))
echo load >"$D/phase"
vg_bg python3 "$SRC/bench/soak_report.py" sample "$VG_PID" "$BUD_SOCK" "$VG_NS" "$INTERVAL" "$T0" "$D"
SAMPLER=$!
vg_bg vg_ns "${GUEST[@]}" flows "$HOST" "$HTTP" "$FLOW_CLIENTS" "$END" "$D/flows.json"
vg_bg vg_ns "${GUEST[@]}" slow "$HOST" "$HTTP" "$SLOW_READERS" "$SLOW_SESSION" "$END" "$D/slow.json"
vg_bg vg_ns timeout $((DURATION + 30)) dnsperf -s 192.168.127.1 -d "$D/queries" -l "$DURATION" \
	-Q "$DNS_QPS" -c 2 -t 2 >"$D/dnsperf.out" 2>&1
WORKERS=("${VG_CLEANUP_PIDS[@]: -3}")

at() { # at T: sleep until T s into the load (pacing, not waiting for a condition)
	local s=$((T0 + $1 - $(date +%s)))
	if [ "$s" -gt 0 ]; then sleep "$s"; fi
}
now() { echo $(($(date +%s) - T0)); }
bulk() { # bulk N: iperf3 run N, odd runs host→guest
	local rev="" dir=up j
	if [ $(($1 % 2)) = 1 ]; then rev=-R dir=down; fi
	j=$(vg_ns timeout $((BULK_SECS + 20)) iperf3 -c "$HOST" -p "$IPERF" -t "$BULK_SECS" ${rev:+"$rev"} -J 2>/dev/null) || j='{}'
	python3 -c 'import json,sys
try: g = "%.2f" % (json.loads(sys.stdin.read())["end"]["sum_received"]["bits_per_second"] / 1e9)
except (KeyError, ValueError): g = "failed"
print(json.dumps({"dir": sys.argv[1], "gbps": g}))' "$dir" <<<"$j" >>"$D/bulk.out"
}
# settled T: the forwarder's active flows, in a sample taken after T s
# (by soak_report.py), are back to what the continuous load keeps open
settled() {
	local ts tcp udp
	read -r ts tcp udp <"$D/active" || return 1
	[ "$ts" -gt "$1" ] && [ "$tcp" -le $((FLOW_CLIENTS + SLOW_READERS + 4)) ] && [ "$udp" -le 2 ]
}
k=0
t=15
# a burst only when its flows can be gone (UDP idle timeout, bulk run, 30 s
# connect timeout) and a quiet gap follow before the end
while true; do
	need=("$UDP_IDLE" "$BULK_SECS" 30)
	[ $((t + 30 + ${need[k % 3]})) -le "$DURATION" ] || break
	at "$t"
	case $((k % 3)) in
	0)
		echo udp >"$D/phase"
		vg_ns timeout 30 "${GUEST[@]}" burst-udp "$HOST" "$BUD_PORT" "$BURST_UDP" >"$D/burst-$k.out" 2>&1 || true
		;;
	1)
		echo tcp >"$D/phase"
		vg_ns timeout 30 "${GUEST[@]}" burst-tcp "$HOST" "$BUD_PORT" "$BURST_TCP" 5 >"$D/burst-$k.out" 2>&1 || true
		echo bulk >"$D/phase"
		bulk $((k / 3))
		;;
	2)
		echo syn >"$D/phase"
		vg_ns timeout 30 "${GUEST[@]}" burst-syn "$HOST" "$BUD_PORT" "$BURST_SYN" "$BURST_SPOOF" \
			>"$D/burst-$k.out" 2>&1 || true
		;;
	esac
	echo load >"$D/phase"
	b=$(now)
	vg_wait_for $((SETTLE_MAX - INTERVAL)) settled "$b" || vg_log "burst $k: flows not gone in time"
	vg_log "burst $k at $t s: $(cat "$D/burst-$k.out"); flows gone after $(($(now) - b)) s"
	at $(($(now) + INTERVAL)) # one more sample, then a quiet gap of three or more
	echo quiet >"$D/phase"
	k=$((k + 1))
	t=$((t + BURST_EVERY > $(now) + 3 * INTERVAL ? t + BURST_EVERY : $(now) + 3 * INTERVAL))
done
at "$DURATION"
for p in "${WORKERS[@]}"; do
	timeout 60 tail --pid="$p" -f /dev/null || vg_log "a load worker did not stop"
done
echo idle >"$D/phase"
AFTER_T0=$(date +%s)
FD_SLACK=8 # fds back to FDS_BEFORE + this after the load
back() { [ "$(find "/proc/$VG_PID/fd" -mindepth 1 | wc -l)" -le $((FDS_BEFORE + FD_SLACK)) ]; }
FDS_AFTER_OK=0
if vg_wait_for $((UDP_IDLE + 30)) back; then FDS_AFTER_OK=1; fi
FDS_AFTER=$(find "/proc/$VG_PID/fd" -mindepth 1 | wc -l)
SETTLE_S=$(($(date +%s) - AFTER_T0))
at $(($(now) + 20)) # idle samples, for the CPU once idle
touch "$D/stop"
ALIVE=0
if kill -0 "$VG_PID" 2>/dev/null; then ALIVE=1; fi
sed -n 's/^ *Queries \(sent\|completed\|lost\): *\([0-9]*\).*/"\1": \2/p' "$D/dnsperf.out" |
	paste -sd, | sed 's/^/{/; s/$/}/' >"$D/dnsperf.json"
if commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null); then
	git -C "$SRC" diff --quiet HEAD || commit="$commit (with local changes)"
else
	commit="(not a git checkout)"
fi
cat >"$D/meta" <<EOF
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
COMMIT=$commit
COMMAND=bench/soak.sh $ARGS
DURATION=$DURATION
INTERVAL=$INTERVAL
TABLE_EVERY=$TABLE_EVERY
WARMUP=$WARMUP
NPROC=$(nproc)
LOAD0=$LOAD0
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
VGATE_ARGS=--outbound-allow 127.0.0.0/8 --api ... $VGATE_ARGS
BUDGETS=$BUDGETS
FDS_BEFORE=$FDS_BEFORE
FDS_AFTER=$FDS_AFTER
FDS_AFTER_OK=$FDS_AFTER_OK
FD_SLACK=$FD_SLACK
SETTLE_S=$SETTLE_S
ALIVE=$ALIVE
FLOW_CLIENTS=$FLOW_CLIENTS
SLOW_READERS=$SLOW_READERS
SLOW_SESSION=$SLOW_SESSION
DNS_QPS=$DNS_QPS
BURST_EVERY=$BURST_EVERY
BURST_UDP=$BURST_UDP
BURST_TCP=$BURST_TCP
BULK_SECS=$BULK_SECS
BULK_EVERY=$((3 * BURST_EVERY))
BURST_SYN=$BURST_SYN
BURST_SPOOF=$BURST_SPOOF
EOF
timeout 30 tail --pid="$SAMPLER" -f /dev/null || vg_log "the sampler did not stop"
if [ -n "${SOAK_KEEP:-}" ]; then cp -r "$D/." "$SOAK_KEEP/"; fi # the raw series and counts
python3 "$SRC/bench/soak_report.py" report "$D" "$OUT" "$CSV"
