#!/usr/bin/env bash
# test_events.sh - GET /events streams a "blocked" server-sent event for
# each guest flow the SNI allowlist refuses (name, addresses, reason), and
# /stats and /metrics carry the filter's counters per reason.
. "$(dirname "$0")/lib.sh"

sock=$VG_TMP/api.sock
vg_start --api "unix://$sock" --allow-sni allowed.test
curl -sN --max-time 8 --unix-socket "$sock" http://vgate/events >"$VG_TMP/events" 2>/dev/null &
ev=$!
vg_wait_for 5 grep -q keepalive "$VG_TMP/events" || vg_fail "event stream did not open"

# TLS with a name off the allowlist: refused on the ClientHello
vg_ns curl -sk --max-time 3 --resolve blocked.test:443:192.168.127.254 \
	https://blocked.test/ >/dev/null 2>&1 && vg_fail "blocked.test was allowed"
vg_wait_for 5 grep -q '"name":"blocked.test"' "$VG_TMP/events" ||
	vg_fail "no blocked event: $(cat "$VG_TMP/events")"
line=$(grep '"name":"blocked.test"' "$VG_TMP/events" | head -1)
python3 - "$line" <<'EOP' || vg_fail "bad event: $line"
import json, sys
d = json.loads(sys.argv[1].split("data: ", 1)[1])
assert d["protocol"] == "tcp" and d["reason"] == "sni_not_allowed", d
assert d["src"].startswith("192.168.127.2:") and d["dst"] == "192.168.127.254:443", d
assert d["time"].endswith("Z"), d
EOP
grep -q '^event: blocked$' "$VG_TMP/events" || vg_fail "event name missing"
kill "$ev" 2>/dev/null || true

curl -sf --unix-socket "$sock" http://vgate/stats >"$VG_TMP/stats" || vg_fail "stats"
python3 -c "
import json; d = json.load(open('$VG_TMP/stats'))
assert d['sni']['blocked']['sni_not_allowed'] >= 1, d['sni']
assert d['sni']['patterns'] == 1, d['sni']" || vg_fail "sni counters in /stats"
curl -sf --unix-socket "$sock" http://vgate/metrics >"$VG_TMP/metrics.txt" || vg_fail "metrics"
python3 "$(dirname "$0")/prom_parse.py" "$VG_TMP/metrics.txt" vgate_sni_blocked_total \
	vgate_sni_inspected_total || vg_fail "metrics did not parse"
grep -q '^vgate_sni_blocked_total{reason="sni_not_allowed"} [1-9]' "$VG_TMP/metrics.txt" ||
	vg_fail "no sni_not_allowed sample"
vg_pass
