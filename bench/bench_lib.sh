# shellcheck shell=bash
# bench_lib.sh - what the namespace benchmarks share (sourced by
# forward_bench.sh and ack_bench.sh).

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
