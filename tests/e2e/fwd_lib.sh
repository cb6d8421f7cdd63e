# shellcheck shell=bash
# fwd_lib.sh - helpers for the forwarder's e2e tests, sourced after lib.sh.

# fwd_stat NAME: a forwarder counter, from the log line vgate writes on SIGUSR1
fwd_stat() { vg_usr1_stat 'forwarder stats:' "$1"; }

# fwd_port N: port N (0..7) of a fresh block of 8 free ports (vg_free_port);
# use $((P + n)) for related ports
fwd_port() { echo $(($(vg_free_port 8) + ${1:-0})); }
