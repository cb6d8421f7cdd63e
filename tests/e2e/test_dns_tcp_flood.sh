#!/usr/bin/env bash
# test_dns_tcp_flood.sh - idle DNS-over-TCP connections cannot lock the
# gateway's DNS (issue 10 item 4). vgate runs under `ulimit -n 1024` with the
# control API (bud_start, budget_lib.sh); the guest (python in its namespace,
# from 5 addresses:
# 192.168.127.2 and .201-.204) opens 200 idle TCP connections to
# 192.168.127.1:53 and reopens each one vgate resets (at most 100 a second,
# 60 s at most in all), so the 64-connection table stays full. While they
# are held:
#  - dig +tcp and dig over UDP are answered (a name from the test upstream
#    and the static gateway.vgate.internal),
#  - GET /stats answers within 1 s and counts evictions, per-address
#    refusals or evictions, and idle closes,
#  - the acceptance matrix (bud_matrix): also a new guest TCP connection to
#    the host alias, and vgate under 30 % of a core (/proc/PID/stat over 2 s
#    windows, waited for), and a log line for the full table.
# Once the guest lets them go: the connections drain (tcp_active 0), the
# matrix holds again, and 3 new silent connections are reset by the idle
# timeout (5 s) and counted.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/api_lib.sh"
source "$(dirname "$0")/fwd_lib.sh"
source "$(dirname "$0")/budget_lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
UPADDR=127.0.0.$((100 + $$ % 100))
vg_bg python3 "$HERE/dns_upstream.py" --addr "$UPADDR" --port-file "$VG_TMP/port" \
	--count-file "$VG_TMP/counts" --ttl 300
vg_wait_for 10 test -s "$VG_TMP/port" || vg_fail "test upstream did not start"

bud_start --dns-upstream "$UPADDR:$(cat "$VG_TMP/port")"
sock=$BUD_SOCK
for a in 201 202 203 204; do vg_ns ip addr add "192.168.127.$a/24" dev tap0; done

cat >"$VG_TMP/hold.py" <<'EOF2'
# hold.py N STOPFILE READYFILE: hold N idle TCP connections to gateway:53
# from 5 source addresses, reopening those that are reset (100/s at most),
# until STOPFILE exists or 60 s pass; prints "opened N resets M"
import errno, os, select, socket, sys, time
n, stop, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
srcs = ["192.168.127.2"] + ["192.168.127.%d" % a for a in (201, 202, 203, 204)]
deadline = time.time() + 60
socks = {}  # fd -> (socket, slot)
opened = resets = 0
budget, sec = 100, int(time.time())


def open_one(slot):
    global opened
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((srcs[slot % len(srcs)], 0))
    s.setblocking(False)
    e = s.connect_ex(("192.168.127.1", 53))
    if e not in (0, errno.EINPROGRESS):
        s.close()
        return False
    socks[s.fileno()] = (s, slot)
    opened += 1
    return True


todo = list(range(n))
while time.time() < deadline and not os.path.exists(stop):
    if int(time.time()) != sec:
        sec, budget = int(time.time()), 100
    while todo and budget > 0:
        if open_one(todo[0]):
            todo.pop(0)
            budget -= 1
        else:
            break
    if opened >= n and not os.path.exists(ready):
        open(ready, "w").close()
    r, _, _ = select.select(list(socks), [], [], 0.1)
    for fd in r:
        s, slot = socks.pop(fd)
        try:
            s.recv(1)
        except OSError:
            pass
        s.close()
        resets += 1
        todo.append(slot)
for s, _ in socks.values():
    s.close()
print("opened %d resets %d" % (opened, resets))
EOF2

DIG=(vg_ns dig @192.168.127.1 +time=3 +tries=1 +short)

# check_dns WHEN: TCP and UDP queries answered, from upstream and static
check_dns() {
	local out
	out=$("${DIG[@]}" +tcp tcp.example.test A) || vg_fail "$1: dig +tcp failed"
	[[ $out == 10.* ]] || vg_fail "$1: dig +tcp: '$out'"
	out=$("${DIG[@]}" +tcp gateway.vgate.internal A) || vg_fail "$1: dig +tcp static failed"
	[ "$out" = 192.168.127.1 ] || vg_fail "$1: dig +tcp static: '$out'"
	out=$("${DIG[@]}" udp.example.test A) || vg_fail "$1: dig (UDP) failed"
	[[ $out == 10.* ]] || vg_fail "$1: dig (UDP): '$out'"
}

# stats: GET /stats must answer within 1 s; its dns group in $VG_TMP/body
stats() {
	local code
	code=$(api -m 1 http://vgate/stats) || vg_fail "GET /stats did not answer within 1 s"
	[ "$code" = 200 ] || vg_fail "GET /stats: HTTP $code"
}
dns_stat() { stats && python3 -c "import json; print(json.load(open('$VG_TMP/body'))['dns']['$1'])"; }

check_dns "before"
rm -f "$VG_TMP/stop" "$VG_TMP/ready"
vg_ns python3 "$VG_TMP/hold.py" 200 "$VG_TMP/stop" "$VG_TMP/ready" >"$VG_TMP/hold.out" &
HOLD=$!
VG_CLEANUP_PIDS+=("$HOLD")
vg_wait_for 20 test -e "$VG_TMP/ready" || vg_fail "the guest could not open 200 connections"
# the table is full of the guest's idle connections
full() { [ "$(dns_stat tcp_active)" -ge 48 ]; }
vg_wait_for 10 full || vg_fail "the table did not fill: tcp_active $(dns_stat tcp_active)"

check_dns "while 200 idle connections are held"
bud_matrix "200 idle DNS-TCP connections held"
stats
python3 - "$VG_TMP/body" <<'EOF2' || vg_fail "counters: $(cat "$VG_TMP/body")"
import json, sys
d = json.load(open(sys.argv[1]))["dns"]
print("dns tcp counters:", {k: v for k, v in d.items() if k.startswith("tcp_")}, file=sys.stderr)
assert d["tcp_accepted"] >= 200, d
assert d["tcp_evicted"] > 0, d
assert d["tcp_active"] <= 64, d
EOF2
api http://vgate/metrics >/dev/null || vg_fail "GET /metrics failed"
grep -q '^vgate_dns_tcp_closed_total{reason="evicted"} [1-9]' "$VG_TMP/body" ||
	vg_fail "metrics lack the evictions: $(grep dns_tcp "$VG_TMP/body")"
grep -q 'dns: DNS-over-TCP .* full' "$VG_LOG" || vg_fail "no log line for the full table"

touch "$VG_TMP/stop"
wait "$HOLD" || vg_fail "the guest's script failed"
vg_log "guest: $(cat "$VG_TMP/hold.out")"
drained() { [ "$(dns_stat tcp_active)" = 0 ]; }
vg_wait_for 15 drained || vg_fail "connections not closed: tcp_active $(dns_stat tcp_active)"
check_dns "after"
bud_matrix "after"

# the idle timeout alone (RFC 7766): 3 silent connections are reset after
# DNS_GW_TCP_IDLE_MS (5 s), not before 4 s and not after 10 s
idle0=$(dns_stat tcp_idle_closed)
vg_ns python3 - <<'EOF3' || vg_fail "idle connections: not reset by the idle timeout"
import socket, sys, time
t = time.time()
ss = [socket.create_connection(("192.168.127.1", 53), timeout=15) for _ in range(3)]
for s in ss:
    try:
        assert s.recv(1) == b"", "data on an idle connection"
    except ConnectionResetError:
        pass
took = time.time() - t
print("idle connections reset after %.1f s" % took, file=sys.stderr)
sys.exit(0 if 4 <= took <= 10 else 1)
EOF3
[ "$(dns_stat tcp_idle_closed)" -eq $((idle0 + 3)) ] || vg_fail "idle closes not counted"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
