#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer up` after a reboot-like loss (round two of the new user's walk):
# without XDG_RUNTIME_DIR its state file lives under ~/.config and outlives
# a reboot, and the pid it names may by then be another process's. That
# pid is not taken for a running coffer up: `coffer job` says coffer up is
# gone (it used to try the dead port), and the next coffer up neither says
# "which still runs" of a dead one (of its own directory, even) nor puts
# the dead file back when it stops. A --dir that is a file is said to be
# one. After a rebuild (another coffer-coordinator) the coordinator's sealed
# state does not open (rule K4): coffer up says so before starting, with
# what to do, and starts once the old state is moved aside as it says.
# So is a state sealed on another sim host (rule K5): coffer up started
# with another HOME, which holds the sim platform key. A --coordinator-port
# in use at a first start is not said to be where owners pinned it. A job
# store damaged by the crash is named, with what to do, once.
# timeout: 120
. "$(dirname "$0")/lib.sh"
plan 17

export HOME=$T/home
unset XDG_RUNTIME_DIR XDG_DATA_HOME COFFER_URL COFFER_TOKEN
mkdir -p "$HOME"
STATE=$HOME/.config/coffer/up.json
D=$T/data

up() { # log: coffer up of $D, waits for its banner
	coffer up --grace-ms 1000 --no-coordinator --dir "$D" > "$T/$1" 2>&1 &
	UP=$!
	track $UP
	wait_until 30 grep -q "Press Ctrl-C" "$T/$1" || { sed 's/^/# /' "$T/$1"; bail "coffer up did not come up"; }
}

up up1.out
eq "without XDG_RUNTIME_DIR the state file is under ~/.config" "$UP" "$(jq -r .pid "$STATE")"
# The reboot: everything stops at once, the state file stays, and its pid
# is now another process's (here a sleep of ours).
kill -9 "$UP"
wait "$UP" 2>/dev/null
sleep 300 &
reused=$!
track $reused
jq --argjson p "$reused" '.pid = $p' "$STATE" > "$STATE.new" && mv "$STATE.new" "$STATE"
out=$(coffer job list 2>&1)
eq "coffer job list: exit 8" 8 $?
case $out in *"no coffer up is running: $STATE was written by coffer up pid $reused, which is gone"*"coffer up --dir $D"*)
	ok 0 "says that coffer up is gone although its pid is in use again" ;;
*) ok 1 "said: $out" ;; esac

up up2.out
if grep -q "which still runs" "$T/up2.out"; then ok 1 "said: $(grep -A1 state: "$T/up2.out")"
else ok 0 "the next coffer up does not take the dead one for a running one"; fi
kill -INT "$UP"
wait "$UP"
[ ! -e "$STATE" ]; ok $? "and once it stops, it removes the state file rather than put the dead one back"
kill "$reused"

touch "$T/afile"
out=$(coffer up --dir "$T/afile" 2>&1)
eq "a --dir that is a file: exit 6" 6 $?
case $out in *"--dir $T/afile is not a directory"*) ok 0 "said as such" ;; *) ok 1 "said: $out" ;; esac

# A rebuild: an installation of this build whose coffer-coordinator then
# changes (one byte appended: another measurement, still a program).
mkdir -p "$T/inst"
cp -r "$COFFER_BUILD/bin" "$COFFER_BUILD/apps" "$T/inst/"
D2=$T/data2
"$T/inst/bin/coffer" up --grace-ms 1000 --dir "$D2" > "$T/up3.out" 2>&1 &
UP=$!
track $UP
wait_until 30 grep -q "Press Ctrl-C" "$T/up3.out" || { sed 's/^/# /' "$T/up3.out"; bail "coffer up did not come up"; }
kill -INT "$UP"
wait "$UP"
printf '\n' >> "$T/inst/bin/coffer-coordinator"
out=$("$T/inst/bin/coffer" up --grace-ms 1000 --dir "$D2" 2>&1)
eq "after a rebuild of coffer-coordinator: exit 6" 6 $?
case $out in *"the coordinator's state in $D2/coordinator was sealed by another build of coffer-coordinator"*"'mv $D2/coordinator $D2/coordinator.old'"*"--no-coordinator"*)
	ok 0 "says so, and what to do" ;; *) ok 1 "said: $out" ;; esac
mv "$D2/coordinator" "$D2/coordinator.old"
"$T/inst/bin/coffer" up --grace-ms 1000 --dir "$D2" > "$T/up4.out" 2>&1 &
UP=$!
track $UP
wait_until 30 grep -q "Press Ctrl-C" "$T/up4.out"
ok $? "done as it says, coffer up starts with a new coordinator"
kill -INT "$UP"
wait "$UP"
eq "and stops cleanly" 0 $?

mkdir -p "$T/home2"
out=$(HOME=$T/home2 "$T/inst/bin/coffer" up --grace-ms 1000 --dir "$D2" 2>&1)
eq "another HOME (another sim platform key): exit 6" 6 $?
case $out in *"the coordinator's state in $D2/coordinator was sealed on another sim host"*"start coffer up as the user, with the HOME (or COFFER_SIM_DIR), of the start that made the state"*)
	ok 0 "says so, and what to do" ;; *) ok 1 "said: $out" ;; esac

start_redis
out=$(coffer up --dir "$T/data4" --coordinator-port "$REDIS_PORT" 2>&1)
eq "a first start's --coordinator-port in use: exit 6" 6 $?
case $out in *"--coordinator-port $REDIS_PORT: port $REDIS_PORT on 127.0.0.1 is in use by another program: give another --coordinator-port"*)
	ok 0 "said as such, not as the port owners pinned" ;; *) ok 1 "said: $out" ;; esac

head -c 5000 "$D/manager.db" > "$T/cut.db" && mv "$T/cut.db" "$D/manager.db"
rm -f "$D/manager.db-wal" "$D/manager.db-shm"
out=$(coffer up --dir "$D" --no-coordinator 2>&1)
eq "a job store cut short: exit 6" 6 $?
case $out in *"$D/manager.db is damaged: keep a copy of it, then 'sqlite3 $D/manager.db .recover | sqlite3 NEW.db'"*)
	[ "$(grep -c 'is damaged' <<<"$out")" = 1 ]; ok $? "names the file and what to do, once" ;;
*) ok 1 "said: $out" ;; esac
