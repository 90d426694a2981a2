#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The queue's password stays where it belongs (doc/manager.md section 1):
# not in the manager's log, not in a worker's command line (readable by any
# local user in /proc), not in an exec app's environment; a manager may take
# its Redis URL from COFFER_REDIS_URL instead of --redis, so that its own
# command line does not show it either. The job's env still reaches the app.
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 12

PW=s3cretpw-manager
export REDISCLI_AUTH=$PW
start_redis --requirepass "$PW"
REDIS_URL=redis://:$PW@127.0.0.1:$REDIS_PORT
start_manager
make_items 3

# The app's output: its environment, then its parent's (the worker's)
# command line.
cat > "$T/spy" <<'EOF'
#!/bin/sh
cat > /dev/null
env | sort
echo ---
tr '\0' ' ' < /proc/$PPID/cmdline
echo
echo ---
tr '\0' '\n' < /proc/$PPID/environ | cut -d= -f1 | sed 's/^/worker-env: /'
EOF
chmod +x "$T/spy"

grep -q 'manager started' "$MGR_LOG"; ok $? "the manager logged its start"
! grep -q "$PW" "$MGR_LOG"; ok $? "without the password"
grep -q 'redis=redis://:\*\*\*@127.0.0.1' "$MGR_LOG"; ok $? "but with the redacted URL"

job='"app":"'$T/spy'","inputs":{"prefix":"in/"},"outputs":{"prefix":"out/"},"expected_time_s":60,"replicas":{"max":1},"controller":{"name":"static"},"env":{"WANTED_BY_JOB":"yes"}'
api POST /v1/jobs -d "{$job}" > "$T/j1.json"
eq "a job with an exec app is accepted" 201 "$HTTP_CODE"
id=$(jq -r .id "$T/j1.json")
wait_state 30 "$id" completed failed
eq "it completes (the worker found the queue)" completed "$(job_state "$id")"
o=$T/store/out/in/i-1
[ -s "$o" ] && ! grep -q "$PW" "$o"
ok $? "neither the app's environment nor the worker's command line holds the password"
sed -n '/^---$/,$p' "$o" | grep -q -- '--job' && ! sed -n '/^---$/,$p' "$o" | grep -q -- '--redis'
ok $? "the worker got the URL through its environment, not --redis"
grep -q '^WANTED_BY_JOB=yes$' "$o"; ok $? "the job's env reaches the app"
eq "no REDIS_* or COFFER_REDIS_URL in the app's environment" "" \
	"$(grep -E '^(REDIS_|COFFER_REDIS_URL=)' "$o")"

# The URL from the environment: not on the manager's command line.
stop_manager
rm -f "$T/manager.url"
COFFER_REDIS_URL=$REDIS_URL COFFER_ASPERATHOS_REDIS_URL=$REDIS_URL coffer-manager serve --db "$MGR_DB" --listen 127.0.0.1:0 \
	--ready-file "$T/manager.url" --store "$T/store" --tick-ms 250 --grace-ms 3000 \
	>>"$MGR_LOG" 2>&1 &
MGR_PID=$!
track $MGR_PID
wait_until 30 test -s "$T/manager.url" || bail "coffer-manager did not start"
MGR_URL=$(cat "$T/manager.url")
! tr '\0' ' ' < "/proc/$MGR_PID/cmdline" | grep -q "$PW"
ok $? "COFFER_REDIS_URL keeps the password off the manager's command line"
api POST /v1/jobs -d "{${job/out\//out2\/}}" > "$T/j2.json"
id2=$(jq -r .id "$T/j2.json")
wait_state 30 "$id2" completed failed
eq "and it reaches the queue" completed "$(job_state "$id2")"
# The manager takes the variables out of its environment: replicas inherit
# it through the actuator, and a native job's worker needs only its own.
o2=$T/store/out2/in/i-1
[ -s "$o2" ] && grep -q '^worker-env: COFFER_JOB$' "$o2" &&
	! grep -q '^worker-env: COFFER_ASPERATHOS_REDIS_URL$' "$o2"
ok $? "the replicas do not inherit COFFER_ASPERATHOS_REDIS_URL"
