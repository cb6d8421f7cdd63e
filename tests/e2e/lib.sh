# shellcheck shell=bash
# lib.sh - the network-namespace test rig, sourced by tests/e2e/test_*.sh.
#
# vg_start [vgate args...] creates a fresh network namespace with a TAP device
# (opened by vgate itself through --tap-netns), starts "$VGATE" on it with
# --outbound-allow 127.0.0.0/8 (nothing may leave the machine), and runs
# busybox udhcpc inside, so the "guest" is 192.168.127.2 with gateway and DNS
# 192.168.127.1. vg_ns CMD... runs a command inside the namespace. Cleanup
# (vgate, background jobs, the namespace, temp files) always runs on exit
# through a trap, also when a test fails.
#
# VGATE_EXTRA_ARGS (environment) is added to every vgate command line, e.g.
# VGATE_EXTRA_ARGS=--sandbox runs a whole suite under the seccomp filter.
#
# Variables after vg_start: VG_NS (namespace name), VG_PID (vgate),
# VG_TMP (scratch dir), VG_LOG (vgate's stderr), VG_LEASE (udhcpc output).
#
# A private "host": vg_hostns ADDR... (before vg_start) creates a namespace
# VG_HOSTNS with the given addresses on its lo (documentation ranges such as
# 2001:db8::10 or 198.51.100.10, besides 127.0.0.1 and ::1) and vg_start then
# runs vgate inside it, so the test's "internet" servers (vg_hx CMD...) live
# where nothing can leave the machine. Deleted at cleanup like VG_NS.

set -euo pipefail

: "${VGATE:?VGATE must point to the vgate binary (ctest sets it)}"
VG_SRC=${VGATE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VG_NS=""
VG_HOSTNS=""
VG_PID=""
VG_TMP=$(mktemp -d /tmp/vgate-e2e.XXXXXX)
VG_LOG=$VG_TMP/vgate.log
VG_LEASE=$VG_TMP/lease.env
VG_CLEANUP_PIDS=()
# VG_LO: a /24 of loopback picked per run (127.A.B, A and B from 1-254, never
# 127.0.0) for the test servers that must listen on a fixed port (the SNI
# tests' TLS servers on :443), so two runs at once do not share addresses
export VG_LO=127.$((1 + $$ % 254)).$((1 + RANDOM % 254))

vg_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

vg_fail() {
	vg_log "FAIL: $*"
	if [ -s "$VG_LOG" ]; then
		vg_log "--- vgate log (last 30 lines) ---"
		tail -n 30 "$VG_LOG" >&2 || true
	fi
	exit 1
}

vg_cleanup() {
	local rc=$?
	set +e
	for p in "${VG_CLEANUP_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ -n "$VG_PID" ]; then
		kill "$VG_PID" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$VG_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$VG_PID" 2>/dev/null
	fi
	if [ -n "$VG_NS" ]; then
		ip netns pids "$VG_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$VG_NS" 2>/dev/null
		rm -rf "/etc/netns/$VG_NS"
	fi
	if [ -n "$VG_HOSTNS" ]; then
		ip netns pids "$VG_HOSTNS" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$VG_HOSTNS" 2>/dev/null
	fi
	rm -rf "$VG_TMP"
	exit $rc
}
trap vg_cleanup EXIT
trap 'exit 130' INT TERM

# vg_bg CMD...: run a command in the background, killed at cleanup
vg_bg() {
	"$@" &
	VG_CLEANUP_PIDS+=($!)
}

vg_ns() { ip netns exec "$VG_NS" "$@"; }

# vg_hx CMD...: run a command in the private host namespace (vg_hostns), or
# on the host itself when the test has none
vg_hx() {
	if [ -n "$VG_HOSTNS" ]; then ip netns exec "$VG_HOSTNS" "$@"; else "$@"; fi
}

# vg_hostns ADDR...: a private host namespace with lo up and each ADDR (an
# IPv4 or IPv6 address, no prefix length: a host route) on its lo; IPv6
# addresses are added without DAD so they are usable at once
vg_hostns() {
	local a
	VG_HOSTNS=vgh-$$-$RANDOM
	ip netns add "$VG_HOSTNS"
	vg_hx ip link set lo up
	for a in "$@"; do
		case $a in
		*:*) vg_hx ip -6 addr add "$a/128" dev lo nodad ;;
		*) vg_hx ip addr add "$a/32" dev lo ;;
		esac
	done
}

# vg_has [GREP-ARGS] PATTERN: grep -q on stdin that reads stdin to its end
# first. `cmd | grep -q` under pipefail is flaky: grep exits at the first match,
# cmd's next write gets SIGPIPE and the pipeline fails. Use `cmd | vg_has ...`
# for a command's output and `grep -q ... <<<"$var"` for a variable.
vg_has() {
	local in
	in=$(cat)
	grep -q "$@" <<<"$in"
}

# vg_free_port [COUNT]: the first of COUNT consecutive ports (default 1) that
# are free for TCP and UDP on 127.0.0.1, below the ephemeral range so that no
# outgoing connection can be holding them
vg_free_port() {
	python3 - "${1:-1}" <<'EOP'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(500):
    base = random.randrange(20000, 32000 - n)
    try:
        for p in range(base, base + n):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, kind)
                s.bind(("127.0.0.1", p))
                s.close()
    except OSError:
        continue
    print(base)
    sys.exit(0)
sys.exit("no free port")
EOP
}

# vg_vsock_loopback PORT: whether the kernel loops vsock back (CID 1; module
# vsock_loopback, loaded if it can be): a listener on PORT takes a connection
vg_vsock_loopback() {
	modprobe vsock_loopback 2>/dev/null || true
	python3 - "$1" <<'EOP' 2>/dev/null
import socket, sys
p = int(sys.argv[1])
l = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
l.bind((socket.VMADDR_CID_ANY, p))
l.listen()
c = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
c.settimeout(2)
c.connect((1, p))
EOP
}

# vg_wait_for TIMEOUT_S CMD...: retry CMD until it succeeds or time runs out
vg_wait_for() {
	local limit=$1 i
	shift
	for i in $(seq 1 $((limit * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# vg_udhcpc_script: the udhcpc hook writing the lease to $VG_LEASE and
# configuring the interface like a distribution's default script would
vg_udhcpc_script() {
	cat >"$VG_TMP/udhcpc.sh" <<EOS
#!/bin/sh
case "\$1" in
bound|renew)
	env | grep -E '^(ip|subnet|mask|router|dns|mtu|domain|search|lease|serverid)=' > "$VG_LEASE"
	ip -4 addr flush dev "\$interface"
	ip addr add "\$ip/\${mask:-24}" dev "\$interface"
	[ -n "\$mtu" ] && ip link set dev "\$interface" mtu "\$mtu"
	for r in \$router; do ip route add default via "\$r" dev "\$interface"; break; done
	: > "$VG_TMP/resolv.conf"
	for d in \$dns; do echo "nameserver \$d" >> "$VG_TMP/resolv.conf"; done
	# ip netns exec bind-mounts this over /etc/resolv.conf for the guest
	cp "$VG_TMP/resolv.conf" "/etc/netns/$VG_NS/resolv.conf"
	;;
deconfig)
	ip -4 addr flush dev "\$interface"
	;;
esac
exit 0
EOS
	chmod +x "$VG_TMP/udhcpc.sh"
}

# vg_start [vgate args...]: namespace + vgate on a TAP + DHCP lease
vg_start() {
	VG_NS=vgt-$$-$RANDOM
	ip netns add "$VG_NS"
	mkdir -p "/etc/netns/$VG_NS"
	: >"/etc/netns/$VG_NS/resolv.conf"
	vg_ns ip link set lo up
	# ip netns exec execs vgate, so $! is vgate itself in both cases
	local pre=()
	[ -n "$VG_HOSTNS" ] && pre=(ip netns exec "$VG_HOSTNS")
	# shellcheck disable=SC2086 # VGATE_EXTRA_ARGS: e.g. --sandbox for a whole run
	"${pre[@]}" "$VGATE" --tap-netns "/run/netns/$VG_NS" --tap-name tap0 \
		--outbound-allow 127.0.0.0/8 --pid-file "$VG_TMP/vgate.pid" ${VGATE_EXTRA_ARGS:-} "$@" \
		2>"$VG_LOG" &
	VG_PID=$!
	vg_wait_for 10 test -s "$VG_TMP/vgate.pid" || vg_fail "vgate did not become ready"
	vg_udhcpc_script
	vg_ns busybox udhcpc -i tap0 -n -q -f -t 5 -T 1 -s "$VG_TMP/udhcpc.sh" \
		>"$VG_TMP/udhcpc.out" 2>&1 || vg_fail "udhcpc got no lease: $(cat "$VG_TMP/udhcpc.out")"
	[ -s "$VG_LEASE" ] || vg_fail "udhcpc script did not run"
}

# vg_ll_ready: tap0 has a link-local address that finished DAD
vg_ll_ready() {
	local a
	a=$(vg_ns ip -6 addr show dev tap0 scope link)
	grep -q "inet6 fe80::" <<<"$a" && ! grep -q tentative <<<"$a"
}

# vg_ipv6_up ACCEPT_RA [nodad]: restart IPv6 on tap0 as an interface coming up
# would (a fresh link-local address, settings applied from the start), with
# net.ipv6.conf.tap0.accept_ra=ACCEPT_RA (0: no kernel SLAAC, 2: SLAAC from
# vgate's RAs) and, with "nodad", no DAD delays; returns once
# tap0's link-local address is usable
vg_ipv6_up() {
	local dad=1
	[ "${2:-}" = nodad ] && dad=0
	vg_ns sysctl -qw "net.ipv6.conf.tap0.accept_dad=$dad" "net.ipv6.conf.tap0.accept_ra=$1" \
		net.ipv6.conf.tap0.disable_ipv6=1
	vg_ns sysctl -qw net.ipv6.conf.tap0.disable_ipv6=0
	vg_wait_for 10 vg_ll_ready || vg_fail "no link-local address: $(vg_ns ip -6 addr show dev tap0)"
}

# vg_ipv6_static ADDR: vg_ipv6_up without SLAAC or DAD, then ADDR/64 on tap0
# and a default route via the gateway's fe80::1 (a guest configured by hand)
vg_ipv6_static() {
	vg_ipv6_up 0 nodad
	vg_ns ip -6 addr add "$1/64" dev tap0 nodad
	vg_ns ip -6 route add default via fe80::1 dev tap0
}

# vg_route_loopback: make the guest send 127.0.0.0/8 to vgate instead of its
# own loopback, so it can dial the test servers on the host's 127.0.0.x
# addresses directly (exactly the addresses the test DNS hands out); the
# guest's own lo keeps 127.0.0.1 only
vg_route_loopback() {
	vg_ns ip route del local 127.0.0.0/8 dev lo table local
	vg_ns sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.tap0.route_localnet=1
	vg_ns ip route add 127.0.0.0/8 via 192.168.127.1 dev tap0
}

# vg_stop: stop vgate (SIGTERM; it must exit 0) and delete the guest
# namespace, so that the test can vg_start again with other flags
vg_stop() {
	local rc=0
	kill "$VG_PID"
	wait "$VG_PID" || rc=$?
	VG_PID=""
	[ "$rc" = 0 ] || vg_fail "vgate exited with $rc"
	ip netns pids "$VG_NS" | xargs -r kill -9
	ip netns del "$VG_NS"
	rm -rf "/etc/netns/$VG_NS" "$VG_TMP/vgate.pid"
	VG_NS=""
}

# vg_metric_on SOCK SAMPLE: a value from GET /metrics on the unix socket
# SOCK (SAMPLE: the name after "vgate_", with its labels); empty if absent
vg_metric_on() {
	curl -sS --max-time 5 --unix-socket "$1" http://vgate/metrics >"$VG_TMP/metrics" ||
		vg_fail "GET /metrics on $1 failed"
	awk -v k="vgate_$2" '$1 == k { print $2 }' "$VG_TMP/metrics"
}

# vg_tls NAME IP [CURL-ARGS...]: GET https://NAME/ from the guest at IP
# (IPv4, or IPv6 over -6), trusting vg_tls_servers' certificate; prints
# the body
vg_tls() {
	local name=$1 ip=$2 at=$2
	shift 2
	case $ip in *:*) at="[$ip]" && set -- -6 "$@" ;; esac
	vg_ns curl -sS --max-time 10 --cacert "$VG_TMP/cert.pem" --resolve "$name:443:$at" "$@" \
		"https://$name/"
}

# vg_tls_accepted IP: how many connections the TLS server on IP accepted
vg_tls_accepted() { wc -l <"$(vg_tls_count "$1")"; }

# vg_sni_stat NAME: an SNI filter counter, from the line vgate logs on SIGUSR1
vg_sni_stat() { vg_usr1_stat 'sni: patterns=' "$1"; }

# vg_tls_count IP: the file the TLS server on IP (vg_tls_servers) appends a
# line to per accepted connection: $VG_TMP/count.<last octet> for an IPv4
# address, $VG_TMP/count.<address with ':' as '_'> for an IPv6 one
vg_tls_count() {
	case $1 in
	*:*) echo "$VG_TMP/count.${1//:/_}" ;;
	*) echo "$VG_TMP/count.${1##*.}" ;;
	esac
}

# vg_tls_servers DNSADDR TTL NAME=IP...: what the SNI tests talk to
# (sni_servers.py: loopback, or IPv6 documentation addresses on a private host
# namespace's lo; run there with vg_hx when the test has one): a test
# certificate valid for every NAME ($VG_TMP/cert.pem, key.pem), a TLS server
# on each distinct IP:443 (IPv4 or IPv6) appending a line per accepted
# connection to $(vg_tls_count IP), and a DNS server on DNSADDR (IPv4)
# answering each NAME with its IP, as an A or an AAAA record (TTL seconds; a
# NAME may come twice; its port in $VG_TMP/dnsport). Returns once all answer,
# with the counters emptied.
vg_tls_servers() {
	local dns=$1 ttl=$2 san="" pair ip ips=() hx=()
	shift 2
	# the servers are vg_bg's own children (not a function's subshell), so
	# cleanup's kill reaches them
	[ -n "$VG_HOSTNS" ] && hx=(ip netns exec "$VG_HOSTNS")
	for pair in "$@"; do
		san="$san${san:+,}DNS:${pair%%=*}"
		ip=${pair#*=}
		[[ " ${ips[*]} " == *" $ip "* ]] || ips+=("$ip")
	done
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=${1%%=*}" \
		-addext "subjectAltName=$san" \
		-keyout "$VG_TMP/key.pem" -out "$VG_TMP/cert.pem" >/dev/null 2>&1 ||
		vg_fail "cannot make a test certificate"
	for ip in "${ips[@]}"; do
		: >"$(vg_tls_count "$ip")"
		vg_bg "${hx[@]}" python3 "$VG_SRC/tests/e2e/sni_servers.py" tls "$ip" 443 "$VG_TMP/cert.pem" \
			"$VG_TMP/key.pem" "$(vg_tls_count "$ip")"
	done
	vg_bg "${hx[@]}" python3 "$VG_SRC/tests/e2e/sni_servers.py" dns "$dns" "$VG_TMP/dnsport" "$ttl" "$@"
	vg_wait_for 10 test -s "$VG_TMP/dnsport" || vg_fail "test DNS did not start"
	for ip in "${ips[@]}"; do
		vg_wait_for 10 vg_hx bash -c "exec 3<>/dev/tcp/$ip/443" ||
			vg_fail "TLS server $ip did not start"
	done
	# forget the probes, once each server has logged its own (it writes after accept)
	for ip in "${ips[@]}"; do
		vg_wait_for 5 test -s "$(vg_tls_count "$ip")" || true
		: >"$(vg_tls_count "$ip")"
	done
}

# vg_usr1_stat TAG NAME: the counter NAME=VALUE from the stats line containing
# TAG that vgate logs on SIGUSR1 (e.g. 'forwarder stats:', 'sni: patterns=');
# sends the signal and waits up to 2.5 s for the new line
vg_usr1_stat() {
	local before after
	before=$(grep -c -- "$1" "$VG_LOG" || true)
	kill -USR1 "$VG_PID"
	for _ in $(seq 1 50); do
		after=$(grep -c -- "$1" "$VG_LOG" || true)
		[ "$after" -gt "$before" ] && break
		sleep 0.05
	done
	grep -- "$1" "$VG_LOG" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# vg_syn_retrans: how many SYNs the guest's kernel has retransmitted
# (TcpExtTCPSynRetrans of the namespace; the first retransmission goes out
# 1 s after an unanswered SYN). A count unchanged across a refused connect
# means the first SYN got the RST - "refused at once" however loaded the
# host, where a wall-clock bound is not. -s: nstat's history file untouched.
vg_syn_retrans() { vg_ns nstat -asz TcpExtTCPSynRetrans | awk '$1 == "TcpExtTCPSynRetrans" { print $2 }'; }

# vg_refused_at_once WHAT CURL-ARGS...: a curl from the guest is refused at
# its first SYN: exit 7 (refused, not 28 timed out) and no SYN retransmitted
# (vg_syn_retrans: a wall-clock bound cannot tell under load); WHAT names
# the case in the failure
vg_refused_at_once() {
	local what=$1 r0 r1 rc=0
	shift
	r0=$(vg_syn_retrans)
	vg_ns curl -sS --max-time 5 "$@" >/dev/null 2>&1 || rc=$?
	r1=$(vg_syn_retrans)
	[ "$rc" = 7 ] || vg_fail "$what: curl exit $rc, expected 7 (refused)"
	[ -n "$r0" ] && [ "$r1" = "$r0" ] || vg_fail "$what: the guest retransmitted its SYN ($r0 -> $r1): not refused at once"
}

# vg_lease_var NAME: a value from the DHCP lease (ip, mask, router, dns, mtu...)
vg_lease_var() { sed -n "s/^$1=//p" "$VG_LEASE"; }

vg_pass() { vg_log "PASS: $(basename "$0")"; exit 0; }
