#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of a worker after its item proofs and before its acks (issue 13,
# doc/worker.md 9.4): a faultproxy between the workers and the coordinator
# holds the answer to the first proof request, a batch of several items'
# proofs, so the coordinator has committed those items and the worker
# never learns it; the worker's process group is then killed.
#  1. The batch holds every item of the job: the coordinator closes the
#     job with it; the next worker is told the job is over and exits, and
#     the manager ends the job with the coordinator's outcome instead of
#     waiting for a queue that will never drain (doc/manager.md 9.4).
#  2. The batch holds some of the items: their leases expire and the items
#     run again (their proofs: duplicates) or the job closes first; either
#     way it completes and every owner's receipt says each item is OK once.
#     Then what the proxy recorded is replayed: a worker's key-release
#     request (evidence and nonce) is refused, and the held batch is
#     answered as it was recorded, changing nothing.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 16

# The proofs in a recorded request (184 bytes each, item-proof.md 8.1).
nproofs() {
	echo $(( $(/usr/bin/python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(len(d) - d.index(b"\r\n\r\n") - 4)' "$1") / 184 ))
}

start_redis
e2e_coordinator
COFFER_BATCH=16 e2e_manager
e2e_owners 1

# 1. Three quick items, one worker: its first batch is the whole job.
mkdir -p "$T/rec1"
start_proxy http "$COORD_PORT" --hold-proofs 1 --record "$T/rec1"
e2e_policy checksum '.name = "quick"'
e2e_submit ".replicas = {min: 1, max: 1, initial: 1} | .lease_ms = 1000 |
	.tee.coordinator = \"http://127.0.0.1:$PROXY_PORT\""
wait_until 60 grep -q '^hold proofs' "$PROXY_LOG" || bail "no proof held"
eq "the held request is a batch of every item" 3 "$(nproofs "$(ls "$T"/rec1/*-proofs.req | head -n 1)")"
e2e_kill_worker
eq "the job completes although its queue never drains" completed "$(e2e_finish 120)"
check "said so: every item has its result at the coordinator" \
	grep -q "every item has its result at the coordinator" <<<"$(api GET "/v1/jobs/$JOB" | jq -r .reason)"
eq "each item OK once" "0 OK OK OK" \
	"$(e2e_verify a; echo "$VRC") $(for o in a b c; do e2e_verify "$o";
	   jq -r '.items[].map.status' "$T/v-$o.json"; done | tr '\n' ' ' | sed 's/ $//')"

# 2. Eighteen items of 0.3 s, one worker with a 1 s lease and batches of
# 16 (COFFER_BATCH in the manager's environment, which its workers get;
# the default, 64, would hold them all): its first batch is 16 of them
# (doc/worker.md 9.4), the rest waits.
for o in a b c; do
	for i in 2 3 4 5 6; do
		printf 'row %s of hospital %s\n' "$i" "$o" |
			coffer seal -q --key "$T/$o.key" - "$E2E_STORE/$o/item-$i" || bail "sealing"
	done
done
mkdir -p "$T/rec"
start_proxy http "$COORD_PORT" --hold-proofs 1 --record "$T/rec"
c0=$(e2e_proofs committed)
E2E_APP=fault
e2e_policy fault '.apps[0].params = {"sleep_ms": ["300"]}'
e2e_submit ".replicas = {min: 1, max: 1, initial: 1} | .lease_ms = 1000 |
	.app_params = {sleep_ms: \"300\"} |
	.tee.coordinator = \"http://127.0.0.1:$PROXY_PORT\""
check "the answer to the first proof request is held back" \
	wait_until 60 grep -q '^hold proofs' "$PROXY_LOG"
PRF=$(ls "$T"/rec/*-proofs.req | head -n 1)
NB=$(nproofs "$PRF")
committed() { [ "$(( $(e2e_proofs committed) - c0 ))" = "$NB" ]; }
wait_until 10 committed
eq "the held request is a batch of 16 proofs" 16 "$NB"
eq "the coordinator committed those proofs" "$NB" "$(( $(e2e_proofs committed) - c0 ))"
eq "the worker has not acknowledged its items" "done=0 in_flight=$NB" \
	"$("$QCTL" stats "$REDIS_URL" "$JOB" | grep -o 'done=[0-9]* failed=[0-9]* in_flight=[0-9]*' |
		sed 's/ failed=[0-9]*//')"
# Replays of what a worker sent, recorded by the proxy.
replay() { # FILE [TYPE]: POST its body to its path at the coordinator; prints the answer
	local path
	path=$(head -n 1 "$1" | cut -d' ' -f2)
	/usr/bin/python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(d[d.index(b"\r\n\r\n") + 4:])' \
		"$1" >"$T/body"
	curl -s -X POST -H "Content-Type: ${2:-application/json}" --data-binary @"$T/body" "$COORD_URL$path"
}
REL=$(ls "$T"/rec/*-release.req | head -n 1)
eq "the worker's key-release request replayed: refused, its nonce is used up" \
	nonce.replayed "$(replay "$REL" | jq -r .error.code)"
e2e_kill_worker
eq "the job completes" completed "$(e2e_finish 150)"
for o in a b c; do e2e_verify "$o"; done
eq "every owner's receipt is valid, each item OK once" "0 0 0 $(printf 'OK %.0s' $(seq 18) | sed 's/ $//')" \
	"$(for o in a b c; do e2e_verify "$o"; printf '%s ' "$VRC"; done
	   jq -r '.items[].map.status' "$T"/v-{a,b,c}.json | tr '\n' ' ' | sed 's/ $//')"
eq "the map stage: 18 OK, none abandoned" "18 0" \
	"$(e2e_stage a map ok) $(e2e_stage a map abandoned)"
eq "no execution disagreed (the same output, sealed the same way)" 0 \
	"$(e2e_stage a map disagreements)"
eq "one receipt per job" 2 \
	"$(curl -s "$COORD_URL/metrics" | awk '/^coffer_coordinator_receipts_total/ {print $2}')"

size() { curl -s "$COORD_URL/v1/log/head" | jq -r '[.. | objects | .size? // empty][0]'; }
before=$(size)
[ -n "$before" ] || bail "no log head"
# What the answers say (item-proof.md section 8: 80 bytes each, the
# outcome at byte 5, the log index at bytes 8 to 16; read without the
# session key): "answered as recorded" is each proof committed, with the
# index of the entry that logged it, not merely NB answers of 80 bytes
# (a refusal, job.closed, has the same length).
acks() { # reads the answers' bytes; prints "N committed-and-logged"
	/usr/bin/python3 -c 'import sys; d = sys.stdin.buffer.read()
a = [d[i:i + 80] for i in range(0, len(d), 80)]
print(len(a), sum(1 for x in a if len(x) == 80 and x[5] == 1 and x[8:16] != b"\xff" * 8))'
}
eq "the held batch replayed after the close: answered as recorded (each committed, logged), nothing logged again" \
	"$((NB * 80)) $NB $NB $before" \
	"$(replay "$PRF" application/octet-stream >"$T/ans"; wc -c <"$T/ans") $(acks <"$T/ans") $(size)"
eq "a JSON batch of the same proofs: answered the same way" "$NB $NB" \
	"$(/usr/bin/python3 -c 'import sys,base64,json; b=open(sys.argv[1],"rb").read(); print(json.dumps({"proofs":[base64.urlsafe_b64encode(b[i:i+184]).decode().rstrip("=") for i in range(0,len(b),184)]}))' "$T/body" |
		curl -s -X POST -H 'Content-Type: application/json' --data-binary @- "$COORD_URL$(head -n 1 "$PRF" | cut -d' ' -f2)" |
		jq -r '.acks[] | . + ("=" * ((4 - length % 4) % 4))' | tr '_-' '/+' |
		while read -r a; do base64 -d <<<"$a"; done | acks)"
