#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A forked log (doc/format/audit-log.md section 6.1, rules H3, H4, H6):
# two coordinators started from one copy of a state (the same identity, at
# two addresses) each do different work; an owner who verified one's log
# runs `coffer audit verify` against the other and is told "fork" with
# exit 11 and both signed heads. A kept head that was edited, and a
# coordinator that shows a shorter log, are caught too.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 14

coord_setup
policy_draft >"$T/draft.json"
H=$(new_policy "$T/draft.json")
approve "$H" a b || bail "approving"
stop_coordinator
cp -a "$COORD_DIR" "$T/coord2"

# Coordinator 1: one more policy, seen by the owner.
start_coordinator_again || bail "restart"
URL1=$COORD_URL
policy_draft '.name = "one"' >"$T/one.json"
new_policy "$T/one.json" >/dev/null || bail "policy one"
check "the owner verifies coordinator 1's log" coffer audit verify --entries
size1=$(jq -r '.heads[].head.statement.size' "$T/pins.heads.json")

# Coordinator 2, from the same copy, at another address: other work.
# A port race (another process took the port first) is retried on another
# port; any other failure shows the coordinator's own log.
for try in 1 2 3; do
	P2=$(random_port) || bail "no port"
	URL2=http://127.0.0.1:$P2
	coffer-coordinator serve --data "$T/coord2" --backend sim \
		--listen "127.0.0.1:$P2" >"$T/coord2.log" 2>&1 &
	C2=$!
	track $C2
	wait_until 20 curl -sf "$URL2/healthz" && break
	kill -9 $C2 2>/dev/null
	wait $C2 2>/dev/null
	diag "try $try: coordinator 2 did not answer on port $P2; its log:"
	while IFS= read -r line; do diag "  $line"; done <"$T/coord2.log"
done
curl -sf "$URL2/healthz" >/dev/null || bail "coordinator 2 did not start"
for n in two three; do
	policy_draft ".name = \"$n\"" >"$T/$n.json"
	coffer policy new "$T/$n.json" --no-submit --out "$T/$n.full" >/dev/null 2>&1 &&
		curl -sf -X POST "$URL2/v1/policies" --data-binary @"$T/$n.full" >/dev/null ||
		bail "policy $n"
done
size2=$(curl -s "$URL2/v1/log/head" | jq .statement.size)
check "coordinator 2's log is longer than the head the owner kept" test "$size2" -gt "$size1"
check "coordinator 2 presents the same identity (the owner pins it too)" \
	coffer coordinator verify "$URL2" --expect "$COORD_MEASUREMENT" --trust-sim-key "$COORD_SIM_KEY"

out=$(coffer audit verify --coordinator "$URL2" 2>&1)
eq "coffer audit verify catches the fork: exit 11" 11 $?
check "naming it" grep -q "fork: the coordinator at $URL2" <<<"$out"
eq "with both signed heads" 2 "$(grep -c '"type":"coffer-tree-head"' <<<"$out")"
eq "the kept head is not replaced" "$size1" "$(jq -r '.heads[].head.statement.size' "$T/pins.heads.json")"
coffer audit verify --coordinator "$URL2" >/dev/null 2>&1
eq "and every later check says it again" 11 $?
eq "an owner command to it fails the same way" 11 \
	"$(coffer policy status --coordinator "$URL2" >/dev/null 2>&1; echo $?)"
check "coordinator 1 still checks out" coffer audit verify --coordinator "$URL1"

# A kept head edited by hand no longer verifies: refused, not trusted.
jq '.heads[].head.statement.size += 1' "$T/pins.heads.json" >"$T/h.json" &&
	cp "$T/h.json" "$T/pins.heads.json"
coffer audit verify --coordinator "$URL1" >/dev/null 2>&1
eq "an edited kept head: exit 4" 4 $?

# The owner accepts coordinator 2's history (a damaged kept head is
# replaced too); coordinator 1 then shows fewer entries: rollback, 10.
check "coffer audit accept keeps coordinator 2's current head" \
	coffer audit accept --coordinator "$URL2"
eq "the kept head is coordinator 2's" "$(curl -s "$URL2/v1/log/head" | jq .statement.size)" \
	"$(jq -r '.heads[].head.statement.size' "$T/pins.heads.json")"
coffer audit verify --coordinator "$URL1" >/dev/null 2>&1
eq "coordinator 1 now shows fewer entries than the kept head: exit 10" 10 $?
