#!/usr/bin/env bash
# test_signals.sh - process behaviour:
#  1. SIGHUP reloads --config: a static DNS record is replaced, the log level
#     changes, port forwards are added and removed, and a config with an
#     error is refused (old one kept);
#  2. SIGHUP changes the outbound policy while a slow download through the
#     forwarder runs: a new flow is then refused, and the download, which
#     the new policy denies, is reset (issue 10: reloads revoke);
#  3. --log-file gets the log and is reopened on SIGHUP (log rotation);
#  4. SIGTERM during a transfer: exit 0 within 2 s, pid file and API
#     socket removed;
#  5. systemd readiness: READY=1 (and RELOADING/STOPPING) on NOTIFY_SOCKET.
. "$(dirname "$0")/lib.sh"

cfg=$VG_TMP/vgate.yaml
log=$VG_TMP/vgate-file.log
sock=$VG_TMP/api.sock
cat >"$cfg" <<EOC
log-level: info
dns-record: [old.test=10.0.0.1]
EOC
# a stand-in for systemd's notify socket records what vgate sends
notify=$VG_TMP/notify.sock
cat >"$VG_TMP/notify.py" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode() + "\n")
        out.flush()
EOP
vg_bg python3 "$VG_TMP/notify.py" "$notify" "$VG_TMP/notify.log"
vg_wait_for 5 test -S "$notify" || vg_fail "notify socket not created"
NOTIFY_SOCKET=$notify vg_start --config "$cfg" --log-file "$log" --api "unix://$sock"
vg_wait_for 5 grep -q '^READY=1' "$VG_TMP/notify.log" || vg_fail "no READY=1 to NOTIFY_SOCKET"
grep -q "^MAINPID=$VG_PID" "$VG_TMP/notify.log" || vg_fail "no MAINPID in the notification"
dig_a() { vg_ns dig +short +time=2 +tries=1 @192.168.127.1 "$1"; }
dig_a old.test | vg_has -x 10.0.0.1 || vg_fail "record from the config file not answered"
grep -q 'ready' "$log" || vg_fail "--log-file has no start-up line"

# 1. reload static records
cat >"$cfg" <<EOC
log-level: debug
dns-record: [new.test=10.0.0.2]
EOC
kill -HUP "$VG_PID"
vg_wait_for 5 grep -q 'reload: done' "$log" || vg_fail "no reload in the log"
dig_a new.test | vg_has -x 10.0.0.2 || vg_fail "new record not answered after SIGHUP"
[ -z "$(dig_a old.test)" ] || vg_fail "old record still answered after SIGHUP"

# port forwards follow the file: added, then removed on the next reload
fport=$(vg_free_port)
printf 'log-level: debug\ndns-record: [new.test=10.0.0.2]\nforward: [tcp:127.0.0.1:%s:8080]\n' \
	"$fport" >"$cfg"
forward_listed() { curl -sf --unix-socket "$sock" http://vgate/forwards | vg_has "127.0.0.1:$fport"; }
kill -HUP "$VG_PID"
vg_wait_for 5 forward_listed ||
	vg_fail "forward from the reloaded file not listed"
bash -c "exec 3<>/dev/tcp/127.0.0.1/$fport" 2>/dev/null || vg_fail "forward not listening"
printf 'log-level: debug\ndns-record: [new.test=10.0.0.2]\n' >"$cfg"
kill -HUP "$VG_PID"
forward_gone() { ! forward_listed; }
vg_wait_for 5 forward_gone ||
	vg_fail "forward not removed by the reload"

# a broken config is refused and the running one kept
echo 'mtu: nonsense' >"$cfg"
kill -HUP "$VG_PID"
vg_wait_for 5 grep -q "reload: .*invalid --mtu 'nonsense'" "$log" || vg_fail "bad config not reported"
dig_a new.test | vg_has -x 10.0.0.2 || vg_fail "running config lost after a bad reload"
kill -0 "$VG_PID" || vg_fail "vgate died on a bad config"

# 3. log rotation: move the file away, SIGHUP, new file appears
mv "$log" "$log.1"
echo 'dns-record: [new.test=10.0.0.2]' >"$cfg"
kill -HUP "$VG_PID"
vg_wait_for 5 grep -q 'reload: done' "$log" || vg_fail "log file not reopened on SIGHUP"

# 2. policy reload during a long download (needs the forwarder)
port=$(vg_free_port)
mkdir -p "$VG_TMP/www"
head -c 8M /dev/urandom >"$VG_TMP/www/big"
echo hi >"$VG_TMP/www/small"
# paced by the server (64 KiB every 30 ms, about 2 MB/s), so the guest
# reads at full speed and the flow stays open for about 4 s
cat >"$VG_TMP/slow.py" <<'EOP'
import http.server, os, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        data = open(os.path.join(sys.argv[2], self.path.lstrip("/")), "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for i in range(0, len(data), 65536):
            self.wfile.write(data[i:i + 65536])
            self.wfile.flush()
            if len(data) > 65536:
                time.sleep(0.03)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOP
vg_bg python3 "$VG_TMP/slow.py" "$port" "$VG_TMP/www"
vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || vg_fail "http server did not start"
vg_ns curl -sS -f --max-time 5 -o /dev/null "http://192.168.127.254:$port/small" ||
	vg_fail "no forwarding to the host alias"
# 8 MB at 2 MB/s: about 4 s
vg_ns curl -sS -f --max-time 60 -o "$VG_TMP/got" "http://192.168.127.254:$port/big" &
dl=$!
sleep 1
printf 'dns-record: [new.test=10.0.0.2]\noutbound-deny: [127.0.0.1/32]\n' >"$cfg"
kill -HUP "$VG_PID"
vg_wait_for 5 grep -q 'reload: done' "$log" || vg_fail "no reload"
grep -q 'reload: policy has' "$log" || vg_fail "policy not reloaded"
if vg_ns curl -sS --max-time 5 -o /dev/null "http://192.168.127.254:$port/small" 2>/dev/null; then
	vg_fail "new flow allowed after the deny rule was loaded"
fi
# issue 10: a reload closes the flows its policy now denies (a reload that
# keeps them is test_forward_revoke.sh)
if wait "$dl"; then
	vg_fail "the download survived a reload whose policy denies it"
fi
vg_log "policy reloaded: the download it denies was reset"

# 4. SIGTERM during a transfer: exit 0 within 2 s, files removed
printf 'dns-record: [new.test=10.0.0.2]\n' >"$cfg"
kill -HUP "$VG_PID"
sleep 0.5
vg_ns curl -sS --max-time 30 -o /dev/null "http://192.168.127.254:$port/big" \
	2>/dev/null &
sleep 1
t0=$(date +%s%N)
kill -TERM "$VG_PID"
rc=0
wait "$VG_PID" || rc=$?
t1=$(date +%s%N)
VG_PID=""
[ "$rc" = 0 ] || vg_fail "vgate exited with $rc on SIGTERM"
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt 2000 ] || vg_fail "SIGTERM took $ms ms"
[ ! -e "$VG_TMP/vgate.pid" ] || vg_fail "pid file left behind"
[ ! -e "$sock" ] || vg_fail "API socket left behind"
grep -q 'stopped' "$log" || vg_fail "no final log line"
grep -q '^RELOADING=1' "$VG_TMP/notify.log" && grep -q '^STOPPING=1' "$VG_TMP/notify.log" ||
	vg_fail "no RELOADING/STOPPING notifications: $(cat "$VG_TMP/notify.log")"
vg_log "SIGTERM: exit 0 in $ms ms"
vg_pass
