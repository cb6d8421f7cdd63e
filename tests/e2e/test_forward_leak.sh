#!/bin/bash
# test_forward_leak.sh - no fd or memory growth in vgate after 10,000 short
# guest TCP connections through the forwarder (plus refused ones and UDP
# mappings): /proc/PID/fd and VmRSS are compared before and after, with a
# warm-up first so that allocator pools are at their steady state. The guest
# closes first (the server waits for its FIN), so that vgate's lwIP keeps no
# TIME_WAIT pcbs, which would otherwise be a legitimate 2-minute memory
# population (~170 bytes each); a small batch of server-first closes is
# included in both rounds. Bounded: the client stops after 180 s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

vg_start --udp-idle-timeout 1
P=$(fwd_port 0)
cat >"$VG_TMP/server.py" <<'PY'
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1024)
port_mode = sys.argv[2]
while True:
    c, _ = s.accept()
    try:
        c.recv(100); c.sendall(b"ok\n")
        c.settimeout(5)
        if port_mode == "wait":
            c.recv(100)  # the client's FIN
    except OSError:
        pass
    c.close()
PY
cat >"$VG_TMP/client.py" <<'PY'
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.time() + 180
ok = 0
def one(p):
    s = socket.create_connection((host, p), timeout=10)
    s.sendall(b"hi\n")
    r = s.recv(10) == b"ok\n"
    s.close()
    return r
for i in range(n):
    if time.time() > deadline:
        break
    ok += one(port)
for i in range(300):  # server closes first
    one(port + 3)
# refused and UDP flows too
for i in range(200):
    try:
        socket.create_connection((host, port + 1), timeout=5).close()
    except ConnectionRefusedError:
        pass
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect((host, port + 2)); u.send(b"x"); u.close()
print(ok)
PY
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" udpecho 127.0.0.1 $((P + 2))
vg_bg python3 "$VG_TMP/server.py" "$P" wait
vg_bg python3 "$VG_TMP/server.py" $((P + 3)) first
vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P" || vg_fail "server did not start"

fds() { find "/proc/$VG_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$VG_PID/status"; }
settle() { # until no flow is active (bounded)
	for _ in $(seq 1 100); do
		[ "$(fwd_stat tcp_active)" = 0 ] && [ "$(fwd_stat udp_active)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

n=$(vg_ns python3 "$VG_TMP/client.py" 192.168.127.254 "$P" 3000) || vg_fail "warm-up failed"
[ "$n" = 3000 ] || vg_fail "warm-up: $n/3000 connections"
settle || vg_fail "flows still active after warm-up"
fd0=$(fds) rss0=$(rss)
vg_log "after warm-up: $fd0 fds, RSS $rss0 kB"

t0=$(date +%s)
n=$(vg_ns python3 "$VG_TMP/client.py" 192.168.127.254 "$P" 10000) || vg_fail "client failed"
[ "$n" = 10000 ] || vg_fail "only $n/10000 connections succeeded"
settle || vg_fail "flows still active: tcp_active=$(fwd_stat tcp_active) udp_active=$(fwd_stat udp_active)"
fd1=$(fds) rss1=$(rss)
vg_log "after 10,000 connections in $(($(date +%s) - t0)) s: $fd1 fds, RSS $rss1 kB"
[ "$fd1" -le "$fd0" ] || vg_fail "fd growth: $fd0 → $fd1"
if ldd "$VGATE" 2>/dev/null | vg_has libasan; then
	# ASan keeps freed memory in quarantine: RSS says nothing there
	vg_log "sanitizer build: RSS not compared (fds were)"
else
	[ "$rss1" -le $((rss0 + 2048)) ] || vg_fail "RSS growth: $rss0 → $rss1 kB"
fi
[ "$(fwd_stat tcp_errors)" = 0 ] || vg_fail "tcp_errors=$(fwd_stat tcp_errors)"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
