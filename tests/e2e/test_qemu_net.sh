#!/usr/bin/env bash
# test_qemu_net.sh - a QEMU guest (TCG, Debian cloud kernel, busybox) on
# --listen-qemu uses vgate as its whole network: it resolves a name through
# the gateway's DNS (test upstream on 127.0.0.1), and wget fetches a file from
# an HTTP server on the host's loopback through the host alias; the body's
# sha256 must match. Run twice: MTU 1500 and a large MTU (virtio-net
# host_mtu=65520, vgate --mtu 65520).
# ctest-labels: qemu
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QDIR=$HERE/qemu
: "${VGATE:?VGATE must point to the vgate binary (ctest sets it)}"
TMP=$(mktemp -d /tmp/vgate-qnet.XXXXXX)
PIDS=()
fail() { echo "test_qemu_net: FAIL: $*" >&2; exit 1; }
note() { echo "test_qemu_net: $*"; }
cleanup() {
	local rc=$?
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for pf in "$TMP"/qemu*.pid; do [ -s "$pf" ] && kill -9 "$(cat "$pf")" 2>/dev/null; done
	wait 2>/dev/null
	[ "$rc" != 0 ] && tail -n 20 "$TMP"/vgate*.log >&2 2>/dev/null
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

timeout 900 "$QDIR/build-guest.sh" >/dev/null || fail "guest build failed"

# the host side: an HTTP server and a DNS upstream, both on loopback
head -c 4000000 /dev/urandom >"$TMP/blob"
sum=$(sha256sum "$TMP/blob" | cut -d' ' -f1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$TMP" "$port" >/dev/null 2>&1 &
PIDS+=($!)
dnsport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$HERE/dns_upstream.py" --help >/dev/null 2>&1 || fail "dns_upstream.py missing"
python3 "$HERE/dns_upstream.py" --addr 127.0.0.1 --port "$dnsport" --count-file "$TMP/dns.count" \
	>"$TMP/dns.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
# what the upstream answers for the name (asked directly, on loopback)
want=""
for _ in $(seq 50); do
	want=$(dig +short +time=1 +tries=1 -p "$dnsport" @127.0.0.1 www.example.test A 2>/dev/null |
		grep -E '^[0-9.]+$' | sed -n 1p || true)
	[ -n "$want" ] && break
	sleep 0.1
done
[ -n "$want" ] || fail "test DNS upstream does not answer"
note "upstream answers www.example.test with $want"

run() { # run MTU
	local mtu=$1 sock=$TMP/q$1.sock
	"$VGATE" --listen-qemu "unix://$sock" --outbound-allow 127.0.0.0/8 --mtu "$mtu" \
		--dns-upstream "127.0.0.1:$dnsport" >"$TMP/vgate$mtu.log" 2>&1 &
	local vpid=$!
	PIDS+=("$vpid")
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || fail "vgate did not listen"
	"$QDIR/run-guest.sh" --sock "$sock" --mtu "$mtu" --test dns,wget \
		--name www.example.test --expect "$want" \
		--url "http://192.168.127.254:$port/blob" --sha256 "$sum" \
		--pidfile "$TMP/qemu$mtu.pid" --timeout 120 --log "$TMP/boot$mtu.log" ||
		{ cat "$TMP/boot$mtu.log" >&2; fail "guest tests failed at MTU $mtu"; }
	kill -0 "$vpid" || fail "vgate died"
	note "MTU $mtu: dns and wget (4 MB, sha256 ok) passed"
}
run 1500
run 65520
echo "test_qemu_net: PASS"
