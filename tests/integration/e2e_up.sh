#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A confidential job end to end on one machine, from the CLI only (issue
# 13, doc/manager.md sections 7 and 9): `coffer up` starts Redis, the
# manager and a coordinator (sim, INSECURE); three hospitals pin the
# coordinator with the command coffer up prints, seal their rows, approve
# a policy for the workers' measurement it prints and upload their keys;
# `coffer job submit` and `coffer job watch` run the job with the progress
# of a plaintext one; each hospital verifies its receipt offline, the
# analyst opens the results and a hospital, not a recipient, cannot.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/e2e_common.bash"
plan 22

coffer_up_env

coffer up --grace-ms 2000 >"$T/up.out" 2>&1 &
UP=$!
track $UP
wait_until 30 test -s "$STATE" || { sed 's/^/# /' "$T/up.out"; bail "coffer up did not come up"; }
COORD_URL=$(jq -r .coordinator.url "$STATE")
COORD_SIM_KEY=$(jq -r .coordinator.sim_key "$STATE")
COORD_SIM_FP=$(jq -r .coordinator.sim_key_fingerprint "$STATE")
WORKER_MEAS=$(jq -r .coordinator.worker_measurement "$STATE")
MURL=$(jq -r .url "$STATE")

# The owners pin the coordinator with the command coffer up printed.
pin=$(sed -n 's/^ *pin it with: //p' "$T/up.out")
check "the owners pin the coordinator with the printed command" \
	bash -c "$pin >/dev/null 2>&1"
E2E_STORE=$DATA/store
e2e_owners 3
e2e_policy checksum
coffer policy approve "$H" --id "$T/a.id" </dev/null >/dev/null 2>"$T/approve.err"
eq "policy approve without a terminal or --yes: exit 2" 2 $?
check "saying nothing was signed, with no usage line after the policy" \
	bash -c "grep -q 'not confirmed: nothing was signed' '$T/approve.err' && ! grep -q '^usage:' '$T/approve.err'"

jq -n --arg h "$H" '{name: "cohort", app: "checksum", tee: {policy: $h},
	expected_time_s: 120, replicas: {min: 1, max: 2}, controller: {name: "static"}}' \
	>"$T/job.json"
ID=$(coffer job submit "$T/job.json" 2>"$T/submit.err")
check "coffer job submit takes the confidential job ($ID)" test -n "$ID"
coffer job watch "$ID" --interval 0.5 >"$T/watch.out" 2>&1
eq "coffer job watch follows it to completion" 0 $?
sed 's/^/# /' "$T/watch.out" | tail -n 3
check "with the progress lines of a plaintext job" \
	grep -Eq '^(running|completed) [0-9]+/9 done .* items/s replicas' "$T/watch.out"
CJOB=$(coffer job show "$ID" | jq -r .confidential.job)
check "the last line names the coordinator's job, completed, and the owners' command" \
	grep -q "the coordinator closed job $CJOB: completed (its owners: coffer receipt fetch $CJOB)" \
	"$T/watch.out"
eq "the job shows the coordinator's outcome" "completed close" \
	"$(coffer job show "$ID" | jq -r '"\(.confidential.outcome) \(.confidential.stage)"')"
eq "the manager's metrics count its items as for any job" 9 \
	"$(curl -s -H "Authorization: Bearer $(jq -r .token "$STATE")" "$MURL/metrics" |
		awk -v j="$ID" '$1 ~ "^coffer_job_items\\{" && index($1, "job_id=\"" j "\"") &&
			index($1, "state=\"done\"") {print $2 + 0}')"

for o in a b c; do
	e2e_verify "$o"
	eq "hospital $o verifies its receipt offline: valid, its 3 items OK" \
		"0 valid OK OK OK" \
		"$VRC $(jq -r '[.verdict, (.items[].map.status)] | join(" ")' "$T/v-$o.json")"
done
coffer receipt verify "$T/r-a.json" --id "$T/a.id" >"$T/v-nokey.out" 2>&1
eq "a receipt verified without --trust-sim-key: rejected (exit 7)" 7 $?
check "with what to give" grep -q "no --trust-sim-key was given: give the coordinator's sim key" "$T/v-nokey.out"
eq "every item was committed once: 9 OK, no duplicate, none abandoned" "9 0 0" \
	"$(e2e_stage a map ok) $(e2e_stage a map duplicates) $(e2e_stage a map abandoned)"

coffer results fetch "$CJOB" --id "$T/an.id" --store "$DATA/store" --prefix out/ --out "$T/res" \
	>"$T/fetch.out" 2>&1
eq "the analyst, a recipient, fetches the outputs checked against the receipt" 0 $?
coffer results open "$T/res" >/dev/null 2>&1
eq "and opens them" 0 $?
want=$(printf 'row 2 of hospital b\n' | cksum | cut -d' ' -f1)
check "b's second row's checksum is among them" grep -rqs "$want" "$T/res"
coffer results fetch "$CJOB" --id "$T/an.id" --store "$DATA/store" --out "$T/res-np" \
	>"$T/fetch-np.out" 2>&1
eq "without --prefix too: the workers' default out/ is found (it used to be 'not found')" \
	"0 9" "$? $(ls "$T/res-np" | grep -c '\.sealed$')"
coffer results fetch "$CJOB" --id "$T/a.id" --store "$DATA/store" --prefix out/ --out "$T/res-a" \
	>"$T/fetch-a.out" 2>&1
eq "a hospital not named as a recipient gets no key (exit 6)" 6 $?
check "refused: recipient.unknown" grep -q recipient.unknown "$T/fetch-a.out"

kill -INT "$UP"
wait "$UP"
eq "coffer up stops on Ctrl-C" 0 $?
