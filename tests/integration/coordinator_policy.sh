#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Policies and approvals at a real coffer-coordinator (doc/format/policy.md):
# three owners, one policy, approved only by all three; forged, duplicated,
# foreign, stale and revoked signatures refused by name; a changed byte is a
# new policy no approval carries over to; a k-of-n version accepted only
# for the fields its predecessor lists; a fork refused.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 54

coord_setup
policy_draft >"$T/draft.json"
H=$(coffer policy new "$T/draft.json" --out "$T/policy.json" 2>"$T/new.err")
check "coffer policy new prints the policy hash" grep -qE '^[0-9a-f]{64}$' <<<"$H"
check "and says the policy is INSECURE (a sim measurement)" grep -q INSECURE "$T/new.err"
eq "the coordinator serves the policy's canonical text, which hashes to it" \
	"$H" "$(curl -s "$COORD_URL/v1/policies/$H" | { printf 'coffer/policy/v1\0'; cat; } | sha256sum | cut -c1-64)"
eq "the coordinator knows it, pending" pending \
	"$(curl -s "$COORD_URL/v1/policies/$H/status" | jq -r .status.state)"
out=$(coffer policy show "$H" 2>/dev/null)
check "coffer policy show prints INSECURE first" \
	bash -c 'head -n 1 <<<"$1" | grep -q "^\*\*\* INSECURE"' _ "$out"
check "it shows the app, its measurement and parameters" \
	bash -c 'grep -q "stats" <<<"$1" && grep -q "'"$WORKER_MEAS"'" <<<"$1" && grep -q "alpha = \"0.05\" | \"0.01\"" <<<"$1"' _ "$out"
check "it shows the update rule" grep -q "every change needs every owner" <<<"$out"

policy_draft '.verification.allow_debug = 1' >"$T/badver.json"
out=$(coffer policy new "$T/badver.json" --no-submit 2>&1)
eq "a verification object with a wrong type is refused (exit 5)" 5 $?
check "naming the member" grep -q "verification.allow_debug" <<<"$out"
policy_draft '.apps[0].measurments = .apps[0].measurements | del(.apps[0].measurements)' >"$T/typo.json"
out=$(coffer policy new "$T/typo.json" --no-submit 2>&1)
eq "a misspelt member is refused (exit 5)" 5 $?
check "naming it and the member meant, not the one it leaves missing" \
	grep -q "apps\[0\].measurments: unknown member (did you mean 'measurements'?)" <<<"$out"
policy_draft '.verification.sim_platform_keys = []' >"$T/nosim.json"
coffer policy new "$T/nosim.json" --no-submit --out "$T/nosim.policy" >/dev/null 2>&1
out=$(coffer policy show "$T/nosim.policy" 2>/dev/null)
check "a policy that names no sim key still says INSECURE for its sim measurement" \
	grep -q "INSECURE" <<<"$out"

# Approving shows what is signed and needs a confirmation.
out=$(coffer policy approve "$H" --id "$T/a.id" </dev/null 2>&1)
eq "approve without --yes and without a terminal exits 2" 2 $?
check "after showing the policy" grep -q "You are about to approve" <<<"$out"
eq "nothing was counted" 0 \
	"$(curl -s "$COORD_URL/v1/policies/$H/status" | jq '.status.approved_by | length')"
eq "a job of an unapproved policy is refused" policy.unapproved "$(open_job "$H")"

check "owner a approves" approve "$H" a
st=$(curl -s "$COORD_URL/v1/policies/$H/status" | jq -c .status)
eq "one approval counted, still pending" "pending 1 2" \
	"$(jq -r '"\(.state) \(.approved_by | length) \(.missing | length)"' <<<"$st")"
out=$(coffer policy approve "$H" --id "$T/a.id" --yes 2>&1)
check "the same owner again: already counted" grep -q "already counted" <<<"$out"

# Statements made by an independent signer (Python), some broken.
post_approval() {
	curl -s -X POST "$COORD_URL/v1/policies/$1/approvals" --data-binary @- |
		jq -r '.error.code // (if .counted then "counted" else "repeat" end)'
}
env_a=$("$SIGN" approval "$T/a.id" "$H")
eq "a duplicated approval counts once" repeat "$(post_approval "$H" <<<"$env_a")"
eq "again" repeat "$(post_approval "$H" <<<"$env_a")"
eq "a forged signature is refused" signature.invalid \
	"$("$SIGN" approval "$T/b.id" "$H" --flip-signature | post_approval "$H")"
fp_b=$(coffer id check "$(coffer id show "$T/b.id")" | awk '/fingerprint/ {print $2}')
eq "a signature by another key in b's name is refused" signature.invalid \
	"$("$SIGN" approval "$T/an.id" "$H" --signer "$fp_b" | post_approval "$H")"
eq "a signature by someone the policy does not name is refused" signer.unknown \
	"$("$SIGN" approval "$T/an.id" "$H" | post_approval "$H")"
other=$(printf '%064d' 7)
eq "a signature over another policy hash is refused" statement.other_policy \
	"$("$SIGN" approval "$T/b.id" "$other" | post_approval "$H")"
eq "garbage is refused as malformed" request.malformed \
	"$(printf '{"signature":"00","statement":{}}' | post_approval "$H")"
eq "after all that, still one approval" 1 \
	"$(curl -s "$COORD_URL/v1/policies/$H/status" | jq '.status.approved_by | length')"

check "owner b approves" approve "$H" b
eq "two of three: still refused" policy.unapproved "$(open_job "$H")"
check "owner c approves" approve "$H" c
st=$(curl -s "$COORD_URL/v1/policies/$H/status" | jq -c .status)
eq "three of three: approved and active" "approved true" \
	"$(jq -r '"\(.state) \(.active)"' <<<"$st")"
job=$(open_job "$H")
check "a job opens now" grep -qE '^[0-9a-f]{32}$' <<<"$job"
eq "a parameter value the policy does not allow is refused" job.bad_params \
	"$(open_job "$H" 0.5)"
curl -s -X POST "$COORD_URL/v1/jobs" -d "{\"type\":\"coffer-job\",\"version\":1,
	\"policy\":\"$H\",\"app\":\"x\\nforged log line\",\"params\":{}}" >"$T/inj.json"
eq "an app name with a newline is refused and quoted without it" "request.malformed false" \
	"$(jq -r '"\(.error.code) \(.error.message | test("\n"))"' "$T/inj.json")"
check "and no log line starts with what it sent" bash -c '! grep -q "^forged log line" "$1"' _ "$COORD_LOG"

# One byte changed: another hash, no approval carried over.
jq -c . "$T/policy.json" >/dev/null || bail "policy.json"
sed 's/"name":"study"/"name":"studz"/' "$T/policy.json" >"$T/changed.json"
H2=$(new_policy "$T/changed.json")
check "a policy with one byte changed has another hash" \
	bash -c '[ -n "$1" ] && [ "$1" != "$2" ]' _ "$H2" "$H"
eq "and none of the approvals" "pending 0" \
	"$(curl -s "$COORD_URL/v1/policies/$H2/status" | jq -r '"\(.status.state) \(.status.approved_by | length)"')"

# A revoked identity cannot approve again.
check "c revokes its approval of the changed policy" \
	coffer policy revoke "$H2" --id "$T/c.id"
out=$(coffer policy approve "$H2" --id "$T/c.id" --yes 2>&1)
eq "c's approval after its revocation is refused (exit 7)" 7 $?
check "by name" grep -q "signer.revoked" <<<"$out"
eq "the changed policy is revoked" revoked \
	"$(curl -s "$COORD_URL/v1/policies/$H2/status" | jq -r .status.state)"

# k of n: a first version lets 2 of 3 owners change expires and apps.
policy_draft '.update = {k: 2, fields: ["expires", "apps"]} | .name = "kofn"' >"$T/k.json"
P=$(new_policy "$T/k.json")
approve "$P" a b c || bail "approving P"
coffer policy show "$P" >"$T/k.show" 2>/dev/null
check "show states the k-of-n rule" grep -q "2 of 3 owners may approve" "$T/k.show"
jq --arg p "$P" '.previous = $p | .expires += 1000' "$T/k.json" >"$T/v1.json"
V1=$(new_policy "$T/v1.json")
check "a version changing only expires: a approves" approve "$V1" a
eq "one of k=2: pending, one more needed" "pending 1" \
	"$(curl -s "$COORD_URL/v1/policies/$V1/status" | jq -r '"\(.status.state) \(.status.needed)"')"
check "b approves" approve "$V1" b
eq "two distinct owners of three: approved by k of n" approved-k-of-n \
	"$(curl -s "$COORD_URL/v1/policies/$V1/status" | jq -r .status.state)"
eq "its predecessor is superseded" "false $V1" \
	"$(curl -s "$COORD_URL/v1/policies/$P/status" | jq -r '"\(.status.active) \(.status.superseded_by)"')"
jq --arg p "$V1" '.previous = $p | .recipients += [.owners[0].id]' "$T/v1.json" >"$T/v2.json"
V2=$(new_policy "$T/v2.json")
approve "$V2" a b || bail "approving V2"
st=$(curl -s "$COORD_URL/v1/policies/$V2/status" | jq -c .status)
eq "a version changing recipients (not listed) is not approved by 2 of 3" \
	"pending recipients" "$(jq -r '"\(.state) \(.field_not_listed)"' <<<"$st")"
check "all three owners can still approve it" approve "$V2" c
eq "then it is approved" approved \
	"$(curl -s "$COORD_URL/v1/policies/$V2/status" | jq -r .status.state)"
jq --arg p "$P" '.previous = $p | .expires += 2000' "$T/k.json" >"$T/fork.json"
F=$(new_policy "$T/fork.json")
out=$(coffer policy approve "$F" --id "$T/a.id" --yes 2>&1)
eq "a second successor of an approved version is refused (exit 7)" 7 $?
check "as a fork" grep -q "policy.fork" <<<"$out"
jq --arg p "$V2" '.previous = $p | .expires += 3000' "$T/v2.json" >"$T/v3.json"
V3=$(new_policy "$T/v3.json")
approve "$V3" a && approve "$V3" a
eq "the same signer twice is one of k" "pending 1" \
	"$(curl -s "$COORD_URL/v1/policies/$V3/status" | jq -r '"\(.status.state) \(.status.needed)"')"

out=$(coffer policy status 2>/dev/null)
eq "coffer policy status lists every policy" 7 "$(wc -l <<<"$out")"
