# shellcheck shell=bash
# bench_lib.sh - what the namespace benchmarks share (sourced by
# forward_bench.sh, qemu_stream_bench.sh and ack_bench.sh). The caller sets
# PIDS=() (processes bench_cleanup stops), TMP and, for hx, HOSTNS.

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
