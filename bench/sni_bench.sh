#!/bin/bash
# sni_bench.sh - added connection-setup latency of the SNI filter: the same
# guest client makes N sequential TLS connections (TCP connect + full TLS 1.3
# handshake + one tiny request/response) to a server on 127.0.0.2:443, first
# through an unfiltered vgate, then through one with --allow-sni allowed.test
# (cache hit: the name was resolved through vgate just before). Prints the
# median and p90 per connection for both and the difference.
# Usage: VGATE=build/cmd/vgate bench/sni_bench.sh [N]   (root: network namespaces)
set -euo pipefail
N=${1:-300}
SRC=$(cd "$(dirname "$0")/.." && pwd)
export VGATE_SRC=$SRC
: "${VGATE:?set VGATE to the vgate binary}"
TMP=$(mktemp -d /tmp/vgate-snibench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=allowed.test \
	-addext "subjectAltName=DNS:allowed.test" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
	>/dev/null 2>&1
python3 "$SRC/tests/e2e/sni_servers.py" tls 127.0.0.2 443 "$TMP/cert.pem" "$TMP/key.pem" \
	"$TMP/count" & PIDS+=($!)
python3 "$SRC/tests/e2e/sni_servers.py" dns 127.0.0.5 "$TMP/dnsport" 300 allowed.test=127.0.0.2 &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$TMP/dnsport" ] && break; sleep 0.1; done
sleep 0.5

CLIENT='
import socket, ssl, sys, time, statistics
n = int(sys.argv[1]); ctx = ssl.create_default_context(cafile=sys.argv[2])
ts = []
for i in range(n):
    t = time.perf_counter()
    s = socket.create_connection(("127.0.0.2", 443))
    c = ctx.wrap_socket(s, server_hostname="allowed.test")
    c.sendall(b"GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n")
    while c.recv(4096): pass
    c.close(); ts.append((time.perf_counter() - t) * 1e6)
ts.sort(); print("%.0f %.0f" % (statistics.median(ts), ts[int(len(ts) * 0.9)]))'

run() { # run ARGS...: one vgate, prints "median p90" in µs
	(
		source "$SRC/tests/e2e/lib.sh"
		vg_start --dns-upstream "127.0.0.5:$(cat "$TMP/dnsport")" "$@"
		vg_route_loopback
		vg_ns dig +short @192.168.127.1 allowed.test >/dev/null
		vg_ns python3 -c "$CLIENT" 20 "$TMP/cert.pem" >/dev/null # warm-up
		vg_ns python3 -c "$CLIENT" "$N" "$TMP/cert.pem"
	) 2>/dev/null
}
read -r u50 u90 < <(run)
read -r f50 f90 < <(run --allow-sni allowed.test)
echo "connections: $N sequential TLS 1.3 set-ups + 1 request each, guest netns -> vgate -> 127.0.0.2"
printf '%-12s %10s %10s\n' "" "median µs" "p90 µs"
printf '%-12s %10s %10s\n' unfiltered "$u50" "$u90" filtered "$f50" "$f90"
echo "added by the filter (median): $((f50 - u50)) µs"
