#!/usr/bin/env bash
# test_no_escape.sh - the network-safety guard: with the outbound policy every
# test uses (--outbound-allow 127.0.0.0/8), a guest that tries to reach the
# outside (TCP and UDP to TEST-NET addresses, DNS through the gateway with the
# machine's own resolv.conf upstreams) gets refusals, and vgate's own socket
# calls, traced with strace, never name an address outside 127.0.0.0/8.
source "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || vg_fail "strace is missing (scripts/setup installs it)"
real_vgate=$VGATE
# the wrapper forwards SIGTERM to vgate (strace itself would just detach)
cat >"$VG_TMP/traced-vgate" <<EOS
#!/bin/bash
strace -f -qq -e trace=connect,sendto,sendmsg,sendmmsg,bind -o "$VG_TMP/strace.out" \
	"$real_vgate" "\$@" &
sp=\$!
trap 'pkill -TERM -P \$sp; wait \$sp; exit 0' TERM INT
wait \$sp
EOS
chmod +x "$VG_TMP/traced-vgate"
VGATE=$VG_TMP/traced-vgate
# the machine's own upstreams (off-machine) plus one on loopback: only the
# loopback one may ever be used, and using it proves the trace works
{ grep -E '^nameserver' /etc/resolv.conf || true; echo "nameserver 127.0.0.1"; } >"$VG_TMP/rc.conf"
vg_start --resolv-conf "$VG_TMP/rc.conf"

# TCP to the outside: refused at once, no connection is attempted
if vg_ns timeout 5 curl -s -o /dev/null --connect-timeout 3 http://203.0.113.7:80/; then
	vg_fail "TCP to 203.0.113.7 succeeded"
fi
# UDP to the outside, and a DNS lookup that would need an external upstream
vg_ns sh -c 'echo probe > /dev/udp/198.51.100.1/53' 2>/dev/null || true
vg_ns bash -c 'echo probe > /dev/udp/198.51.100.1/53' 2>/dev/null || true
vg_ns timeout 5 dig +time=1 +tries=1 @192.168.127.1 example.com >/dev/null 2>&1 || true
sleep 1

grep -q 'inet_addr("127.0.0.1")' "$VG_TMP/strace.out" ||
	vg_fail "the trace does not show the loopback DNS upstream being used"
# every IPv4 address vgate's socket calls name must be loopback
bad=$(grep -oE 'inet_addr\("[0-9.]+"\)' "$VG_TMP/strace.out" | grep -vE '"127\.' || true)
[ -z "$bad" ] || vg_fail "vgate addressed a non-loopback host: $(sort -u <<<"$bad" | sed -n 1,5p)"
if grep -E 'AF_INET6' "$VG_TMP/strace.out" | grep -vE 'inet_pton\(AF_INET6, "::1"' | vg_has .; then
	vg_fail "vgate used a non-loopback IPv6 address"
fi
vg_log "socket calls traced: $(wc -l <"$VG_TMP/strace.out")"
vg_pass
