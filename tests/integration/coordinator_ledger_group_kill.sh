#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of a real coffer-coordinator while 32 workers send item proofs
# one per request at once, so that groups of requests are pending in its
# group commit (doc/coordinator.md section 10.1, rules G1 to G6): every
# proof that was answered before the kill is answered the same way after
# the restart (same outcome, same log index: it was durable), the proofs
# that were not answered count once when sent again, and the log holds
# each proof once.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 8

N=1200
coord_setup
WORKER_MEAS=$(coffer attest measure "$T/app.so")
policy_draft ".owners[0].datasets[0].objects = [range($N) |
	{key: \"o\(.)\", digest: (\"sha256:\" + (\"\(.)\" | (\"0\" * (64 - length)) + .))}] |
	.apps[0].reduce = false" | jq -c . >"$T/draft.json"
H=$(new_policy "$T/draft.json") || bail "the policy"
approve "$H" a b c && upload "$H" a b c || bail "setting up the policy"
J=$(open_job "$H")
"$REL" release "$COORD_URL" "$J" --measure "$T/app.so" --save-session "$T/s.json" \
	>/dev/null || bail "release"
prove() { "$REL" prove "$COORD_URL" "$T/s.json" "$@"; }
# Each proof's answer by its seq: outcome and log index.
answers() { jq -r '"\(.seq) \(.outcome) \(.log_index)"' "$1" | LC_ALL=C sort -k1,1; }

prove --keep "$T/sent" --no-send $(seq 0 $((N - 1))) || bail "making the proofs"
# The proofs of items 0 to N-1 from 32 connections, one per request,
# the coordinator killed once some answers came back.
prove --resend "$T/sent" --binary --clients 32 >"$T/before" 2>/dev/null &
pb=$!
for _ in $(seq 3000); do
	[ "$(wc -l <"$T/before")" -ge 30 ] && break
	kill -0 "$pb" 2>/dev/null || break
	sleep 0.01
done
stop_coordinator KILL
wait "$pb"
start_coordinator_again || bail "the coordinator did not start again"
got=$(wc -l <"$T/before")
diag "killed after $got of $N answers"
check "some proofs were answered before the kill" test "$got" -gt 0

prove --resend "$T/sent" --binary --clients 32 >"$T/after" ||
	bail "sending the proofs again"
eq "sent again, every proof is answered" "$N" "$(wc -l <"$T/after")"
answers "$T/before" >"$T/b"
answers "$T/after" >"$T/a"
LC_ALL=C join "$T/b" "$T/a" >"$T/ba"
eq "every proof answered before the kill is answered the same way (C1, same log index)" \
	"$got 0" "$(awk '$2 != $4 || $3 != $5 {d++} END {print NR, d + 0}' "$T/ba")"
eq "each item committed once: $N committed" "$N committed" \
	"$(jq -r .outcome "$T/after" | sort | uniq -c | awk '{print $1, $2}')"
eq "no two proofs share a log index" "$N" "$(jq -r .log_index "$T/after" | sort -u | wc -l)"
metric() { curl -s "$COORD_URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
eq "after the restart each of the $N requests was answered by a group's commit" "$N" \
	"$(metric coffer_coordinator_proof_commit_requests_total)"
diag "$(metric coffer_coordinator_proof_commits_total) commits for them"

coffer audit verify --entries >"$T/entries" 2>/dev/null
eq "the log verifies and holds each proof once" "$N" \
	"$(grep -c "\"event\":\"proof\",\"job\":\"$J\"" "$T/entries")"
out=$(curl -s -X POST -d '{"reason":"done"}' "$COORD_URL/v1/jobs/$J/close")
eq "the receipt: $N OK, no duplicates" "$N 0" \
	"$(jq -r '.receipt.statement.stages[0] | "\(.ok) \(.duplicates)"' <<<"$out")"
