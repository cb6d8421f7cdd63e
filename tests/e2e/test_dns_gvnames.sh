#!/usr/bin/env bash
# test_dns_gvnames.sh - the names gvproxy answers (issue 12, item 5):
# gateway.containers.internal, gateway.docker.internal (the gateway address),
# host.containers.internal, host.docker.internal (the host address), A and
# PTR, resolved with dig from the namespace guest, beside *.vgate.internal.
# The upstream is a closed port: every answer must come from the static zone.
source "$(dirname "$0")/lib.sh"

vg_start --dns-upstream 127.0.0.1:9

DIG=(vg_ns dig @192.168.127.1 +time=3 +tries=1)

# a NAME WANT: dig NAME A from the guest must answer exactly WANT
a() {
	local out
	out=$("${DIG[@]}" +short "$1" A) || vg_fail "dig $1 failed"
	[ "$out" = "$2" ] || vg_fail "$1 A: '$out', want $2"
}

a gateway.containers.internal 192.168.127.1
a gateway.docker.internal 192.168.127.1
a host.containers.internal 192.168.127.254
a host.docker.internal 192.168.127.254
a gateway.vgate.internal 192.168.127.1
a host.vgate.internal 192.168.127.254

# ptr IP NAME...: the reverse of IP lists every NAME
ptr() {
	local ip=$1 out n
	shift
	out=$("${DIG[@]}" +short -x "$ip") || vg_fail "dig -x $ip failed"
	for n in "$@"; do
		vg_has -Fx "$n" <<<"$out" || vg_fail "PTR $ip: '$out' lacks $n"
	done
}
ptr 192.168.127.1 gateway.vgate.internal. gateway.containers.internal. gateway.docker.internal.
ptr 192.168.127.254 host.vgate.internal. host.containers.internal. host.docker.internal.

vg_pass
