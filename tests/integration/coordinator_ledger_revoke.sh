#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A revocation in the middle of a confidential job at a real
# coffer-coordinator (doc/format/item-proof.md rules IP16 and IP17): the
# next item proof is refused with the reason, the job fails with it, its
# receipt says so, and the owners' `coffer receipt verify` reports it as
# incomplete (exit 12) naming the reason and which items are OK and which
# ABANDONED.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 20

coord_setup
mkdir -p "$T/store"
prove() { "$REL" prove "$COORD_URL" "$@"; }
outcome() { jq -r '.outcome + (if .reason != "" then " " + .reason else "" end)'; }
vfy() {
	coffer receipt verify "$@" --trust-sim-key "$COORD_SIM_KEY" --json >"$T/v.out" 2>/dev/null
}

# An owner revokes its approval.
policy_draft >"$T/draft.json"
H=$(new_policy "$T/draft.json")
approve "$H" a b c || bail "approving the policy"
upload "$H" a b c || bail "uploading the keys"
J=$(open_job "$H")
release "$J" --save-session "$T/s.json" >/dev/null
out=$(prove "$T/s.json" --store "$T/store" 0)
eq "before: a proof is committed" committed "$(outcome <<<"$out")"
check "owner b revokes its approval" coffer policy revoke "$H" --id "$T/b.id"
out=$(prove "$T/s.json" --store "$T/store" 1)
eq "the next proof is refused with the reason" "refused policy.revoked" \
	"$(outcome <<<"$out")"
out=$(prove "$T/s.json" --store "$T/store" 2)
eq "the job failed at once: the next one finds it closed" "refused job.closed" \
	"$(outcome <<<"$out")"
curl -s "$COORD_URL/v1/jobs/$J/receipt" >"$T/r"
eq "the receipt says failed, with the reason" "failed policy.revoked" \
	"$(jq -r '.statement | .outcome + " " + .reason' "$T/r")"
eq "1 OK, 2 ABANDONED; the reduce stage ABANDONED" "1 2 1" \
	"$(jq -r '.statement.stages | "\(.[0].ok) \(.[0].abandoned) \(.[1].abandoned)"' "$T/r")"
coffer receipt fetch "$J" --id "$T/a.id" --out "$T/a.bundle" >/dev/null 2>&1
vfy "$T/a.bundle" --id "$T/a.id"
eq "owner a: authentic but incomplete (exit 12)" 12 $?
eq "its item OK, the job failed with the reason" "OK failed policy.revoked" \
	"$(jq -r '.items[0].map.status + " " + .outcome + " " + .reason' "$T/v.out")"
coffer receipt fetch "$J" --id "$T/b.id" --out "$T/b.bundle" >/dev/null 2>&1
vfy "$T/b.bundle" --id "$T/b.id"
eq "owner b: its item ABANDONED" "ABANDONED" "$(jq -r '.items[0].map.status' "$T/v.out")"
eq "no key is released for the job any more" job.closed "$(refusal "$J")"

# A job that fails within the policy's tolerance (no reduce stage, the
# ABANDONED items tolerated): owner a, its item OK, must still be told
# "incomplete" because the job failed (RV11's first clause), not only
# when a count is beyond the tolerance or the reduce stage has no result.
policy_draft '.name = "study-3" | .apps[0].reduce = false |
	.tolerance = {fail_after: 1, max_failed: 0, max_abandoned: 2}' >"$T/draft3.json"
H3=$(new_policy "$T/draft3.json")
approve "$H3" a b c || bail "approving policy 3"
upload "$H3" a b c || bail "uploading the keys for policy 3"
J3=$(open_job "$H3")
release "$J3" --save-session "$T/s3.json" >/dev/null
prove "$T/s3.json" --store "$T/store" 0 >/dev/null
coffer policy revoke "$H3" --id "$T/b.id" >/dev/null 2>&1 || bail "revoking policy 3"
out=$(prove "$T/s3.json" --store "$T/store" 1)
eq "within its tolerance: the next proof refused, policy.revoked" "refused policy.revoked" \
	"$(outcome <<<"$out")"
eq "the receipt: failed, 1 OK and 2 ABANDONED (tolerated), one stage" "failed policy.revoked 1 2 1" \
	"$(curl -s "$COORD_URL/v1/jobs/$J3/receipt" |
		jq -r '.statement | "\(.outcome) \(.reason) \(.stages[0].ok) \(.stages[0].abandoned) \(.stages | length)"')"
coffer receipt fetch "$J3" --id "$T/a.id" --out "$T/a3.bundle" >/dev/null 2>&1
vfy "$T/a3.bundle" --id "$T/a.id"
eq "owner a, its item OK: incomplete (exit 12) because the job failed" "12 OK" \
	"$? $(jq -r '.items[0].map.status' "$T/v.out")"

# An owner revokes the worker's measurement (another policy).
policy_draft '.name = "study-2"' >"$T/draft2.json"
H2=$(new_policy "$T/draft2.json")
approve "$H2" a b c || bail "approving policy 2"
upload "$H2" a b c || bail "uploading the keys for policy 2"
J2=$(open_job "$H2")
release "$J2" --save-session "$T/s2.json" >/dev/null
out=$(prove "$T/s2.json" --store "$T/store" --batch 2 0 1)
eq "before: two proofs committed in one request" "committed committed" \
	"$(jq -r .outcome <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
check "owner c revokes the worker's measurement" \
	coffer policy revoke "$H2" --id "$T/c.id" --measurement "sim:$WORKER_MEAS"
out=$(prove "$T/s2.json" --store "$T/store" 2)
eq "the next proof is refused: measurement.revoked" "refused measurement.revoked" \
	"$(outcome <<<"$out")"
curl -s "$COORD_URL/v1/jobs/$J2/receipt" >"$T/r2"
eq "the receipt records it" "failed measurement.revoked" \
	"$(jq -r '.statement | .outcome + " " + .reason' "$T/r2")"
coffer receipt fetch "$J2" --id "$T/c.id" --out "$T/c.bundle" >/dev/null 2>&1
vfy "$T/c.bundle" --id "$T/c.id"
eq "owner c: incomplete (exit 12), its item ABANDONED" "12 ABANDONED" \
	"$? $(jq -r '.items[0].map.status' "$T/v.out")"
coffer audit verify --entries >"$T/entries" 2>/dev/null
check "the log holds the refused proof with its reason" \
	grep -q "\"event\":\"proof\",\"job\":\"$J2\",\"outcome\":\"refused\".*\"reason\":\"measurement.revoked\"" "$T/entries"
check "and the job's failure" \
	grep -q "\"event\":\"job-close\",\"job\":\"$J2\",\"outcome\":\"failed\",\"reason\":\"measurement.revoked\"" "$T/entries"
