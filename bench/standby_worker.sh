#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A worker's start from its job's point of view, warm (a standby worker
# given its assignment, doc/worker.md 2.2 and 9.9) against cold (the
# process started with its job), both kinds (BENCHMARKS.md "Standby
# workers: the start from the assignment"). bench/startcpu.sh's set-up:
# one coffer-worker --exit-when-done on a one-item queue against
# tests/tools/fakecoord (sim evidence), the fault plugin. STANDBY_N rounds
# (default 15), each a cold and a warm start of each kind, alternated.
# Per start, medians:
#   - wall: from the job's side, launch (cold) or the assignment's write
#     (warm) to the "worker started" line's time stamp (ms);
#   - runner: the runner's CPU to ready, counted from the assignment when
#     warm ("worker started" cpu_us);
#   - attest: the start's exchange with the coordinator (attest_ms,
#     attest_cpu_us: release when cold, bind when warm);
#   - tree: CPU of the worker's whole life (bash's `times` of a subshell
#     that ran it: supervisor, runner, host; the standby part, the item
#     and the exit included; 10 ms clock ticks), so that what moved off
#     the job's path is not taken for saved;
#   - before: a warm worker's CPU in standby (its "worker standby ready"
#     cpu_us: the confidential runner's, whose session that is; the
#     plaintext process's exec, link and start).
# Alone: BUILD=build bash bench/standby_worker.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
N=${STANDBY_N:-15}
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

median() { sort -n | awk '{ v[NR] = $1 }
	END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# The log line's time stamp (2026-12-08T02:20:01.123Z) in ms since the epoch.
stamp_ms() { local s=${1%Z}; echo $(( $(date -u -d "${s%.*}" +%s) * 1000 + 10#${s##*.} )); }
field() { grep -oE " $1=[0-9]+" | head -1 | cut -d= -f2; }

# one KIND WARM I: one start; appends "wall runner attest attest_cpu tree
# before" to $T/r.KIND.WARM.
one() {
	local kind=$1 warm=$2 q="$1-$2-$3" store=$T/plainin t0 line tc before=0
	local -a env=() conf=()
	if [ "$kind" = conf ]; then
		store=$T/in
		env=(COFFER_COORDINATOR_URL="$COORD_URL" COFFER_TEE_BACKEND=sim
			COFFER_MEASURED_CONFIG="$T/w/worker.json")
		conf=(--coordinator "$COORD_URL" --coordinator-job "$JOB"
			--tee-backend sim --measured-config "$T/w/worker.json")
	fi
	echo a/1.sealed | "$QCTL" load "$REDIS_URL" "$q" --stdin >/dev/null || bail load
	if [ "$warm" = cold ]; then
		(
			t=${EPOCHREALTIME/./}
			echo $((t / 1000)) > "$T/t0"
			coffer-worker --job "$q" --redis "$REDIS_URL" --store "$store" \
				--outputs "$T/out/$q" --app "$APP" --exit-when-done "${conf[@]}" \
				2> "$T/$q.log" || exit 1
			times > "$T/times"
		) || bail "worker $q: $(tail -3 "$T/$q.log")"
		t0=$(cat "$T/t0")
	else
		rm -f "$T/fifo"
		mkfifo "$T/fifo"
		(
			env COFFER_STANDBY=1 "${env[@]}" coffer-worker < "$T/fifo" \
				2> "$T/$q.log" || exit 1
			times > "$T/times"
		) &
		local wp=$!
		exec 8> "$T/fifo"
		wait_until 30 grep -q 'worker standby ready' "$T/$q.log" || bail "standby $q"
		# The runner's standby log line comes after its session (conf).
		before=$(grep 'worker standby ready' "$T/$q.log" | tail -1 | field cpu_us)
		sleep 0.2
		local t=${EPOCHREALTIME/./}
		t0=$((t / 1000))
		{
			printf 'COFFER_JOB=%s\nCOFFER_REDIS_URL=%s\nCOFFER_STORE=%s\n' "$q" \
				"$REDIS_URL" "$store"
			printf 'COFFER_OUTPUTS=%s\nCOFFER_APP=%s\nCOFFER_EXIT_WHEN_DONE=1\n' \
				"$T/out/$q" "$APP"
			[ "$kind" = conf ] && printf 'COFFER_COORDINATOR_JOB=%s\n' "$JOB"
			printf '\n'
		} >&8
		exec 8>&-
		wait $wp || bail "worker $q: $(tail -3 "$T/$q.log")"
	fi
	line=$(grep -m1 'worker started' "$T/$q.log")
	# bash's times: the children's user and system time (the tree's,
	# each process having waited for its own children).
	tc=$(tail -1 "$T/times" | awk '{ n = 0; for (i = 1; i <= 2; i++) {
		split($i, a, /[ms]/); n += a[1] * 60 + a[2] } printf "%d", n * 1000000 }')
	echo "$(( $(stamp_ms "${line%% *}") - t0 )) $(field cpu_us <<< "$line")" \
		"$(field attest_ms <<< "$line")" "$(field attest_cpu_us <<< "$line")" \
		"$tc" "${before:-0}" >> "$T/r.$kind.$warm"
}

echo "$N rounds (cold and warm, confidential and plaintext, alternated), one item, the fault plugin"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), $(git rev-parse --short HEAD 2>/dev/null)"
for ((i = 0; i < N; i++)); do
	one conf cold $i; one conf warm $i; one plain cold $i; one plain warm $i
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| start | wall to ready (ms) | runner CPU to ready (us) | attest (ms) | attest CPU (us) | worker tree CPU, whole life (us) | CPU before the assignment (us) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for k in conf.cold conf.warm plain.cold plain.warm; do
	printf '| %s |' "$k"
	for c in 1 2 3 4 5 6; do
		printf ' %s |' "$(cut -d' ' -f$c "$T/r.$k" | grep -E '^[0-9]+$' | median)"
	done
	echo
done
