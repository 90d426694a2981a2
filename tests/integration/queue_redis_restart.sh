#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Restarting redis-server (AOF on) in the middle of a job loses nothing:
# first a graceful restart (SIGTERM: Redis flushes its AOF), then a crash
# (SIGKILL, with appendfsync always so every acknowledged write is on
# disk). Workers reconnect by themselves; every item ends done once.
# timeout: 240
. "$(dirname "$0")/lib.sh"
plan 12

QCTL=$COFFER_BUILD/tests/tools/queuectl
APPS=$COFFER_BUILD/apps
N=300
start_redis --appendfsync always
mkdir -p "$T/in" "$T/out"
for i in $(seq -w 1 $N); do printf 'restart test %s %s\n' "$i" "$RANDOM" > "$T/in/r$i"; done
check "load $N items" "$QCTL" load "$REDIS_URL" rj --dir "$T/in" --lease-ms 2000

pids=()
for w in 1 2 3; do
	coffer-worker --job rj --redis "$REDIS_URL" --store "$T/in" --outputs "$T/out" \
		--app "$APPS/fault.so" --param sleep_ms=15 --lease-ms 2000 --backoff-ms 100 \
		--worker-id "w$w" 2>"$T/w$w.log" &
	pids+=($!)
	track $!
done

done_count() { rcli SCARD 'coffer:{rj}:done' 2>/dev/null || echo 0; }
at_least() { [ "$(done_count)" -ge "$1" ]; }

check "some items are done before the restart" wait_until 60 at_least 40
before=$(done_count)
stop_redis
diag "redis stopped (SIGTERM) at $before done"
sleep 1
start_redis_again; ok $? "redis restarted on the same port and data"
eq "the job is still there after the restart" "$N" "$(rcli HGET 'coffer:{rj}:meta' total)"
after=$(done_count)
[ "$after" -ge "$before" ]; ok $? "no acknowledgement lost ($before before, $after after)"

check "progress resumes" wait_until 60 at_least $((after + 40))
before=$(done_count)
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
diag "redis killed (SIGKILL) at $before done"
sleep 0.5
start_redis_again; ok $? "redis restarted after SIGKILL"
after=$(done_count)
[ "$after" -ge "$before" ]; ok $? "no acknowledgement lost to the crash ($before before, $after after)"

check "the job finishes" "$QCTL" wait "$REDIS_URL" rj --lease-ms 2000 --timeout-s 150
eq "every item done exactly once" "total=$N done=$N failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" rj)"
check "every output is its own input, nothing more" diff -r "$T/in" "$T/out"
grep -q "Redis\|retry" "$T"/w*.log; ok $? "workers noticed the outage and retried"
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p"; done
