#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Bad data and lost servers never take the manager down: garbage in the
# job's Redis keys, Redis stopping in the middle of a job (the job waits and
# then completes), and corrupt rows in the job store (skipped at start,
# reported in the log, the rest served).
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 12

start_redis
start_manager
make_items 30
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$MGR_URL/healthz")" = 200 ]; }
api POST /v1/jobs --data-binary '{"app": "fault", "app_params": {"sleep_ms": 150},
  "inputs": {"prefix": "in/"}, "expected_time_s": 60, "lease_ms": 2000,
  "replicas": {"min": 1, "max": 2}, "controller": {"name": "static", "params": {"replicas": "min"}}}' > "$T/j.json"
id=$(jq -r .id "$T/j.json")
wait_state 30 "$id" running || bail "the job did not start"

# Garbage where the queue keeps its counters.
saved=$(rcli HGET "coffer:{$id}:meta" total)
rcli HSET "coffer:{$id}:meta" total "not a number" >/dev/null
rcli SET "coffer:{$id}:stray" 1 >/dev/null
sleep 1
check "garbage in the queue's keys: the manager still answers" healthy
api GET "/v1/jobs/$id" >/dev/null
eq "and shows the job" 200 "$HTTP_CODE"
rcli HSET "coffer:{$id}:meta" total "$saved" >/dev/null

# Redis goes away for a while.
# Once the job's reason says so, the manager has met the dead queue on
# its ticks (no fixed sleep: that is the event to wait for).
stop_redis
wait_until 10 bash -c "curl -s -H 'Authorization: Bearer $MGR_TOKEN' $MGR_URL/v1/jobs/$id | jq -r .reason | grep -q 'queue does not answer'"
down_rc=$?
check "Redis stopped: the manager still answers" healthy
api GET "/v1/jobs/$id" > "$T/down.json"
eq "the job is still running" running "$(jq -r .state "$T/down.json")"
ok $down_rc "and its reason says the queue does not answer"
api GET /metrics >/dev/null
eq "metrics still render" 200 "$HTTP_CODE"
start_redis_again || bail "redis did not restart"
wait_state 90 "$id" completed failed stopped
eq "with Redis back (same data), the job completes" completed "$(job_state "$id")"
eq "all 30 items done" "30 0" "$(api GET "/v1/jobs/$id" | jq -r '"\(.items.done) \(.items.failed)"')"

# Corrupt rows in the job store.
stop_manager
/usr/bin/python3 - "$MGR_DB" "$id" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("insert into jobs (id, kind, state, spec, redis_url, submitted_ms) values "
           "('job-badspec', 'native', 'running', '{\"app\": ', 'redis://127.0.0.1:1', 1)")
db.execute("insert into jobs (id, kind, state, spec, redis_url, submitted_ms) values "
           "('job-badstate', 'native', 'sleeping', '{}', 'redis://127.0.0.1:1', 1)")
db.execute("insert into samples (job_id, seq, t_s) values (?, 999999, 'x')", (sys.argv[2],))
db.commit()
PY
restart_manager
check "with corrupt rows the manager starts and answers" healthy
api GET /v1/jobs/job-badspec >/dev/null
eq "an unreadable job is skipped" 404 "$HTTP_CODE"
grep -q "job job-badspec in the store is unreadable, skipped" "$MGR_LOG"; ok $? "and the log says so"
eq "the good job is still served" completed "$(job_state "$id")"
