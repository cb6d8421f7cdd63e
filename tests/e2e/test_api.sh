#!/usr/bin/env bash
# test_api.sh - the control API over a unix socket with curl --unix-socket:
# every endpoint, the error cases (400 bad JSON / field, 404, 405, 409), a DNS
# cache hit visible in /stats, and /metrics checked by a real Prometheus
# text-format parser (python3-prometheus-client when installed, else a
# strict parser of the exposition grammar written here).
. "$(dirname "$0")/lib.sh"

sock=$VG_TMP/api.sock
vg_start --api "unix://$sock" --dns-record static.test=10.1.2.3

source "$(dirname "$0")/api_lib.sh"

[ -S "$sock" ] || vg_fail "no API socket"
[ "$(stat -c %a "$sock")" = 600 ] || vg_fail "socket mode is $(stat -c %a "$sock"), expected 600"

# DNS: a static answer and the stats that count it
vg_ns dig +short +time=2 +tries=1 @192.168.127.1 static.test | vg_has -x 10.1.2.3 || vg_fail "static record not answered"
expect 200 GET /stats
jq_py 'assert d["dns"]["static_answers"] >= 1, d["dns"]; assert d["dhcp"]["ack"] >= 1; assert d["link"]["rx_frames"] > 0'

# records: add, list, answer, delete, errors
expect 201 POST /dns/records '{"name":"added.test","ip":"10.9.9.9"}'
expect 409 POST /dns/records '{"name":"added.test","ip":"10.9.9.9"}'
expect 200 GET /dns/records
jq_py 'assert {"name":"added.test","ip":"10.9.9.9"} in d["records"], d'
vg_ns dig +short +time=2 +tries=1 @192.168.127.1 added.test | vg_has -x 10.9.9.9 || vg_fail "API record not answered"
expect 200 DELETE /dns/records '{"name":"added.test"}'
expect 404 DELETE /dns/records '{"name":"added.test"}'
expect 400 POST /dns/records '{"name":"x.test","ip":"not-an-ip"}'
expect 400 POST /dns/records '{"name":"x.test","ip":"10.0.0.1","bogus":1}'
expect 400 POST /dns/records '{"name": '
expect 400 POST /dns/records '[1,2]'
expect 400 POST /dns/records
expect 405 PUT /dns/records '{}'

# cache: list and flush
expect 200 GET /dns/cache
jq_py 'assert "entries" in d and d["count"] == len(d["entries"])'
expect 200 POST /dns/cache/flush
expect 405 GET /dns/cache/flush
expect 200 GET /dns/cache
jq_py 'assert d["count"] == 0, d'

# leases: the namespace's udhcpc lease
expect 200 GET /leases
jq_py 'l=d["leases"]; assert any(x["ip"]=="192.168.127.2" and x["state"]=="bound" for x in l), l'

# policy: read; replace with a bad CIDR is refused; without a filter at
# start the SNI allowlist cannot be set (409; tests/e2e/test_api_policy.sh
# covers the allowlist with the filter on)
expect 200 GET /policy
jq_py 'assert "127.0.0.0/8" in d["outbound-allow"], d; assert d["default"] == "deny"'
jq_py 'assert d["sni-filter"] is False and d["allow-sni"] == [] and d["allowlist-file"] is None, d'
expect 400 PUT /policy '{"outbound-allow":["10.0.0.0/33"]}'
expect 400 PUT /policy '{"outbound-allow":"10.0.0.0/8"}'
expect 400 PUT /policy '{"nonsense":[]}'
expect 400 PUT /policy '{}'
expect 409 PUT /policy '{"allow-sni":["a.test"]}'
jq_py 'assert "not at run time" in d["error"], d'
expect 200 PUT /policy '{"outbound-allow":["127.0.0.0/8"]}'
expect 405 POST /policy '{}'

# forwards: list, add, conflict, delete (gvproxy aliases too)
if expect 200 GET /forwards 2>/dev/null; then
	port=$((20000 + RANDOM % 20000))
	expect 200 POST /forwards "{\"protocol\":\"tcp\",\"local\":\"127.0.0.1:$port\",\"remote\":\"192.168.127.2:22\"}"
	expect 409 POST /forwards "{\"protocol\":\"tcp\",\"local\":\"127.0.0.1:$port\",\"remote\":\":22\"}"
	expect 200 GET /services/forwarder/all
	jq_py "assert any(f['local']=='127.0.0.1:$port' for f in d), d"
	expect 200 POST /services/forwarder/unexpose "{\"protocol\":\"tcp\",\"local\":\"127.0.0.1:$port\"}"
	expect 404 DELETE /forwards "{\"protocol\":\"tcp\",\"local\":\"127.0.0.1:$port\"}"
	expect 400 POST /forwards '{"protocol":"sctp","local":"127.0.0.1:1","remote":":1"}'
	expect 400 POST /forwards '{"protocol":"tcp","local":"127.0.0.1:99999","remote":":1"}'
else
	vg_log "forwards: $(cat "$VG_TMP/body") (no forwarder in this build)"
fi

# unknown path, wrong method
expect 404 GET /nope
expect 404 GET /%ff%fe%00x
jq_py 'assert "no such endpoint" in d["error"], d'
expect 405 DELETE /stats
expect 405 POST /metrics '{}'

# events: the stream opens and sends its first keepalive comment
timeout 2 curl -sS -N --unix-socket "$sock" http://vgate/events >"$VG_TMP/events" 2>/dev/null || true
grep -q '^: keepalive' "$VG_TMP/events" || vg_fail "no event stream: $(cat "$VG_TMP/events")"

# metrics: parsed by a real parser
expect 200 GET /metrics
cp "$VG_TMP/body" "$VG_TMP/metrics.txt"
# Debian's python3 has python3-prometheus-client (scripts/setup installs it);
# prom_parse.py must then use that real parser, not only its own strict one
pyprom=python3
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null &&
	pyprom=/usr/bin/python3
$pyprom "$(dirname "$0")/prom_parse.py" "$VG_TMP/metrics.txt" \
	vgate_dns_queries_total vgate_link_rx_frames_total vgate_dhcp_messages_total \
	vgate_link_dropped_frames_total vgate_dns_cache_entries ||
	vg_fail "metrics did not parse"
if [ "$pyprom" = /usr/bin/python3 ]; then
	out=$($pyprom "$(dirname "$0")/prom_parse.py" "$VG_TMP/metrics.txt")
	grep -q 'prometheus_client parser OK' <<<"$out" ||
		vg_fail "prometheus_client did not parse the metrics: $out"
fi

# a body over the 64 KiB limit: 413
head -c 70000 /dev/zero | tr '\0' ' ' >"$VG_TMP/huge"
code=$(api -X POST -H 'Content-Type: application/json' --data-binary "@$VG_TMP/huge" http://vgate/dns/records)
[ "$code" = 413 ] || vg_fail "huge body: HTTP $code"

# 100 concurrent clients are all answered
pids=()
for _ in $(seq 1 100); do
	curl -sf --max-time 10 --unix-socket "$sock" -o /dev/null http://vgate/metrics &
	pids+=($!)
done
fails=0
for j in "${pids[@]}"; do wait "$j" || fails=$((fails + 1)); done
[ "$fails" = 0 ] || vg_fail "$fails of 100 concurrent requests failed"

# many bad requests in a row do not hurt the daemon
for _ in $(seq 1 50); do api -X POST --data '{{{' http://vgate/dns/records >/dev/null; done
printf 'GARBAGE\r\n\r\n' | timeout 2 python3 -c "
import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect('$sock'); s.sendall(sys.stdin.buffer.read()); s.recv(100)" || true
expect 200 GET /stats
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
