#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Key upload and attested key release at a real coffer-coordinator
# (doc/protocol/key-release.md), with INSECURE SIMULATION evidence made by
# tests/tools/relworker acting as the worker: uploads accepted only from
# the owner holding the dataset; a release granted once every key is there
# whose keys open the owners' sealed data; every refusal by name; a
# revocation stops the next release; keys survive a restart; a k-of-n
# update carries keys over and supersedes; an expired policy releases
# nothing.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 53

coord_setup --nonce-ttl 2
policy_draft >"$T/draft.json"
H=$(new_policy "$T/draft.json")
approve "$H" a b c || bail "approving the policy"
J=$(open_job "$H")
grep -qE '^[0-9a-f]{32}$' <<<"$J" || bail "no job: $J"
eq "the job names its items" 3 "$(curl -s "$COORD_URL/v1/jobs/$J" | jq .items)"

out=$("$REL" release "$COORD_URL" "$J" --measure "$BIN/coffer-worker")
eq "relworker says refused with 7" 7 $?
eq "no key uploaded: refused" keys.missing "$(jq -r .code <<<"$out")"
check "naming the datasets" grep -q "a-data, b-data, c-data" <<<"$out"

# Uploads: only from the owner the policy says holds the dataset.
up() { "$REL" upload "$COORD_URL" "$@" 2>&1 | jq -r '.code // .outcome'; }
eq "b uploading a's key is refused" upload.not_owner \
	"$(up "$H" "$T/a.key" "$T/b.id")"
out=$(coffer key upload "$T/a.key" --policy "$H" --id "$T/b.id" 2>&1)
eq "coffer key upload says so before sending (exit 7)" 7 $?
eq "the analyst uploading is refused" signer.unknown \
	"$(up "$H" "$T/a.key" "$T/an.id")"
coffer key new "$T/x.key" >/dev/null
eq "another key under a's key id is refused" upload.wrong_key \
	"$(up "$H" "$T/x.key" "$T/a.id" --key-id "$(coffer key show "$T/a.key")")"
eq "a key wrapped to another coordinator is refused" upload.bad_wrap \
	"$(up "$H" "$T/a.key" "$T/a.id" --coord-kx "$(printf '%064d' 9 | sed 's/^0/4/')")"
eq "a key for an unknown policy is refused" policy.unknown \
	"$(up "$(printf '%064d' 5)" "$T/a.key" "$T/a.id")"
check "a uploads its key" upload "$H" a
check "uploading it again changes nothing" upload "$H" a
out=$(release "$J")
check "with a's key only, b's and c's are missing" \
	grep -q "no data key uploaded for dataset(s) b-data, c-data" <<<"$out"
check "b and c upload theirs" upload "$H" b c

# Granted.
mkdir -p "$T/keys"
out=$(release "$J" --save-keys "$T/keys")
eq "every key uploaded: released" released "$(jq -r .outcome <<<"$out")"
eq "with the three data keys in policy order" \
	"$(coffer key show "$T/a.key") $(coffer key show "$T/b.key") $(coffer key show "$T/c.key")" \
	"$(jq -r '.keys | join(" ")' <<<"$out")"
eq "the job's parameters and the policy's limits" '{"alpha":"0.05"} {"min_rows_per_owner":1} true' \
	"$(jq -c '.params, .limits, .reduce' <<<"$out" | paste -sd' ')"
ok=0
for o in a b c; do
	coffer open --key "$T/keys/$(coffer key show "$T/$o.key").key" "$T/$o.sealed" \
		"$T/$o.opened" >/dev/null 2>&1 && cmp -s "$T/$o.csv" "$T/$o.opened" || ok=1
done
ok $ok "the released keys open each owner's sealed data"
out2=$(release "$J")
eq "a second worker of the job gets the same output key" \
	"$(jq -r .output_key_id <<<"$out")" "$(jq -r .output_key_id <<<"$out2")"
check "and another session" \
	bash -c '[ "$(jq -r .session <<<"$1")" != "$(jq -r .session <<<"$2")" ]' _ "$out" "$out2"
J2=$(open_job "$H" 0.01)
out3=$(release "$J2")
check "another job gets another output key" \
	bash -c '[ "$(jq -r .output_key_id <<<"$1")" != "$(jq -r .output_key_id <<<"$2")" ]' _ "$out" "$out3"
eq "and the same app secret" "$(jq -r .app_secret_sha256 <<<"$out")" \
	"$(jq -r .app_secret_sha256 <<<"$out3")"
eq "and its own parameters" '{"alpha":"0.01"}' "$(jq -c .params <<<"$out3")"

# Every refusal of the release by name.
eq "a replayed request" nonce.replayed "$(refusal "$J" --twice)"
eq "a nonce this coordinator never issued" nonce.unknown "$(refusal "$J" --forge-nonce)"
eq "a nonce past its lifetime" nonce.expired "$(refusal "$J" --wait-ms 2300)"
eq "evidence for another worker key" evidence.binding "$(refusal "$J" --bind-other-key)"
eq "evidence for another job" evidence.binding "$(refusal "$J" --bind-other-job "$J2")"
eq "evidence whose signature fails" evidence.invalid "$(refusal "$J" --corrupt-evidence)"
mkdir -m 700 "$T/othersim"
eq "sim evidence from a platform key not named" sim.key_not_named \
	"$(refusal "$J" --sim-dir "$T/othersim")"
eq "a debug TEE (sim evidence v2 simulates the bit)" tee.debug \
	"$(refusal "$J" --sim-values '{"debug":true}')"
eq "a TCB status the verification object does not accept" tcb.below_minimum \
	"$(refusal "$J" --sim-values '{"tcb_status":"OutOfDate"}')"
eq "another refusal of the verification object (VMPL 2 above 0)" \
	verification.refused "$(refusal "$J" --sim-values '{"vmpl":2}')"
eq "a measurement the policy does not approve" measurement.unapproved \
	"$(refusal "$J" --measure "$BIN/coffer")"
eq "a malformed request" request.malformed "$(refusal "$J" --malformed)"
eq "a job that does not exist" job.unknown "$(refusal "$(printf '%032d' 3)")"
out=$(release "$J" --expect-kx "$(printf '%064d' 4)")
eq "a worker refuses an answer not from the coordinator it pinned" unopened \
	"$(jq -r .outcome <<<"$out")"
check "the refusals are in the log, named" grep -q "reason=evidence.binding" "$COORD_LOG"
m=$(curl -s "$COORD_URL/metrics")
eq "/metrics counts the refusals by name" 2 \
	"$(awk '/^coffer_coordinator_refusals_total\{reason="evidence.binding"\}/ {print $2}' <<<"$m")"
check "and the releases granted" \
	awk '/^coffer_coordinator_releases_total / {exit !($2 >= 4)}' <<<"$m"

# A restart keeps approvals and keys.
stop_coordinator TERM
start_coordinator_again
eq "after a restart the release is granted again" released \
	"$(release "$J" | jq -r .outcome)"

# Revocations stop the next release.
check "owner a revokes the worker measurement" \
	coffer policy revoke "$H" --id "$T/a.id" --measurement "sim:$WORKER_MEAS"
eq "the next release is refused" measurement.revoked "$(refusal "$J")"
check "owner b revokes its approval" coffer policy revoke "$H" --id "$T/b.id"
eq "the next release is refused for the policy" policy.revoked "$(refusal "$J")"
eq "and no job opens" policy.revoked "$(open_job "$H")"

# Keys carry over a k-of-n update, which supersedes the old version.
policy_draft '.update = {k: 2, fields: ["expires"]} | .name = "kofn"' >"$T/k.json"
P=$(new_policy "$T/k.json")
approve "$P" a b c && upload "$P" a b c || bail "policy P"
JP=$(open_job "$P")
eq "a release under the first version" released "$(release "$JP" | jq -r .outcome)"
jq --arg p "$P" '.previous = $p | .expires += 100' "$T/k.json" >"$T/v1.json"
V1=$(new_policy "$T/v1.json")
approve "$V1" a c || bail "approving V1"
eq "once a k-of-n version is approved, the old one's jobs are refused" \
	policy.superseded "$(refusal "$JP")"
JV=$(open_job "$V1")
eq "the new version's jobs get the keys uploaded under the old one" released \
	"$(release "$JV" | jq -r .outcome)"

# An expired policy releases nothing.
policy_draft ".expires = $(($(date +%s) + 5)) | .name = \"short\"" >"$T/e.json"
E=$(new_policy "$T/e.json")
approve "$E" a b c && upload "$E" a b c || bail "policy E"
JE=$(open_job "$E")
eq "before it expires: released" released "$(release "$JE" | jq -r .outcome)"
wait_until 15 bash -c "[ \$(date +%s) -ge $(jq .expires "$T/e.json") ]"
eq "once it has expired: refused" policy.expired "$(refusal "$JE")"
eq "and no job opens" policy.expired "$(open_job "$E")"
out=$(coffer policy approve "$E" --id "$T/a.id" --yes 2>&1)
check "nor is an approval taken" grep -q "policy.expired" <<<"$out"
