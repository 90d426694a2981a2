#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A hostile Redis (doc/threat-model.md): a confidential job whose workers
# take their items through tests/tools/faultproxy, a real process between
# them and redis-server that drops, duplicates and reorders item
# deliveries. The queue stays untrusted for integrity (doc/queue.md section
# 8); what proves that every input was processed exactly once is the
# coordinator's receipt: the job completes, every owner's receipt is
# valid, every item is OK once, and the duplicated execution is counted as
# a duplicate, not a second result.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 13

start_redis
start_proxy resp "$REDIS_PORT" --every 2
# The manager and its workers see the proxy as their Redis.
REDIS_DIRECT=$REDIS_URL
REDIS_URL=redis://127.0.0.1:$PROXY_PORT
e2e_coordinator
e2e_manager
e2e_owners 4
e2e_policy checksum
e2e_submit '.replicas = {min: 2, max: 2, initial: 2}'

eq "the job completes through the hostile Redis" completed "$(e2e_finish 150)"
check "an item delivery was dropped" grep -q '^drop ' "$PROXY_LOG"
check "an item was delivered twice" grep -q '^dup-delivered ' "$PROXY_LOG"
check "an item delivery was held back while later ones went" \
	grep -q '^reorder ' "$PROXY_LOG"
diag "faults: $(cut -d' ' -f1 "$PROXY_LOG" | sort | uniq -c | tr -s ' \n' ' ')"
eq "the queue says every item is done once" \
	"total=12 done=12 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_DIRECT" "$JOB")"
for o in a b c; do
	e2e_verify "$o"
	eq "hospital $o: its receipt is valid" "0 valid" "$VRC $(jq -r .verdict "$T/v-$o.json")"
done
eq "hospital a: its four items, each OK once" "OK OK OK OK" \
	"$(jq -r '[.items[].map.status] | join(" ")' "$T/v-a.json")"
eq "the map stage: 12 OK, none failed or abandoned" "12 0 0" \
	"$(e2e_stage a map ok) $(e2e_stage a map failed) $(e2e_stage a map abandoned)"
check "the duplicated execution is counted as a duplicate" \
	test "$(e2e_stage a map duplicates)" -ge 1
eq "and no execution disagreed" 0 "$(e2e_stage a map disagreements)"
eq "the coordinator closed the job once" 1 \
	"$(curl -s "$COORD_URL/metrics" | awk '/^coffer_coordinator_receipts_total/ {print $2}')"
