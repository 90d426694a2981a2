#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer job watch` and `coffer job wait` across a restart of `coffer up`
# (round two of the new user's walk): its manager comes back on another
# port and the job goes on, so both follow the state file to it, saying
# so once, and end with the job (they used to end with "Connection reset
# by peer" and "HTTP 503: the manager is stopping"). Ctrl-C while waiting
# for coffer up stops watching, and says that the job goes on. When
# Redis dies under coffer up (the OOM killer), coffer up says how and
# what is kept, and after a new start the job resumes and completes.
# Ctrl-C while coffer up starts (here a manager that never gets ready)
# says what became of what had started, and nothing is left running.
# timeout: 150
. "$(dirname "$0")/lib.sh"
plan 14

start_coffer_up --grace-ms 1000 --no-coordinator
mkdir -p "$DATA/store/in"
for i in $(seq -w 1 30); do echo "x$i" > "$DATA/store/in/a-$i"; done
cat > "$T/job.json" <<JSON
{"app": "fault", "app_params": {"sleep_ms": 300}, "inputs": {"prefix": "in/a-"},
 "expected_time_s": 120, "replicas": {"min": 1, "max": 1},
 "controller": {"name": "static"}, "lease_ms": 2000}
JSON
id=$(coffer job submit "$T/job.json") || bail "submit"
coffer job watch "$id" --interval 0.5 > "$T/watch.out" 2> "$T/watch.err" &
W=$!
track $W
coffer job wait "$id" > "$T/wait.out" 2> "$T/wait.err" &
WW=$!
track $WW
wait_until 30 grep -q 'running [1-9]' "$T/watch.out" || bail "the job does not run"
kill -INT "$UP"
wait "$UP"
wait_until 10 grep -q "has stopped" "$T/watch.err"
ok $? "watch says that the manager has stopped and that the job goes on: $(head -1 "$T/watch.err")"
grep -q "$id goes on: waiting for coffer up" "$T/wait.err"; ok $? "so does wait"
start_coffer_up --grace-ms 1000 --no-coordinator
wait "$W"; eq "watch follows coffer up to its new port and ends with the job (exit 0)" 0 $?
tail -1 "$T/watch.out" | grep -q "^$id completed"; ok $? "its last line: $(tail -1 "$T/watch.out")"
wait "$WW"; eq "so does wait (exit 0)" 0 $?
grep -q "^$id completed" "$T/wait.out"; ok $? "its line: $(cat "$T/wait.out")"

# Ctrl-C while waiting for coffer up: watching stops, the job goes on.
id=$(coffer job submit "$T/job.json") || bail "submit"
coffer job watch "$id" --interval 0.5 > "$T/watch2.out" 2> "$T/watch2.err" &
W=$!
track $W
wait_until 30 grep -q 'running' "$T/watch2.out"
kill -INT "$UP"
wait "$UP"
wait_until 10 grep -q "has stopped" "$T/watch2.err"
kill -INT "$W"
wait "$W"; eq "Ctrl-C while waiting for coffer up: exit 0" 0 $?
grep -q "stopped watching; $id goes on" "$T/watch2.err"; ok $? "and says the job goes on"

start_coffer_up --grace-ms 1000 --no-coordinator
kill -9 "$(jq -r .redis_pid "$STATE")"
wait "$UP"
eq "Redis killed under coffer up: coffer up exits 1" 1 $?
out=$(cat "$T/up.out")
case $out in *"redis-server was killed by signal 9 (Killed), by hand or the OOM killer (see $DATA/redis/redis.log)"*"the jobs, their items and the token are kept in $DATA: start 'coffer up' again and interrupted jobs resume"*)
	ok 0 "says how it died, and what is kept" ;; *) ok 1 "said: $out" ;; esac
start_coffer_up --grace-ms 1000 --no-coordinator
eq "after a new start, the interrupted job resumes and completes" "$id completed" \
	"$(coffer job wait "$id" --timeout 100 | cut -d: -f1)"

kill -INT "$UP"
wait "$UP"
mkdir -p "$T/inst"
cp -r "$COFFER_BUILD/bin" "$COFFER_BUILD/apps" "$T/inst/"
cat > "$T/inst/bin/coffer-manager" <<'SH'
#!/bin/sh
case $1 in token) echo cft_never_ready; exit 0 ;; serve) exec sleep 60 ;; esac
SH
chmod +x "$T/inst/bin/coffer-manager"
"$T/inst/bin/coffer" up --no-coordinator --dir "$T/slow" > "$T/slow.out" 2>&1 &
UP=$!
track $UP
wait_until 20 pgrep -P "$UP" -x sleep >/dev/null || bail "the manager stand-in did not start"
mpid=$(pgrep -P "$UP" -x sleep)
kill -INT "$UP"
wait "$UP"
eq "Ctrl-C while coffer up starts: exit 1" 1 $?
grep -q "interrupted while coffer-manager was starting: what had started is stopped, the data directory is kept" "$T/slow.out"
ok $? "says what became of what had started: $(tail -1 "$T/slow.out")"
wait_until 10 bash -c "! kill -0 $mpid 2>/dev/null"
ok $? "and the manager it had started is stopped"
