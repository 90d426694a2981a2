#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The worker's memory and per-item cost, plaintext and confidential
# (BENCHMARKS.md, "Worker memory"). Goal (issue 13): peak RSS of the
# supervisor and the runner together <= 16 MiB besides the app's own data.
#   - the same job both ways: WORKER_BENCH_ITEMS items (default 2000) of a
#     few bytes (sealed ones, each listed in the policy, for the
#     confidential job), the `fault` plugin without parameters (it copies its input),
#     one coffer-worker with --exit-when-done; the confidential one against
#     tests/tools/fakecoord (sim evidence, key release, one proof per item
#     over loopback HTTP), its plugin in the host process;
#   - VmHWM (peak RSS) of each process read from /proc every 20 ms until it
#     exits (the last reading is its peak); "together" adds the
#     supervisor's and the runner's peaks (an upper bound: they need not
#     peak at once); the plugin host is reported apart (it is the app's);
#   - items/s from the worker's start to its exit (one worker), to show
#     what a confidential item costs; stores on /dev/shm.
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/worker.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
N=${WORKER_BENCH_ITEMS:-2000}
GOAL_KIB=16384
# tmpfs: the disk (an fsync per output) is not what is measured.
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
. tests/integration/lib.sh
. tests/integration/worker_confidential.bash
APP=$COFFER_BUILD/apps/fault.so
CW_PARAMS='{}'
CW_COORD_PARAMS=()

start_redis >/dev/null
cw_world
# N items of owner a: plaintext copies for the plaintext job under the
# same names, sealed ones listed in the policy for the confidential one.
mkdir -p "$T/plainin/a/n" "$T/in/a/n"
ids=()
for ((i = 0; i < N; i++)); do
	k=a/n/$i.sealed
	printf 'id,radius\n%d,1%d.5\n' "$i" "$((i % 10))" > "$T/plainin/$k"
	coffer seal --key "$T/w/a.key" "$T/plainin/$k" "$T/in/$k" >/dev/null || bail seal
	echo "$k sha256:$(sha "$T/in/$k")"
	ids+=("$k")
done > "$T/objects"
jq -R -s 'split("\n") | map(select(length > 0) | split(" ") |
	{key: .[0], digest: .[1]})' "$T/objects" > "$T/objects.json"
CW_MORE_OBJECTS=$T/objects.json
cw_measured "$T/w/worker.json" "$COORD_MEAS"
WMEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/w/worker.json")
cw_policy "$T/w/policy.json" "$WMEAS"
cw_start_coord "$T/w/policy.json"

hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# watch PID: sample the peaks of the worker (PID), its runner and the
# runner's host until the worker exits; prints "sup runner host".
watch() {
	local sup=$1 run="" host="" s=0 r=0 h=0 v
	while kill -0 "$sup" 2>/dev/null; do
		v=$(hwm "$sup"); [ -n "$v" ] && s=$v
		[ -z "$run" ] && run=$(pgrep -P "$sup" | head -1)
		if [ -n "$run" ]; then
			v=$(hwm "$run"); [ -n "$v" ] && r=$v
			[ -z "$host" ] && host=$(pgrep -P "$run" -f -- --app-host | head -1)
			[ -n "$host" ] && { v=$(hwm "$host"); [ -n "$v" ] && h=$v; }
		fi
		sleep 0.02
	done
	echo "$s $r $h"
}

run_one() { # name store [confidential flags...]
	local q=$1 store=$2 t0 t1 peaks pid
	shift 2
	printf '%s\n' "${ids[@]}" | "$QCTL" load "$REDIS_URL" "$q" --stdin >/dev/null ||
		bail "load"
	t0=$(date +%s.%N)
	coffer-worker --job "$q" --redis "$REDIS_URL" --store "$store" \
		--outputs "$T/out/$q" --app "$APP" --exit-when-done "$@" 2> "$T/$q.log" &
	pid=$!
	peaks=$(watch $pid)
	wait $pid
	t1=$(date +%s.%N)
	read -r s r h <<< "$peaks"
	done=$("$QCTL" stats "$REDIS_URL" "$q" | grep -oE 'done=[0-9]+' | cut -d= -f2)
	printf '| %s | %s | %d | %d | %d | %s | %.0f |\n' "$q" "$done" "$s" "$r" \
		"$((s + r))" "${h:-0}" "$(awk -v n="$done" -v a="$t0" -v b="$t1" \
		'BEGIN { print n / (b - a) }')"
	[ "$done" -eq "$N" ] || echo "(not every item done: see $T/$q.log)"
	LAST=$((s + r))
}

echo "$N items of a few bytes, the fault plugin (a copy), one worker; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| job | items done | supervisor peak RSS (KiB) | runner peak RSS (KiB) | together (KiB) | plugin host peak RSS (KiB) | items/s |"
echo "|---|---:|---:|---:|---:|---:|---:|"
run_one plaintext "$T/plainin"
PLAIN=$LAST
run_one confidential "$T/in" --coordinator "$COORD_URL" --coordinator-job "$JOB" \
	--tee-backend sim --measured-config "$T/w/worker.json"
CONF=$LAST
echo
verdict=met
[ "$CONF" -le "$GOAL_KIB" ] || verdict="**missed**"
echo "| goal | confidential, supervisor + runner | goal | |"
echo "|---|---:|---:|---|"
echo "| peak RSS | $CONF KiB | $GOAL_KIB KiB | $verdict |"
echo "| (plaintext, same job) | $PLAIN KiB | | reference |"
