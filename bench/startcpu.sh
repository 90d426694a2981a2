#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CPU of one confidential worker start (BENCHMARKS.md, "The confidential
# start's CPU"): STARTCPU_N starts in a row (default 20) of one
# coffer-worker with --exit-when-done on a queue of one item, against
# tests/tools/fakecoord (sim evidence, key release, one proof), the
# `fault` plugin in its host process; then as many plaintext starts for
# reference. Per start, medians:
#   - total: CPU of the worker's whole tree (supervisor, runner, plugin
#     host), `perf stat -e task-clock` (children counted), one item and
#     the exit included;
#   - runner: the runner's own CPU to "worker started" (its log's cpu_us);
#   - coord: fakecoord's CPU per start (/proc/PID/schedstat, ns), the
#     nonce + release + one proof; coffer-coordinator does the same work.
# A profile: perf record -g -F 4000 -o FILE -- bash bench/startcpu.sh,
# then perf report -i FILE --comm coffer-worker (supervisor and runner;
# the plugin host's comm is "exe": it is /proc/self/exe executed).
# Alone: BUILD=build bash bench/startcpu.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
N=${STARTCPU_N:-20}
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
. tests/integration/lib.sh
. tests/integration/worker_confidential.bash
APP=$COFFER_BUILD/apps/fault.so
CW_PARAMS='{}'
CW_COORD_PARAMS=()

start_redis >/dev/null
cw_world
mkdir -p "$T/plainin/a"
cp "$T/plain/a1" "$T/plainin/a/1.sealed"
cw_measured "$T/w/worker.json" "$COORD_MEAS"
WMEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/w/worker.json")
cw_policy "$T/w/policy.json" "$WMEAS"
cw_start_coord "$T/w/policy.json"

sched_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }
median() { sort -n | awk '{ v[NR] = $1 }
	END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# one KIND I: one start on queue KIND-I; appends "total_us runner_us
# coord_us" to $T/r.KIND.
one() {
	local kind=$1 i=$2 q="$1-$2" c0 c1 tc cpu store=$T/plainin
	local -a conf=()
	if [ "$kind" = conf ]; then
		store=$T/in
		conf=(--coordinator "$COORD_URL" --coordinator-job "$JOB"
			--tee-backend sim --measured-config "$T/w/worker.json")
	fi
	echo a/1.sealed | "$QCTL" load "$REDIS_URL" "$q" --stdin >/dev/null || bail load
	c0=$(sched_ns "$COORD_PID")
	perf stat -x, -e task-clock -o "$T/stat" -- coffer-worker \
		--job "$q" --redis "$REDIS_URL" --store "$store" --outputs "$T/out/$q" \
		--app "$APP" --exit-when-done "${conf[@]}" 2> "$T/$q.log" ||
		bail "worker $q: $(tail -3 "$T/$q.log")"
	c1=$(sched_ns "$COORD_PID")
	tc=$(awk -F, '/task-clock/ { printf "%d", $1 * 1000 }' "$T/stat")
	cpu=$(grep -m1 'worker started' "$T/$q.log" | grep -oE ' cpu_us=[0-9]+' | cut -d= -f2)
	echo "$tc ${cpu:-0} $(( (c1 - c0) / 1000 ))" >> "$T/r.$kind"
}

echo "$N starts each, one item, the fault plugin; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 0; i < N; i++)); do one conf $i; done
[ "${STARTCPU_PLAIN:-1}" = 1 ] && for ((i = 0; i < N; i++)); do one plain $i; done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| start | worker tree CPU (us) | runner CPU to ready (us) | coordinator CPU (us) |"
echo "|---|---:|---:|---:|"
for k in conf $([ "${STARTCPU_PLAIN:-1}" = 1 ] && echo plain); do
	printf '| %s | %s | %s | %s |\n' "$k" "$(cut -d' ' -f1 "$T/r.$k" | median)" \
		"$(cut -d' ' -f2 "$T/r.$k" | median)" "$(cut -d' ' -f3 "$T/r.$k" | median)"
done
