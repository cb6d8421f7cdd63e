#!/usr/bin/env bash
# test_mapped_libs.sh - what a vgate without optional flags maps (idle RSS,
# issue 13 item 5): after it has leased the guest an address and answered a
# DNS query through its miss path (the counting test upstream,
# tests/e2e/dns_upstream.py on 127.0.0.x, so dns/msg.c re-encoded a reply),
# /proc/PID/maps holds libc but none of the libraries vgate must not load
# unasked: libldns with the libssl and libcrypto it pulls in (no longer
# used), libmicrohttpd and its GnuTLS stack (dlopen()ed only for --api),
# libssh (only for SSH forwarding), libpcap and libsystemd (written by vgate
# itself). libc being seen shows the maps are read at all.
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
UPADDR=127.0.0.$((100 + $$ % 100))
vg_bg python3 "$HERE/dns_upstream.py" --addr "$UPADDR" --port-file "$VG_TMP/port" \
	--count-file "$VG_TMP/counts" --ttl 300
vg_wait_for 10 test -s "$VG_TMP/port" || vg_fail "test upstream did not start"
vg_start --dns-upstream "$UPADDR:$(cat "$VG_TMP/port")"

out=$(vg_ns dig @192.168.127.1 +time=5 +tries=2 +short host1.example.test A) ||
	vg_fail "dig failed: $out"
[ -n "$out" ] || vg_fail "no answer from the test upstream through vgate"
vg_log "answered: $out"

maps=$(cat "/proc/$VG_PID/maps") || vg_fail "cannot read vgate's maps"
grep -q '/libc\.so' <<<"$maps" || vg_fail "libc not seen in vgate's maps: the check reads nothing"
for lib in libldns libssl libcrypto libmicrohttpd libgnutls libssh libpcap libsystemd; do
	if grep -q "/${lib}[.-]" <<<"$maps"; then
		vg_fail "$lib is mapped by an idle vgate without the flag that needs it:" \
			"$(grep -m1 "/${lib}[.-]" <<<"$maps")"
	fi
done
vg_pass
