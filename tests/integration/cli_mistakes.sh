#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What goes wrong for a user, round two (the new user's walk through
# failures): a directory given where a file is expected is a file that
# cannot be read (exit 6, doc/cli.md), said as a directory; an empty job
# file and a job file that is an array are said as such; a mistyped app
# gets the one meant and the apps there are; `coffer receipt verify` of a
# bundle copied without its FILE.policy says what that file is; `coffer
# results open` of a mistyped directory, or of one without result.key,
# says what to give.
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/coordinator_common.bash"
plan 30

cd "$T" || bail "no temp dir"
start_redis
start_manager
export COFFER_URL=$MGR_URL COFFER_TOKEN=$MGR_TOKEN

mkdir adir
out=$(coffer job submit adir 2>&1)
eq "a directory as the job file: exit 6 (a file that cannot be read)" 6 $?
case $out in *"adir: not a regular file (it is a directory)"*) ok 0 "said as a directory" ;; *) ok 1 "said: $out" ;; esac
printf '\n' > empty.json
out=$(coffer job submit empty.json 2>&1)
eq "an empty job file: exit 5" 5 $?
case $out in *"empty.json is empty: a job file is one JSON object"*) ok 0 "said as empty" ;; *) ok 1 "said: $out" ;; esac
echo '[{"app": "fault"}]' > array.json
out=$(coffer job submit array.json 2>&1)
case $out in *"array.json: a job file is one JSON object, not an array"*) ok 0 "an array: said as one" ;; *) ok 1 "said: $out" ;; esac
echo x > "$T/store/in-1"
echo '{"app": "faul", "inputs": {"prefix": "in-"}, "expected_time_s": 30,
 "replicas": {"min": 1, "max": 1}, "controller": {"name": "static"}}' > typo.json
out=$(coffer job submit typo.json 2>&1)
eq "a mistyped app: exit 5" 5 $?
case $out in *"no app 'faul' in"*"(did you mean 'fault'?)"*"(its apps: "*"checksum"*"fault"*"pooled-stats"*) ok 0 "names the app meant and the apps there are" ;;
*) ok 1 "said: $out" ;; esac
case $out in *"params"*) ok 1 "a NAME.params.json is no app: $out" ;; *) ok 0 "the apps' params.json files are not listed as apps" ;; esac

# coffer receipt verify (offline, but after the pin): a directory, and a
# bundle copied without the policy `receipt fetch` saved beside it.
coord_setup
coffer id new --name o o.id >/dev/null
out=$(coffer receipt verify adir --id o.id 2>&1)
eq "receipt verify of a directory: exit 6" 6 $?
echo '{}' > copied.json
out=$(coffer receipt verify copied.json --id o.id 2>&1)
eq "a bundle without its .policy: exit 6" 6 $?
case $out in *"copied.json.policy: No such file or directory (the job's policy, which 'coffer receipt fetch' saves beside the bundle)"*"--policy FILE"*)
	ok 0 "says what the missing file is and what to do" ;; *) ok 1 "said: $out" ;; esac
out=$(coffer results open nodir 2>&1)
eq "results open of a directory that does not exist: exit 6" 6 $?
case $out in *"nodir: No such file or directory: give the directory 'coffer results fetch' wrote"*) ok 0 "said as such, with what to give" ;;
*) ok 1 "said: $out" ;; esac
out=$(coffer results open adir 2>&1)
eq "results open of a directory without result.key: exit 6" 6 $?
case $out in *"adir has no result.key: it is not what 'coffer results fetch' wrote"*) ok 0 "said as such" ;;
*) ok 1 "said: $out" ;; esac
out=$(coffer results open o.id 2>&1)
case $out in *"o.id: not a directory: give the directory"*) ok 0 "results open of a file: not a directory" ;;
*) ok 1 "said: $out" ;; esac

mkdir -p rin
echo a > rin/one
coffer run --app checksum --inputs rin --outputs rout --quiet >/dev/null 2>&1
ok $? "coffer run --app checksum: the build's app of that name"
out=$(coffer run --app checksm --inputs rin --outputs rout2 2>&1)
eq "a mistyped --app: exit 6" 6 $?
case $out in *"--app checksm: No such file or directory (did you mean 'checksum'?); the apps in "*"checksum, dicom-deid, fault, pooled-stats"*)
	ok 0 "names the app meant and the apps there are" ;; *) ok 1 "said: $out" ;; esac

policy_draft '.expires = 1000' > past.json
out=$(coffer policy new past.json --no-submit 2>&1)
eq "a policy that expired in 1970: exit 5" 5 $?
case $out in *"expires: 1000 (1970-01-01T00:16:40Z) is in the past: no owner could approve the policy"*) ok 0 "said as such" ;;
*) ok 1 "said: $out" ;; esac
policy_draft ".expires = $(($(date +%s) + 86400))000" > ms.json
out=$(coffer policy new ms.json --no-submit 2>&1 >/dev/null)
case $out in *"after the year 9999: seconds since 1970 were meant, not milliseconds?"*) ok 0 "one in milliseconds is warned of" ;;
*) ok 1 "said: $out" ;; esac
out=$(coffer policy approve 760c2c77...e288 --id o.id --yes 2>&1)
eq "a hash cut short: exit 6" 6 $?
case $out in *"'760c2c77...e288' is neither a file nor a policy hash: give the whole hash, 64 hex digits"*) ok 0 "said as such, not as a missing file" ;;
*) ok 1 "said: $out" ;; esac
out=$(env -u COFFER_URL -u COFFER_TOKEN HOME="$T/nohome" XDG_RUNTIME_DIR="$T/norun" coffer job list --state runing 2>&1)
eq "job list --state runing with no manager: exit 2 (usage), not 6" 2 $?
case $out in *"--state: 'runing' is not a job state"*"did you mean 'running'?"*) ok 0 "with the state meant" ;; *) ok 1 "said: $out" ;; esac
out=$(coffer key new adir 2>&1)
eq "key new of a directory: exit 6" 6 $?
case $out in *"adir is a directory: give the name of a new file (a path inside it)"*) ok 0 "said as a directory, not 'File exists'" ;;
*) ok 1 "said: $out" ;; esac
out=$(coffer coordinator verify "$COORD_URL" --expect "$COORD_MEASUREMENT" --trust-sim-key new-host.pem 2>&1)
eq "coordinator verify with a sim key file not made yet: exit 6" 6 $?
case $out in *"new-host.pem: No such file or directory (the sim host's public key: 'coffer attest sim-key > new-host.pem' on the host the coordinator runs on writes it"*)
	ok 0 "says how to make it" ;; *) ok 1 "said: $out" ;; esac
