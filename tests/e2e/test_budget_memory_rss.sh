#!/bin/bash
# test_budget_memory_rss.sh - vgate's RSS with 1000 stalled flows stays
# under the buffer budget plus a fixed base. vgate runs with
# --max-buffer-memory 16M under a 4096-fd limit (1000 flows need more fds
# than 1024 give). First the guest holds 1000 idle flows, which shows the
# base; then 500 flows whose guest never reads a fast host sender and 500
# whose host never reads what the guest keeps sending. Once that sits idle,
# RSS must be below 16 MiB + BASE_KIB, where BASE_KIB (40 MiB) is the RSS
# of an idle vgate holding 1000 idle flows (measured 14-18 MiB on a loaded
# 2-core machine; printed below) with a wide margin. The budget's own
# counters stay within the bound plus the per-flow floors, and it was hit.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"
source "$(dirname "$0")/budget_lib.sh"
source "$(dirname "$0")/stall_lib.sh"

BASE_KIB=$((40 * 1024))
LIMIT=$((16 << 20))
export BUD_NOFILE=4096
bud_start --max-buffer-memory 16M
S=$((BUD_PORT + 2))
stall_servers "$S"
[ "$(stall_stat buffer limit)" -eq "$LIMIT" ] || vg_fail "the budget is not 16 MiB"
flows_closed() { [ "$(stall_stat forwarder tcp_active)" -eq 0 ]; }

# 1. the base: 1000 idle flows (to the port that sends nothing and closes
# when the guest does)
stall_guest "$((S + 2))" 1000 0 "$VG_TMP/idle.done"
vg_wait_for 200 test -s "$VG_TMP/idle.done" || vg_fail "the guest did not open 1000 idle flows"
stall_cpu_below 30
rss_idle=$(stall_rss)
vg_log "RSS with 1000 idle flows: ${rss_idle} KiB (base allowed: ${BASE_KIB} KiB)"
touch "$VG_TMP/idle.done.stop"
wait "$STALL_GUEST" || vg_fail "the idle guest failed"
vg_wait_for 60 flows_closed || vg_fail "idle flows still open"

# 2. 1000 stalled flows: 500 never read by the guest, 500 never read by the host
stall_guest "$S" 500 500 "$VG_TMP/stall.done"
vg_wait_for 200 test -s "$VG_TMP/stall.done" || vg_fail "the guest did not open 1000 stalled flows"
[ "$(stall_stat forwarder tcp_active)" -ge 1000 ] || vg_fail "fewer than 1000 flows open"
# the writers' bytes keep draining into the host's kernel buffers for a while
stall_cpu_below 30 soft
rss=$(stall_rss)
held=$(stall_stat buffer held)
wnd=$(stall_stat buffer windows)
high=$(stall_stat buffer high)
hits=$(stall_stat buffer hits)
vg_log "RSS with 1000 stalled flows: ${rss} KiB; held $held, windows $wnd, high $high, hits $hits"
# not in an ASan build (VGATE_SANITIZED, from CMake): its shadow memory and
# quarantine are not vgate's; the budget's own counters below still are
if [ "${VGATE_SANITIZED:-0}" = 0 ]; then
	[ "$rss" -lt $((LIMIT / 1024 + BASE_KIB)) ] || vg_fail "RSS ${rss} KiB over 16 MiB + ${BASE_KIB} KiB"
fi
# the floors: 4 KiB of send space and of window per flow, and per-segment slack
[ "$high" -le $((LIMIT + 1000 * 12288)) ] || vg_fail "high-water $high over the bound and floors"
[ "$held" -gt $((1 << 20)) ] || vg_fail "held $held: the stalled flows hold nothing?"
[ "$hits" -gt 0 ] || vg_fail "the budget was never hit"
vg_has "buffer memory budget" <"$VG_LOG" || vg_fail "no log line for the budget"
bud_basic "during"
# a new flow gets its floor of memory even now (slowly: growing it needs room)
vg_wait_for 10 bud_tcp "$BUD_PORT" || vg_fail "during: a new connection failed"
# the guest closes all (it resets the flows it never read); the host then
# closes the 500 it never read, whose guest FIN sits behind unread bytes
touch "$VG_TMP/stall.done.stop"
wait "$STALL_GUEST" || vg_fail "the stalling guest failed"
stall_release
vg_wait_for 60 flows_closed || vg_fail "stalled flows still open"
[ "$(stall_stat buffer held)" -eq 0 ] || vg_fail "held bytes left after the flows closed"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
