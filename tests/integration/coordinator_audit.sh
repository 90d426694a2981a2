#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The coordinator's audit log at a real coffer-coordinator
# (doc/format/audit-log.md): every event appears in it with an inclusion
# proof that `coffer audit proof` checks under the signed head; `coffer
# audit verify --entries` replays the whole log into the signed root; a
# restart extends the log consistently; kill -9 during approvals, uploads
# and releases loses nothing acknowledged, and the log the coordinator
# comes back with extends every head the owners saw.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 24

coord_setup
policy_draft >"$T/draft.json"
H=$(new_policy "$T/draft.json")
approve "$H" a b c || bail "approving the policy"
upload "$H" a b c || bail "uploading keys"
J=$(open_job "$H")
eq "a release is granted" released "$(release "$J" | jq -r .outcome)"
eq "a replayed nonce is refused" nonce.replayed "$(refusal "$J" --twice)"

# Every event, in order, replayed into the signed root.
coffer audit verify --entries >"$T/log.txt" 2>"$T/verify.err"
eq "audit verify --entries: the log checks (exit 0)" 0 $?
events() { cut -d' ' -f2- "$1" | jq -r .event | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' '; }
# A start retried on another port under load (lib.sh start_coordinator)
# logs one start per attempt that opened the state: one or more.
eq "one entry per event" \
	"approval=3 job-open=1 key-upload=3 policy=1 refusal=1 release=2 start=N" \
	"$(events "$T/log.txt" | sed -E 's/start=[1-9][0-9]*/start=N/')"
eq "the first entry is the start, naming the coordinator's identity" \
	"$(curl -s "$COORD_URL/v1/identity" | jq -r .identity)" \
	"$(head -n1 "$T/log.txt" | cut -d' ' -f2- | jq -r 'select(.event == "start") | .identity')"
eq "the refusal names its reason" nonce.replayed \
	"$(grep '"event":"refusal"' "$T/log.txt" | cut -d' ' -f2- | jq -r .reason)"
nkeys=0
for o in a b c; do
	k=$(cut -d: -f2 "$T/$o.key")
	grep -qF "$k" "$T/log.txt" && nkeys=$((nkeys + 1))
	grep -qiF "$(printf '%s' "$k" | tr _- /+ | base64 -d 2>/dev/null | xxd -p -c 64)" "$T/log.txt" &&
		nkeys=$((nkeys + 1))
done
eq "no data key in any entry, in base64url or hex" 0 "$nkeys"

# Inclusion proofs, checked by the CLI under the kept, signed head.
rel=$(grep '"event":"release"' "$T/log.txt" | head -n1 | cut -d' ' -f1)
out=$(coffer audit proof "$rel" 2>&1)
eq "the release's inclusion proof checks (exit 0)" 0 $?
check "and prints the entry" grep -q "\"job\":\"$J\"" <<<"$out"
last=$(($(wc -l <"$T/log.txt") - 1))
check "so does the last entry's" coffer audit proof "$last"
coffer audit proof 99999 >/dev/null 2>&1
eq "an index past the log: exit 6" 6 $?
kept=$(jq -r '.heads[].head.statement.size' "$T/pins.heads.json")
eq "the owner keeps the head it verified, next to the pin file" "$((last + 1))" "$kept"

# A damaged proof is refused: the wrong path for an index.
size=$(curl -s "$COORD_URL/v1/log/head" | jq .statement.size)
eq "the head route answers a signed head" coffer-tree-head \
	"$(curl -s "$COORD_URL/v1/log/head" | jq -r .statement.type)"
eq "a proof for a size past the log: 400 request.malformed" request.malformed \
	"$(curl -s "$COORD_URL/v1/log/inclusion?index=0&size=$((size + 5))" | jq -r .error.code)"
eq "entries with a count of 0: 400" request.malformed \
	"$(curl -s "$COORD_URL/v1/log/entries?start=0&count=0" | jq -r .error.code)"
eq "a forged Coffer-Seen-Head is refused (only the coordinator signs heads)" \
	request.malformed "$(curl -s -H "Coffer-Seen-Head: e30" "$COORD_URL/v1/policies" | jq -r .error.code)"

# A restart: the log goes on (a new start event), consistent with the head
# the owner kept.
stop_coordinator
start_coordinator_again || bail "restart"
out=$(coffer audit verify 2>&1)
eq "after a restart the log extends the kept head (exit 0)" 0 $?
check "it grew by the start event" grep -q "advanced  $((size + 1)) entries" <<<"$out"

# kill -9 during approvals, uploads and releases. Each acknowledged
# action is recorded in a file as the CLI or relworker reports it.
for i in $(seq 10); do
	policy_draft ".name = \"study-$i\"" >"$T/d$i.json"
	new_policy "$T/d$i.json" >"$T/h$i" || bail "policy $i"
done
: >"$T/acked"
(
	for i in $(seq 10); do
		for o in a b c; do
			coffer policy approve "$(cat "$T/h$i")" --id "$T/$o.id" --yes \
				>/dev/null 2>&1 && echo "approval $i $o" >>"$T/acked"
			coffer key upload "$T/$o.key" --policy "$(cat "$T/h$i")" --id "$T/$o.id" \
				>/dev/null 2>&1 && echo "upload $i $o" >>"$T/acked"
		done
		out=$(release "$J") && [ "$(jq -r .outcome <<<"$out" 2>/dev/null)" = released ] &&
			echo "release $(jq -r .session <<<"$out")" >>"$T/acked"
	done
) &
wp=$!
for _ in $(seq 600); do
	[ "$(wc -l <"$T/acked")" -ge 5 ] && break
	sleep 0.05
done
stop_coordinator KILL
wait $wp
n_acked=$(wc -l <"$T/acked")
diag "acknowledged before kill -9: $n_acked"
start_coordinator_again || bail "restart after kill -9"
out=$(coffer audit verify --entries 2>"$T/verify.err" >"$T/log2.txt")
eq "after kill -9 the log extends every head the owners saw (exit 0)" 0 $?
missing=0
while read -r what i o; do
	case $what in
	approval)
		[ "$(grep '"event":"approval"' "$T/log2.txt" | grep -c "\"policy\":\"$(cat "$T/h$i")\"")" \
			-ge "$(grep -c "^approval $i " "$T/acked")" ] ||
			{ diag "lost: approval $i $o"; missing=$((missing + 1)); } ;;
	upload)
		grep '"event":"key-upload"' "$T/log2.txt" | grep -q "\"policy\":\"$(cat "$T/h$i")\"" ||
			{ diag "lost: upload $i $o"; missing=$((missing + 1)); } ;;
	release)
		grep '"event":"release"' "$T/log2.txt" | grep -q "\"session\":\"$i\"" ||
			{ diag "lost: release $i"; missing=$((missing + 1)); } ;;
	esac
done <"$T/acked"
eq "every acknowledged approval, upload and release is in the log and the state" 0 "$missing"
check "some of each were acknowledged" grep -q '^approval' "$T/acked"
a_count=$(grep -c '^approval' "$T/acked")
l_count=$(grep '"event":"approval"' "$T/log2.txt" | grep -vc "\"policy\":\"$H\"")
check "no approval logged twice or out of thin air (logged >= acknowledged, <= sent)" \
	test "$l_count" -ge "$a_count" -a "$l_count" -le 30
eq "the state's approvals match the log's" "$l_count" \
	"$(for i in $(seq 10); do curl -s "$COORD_URL/v1/policies/$(cat "$T/h$i")/status" | jq '.status.approved_by | length'; done | paste -sd+ | bc)"
check "the coordinator serves releases again" test "$(release "$J" | jq -r .outcome)" = released
