#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Executable apps at their edges (doc/worker.md 4.3): an app that leaves a
# child in the background holding its stdout is done when it exits, with
# or without an item timeout, and the child does not outlive the item; an
# app sees a clean environment: its item, the job's parameters, PATH and
# HOME, the names listed with --app-env, and never the queue's URL (with its
# password), REDIS_* or the worker's own COFFER_* variables; and `coffer run
# --redis URL` does not put that URL on its workers' command lines.
# timeout: 180
. "$(dirname "$0")/lib.sh"
plan 20

QCTL=$COFFER_BUILD/tests/tools/queuectl
PW=s3cretpw-worker
export REDISCLI_AUTH=$PW
start_redis --requirepass "$PW"
URL=redis://:$PW@127.0.0.1:$REDIS_PORT
mkdir -p "$T/in" "$T/out" "$T/bg"
for i in 1 2 3; do printf 'input %d\n' "$i" > "$T/in/item-$i"; done

# 1. `cat; sleep 300 & exit 0`: the background sleep keeps stdout open.
cat > "$T/bgapp" <<EOF
#!/bin/sh
cat
sleep 300 &
echo \$! > "$T/bg/\$COFFER_ITEM_ID"
exit 0
EOF
chmod +x "$T/bgapp"
run_bg() { # job timeout-ms
	check "load the items of $1" "$QCTL" load "$URL" "$1" --dir "$T/in"
	timeout 60 coffer-worker --job "$1" --store "$T/in" --outputs "$T/out/$1" \
		--app "$T/bgapp" --item-timeout-ms "$2" --max-attempts 1 \
		--exit-when-done 2> "$T/$1.log" &
	wpid=$!
	track $wpid
	wait $wpid
}
COFFER_REDIS_URL=$URL run_bg bg1 20000
eq "with an item timeout: the worker ends on its own" 0 $?
eq "every item is done (not 'timed out')" "total=3 done=3 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$URL" bg1)"
grep 'timed out' "$T/bg1.log" | sed 's/^/# /'
check "the outputs are the app's" cmp "$T/in/item-2" "$T/out/bg1/item-2"
# Alive: it exists and is not a zombie (killed, not yet reaped by init).
running() { local st; st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1); [ -n "$st" ] && [ "$st" != Z ]; }
alive=0
for f in "$T"/bg/*; do running "$(cat "$f")" && alive=$((alive + 1)); done
eq "no background child outlives its item (of $(ls "$T/bg" | wc -l))" 0 "$alive"
rm -f "$T"/bg/*
COFFER_REDIS_URL=$URL run_bg bg0 0
eq "without an item timeout: no hang (exit status, 124 = hung)" 0 $?
eq "every item is done" "total=3 done=3 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$URL" bg0)"

# A child that keeps writing to the app's stdout after the app has exited
# does not keep the item going either: the worker stops reading after a
# short grace (100 ms).
cat > "$T/chatty" <<'EOF'
#!/bin/sh
cat
(while :; do echo more; sleep 0.01; done) &
exit 0
EOF
chmod +x "$T/chatty"
check "load the chatty job" "$QCTL" load "$URL" chatty item-1
COFFER_REDIS_URL=$URL timeout 60 coffer-worker --job chatty --store "$T/in" \
	--outputs "$T/out/chatty" --app "$T/chatty" --item-timeout-ms 0 --exit-when-done \
	2> "$T/chatty.log"
eq "an app whose child keeps writing is done (exit status, 124 = hung)" 0 $?
head -n 1 "$T/out/chatty/item-1" | cmp -s - "$T/in/item-1"
ok $? "its output starts with what the app wrote"

# 2. The app's environment: its output is its environment.
cat > "$T/envapp" <<'EOF'
#!/bin/sh
cat > /dev/null
env | sort
EOF
chmod +x "$T/envapp"
check "load the env job" "$QCTL" load "$URL" envjob item-1
COFFER_REDIS_URL=$URL REDIS_HOST=127.0.0.1 REDIS_PORT=$REDIS_PORT \
	COFFER_STORE=$T/in SECRET_OF_THE_PARENT=x WANTED_BY_JOB=yes \
	timeout 60 coffer-worker --job envjob --outputs "$T/out/env" --app "$T/envapp" \
	--app-env WANTED_BY_JOB --param my.param=7 --exit-when-done 2> "$T/env.log"
eq "the env job ends" 0 $?
e=$T/out/env/item-1
grep -q '^COFFER_ITEM_ID=item-1$' "$e" && grep -q '^COFFER_ITEM_ATTEMPT=1$' "$e" &&
	grep -q '^COFFER_JOB=envjob$' "$e" && grep -q '^COFFER_PARAM_my_param=7$' "$e" &&
	grep -q '^PATH=' "$e" && grep -q '^WANTED_BY_JOB=yes$' "$e"
ok $? "the app sees its item, parameters, PATH and the --app-env names"
! grep -q "$PW" "$e"
ok $? "never the queue's password"
eq "nor REDIS_*, other COFFER_* or unlisted variables" "" \
	"$(grep -E '^(REDIS_|SECRET_OF_THE_PARENT=|COFFER_(REDIS_URL|STORE|APP_ENV)=)' "$e")"
coffer-worker --job x --redis "$URL" --store "$T/in" --app "$T/envapp" \
	--app-env COFFER_REDIS_URL 2> "$T/bad.log"
eq "--app-env refuses the worker's own variables (exit 2)" 2 $?

# 3. coffer run --redis URL: the workers get the URL in their environment.
cat > "$T/cmdline" <<'EOF'
#!/bin/sh
cat > /dev/null
tr '\0' ' ' < /proc/$PPID/cmdline
EOF
chmod +x "$T/cmdline"
mkdir -p "$T/rin"
printf 'x\n' > "$T/rin/one"
coffer run --app "$T/cmdline" --inputs "$T/rin" --outputs "$T/rout" --redis "$URL" \
	--replicas 1 --quiet > "$T/run.out" 2>&1
eq "coffer run with a password in its Redis URL works" 0 $?
grep -q -- '--job' "$T/rout/one"; ok $? "the app saw its worker's command line"
! grep -q "$PW" "$T/rout/one"; ok $? "which does not hold the password"
