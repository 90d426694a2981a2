#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The worker's memory and per-item cost, plaintext and confidential
# (BENCHMARKS.md, "Worker memory"). Goal (issue 13): peak RSS of the
# supervisor and the runner together <= 16 MiB besides the app's own data
# (doc/worker.md 9.4, "Memory": the plaintext input and output bytes the app holds
# at once; of those, only the ones in the shared region count in the
# runner's RSS, and only they are subtracted from it, last table).
#   - for each item size of WORKER_BENCH_SIZES (bytes, or "max": the
#     largest sealed input --max-item-bytes takes, 64 MiB by default;
#     default "tiny 31232 524288 1048576 max", tiny = a CSV line of a few
#     bytes), the same job both ways: items of that size (sealed ones,
#     each listed in the policy, for the confidential job; tiny:
#     WORKER_BENCH_ITEMS, default 2000; others as many as fit in 32 MiB,
#     at least 3), the `fault` plugin without parameters (it copies its
#     input), one coffer-worker with --exit-when-done; the confidential one
#     against tests/tools/fakecoord (sim evidence, key release, one proof
#     per item over loopback HTTP), its plugin in the host process;
#   - PSS of the supervisor and the runner (smaps_rollup, the largest
#     sample: the libraries both map count half in each), as information;
#   - VmHWM (peak RSS) of each process read from /proc every 20 ms until it
#     exits (the last reading is its peak); "together" adds the
#     supervisor's and the runner's peaks (an upper bound: they need not
#     peak at once); the plugin host is reported apart (it is the app's),
#     and so is the memfd a big output is handed over in (9.5 HF5: its
#     pages are in no process's RSS), sampled from the runner's fds;
#   - items per batch: the largest batch of the run (the runner's debug
#     log, "batch done"); items/s from the worker's start to its exit (one
#     worker), to show what a confidential item costs; stores on /dev/shm.
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/worker.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
NTINY=${WORKER_BENCH_ITEMS:-2000}
SIZES=${WORKER_BENCH_SIZES:-tiny 31232 524288 1048576 max}
MAXB=$((64 << 20))   # coffer-worker's default --max-item-bytes
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
# The largest plaintext whose sealed object is at most MAXB bytes: the
# sealed format's overhead measured on a MAXB-byte file.
head -c "$MAXB" /dev/zero > "$T/probe"
coffer seal --key "$T/w/a.key" "$T/probe" "$T/probe.sealed" >/dev/null || bail seal
MAXPLAIN=$((2 * MAXB - $(stat -c %s "$T/probe.sealed") - 64))
rm -f "$T/probe" "$T/probe.sealed"

# For each size, items of owner a: plaintext copies for the plaintext job
# under the same names, sealed ones listed in the policy for the
# confidential one. ids_<size> are their keys.
mkdir -p "$T/plainin/a" "$T/in/a"
declare -A NOF BYTES
for z in $SIZES; do
	case $z in
	tiny) n=$NTINY; b=20 ;;  # about: a CSV line
	max) b=$MAXPLAIN; n=3 ;;
	*) b=$z; n=$(((32 << 20) / z)); [ "$n" -lt 3 ] && n=3; [ "$n" -gt 2000 ] && n=2000 ;;
	esac
	NOF[$z]=$n BYTES[$z]=$b
	mkdir -p "$T/plainin/a/$z" "$T/in/a/$z"
	for ((i = 0; i < n; i++)); do
		k=a/$z/$i.sealed
		if [ "$z" = tiny ]; then
			printf 'id,radius\n%d,1%d.5\n' "$i" "$((i % 10))"
		else
			# Distinct items of exactly b bytes.
			printf '%010d\n' "$i"
			head -c $((b - 11)) /dev/zero
		fi > "$T/plainin/$k"
		coffer seal --key "$T/w/a.key" "$T/plainin/$k" "$T/in/$k" >/dev/null || bail seal
		echo "$k sha256:$(sha "$T/in/$k")"
	done
done > "$T/objects"
jq -R -s 'split("\n") | map(select(length > 0) | split(" ") |
	{key: .[0], digest: .[1]})' "$T/objects" > "$T/objects.json"
CW_MORE_OBJECTS=$T/objects.json
cw_measured "$T/w/worker.json" "$COORD_MEAS"
WMEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/w/worker.json")
cw_policy "$T/w/policy.json" "$WMEAS"
cw_start_coord "$T/w/policy.json"

hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# PSS (pages shared with other processes, the libraries above all, count
# a share each): no peak is kept by the kernel, so the largest sample.
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null; }
# The largest output memfd the runner holds (doc/worker.md 9.5 HF5: in
# no process's RSS), in KiB.
memfd() {
	find /proc/"$1"/fd -lname '/memfd:coffer-output*' -exec stat -L -c %s {} + \
		2>/dev/null | awk '{ k = int(($1 + 1023) / 1024); if (k > m) m = k }
		END { print m + 0 }'
}
# watch PID: sample the peaks of the worker (PID), its runner and the
# runner's host until the worker exits; prints "sup runner host
# sup_pss runner_pss memfd".
watch() {
	local sup=$1 run="" host="" s=0 r=0 h=0 sp=0 rp=0 m=0 v
	while kill -0 "$sup" 2>/dev/null; do
		v=$(hwm "$sup"); [ -n "$v" ] && s=$v
		v=$(pss "$sup"); [ -n "$v" ] && [ "$v" -gt "$sp" ] && sp=$v
		[ -z "$run" ] && run=$(pgrep -P "$sup" | head -1)
		if [ -n "$run" ]; then
			v=$(hwm "$run"); [ -n "$v" ] && r=$v
			v=$(pss "$run"); [ -n "$v" ] && [ "$v" -gt "$rp" ] && rp=$v
			[ -z "$host" ] && host=$(pgrep -P "$run" -f -- --app-host | head -1)
			[ -n "$host" ] && { v=$(hwm "$host"); [ -n "$v" ] && h=$v; }
			v=$(memfd "$run"); [ "$v" -gt "$m" ] && m=$v
		fi
		sleep 0.02
	done
	echo "$s $r $h $sp $rp $m"
}

run_one() { # size kind store [confidential flags...]
	local z=$1 kind=$2 store=$3 q t0 t1 peaks pid bmax
	shift 3
	q=$kind-$z
	printf 'a/%s/%d.sealed\n' $(for ((i = 0; i < NOF[$z]; i++)); do echo "$z $i"; done) |
		"$QCTL" load "$REDIS_URL" "$q" --stdin >/dev/null || bail "load"
	t0=$(date +%s.%N)
	COFFER_LOG_LEVEL=debug coffer-worker --job "$q" --redis "$REDIS_URL" \
		--store "$store" --outputs "$T/out/$q" --app "$APP" --exit-when-done \
		"$@" 2> "$T/$q.log" &
	pid=$!
	peaks=$(watch $pid)
	wait $pid
	t1=$(date +%s.%N)
	read -r s r h sp rp m <<< "$peaks"
	done=$("$QCTL" stats "$REDIS_URL" "$q" | grep -oE 'done=[0-9]+' | cut -d= -f2)
	bmax=$(grep 'batch done' "$T/$q.log" | grep -oE 'items=[0-9]+' | cut -d= -f2 |
		sort -n | tail -1)
	printf '| %s | %s | %s | %d | %d | %d | %s | %d | %d | %s | %.1f |\n' "$z" "${BYTES[$z]}" \
		"$kind" "$s" "$r" "$((s + r))" "${h:-0}" "$m" "$((sp + rp))" "${bmax:-1}" \
		"$(awk -v n="$done" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }')"
	[ "$done" -eq "${NOF[$z]}" ] || echo "(not every item done ($done of ${NOF[$z]}): see $T/$q.log)"
	LAST=$((s + r))
	rm -rf "${T:?}/out/$q"
}

echo "Items per size: $(for z in $SIZES; do printf '%s: %s; ' "$z" "${NOF[$z]}"; done)the fault plugin (a copy), one worker; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| size | item bytes | job | supervisor peak RSS (KiB) | runner peak RSS (KiB) | together (KiB) | plugin host peak RSS (KiB) | output memfd, largest seen (KiB) | supervisor + runner largest PSS (KiB) | items per batch (largest) | items/s |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
declare -A CONF PLAIN
for z in $SIZES; do
	run_one "$z" plaintext "$T/plainin"
	PLAIN[$z]=$LAST
	run_one "$z" confidential "$T/in" --coordinator "$COORD_URL" \
		--coordinator-job "$JOB" --tee-backend sim --measured-config "$T/w/worker.json"
	CONF[$z]=$LAST
done
echo
# The app's own data the runner holds (doc/worker.md 9.4, "Memory"):
# only the bytes of the shared region (9.5) the runner maps, which count in
# its RSS: an exchange's inputs in the input half and its outputs in the
# output half (the fault plugin's output is its input), each half 1 MiB at
# most. The app's data in its host (a streamed input, BI4; an output over
# the half, in its answer frame) is in the host's memory, not the runner's:
# it is not subtracted from the runner's RSS (before, the script subtracted
# it, twice the item, and so called a 64 MiB item's runner "met" with a
# negative remainder). A streamed input (sealed object over 1 MiB, BI1)
# goes in its frame, never in the region.
HALF=$((1 << 20))
echo "| size | confidential, supervisor + runner | app's data in the region the runner maps (KiB) | besides the app's data | goal | |"
echo "|---|---:|---:|---:|---:|---|"
for z in $SIZES; do
	b=${BYTES[$z]}
	sealed=$(stat -c %s "$T/in/a/$z/0.sealed")
	k=$((HALF / b)); [ "$k" -lt 1 ] && k=1; [ "$k" -gt 64 ] && k=64
	x=$((k * b)); [ "$x" -gt "$HALF" ] && x=$HALF
	in=0; out=0
	[ "$b" -le "$HALF" ] && out=$x
	[ "$b" -le "$HALF" ] && [ "$sealed" -le "$HALF" ] && in=$x
	data=$(((in + out + 1023) / 1024))
	rest=$((CONF[$z] - data))
	verdict=met
	[ "$rest" -le "$GOAL_KIB" ] || verdict="**missed**"
	echo "| $z | ${CONF[$z]} KiB | $data | $rest KiB | $GOAL_KIB KiB | $verdict (plaintext: ${PLAIN[$z]} KiB) |"
done
