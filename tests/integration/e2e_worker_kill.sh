#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of a worker after its item proof and before its ack (issue 13,
# doc/worker.md 9.4): a faultproxy between the workers and the coordinator
# holds the answer to the first proof request, so the coordinator has
# committed the item and the worker never learns it; the worker's process
# group is then killed. The item's lease expires, a new worker runs it
# again and proves it: the coordinator counts that as a duplicate (the
# output is sealed deterministically, so it is the same), the job
# completes, and every owner's receipt says each item is OK once. Then
# what the proxy recorded is replayed: a worker's key-release request
# (evidence and nonce) is refused, and an item proof is answered as it
# was recorded, changing nothing.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 15

start_redis
e2e_coordinator
mkdir -p "$T/rec"
start_proxy http "$COORD_PORT" --hold-proofs 1 --record "$T/rec"
E2E_COORD_URL=http://127.0.0.1:$PROXY_PORT e2e_manager
e2e_owners 2
# Items of 0.8 s and a 1 s lease: the killed worker's item comes back (to
# the head of the queue) while the other items still run, so it runs
# again before the job closes.
E2E_APP=fault
e2e_policy fault '.apps[0].params = {"sleep_ms": ["800"]}'
e2e_submit '.replicas = {min: 1, max: 1, initial: 1} | .lease_ms = 1000 |
	.app_params = {sleep_ms: "800"}'

proofs() {
	curl -s "$COORD_URL/metrics" | awk -v o="$1" \
		'$1 == "coffer_coordinator_item_proofs_total{outcome=\"" o "\"}" {print $2 + 0}'
}
check "the answer to the first proof is held back" \
	wait_until 60 grep -q '^hold proofs' "$PROXY_LOG"
one_committed() { [ "$(proofs committed)" = 1 ]; }
wait_until 10 one_committed
eq "the coordinator committed that proof" 1 "$(proofs committed)"
eq "the worker has not acknowledged its item" "done=0 in_flight=1" \
	"$("$QCTL" stats "$REDIS_URL" "$JOB" | grep -o 'done=[0-9]* failed=[0-9]* in_flight=[0-9]*' |
		sed 's/ failed=[0-9]*//')"
# Replays of what a worker sent, recorded by the proxy.
replay() { # FILE: POST its body to its path at the coordinator; prints the answer
	local path
	path=$(head -n 1 "$1" | cut -d' ' -f2)
	/usr/bin/python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(d[d.index(b"\r\n\r\n") + 4:])' \
		"$1" >"$T/body"
	curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$T/body" "$COORD_URL$path"
}
REL=$(ls "$T"/rec/*-release.req | head -n 1)
eq "the worker's key-release request replayed: refused, its nonce is used up" \
	nonce.replayed "$(replay "$REL" | jq -r .error.code)"
WPID=$(pgrep -f "coffer-worker.*--job $JOB" | head -1)
[ -n "$WPID" ] || bail "no worker process"
kill -9 -- "-$(ps -o pgid= -p "$WPID" | tr -d ' ')"
diag "killed the worker's process group (pid $WPID) with SIGKILL"

eq "the job completes" completed "$(e2e_finish 150)"
eq "the queue: every item done" "total=6 done=6 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" "$JOB")"
for o in a b c; do e2e_verify "$o"; done
eq "every owner's receipt is valid, each item OK once" "0 0 0 OK OK OK OK OK OK" \
	"$(for o in a b c; do e2e_verify "$o"; printf '%s ' "$VRC"; done
	   jq -r '.items[].map.status' "$T"/v-{a,b,c}.json | tr '\n' ' ' | sed 's/ $//')"
eq "the map stage: 6 OK, none abandoned" "6 0" \
	"$(e2e_stage a map ok) $(e2e_stage a map abandoned)"
check "the second execution of the killed worker's item is a duplicate" \
	test "$(e2e_stage a map duplicates)" -ge 1
eq "and did not disagree (the same output, sealed the same way)" 0 \
	"$(e2e_stage a map disagreements)"
eq "one receipt" 1 \
	"$(curl -s "$COORD_URL/metrics" | awk '/^coffer_coordinator_receipts_total/ {print $2}')"

size() { curl -s "$COORD_URL/v1/log/head" | jq -r '[.. | objects | .size? // empty][0]'; }
before=$(size)
[ -n "$before" ] || bail "no log head"
PRF=$(ls "$T"/rec/*-proofs.req | head -n 1)
eq "the held proof replayed after the close: answered, nothing logged" "1 $before" \
	"$(replay "$PRF" | jq '.acks | length') $(size)"

# The same kill when the other items are quick: the job closes at the
# coordinator with the proof of its last item before the killed worker's
# item comes back; the worker that takes it is told the job is over and
# exits, and the manager ends the job with the coordinator's outcome
# instead of waiting for a queue that will never drain (doc/manager.md 9.4).
start_proxy http "$COORD_PORT" --hold-proofs 1
E2E_APP=checksum
e2e_policy checksum '.name = "quick"'
e2e_submit ".replicas = {min: 1, max: 1, initial: 1} | .lease_ms = 1000 |
	.tee.coordinator = \"http://127.0.0.1:$PROXY_PORT\""
wait_until 60 grep -q '^hold proofs' "$PROXY_LOG" || bail "no proof held"
WPID=$(pgrep -f "coffer-worker.*--job $JOB" | head -1)
[ -n "$WPID" ] || bail "no worker process"
kill -9 -- "-$(ps -o pgid= -p "$WPID" | tr -d ' ')"
eq "the job completes although its queue never drains" completed "$(e2e_finish 120)"
check "said so: every item has its result at the coordinator" \
	grep -q "every item has its result at the coordinator" <<<"$(api GET "/v1/jobs/$JOB" | jq -r .reason)"
eq "each item OK once" "0 OK OK" \
	"$(e2e_verify a; echo "$VRC") $(jq -r '[.items[].map.status] | join(" ")' "$T/v-a.json")"
