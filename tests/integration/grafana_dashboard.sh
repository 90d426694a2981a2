#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# deploy/grafana/coffer.json against a real Prometheus (Grafana itself is
# not installable here): Prometheus scrapes a manager that ran a job (scaled
# by its controller, with dead-lettered items) and every query of the
# dashboard, its variables filled in as Grafana would, returns series over
# the job's time range; the variables' label_values() queries list the job
# and the manager.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
DASH=$COFFER_SRC/deploy/grafana/coffer.json

jq -e . "$DASH" >/dev/null || bail "$DASH is not JSON"
# Every target of every panel, rows included: {"panel": title, "expr": ...}.
jq -c '[.panels[] | (., .panels[]?) | select(.targets != null) | . as $p |
	.targets[] | {panel: $p.title, expr: .expr}] | .[]' "$DASH" > "$T/targets"
ntargets=$(wc -l < "$T/targets")
plan $((ntargets + 8))

start_redis
start_manager
# Prometheus scrapes every second with a read token, as doc/manager.md says.
READ=$(coffer-manager token create --db "$MGR_DB" --scope read)
target=${MGR_URL#http://}
start_prometheus "$target" "$READ"
P=$PROM_URL
q() { prom_query "$1"; }
# The first scrape comes some seconds after the start: the job starts once
# Prometheus sees the manager, so that it sees the job run.
for _ in $(seq 60); do
	[ "$(q 'up{job="coffer"}' | jq -r '.data.result[0].value[1] // empty')" = 1 ] && break
	sleep 0.5
done
make_items 40
start_s=$(date +%s)
api POST /v1/jobs --data-binary '{"name": "grafana", "app": "fault",
  "app_params": {"sleep_ms": 150, "fail": "in/i-0[37]"}, "max_attempts": 1,
  "inputs": {"prefix": "in/"}, "expected_time_s": 5, "replicas": {"min": 1, "max": 3},
  "controller": {"name": "asperathos-default", "check_interval_s": 0.5,
                 "params": {"trigger_up": 0, "trigger_down": 0.2, "actuation_size": 1}}}' > "$T/j.json"
id=$(jq -r .id "$T/j.json")
[ "$HTTP_CODE" = 201 ] || bail "submit: $(cat "$T/j.json")"


wait_state 90 "$id" failed completed; ok $? "the job ran to its end ($(job_state "$id"))"
api GET "/v1/jobs/$id" > "$T/final.json"
[ "$(jq -r '.controller.decisions' "$T/final.json")" -gt 0 ] &&
	[ "$(jq -r '.items.failed' "$T/final.json")" -gt 0 ]
ok $? "with decisions and failed items to show ($(jq -c '{d: .controller.decisions, items}' "$T/final.json"))"

# Scraped after the end: the final state is in Prometheus.
got=
for _ in $(seq 60); do
	got=$(q "coffer_job_state{job_id=\"$id\",state=\"failed\"}" | jq -r '.data.result[0].value[1] // empty')
	[ "$got" = 1 ] && break
	sleep 0.5
done
eq "prometheus saw the job end" 1 "$got"
sleep 2 # a few more samples for rate() and increase()
end_s=$(date +%s)

# The variables, as Grafana resolves label_values(METRIC, LABEL): the
# series API's label values.
label_values() { # metric-selector label
	curl -s -G "$P/api/v1/series" --data-urlencode "match[]=$1" \
		--data-urlencode "start=$start_s" --data-urlencode "end=$end_s" |
		jq -r --arg l "$2" '[.data[][$l]] | unique | .[]'
}
inst_q=$(jq -r '.templating.list[] | select(.name == "instance") | .query.query' "$DASH")
job_q=$(jq -r '.templating.list[] | select(.name == "job_id") | .query.query' "$DASH")
eq "the instance variable is label_values over coffer_build_info" \
	"label_values(coffer_build_info, instance)" "$inst_q"
instances=$(label_values coffer_build_info instance)
eq "and lists the manager" "$target" "$instances"
# Fill in $instance in the job variable's query, as Grafana does.
job_sel=$(sed -E 's/^label_values\((.*), *job_id\)$/\1/' <<<"$job_q")
job_sel=${job_sel//\$instance/$target}
label_values "$job_sel" job_id | grep -qx "$id"; ok $? "the job variable lists the job ($job_sel)"
curl -s -H "Authorization: Bearer $READ" "$MGR_URL/metrics" > "$T/metrics.txt"
eq "no query names a metric the manager does not export" "" \
	"$(grep -oE 'coffer_[a-z_]+' "$T/targets" | sort -u | while read -r m; do
		grep -q "^# TYPE $m " "$T/metrics.txt" || echo "$m"
	done)"
# doc/manager.md section 11's table: a row for every family the manager
# exports, and no row for one it does not.
sed -n '/^## 11\./,/^## 12\./p' "$COFFER_SRC/doc/manager.md" | grep '^| `coffer_' |
	cut -d'|' -f2 | grep -oE 'coffer_[a-z_]+' | sort -u > "$T/documented"
sed -n 's/^# TYPE \(coffer_[a-z_]*\) .*/\1/p' "$T/metrics.txt" | sort -u > "$T/exported"
eq "doc/manager.md documents every metric exported, and no other ($(wc -l < "$T/exported") families)" "" \
	"$(comm -3 "$T/documented" "$T/exported" | sed 's/^\t/exported, not documented: /; s/^coffer/documented, not exported: coffer/')"

# Every panel query, with $job_id, $instance and Grafana's built-in
# intervals filled in, over the job's time range at a 1 s step.
while IFS= read -r t; do
	title=$(jq -r .panel <<<"$t")
	expr=$(jq -r .expr <<<"$t")
	e=${expr//\$job_id/$id}
	e=${e//\$instance/$target}
	e=${e//\$__rate_interval/15s}
	e=${e//\$__interval/1s}
	res=$(curl -s "$P/api/v1/query_range" --data-urlencode "query=$e" \
		--data-urlencode "start=$start_s" --data-urlencode "end=$end_s" --data-urlencode "step=1")
	n=$(jq -r 'if .status == "success" then (.data.result | length) else -1 end' <<<"$res" 2>/dev/null)
	[ "${n:-0}" -gt 0 ]
	ok $? "\"$title\": $expr returns $n series"
	[ "${n:-0}" -gt 0 ] || { echo "#   $e"; echo "#   $res" | head -c 400; echo; }
done < "$T/targets"
