#!/bin/bash
# test_forward_revoke.sh - a policy reload revokes what it denies: a guest
# TCP flow and a UDP mapping to the host alias stay up across a reload that
# keeps 127.0.0.0/8 allowed (SIGHUP with a config file that adds an unrelated
# deny), and end after one that denies it (PUT /policy): the TCP flow is
# reset, the mapping dropped (its next datagram gets ICMP administratively
# prohibited), both counted as revoked; then a SIGHUP restores the rules and
# a new flow works.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"
source "$(dirname "$0")/budget_lib.sh"

sock=$VG_TMP/api.sock
echo 'outbound-deny: [10.0.0.0/8]' >"$VG_TMP/vgate.yaml"
vg_start --config "$VG_TMP/vgate.yaml" --api "unix://$sock"
P=$(fwd_port 0)
bud_echo_server "$P"
cat >"$VG_TMP/hold.py" <<'EOP'
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
t = socket.create_connection(("192.168.127.254", port), timeout=3)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(1)
u.connect(("192.168.127.254", port))
def log(s):
    with open(out, "a") as f:
        f.write(s + "\n")
end = time.time() + 60
while time.time() < end:
    try:
        t.sendall(b"ping"); ok_t = t.recv(10) == b"ping"
    except OSError as e:
        log("tcp-ended %s" % e.__class__.__name__); break
    try:
        u.send(b"echo"); ok_u = u.recv(10) == b"echo"
    except OSError as e:
        ok_u = False
    log("up tcp=%d udp=%d" % (ok_t, ok_u))
    time.sleep(0.2)
EOP
: >"$VG_TMP/hold.log"
vg_ns python3 "$VG_TMP/hold.py" "$P" "$VG_TMP/hold.log" &
VG_CLEANUP_PIDS+=($!)
up() { tail -n 1 "$VG_TMP/hold.log" | grep -qx "up tcp=1 udp=1"; }
vg_wait_for 10 up || vg_fail "flows did not come up: $(tail -n 2 "$VG_TMP/hold.log")"

# reload 1 (SIGHUP): 127.0.0.0/8 still allowed → the flows stay
echo 'outbound-deny: [10.0.0.0/8, 172.16.0.0/12]' >"$VG_TMP/vgate.yaml"
kill -HUP "$VG_PID"
reloaded() { grep -q "reload: policy has 1 allow and 2 deny" "$VG_LOG"; }
vg_wait_for 10 reloaded || vg_fail "SIGHUP reload not logged"
n=$(wc -l <"$VG_TMP/hold.log")
more() { [ "$(wc -l <"$VG_TMP/hold.log")" -ge $((n + 3)) ]; }
vg_wait_for 10 more || vg_fail "the flows stalled after a reload that keeps them"
up || vg_fail "a flow ended at a reload that keeps it: $(tail -n 1 "$VG_TMP/hold.log")"
[ "$(fwd_stat tcp_revoked)" = 0 ] && [ "$(fwd_stat udp_revoked)" = 0 ] ||
	vg_fail "something revoked at a reload that keeps everything"
vg_log "flows kept across a reload that allows them"

# reload 2 (PUT /policy): 127.0.0.0/8 denied → both end
code=$(curl -sS --max-time 2 --unix-socket "$sock" -o /dev/null -w '%{http_code}' -X PUT \
	-d '{"outbound-allow": ["10.0.0.0/8"], "outbound-deny": ["127.0.0.0/8"]}' http://vgate/policy)
[ "$code" = 200 ] || vg_fail "PUT /policy: $code"
ended() { grep -q "^tcp-ended" "$VG_TMP/hold.log"; }
vg_wait_for 10 ended || vg_fail "the TCP flow outlived the policy: $(tail -n 1 "$VG_TMP/hold.log")"
[ "$(fwd_stat tcp_revoked)" = 1 ] || vg_fail "tcp_revoked not 1"
[ "$(fwd_stat udp_revoked)" = 1 ] || vg_fail "udp_revoked not 1"
bud_udp "$P" && vg_fail "a UDP flow works under a policy that denies it"
denied() { [ "$(fwd_stat udp_denied)" -ge 1 ]; }
vg_wait_for 5 denied || vg_fail "the next datagram was not denied"
vg_log "flows revoked by a reload that denies them"

# reload 3 (SIGHUP): the file's rules again → a new flow works
kill -HUP "$VG_PID"
vg_wait_for 10 bud_tcp "$P" || vg_fail "no TCP after restoring the policy"
vg_wait_for 10 bud_udp "$P" || vg_fail "no UDP after restoring the policy"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
