#!/usr/bin/env bash
# test_gvtunnel.sh - gvproxy's GET /tunnel?ip=&port= on a -listen socket,
# driven by tunnel_client.py over the unix socket against an echo server in
# the guest namespace. Checks: "OK" then a 2 MiB round trip with equal
# sha256; bytes sent with the head come back after "OK"; 400 for a missing
# or malformed ip or port and for an address that is not a guest's (the
# gateway, outside the subnet); 502 for a guest port nobody listens on
# (the guest's RST); 504 for a subnet address nobody has (no ARP answer,
# VG_TUNNEL_CONNECT_MS = 5 s); 16 tunnels open at once and the 17th 503,
# a slot freed by a close; every outcome counted in /metrics; the API keeps
# answering on the same socket and no tunnel stays active at the end.
. "$(dirname "$0")/lib.sh"

sock=$VG_TMP/gv.sock
vg_start -listen "unix://$sock"
GUEST=$(vg_lease_var ip)
E=$(vg_free_port 1)
vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" echo 0.0.0.0 "$E"
vg_wait_for 10 vg_ns bash -c "exec 3<>/dev/tcp/$GUEST/$E" || vg_fail "guest echo server did not start"

tc() { timeout 30 python3 "$VG_SRC/tests/e2e/tunnel_client.py" "$@"; }
metric() { vg_metric_on "$sock" "$1"; }
# status TARGET CODE TEXT: GET TARGET answers CODE with TEXT in its body
status() {
	local got
	got=$(tc status "$sock" "$1") || vg_fail "GET $1: client failed"
	[ "${got%% *}" = "$2" ] || vg_fail "GET $1: '$got', expected $2"
	grep -q -- "$3" <<<"$got" || vg_fail "GET $1: '$got', expected '$3'"
}

# the payload round trip, and bytes sent with the head
out=$(tc roundtrip "$sock" "$GUEST" "$E" $((2 << 20))) || vg_fail "round trip failed: $out"
vg_log "$out"
out=$(tc early "$sock" "$GUEST" "$E") || vg_fail "early payload: $out"

# 400s, with their reasons
status "/tunnel" 400 "ip is mandatory"
status "/tunnel?port=22" 400 "ip is mandatory"
status "/tunnel?ip=nope&port=22" 400 "ip must be an IPv4 address"
status "/tunnel?ip=$GUEST" 400 "port is mandatory"
status "/tunnel?ip=$GUEST&port=0" 400 "port must be a number"
status "/tunnel?ip=$GUEST&port=70000" 400 "port must be a number"
status "/tunnel?ip=10.9.9.9&port=$E" 400 "not a guest address"
status "/tunnel?ip=192.168.127.1&port=$E" 400 "not a guest address"
[ "$(metric 'listen_tunnel_total{result="bad_request"}')" = 8 ] || vg_fail "bad requests not counted 8"

# 502: the guest's kernel resets a port nobody listens on
status "/tunnel?ip=$GUEST&port=$((E + 1))" 502 "refused"
[ "$(metric 'listen_tunnel_total{result="refused"}')" = 1 ] || vg_fail "refusal not counted"

# 504: nobody has 192.168.127.99, the SYN is never answered
t0=$(date +%s)
status "/tunnel?ip=192.168.127.99&port=$E" 504 "did not answer"
[ $(($(date +%s) - t0)) -ge 4 ] || vg_fail "504 came before the 5 s connect timeout"
[ "$(metric 'listen_tunnel_total{result="timeout"}')" = 1 ] || vg_fail "timeout not counted"

# 16 at once, the 17th refused, a closed one frees its slot
out=$(tc limit "$sock" "$GUEST" "$E" 16) || vg_fail "tunnel limit: $out"
[ "$(metric 'listen_tunnel_total{result="too_many"}')" = 1 ] || vg_fail "503 not counted"
[ "$(metric 'listen_tunnel_total{result="ok"}')" -ge 19 ] || vg_fail "OKs not counted"

# the API still answers on the same socket; every tunnel is gone
code=$(curl -sS --max-time 5 --unix-socket "$sock" -o /dev/null -w '%{http_code}' http://vgate/stats)
[ "$code" = 200 ] || vg_fail "GET /stats on the -listen socket: HTTP $code"
idle() { [ "$(metric listen_tunnels_active)" = 0 ]; }
vg_wait_for 10 idle || vg_fail "tunnels still active: $(metric listen_tunnels_active)"

kill "$VG_PID"
rc=0
wait "$VG_PID" || rc=$?
VG_PID=""
[ "$rc" = 0 ] || vg_fail "vgate exited with $rc"
if grep -E 'Sanitizer|runtime error' "$VG_LOG"; then vg_fail "sanitizer report"; fi
vg_pass
