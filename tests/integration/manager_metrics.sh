#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# GET /metrics in the Prometheus text format: the right Content-Type,
# promtool's parser and linter accept it, and a real Prometheus scrapes it
# with a bearer token and answers queries on the job's series.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 12

start_redis
start_manager
make_items 20
api POST /v1/jobs --data-binary '{"name": "metrics", "app": "fault",
  "app_params": {"sleep_ms": 20}, "inputs": {"prefix": "in/"}, "expected_time_s": 30,
  "replicas": {"min": 1, "max": 2}, "controller": {"name": "asperathos-default",
  "check_interval_s": 0.5, "params": {"trigger_up": 0, "trigger_down": 0, "actuation_size": 1}}}' > "$T/j.json"
eq "a job to measure" 201 "$HTTP_CODE"
id=$(jq -r .id "$T/j.json")
wait_state 60 "$id" completed failed
api GET /v1/jobs/nothing >/dev/null   # a 404 to count

curl -s -D "$T/hdr" -o "$T/metrics.txt" -H "Authorization: Bearer $MGR_TOKEN" "$MGR_URL/metrics"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/hdr"; ok $? "Content-Type is text/plain; version=0.0.4"
promtool check metrics < "$T/metrics.txt" > "$T/promtool.out" 2>&1
rc=$?
sed 's/^/# /' "$T/promtool.out"
eq "promtool check metrics accepts it (parser and linter)" 0 "$rc"
grep -q "^coffer_job_items{job_id=\"$id\",state=\"done\"} 20$" "$T/metrics.txt"
ok $? "coffer_job_items counts the job's 20 done items"
grep -q "^coffer_job_state{job_id=\"$id\",state=\"completed\"} 1$" "$T/metrics.txt"
ok $? "coffer_job_state says completed"
grep -q '^coffer_http_requests_total{route="/v1/jobs/{id}",method="GET",code="404"} 1$' "$T/metrics.txt"
ok $? "coffer_http_requests_total counts by route pattern, method and code"
grep -q '^# TYPE coffer_job_replica_seconds_total counter$' "$T/metrics.txt"
ok $? "counters are typed as counters"

# A real Prometheus, scraping every second with the bearer token.
start_prometheus "127.0.0.1:${MGR_URL##*:}" "$MGR_TOKEN"
q() { prom_query "$1"; }
got=
for _ in $(seq 40); do
	got=$(q "coffer_job_items{job_id=\"$id\",state=\"done\"}" | jq -r '.data.result[0].value[1] // empty')
	[ -n "$got" ] && break
	sleep 0.5
done
eq "prometheus scraped the done count" 20 "$got"
eq "the scrape target is up" 1 "$(q 'up{job="coffer"}' | jq -r '.data.result[0].value[1]')"
eq "the scrape job's label is kept apart from ours" "coffer $id" \
	"$(q "coffer_job_progress_ratio{job_id=\"$id\"}" | jq -r '.data.result[0].metric | "\(.job) \(.job_id)"')"
eq "a counter can be queried with rate()" success \
	"$(q 'sum(rate(coffer_http_requests_total[1m]))' | jq -r .status)"
curl -s "$PROM_URL/api/v1/targets" | jq -e '.data.activeTargets[0].lastError == ""' >/dev/null
ok $? "the scrape has no error"
