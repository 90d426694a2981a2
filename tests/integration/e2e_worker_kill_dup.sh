#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of a worker after its item proof and before its ack, and the
# item run again while the map stage is still open (issue 13: "receipt
# still exactly once"): the second execution's proof must be counted as a
# duplicate, never as a second result. In e2e_worker_kill.sh the run again
# may come after the job has closed; here it cannot: one input is missing
# from the store until the duplicate has been answered, so the stage is
# open when it arrives. A coordinator that counted it as a result would
# close the stage one item early and leave the missing one ABANDONED.
# A faultproxy between the workers and the coordinator holds the answer
# to the first proof request (doc/worker.md 9.4; batches of one item).
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 10


start_redis
e2e_coordinator
# Batches of one item (COFFER_BATCH in the manager's environment, which
# its workers get): the held request is one item's proof.
COFFER_BATCH=1 e2e_manager
e2e_owners 2
mkdir -p "$T/rec"
start_proxy http "$COORD_PORT" --hold-proofs 1 --record "$T/rec"
E2E_APP=fault
e2e_policy fault '.apps[0].params = {"sleep_ms": ["200"]}'
# The cloud has not stored b/item-2 yet: its item fails (no proof) and is
# retried, and the map stage cannot close without it.
mv "$E2E_STORE/b/item-2" "$T/b-item-2"
c0=$(e2e_proofs committed) d0=$(e2e_proofs duplicate)
e2e_submit ".replicas = {min: 1, max: 1, initial: 1} | .lease_ms = 1000 |
	.max_attempts = 100 | .app_params = {sleep_ms: \"200\"} |
	.tee.coordinator = \"http://127.0.0.1:$PROXY_PORT\""
check "the answer to the first proof request is held back" \
	wait_until 60 grep -q '^hold proofs' "$PROXY_LOG"
committed_one() { [ "$(( $(e2e_proofs committed) - c0 ))" = 1 ]; }
check "the coordinator committed that proof" wait_until 10 committed_one
eq "the worker has not acknowledged the item" "done=0 in_flight=1" \
	"$("$QCTL" stats "$REDIS_URL" "$JOB" | grep -o 'done=[0-9]* failed=[0-9]* in_flight=[0-9]*' |
		sed 's/ failed=[0-9]*//')"
e2e_kill_worker
# The item's lease expires; the next worker runs it again and proves it.
duplicated() { [ "$(( $(e2e_proofs duplicate) - d0 ))" -ge 1 ]; }
check "its second execution is proved: answered as a duplicate" wait_until 90 duplicated
# Every other item but the missing one has its result by now or soon; the
# stage must still be open (b/item-2 has none).
others_done() { "$QCTL" stats "$REDIS_URL" "$JOB" | grep -q 'done=5 '; }
check "the five other items are done" wait_until 60 others_done
eq "the job is still open at the coordinator (the missing item has no result)" job.open \
	"$(curl -s "$COORD_URL/v1/jobs/$CJOB/receipt" | jq -r .error.code)"
mv "$T/b-item-2" "$E2E_STORE/b/item-2"
eq "the job completes once the input is stored" completed "$(e2e_finish 120)"
eq "every owner's receipt is valid, each item OK once" "0 0 0 OK OK OK OK OK OK" \
	"$(for o in a b c; do e2e_verify "$o"; printf '%s ' "$VRC"; done
	   jq -r '.items[].map.status' "$T"/v-{a,b,c}.json | tr '\n' ' ' | sed 's/ $//')"
eq "the map stage: 6 OK, none abandoned, none disagreeing" "6 0 0" \
	"$(e2e_stage a map ok) $(e2e_stage a map abandoned) $(e2e_stage a map disagreements)"
eq "the receipt counts the duplicates the coordinator answered" \
	"$(( $(e2e_proofs duplicate) - d0 ))" "$(e2e_stage a map duplicates)"
