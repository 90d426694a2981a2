#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer up` across restarts and against a second instance (issue 15): a
# job interrupted by Ctrl-C resumes after a restart although the private
# Redis comes back on another port, one admin token is kept (and can be
# listed and revoked), earlier jobs can be deleted, a second coffer up on
# the same data directory is refused naming the first, a port in use is
# said as such, and --redis uses a running Redis. A coffer up killed
# with SIGKILL leaves no manager or coordinator behind, and `coffer job`
# says it is gone; a coffer up of another --dir hands the state file back
# to the first when it stops. A damaged append-only file is said in one
# line, with its path and how to repair it; a full disk names the file
# that could not be written and why.
# timeout: 200
. "$(dirname "$0")/lib.sh"
plan 40

coffer_up_env

up() { # log-name [args...]: start coffer up, wait for its state file
	local log=$1
	shift
	rm -f "$STATE"
	coffer up --grace-ms 1000 "$@" > "$T/$log" 2>&1 &
	UP=$!
	track $UP
	wait_until 30 test -s "$STATE" || { sed 's/^/# /' "$T/$log"; bail "coffer up did not come up"; }
	URL=$(jq -r .url "$STATE")
	TOKEN=$(jq -r .token "$STATE")
}
down() { kill -INT "$UP"; wait "$UP"; }
state() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/jobs/$1" | jq -r "$2"; }

up up1.out
port1=$(jq -r .redis_url "$STATE")
coord1=$(jq -r .coordinator.url "$STATE")
ident1=$(curl -s "$coord1/v1/identity")
[ -n "$ident1" ] || bail "the coordinator of coffer up does not answer"
tok1=$TOKEN
mkdir -p "$DATA/store/in"
for i in $(seq -w 1 24); do echo "x$i" > "$DATA/store/in/a-$i"; done
cat > "$T/job.json" <<JSON
{"app": "fault", "app_params": {"sleep_ms": 400}, "inputs": {"prefix": "in/a-"},
 "expected_time_s": 120, "replicas": {"min": 2, "max": 2},
 "controller": {"name": "static"}}
JSON
id=$(coffer job submit "$T/job.json")
ok $? "a job is submitted ($id)"
wait_until 30 bash -c "[ \$(curl -s -H 'Authorization: Bearer $TOKEN' $URL/v1/jobs/$id | jq '.items.done // 0') -ge 2 ]"
ok $? "it makes progress"

# 1. A second coffer up on the same directory: refused, naming the first.
coffer up --grace-ms 1000 > "$T/up2.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "in use by another coffer up (pid $UP, http://" "$T/up2.out"
ok $? "a second coffer up on the data directory is refused, naming the first (exit $rc)"
diag "$(cat "$T/up2.out")"
kill -0 "$(jq -r .manager_pid "$STATE")"; ok $? "and the first one's manager still runs"

# 2. Ctrl-C in the middle, then a restart: Redis comes back on another
# port, the job follows it and completes; the token is the same.
down
up up3.out
port3=$(jq -r .redis_url "$STATE")
[ "$port1" != "$port3" ]; ok $? "the private Redis is on another port now ($port1 -> $port3)"
eq "the admin token is the same across runs" "$tok1" "$TOKEN"
eq "the coordinator is back where its owners pinned it, with the same identity" \
	"$coord1 $ident1" "$(jq -r .coordinator.url "$STATE") $(curl -s "$coord1/v1/identity")"
grep -q "kept in $DATA/admin.token" "$T/up3.out"; ok $? "coffer up says where it keeps it"
coffer job watch "$id" --interval 0.5 > "$T/watch.out" 2>&1
ok $? "the interrupted job resumes and completes"
tail -n 1 "$T/watch.out" | sed 's/^/# /'
tail -n 1 "$T/watch.out" | grep -q "completed: every item is done; deadline met"
ok $? "its last line says the deadline was met"
eq "with every item done" "24/24" "$(state "$id" '"\(.items.done)/\(.items.total)"')"
coffer job delete "$id"; ok $? "a job of an earlier run can be deleted"

# 3. Tokens: one for coffer up, more created, listed and revoked.
coffer token list > "$T/tokens.out"
eq "one token after two starts" 1 "$(grep -c ' coffer-up$' "$T/tokens.out")"
ro=$(coffer token create --name ci --scope read)
ok $? "coffer token create makes a read token"
eq "which may read" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ro" "$URL/v1/jobs")"
rid=$(coffer token list | awk '$NF == "ci" { print $1 }')
coffer token revoke "$rid"; ok $? "coffer token revoke $rid"
eq "a revoked token is refused at once" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ro" "$URL/v1/jobs")"
# coffer up's own token revoked: coffer job says what to do.
coffer token revoke "$(coffer token list | awk '$NF == "coffer-up" { print $1 }')"
out=$(coffer job list 2>&1)
eq "with coffer up's own token revoked, coffer job list exits 4" 4 $?
case $out in *"the token in $STATE was refused (revoked?): stop coffer up and start it again"*)
	ok 0 "saying that a restart of coffer up makes a new one" ;; *) ok 1 "said: $out" ;; esac
down

# 4. A port in use is said as such.
/usr/bin/python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' > "$T/port" &
track $!
wait_until 10 test -s "$T/port"
coffer up --port "$(cat "$T/port")" > "$T/up4.out" 2>&1
grep -q "port $(cat "$T/port") on 127.0.0.1 is in use by another program" "$T/up4.out"
ok $? "a port in use is said as such"
diag "$(cat "$T/up4.out")"

# 5. --redis: a running Redis instead of a private one; one that does not
# answer is said at once, with no password shown.
start_redis
dead=$(random_port)
coffer up --redis "redis://:s3cret@127.0.0.1:$dead" --dir "$T/dead" > "$T/up5d.out" 2>&1
eq "a --redis that does not answer: coffer up exits 8 (connection failed)" 8 $?
grep -q "^coffer up: connection failed: --redis: .*127.0.0.1:$dead.*refused" "$T/up5d.out"
ok $? "naming the address ($(head -c 200 "$T/up5d.out"))"
! grep -q s3cret "$T/up5d.out"; ok $? "and not the password"
up up5.out --redis "$REDIS_URL" --dir "$T/other"
for i in 1 2 3; do echo "y$i" > "$T/other/store/b-$i"; done
sed -e 's|"in/a-"|"b-"|' -e 's|400|10|' "$T/job.json" > "$T/job5.json"
id5=$(coffer job submit "$T/job5.json")
coffer job watch "$id5" --interval 0.5 >/dev/null 2>&1
eq "a job of coffer up --redis ran on that Redis" 3 "$(rcli HGET "coffer:{$id5}:meta" total)"
down

# 6. coffer up killed with SIGKILL (or the OOM killer): its manager and
# coordinator stop too (they used to run on, holding the coordinator's
# port, so that the next coffer up on the directory was refused).
up up6.out
mpid=$(jq -r .manager_pid "$STATE")
cpid=$(jq -r .coordinator.pid "$STATE")
kill -9 "$UP"
wait "$UP"
alive() { local s; s=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ]; }
wait_until 20 bash -c "$(declare -f alive); ! alive $mpid && ! alive $cpid"
ok $? "after a SIGKILL of coffer up, its manager ($mpid) and coordinator ($cpid) stop"
out=$(coffer job list 2>&1)
eq "coffer job list then exits 8 (unavailable)" 8 $?
case $out in *"no coffer up is running: $STATE was written by coffer up pid $UP, which is gone"*"coffer up --dir $DATA"*)
	ok 0 "saying that coffer up is gone, and how to start it" ;;
*) ok 1 "said: $out" ;; esac
up up7.out
eq "coffer up starts again on the directory, its coordinator on its port" \
	"$coord1" "$(jq -r .coordinator.url "$STATE")"

# 7. A coffer up of another directory takes the state file over while it
# runs, says so, and gives it back to the first when it stops. Its --dir
# is relative (Redis used to fail to start with it, an empty log said).
first=$UP
(cd "$T" && exec coffer up --grace-ms 1000 --dir second --no-coordinator) > "$T/up8.out" 2>&1 &
second=$!
track $second
wait_until 30 bash -c "[ \"\$(jq -r .pid '$STATE')\" = $second ]"
ok $? "a coffer up of another --dir writes the state file"
wait_until 10 grep -q "Press Ctrl-C" "$T/up8.out"
grep -q "it named coffer up pid $first of $DATA, which still runs" "$T/up8.out"
ok $? "and says whose it was"
eq "a relative --dir is made absolute (Redis runs, the state file names it)" \
	"$T/second" "$(jq -r .dir "$STATE")"
kill -INT "$second"
wait "$second"
eq "once it stops, the state file names the first again" "$first $URL" \
	"$(jq -r '"\(.pid) \(.url)"' "$STATE")"
down

# 8. A damaged append-only file of the private Redis: one line with its
# full path and what to do (it was redis.log's last lines joined by '|',
# naming the file without its directory).
mkdir -p "$T/aof/redis"
redis-server --port 0 --unixsocket "$T/aof.sock" --dir "$T/aof/redis" --save '' \
	--appendonly yes --daemonize no --logfile "$T/aof/redis/redis.log" &
rpid=$!
track $rpid
wait_until 10 test -S "$T/aof.sock"
kill "$rpid"; wait "$rpid"
incr=$(cd "$T/aof/redis/appendonlydir" && ls *.incr.aof)
echo "garbage!" >> "$T/aof/redis/appendonlydir/$incr"
coffer up --dir "$T/aof" --no-coordinator > "$T/up9.out" 2>&1
eq "a damaged AOF: coffer up exits 6" 6 $?
eq "in one line" 1 "$(wc -l < "$T/up9.out")"
grep -qF "redis-server cannot load its append-only file $T/aof/redis/appendonlydir/$incr (Bad file format): keep a copy of $T/aof/redis/appendonlydir, then repair it with 'redis-check-aof --fix $T/aof/redis/appendonlydir/appendonly.aof.manifest'" "$T/up9.out"
ok $? "naming the file with its directory, and the repair ($(cat "$T/up9.out"))"

# 9. A full disk: the coordinator's sealed state and the manager's job store
# say which file could not be written and why, not SQLite's "disk I/O
# error" alone. Without root, a file size limit stands for the full disk
# (with SIGXFSZ ignored a write then fails with EFBIG, as with ENOSPC).
full() { # dir limit-kb [args...]
	local d=$1 lim=$2
	shift 2
	(trap '' XFSZ; ulimit -f "$lim"; exec coffer up --dir "$d" "$@") > "$d.out" 2>&1
}
full "$T/full1" 64
eq "coffer up with its coordinator's disk full: exits 6" 6 $?
grep -qF "write $T/full1/coordinator/state.log: File too large (the file size limit is reached: see 'ulimit -f')" "$T/full1.out"
ok $? "naming the coordinator's file and the cause ($(cat "$T/full1.out"))"
full "$T/full2" 8 --no-coordinator
eq "with the manager's disk full: exits 6" 6 $?
grep -qF "job store: disk I/O error: $T/full2/manager.db: File too large (the file size limit is reached: see 'ulimit -f')" "$T/full2.out"
ok $? "naming the job store's file and the cause ($(cat "$T/full2.out"))"
grep -q "coffer-manager token exited with status 1 (its message is above)$" "$T/full2.out"
ok $? "and how the manager's command ended, not a raw wait status ('status 256')"
