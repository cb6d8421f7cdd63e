#!/usr/bin/env bash
# test_config.sh - --config FILE: errors (unknown key, bad value, bad CIDR,
# unreadable file, YAML syntax) give exit 2 and a one-line message naming
# the key and value, and nothing starts (no pid file, no API socket);
# a good file configures the daemon (DHCP MTU, static record) and options
# on the command line override it.
. "$(dirname "$0")/lib.sh"

# expect_bad YAML MESSAGE: vgate refuses the file with exit 2 and MESSAGE
expect_bad() {
	local yaml=$1 msg=$2 rc=0
	printf '%s\n' "$yaml" >"$VG_TMP/bad.yaml"
	rm -f "$VG_TMP/bad.pid" "$VG_TMP/bad.sock"
	"$VGATE" --config "$VG_TMP/bad.yaml" --tap-fd 0 --pid-file "$VG_TMP/bad.pid" \
		--api "unix://$VG_TMP/bad.sock" >"$VG_TMP/out" 2>"$VG_TMP/err" || rc=$?
	[ "$rc" = 2 ] || vg_fail "exit $rc for: $yaml"
	[ "$(wc -l <"$VG_TMP/err")" = 1 ] || vg_fail "not one line: $(cat "$VG_TMP/err")"
	grep -qF -- "$msg" "$VG_TMP/err" || vg_fail "message '$(cat "$VG_TMP/err")' lacks '$msg'"
	[ ! -e "$VG_TMP/bad.pid" ] && [ ! -e "$VG_TMP/bad.sock" ] || vg_fail "something started"
}
expect_bad 'mtux: 1500' "bad.yaml:1: unknown key 'mtux'"
expect_bad $'mtu: 1500\nsubnet: 10.0.0.0' "bad.yaml:2: invalid --subnet '10.0.0.0'"
expect_bad 'mtu: 100' "bad.yaml:1: invalid --mtu '100'"
expect_bad 'outbound-deny: [10.0.0.0/8, 10.1.0.0/40]' "bad CIDR '10.1.0.0/40'"
expect_bad 'outbound-allow: 999.0.0.0/8' "bad CIDR '999.0.0.0/8'"
expect_bad 'dns-record: noequals' "invalid --dns-record 'noequals'"
expect_bad 'log-level: loud' "invalid --log-level 'loud'"
expect_bad 'sandbox: sometimes' "invalid sandbox 'sometimes'"
expect_bad 'mtu: [1500' "bad.yaml:2: YAML error"
expect_bad 'mtu: {a: 1}' "mtu: expected a value or a list"
rc=0
"$VGATE" --config "$VG_TMP/missing.yaml" --tap-fd 0 2>"$VG_TMP/err" || rc=$?
[ "$rc" = 2 ] && grep -q "cannot read --config '$VG_TMP/missing.yaml'" "$VG_TMP/err" ||
	vg_fail "unreadable file: exit $rc, $(cat "$VG_TMP/err")"
# a bad flag next to a good file is still the flag's error
printf 'mtu: 1500\n' >"$VG_TMP/ok.yaml"
rc=0
"$VGATE" --config "$VG_TMP/ok.yaml" --tap-fd 0 --mtu nope 2>"$VG_TMP/err" || rc=$?
[ "$rc" = 2 ] && grep -q "invalid --mtu 'nope'" "$VG_TMP/err" || vg_fail "flag error: $rc"

# a good file, with one value overridden on the command line
cat >"$VG_TMP/vgate.yaml" <<EOC
# vgate test config
mtu: 9000
dhcp-lease-time: 600
dns-record:
  - cfg.test=10.4.4.4
  - other.test=10.4.4.5
log-level: debug
EOC
vg_start --config "$VG_TMP/vgate.yaml" --mtu 4000 --api "unix://$VG_TMP/api.sock"
[ "$(vg_lease_var mtu)" = 4000 ] || vg_fail "command line did not override mtu: $(vg_lease_var mtu)"
[ "$(vg_lease_var lease)" = 600 ] || vg_fail "lease time from the file not used: $(vg_lease_var lease)"
vg_ns dig +short +time=2 +tries=1 @192.168.127.1 other.test | vg_has -x 10.4.4.5 ||
	vg_fail "record from the file not answered"
curl -sf --unix-socket "$VG_TMP/api.sock" http://vgate/stats >/dev/null || vg_fail "API down"
grep -q ' debug api: GET /stats' "$VG_LOG" || vg_fail "log-level from the file not used"
vg_pass
