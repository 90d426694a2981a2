#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Dispatch throughput (BENCHMARKS.md, "Dispatch throughput"): how many
# items per second 4 coffer-workers move through the Redis queue with a
# no-op app, against what Redis itself does in the same run with 4
# clients (redis-benchmark -t lpush,rpop -c 4). Goal: ours >= 25% of the
# raw rate, i.e. an item costs about four round trips at most.
#   - the job: QUEUE_BENCH_ITEMS items (default 20000) of a few bytes, in
#     a local store on /dev/shm (tmpfs: the disk is not what we measure),
#     the "fault" plugin with no parameters (it copies the item: a no-op),
#     4 workers; timed from the workers' start to the last ack;
#   - round trips per item from the workers' own counters; Redis commands
#     per item (including those run inside the Lua scripts) from INFO
#     commandstats deltas;
#   - the same job with an executable app (/bin/cat, fork+exec per item)
#     on fewer items, to show what a process per item would cost;
#   - median of QUEUE_BENCH_RUNS runs (default 5) of each, the reference
#     measured right after each of ours.
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/queue.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
WORKER=$COFFER_BUILD/bin/coffer-worker
QCTL=$COFFER_BUILD/tests/tools/queuectl
APP=$COFFER_BUILD/apps/fault.so
N=${QUEUE_BENCH_ITEMS:-20000}
NX=${QUEUE_BENCH_EXEC_ITEMS:-2000}
RUNS=${QUEUE_BENCH_RUNS:-5}
WORKERS=4
GOAL=0.25

for x in "$WORKER" "$QCTL" "$APP"; do
	[ -x "$x" ] || [ -f "$x" ] || { echo "missing $x (run make bench)"; exit 1; }
done
for t in redis-server redis-cli redis-benchmark; do
	command -v "$t" >/dev/null || { echo "missing $t (scripts/install-deps)"; exit 1; }
done

if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	W=$(mktemp -d /dev/shm/coffer-qbench.XXXXXX)
	where="/dev/shm (tmpfs)"
else
	W=$(mktemp -d)
	where="$W ($(df -PT "$W" | awk 'NR == 2 { print $2 }'))"
fi
RPID=
cleanup() {
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# A private Redis like `coffer run` starts (no persistence), on a free port.
for _ in 1 2 3 4 5; do
	P=$(shuf -i 20000-59999 -n 1)
	(exec 3<>"/dev/tcp/127.0.0.1/$P") 2>/dev/null && continue
	redis-server --port "$P" --bind 127.0.0.1 --dir "$W" --save '' --appendonly no \
		--daemonize no --logfile "$W/redis.log" &
	RPID=$!
	for _ in $(seq 100); do redis-cli -p "$P" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
	redis-cli -p "$P" ping 2>/dev/null | grep -q PONG && break
	kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; RPID=
done
[ -n "$RPID" ] || { echo "redis-server did not start"; exit 1; }
URL=redis://127.0.0.1:$P
rc() { redis-cli -p "$P" "$@"; }

mkdir -p "$W/in"
for i in $(seq 1 "$N"); do printf 'i%d\n' "$i" > "$W/in/i$i"; done

# calls of every command, as "name calls" lines
cmdstats() {
	rc INFO commandstats | tr -d '\r' |
		sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),.*/\1 \2/p' | sort
}
sum_calls() { awk '{ s += $1 } END { print s + 0 }'; }
delta() { # before after [name] -> calls made in between
	join -a 2 -e 0 -o 0,1.2,2.2 "$1" "$2" |
		awk -v n="${3:-}" '(n == "" || $1 == n) { s += $3 - $2 } END { print s + 0 }'
}

# one_run app kind items -> "<items/s> <round trips/item> <requests/item> <commands/item>"
one_run() {
	local app=$1 kind=$2 items=$3 job="b$RANDOM$RANDOM" t0 t1 pids=() polls=0
	ls "$W/in" | head -n "$items" | "$QCTL" load "$URL" "$job" --stdin > /dev/null || return 1
	rm -rf "$W/out"
	cmdstats > "$W/cs0"
	t0=$(date +%s%N)
	for w in $(seq $WORKERS); do
		COFFER_LOG_LEVEL=info "$WORKER" --job "$job" --redis "$URL" --store "$W/in" \
			--outputs "$W/out" --app "$app" --app-kind "$kind" --exit-when-done \
			2> "$W/w$w.log" &
		pids+=($!)
	done
	# One redis-cli polling every 10 ms (a process per poll would take
	# CPU from the workers being measured).
	while read -r n; do
		polls=$((polls + 1))
		[ "${n:-0}" -ge "$items" ] && break
	done < <(exec redis-cli -p "$P" -r -1 -i 0.01 SCARD "coffer:{$job}:done")
	t1=$(date +%s%N)
	cmdstats > "$W/cs1"
	for p in "${pids[@]}"; do wait "$p"; done
	local rt req
	rt=$(cat "$W"/w*.log | sed -n 's/.*worker exiting.* round_trips=\([0-9]*\).*/\1/p' | sum_calls)
	req=$(cat "$W"/w*.log | sed -n 's/.*worker exiting.* requests=\([0-9]*\).*/\1/p' | sum_calls)
	local all
	all=$(delta "$W/cs0" "$W/cs1")
	"$QCTL" destroy "$URL" "$job" > /dev/null
	awk -v n="$items" -v ns=$((t1 - t0)) -v rt="$rt" -v req="$req" -v c=$((all - polls - 1)) \
		'BEGIN { printf "%.0f %.2f %.2f %.1f\n", n / (ns / 1e9), rt / n, req / n, c / n }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: > "$W/plugin"
: > "$W/exec"
: > "$W/raw"
for r in $(seq "$RUNS"); do
	one_run "$APP" plugin "$N" >> "$W/plugin" || { echo "run failed"; exit 1; }
	one_run /bin/cat exec "$NX" >> "$W/exec" || { echo "run failed"; exit 1; }
	rc FLUSHALL > /dev/null
	redis-benchmark -h 127.0.0.1 -p "$P" -t lpush,rpop -c 4 -n 200000 --csv 2>/dev/null |
		tr -d '"' | awk -F, '$1 == "LPUSH" { l = $2 } $1 == "RPOP" { r = $2 }
			END { printf "%.0f %.0f %.0f\n", (l + r) / 2, l, r }' >> "$W/raw"
done

col() { awk -v c="$1" '{ print $c }' "$2" | median; }
ours=$(col 1 "$W/plugin")
raw=$(col 1 "$W/raw")
# The ratio of each run (ours, then Redis right after), and their median:
# the machine's load changes both, a ratio from one run stays meaningful.
paste -d' ' <(awk '{ print $1 }' "$W/plugin") <(awk '{ print $1 }' "$W/raw") |
	awk '{ printf "%.3f %s %s\n", $1 / $2, $1, $2 }' > "$W/ratios"
ratio=$(awk '{ print $1 }' "$W/ratios" | median)
rmin=$(awk '{ print $1 }' "$W/ratios" | sort -n | head -1)
rmax=$(awk '{ print $1 }' "$W/ratios" | sort -n | tail -1)
verdict=$(awk -v r="$ratio" -v g=$GOAL 'BEGIN { print (r >= g) ? "met" : "NOT met" }')

echo "Store: $where; Redis without persistence on loopback; $WORKERS workers;"
echo "median of $RUNS runs; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| measurement | items/s (median) | round trips / item | requests / item | Redis commands / item (incl. in scripts) |"
echo "|---|---|---|---|---|"
echo "| plugin no-op app, $N items | $ours | $(col 2 "$W/plugin") | $(col 3 "$W/plugin") | $(col 4 "$W/plugin") |"
echo "| executable app (/bin/cat, fork+exec per item), $NX items | $(col 1 "$W/exec") | $(col 2 "$W/exec") | $(col 3 "$W/exec") | $(col 4 "$W/exec") |"
echo
echo "| reference (same run) | ops/s (median) |"
echo "|---|---|"
echo "| redis-benchmark -t lpush,rpop -c 4 -n 200000: LPUSH | $(col 2 "$W/raw") |"
echo "| redis-benchmark -t lpush,rpop -c 4 -n 200000: RPOP | $(col 3 "$W/raw") |"
echo "| raw rate (mean of the two) | $raw |"
echo
echo "| run | dispatch items/s | raw Redis ops/s | ratio |"
echo "|---|---|---|---|"
awk '{ printf "| %d | %s | %s | %.2f |\n", NR, $2, $3, $1 }' "$W/ratios"
echo
echo "| goal | ratio (median of the runs' ratios; min-max) | result |"
echo "|---|---|---|"
printf '| dispatch >= %s x raw Redis rate | %.2f (%.2f-%.2f) | %s |\n' "$GOAL" "$ratio" "$rmin" "$rmax" "$verdict"
