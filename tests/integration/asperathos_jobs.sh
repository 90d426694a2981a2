#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Asperathos job files (tests/integration/asperathos/) on POST /submissions:
# accepted with their ignored fields listed, run by an Asperathos-style
# consumer that only knows REDIS_HOST/REDIS_PORT and the keys "job" and
# "job:processing", controlled (default and pid strategies), followed with
# GET /submissions{,/ID}, stopped with PUT .../stop and deleted. A job
# without schedule_strategy, or with min_rep > max_rep, is refused with a
# 400 naming the field.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 36

A=$COFFER_SRC/tests/integration/asperathos
start_redis
# Asperathos fetches its workload over HTTP, and the pid job reads a file
# outside the store: both need the operator's leave (doc/manager.md 1).
start_manager --allow-workload-url --workload-dir "$T"

# The workload: served over HTTP, as Asperathos fetches it, and as a file.
mkdir -p "$T/www"
seq 1 40 | sed 's|^|https://data.example.org/item-|' > "$T/www/workload.txt"
seq 1 30 | sed 's|^|pid-item-|' > "$T/workload-pid.txt"
seq 1 400 | sed 's|^|long-item-|' > "$T/www/long.txt"
start_http /workload.txt /usr/bin/python3 -m http.server @PORT@ --bind 127.0.0.1 --directory "$T/www"
HP=$HTTP_PORT
fill() { # file [workload] -> filled copy in $T
	sed -e "s|@CONSUMER@|$A/consumer.sh|" -e "s|@WORKLOAD_URL@|http://127.0.0.1:$HP/${2:-workload.txt}|" \
		-e "s|@WORKLOAD_FILE@|$T/workload-pid.txt|" "$A/$1" > "$T/$1"
}
results() { rcli LRANGE job:results 0 -1; }

# 1. The quick start's job.
fill quickstart.json
api POST /submissions -H 'Content-Type: application/json' --data @"$T/quickstart.json" > "$T/r1.json"
eq "the quick start's job is accepted (202)" 202 "$HTTP_CODE"
id=$(jq -r .job_id "$T/r1.json")
case $id in kj-*) ok 0 "and answered {\"job_id\": \"$id\"}" ;; *) ok 1 "job_id: $id" ;; esac
jq -e '.ignored | index("plugin_info.username") and index("plugin_info.password") and
	index("plugin_info.config_id") and index("plugin_info.control_parameters.max_size")' \
	"$T/r1.json" >/dev/null
ok $? "username, password, config_id and max_size are listed as ignored"
jq -e '.stored | index("plugin_info.img") and index("plugin_info.visualizer_info") and
	index("plugin_info.control_parameters.actuator")' "$T/r1.json" >/dev/null
ok $? "img, the visualizer and the k8s actuator are listed as stored"
api GET /submissions | jq -e --arg id "$id" '.[$id].status | IN("created", "ongoing", "completed")' >/dev/null
ok $? "GET /submissions lists it with an Asperathos status"
wait_state 60 "$id" completed failed stopped
api GET "/submissions/$id" > "$T/s1.json"
eq "it completes" completed "$(jq -r .status "$T/s1.json")"
jq -e '(.execution_time | type) == "number" and (.start_time | test("^[0-9]{4}-"))' "$T/s1.json" >/dev/null
ok $? "with Asperathos's execution_time and start_time"
eq "every workload line went through the consumer" 40 "$(results | wc -l)"
eq "with the job's env_vars in its environment" 40 "$(results | grep -c ' hello-from-env_vars$')"
eq "each line exactly once" 40 "$(results | cut -d' ' -f1 | sort -u | wc -l)"
eq "job and job:processing are empty" "0 0" "$(rcli LLEN job) $(rcli LLEN job:processing)"
api GET "/v1/jobs/$id/timeline" | jq -e '.decisions | length > 0 and all(.[]; .reason | test("trigger"))' >/dev/null
ok $? "asperathos-default took the decisions"
jq -e '.actuator.requested == "k8s_replicas" and .actuator.used == "local"' "$T/s1.json" >/dev/null
ok $? "k8s_replicas was asked for, the local actuator ran it"
api GET "/submissions/$id/log" | jq -e '.stdout | test("processed https://data.example.org/item-")' >/dev/null
ok $? "GET /submissions/ID/log shows the consumer's output"
api DELETE "/submissions/$id" >/dev/null
eq "DELETE /submissions/ID is 204" 204 "$HTTP_CODE"
api GET "/submissions/$id" >/dev/null
eq "then it is gone" 404 "$HTTP_CODE"
eq "with its queue keys" "0" "$(rcli EXISTS job job:processing job:coffer)"
rcli DEL job:results >/dev/null

# 2. The pid strategy, submitted with the CLI (which sees "plugin").
fill pid.json
pid_id=$(COFFER_URL=$MGR_URL COFFER_TOKEN=$MGR_TOKEN coffer job submit "$T/pid.json" 2>"$T/submit.err")
ok $? "coffer job submit takes an Asperathos file ($pid_id)"
# A second Asperathos job on the same Redis would share "job".
fill payload.json
api POST /submissions --data @"$T/payload.json" > "$T/r3.json"
eq "a concurrent Asperathos job on the same Redis is 409" 409 "$HTTP_CODE"
wait_state 60 "$pid_id" completed failed stopped
eq "the pid job completes" completed "$(job_state "$pid_id")"
eq "all 30 items went through" 30 "$(results | grep -c ' pid$')"
api GET "/v1/jobs/$pid_id" | jq -e '.controller.name == "asperathos-pid"' >/dev/null
ok $? "with asperathos-pid"
api GET "/v1/jobs/$pid_id/timeline" | jq -e '.decisions | length > 0' >/dev/null
ok $? "which decided"
# Finished, it still holds the keys (its items and counts are there): a
# new job would count them as its own.
eq "the keys record their owner" "$pid_id" "$(rcli HGET job:coffer owner)"
api POST /submissions --data @"$T/payload.json" > "$T/r3.json"
eq "while the finished job is not deleted, another is 409" "409 $pid_id" \
	"$HTTP_CODE $(jq -r '.error.message | capture("job (?<id>kj-[0-9a-f]+)").id' "$T/r3.json")"
api DELETE "/submissions/$pid_id/delete" >/dev/null
eq "Asperathos's DELETE /submissions/ID/delete works too" 204 "$HTTP_CODE"
# Keys no Coffer job recorded (another tool's list "job") are not taken.
rcli RPUSH job not-ours >/dev/null
api POST /submissions --data @"$T/payload.json" > "$T/r3.json"
eq "a list 'job' that is not Coffer's is 409, left alone" "409 1" \
	"$HTTP_CODE $(rcli LLEN job)"
rcli DEL job >/dev/null

# 3. The integration tests' payload, long enough to stop it.
fill payload.json long.txt
api POST /submissions --data @"$T/payload.json" > "$T/r3.json"
eq "the integration tests' payload is accepted" 202 "$HTTP_CODE"
long_id=$(jq -r .job_id "$T/r3.json")
jq -e '.ignored | index("plugin_info.secrets") and index("plugin_info.job_resources_lifetime") and index("enable_auth")' \
	"$T/r3.json" >/dev/null
ok $? "secrets, job_resources_lifetime and enable_auth are listed as ignored"
wait_state 30 "$long_id" running
api PUT "/submissions/$long_id/stop" -d '{"username": "u", "password": "p"}' >/dev/null
eq "PUT /submissions/ID/stop is 204" 204 "$HTTP_CODE"
eq "the job is terminated" terminated "$(api GET "/submissions/$long_id" | jq -r .status)"
left=$(rcli LLEN job)
[ "$left" -gt 0 ]; ok $? "it stopped before the end ($left items left)"
wait_until 20 bash -c "! pgrep -f '^/bin/bash $A/consumer[.]sh' >/dev/null"
ok $? "its consumers are gone"

# 4. Refusals, naming the field.
api POST /submissions --data @"$A/no_strategy.json" > "$T/r4.json"
eq "the user guide's file without schedule_strategy is 400" 400 "$HTTP_CODE"
eq "naming the field" plugin_info.control_parameters.schedule_strategy "$(jq -r .error.field "$T/r4.json")"
api POST /submissions --data @"$A/min_gt_max.json" > "$T/r5.json"
eq "min_rep > max_rep is 400" "400 plugin_info.control_parameters.min_rep" \
	"$HTTP_CODE $(jq -r .error.field "$T/r5.json")"
diag "$(jq -r .error.message "$T/r5.json")"
