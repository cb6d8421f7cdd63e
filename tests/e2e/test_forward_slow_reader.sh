#!/usr/bin/env bash
# test_forward_slow_reader.sh - a guest that reads a download slowly keeps a
# small receive window open; vgate must keep filling whatever window the
# guest offers instead of stalling until a persist timer fires (each such
# stall makes the reader wait 0.4-0.6 s in recv(): lwIP's first persist
# probe, 3 slow-timer ticks of 200 ms). The reader measures that directly:
# it counts the recv() calls that blocked 0.3 s or more, its own pacing
# sleeps excluded; wall time only has a hang guard, so CPU load on the host
# does not fail the test.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

vg_start
HTTP=$(fwd_port 0)
mkdir -p "$VG_TMP/www"
head -c 1000000 /dev/urandom >"$VG_TMP/www/f2M"
vg_bg python3 -m http.server --bind 127.0.0.1 --directory "$VG_TMP/www" "$HTTP" >/dev/null 2>&1
vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HTTP" || vg_fail "server did not start"

cat >"$VG_TMP/reader.py" <<'EOF2'
# read an HTTP body slowly through a small socket buffer: CHUNK bytes every
# 2 ms, so the guest keeps advertising a small, slowly opening window.
# Prints "LEN SHA256 STALLS MAXWAIT": STALLS is how many recv() calls
# blocked for STALL_S or longer, MAXWAIT the longest (seconds); the pacing
# sleeps are not part of it. A vgate that stops refilling the window until a
# persist timer fires makes recv() wait >= 0.4 s at (nearly) every window
# fill, hundreds of times per MB; scheduling delays under load are rare.
import socket, sys, time, hashlib
host, port, path, rcvbuf, chunk = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
STALL_S = 0.3
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
s.connect((host, port))
s.sendall(("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
data = bytearray()
stalls, maxwait = 0, 0.0
while True:
    t0 = time.monotonic()
    d = s.recv(chunk)
    wait = time.monotonic() - t0
    maxwait = max(maxwait, wait)
    if wait >= STALL_S:
        stalls += 1
    if not d:
        break
    data += d
    time.sleep(0.002)
body = bytes(data).split(b"\r\n\r\n", 1)[1]
print(len(body), hashlib.sha256(body).hexdigest(), stalls, "%.3f" % maxwait)
EOF2
want="$(stat -c %s "$VG_TMP/www/f2M") $(sha256sum "$VG_TMP/www/f2M" | cut -d' ' -f1)"
# rcvbuf / chunk: 4 KiB, 64 KiB and 2 KiB receive buffers read 0.3-16 KiB at
# a time (about 2 s, 0.1 s and 7 s of pacing for the 1 MB body, 250-3300
# reads). Up to 20 waits of 0.3 s are tolerated (a loaded host descheduling
# vgate, the server or the reader); stalls would be hundreds. timeout 120 is
# only the hang guard.
for args in "4096 1000" "65536 16384" "2048 300"; do
	start=$(date +%s.%N)
	read -ra a <<<"$args"
	got=$(vg_ns timeout 120 python3 "$VG_TMP/reader.py" 192.168.127.254 "$HTTP" /f2M "${a[@]}") ||
		vg_fail "slow reader ($args) failed or hung"
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	read -r len sum stalls maxwait <<<"$got"
	[ "$len $sum" = "$want" ] || vg_fail "slow reader ($args): got '$got'"
	vg_log "slow reader rcvbuf/chunk $args: 1 MB intact in ${secs}s, longest recv wait ${maxwait}s, $stalls waits >= 0.3 s"
	[ "$stalls" -le 20 ] || vg_fail "slow reader ($args): $stalls stalls (recv waited >= 0.3 s; longest ${maxwait}s)"
done
vg_pass
