#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The coordinator's sealed state moved to another machine (another sim
# host) and another build: refused with a message that says which and how
# to recover; then recovered by 2 of 3 recovery owners with `coffer
# coordinator recover` (one share is not enough, an outsider's is refused),
# and the recovered coordinator has the same identity and state, sealed to
# its new host. doc/format/sealed-state.md section 9, doc/format/recovery.md.
# Real processes throughout.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 35

# Three recovery owners ("keepers") and an outsider, before the first start.
for k in k1 k2 k3 out; do
	coffer id new --name "keeper-$k" "$T/$k.id" >/dev/null || bail "coffer id new"
done
for k in k1 k2 k3; do coffer id show "$T/$k.id"; done >"$T/keepers.txt"
coord_setup --recovery-owners "$T/keepers.txt" --recovery-threshold 2
out=$(coffer coordinator recovery 2>&1)
check "coffer coordinator recovery shows 2 of 3 owners" \
	grep -q "2 of 3 recovery owners" <<<"$out"
check "and names them" grep -q "keeper-k2" <<<"$out"
check "recovery.json is in the data directory" test -s "$COORD_DIR/recovery.json"
for f in state.db state.log state.key; do
	check "$f is sealed: no policy name or SQLite header in it" \
		bash -c "! grep -aq -e 'SQLite format 3' -e 'coffer-id1' '$COORD_DIR/$f'"
done
policy_draft >"$T/p.json"
h=$(new_policy "$T/p.json")
check "a policy is stored" test -n "$h"
check "two owners approve it" approve "$h" a b
ident=$(curl -sf "$COORD_URL/v1/identity" | jq -r .identity)
old_url=$COORD_URL
stop_coordinator
eq "the coordinator stops cleanly" 0 "$COORD_RC"

# The same data directory on "another machine": another sim host.
cp -a "$COORD_DIR" "$T/moved"
mkdir -m 700 "$T/sim2"
out=$(COFFER_SIM_DIR=$T/sim2 coffer-coordinator serve --data "$T/moved" \
	--backend sim --listen 127.0.0.1:0 2>&1)
eq "another sim host cannot open the state (exit 1)" 1 $?
check "the message says it was sealed on another sim host" \
	grep -q "sealed on another sim host" <<<"$out"
check "and how to recover it" grep -q -- "--recover" <<<"$out"

# Another build of the coordinator on the same host.
cp "$BIN/coffer-coordinator" "$T/coffer-coordinator-2" && printf 'x' >>"$T/coffer-coordinator-2"
cp -a "$COORD_DIR" "$T/rebuilt"
out=$("$T/coffer-coordinator-2" serve --data "$T/rebuilt" --backend sim \
	--listen 127.0.0.1:0 2>&1)
eq "another build cannot open the state (exit 1)" 1 $?
check "the message names both measurements" grep -q "another build (rule K4)" <<<"$out"

# Recovery on the new host: the normal API waits for 2 shares.
COFFER_SIM_DIR=$T/sim2 coffer attest sim-key >"$T/sim2-key.pem" 2>/dev/null
# A port race (another process took the port first) is retried on another
# port; any other failure shows the coordinator's own log.
for try in 1 2 3; do
	port=$(random_port) || bail "no free port"
	url=http://127.0.0.1:$port
	COFFER_SIM_DIR=$T/sim2 coffer-coordinator serve --data "$T/moved" \
		--backend sim --listen "127.0.0.1:$port" --recover \
		>"$T/moved.log" 2>&1 &
	mpid=$!
	track $mpid
	wait_until 20 curl -sf "$url/healthz" && break
	kill -9 $mpid 2>/dev/null
	wait $mpid 2>/dev/null
	diag "try $try: the moved coordinator did not answer on port $port; its log:"
	while IFS= read -r line; do diag "  $line"; done <"$T/moved.log"
done
check "the moved coordinator starts in recovery mode" curl -sf "$url/healthz"
eq "it says it is recovering" recovering "$(curl -s "$url/v1/recovery" | jq -r .mode)"
eq "and serves nothing else yet" not_found \
	"$(curl -s "$url/v1/identity" | jq -r .error.code)"
rec() { coffer coordinator recover "$url" --id "$T/$1.id" --expect "$COORD_MEASUREMENT" \
	--trust-sim-key "$T/sim2-key.pem" 2>&1; }
out=$(rec out)
eq "an outsider has no share (exit 6)" 6 $?
out=$(rec k1)
eq "the first keeper's share is accepted" 0 $?
check "and one more is needed" grep -q "1 of 2 needed" <<<"$out"
out=$(rec k1)
check "the same share again does not count twice" grep -q "1 of 2 needed" <<<"$out"
eq "with one share the state key is not recovered" recovering \
	"$(curl -s "$url/v1/recovery" | jq -r .mode)"
check "and state.key is still the old host's" cmp "$COORD_DIR/state.key" "$T/moved/state.key"
out=$(coffer coordinator recover "$url" --id "$T/k2.id" --expect 00 \
	--trust-sim-key "$T/sim2-key.pem" 2>&1)
eq "a share is not given to another measurement (exit 7)" 7 $?
out=$(rec k2)
eq "the second keeper's share is accepted" 0 $?
check "and the state is recovered" grep -q "recovered its state" <<<"$out"
check "the coordinator starts" wait_until 20 curl -sf "$url/v1/identity"
eq "with the same identity" "$ident" "$(curl -sf "$url/v1/identity" | jq -r .identity)"
check "the owners' policy is there" \
	bash -c "curl -sf '$url/v1/policies' | grep -q '$h'"
check "state.key is sealed to the new host now" \
	bash -c "! cmp -s '$COORD_DIR/state.key' '$T/moved/state.key'"
check "the log says where it waited and that it recovered" \
	grep -q "the state key is rebuilt and sealed to this platform" "$T/moved.log"
check "coffer coordinator verify accepts it at its new address, same keys" \
	coffer coordinator verify "$url" --expect "$COORD_MEASUREMENT" \
	--trust-sim-key "$T/sim2-key.pem"
kill -TERM $mpid
wait $mpid
eq "it stops cleanly" 0 $?

# A restart on the new host needs no owner any more.
COFFER_SIM_DIR=$T/sim2 coffer-coordinator serve --data "$T/moved" --backend sim \
	--listen "127.0.0.1:$port" >"$T/moved2.log" 2>&1 &
mpid=$!
track $mpid
check "restarted without --recover, it serves at once" \
	wait_until 20 curl -sf "$url/v1/identity"
eq "as the same coordinator" "$ident" "$(curl -sf "$url/v1/identity" | jq -r .identity)"
