#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Inputs the cloud changed (issue 13), through the real manager, workers,
# coordinator and Redis: one sealed object tampered with, one replaced by
# the owner's older sealed version. Workers refuse both before decrypting
# (their digests are not the policy's), never retry them and prove them
# refused (FAILED, input.mismatch, with the digest found); the receipt
# says so, and the job fails naming the first. (The
# worker's side alone: worker_confidential_coordinator.sh.)
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 7

start_redis
e2e_coordinator
e2e_manager
e2e_owners 3
# Hospital b's older version of its first row, sealed before the one the
# policy pins.
printf 'row 1 of hospital b (old)\n' | coffer seal -q --key "$T/b.key" - "$T/b-item-1.old" ||
	bail "sealing"
e2e_policy checksum
# The cloud: a byte of a/item-1 flipped, b/item-1 rolled back.
flip "$E2E_STORE/a/item-1" 200
cp "$T/b-item-1.old" "$E2E_STORE/b/item-1"
e2e_submit

eq "the job fails" failed "$(e2e_finish 120)"
REASON=$(api GET "/v1/jobs/$JOB" | jq -r .reason)
diag "$REASON"
check "naming the tampered item, refused on its first attempt" \
	grep -q "2 of 9 items failed; the first, a/item-1, after 1 attempt: .*not the sha256:.* the policy pins: tampered with, rolled back" <<<"$REASON"
check "and the job closed at the coordinator, with the owners' command" \
	grep -q "the coordinator closed job $CJOB: .*(its owners: coffer receipt fetch $CJOB)" <<<"$REASON"
eq "the queue: 7 done, 2 dead-lettered" "total=9 done=7 failed=2 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" "$JOB")"
for o in a b c; do e2e_verify "$o"; done
eq "a's receipt: authentic, incomplete (exit 12); its tampered item FAILED, input refused" \
	"12 FAILED:input.mismatch OK OK" \
	"$VRC_a $(jq -r '[.items[].map | .status + (if .reason then ":" + .reason else "" end)] | join(" ")' "$T/v-a.json")"
eq "b's: its rolled-back item the same" "FAILED:input.mismatch OK OK" \
	"$(jq -r '[.items[].map | .status + (if .reason then ":" + .reason else "" end)] | join(" ")' "$T/v-b.json")"
eq "the map stage: 7 OK, 2 FAILED, none ABANDONED" "7 2 0" \
	"$(e2e_stage c map ok) $(e2e_stage c map failed) $(e2e_stage c map abandoned)"
