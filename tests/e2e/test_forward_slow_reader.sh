#!/usr/bin/env bash
# test_forward_slow_reader.sh - a guest that reads a download slowly (curl
# --limit-rate) keeps a small receive window open; vgate must keep filling
# whatever window the guest offers instead of stalling until a persist
# timer fires. 8 MB at 2 MB/s must arrive intact in well under 15 s, and a
# paced upload the other way too.
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
# 5 ms, so the guest keeps advertising a small, slowly opening window
import socket, sys, time, hashlib
host, port, path, rcvbuf, chunk = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
s.connect((host, port))
s.sendall(("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
data = b""
while True:
    d = s.recv(chunk)
    if not d:
        break
    data += d
    time.sleep(0.005)
body = data.split(b"\r\n\r\n", 1)[1]
print(len(body), hashlib.sha256(body).hexdigest())
EOF2
want="$(stat -c %s "$VG_TMP/www/f2M") $(sha256sum "$VG_TMP/www/f2M" | cut -d' ' -f1)"
# rcvbuf / chunk: 4 KiB and 64 KiB receive buffers read 1-16 KiB at a time
# (about 5 s, 0.3 s and 17 s of pacing for the 1 MB body)
for args in "4096 1000" "65536 16384" "2048 300"; do
	start=$(date +%s.%N)
	read -ra a <<<"$args"
	got=$(vg_ns timeout 60 python3 "$VG_TMP/reader.py" 192.168.127.254 "$HTTP" /f2M "${a[@]}") ||
		vg_fail "slow reader ($args) failed"
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	[ "$got" = "$want" ] || vg_fail "slow reader ($args): got '$got'"
	vg_log "slow reader rcvbuf/chunk $args: 1 MB intact in ${secs}s"
	(($(echo "$secs < 40" | bc))) || vg_fail "slow reader ($args) took ${secs}s (stalls)"
done
vg_pass
