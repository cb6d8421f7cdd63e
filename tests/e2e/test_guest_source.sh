#!/usr/bin/env bash
# test_guest_source.sh - issue 10 item 5 (source part): a guest that sends from
# an address that is not its own (10.9.9.9, outside the subnet, or the host
# alias) gets nothing back, the frames are counted in link.drop_bad_src
# (/stats) and vgate_link_dropped_frames_total{reason="bad_source"}
# (/metrics) and logged once (rate-limited); the guest's real address keeps
# working, DHCP included.
# Bounded: a handful of pings and datagrams, test namespace only.
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/api_lib.sh
source "$(dirname "$0")/api_lib.sh"

sock=$VG_TMP/api.sock
vg_start --api "unix://$sock"

bad_src() {
	expect 200 GET /stats
	python3 -c "import json; print(json.load(open('$VG_TMP/body'))['link']['drop_bad_src'])"
}
before=$(bad_src)
[ "$before" = 0 ] || vg_fail "drop_bad_src is $before before any spoofing"

# the guest's own address works; it knows the gateway's MAC from now on
vg_ns busybox ping -c 1 -W 2 192.168.127.1 >/dev/null || vg_fail "ping from the lease address"

# a foreign source: ping and UDP must get no answer, and be counted
vg_ns ip addr add 10.9.9.9/32 dev tap0
if vg_ns busybox ping -c 3 -W 1 -I 10.9.9.9 192.168.127.1 >"$VG_TMP/ping.out" 2>&1; then
	vg_fail "a ping from 10.9.9.9 was answered: $(cat "$VG_TMP/ping.out")"
fi
vg_ns python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.9.9.9", 0))
for _ in range(3):
    s.sendto(b"spoofed", ("192.168.127.1", 53))
'
vg_wait_for 5 bash -c "[ \"\$(curl -sS --unix-socket '$sock' http://vgate/stats |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[\"link\"][\"drop_bad_src\"])')\" -ge 6 ]" ||
	vg_fail "drop_bad_src did not reach 6: $(bad_src)"
vg_ns ip addr del 10.9.9.9/32 dev tap0

# the host alias as a source is not the guest's either
vg_ns ip addr add 192.168.127.254/32 dev tap0
vg_ns busybox ping -c 1 -W 1 -I 192.168.127.254 192.168.127.1 >/dev/null 2>&1 &&
	vg_fail "a ping from the host alias was answered"
vg_ns ip addr del 192.168.127.254/32 dev tap0
vg_wait_for 5 bash -c "[ \"\$(curl -sS --unix-socket '$sock' http://vgate/stats |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[\"link\"][\"drop_bad_src\"])')\" -ge 7 ]" ||
	vg_fail "the host-alias source was not counted: $(bad_src)"

# the drops were logged: once at the first, not once per frame (at most
# one line per 10 s, with the count of what it covers)
n=$(grep -c 'link: dropped a packet from 10.9.9.9: not a plausible guest source' "$VG_LOG" || true)
[ "$n" = 1 ] || vg_fail "bad-source log lines: $n, want 1: $(grep 'link: dropped' "$VG_LOG")"
[ "$(grep -c 'link: dropped a packet from' "$VG_LOG")" -le 2 ] ||
	vg_fail "bad-source drops not rate-limited: $(grep 'link: dropped' "$VG_LOG")"

expect 200 GET /metrics
grep -Eq '^vgate_link_dropped_frames_total\{reason="bad_source"\} ([7-9]|[1-9][0-9]+)$' "$VG_TMP/body" ||
	vg_fail "metrics: $(grep bad_source "$VG_TMP/body" || echo none)"

# the real address still works, and a fresh DHCP exchange from 0.0.0.0 too
vg_ns busybox ping -c 2 -W 2 192.168.127.1 >"$VG_TMP/ping.out" ||
	vg_fail "ping after the spoofing: $(cat "$VG_TMP/ping.out")"
vg_ns ip addr flush dev tap0
vg_ns busybox udhcpc -i tap0 -n -q -f -t 5 -T 1 -s "$VG_TMP/udhcpc.sh" >"$VG_TMP/udhcpc2.out" 2>&1 ||
	vg_fail "second DHCP exchange: $(cat "$VG_TMP/udhcpc2.out")"
vg_ns busybox ping -c 1 -W 2 192.168.127.1 >/dev/null || vg_fail "ping after the new lease"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
