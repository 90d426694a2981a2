#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A revocation in the middle of a running confidential job, through the
# real manager, workers, coordinator and Redis (issue 13, doc/format/
# item-proof.md rules IP16 and IP17): the workers' next item proof is
# refused with the reason, the job fails at the manager naming it, the
# coordinator's receipt records it once, and each owner's `coffer receipt
# verify` says incomplete (exit 12) with the reason and which of its items
# are OK and which ABANDONED. First an owner revokes its approval, then
# (another policy) an owner revokes the workers' measurement.
# (The coordinator's side alone, with relworker: coordinator_ledger_revoke.sh.)
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 14

done_items() { "$QCTL" stats "$REDIS_URL" "$JOB" | sed -n 's/.*done=\([0-9]*\).*/\1/p'; }
progressed() { [ "$(done_items)" -ge 1 ] 2>/dev/null; }
# Each owner's items, OK and ABANDONED, and the verdicts' exit codes.
statuses() {
	for o in a b c; do e2e_verify "$o"; printf '%s ' "$VRC"; done
	jq -r '.items[].map.status' "$T"/v-{a,b,c}.json | sort | uniq -c |
		awk '{printf "%s=%s ", $2, $1}' | sed 's/ $//'
}

start_redis
e2e_coordinator
COFFER_BATCH=1 e2e_manager
e2e_owners 3
E2E_APP=fault

# 1. Owner b revokes its approval while the job runs: one worker, items
# of 0.4 s, so that most of the nine are still to come; batches of one
# item (COFFER_BATCH in the manager's environment, which its workers get),
# so that a proof goes to the coordinator after each item.
e2e_policy fault '.apps[0].params = {"sleep_ms": ["400"]}'
e2e_submit '.replicas = {min: 1, max: 1, initial: 1} | .app_params = {sleep_ms: "400"}'
check "the job makes progress" wait_until 60 progressed
check "owner b revokes its approval mid-job" coffer policy revoke "$H" --id "$T/b.id"
eq "the job fails" failed "$(e2e_finish 90)"
REASON=$(api GET "/v1/jobs/$JOB" | jq -r .reason)
diag "$REASON"
check "the manager names the refusal: policy.revoked" grep -q "policy\.revoked" <<<"$REASON"
curl -s "$COORD_URL/v1/jobs/$CJOB/receipt" >"$T/r1.json"
eq "the coordinator's receipt: failed, with the reason" "failed policy.revoked" \
	"$(jq -r '.statement | .outcome + " " + .reason' "$T/r1.json")"
ok1=$(jq -r '.statement.stages[0].ok' "$T/r1.json")
check "some items OK before the revocation, the rest ABANDONED, none FAILED ($ok1 OK)" \
	test "$ok1" -ge 1 -a "$ok1" -lt 9 -a \
	"$(jq -r '.statement.stages[0] | .ok + .abandoned' "$T/r1.json")" = 9 -a \
	"$(jq -r '.statement.stages[0].failed' "$T/r1.json")" = 0
S=$(statuses)
diag "verdicts and items: $S"
eq "every owner: authentic but incomplete (exit 12); the items as the receipt counts them" \
	"12 12 12 ABANDONED=$((9 - ok1)) OK=$ok1" "$S"
eq "each owner's report names the job's failure" "policy.revoked policy.revoked policy.revoked" \
	"$(jq -r '.reason' "$T"/v-{a,b,c}.json | tr '\n' ' ' | sed 's/ $//')"
eq "the audit log holds the refused proof, once (the job closed with it)" 1 \
	"$(coffer audit verify --entries 2>/dev/null | grep "\"event\":\"proof\",\"job\":\"$CJOB\"" |
		grep -c '"outcome":"refused"')"

# 2. Owner c revokes the workers' measurement under another policy.
e2e_policy fault '.name = "study-2" | .apps[0].params = {"sleep_ms": ["400"]}'
e2e_submit '.replicas = {min: 1, max: 1, initial: 1} | .app_params = {sleep_ms: "400"}'
check "the second job makes progress" wait_until 60 progressed
check "owner c revokes the workers' measurement mid-job" \
	coffer policy revoke "$H" --id "$T/c.id" --measurement "sim:$WORKER_MEAS"
eq "the job fails" failed "$(e2e_finish 90)"
REASON=$(api GET "/v1/jobs/$JOB" | jq -r .reason)
diag "$REASON"
check "naming measurement.revoked" grep -q "measurement\.revoked" <<<"$REASON"
curl -s "$COORD_URL/v1/jobs/$CJOB/receipt" >"$T/r2.json"
ok2=$(jq -r '.statement.stages[0].ok' "$T/r2.json")
S=$(statuses)
diag "verdicts and items: $S"
eq "the receipt and every owner's report: failed, measurement.revoked, exit 12" \
	"failed measurement.revoked 12 12 12 ABANDONED=$((9 - ok2)) OK=$ok2" \
	"$(jq -r '.statement | .outcome + " " + .reason' "$T/r2.json") $S"
