#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What the coffer tool says when a user slips (issue 15): a sealed file
# given as --key, an output directory that does not exist, a mistyped
# command, verb or option, a job state that does not exist (exit 2, the
# usage code), a --url without a token; no library log lines in a
# command's normal output. Words from other tools get the verb meant
# (`coffer job cancel`: 'stop'), a verb given as a command the command
# that has it (`coffer submit`); Ctrl-C in `coffer job watch` says that
# the job goes on, in `coffer seal`/`open` that nothing was written;
# stopping a job that has ended says so; a job file without controller
# gets one message.
# timeout: 60
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 35

cd "$T" || bail "no temp dir"
coffer key new k.key >/dev/null
echo secret > data.txt
coffer seal -q --key k.key data.txt data.sealed
chmod 644 data.sealed
out=$(coffer open --key data.sealed data.sealed out.txt 2>&1)
eq "a sealed file as --key: exit 2" 2 $?
case $out in *"data.sealed is a sealed file, not a key"*) ok 0 "said as such, not 'chmod 600'" ;; *) ok 1 "said: $out" ;; esac
printf 'id,value\n1,2\n' > table.csv
chmod 644 table.csv
out=$(coffer seal --key table.csv table.csv t.sealed 2>&1; echo "rc=$?"; coffer key show table.csv 2>&1)
case $out in *"table.csv is not a data key file"*"rc=2"*"table.csv is not a data key file"*) ok 0 "a CSV as --key, or to key show: not a key file (exit 2), not 'chmod 600'" ;;
*) ok 1 "said: $out" ;; esac
cp k.key open.key; chmod 644 open.key
out=$(coffer key show open.key 2>&1)
case $out in *"too open"*"chmod 600 open.key"*) ok 0 "a real key file readable by others still gets chmod 600" ;; *) ok 1 "said: $out" ;; esac
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
out=$(coffer job cancel job-1 2>&1; coffer policy propose d.json 2>&1; coffer key create k 2>&1)
eq "words from other tools name the verb meant: cancel, propose, create" \
	"'stop' 'new' 'new'" "$(grep -o "did you mean '[a-z]*'" <<<"$out" | cut -d' ' -f4 | xargs -d'\n' echo)"
out=$(coffer submit job.json 2>&1); eq "a verb given as a command: exit 2" 2 $?
case $out in *"did you mean 'coffer job submit'?"*) ok 0 "names the command that has it" ;; *) ok 1 "said: $out" ;; esac
out=$(coffer verify x 2>&1)
case $out in *"one of 'coffer attest verify', 'coffer audit verify', 'coffer coordinator verify', 'coffer receipt verify'"*)
	ok 0 "every command, when several have it" ;; *) ok 1 "said: $out" ;; esac
out=$(coffer help sael 2>&1)
case $out in *"did you mean 'seal'?"*) ok 0 "coffer help names the command meant too" ;; *) ok 1 "said: $out" ;; esac
# Ctrl-C while seal or open waits for its input: one line on stderr, exit
# 130, and neither OUT nor a temporary file left. env --default-signal:
# a background job of a script starts with SIGINT ignored.
interrupted() {
	local verb=$1 pid rc
	rm -rf "$T/o"; mkdir "$T/o"; rm -f "$T/f"; mkfifo "$T/f"
	exec 3<>"$T/f"
	env --default-signal=INT coffer "$verb" --key k.key - "$T/o/out" <"$T/f" 2>"$T/intr.err" &
	pid=$!
	wait_until 20 bash -c "ls -l /proc/$pid/fd | grep -q '$T/o/'"
	kill -INT "$pid"
	wait "$pid"; rc=$?
	exec 3>&-
	eq "Ctrl-C in coffer $verb: exit 130" 130 "$rc"
	eq "saying that nothing was written to OUT, in one line" \
		"coffer $verb: interrupted: nothing written to $T/o/out" "$(cat "$T/intr.err")"
	eq "and leaving nothing in OUT's directory" "" "$(ls -A "$T/o")"
}
interrupted seal
interrupted open

coffer attest report --backend sim --report-data 00 --out ev.json --sim-dir sim 2> attest.err
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.* coffer\[[0-9]+\] ' attest.err; [ $? -ne 0 ]
ok $? "no log-format lines in attest's stderr"
grep -q "INSECURE SIMULATION" attest.err; ok $? "which still says INSECURE SIMULATION"

out=$(env -u COFFER_URL XDG_RUNTIME_DIR="$T/none" HOME="$T/none" coffer job submit x.json 2>&1)
case $out in "coffer job submit: not found: no manager given"*"start one with 'coffer up'"*) ok 0 "no manager: said with the verb, and how to start one" ;;
*) ok 1 "said: $out" ;; esac

start_redis
start_manager
out=$(coffer job list --url "$MGR_URL" --state done 2>&1)
eq "--state with a state that does not exist: exit 2 (usage)" 2 $?
out=$(COFFER_TOKEN= coffer job list --url "$MGR_URL" 2>&1)
eq "--url without a token: exit 4" 4 $?
case $out in *"no token was sent"*) ok 0 "saying that no token was sent" ;; *) ok 1 "said: $out" ;; esac
out=$(coffer job logs job-nope --url "$MGR_URL" --token "$MGR_TOKEN" 2>&1)
eq "coffer job logs of no job: a job, not an Asperathos submission" \
	"coffer job logs: HTTP 404: no job 'job-nope' (field id)" "$out"
out=$(coffer job lsit --url "$MGR_URL" 2>&1)
case $out in *"did you mean 'list'?"*) ok 0 "a mistyped verb names the one meant" ;; *) ok 1 "said: $out" ;; esac
mkdir -p "$T/store/in"
for i in 1 2 3 4 5 6; do echo "x$i" > "$T/store/in/$i"; done
id=$(coffer job submit --url "$MGR_URL" --token "$MGR_TOKEN" /dev/stdin <<JSON
{"app": "fault", "app_params": {"sleep_ms": 2000}, "inputs": {"prefix": "in/"},
 "expected_time_s": 600, "replicas": {"min": 1, "max": 1}, "controller": {"name": "static"}}
JSON
)
coffer job watch "$id" --url "$MGR_URL" --token "$MGR_TOKEN" --interval 0.2 >"$T/watch.out" 2>&1 &
w=$!
wait_until 20 grep -q "^running" "$T/watch.out"
kill -INT "$w"
wait "$w"
eq "Ctrl-C in coffer job watch: exit 0" 0 $?
grep -q "stopped watching; $id goes on (coffer job stop $id stops it)" "$T/watch.out"
ok $? "saying that the job goes on, and how to stop it"
coffer job stop "$id" --url "$MGR_URL" --token "$MGR_TOKEN"
out=$(coffer job stop "$id" --url "$MGR_URL" --token "$MGR_TOKEN" 2>&1)
eq "coffer job stop of a stopped job: exit 1 (doc/cli.md)" 1 $?
eq "saying that it has already ended, and its state" \
	"coffer job stop: HTTP 409: the job has already ended: it is stopped, there is nothing to stop" "$out"
# A job file without "controller": one message, not also "controller.name".
out=$(coffer job submit --url "$MGR_URL" --token "$MGR_TOKEN" /dev/stdin 2>&1 <<JSON
{"app": "fault", "inputs": {"prefix": "in/"}, "expected_time_s": 600,
 "replicas": {"min": 1, "max": 1}}
JSON
)
eq "a job file without controller: one message" \
	"coffer job submit: HTTP 400: controller: missing (field controller)" "$out"
# A misspelt "controller": the typo, not also "controller: missing".
out=$(coffer job submit --url "$MGR_URL" --token "$MGR_TOKEN" /dev/stdin 2>&1 <<JSON
{"app": "fault", "inputs": {"prefix": "in/"}, "expected_time_s": 600,
 "replicas": {"min": 1, "max": 1}, "controllr": {"name": "static"}}
JSON
)
eq "a misspelt controller: one message, with the field meant" \
	"coffer job submit: HTTP 400: controllr: unknown field (did you mean 'controller'?) (field controllr)" "$out"
