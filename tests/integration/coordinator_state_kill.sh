#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 the coordinator at random moments while owners propose and
# approve policies, then restart it: every policy and approval it
# acknowledged is there, and the sealed state opens every time.
# doc/format/sealed-state.md section 7. Real processes throughout.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

ROUNDS=8
plan $((ROUNDS * 2 + 3))

coord_setup
: >"$T/acked"
policy_draft >"$T/base.json"

# Propose policy i and have owner a approve it; log what was acknowledged.
writer() {
	local i=$1 h
	while :; do
		sed "s/\"study\"/\"study-$i\"/" "$T/base.json" >"$T/w.json" || return
		h=$(coffer policy new "$T/w.json" 2>/dev/null) &&
			[[ $h =~ ^[0-9a-f]{64}$ ]] && echo "P $h" >>"$T/acked" || { i=$((i + 1)); continue; }
		coffer policy approve "$h" --id "$T/a.id" --yes >/dev/null 2>&1 &&
			echo "A $h" >>"$T/acked"
		i=$((i + 1))
	done
}

# How many acknowledged writes are missing: every policy (one listing),
# and the approvals acknowledged after line $1 of the log (each asked).
missing() {
	local what h n=0 line=0
	curl -s "$COORD_URL/v1/policies" | jq -r '.policies[].policy' >"$T/have"
	while read -r what h; do
		line=$((line + 1))
		if [ "$what" = P ]; then
			grep -qx "$h" "$T/have" || n=$((n + 1))
		elif [ "$line" -gt "$1" ]; then
			[ "$(curl -s "$COORD_URL/v1/policies/$h/status" |
				jq '.status.approved_by | length')" -ge 1 ] || n=$((n + 1))
		fi
	done <"$T/acked"
	echo "$n"
}

checked=0
seed=$RANDOM
echo "# kill loop seed $seed"
RANDOM=$seed
for round in $(seq 1 $ROUNDS); do
	writer $((round * 1000)) &
	wpid=$!
	sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
	kill -9 "$COORD_PID"
	wait "$COORD_PID" 2>/dev/null
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	start_coordinator_again
	eq "round $round: the coordinator restarts after kill -9" 0 $?
	eq "round $round: every acknowledged policy and approval is there" 0 \
		"$(missing "$checked")"
	checked=$(wc -l <"$T/acked")
done
n=$(grep -c '^P' "$T/acked")
echo "# $n policies and $(grep -c '^A' "$T/acked") approvals acknowledged"
check "the writers got policies acknowledged" test "$n" -gt 0
eq "after every kill, every approval is still there" 0 "$(missing 0)"
stop_coordinator
eq "and stops cleanly" 0 "$COORD_RC"
