# shellcheck shell=bash
# fwd_lib.sh - helpers for the forwarder's e2e tests, sourced after lib.sh.

# fwd_stat NAME: a forwarder counter, from the log line vgate writes on SIGUSR1
fwd_stat() {
	local before after
	before=$(grep -c 'forwarder stats:' "$VG_LOG" || true)
	kill -USR1 "$VG_PID"
	for _ in $(seq 1 50); do
		after=$(grep -c 'forwarder stats:' "$VG_LOG" || true)
		[ "$after" -gt "$before" ] && break
		sleep 0.05
	done
	grep 'forwarder stats:' "$VG_LOG" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# fwd_port N: port N (0..7) of a fresh block of 8 free ports (vg_free_port);
# use $((P + n)) for related ports
fwd_port() { echo $(($(vg_free_port 8) + ${1:-0})); }
