#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Findings of the security review of the coordinator (doc/review-2026-12.md)
# whose fix is in src/coordinator, each a test at the real process that
# failed before that fix:
#   1. a key carries over to a later version only if that version lists
#      the key id under the owner who uploaded it (key-release.md section
#      4; find_keys in api_release.c looked at the chain only);
#   2. a fork is not an approved predecessor for S3 (policy.md 9.1, 10.2;
#      book.c approval_state counted it);
#   3. a malformed key upload is request.malformed (UP1) before its
#      policy is looked up (UP2; api_keys.c looked the policy up first);
#   4. a revocation of a version does not bring its superseded predecessor
#      back, nor make a fork of it active (policy.md 8: a revocation only
#      takes rights away; book.c counted only versions approved now).
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 11

coord_setup
X=$(newcomer newcomer)

# 1. Owner a's dataset moved to a newcomer in the next version.
P=$(owners_policy)
jq --arg p "$P" --arg x "$X" \
	'.previous = $p | .owners += [{id: $x, datasets: [.owners[0].datasets[0]]}] |
	 .owners[0].datasets = []' "$T/p.json" >"$T/m.json"
M=$(new_policy "$T/m.json")
approve "$M" a b c x || bail "approving M"
eq "the version is active (every owner approved it)" true "$(policy_active "$M")"
eq "a key uploaded by a is not released where the newcomer holds its dataset" \
	keys.missing "$(refusal "$(open_job "$M")")"

# 2. Two versions with one predecessor both reach k of n when the
# predecessor's last approval lands; the one stored second is a fork,
# and a version continuing the fork must not become active.
policy_draft '.update = {k: 2, fields: ["expires"]} | .name = "race"' >"$T/q.json"
Q=$(new_policy "$T/q.json")
approve "$Q" a b || bail "approving Q (2 of 3)"
jq --arg q "$Q" '.previous = $q | .expires += 100' "$T/q.json" >"$T/q1a.json"
jq --arg q "$Q" '.previous = $q | .expires += 200' "$T/q.json" >"$T/q1b.json"
Q1A=$(new_policy "$T/q1a.json")
Q1B=$(new_policy "$T/q1b.json")
approve "$Q1A" a c && approve "$Q1B" a c || bail "approving the siblings"
approve "$Q" c || bail "the last approval of Q"
eq "the sibling stored second is a fork" policy.fork \
	"$(curl -s "$COORD_URL/v1/policies/$Q1B/status" | jq -r .status.reason)"
jq --arg q "$Q1B" '.previous = $q | .expires += 300' "$T/q1b.json" >"$T/q2.json"
Q2=$(new_policy "$T/q2.json")
approve "$Q2" a c 2>/dev/null
eq "a k-of-n version continuing the fork is not active" false "$(policy_active "$Q2")"
coffer policy revoke "$Q1A" --id "$T/b.id" >/dev/null 2>&1 || bail "b revokes Q1A"
eq "a revocation of the winner does not make the fork active" "false policy.fork" \
	"$(curl -s "$COORD_URL/v1/policies/$Q1B/status" | jq -r '"\(.status.active) \(.status.reason)"')"
eq "nor the version continuing it" false "$(policy_active "$Q2")"

# 3. UP1 before UP2.
eq "a malformed upload for an unknown policy is request.malformed" \
	request.malformed "$(curl -s -X POST "$COORD_URL/v1/keys" \
	-d "{\"signature\":\"00\",\"statement\":{\"policy\":\"$(printf '%064d' 5)\"}}" |
	jq -r .error.code)"

# 4. The owners replace their policy (say, to drop a recipient); one owner
# alone then revokes the new version: the old one stays superseded.
policy_draft '.name = "replaced"' >"$T/r.json"
R=$(new_policy "$T/r.json")
approve "$R" a b c || bail "approving R"
jq --arg r "$R" '.previous = $r | .expires += 100' "$T/r.json" >"$T/r1.json"
R1=$(new_policy "$T/r1.json")
approve "$R1" a b c || bail "approving R1"
coffer policy revoke "$R1" --id "$T/a.id" >/dev/null 2>&1 || bail "a revokes R1"
eq "the revoked version is not active" false "$(policy_active "$R1")"
eq "its predecessor stays superseded" "false policy.superseded" \
	"$(curl -s "$COORD_URL/v1/policies/$R/status" | jq -r '"\(.status.active) \(.status.reason)"')"
jq --arg r "$R" '.previous = $r | .expires += 200' "$T/r.json" >"$T/r2.json"
R2=$(new_policy "$T/r2.json")
out=$(coffer policy approve "$R2" --id "$T/a.id" --yes 2>&1)
check "another version of R would be a fork: its approval is refused" \
	grep -q policy.fork <<<"$out"
jq --arg r "$R1" '.previous = $r | .expires += 300' "$T/r.json" >"$T/r3.json"
R3=$(new_policy "$T/r3.json")
approve "$R3" a b c || bail "approving R3"
eq "a version of the revoked one, approved by every owner, is active" true \
	"$(policy_active "$R3")"
