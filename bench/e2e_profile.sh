#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Where the CPU of an e2e job goes, plaintext against confidential
# (BENCHMARKS.md, "Per-item cost in the e2e"): runs bench/e2e.sh (its
# E2E_BENCH_* settings apply) under two system-wide `perf record`
# sessions, one enabled only while plaintext jobs run and one while
# confidential ones do (E2E_BENCH_HOOK), and prints, per kind, the CPU
# time per item of each process (the worker's supervisor, runner and app
# host told apart by who forked whom), the idle time, and the busiest
# functions of the workers (E2E_PROFILE_CALLGRAPH=dwarf: call chains
# through libcrypto, which has no frame pointers). Needs perf and the right to sample every CPU.
#   BUILD=build E2E_BENCH_DICOM=3000 E2E_BENCH_APPS=dicom-deid bash bench/e2e_profile.sh
# E2E_PROFILE_PROC=NAME also prints NAME's busiest functions (e.g.
# coffer-manager).
set -u
cd "$(dirname "$0")/.."
if [ "${1:-}" = start ] || [ "${1:-}" = end ]; then
	# The hook: enable or disable the kind's session, and note the
	# daemons' CPU (utime + stime, clock ticks) and the time.
	d=$E2E_PROFILE_DIR
	echo "$([ "$1" = start ] && echo enable || echo disable)" >"$d/ctl-$2"
	read -r _ <"$d/ack-$2"
	for p in $E2E_PIDS; do
		echo "$1 $2 $(cat "/proc/$p/comm") $(awk '{printf "%d\n", $14 + $15}' "/proc/$p/stat")"
	done >>"$d/daemons"
	echo "$1 $2 time $(awk '{printf "%d\n", $1 * 100}' /proc/uptime)" >>"$d/daemons"
	[ -z "${E2E_JOB_LOG:-}" ] || cat "$E2E_JOB_LOG" >>"$d/log-$2"
	exit 0
fi
# The perf data (hundreds of MB with dwarf call chains) goes when the
# report is printed, or on a failure; E2E_PROFILE_KEEP=1 keeps it.
d=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	if [ -n "${E2E_PROFILE_KEEP:-}" ]; then
		echo "(perf data in $d)"
	else
		rm -rf "$d"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export E2E_PROFILE_DIR=$d E2E_BENCH_HOOK=$PWD/bench/e2e_profile.sh
for k in plain conf; do
	mkfifo "$d/ctl-$k" "$d/ack-$k"
	perf record -q -a --call-graph "${E2E_PROFILE_CALLGRAPH:-fp}" -F 997 -e cpu-clock -D -1 \
		--control "fifo:$d/ctl-$k,$d/ack-$k" -o "$d/$k.data" 2>"$d/$k.err" &
	pids+=($!)
done
bash bench/e2e.sh || exit 1
for p in "${pids[@]}"; do kill -INT "$p"; done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
echo
# Items per kind: every dicom-deid size of E2E_BENCH_DICOM, every round.
n=0
for s in ${E2E_BENCH_DICOM:-300 3000}; do n=$((n + s)); done
E2E_PROFILE_ITEMS=${E2E_PROFILE_ITEMS:-$((n * ${E2E_BENCH_ROUNDS:-3}))} \
	/usr/bin/python3 bench/e2e_profile.py "$d"
