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

plan 16

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
