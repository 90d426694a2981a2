#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Who may write the next version of a policy (doc/format/policy.md section
# 9.1): a version inherits its predecessor's uploaded keys, its app secrets
# and its place in the chain, so it must keep every owner of the
# predecessor. A stranger who names an approved policy as `previous`, or
# two owners who drop the third, make a version that is never approved:
# it supersedes nothing, opens no job and receives no key. A version that
# keeps every owner (here: adds one) still carries keys and the app secret
# over.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 15

coord_setup
X=$(newcomer stranger)
P=$(owners_policy)
JP=$(open_job "$P")
out=$(release "$JP")
eq "the owners' policy releases its keys" released "$(jq -r .outcome <<<"$out")"
SECRET=$(jq -r .app_secret_sha256 <<<"$out")


# A stranger's "next version": every dataset (with the owners' key ids)
# under the stranger, who alone approves it.
jq --arg p "$P" --arg x "$X" \
	'.previous = $p | .name = "mine" | .owners = [{id: $x, datasets: [.owners[].datasets[]]}]' \
	"$T/p.json" >"$T/s.json"
S=$(new_policy "$T/s.json")
grep -qE '^[0-9a-f]{64}$' <<<"$S" || bail "the stranger's version was not stored: $S"
approve "$S" x || bail "the stranger approving its own version"
eq "a stranger's version of the owners' policy is not active" false "$(policy_active "$S")"
eq "it opens no job" policy.unapproved "$(open_job "$S")"
eq "and the owners' policy is not superseded" true "$(policy_active "$P")"
eq "whose jobs still get their keys" released "$(release "$JP" | jq -r .outcome)"

# Two owners drop the third and give its dataset to a party of theirs.
jq --arg p "$P" --arg x "$X" '.previous = $p | .owners[2].id = $x' \
	"$T/p.json" >"$T/d.json"
D=$(new_policy "$T/d.json")
approve "$D" a b x || bail "approving D"
eq "a version dropping an owner is not active, even approved by all it lists" \
	false "$(policy_active "$D")"
eq "it stays pending" pending \
	"$(curl -s "$COORD_URL/v1/policies/$D/status" | jq -r .status.state)"
eq "it opens no job" policy.unapproved "$(open_job "$D")"
eq "and the owners' policy is still active" true "$(policy_active "$P")"

# A flood of versions the stranger alone approves: the coordinator finds
# the versions that can supersede P from its owners' approvals
# (doc/coordinator.md 6), so these are never walked, and P stays active.
for i in $(seq 1 20); do
	jq --arg p "$P" --arg x "$X" --arg n "mine-$i" \
		'.previous = $p | .name = $n | .owners += [{id: $x, datasets: []}]' \
		"$T/p.json" >"$T/f.json"
	F=$(new_policy "$T/f.json") && approve "$F" x || bail "flood version $i"
done
eq "after 20 versions only the stranger approved, the owners' policy is active" \
	true "$(policy_active "$P")"

# Keeping every owner (adding one) is a new version like any other.
jq --arg p "$P" --arg x "$X" '.previous = $p | .owners += [{id: $x, datasets: []}]' \
	"$T/p.json" >"$T/a.json"
A=$(new_policy "$T/a.json")
approve "$A" a b c x || bail "approving A"
eq "a version that keeps every owner is active once all approve" true "$(policy_active "$A")"
eq "and supersedes the old one" false "$(policy_active "$P")"
eq "which names it, not a version of the flood" "$A" \
	"$(curl -s "$COORD_URL/v1/policies/$P/status" | jq -r .status.superseded_by)"
out=$(release "$(open_job "$A")")
eq "its jobs get the keys uploaded under the old version" released \
	"$(jq -r .outcome <<<"$out")"
eq "and the same app secret" "$SECRET" "$(jq -r .app_secret_sha256 <<<"$out")"
