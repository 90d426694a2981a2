#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The same confidential job submitted twice (round two of the new user's
# walk): two jobs at the coordinator, each with its own receipt, valid for
# every owner, each item once per job. Then what a recipient slips into:
# fetching the second job's results into the first one's directory is
# refused with nothing written (it used to replace the key and the receipt
# and leave the first job's other outputs under the wrong key); fetching
# again into the same directory is fine; the manager's job id given where
# the coordinator's is expected is said to be that, with where to find it;
# a job under a policy the owners have not approved yet names the command
# that says who has not. A mistyped --prefix leaves no empty directory.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 14

start_redis
e2e_coordinator
e2e_manager
e2e_owners 2
e2e_policy checksum
e2e_submit
J1=$JOB C1=$CJOB
e2e_submit
J2=$JOB C2=$CJOB
[ "$C1" != "$C2" ]; ok $? "the same job submitted twice: two jobs at the coordinator ($C1, $C2)"
JOB=$J1; eq "the first completes" completed "$(e2e_finish 90)"
JOB=$J2; eq "the second completes" completed "$(e2e_finish 90)"
v=""
for c in "$C1" "$C2"; do
	CJOB=$c
	for o in a b c; do e2e_verify "$o"; v="$v$VRC"; done
done
eq "each job's receipt is valid for each owner" 000000 "$v"
eq "each job processed each of its 6 items once" "6 0 6 0" \
	"$(for c in "$C1" "$C2"; do curl -s "$COORD_URL/v1/jobs/$c/receipt" |
		jq -r '.statement.stages[0] | "\(.ok) \(.duplicates)"'; done | xargs)"

coffer results fetch "$C1" --id "$T/an.id" --store "$T/store" --out "$T/res" >/dev/null 2>&1
ok $? "the analyst fetches the first job's results"
sum1=$(cd "$T/res" && sha256sum result.key receipt.json)
out=$(coffer results fetch "$C2" --id "$T/an.id" --store "$T/store" --out "$T/res" 2>&1)
eq "the second job's into the same directory: exit 6" 6 $?
case $out in *"$T/res holds the results of another job"*"nothing was written"*"give another --out"*)
	ok 0 "said as such" ;; *) ok 1 "said: $out" ;; esac
eq "and the first job's key and receipt are as they were" "$sum1" \
	"$(cd "$T/res" && sha256sum result.key receipt.json)"
coffer results fetch "$C1" --id "$T/an.id" --store "$T/store" --out "$T/res" >/dev/null 2>&1
ok $? "fetching the first job's again into its directory is fine"
out=$(coffer receipt fetch "$J1" --id "$T/a.id" 2>&1)
case $out in *"'$J1' is the manager's job id; give the coordinator's"*"coffer job show $J1"*) ok 0 "the manager's job id to receipt fetch: said to be that, with where the other is" ;;
*) ok 1 "said: $out" ;; esac
jq '.name = "not-yet"' "$T/draft.json" > "$T/d2.json"
H2=$(coffer policy new "$T/d2.json" 2>/dev/null) || bail "policy new"
jq --arg h "$H2" '.tee.policy = $h' "$T/job.json" > "$T/job2.json"
api POST /v1/jobs --data @"$T/job2.json" > "$T/submit2.json"
case "$HTTP_CODE $(cat "$T/submit2.json")" in 400*"policy.unapproved"*"(every owner approves it first: 'coffer policy status $H2' names who has not)"*)
	ok 0 "a job under a policy not approved yet: 400, naming the command that says who has not" ;;
*) ok 1 "answered: $HTTP_CODE $(cat "$T/submit2.json")" ;; esac
out=$(coffer results fetch "$C2" --id "$T/an.id" --store "$T/store" --prefix outt/ --out "$T/res-typo" 2>&1)
eq "a mistyped --prefix: exit 6" 6 $?
[ ! -e "$T/res-typo" ]; ok $? "and the --out directory it made is not left behind, empty"
