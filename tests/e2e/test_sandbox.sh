#!/usr/bin/env bash
# test_sandbox.sh - --sandbox: the seccomp filter is in force (Seccomp: 2
# in /proc/PID/status) and every daemon path still works under it: DHCP,
# DNS, a forwarded TCP download, the API, pcap, SIGHUP reload with the
# log file reopened, and a clean SIGTERM exit. (The whole e2e suite can
# run sandboxed: VGATE_EXTRA_ARGS=--sandbox ctest -L e2e.)
. "$(dirname "$0")/lib.sh"

sock=$VG_TMP/api.sock
cfg=$VG_TMP/vgate.yaml
echo 'dns-record: [a.test=10.0.0.1]' >"$cfg"
vg_start --sandbox --config "$cfg" --api "unix://$sock" --pcap "$VG_TMP/g.pcap" \
	--log-file "$VG_TMP/file.log"
grep -q 'sandbox: seccomp filter installed' "$VG_TMP/file.log" || vg_fail "no sandbox log line"
grep -q '^Seccomp:[[:space:]]*2' "/proc/$VG_PID/status" || vg_fail "seccomp filter not active"

vg_ns dig +short +time=2 +tries=1 @192.168.127.1 a.test | vg_has -x 10.0.0.1 || vg_fail "DNS"
port=$(vg_free_port)
mkdir -p "$VG_TMP/www"
head -c 2M /dev/urandom >"$VG_TMP/www/f"
vg_bg python3 -m http.server --bind 127.0.0.1 --directory "$VG_TMP/www" "$port" >/dev/null 2>&1
vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || vg_fail "http server"
vg_ns curl -sSf --max-time 20 -o "$VG_TMP/got" "http://192.168.127.254:$port/f" || vg_fail "download"
cmp -s "$VG_TMP/got" "$VG_TMP/www/f" || vg_fail "download corrupted"
curl -sf --unix-socket "$sock" http://vgate/metrics | vg_has '^vgate_dns_queries_total' ||
	vg_fail "API"
curl -sf --unix-socket "$sock" -X POST -d '{"name":"b.test","ip":"10.0.0.2"}' \
	http://vgate/dns/records >/dev/null || vg_fail "API POST"

echo 'dns-record: [c.test=10.0.0.3]' >"$cfg"
mv "$VG_TMP/file.log" "$VG_TMP/file.log.1"
kill -HUP "$VG_PID"
vg_wait_for 5 grep -q 'reload: done' "$VG_TMP/file.log" || vg_fail "reload under the sandbox"
vg_ns dig +short +time=2 +tries=1 @192.168.127.1 c.test | vg_has -x 10.0.0.3 || vg_fail "reloaded record"

kill -TERM "$VG_PID"
rc=0
wait "$VG_PID" || rc=$?
VG_PID=""
[ "$rc" = 0 ] || vg_fail "exit $rc under the sandbox (159 = SIGSYS: a syscall is missing)"
[ ! -e "$sock" ] && [ ! -e "$VG_TMP/vgate.pid" ] || vg_fail "files left behind"
[ -s "$VG_TMP/g.pcap" ] || vg_fail "empty pcap"
vg_pass
