# shellcheck shell=bash
# bench_lib.sh - what the namespace benchmarks share (sourced by
# forward_bench.sh, ipv6_bench.sh, tap_offload_bench.sh, qemu_stream_bench.sh,
# ack_bench.sh, and for bench_callgrind_wrap by dns_callgrind.sh and
# cost_bench.sh). The caller sets
# PIDS=() (processes bench_cleanup stops), TMP and, for hx, HOSTNS; the
# peer helpers use CHILD, GW_PID, TARGET and SECS.

# log MSG...: a time-stamped progress line on stderr
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# hx CMD...: run CMD in the private host namespace $HOSTNS
hx() { ip netns exec "$HOSTNS" "$@"; }

# bg CMD...: start CMD in the background and remember it in PIDS. For a
# server in a namespace, pass `ip netns exec NS ...` itself rather than hx:
# then $! is the server (ip netns exec execs it), not a subshell around it
bg() { "$@" & PIDS+=($!); }

# bench_cleanup REGEX: stop the processes in the PIDS array (TERM, then
# KILL), then whatever still runs in the namespaces whose names match REGEX
# (the benchmark's own: each name ends in its PID), delete those namespaces
# and remove $TMP. For an EXIT trap: never fails.
bench_cleanup() {
	local p ns
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for ns in $(ip netns list | awk '{print $1}' | grep -E "$1"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}

# bench_host_ns NAME VETH: the private namespace NAME that plays the host:
# lo up, and a veth pair VETH0/VETH1 inside it with 10.99.0.2/24 and a
# default route to nobody (10.99.0.1), so that a gateway has an uplink but
# nothing can leave the machine; its servers listen on its 127.0.0.1
bench_host_ns() {
	ip netns add "$1"
	ip netns exec "$1" ip link set lo up
	ip netns exec "$1" ip link add "${2}0" type veth peer name "${2}1"
	ip netns exec "$1" ip addr add 10.99.0.2/24 dev "${2}0"
	ip netns exec "$1" ip link set "${2}0" up
	ip netns exec "$1" ip link set "${2}1" up
	ip netns exec "$1" ip route add default via 10.99.0.1
}

# bench_new_child PREFIX: a fresh guest namespace PREFIX-cN-$$ with lo up,
# its name in CHILD
bench_new_child() {
	CHILD=$1-c$RANDOM-$$
	ip netns add "$CHILD"
	ip netns exec "$CHILD" ip link set lo up
}

# bench_del_child: kill what runs in CHILD and delete it
bench_del_child() {
	ip netns pids "$CHILD" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del "$CHILD" 2>/dev/null || true
	CHILD=""
}

# bench_stop_peer: stop the gateway GW_PID and delete its guest namespace
bench_stop_peer() {
	kill "$GW_PID" 2>/dev/null || true
	wait "$GW_PID" 2>/dev/null || true
	bench_del_child
}

# bench_iperf [-R]: Gbit/s of one iperf3 run of SECS seconds from CHILD to
# TARGET:5201 ("-" on failure or stall)
bench_iperf() {
	local rev=${1:-} j
	j=$(timeout $((SECS + 15)) ip netns exec "$CHILD" iperf3 -c "$TARGET" -p 5201 -t "$SECS" ${rev:+"$rev"} -J \
		2>/dev/null) || { echo -; return; }
	python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' \
		<<<"$j" 2>/dev/null || echo -
}

# bench_median VALUE...: the median of the numbers ("-" left out), or "stall"
bench_median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:] if x!="-"]; print("%.2f" % statistics.median(v) if v else "stall")' "$@"; }

# bench_ratio A B: "A/B×" with two decimals, or n/a when either is no number
bench_ratio() { python3 -c 'import sys; a,b=sys.argv[1:]; print("%.2f×" % (float(a)/float(b)) if a.replace(".","").isdigit() and b.replace(".","").isdigit() and float(b)>0 else "n/a")' "$1" "$2"; }

# bench_vgate BINARY MTU FAMILY [ARGS...]: BINARY (vgate) in $HOSTNS on a
# TAP in CHILD (ARGS added to its command line), the guest configured by
# hand: FAMILY 4 gives it 192.168.127.2 and TARGET the host alias
# 192.168.127.254 (the host's 127.0.0.1), 6 gives it fd00:7661:7465::2
# (default route via fe80::1) and TARGET fd00:7661:7465::254 (the host's
# ::1); sets GW_PID. Follow with bench_wait_up.
bench_vgate() {
	local bin=$1 mtu=$2 fam=$3
	shift 3
	ip netns exec "$HOSTNS" "$bin" --tap-netns "/run/netns/$CHILD" --tap-name tap0 --mtu "$mtu" \
		--outbound-allow 127.0.0.0/8 --outbound-allow ::1/128 --log-level warn \
		--pid-file "$TMP/vg.pid" "$@" 2>>"$TMP/vgate.log" &
	GW_PID=$!
	for _ in $(seq 50); do [ -s "$TMP/vg.pid" ] && break; sleep 0.1; done
	rm -f "$TMP/vg.pid"
	ip netns exec "$CHILD" ip link set tap0 mtu "$mtu" up
	if [ "$fam" = 4 ]; then
		ip netns exec "$CHILD" ip addr add 192.168.127.2/24 dev tap0
		ip netns exec "$CHILD" ip route add default via 192.168.127.1
		TARGET=192.168.127.254
	else
		ip netns exec "$CHILD" ip -6 addr add fd00:7661:7465::2/64 dev tap0 nodad
		ip netns exec "$CHILD" ip -6 route add default via fe80::1 dev tap0
		TARGET=fd00:7661:7465::254
	fi
}

# bench_pasta FAMILY MTU: pasta in $HOSTNS for CHILD (-4 or -6,
# --config-net: the guest copies the host namespace's set-up); TARGET is the
# gateway address through which the guest reaches the host's loopback
# (10.99.0.1, or 2001:db8:99::1 when the caller gave the host namespace that
# IPv6 set-up); sets GW_PID. Follow with bench_wait_up.
bench_pasta() {
	ip netns exec "$HOSTNS" pasta -f "-$1" --runas 0 --config-net -m "$2" --netns "/run/netns/$CHILD" \
		-t none -u none -T none -U none >/dev/null 2>&1 &
	GW_PID=$!
	TARGET=10.99.0.1
	[ "$1" = 6 ] && TARGET=2001:db8:99::1
	return 0
}

# bench_wait_up NAME: remember GW_PID (when set) for cleanup (ip netns exec
# execs the gateway: $! is the gateway itself) and wait until the guest
# reaches TARGET:5301 (the okreply server); 10 s at most
bench_wait_up() {
	[ -n "$GW_PID" ] && PIDS+=("$GW_PID")
	for _ in $(seq 50); do
		ip netns exec "$CHILD" python3 -c "import socket; socket.create_connection(('$TARGET', 5301), timeout=1).close()" \
			2>/dev/null && return 0
		sleep 0.2
	done
	log "$1 did not come up"
	return 1
}

# bench_callgrind_wrap OUT BINARY: write a wrapper script that runs BINARY
# under valgrind --tool=callgrind with its profile in OUT; prints its path
# (for VGATE= in tests/e2e/lib.sh; the caller removes it)
bench_callgrind_wrap() {
	local wrap
	wrap=$(mktemp /tmp/vgate-cgw.XXXXXX)
	printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s %s "$@"\n' \
		"$1" "$(readlink -f "$2")" >"$wrap"
	chmod +x "$wrap"
	echo "$wrap"
}
