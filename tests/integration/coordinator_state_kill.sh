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
# and the approvals acknowledged after line $1 of the log (each asked, in
# one curl: one process and one connection for them all, not two
# processes per approval).
missing() {
	local n urls
	curl -s "$COORD_URL/v1/policies" | jq -r '.policies[].policy' >"$T/have"
	n=$(awk '$1 == "P" { print $2 }' "$T/acked" | grep -cvxFf "$T/have")
	mapfile -t urls < <(awk -v from="$1" -v u="$COORD_URL" \
		'NR > from && $1 == "A" { print u "/v1/policies/" $2 "/status" }' "$T/acked")
	if [ ${#urls[@]} -gt 0 ]; then
		# One answer per URL; an approval counted in the status is there.
		n=$((n + ${#urls[@]} - $(curl -s "${urls[@]}" |
			jq -r 'select((.status.approved_by | length) >= 1) | .policy' | wc -l)))
	fi
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
