#!/usr/bin/env bash
# test_events.sh - GET /events streams a "blocked" server-sent event for
# each guest flow the SNI allowlist refuses (name, addresses, reason) and
# for each flow the outbound CIDR policy refuses (TCP and UDP, reason
# "outbound_policy", with a log line), and /stats and /metrics carry the
# filter's counters per reason. The guest routes 127.0.0.0/8 (but
# 127.0.0.1) through vgate, so it can dial the denied 127.0.0.29.
. "$(dirname "$0")/lib.sh"

sock=$VG_TMP/api.sock
vg_start --api "unix://$sock" --allow-sni allowed.test --outbound-deny 127.0.0.29/32
vg_route_loopback
# the stream stays open until the test kills it (--max-time is only a bound:
# a short one closed it under CPU load before the last events came)
vg_bg curl -sN --max-time 120 --unix-socket "$sock" http://vgate/events >"$VG_TMP/events" 2>/dev/null
ev=$!
vg_wait_for 5 grep -q keepalive "$VG_TMP/events" || vg_fail "event stream did not open"

# TLS with a name off the allowlist: refused on the ClientHello
vg_ns curl -sk --max-time 3 --resolve blocked.test:443:192.168.127.254 \
	https://blocked.test/ >/dev/null 2>&1 && vg_fail "blocked.test was allowed"
vg_wait_for 5 grep -q '"name":"blocked.test"' "$VG_TMP/events" ||
	vg_fail "no blocked event: $(cat "$VG_TMP/events")"
line=$(grep -m 1 '"name":"blocked.test"' "$VG_TMP/events")
python3 - "$line" <<'EOP' || vg_fail "bad event: $line"
import json, sys
d = json.loads(sys.argv[1].split("data: ", 1)[1])
assert d["protocol"] == "tcp" and d["reason"] == "sni_not_allowed", d
assert d["src"].startswith("192.168.127.2:") and d["dst"] == "192.168.127.254:443", d
assert d["time"].endswith("Z"), d
EOP
grep -q '^event: blocked$' "$VG_TMP/events" || vg_fail "event name missing"

# the outbound CIDR policy: a TCP SYN is reset, a UDP datagram gets ICMP
got=$(vg_ns python3 -c '
import socket
t = socket.socket()
t.settimeout(3)
try:
    t.connect(("127.0.0.29", 443)); print("tcp-open", end=" ")
except ConnectionRefusedError:
    print("tcp-refused", end=" ")
except OSError as e:
    print("tcp-%s" % e, end=" ")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
u.connect(("127.0.0.29", 5353))
u.send(b"x")
try:
    u.recv(10); print("udp-answered")
except OSError as e:  # ICMP administratively prohibited: EHOSTUNREACH
    print("udp-prohibited" if e.errno == 113 else "udp-%s" % e)')
[ "$got" = "tcp-refused udp-prohibited" ] || vg_fail "denied destination: $got"
vg_wait_for 5 grep -q '"reason":"outbound_policy"' "$VG_TMP/events" ||
	vg_fail "no outbound_policy event: $(cat "$VG_TMP/events")"
two_events() { [ "$(grep -c '"reason":"outbound_policy"' "$VG_TMP/events")" = 2 ]; }
vg_wait_for 5 two_events ||
	vg_fail "want one TCP and one UDP outbound_policy event: $(cat "$VG_TMP/events")"
python3 - "$VG_TMP/events" <<'EOP' || vg_fail "bad outbound_policy events: $(cat "$VG_TMP/events")"
import json, sys
evs = [json.loads(l.split("data: ", 1)[1]) for l in open(sys.argv[1]) if l.startswith("data: ")]
pol = {e["protocol"]: e for e in evs if e["reason"] == "outbound_policy"}
assert set(pol) == {"tcp", "udp"}, evs
assert pol["tcp"]["dst"] == "127.0.0.29:443" and pol["udp"]["dst"] == "127.0.0.29:5353", pol
for e in pol.values():
    assert e["src"].startswith("192.168.127.2:") and "name" not in e, e
EOP
grep -q 'policy: denied tcp 192.168.127.2:[0-9]* -> 127.0.0.29:443 reason=outbound_policy' \
	"$VG_LOG" || vg_fail "no log line for the denied TCP flow"
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
