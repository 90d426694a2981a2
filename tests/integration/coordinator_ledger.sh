#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Item proofs, the job's close and its receipt at a real coffer-coordinator
# (doc/format/item-proof.md, doc/format/receipt.md), with
# tests/tools/relworker acting as the attested worker: forged, replayed
# and misdirected proofs refused; a duplicate execution with another
# output flagged in the receipt; `coffer receipt verify` valid for each
# owner, and refusing a tampered receipt, a tampered proof and a receipt
# from another coordinator with their exit codes; a job closed by request
# with ABANDONED items, incomplete (exit 12); results opened by the
# recipient the policy names and by nobody else.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 87

coord_setup
# One FAILED item is tolerated: an owner whose items are all OK gets a
# valid receipt (RV11).
policy_draft '.tolerance = {fail_after: 1, max_failed: 1, max_abandoned: 0}' >"$T/draft.json"
H=$(new_policy "$T/draft.json")
approve "$H" a b c || bail "approving the policy"
upload "$H" a b c || bail "uploading the keys"
J=$(open_job "$H")
grep -qE '^[0-9a-f]{32}$' <<<"$J" || bail "no job: $J"
out=$(release "$J" --save-session "$T/s.json")
eq "keys released to the worker" released "$(jq -r .outcome <<<"$out")"
mkdir -p "$T/store"
prove() { "$REL" prove "$COORD_URL" "$@"; }
outcome() { jq -r '.outcome + (if .reason != "" then " " + .reason else "" end)'; }

# A proof, its replay and a forgery (rules C1, IP8).
out=$(prove "$T/s.json" --store "$T/store" --keep "$T/sent" 0)
eq "a map proof is committed" committed "$(outcome <<<"$out")"
idx0=$(jq .log_index <<<"$out")
out=$(prove "$T/s.json" --resend "$T/sent")
eq "the same bytes again: answered as recorded (C1)" "committed $idx0" \
	"$(jq -r '.outcome + " " + (.log_index|tostring)' <<<"$out")"
out=$(prove "$T/s.json" --store "$T/store" --forge-mac 1)
eq "relworker says refused with 7" 7 $?
eq "a forged MAC is refused (IP8)" "refused proof.bad_mac" "$(outcome <<<"$out")"
eq "and not logged" -1 "$(jq .log_index <<<"$out")"
# Another proof under the sequence number of the first (IP10).
out=$(prove "$T/s.json" --store "$T/store" --seq 0 1)
eq "another proof with a used seq is refused (IP10)" "refused proof.seq_reused" \
	"$(outcome <<<"$out")"
out=$(prove "$T/s.json" --store "$T/store" --other-job 1)
eq "a proof naming another job is refused (IP9)" "refused proof.job_mismatch" \
	"$(outcome <<<"$out")"
out=$(prove "$T/s.json" --store "$T/store" --wrong-input 1)
eq "a proof of another input is refused (IP14)" "refused input.mismatch" \
	"$(outcome <<<"$out")"
check "and logged" test "$(jq .log_index <<<"$out")" -ge 0
out=$(prove "$T/s.json" --reduce-input "$(printf '%064d' 0)" reduce)
eq "no reduce proof before the map stage closes (IP12)" "refused stage.closed" \
	"$(outcome <<<"$out")"
eq "the map results are not served yet (409)" "stage.open" \
	"$(curl -s "$COORD_URL/v1/jobs/$J/stages/map/leaves" | jq -r .error.code)"
# Waiting for the map stage to close (item-proof.md 7.2, LW1 to LW5).
leaves_code() { curl -s -o /dev/null -w '%{http_code}' "$COORD_URL/v1/jobs/$1/stages/map/leaves?wait=$2"; }
waiting() { curl -s "$COORD_URL/metrics" | awk '$1 == "coffer_coordinator_leaves_waiting" {print $2}'; }
held_one() { [ "$(waiting)" = 1 ]; }
eq "wait=0, 31 and 05 are refused (LW1)" "400 400 400" \
	"$(leaves_code "$J" 0) $(leaves_code "$J" 31) $(leaves_code "$J" 05)"
eq "wait=1 on an open stage: stage.open once the wait is over (LW4)" stage.open \
	"$(curl -s "$COORD_URL/v1/jobs/$J/stages/map/leaves?wait=1" | jq -r .error.code)"
eq "wait on an unknown job: answered at once, 404 (LW2)" 404 "$(leaves_code "$(printf '%032d' 0)" 30)"
# Waiting for the job to close (key-release.md section 5, JW1 to JW5).
jobs_waiting() { curl -s "$COORD_URL/metrics" | awk '$1 == "coffer_coordinator_jobs_waiting" {print $2}'; }
held_job() { [ "$(jobs_waiting)" = 1 ]; }
job_code() { curl -s -o /dev/null -w '%{http_code}' "$COORD_URL/v1/jobs/$1?wait=$2"; }
eq "job: wait=0, 31 and 05 are refused (JW1)" "400 400 400" \
	"$(job_code "$J" 0) $(job_code "$J" 31) $(job_code "$J" 05)"
eq "job: wait=1 on an open job: closed false once the wait is over (JW4)" false \
	"$(curl -s "$COORD_URL/v1/jobs/$J?wait=1" | jq .closed)"
eq "job: wait on an unknown job: answered at once, 404 (JW2)" 404 "$(job_code "$(printf '%032d' 0)" 30)"
# Proofs of this session sent to another job's route (B3).
J2=$(open_job "$H")
sed "s/\"job\":\"$J\"/\"job\":\"$J2\"/" "$T/s.json" >"$T/s2.json"
out=$(prove "$T/s2.json" --store "$T/store" 1)
eq "a session of another job: the request is refused" session.unknown \
	"$(jq -r .code <<<"$out")"
eq "garbage in place of proofs: request.malformed" 400 \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"proofs":["AAAA"]}' \
	"$COORD_URL/v1/jobs/$J/proofs")"

eq "a binary body that is not whole proofs: request.malformed (BB1)" 400 \
	"$(head -c 183 /dev/zero | curl -s -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: application/octet-stream' --data-binary @- \
	"$COORD_URL/v1/jobs/$J/proofs")"

# A duplicate execution: the same output (duplicate: outputs are sealed
# deterministically) and another one (disagreement); batched, two proofs
# in one binary request (item-proof.md section 8.1).
out=$(prove "$T/s.json" --store "$T/store" --binary --batch 2 1 0)
eq "one binary request, two answers" "committed duplicate" \
	"$(jq -r .outcome <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
first1=$(jq -r 'select(.item == 1) | .output_digest' <<<"$out")
out=$(prove "$T/s.json" --store "$T/store" --variant other 1)
eq "the same item with another output is flagged" disagreement \
	"$(outcome <<<"$out")"
other1=$(jq -r .output_digest <<<"$out")
# A reader waiting for the close, held until the proof that closes it.
curl -s "$COORD_URL/v1/jobs/$J/stages/map/leaves?wait=30" >"$T/held.json" &
held=$!
check "the request is held while the stage is open" wait_until 10 held_one
out=$(prove "$T/s.json" --store "$T/store" 2:failed=7)
eq "the app's attested error: the item is FAILED" committed "$(outcome <<<"$out")"
wait "$held"
eq "the held request gets the map results at the close (LW3)" 3 "$(jq .count "$T/held.json")"
eq "and is held no more" 0 "$(waiting)"
eq "the map stage closed: 3 results" 3 \
	"$(curl -s "$COORD_URL/v1/jobs/$J/stages/map/leaves" | jq .count)"
out=$(prove "$T/s.json" --store "$T/store" 0)
eq "a map proof after the map stage closed is refused (IP12)" \
	"refused stage.closed" "$(outcome <<<"$out")"
curl -s "$COORD_URL/v1/jobs/$J?wait=30" >"$T/heldjob.json" &
heldjob=$!
check "a request of the job is held while it is open (JW3)" wait_until 10 held_job
out=$(prove "$T/s.json" --store "$T/store" reduce)
eq "the reduce proof over the map results is committed" committed \
	"$(outcome <<<"$out")"
wait "$heldjob"
eq "the held job request is answered at the proof that closed it (JW3)" "true $J" \
	"$(jq -r '"\(.closed) \(.job)"' "$T/heldjob.json")"
eq "a closed job: answered at once with wait (JW2)" true \
	"$(curl -s --max-time 5 "$COORD_URL/v1/jobs/$J?wait=30" | jq .closed)"
out=$(prove "$T/s.json" --store "$T/store" reduce)
eq "after the last stage the job is closed (IP11)" "refused job.closed" \
	"$(outcome <<<"$out")"
eq "that refusal is not logged (the receipt's head is final)" -1 \
	"$(jq .log_index <<<"$out")"
out=$(prove "$T/s.json" --store "$T/store" --seq 0 1)
eq "a used seq after the close: refused, not logged either" "refused proof.seq_reused -1" \
	"$(jq -r '.outcome + " " + .reason + " " + (.log_index|tostring)' <<<"$out")"
out=$(prove "$T/s.json" --resend "$T/sent")
eq "a replay after the close is still answered as recorded" "committed $idx0" \
	"$(jq -r '.outcome + " " + (.log_index|tostring)' <<<"$out")"
curl -s "$COORD_URL/v1/jobs/$J/receipt" >"$T/receipt1"
eq "the receipt: the disagreement counted" "2 1 1" \
	"$(jq -r '.statement.stages[0] | "\(.duplicates) \(.disagreements) \(.failed)"' "$T/receipt1")"
eq "one measurement ran it, with its session" "1 4" \
	"$(jq -r '.statement.measurements[0] | "\(.sessions) \(.items)"' "$T/receipt1")"
out=$(curl -s -X POST -d '{"reason":"done"}' "$COORD_URL/v1/jobs/$J/close")
eq "closing again signs nothing new" false "$(jq .closed_now <<<"$out")"
check "and answers the same receipt" cmp -s <(jq -cS .receipt <<<"$out") \
	<(jq -cS . "$T/receipt1")

# Each owner verifies offline (rules RV1 to RV11).
vfy() { coffer receipt verify "$@" --trust-sim-key "$COORD_SIM_KEY" >"$T/v.out" 2>&1; }
check "owner a fetches its bundle" coffer receipt fetch "$J" --id "$T/a.id" \
	--out "$T/a.bundle"
vfy "$T/a.bundle" --id "$T/a.id" --json
eq "a: the receipt is valid" 0 $?
eq "a: item 0 OK, FAILED ones are not a's" "a.sealed OK" \
	"$(jq -r '.items[] | .key + " " + .map.status' "$T/v.out")"
check "a: the disagreement is a warning" grep -q "another result than the committed" "$T/v.out"
check "c fetches its bundle" coffer receipt fetch "$J" --id "$T/c.id" --out "$T/c.bundle"
vfy "$T/c.bundle" --id "$T/c.id"
eq "c: its item FAILED makes the receipt incomplete (exit 12)" 12 $?
check "c: the report names the item and the app's error" grep -q "FAILED.*c.sealed.*app error 7" "$T/v.out"
vfy "$T/a.bundle" --id "$T/b.id"
eq "a's bundle verified as b: malformed (exit 5)" 5 $?
# The first committed proof wins (C5): b's item keeps the output of the
# execution committed first, not the one that disagreed with it.
coffer receipt fetch "$J" --id "$T/b.id" --out "$T/b.bundle" >/dev/null 2>&1
vfy "$T/b.bundle" --id "$T/b.id" --json
eq "b: the receipt is valid" 0 $?
eq "b: its item keeps the first committed output, not the disagreeing one (C5)" \
	"b.sealed OK $first1 true" "$(jq -r --arg o "$other1" '.items[] | .key + " " +
		.map.status + " " + .map.output_digest + " " + (.map.output_digest != $o | tostring)' "$T/v.out")"
# Tampering: a count in the signed receipt, a hash of a path.
jq -c '.receipt.statement.stages[0].disagreements += 1' "$T/a.bundle" >"$T/t1.bundle"
cp "$T/a.bundle.policy" "$T/t1.bundle.policy"
vfy "$T/t1.bundle" --id "$T/a.id"
eq "a count changed in the signed receipt: tampered (exit 4)" 4 $?
check "at RV3" grep -q "at RV3" "$T/v.out"
jq -c '.results[0].leaves[0].path[0] |= ("00" + .[2:])' "$T/a.bundle" >"$T/t2.bundle"
cp "$T/a.bundle.policy" "$T/t2.bundle.policy"
vfy "$T/t2.bundle" --id "$T/a.id"
eq "a proof's hash changed: tampered (exit 4)" 4 $?
check "at RV9" grep -q "at RV9" "$T/v.out"
jq -c '.results[0].leaves[0].entry |= (.[0:40] + (if .[40:41] == "A" then "B" else "A" end) + .[41:])' \
	"$T/a.bundle" >"$T/t3.bundle"
cp "$T/a.bundle.policy" "$T/t3.bundle.policy"
vfy "$T/t3.bundle" --id "$T/a.id"
rc=$?
check "a leaf's content changed: refused (4 or 7)" test "$rc" -eq 4 -o "$rc" -eq 7

# A receipt from another coordinator: an owner pinned to coordinator 2.
C2=$T/coord2
P2=$(random_port) || bail "no port"
coffer-coordinator serve --data "$C2" --backend sim --listen "127.0.0.1:$P2" \
	>"$T/coord2.log" 2>&1 &
track $!
wait_until 10 curl -sf "http://127.0.0.1:$P2/healthz" || bail "coordinator 2"
coffer coordinator verify "http://127.0.0.1:$P2" --expect "$COORD_MEASUREMENT" \
	--trust-sim-key "$COORD_SIM_KEY" --pin-file "$T/pins2.json" >/dev/null 2>&1 ||
	bail "pinning coordinator 2"
vfy "$T/a.bundle" --id "$T/a.id" --pin-file "$T/pins2.json"
eq "a receipt from another coordinator than the pinned one: rejected (7)" 7 $?
check "at RV2" grep -q "at RV2" "$T/v.out"

# Results: the recipient (the analyst) opens them; nobody else can.
out=$(coffer results fetch "$J" --id "$T/an.id" --store "$T/store" --out "$T/res" 2>&1)
eq "the recipient fetches the outputs, checked against the receipt" 0 $?
check "the key is saved 0600" test "$(stat -c %a "$T/res/result.key")" = 600
check "the recipient opens them" coffer results open "$T/res"
eq "the reduce output" "output of result" "$(cat "$T/res/result")"
coffer results fetch "$J" --id "$T/a.id" --store "$T/store" --out "$T/res-a" >"$T/ra.out" 2>&1
eq "an owner who is not a recipient gets no key (exit 6)" 6 $?
check "recipient.unknown" grep -q "recipient.unknown" "$T/ra.out"
AN_FP=$(coffer id check "$(coffer id show "$T/an.id")" | awk '/^fingerprint/ {print $2}')
out=$("$REL" result-key "$COORD_URL" "$J" "$AN_FP" "$T/a.id")
eq "the analyst's wrapped key, taken by a, does not open for a" 4 $?
check "(RR3)" grep -q "does not unwrap" <<<"$out"
check "the analyst's own copy opens" "$REL" result-key "$COORD_URL" "$J" "$AN_FP" "$T/an.id"
coffer open --key "$T/a.key" "$T/res/result.sealed" "$T/x.out" >/dev/null 2>&1
eq "an owner's data key does not open an output (exit 3)" 3 $?
for f in "$T/store"/result.*; do printf 'X' >>"$f"; done
coffer results fetch "$J" --id "$T/an.id" --store "$T/store" --out "$T/res3" >"$T/r3.out" 2>&1
eq "an output changed in the store is refused (exit 4)" 4 $?

# A job closed by request: what was not committed is ABANDONED.
release "$J2" --save-session "$T/s2.json" >/dev/null
prove "$T/s2.json" --store "$T/store" 0 >/dev/null
out=$(curl -s -X POST -d '{"reason":"done","stage":"map"}' "$COORD_URL/v1/jobs/$J2/close")
eq "closing the map stage alone" "true 1 2" "$(jq -r '"\(.closed_now) \(.ok) \(.abandoned)"' <<<"$out")"
out=$(prove "$T/s2.json" --store "$T/store" reduce)
eq "the reduce stage runs over what the map stage has" committed "$(outcome <<<"$out")"
eq "2 ABANDONED, 0 tolerated: the job that closed by itself failed (receipt.md 3.3)" \
	"failed tolerance.abandoned" "$(curl -s "$COORD_URL/v1/jobs/$J2/receipt" |
	jq -r '.statement.outcome + " " + .statement.reason')"
out=$(curl -s -X POST -d '{"reason":"cancelled","stage":"map"}' "$COORD_URL/v1/jobs/$J2/close")
eq "a close request out of format (CL1)" request.malformed "$(jq -r .error.code <<<"$out")"
J3=$(open_job "$H")
curl -s "$COORD_URL/v1/jobs/$J3?wait=30" >"$T/heldjob3.json" &
heldjob=$!
check "another held job request" wait_until 10 held_job
out=$(coffer receipt close "$J3" --cancel --json 2>/dev/null)
wait "$heldjob"
eq "is answered at the close request (JW3)" true "$(jq .closed "$T/heldjob3.json")"
eq "coffer receipt close --cancel: the job failed" "failed job.cancelled" \
	"$(jq -r '.outcome + " " + .reason' <<<"$out")"
coffer receipt fetch "$J3" --id "$T/b.id" --out "$T/b3.bundle" >/dev/null 2>&1
vfy "$T/b3.bundle" --id "$T/b.id" --json
eq "its receipt is authentic but incomplete (exit 12)" 12 $?
eq "b's item ABANDONED, the reason named" "ABANDONED job.cancelled" \
	"$(jq -r '.items[0].map.status + " " + .reason' "$T/v.out")"

# A worker's refusal of its input (FAILED, error 0x80000007, with the
# digest it found): committed at once, and named in the receipt; one that
# names the pinned digest contradicts itself (IP14).
J4=$(open_job "$H")
release "$J4" --save-session "$T/s4.json" >/dev/null
out=$(prove "$T/s4.json" --store "$T/store" 1:failed=2147483655)
eq "a refusal naming the pinned digest is refused (IP14)" "refused input.mismatch" \
	"$(outcome <<<"$out")"
out=$(prove "$T/s4.json" --store "$T/store" --wrong-input 0:failed=2147483655)
eq "a refusal naming the digest found is committed at once" committed "$(outcome <<<"$out")"
coffer receipt close "$J4" --json >/dev/null 2>&1
coffer receipt fetch "$J4" --id "$T/a.id" --out "$T/a4.bundle" >/dev/null 2>&1
vfy "$T/a4.bundle" --id "$T/a.id" --json
eq "a's receipt: its item FAILED, the input refused" "FAILED input.mismatch" \
	"$(jq -r '.items[0].map | .status + " " + .reason' "$T/v.out")"

# Every proof with a valid MAC is in the audit log, and the receipt once.
coffer audit verify --entries >"$T/entries" 2>/dev/null
check "the log verifies (coffer audit verify)" test -s "$T/entries"
eq "one receipt event for the job" 1 "$(grep -c "\"event\":\"receipt\",\"job\":\"$J\"" "$T/entries")"
eq "its proofs: 11 logged, not the forged one, the replays or the late one" 11 \
	"$(grep -c "\"event\":\"proof\",\"job\":\"$J\"" "$T/entries")"
check "/metrics counts the proofs by outcome" grep -q \
	'^coffer_coordinator_item_proofs_total{outcome="disagreement"} 1$' \
	<(curl -s "$COORD_URL/metrics")

# Only the last 4 closed jobs stay in memory (doc/coordinator.md 10.2):
# after one more closes, J is read back from the state, the same.
J5=$(open_job "$H")
coffer receipt close "$J5" --cancel --json >/dev/null 2>&1
check "a closed job read back from the state: the same receipt" cmp -s \
	<(curl -s "$COORD_URL/v1/jobs/$J/receipt" | jq -cS .) <(jq -cS . "$T/receipt1")
coffer receipt fetch "$J" --id "$T/a.id" --out "$T/a5.bundle" >/dev/null 2>&1
vfy "$T/a5.bundle" --id "$T/a.id"
eq "and a's bundle of it verifies" 0 $?
