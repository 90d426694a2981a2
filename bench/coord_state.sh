#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The sealed coordinator state's cost (BENCHMARKS.md, "Sealed coordinator
# state"): durable one-row commits per second, sealed and plain SQLite in
# the same run and directory, on the build directory's file system (real
# fsyncs) and on tmpfs (the CPU cost alone); then the time to open a state
# of about 64 MiB. Run by `make bench` (bench/run) or alone:
#   BUILD=build bash bench/coord_state.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
PROG=$COFFER_BUILD/bench/coord_state
N_DISK=${STATE_BENCH_DISK:-200}
N_MEM=${STATE_BENCH_MEM:-2000}
[ -x "$PROG" ] || { echo "missing $PROG (run make bench)"; exit 1; }

run() { # where commits
	echo "| $2 commits of one 200-byte row per round, 5 rounds, on $1 | commits/s (median) | vs WAL FULL (median ratio) |"
	echo "|---|---|---|"
	"$PROG" "${1%% *}" "$2" 200
	echo
}
mkdir -p "$COFFER_BUILD/bench-tmp"
D=$(mktemp -d "$COFFER_BUILD/bench-tmp/state.XXXXXX")
run "$D ($(df -PT "$D" | awk 'NR == 2 { print $2 }'))" "$N_DISK" | sed "s|$D ||"
rm -rf "$D"
if [ -d /dev/shm ]; then
	M=$(mktemp -d /dev/shm/coffer-bench-state.XXXXXX)
	run "$M" "$N_MEM" | sed "s|$M|tmpfs|"
	rm -rf "$M"
fi
