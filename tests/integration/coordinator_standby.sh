#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Standby sessions and their bind at a real coffer-coordinator
# (doc/protocol/key-release.md section 6.7), tests/tools/relworker acting
# as the worker with INSECURE SIMULATION evidence: a bind gives what a
# cold release gives (the same keys; proofs, close and a receipt that
# `coffer receipt verify` accepts); every rule SB1 to SB5 and BD1 to
# BD11 refused by name; a session binds once, expires, and is forgotten
# by a restart; a revocation between standby and bind is effective at the
# bind; evidence for one exchange is refused at the other.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 53

# The lifetimes bound the age of evidence at bind (6.7.7): the host may
# shorten them, never lengthen them past the spec's 600 s and 60 s.
eq "--standby-ttl over 600 s is refused" 2 \
	"$("$BIN/coffer-coordinator" serve --data "$T/no" --backend sim --standby-ttl 601 2>/dev/null; echo $?)"
eq "--nonce-ttl over 60 s is refused" 2 \
	"$("$BIN/coffer-coordinator" serve --data "$T/no" --backend sim --nonce-ttl 61 2>/dev/null; echo $?)"
coord_setup --nonce-ttl 2 --standby-ttl 3 --standby-max 3
H=$(owners_policy)
J=$(open_job "$H")
grep -qE '^[0-9a-f]{32}$' <<<"$J" || bail "no job: $J"

# standby [relworker opts]: a new session in $T/sb.N (N counted in a
# file: callers run it in command substitutions); prints relworker's
# JSON line. last: the file of the latest.
echo 0 >"$T/n"
standby() {
	local n=$(($(cat "$T/n") + 1))
	echo "$n" >"$T/n"
	"$REL" standby "$COORD_URL" "$T/sb.$n" --measure "$BIN/coffer-worker" "$@" 2>&1 |
		tail -n 1
}
sb_code() { standby "$@" | jq -r '.code // .outcome'; }
bind() {
	local job=$1 file=$2
	shift 2
	"$REL" bind "$COORD_URL" "$job" "$file" "$@" 2>&1 | tail -n 1
}
bd_code() { bind "$@" | jq -r '.code // .outcome'; }
last() { echo "$T/sb.$(cat "$T/n")"; }

# The nonce answer (6.7.2): one head line, no policy.
curl -s -X POST "$COORD_URL/v1/standby/nonce" >"$T/nonce.ans"
eq "the standby nonce answer is one line" 1 "$(wc -l <"$T/nonce.ans")"
eq "with the nonce, identity and evidence and no policy_len" "true true true false" \
	"$(head -n 1 "$T/nonce.ans" | jq -r '[has("nonce"), has("identity"), has("evidence"), has("policy_len")] | map(tostring) | join(" ")')"

# A standby, then its bind: what a cold release gives.
eq "a standby session is made" standby "$(standby | jq -r .outcome)"
S1=$(last)
check "kept by the worker, mode 0600" test "$(stat -c %a "$S1")" = 600
cold=$(release "$J")
out=$(bind "$J" "$S1" --save-session "$T/s.json")
eq "the bind releases the keys" released "$(jq -r .outcome <<<"$out")"
eq "the same data keys as a cold release" "$(jq -c .keys <<<"$cold")" "$(jq -c .keys <<<"$out")"
eq "the same output key and app secret" \
	"$(jq -r '.output_key_id + .app_secret_sha256' <<<"$cold")" \
	"$(jq -r '.output_key_id + .app_secret_sha256' <<<"$out")"
eq "the job's parameters" '{"alpha":"0.05"}' "$(jq -c .params <<<"$out")"
eq "bound again: standby.used (single use)" standby.used "$(bd_code "$J" "$S1")"
check "the grant is logged with its ms and standby id" \
	grep -q "keys released.*standby=.*ms=" "$COORD_LOG"

# Item proofs in the bound session, the close and the receipt.
mkdir -p "$T/store"
out=$("$REL" prove "$COORD_URL" "$T/s.json" --store "$T/store" all)
eq "the bound session's map proofs are committed" "committed committed committed" \
	"$(jq -r .outcome <<<"$out" | paste -sd' ')"
out=$("$REL" prove "$COORD_URL" "$T/s.json" --store "$T/store" reduce)
eq "and its reduce proof" committed "$(jq -r .outcome <<<"$out")"
curl -s "$COORD_URL/v1/jobs/$J/receipt" >"$T/receipt"
eq "the receipt lists the worker's measurement: 2 releases (cold, bind), 4 items" \
	"1 sim $WORKER_MEAS 2 4" \
	"$(jq -r '.statement.measurements | "\(length) " + (.[0] | "\(.tee) \(.measurement) \(.sessions) \(.items)")' "$T/receipt")"
check "owner a fetches its bundle" coffer receipt fetch "$J" --id "$T/a.id" --out "$T/a.bundle"
coffer receipt verify "$T/a.bundle" --id "$T/a.id" --trust-sim-key "$COORD_SIM_KEY" >"$T/v.out" 2>&1
eq "coffer receipt verify accepts it" 0 $?
eq "BD3: a closed job is not bound" job.closed "$(standby >/dev/null; bd_code "$J" "$(last)")"
eq "and the refusal did not consume the session" released \
	"$(bind "$(open_job "$H")" "$(last)" | jq -r .outcome)"
J=$(open_job "$H")

# The audit log: the bind's release event names the standby session.
ents=$(curl -s "$COORD_URL/v1/log/entries?start=0&count=256" | jq -r '.entries[]' |
	while read -r e; do printf '%s' "$e" | tr _- /+ | base64 -d 2>/dev/null; echo; done)
eq "two release events name a standby session" 2 \
	"$(jq -c 'select(.event == "release" and has("standby"))' <<<"$ents" | wc -l)"
eq "the first is S1's" "$(jq -r .standby "$S1")" \
	"$(jq -r 'select(.event == "release" and has("standby")) | .standby' <<<"$ents" | head -n 1)"

# SB1 to SB5, by name.
eq "SB1 a malformed standby request" request.malformed "$(sb_code --malformed)"
eq "SB2 a nonce never issued" nonce.unknown "$(sb_code --forge-nonce)"
eq "SB2 a nonce past its lifetime" nonce.expired "$(sb_code --wait-ms 2300)"
eq "SB4 evidence whose signature fails" evidence.invalid "$(sb_code --corrupt-evidence)"
eq "SB5 evidence made for a release (6.3's binding)" evidence.binding \
	"$(sb_code --other-binding)"
eq "and evidence made for a standby is refused at release (KR9)" evidence.binding \
	"$(refusal "$J" --other-binding)"
out=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"type":"coffer-standby-request","version":1,"nonce":"00","worker_pk":"00","evidence":"AA"}' "$COORD_URL/v1/standby")
eq "SB1 answers 400" 400 "$out"

# BD1, BD2, BD4, BD5 by name.
standby >/dev/null
S2=$(last)
eq "BD1 a malformed bind request" request.malformed "$(bd_code "$J" "$S2" --malformed)"
eq "BD2 an unknown job" job.unknown "$(bd_code "$(printf '%032d' 3)" "$S2")"
eq "BD5 a forged MAC" standby.auth "$(bd_code "$J" "$S2" --forge-mac)"
eq "which does not consume the session: the right MAC binds" released \
	"$(bind "$J" "$S2" | jq -r .outcome)"
jq --arg x "$(printf '%032d' 7)" '.standby = $x' "$S2" >"$T/forged" && chmod 600 "$T/forged"
eq "BD4 a session never made" standby.unknown "$(bd_code "$J" "$T/forged")"

# BD9 to BD11: decided at the bind, under the job's policy; a session a
# job refuses is consumed.
mkdir -m 700 "$T/othersim"
eq "SB4 leaves sim keys to the policy: a standby from another sim key" standby \
	"$(standby --sim-dir "$T/othersim" | jq -r .outcome)"
eq "BD9 is refused at bind: sim.key_not_named" sim.key_not_named "$(bd_code "$J" "$(last)")"
eq "the refused session is consumed (BD6 on)" standby.used "$(bd_code "$J" "$(last)")"
standby --sim-values '{"debug":true}' >/dev/null
eq "BD9 a debug TEE" tee.debug "$(bd_code "$J" "$(last)")"
standby --measure "$BIN/coffer" >/dev/null
eq "BD10 a measurement the app does not list" measurement.unapproved "$(bd_code "$J" "$(last)")"
check "bind refusals are logged as refusal events" \
	bash -c 'curl -s "$1/v1/log/entries?start=0&count=512" | jq -r ".entries[]" |
		while read -r e; do printf "%s" "$e" | tr _- /+ | base64 -d 2>/dev/null; echo; done |
		jq -e "select(.event == \"refusal\" and .reason == \"standby.auth\")" >/dev/null' _ "$COORD_URL"

# Lifetime and table bounds.
standby >/dev/null
S3=$(last)
sleep 3.2
eq "BD4 a session past its lifetime" standby.expired "$(bd_code "$J" "$S3")"
standby >/dev/null; standby >/dev/null; standby >/dev/null
out=$(standby)
eq "SB3 a fourth live session with --standby-max 3" standby.full "$(jq -r .code <<<"$out")"
eq "answered 503" 503 "$(jq -r .http <<<"$out")"
m=$(curl -s "$COORD_URL/metrics")
eq "/metrics: three live standby sessions" 3 \
	"$(awk '$1 == "coffer_coordinator_standby_sessions" {print $2}' <<<"$m")"
eq "/metrics: binds counted (3 so far)" 3 \
	"$(awk '$1 == "coffer_coordinator_binds_total" {print $2}' <<<"$m")"
sleep 3.2

# A revocation between standby and bind is effective at the bind.
standby >/dev/null
S4=$(last)
standby >/dev/null
S5=$(last)
check "owner a revokes the worker measurement" \
	coffer policy revoke "$H" --id "$T/a.id" --measurement "sim:$WORKER_MEAS"
eq "BD11 the bind after it is refused" measurement.revoked "$(bd_code "$J" "$S4")"
check "owner b revokes its approval" coffer policy revoke "$H" --id "$T/b.id"
eq "BD7 a revoked policy at bind" policy.revoked "$(bd_code "$J" "$S5")"

# BD8 and a restart: sessions are in memory only.
H2=$(new_policy <(policy_draft '.name = "second"') )
approve "$H2" a b c || bail "approving the second policy"
J2=$(open_job "$H2")
standby >/dev/null
eq "BD8 a data key not uploaded" keys.missing "$(bd_code "$J2" "$(last)")"
upload "$H2" a b c || bail "uploading"
standby >/dev/null
S6=$(last)
stop_coordinator TERM
start_coordinator_again
eq "after a restart the session is unknown" standby.unknown "$(bd_code "$J2" "$S6")"
eq "a cold release still works" released "$(release "$J2" | jq -r .outcome)"
eq "and so does a new standby and bind" released \
	"$(standby >/dev/null; bind "$J2" "$(last)" | jq -r .outcome)"
eq "/metrics after the restart: no standby session" 0 \
	"$(curl -s "$COORD_URL/metrics" | awk '$1 == "coffer_coordinator_standby_sessions" {print $2}')"
