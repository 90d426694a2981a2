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
# coffer-manager). E2E_PROFILE_COORD=1 also records coffer-coordinator
# alone with dwarf call chains while confidential jobs run and prints its
# CPU per job by route and step (bench/coord_profile.py):
#   BUILD=build E2E_PROFILE_COORD=1 E2E_BENCH_TICK_MS=20 E2E_BENCH_ROUNDS=8 \
#     E2E_BENCH_APPS=pooled-stats bash bench/e2e_profile.sh
set -u
cd "$(dirname "$0")/.."
if [ "${1:-}" = start ] || [ "${1:-}" = end ]; then
	# The hook: enable or disable the kind's session, and note the
	# daemons' CPU (utime + stime, clock ticks) and the time.
	d=$E2E_PROFILE_DIR
	echo "$([ "$1" = start ] && echo enable || echo disable)" >"$d/ctl-$2"
	read -r _ <"$d/ack-$2"
	if [ -n "${E2E_PROFILE_COORD:-}" ]; then
		# The coordinator's own session, started at the first job
		# (its PID is known from here on), stopped by the main script.
		# A command it does not take in 20 s (perf failed to start: a
		# FIFO without reader would block for ever) is given up.
		coord_ctl() {
			timeout 20 bash -c "echo $1 >'$d/ctl-coord' && read -r _ <'$d/ack-coord'" ||
				echo "perf on the coordinator did not answer '$1'" >>"$d/coord.err"
		}
		coord=$(echo "$E2E_PIDS" | cut -d' ' -f2)
		if [ ! -e "$d/coord.pid" ]; then
			mkfifo "$d/ctl-coord" "$d/ack-coord"
			perf record -q -p "$coord" --call-graph dwarf,16384 \
				-F "${E2E_PROFILE_COORD_HZ:-4999}" -e cpu-clock -D -1 \
				--control "fifo:$d/ctl-coord,$d/ack-coord" -o "$d/coord.data" \
				2>"$d/coord.err" </dev/null >/dev/null &
			echo $! >"$d/coord.pid"
			# Attached once it answers a command.
			coord_ctl disable
		fi
		if [ "$2" = conf ]; then
			[ "$1" = end ] && coord_ctl disable
			echo "$1 $(cut -d' ' -f1 "/proc/$coord/schedstat")" >>"$d/coord-cpu"
			[ "$1" = start ] && coord_ctl enable
		fi
	fi
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
# The coordinator's session is not this shell's child: wait for its end
# by its PID (perf writes its file on SIGINT).
stop_coord() {
	[ -e "$d/coord.pid" ] || return 0
	local p
	p=$(cat "$d/coord.pid") && rm -f "$d/coord.pid"
	kill -INT "$p" 2>/dev/null
	while kill -0 "$p" 2>/dev/null; do sleep 0.2; done
}
cleanup() {
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	stop_coord
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
if [ -n "${E2E_PROFILE_COORD:-}" ]; then
	stop_coord
	cat "$d/coord.err" >&2 2>/dev/null
	/usr/bin/python3 bench/coord_profile.py "$d" || exit 1
fi
