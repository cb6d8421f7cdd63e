#!/usr/bin/env bash
# test_dns_resolv_follow.sh - following the host's resolver (issue 11, item
# 3): vgate took its upstreams from a resolv.conf (--resolv-conf, a private
# copy laid out like systemd-resolved's: etc/resolv.conf a relative symlink
# into run/), the test changes it, and within a second new queries go to the
# server it now names, without a restart, with the cache kept:
#  1. the symlink's target rewritten in place
#  2. the target replaced by rename (as systemd-resolved writes it)
#  3. the symlink replaced by one to another directory (then that new target
#     is rewritten in place: the watch moved along)
#  4. the symlink replaced by a regular file, then that file rewritten in place
# After each change a name cached before is still a cache hit (/stats) and
# reaches no upstream. resolv.conf has no port syntax: the two test servers
# listen on port 53 of this run's own loopback /24 ($VG_LO).
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
UP1=$VG_LO.53
UP2=$VG_LO.54
for u in 1 2; do
	addr=$VG_LO.$((52 + u))
	python3 "$HERE/dns_upstream.py" --addr "$addr" --port 53 --port-file "$VG_TMP/up$u.port" \
		--count-file "$VG_TMP/up$u.counts" --ttl 300 &
	VG_CLEANUP_PIDS+=("$!")
	vg_wait_for 10 test -s "$VG_TMP/up$u.port" || vg_fail "test upstream $u did not start"
done
count() { # UPSTREAM(1|2) NAME: A queries for NAME it received
	local c
	c=$(awk -v n="$2" '$1 == n && $2 == 1 { print $3 }' "$VG_TMP/up$1.counts")
	echo "${c:-0}"
}

mkdir -p "$VG_TMP/etc" "$VG_TMP/run/a" "$VG_TMP/run/b"
printf '# written by the test\nnameserver %s\n' "$UP1" >"$VG_TMP/run/a/resolv.conf"
ln -s ../run/a/resolv.conf "$VG_TMP/etc/resolv.conf"
sock=$VG_TMP/api.sock
vg_start --resolv-conf "$VG_TMP/etc/resolv.conf" --dns-max-ttl 300 --api "unix://$sock"
hits() {
	curl -sS --max-time 10 --unix-socket "$sock" http://vgate/stats |
		python3 -c "import json,sys; print(json.load(sys.stdin)['dns']['hits'])" ||
		vg_fail "no dns.hits in /stats"
}
DIG=(vg_ns dig @192.168.127.1 +tries=1 +time=2 +short)

"${DIG[@]}" cached.test A | vg_has '^10\.' || vg_fail "no answer for cached.test"
[ "$(count 1 cached.test)" = 1 ] || vg_fail "cached.test did not reach upstream 1"
"${DIG[@]}" first.test A | vg_has '^10\.' || vg_fail "no answer for first.test"
[ "$(count 1 first.test)" = 1 ] && [ "$(count 2 first.test)" = 0 ] ||
	vg_fail "first.test: upstream 1 $(count 1 first.test), upstream 2 $(count 2 first.test)"

# goes_to N: a fresh name is answered by upstream N and not by the other
# (vg_wait_for runs it in this shell, so the counter moves on every call)
probe=0
goes_to() {
	local name
	probe=$((probe + 1))
	name=probe$probe.test
	"${DIG[@]}" "$name" A | vg_has '^10\.' || return 1
	[ "$(count "$1" "$name")" -ge 1 ] && [ "$(count $((3 - $1)) "$name")" = 0 ]
}
nchanges() { grep -c "changed: dns upstreams now" "$VG_LOG" || true; }
more() { [ "$("$1")" -gt "$2" ]; } # more COUNTER N: COUNTER now says more than N
# change STEP N CMD...: run CMD (the change), then within 1 s vgate has
# switched to upstream N (its log line's timestamp, so a slow dig on a
# loaded machine does not count), new queries reach upstream N, and the
# name cached at the start is still a hit that reaches no upstream
change() {
	local step=$1 up=$2 n0 t0 line ms h0 h1
	shift 2
	n0=$(nchanges)
	t0=$(date +%s%3N)
	"$@"
	vg_wait_for 5 more nchanges "$n0" || vg_fail "$step: no change logged"
	line=$(grep "changed: dns upstreams now" "$VG_LOG" | tail -n 1)
	ms=$(($(date -d "${line%% *}" +%s%3N) - t0))
	[ "$ms" -le 1000 ] || vg_fail "$step: upstreams switched $ms ms after the change"
	grep -q "changed: dns upstreams now $VG_LO.$((52 + up)):53\$" <<<"$line" ||
		vg_fail "$step: wrong servers: $line"
	vg_wait_for 2 goes_to "$up" || vg_fail "$step: new queries do not reach upstream $up"
	h0=$(hits)
	"${DIG[@]}" cached.test A | vg_has '^10\.' || vg_fail "$step: cached.test not answered"
	h1=$(hits)
	[ $((h1 - h0)) = 1 ] || vg_fail "$step: cached.test not a cache hit (hits $h0 -> $h1)"
	[ "$(count 1 cached.test)" = 1 ] && [ "$(count 2 cached.test)" = 0 ] ||
		vg_fail "$step: cached.test went upstream again (the cache was lost)"
	vg_log "$step: switched to upstream $up $ms ms after the change; cache kept"
}
write() { printf '%s\n' "$2" >"$1"; }
replace() { printf '%s\n' "$2" >"$1.tmp" && mv -T "$1.tmp" "$1"; }
relink() { ln -s "$2" "$1.new" && mv -T "$1.new" "$1"; }

# 1. the target rewritten in place (same inode)
change "in-place rewrite of the target" 2 write "$VG_TMP/run/a/resolv.conf" "nameserver $UP2"
# 2. the target replaced by rename
change "target replaced by rename" 1 replace "$VG_TMP/run/a/resolv.conf" "nameserver $UP1"
# 3. the symlink replaced: now into run/b; then that new target rewritten
write "$VG_TMP/run/b/resolv.conf" "nameserver $UP2"
change "symlink replaced" 2 relink "$VG_TMP/etc/resolv.conf" ../run/b/resolv.conf
change "in-place rewrite of the new target" 1 write "$VG_TMP/run/b/resolv.conf" "nameserver $UP1"
# 4. a regular file instead of the symlink, then rewritten in place
change "regular file replacing the symlink" 2 replace "$VG_TMP/etc/resolv.conf" "nameserver $UP2"
change "in-place rewrite of the regular file" 1 write "$VG_TMP/etc/resolv.conf" \
	"$(printf 'options timeout:1\nnameserver %s' "$UP1")"

# a file without nameservers keeps the upstreams in force
nempty() { grep -c "has no nameserver" "$VG_LOG" || true; }
n0=$(nempty)
: >"$VG_TMP/etc/resolv.conf"
vg_wait_for 2 more nempty "$n0" || vg_fail "empty file not noticed"
goes_to 1 || vg_fail "an empty resolv.conf changed the upstreams"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
