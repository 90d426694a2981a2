#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of a worker in the middle of an item: the item is leased again
# after its lease expires, and the job still ends with every item done
# exactly once (no missing output, no duplicate, no stray file).
# timeout: 180
. "$(dirname "$0")/lib.sh"
plan 11

QCTL=$COFFER_BUILD/tests/tools/queuectl
APPS=$COFFER_BUILD/apps
N=100
LEASE=1500
start_redis
mkdir -p "$T/in" "$T/out" "$T/trace"
for i in $(seq -w 1 $N); do printf 'input %s\n%s\n' "$i" "$RANDOM" > "$T/in/item-$i"; done
check "load $N items" "$QCTL" load "$REDIS_URL" kj --dir "$T/in" --lease-ms $LEASE

pids=()
for w in 1 2 3 4; do
	coffer-worker --job kj --redis "$REDIS_URL" --store "$T/in" --outputs "$T/out" \
		--app "$APPS/fault.so" --param sleep_ms=100 --param trace_dir="$T/trace" \
		--worker-id "w$w" --lease-ms $LEASE --backoff-ms 100 2>"$T/w$w.log" &
	pids+=($!)
	track $!
done

# Wait until w1 is in the middle of an item: leased, and the app started it.
victim_item=
for _ in $(seq 400); do
	victim_item=$(rcli LRANGE 'coffer:{kj}:inflight:w1' 0 0)
	if [ -n "$victim_item" ] && [ -s "$T/trace/$victim_item" ]; then break; fi
	victim_item=
	sleep 0.02
done
[ -n "$victim_item" ]; ok $? "worker w1 is processing an item ($victim_item)"
host_pid=$(awk 'NR == 1 { print $1 }' "$T/trace/$victim_item")
kill -9 "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
diag "killed w1 (pid ${pids[0]}) during $victim_item"

check "the job finishes" "$QCTL" wait "$REDIS_URL" kj --lease-ms $LEASE --timeout-s 120
eq "every item done exactly once, none failed or left" \
	"total=$N done=$N failed=0 in_flight=0 queued=0" "$("$QCTL" stats "$REDIS_URL" kj)"
attempts=$(rcli HGET 'coffer:{kj}:attempts' "$victim_item")
[ "$attempts" -ge 2 ]; ok $? "the killed item was leased again (attempts=$attempts)"
runs=$(wc -l < "$T/trace/$victim_item")
[ "$runs" -ge 2 ]; ok $? "the killed item ran again ($runs runs)"
eq "the killed worker's in-flight list is empty" "0" "$(rcli LLEN 'coffer:{kj}:inflight:w1')"
# A put interrupted by the kill may leave its temporary file (the store
# does not list it; coffer run sweeps such files once no worker is alive).
check "every output is its own input, and nothing else is in outputs" \
	diff -r -x '*.tmp-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' "$T/in" "$T/out"
eq "exactly $N outputs" "$N" "$(find "$T/out" -type f ! -name '*.tmp-*' | wc -l)"
kill -0 "$host_pid" 2>/dev/null
[ $? -ne 0 ]; ok $? "the killed worker's app host died with it"

for p in "${pids[@]:1}"; do kill -TERM "$p"; done
rc=0
for p in "${pids[@]:1}"; do wait "$p" || rc=$?; done
eq "the other workers exit 0 on SIGTERM" 0 "$rc"
