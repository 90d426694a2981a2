#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What the coffer tool says when a user slips (issue 15): a sealed file
# given as --key, an output directory that does not exist, a mistyped
# command, verb or option, a job state that does not exist (exit 2, the
# usage code), a --url without a token; no library log lines in a
# command's normal output.
# timeout: 60
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 14

cd "$T" || bail "no temp dir"
coffer key new k.key >/dev/null
echo secret > data.txt
coffer seal -q --key k.key data.txt data.sealed
chmod 644 data.sealed
out=$(coffer open --key data.sealed data.sealed out.txt 2>&1)
eq "a sealed file as --key: exit 2" 2 $?
case $out in *"data.sealed is a sealed file, not a key"*) ok 0 "said as such, not 'chmod 600'" ;; *) ok 1 "said: $out" ;; esac
out=$(coffer open --key k.key data.sealed nodir/out.txt 2>&1)
eq "an output directory that does not exist: exit 6" 6 $?
case $out in *"the directory nodir does not exist"*) ok 0 "said as such" ;; *) ok 1 "said: $out" ;; esac
out=$(coffer sael 2>&1); eq "a mistyped command: exit 2" 2 $?
case $out in *"did you mean 'seal'?"*) ok 0 "with the command meant" ;; *) ok 1 "said: $out" ;; esac
out=$(coffer seal --chunksize 4K --key k.key data.txt x 2>&1)
case $out in *"did you mean '--chunk-size'?"*) ok 0 "a mistyped option names the one meant" ;; *) ok 1 "said: $out" ;; esac
# Every command's options end in cli_opt_fail: those of policy, audit,
# collateral and coordinator too.
out=$(coffer policy show --coordnator http://127.0.0.1:1 x 2>&1; coffer audit verify --entires 2>&1
	coffer collateral fetch --outt x 2>&1; coffer coordinator verify --expekt x 2>&1)
eq "so do the options of policy, audit, collateral and coordinator" \
	"--coordinator --entries --out --expect" \
	"$(grep -o "did you mean '--[a-z-]*'" <<<"$out" | cut -d' ' -f4 | tr -d '?' | xargs)"
coffer attest report --backend sim --report-data 00 --out ev.json --sim-dir sim 2> attest.err
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.* coffer\[[0-9]+\] ' attest.err; [ $? -ne 0 ]
ok $? "no log-format lines in attest's stderr"
grep -q "INSECURE SIMULATION" attest.err; ok $? "which still says INSECURE SIMULATION"

start_redis
start_manager
out=$(coffer job list --url "$MGR_URL" --state done 2>&1)
eq "--state with a state that does not exist: exit 2 (usage)" 2 $?
out=$(COFFER_TOKEN= coffer job list --url "$MGR_URL" 2>&1)
eq "--url without a token: exit 4" 4 $?
case $out in *"no token was sent"*) ok 0 "saying that no token was sent" ;; *) ok 1 "said: $out" ;; esac
out=$(coffer job lsit --url "$MGR_URL" 2>&1)
case $out in *"did you mean 'list'?"*) ok 0 "a mistyped verb names the one meant" ;; *) ok 1 "said: $out" ;; esac
