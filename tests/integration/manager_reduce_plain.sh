#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The reduce replica of a PLAINTEXT job started while the map stage runs
# (doc/manager.md 9.4, coffer-worker --reduce KEY --after-drain, doc/worker.md
# section 2): it waits for the queue's drain (doc/queue.md 4.9), reduces
# there, and the manager ends the job at its exit (SIGCHLD), not at a
# tick. A tick of 5 s, so that a tick's end would show. One input is
# missing from the store at first, so its item fails and is retried and
# the map stage stays open:
#  1. the replica waits, through its own kill -9 (it is replaced, and the
#     crash does not count against the reduce stage) and a kill -9 and
#     restart of the manager (which starts it again); once the input is
#     back the job completes, the waiting replica reduced the three
#     outputs, and the manager saw its exit at the exit;
#  2. the job is stopped and deleted while the replica waits: it stops
#     waiting at its SIGTERM, and the DELETE goes through once it is gone;
#  3. the map stage fails (the input dead-lettered): no reduce stage runs,
#     no result is written, the job fails naming the item.
# The log says what happened and in which order: the test checks that,
# never a time.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 23

start_redis
start_manager --tick-ms 5000
make_items 3
mv "$T/store/in/i-2" "$T/i-2"

submit() { # [max_attempts]: the job's id, in $JOB too
	OUT=out-$RANDOM
	cat > "$T/job.json" <<JSON
{
  "app": "checksum",
  "inputs": {"items": ["in/i-1", "in/i-2", "in/i-3"]},
  "outputs": {"prefix": "$OUT/", "reduce": "$OUT/result"},
  "expected_time_s": 120,
  "max_attempts": ${1:-100},
  "replicas": {"min": 3, "max": 3, "initial": 3},
  "controller": {"name": "static"}
}
JSON
	JOB=$(api POST /v1/jobs --data-binary @"$T/job.json" | jq -r .id)
	[ -n "$JOB" ] && [ "$JOB" != null ] || bail "submission refused: $(cat "$T/api.body")"
}
replica_log() { cat "$MGR_DB.logs/$JOB.log" 2>/dev/null; }
waits() { replica_log | grep -c "waiting for the queue to drain"; }
reducer() { pgrep -f "coffer-worker --job $JOB .*--reduce" | head -n 1; }
# The lines of the manager's log about the job from line $1 on.
job_log() { tail -n +"$1" "$MGR_LOG" | grep -F "job=$JOB"; }
# Line number (within job_log) of the first line matching $2.
line_of() { job_log "$1" | grep -n -m1 -e "$2" | cut -d: -f1; }
finish() { api GET "/v1/jobs/$JOB?wait_s=${1:-120}&view=status" | jq -r .state; }

# 1. Started with the item workers (three items, three replicas: one
# wave), waiting while an input is missing.
from=$(($(wc -l < "$MGR_LOG") + 1))
submit
waiting() { # N: the reduce replica runs, and N waits were logged
	[ -n "$(pgrep -f "coffer-worker --job $JOB .*--reduce $OUT/result --after-drain")" ] &&
		[ "$(waits)" -ge "$1" ]
}
check "the reduce replica waits for the queue's drain" wait_until 60 waiting 1
check "started early, by the manager's word" \
	grep -q "reduce replica started early job=$JOB" "$MGR_LOG"
rpid=$(reducer)
[ -n "$rpid" ] || { replica_log | sed 's/^/# /'; bail "no reduce replica process"; }
kill -9 -- "-$(ps -o pgid= -p "$rpid" | tr -d ' ')"
replaced() { [ -n "$(reducer)" ] && [ "$(reducer)" != "$rpid" ] && [ "$(waits)" -ge 2 ]; }
check "killed with SIGKILL while it waits, it is replaced and waits again" \
	wait_until 60 replaced
# The manager killed: the next one stops the replicas it left (orphans)
# and starts its own, the reduce replica early again.
kill_manager
from=$(($(wc -l < "$MGR_LOG") + 1))
restart_manager --tick-ms 5000
again() { job_log "$from" | grep -q "reduce replica started early"; }
check "the restarted manager starts the reduce replica early again" \
	wait_until 60 again
check "which waits too" wait_until 60 waiting 3
mv "$T/i-2" "$T/store/in/i-2"
eq "the job completes once the input is back" completed "$(finish)"
check "the replica that waited reduced once the queue drained, with no item failed" \
	grep -q "the queue drained job=$JOB waited_ms=[0-9]* done=3 failed=0" <<<"$(replica_log)"
check "the three outputs" grep -q "reduced 3 outputs into $OUT/result" <<<"$(replica_log)"
s=$(line_of "$from" "reduce replica started early")
d=$(line_of "$from" "the queue drained")
r=$(line_of "$from" "reduce stage started job=$JOB key=$OUT/result early=yes")
# Not seen_at=tick: the exit (or the drain signal, when the replica
# exited before the manager's tick at the drain) woke the manager.
x=$(line_of "$from" "the reduce replica exited job=$JOB seen_at=\(exit\|wake\)")
c=$(line_of "$from" "to=completed")
[ -n "$s" ] && [ -n "$d" ] && [ -n "$r" ] && [ -n "$x" ] && [ -n "$c" ] &&
	[ "$s" -lt "$d" ] && [ "$d" -le "$r" ] && [ "$r" -lt "$x" ] && [ "$x" -lt "$c" ]
ok $? "started early, the drain, the early replica adopted, its exit seen at once (not at a tick), completed (lines $s $d $r $x $c)"
eq "no other reduce replica was started after the drain" 0 \
	"$(grep -c "reduce stage started job=$JOB key=$OUT/result early=no" "$MGR_LOG")"
cat "$T/store/$OUT/in/i-1" "$T/store/$OUT/in/i-2" "$T/store/$OUT/in/i-3" > "$T/want"
check "the result is the three map outputs in item order" cmp -s "$T/want" "$T/store/$OUT/result"
eq "every item is done once" 3 "$(api GET "/v1/jobs/$JOB" | jq .items.done)"

# 2. Stopped and deleted while it waits.
mv "$T/store/in/i-2" "$T/i-2"
submit
check "a second job's reduce replica waits" wait_until 60 waiting 1
api POST "/v1/jobs/$JOB/stop" >/dev/null
eq "the job is stopped" stopped "$(finish 30)"
gone() { test -z "$(pgrep -f "coffer-worker.*--job $JOB")"; }
check "every process of the job exits" wait_until 30 gone
check "the reduce replica stopped waiting" \
	grep -q "stopped while waiting for the queue to drain" <<<"$(replica_log)"
deleted() { api DELETE "/v1/jobs/$JOB" >/dev/null; [ "$HTTP_CODE" = 204 ]; }
check "then the DELETE goes through" wait_until 30 deleted
check "nothing was reduced" test ! -e "$T/store/$OUT/result"

# 3. The map stage fails: the missing input is dead-lettered after one
# attempt. A plaintext job with failed items runs no reduce stage.
submit 1
eq "the job fails: one item dead-lettered" failed "$(finish)"
grep -q "1 of 3 items failed; the first, in/i-2," <<<"$(api GET "/v1/jobs/$JOB" | jq -r .reason)"
ok $? "its reason names the item"
check "no result was written" test ! -e "$T/store/$OUT/result"
eq "no reduce stage was started" 0 "$(grep -c "reduce stage started job=$JOB" "$MGR_LOG")"
check "the early replica is gone" wait_until 30 gone
mv "$T/i-2" "$T/store/in/i-2"
stop_manager
