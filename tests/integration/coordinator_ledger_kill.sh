#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of a real coffer-coordinator in the middle of a job, then a
# restart (doc/format/item-proof.md sections 6 to 8): every proof that was
# answered is answered the same way after the restart (the same outcome
# and log index), the job completes, and it is closed and its receipt
# signed exactly once; a batch killed in its transaction counts each of
# its proofs once when the worker sends it again.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 18

coord_setup
policy_draft >"$T/draft.json"
H=$(new_policy "$T/draft.json")
approve "$H" a b c || bail "approving the policy"
upload "$H" a b c || bail "uploading the keys"
J=$(open_job "$H")
release "$J" --save-session "$T/s.json" >/dev/null
mkdir -p "$T/store"
prove() { "$REL" prove "$COORD_URL" "$@"; }
answer() { jq -r '.outcome + " " + (.log_index|tostring)'; }
restart() {
	stop_coordinator KILL
	start_coordinator_again || bail "the coordinator did not start again"
}

out=$(prove "$T/s.json" --store "$T/store" --keep "$T/sent" 0)
first=$(answer <<<"$out")
eq "a map proof is committed" committed "${first% *}"
restart
eq "after kill -9 and a restart the coordinator serves" ok \
	"$(curl -s "$COORD_URL/healthz" | jq -r .status)"
out=$(prove "$T/s.json" --resend "$T/sent")
eq "the answered proof is answered the same way (C1, same log index)" "$first" \
	"$(answer <<<"$out")"
out=$(prove "$T/s.json" --store "$T/store" 1 2)
eq "the session survives: the rest of the map stage" "committed committed" \
	"$(jq -r .outcome <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
restart
out=$(prove "$T/s.json" --store "$T/store" reduce)
eq "after another restart the reduce stage runs and the job completes" committed \
	"$(jq -r .outcome <<<"$out")"
curl -s "$COORD_URL/v1/jobs/$J/receipt" >"$T/r1"
eq "the receipt is signed" completed "$(jq -r .statement.outcome "$T/r1")"
restart
curl -s "$COORD_URL/v1/jobs/$J/receipt" >"$T/r2"
check "after a restart the coordinator serves the same receipt, byte for byte" \
	cmp -s "$T/r1" "$T/r2"
out=$(curl -s -X POST -d '{"reason":"done"}' "$COORD_URL/v1/jobs/$J/close")
eq "closing it again changes nothing" false "$(jq .closed_now <<<"$out")"
eq "a key release for the closed job is refused" job.closed "$(refusal "$J")"

# A batch killed in flight: its commit holds all of its proofs or none.
J2=$(open_job "$H")
release "$J2" --save-session "$T/s2.json" >/dev/null
# 1024 executions of item 0 in one request, the coordinator killed
# around it (before, during or after its commit: the result must be the
# same).
prove "$T/s2.json" --keep "$T/batch" --no-send $(yes 0 | head -n 1024) ||
	bail "making the batch"
prove "$T/s2.json" --resend "$T/batch" --batch 1024 >/dev/null 2>&1 &
pb=$!
sleep 0.3
restart
wait $pb
out=$(prove "$T/s2.json" --resend "$T/batch" --batch 1024)
eq "sent again, every proof is answered" 1024 "$(jq -r .outcome <<<"$out" | grep -cv refused)"
eq "each counted once: 1 committed, the rest duplicates" "1 1023" \
	"$(jq -r .outcome <<<"$out" | sort | uniq -c | awk '{printf "%s ", $1}' | sed 's/ $//')"
out=$(curl -s -X POST -d '{"reason":"done"}' "$COORD_URL/v1/jobs/$J2/close")
eq "the receipt counts 1023 duplicates, none disagreeing" "1023 0" \
	"$(jq -r '.receipt.statement.stages[0] | "\(.duplicates) \(.disagreements)"' <<<"$out")"

# The log: one close and one receipt per job, every proof once.
coffer audit verify --entries >"$T/entries" 2>/dev/null
check "the log verifies from its first entry" test -s "$T/entries"
eq "one job-close for the first job" 1 "$(grep -c "\"event\":\"job-close\",\"job\":\"$J\"" "$T/entries")"
eq "one receipt for the first job" 1 "$(grep -c "\"event\":\"receipt\",\"job\":\"$J\"" "$T/entries")"
eq "1024 proofs of the killed batch in the log, not more" 1024 \
	"$(grep -c "\"event\":\"proof\",\"job\":\"$J2\"" "$T/entries")"
check "owner a fetches its bundle after the restarts" \
	coffer receipt fetch "$J" --id "$T/a.id" --out "$T/a.bundle"
coffer receipt verify "$T/a.bundle" --id "$T/a.id" --trust-sim-key "$COORD_SIM_KEY" \
	>"$T/v.out" 2>&1
eq "and verifies it: valid" 0 $?
