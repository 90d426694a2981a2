#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The reduce replica of a confidential job started while the map stage
# runs (doc/manager.md 9.4, doc/worker.md 9.6): it attests, then waits at
# the coordinator for the map stage's close (?wait=S,
# doc/format/item-proof.md 7.2). One input is missing from the store at
# first, so its item fails and is retried and the map stage stays open:
#  1. the replica waits, through its own kill -9 (it is replaced, and the
#     crash does not count against the reduce stage) and a kill -9 and
#     restart of the coordinator;
#     once the input is back the item's proof closes the map stage, the
#     waiting replica reduces at once, the job completes and the receipt
#     has the reduce stage's result;
#  2. the job is stopped and deleted while the replica waits: it stops
#     waiting at its SIGTERM, and the DELETE goes through once it is gone;
#  3. the map stage fails (the input dead-lettered, never proved): the
#     manager closes it at the drain, and the replica that waited reduces
#     over the results there are.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 19

waiting() {
	curl -s "$COORD_URL/metrics" | awk '$1 == "coffer_coordinator_leaves_waiting" {print $2 + 0}'
}
held() { [ "$(waiting)" -ge 1 ] 2>/dev/null; }
none_held() { [ "$(waiting)" = 0 ]; }
replica_log() { cat "$MGR_DB.logs/$JOB.log"; }
three() { # [jq filter]: a job whose three items start with three replicas
	e2e_submit ".replicas = {min: 3, max: 3, initial: 3} | ${1:-.}"
}

start_redis
e2e_coordinator
e2e_manager
e2e_owners 1
e2e_policy checksum '.apps[0].reduce = true'

# 1. Started with the item workers (three items, three replicas: one
# wave), waiting while an input is missing.
mv "$E2E_STORE/a/item-1" "$T/item-1"
three
check "the reduce replica waits at the coordinator for the map stage" wait_until 60 held
check "started early, by the manager's word" \
	grep -q "reduce replica started early job=$JOB" "$MGR_LOG"
rpid=$(pgrep -f "coffer-worker --job $JOB .*--reduce" | head -n 1)
[ -n "$rpid" ] || bail "no reduce replica process"
kill -9 -- "-$(ps -o pgid= -p "$rpid" | tr -d ' ')"
# The new replica past its start (attestation and key release, which do
# not wait for a coordinator that is down) and asking for the results:
# only then is killing the coordinator a test of the wait.
replaced() { held && [ -n "$(pgrep -f "coffer-worker --job $JOB .*--reduce")" ] &&
	[ "$(pgrep -f "coffer-worker --job $JOB .*--reduce" | head -n 1)" != "$rpid" ] &&
	[ "$(replica_log | grep -c "waiting for the map results")" -ge 2 ]; }
check "killed with SIGKILL while it waits, it is replaced and waits again" \
	wait_until 60 replaced
stop_coordinator KILL
sleep 0.5
start_coordinator_again || bail "the coordinator did not come back"
mv "$T/item-1" "$E2E_STORE/a/item-1"
eq "the job completes once the input is back" completed "$(e2e_finish 120)"
waited=$(replica_log | sed -n 's/.*map results job=[^ ]* waited_ms=\([0-9]*\).*/\1/p' | tail -n 1)
check "the replica got the map results after waiting (${waited:-none} ms)" \
	test "${waited:-0}" -gt 0
check "and reduced the three map outputs" grep -q "reduced 3 map outputs into out/result\." \
	<<<"$(replica_log)"
eq "no other reduce replica was started after the drain" 0 \
	"$(grep -c "reduce stage started job=$JOB key=out/result early=no" "$MGR_LOG")"
e2e_verify a
eq "owner a's receipt is valid, the reduce stage has its result" "0 1" \
	"$VRC $(e2e_stage a reduce ok)"

# 2. Stopped and deleted while it waits.
mv "$E2E_STORE/a/item-1" "$T/item-1"
three
check "a second job's reduce replica waits" wait_until 60 held
api POST "/v1/jobs/$JOB/stop" >/dev/null
eq "the job is stopped" stopped "$(e2e_finish 30)"
api DELETE "/v1/jobs/$JOB" >/dev/null
eq "a DELETE at once: busy while its replicas exit" 409 "$HTTP_CODE"
gone() { test -z "$(pgrep -f "coffer-worker.*--job $JOB")"; }
check "every process of the job exits" wait_until 30 gone
# The stop closes the job at the coordinator (cancelled) as it sends
# SIGTERM: the replica stops waiting at whichever comes first.
check "the reduce replica stopped waiting, and proved nothing" \
	grep -qE "stopped while waiting for the map stage to close|refused a proof as job.closed" \
	<<<"$(replica_log)"
deleted() { api DELETE "/v1/jobs/$JOB" >/dev/null; [ "$HTTP_CODE" = 204 ]; }
check "then the DELETE goes through" wait_until 30 deleted
check "nothing is held at the coordinator any more" wait_until 10 none_held
mv "$T/item-1" "$E2E_STORE/a/item-1"

# 3. The map stage fails: the missing input is dead-lettered after one
# attempt and never proved, so the coordinator's map stage does not close
# by itself; the manager closes it at the drain, which ends the wait.
# Asked for 5 replicas, it gets 3 item workers: no replica beyond the
# work (doc/manager.md section 4), and the reduce replica apart.
mv "$E2E_STORE/a/item-1" "$T/item-1"
three '.max_attempts = 1 | .replicas = {min: 5, max: 5, initial: 5}'
eq "the job fails: one item dead-lettered" failed "$(e2e_finish 120)"
# Counted by "worker started" lines, at least 2 and at most 3: the job
# fails as soon as its third item is dead-lettered, and a third worker
# still starting under load is then stopped before it says it started.
# Beyond the work would be a fourth.
started=$(replica_log | grep -c 'worker started .*ready_ms=')
check "5 replicas asked of a 3-item job: 2 or 3 item workers started, no more ($started)" \
	test "$started" -ge 2 -a "$started" -le 3
check "the manager closed the map stage and took the waiting replica" \
	grep -q "reduce stage started job=$JOB key=out/result early=yes" "$MGR_LOG"
check "which reduced the two results there are" \
	grep -q "reduced 2 map outputs into out/result\." <<<"$(replica_log)"
mv "$T/item-1" "$E2E_STORE/a/item-1"
