#!/bin/bash
# test_forward_tcp.sh - guest TCP through the forwarder to servers on the
# host's loopback (reached at the host alias 192.168.127.254): a 100 MB
# download and a 100 MB upload arrive intact (sha256), 200 parallel
# downloads all complete intact, half-close (nc -N) works, and a closed port
# is refused at once (curl exit 7, and the guest's kernel retransmitted no
# SYN: the first one got the RST).
source "$(dirname "$0")/lib.sh"

vg_start
HOST=192.168.127.254
P=$(vg_free_port 3)
HTTP=$P UP=$((P + 1)) HC=$((P + 2))
mkdir -p "$VG_TMP/www"
head -c 100M /dev/urandom >"$VG_TMP/www/big"
for i in $(seq 1 4); do head -c 1M /dev/urandom >"$VG_TMP/www/small$i"; done
BIG_SUM=$(sha256sum <"$VG_TMP/www/big" | cut -d' ' -f1)

vg_bg python3 -m http.server --bind 127.0.0.1 --directory "$VG_TMP/www" "$HTTP" >/dev/null 2>&1
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" upload 127.0.0.1 "$UP"
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" halfclose 127.0.0.1 "$HC"
for p in "$HTTP" "$UP" "$HC"; do
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" || vg_fail "server on $p did not start"
done

# 1. 100 MB download
t0=$(date +%s.%N)
vg_ns curl -sS -f --max-time 120 -o "$VG_TMP/got" "http://$HOST:$HTTP/big" || vg_fail "download failed"
t1=$(date +%s.%N)
[ "$(sha256sum <"$VG_TMP/got" | cut -d' ' -f1)" = "$BIG_SUM" ] || vg_fail "download corrupted"
vg_log "100 MB download ok ($(echo "$t1 - $t0" | bc) s)"
rm -f "$VG_TMP/got"

# 2. 100 MB upload
t0=$(date +%s.%N)
got=$(vg_ns curl -sS -f --max-time 120 -H 'Expect:' --data-binary "@$VG_TMP/www/big" \
	"http://$HOST:$UP/") || vg_fail "upload failed"
t1=$(date +%s.%N)
[ "$got" = "104857600 $BIG_SUM" ] || vg_fail "upload corrupted: $got"
vg_log "100 MB upload ok ($(echo "$t1 - $t0" | bc) s)"

# 3. 200 parallel downloads
mkdir -p "$VG_TMP/par"
seq 1 200 | vg_ns xargs -P 200 -I{} sh -c \
	"curl -sS -f --max-time 180 -o $VG_TMP/par/{} http://$HOST:$HTTP/small\$(( {} % 4 + 1 ))" ||
	vg_fail "a parallel download failed"
for i in $(seq 1 4); do sums[i]=$(sha256sum <"$VG_TMP/www/small$i" | cut -d' ' -f1); done
for i in $(seq 1 200); do
	s=$(sha256sum <"$VG_TMP/par/$i" | cut -d' ' -f1)
	[ "$s" = "${sums[$((i % 4 + 1))]}" ] || vg_fail "parallel download $i corrupted"
done
vg_log "200 parallel downloads ok"

# 4. half-close: the server answers only after our FIN
got=$(printf 'hello half-close' | vg_ns timeout 10 nc -N "$HOST" "$HC") || vg_fail "nc -N failed"
[ "$got" = "got 16" ] || vg_fail "half-close: got '$got'"
vg_log "half-close ok"

# 5. closed port: refused at once - the guest's first SYN gets the RST (no
# SYN retransmitted, which a wall-clock bound could not tell under load)
CLOSED=$((P + 3))
vg_refused_at_once "closed port" "http://$HOST:$CLOSED/"
vg_log "closed port refused at the first SYN"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
