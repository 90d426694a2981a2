#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A coordinator started from an older copy of its state
# (doc/format/audit-log.md section 6; doc/format/policy.md section 10.3):
# the next owner command presents the head it kept, fails with exit 10,
# and the coordinator logs a rollback event and releases no key until every
# owner has approved again, naming a head after the rollback. An owner
# whose kept head is older sees nothing wrong. Revocations still count.
# Each owner keeps its own heads (its own pin file), as on its own machine.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 19

coord_setup
for o in a b c; do cp "$T/pins.json" "$T/pins-$o.json"; done
as() { local o=$1; shift; COFFER_PIN_FILE=$T/pins-$o.json coffer "$@"; }
policy_draft >"$T/draft.json"
H=$(new_policy "$T/draft.json")
for o in a b c; do
	as $o policy approve "$H" --id "$T/$o.id" --yes >/dev/null 2>&1 || bail "approve $o"
	as $o key upload "$T/$o.key" --policy "$H" --id "$T/$o.id" >/dev/null 2>&1 || bail "upload $o"
done
J=$(open_job "$H")
eq "released before the copy" released "$(release "$J" | jq -r .outcome)"

# The copy, then more work that owner a sees (and keeps the head of).
stop_coordinator
cp -a "$COORD_DIR" "$T/old-state"
start_coordinator_again || bail "restart"
policy_draft '.name = "later"' >"$T/later.json"
H2=$(new_policy "$T/later.json")
check "owner a approves a later policy" as a policy approve "$H2" --id "$T/a.id" --yes
as a audit verify >/dev/null 2>&1
kept_a=$(jq -r '.heads[].head.statement.size' "$T/pins-a.heads.json")

# The older copy put back.
stop_coordinator
rm -rf "$COORD_DIR"
mv "$T/old-state" "$COORD_DIR"
start_coordinator_again || bail "start from the old copy"
size=$(curl -s "$COORD_URL/v1/log/head" | jq .statement.size)
check "the old copy has a shorter log than owner a kept" test "$size" -lt "$kept_a"
eq "until an owner presents its head, the old state releases (the window, audit-log.md 7)" \
	released "$(release "$J" | jq -r .outcome)"

out=$(as a policy status "$H" 2>&1)
eq "owner a's next command fails with the rollback exit code 10" 10 $?
check "naming the rollback" grep -q "rollback: the coordinator at" <<<"$out"
eq "the coordinator logged the rollback event" rollback \
	"$(curl -s "$COORD_URL/v1/log/entries?start=$size&count=256" |
		jq -r '.entries[]' | while read -r e; do printf '%s' "$e" | tr _- /+ |
		base64 -d 2>/dev/null | jq -r .event; echo; done | grep -m1 rollback)"
eq "key release is refused: coordinator.rolled_back" coordinator.rolled_back \
	"$(refusal "$J")"
eq "the policy's status says so" coordinator.rolled_back \
	"$(curl -s "$COORD_URL/v1/policies/$H/status" | jq -r .status.reason)"
as a policy approve "$H" --id "$T/a.id" --yes >/dev/null 2>&1
rc=$?
# 10 while the log is shorter than a's head, 11 once it grew past it with
# another history (the rollback and refusal events): both say it.
check "owner a cannot approve before accepting the coordinator's history (10 or 11: $rc)" \
	test "$rc" -eq 10 -o "$rc" -eq 11

# Owner b's kept head is older than the copy: nothing wrong for it, and
# its approval now names a head after the rollback.
check "owner b's commands work" as b policy status "$H"
check "owner b approves again" as b policy approve "$H" --id "$T/b.id" --yes
eq "b's approval alone is not enough" coordinator.rolled_back "$(refusal "$J")"

# Owner a accepts the current history, then approves again; c too.
check "owner a accepts the coordinator's current log" as a audit accept
check "then its commands work" as a policy status "$H"
check "owner a approves again" as a policy approve "$H" --id "$T/a.id" --yes
eq "with c's approval still from before the rollback: refused" \
	coordinator.rolled_back "$(refusal "$J")"
check "owner c approves again" as c policy approve "$H" --id "$T/c.id" --yes
eq "every owner approved after the rollback: released again" released \
	"$(release "$J" | jq -r .outcome)"
out=$(as a audit verify --entries 2>/dev/null)
eq "the log replays, the rollback event in it" 1 "$(grep -c '"event":"rollback"' <<<"$out")"
