#!/usr/bin/env bash
# test_gvlisten.sh - gvproxy's -listen: one socket serves the HTTP API and
# POST /connect. vgate runs with -listen unix://... and -listen tcp://...
# only (no other guest link). Checks: curl --unix-socket gets /stats from
# the -listen socket (mode 0600); a gvforwarder stand-in (gv_client.py:
# POST /connect, then 2-byte LE frames, bridged to a TAP in a namespace)
# gets a DHCP lease and fetches a file from the host through vgate; a
# second /connect while it is alive is closed (listen link_busy and
# transport refused counted), so is a /connect head that does not end
# within 8 KiB; the API still answers on the same socket meanwhile; when
# the first client dies, a client over tcp:// takes the link and gets a
# lease again; a zero length prefix is counted as a desync and logged;
# vsock://, when the kernel has vsock loopback (vsock_loopback), else
# skipped with a message; the socket is removed at exit.
. "$(dirname "$0")/lib.sh"

sock=$VG_TMP/gv.sock
port=$(vg_free_port 2)
tport=$((port + 1))
mkdir "$VG_TMP/www"
echo "hello through POST /connect" >"$VG_TMP/www/f.txt"
vg_bg busybox httpd -f -p "127.0.0.1:$port" -h "$VG_TMP/www"

# vsock where the kernel can loop it back (CID 1), else skipped
vsock_args=()
vport=$((20000 + RANDOM % 10000))
if vg_vsock_loopback "$vport"; then
	vsock_args=(-listen "vsock://:$vport")
else
	vg_log "SKIP (vsock part): no vsock loopback in this kernel (modprobe vsock_loopback failed)"
fi

VG_NS=vgt-$$-$RANDOM
ip netns add "$VG_NS"
mkdir -p "/etc/netns/$VG_NS"
: >"/etc/netns/$VG_NS/resolv.conf"
vg_ns ip link set lo up
vg_udhcpc_script
"$VGATE" -listen "unix://$sock" -listen "tcp://127.0.0.1:$tport" "${vsock_args[@]}" \
	--outbound-allow 127.0.0.0/8 --pid-file "$VG_TMP/vgate.pid" 2>"$VG_LOG" &
VG_PID=$!
vg_wait_for 10 test -s "$VG_TMP/vgate.pid" || vg_fail "vgate did not become ready"

[ -S "$sock" ] || vg_fail "no socket $sock"
[ "$(stat -c %a "$sock")" = 600 ] || vg_fail "socket mode $(stat -c %a "$sock")"

metric() { vg_metric_on "$sock" "$1"; }
code=$(curl -sS --max-time 5 --unix-socket "$sock" -o "$VG_TMP/stats.json" -w '%{http_code}' \
	http://vgate/stats) || vg_fail "GET /stats on the -listen socket failed"
[ "$code" = 200 ] || vg_fail "GET /stats: HTTP $code"
grep -q '"listen"' "$VG_TMP/stats.json" || vg_fail "no listen group in /stats"
[ "$(metric listen_http_total)" -ge 1 ] || vg_fail "the API did not count its -listen connection"

# bridge MODE ADDR NAME: gv_client.py in the background, waits until it bridges
bridge() {
	vg_bg python3 "$VG_SRC/tests/e2e/gv_client.py" "$1" "$2" "$VG_NS" >"$VG_TMP/$3.out" 2>&1
	vg_wait_for 20 grep -q bridging "$VG_TMP/$3.out" ||
		vg_fail "$3: the client did not start: $(cat "$VG_TMP/$3.out")"
}
lease() {
	: >"$VG_LEASE"
	vg_ns busybox udhcpc -i tap0 -n -q -f -t 5 -T 1 -s "$VG_TMP/udhcpc.sh" \
		>"$VG_TMP/udhcpc.out" 2>&1 || vg_fail "$1: no lease: $(cat "$VG_TMP/udhcpc.out")"
	[ "$(vg_lease_var ip)" = 192.168.127.2 ] || vg_fail "$1: lease $(cat "$VG_LEASE")"
}
fetch() {
	got=$(vg_ns curl -sS --max-time 10 "http://192.168.127.254:$port/f.txt") ||
		vg_fail "$1: fetch through vgate failed"
	[ "$got" = "hello through POST /connect" ] || vg_fail "$1: fetched '$got'"
}

bridge connect "unix://$sock" unix
br_unix=${VG_CLEANUP_PIDS[-1]}
lease unix
fetch unix
[ "$(metric listen_connect_total)" = 1 ] || vg_fail "listen.connect is not 1"

# while it is alive: a second /connect is closed, so is an endless head;
# the API keeps answering on the same socket
python3 - "$sock" <<'EOP' || vg_fail "a second /connect or a long head was not closed"
import socket, sys
def closed(data):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(data)
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True
assert closed(b"POST /connect HTTP/1.1\r\nHost: x\r\n\r\n\x3c\x00")
assert closed(b"POST /connect HTTP/1.1\r\nX-Long: " + b"a" * 9000)
EOP
[ "$(metric 'listen_closed_total{reason="link_busy"}')" = 1 ] || vg_fail "listen.connect_refused is not 1"
[ "$(metric 'transport_refused_total{reason="busy"}')" -ge 1 ] || vg_fail "transport.refused not counted"
[ "$(metric 'listen_closed_total{reason="bad_head"}')" = 1 ] || vg_fail "listen.bad_head is not 1"
fetch "unix, after the refusals"

# the first client dies: a client over tcp:// takes the dead link's place
kill "$br_unix"
vg_wait_for 10 sh -c "! ip netns exec $VG_NS ip link show tap0" || vg_fail "tap0 stayed"
bridge connect "tcp://127.0.0.1:$tport" tcp
lease tcp
fetch tcp
[ "$(metric listen_connect_total)" = 2 ] || vg_fail "listen.connect is not 2"
br_tcp=${VG_CLEANUP_PIDS[-1]}

if [ ${#vsock_args[@]} -gt 0 ]; then
	kill "$br_tcp"
	vg_wait_for 10 sh -c "! ip netns exec $VG_NS ip link show tap0" || vg_fail "tap0 stayed"
	bridge connect "vsock://1:$vport" vsock
	lease vsock
	fetch vsock
	br_tcp=${VG_CLEANUP_PIDS[-1]}
fi

# a zero length prefix: a desync, skipped, counted and logged
kill "$br_tcp"
before=$(metric transport_desync_total)
python3 - "$sock" <<'EOP' || vg_fail "desync client failed"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"POST /connect HTTP/1.1\r\n\r\n\x00\x00")
time.sleep(0.3)
EOP
vg_wait_for 5 grep -q 'desynchronised: length prefix 0 .*2-byte LE framing' "$VG_LOG" || vg_fail "no desync log line"
[ "$(metric transport_desync_total)" -gt "$before" ] || vg_fail "transport.desync not counted"

kill "$VG_PID"
wait "$VG_PID" || vg_fail "vgate exited with status $?"
VG_PID=""
[ ! -e "$sock" ] || vg_fail "the -listen socket was not removed"
vg_pass
