#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The manager watches a confidential job's close (doc/manager.md 9.4: a
# GET /v1/jobs/{job}?wait=S held at the coordinator, doc/protocol/
# key-release.md section 5, JW1 to JW5): with a tick of 10 minutes, a job
# can end only because the coordinator's answer runs a tick. Without a
# reduce stage (the last map proof closes the job) and with one (the
# reduce proof closes it, the replica's exit is not waited for).
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 8

jobs_waiting() {
	curl -s "$COORD_URL/metrics" | awk '$1 == "coffer_coordinator_jobs_waiting" {print $2 + 0}'
}
none_held() { [ "$(jobs_waiting)" = 0 ]; }

start_redis
e2e_coordinator
e2e_manager --tick-ms 600000
e2e_owners 1
e2e_policy checksum

e2e_submit
eq "no reduce stage: the job completes with no periodic tick" completed "$(e2e_finish 120)"
check "the manager was told of the close by the coordinator" \
	grep -q "the coordinator says the job is closed job=$JOB coordinator_job=$CJOB" "$MGR_LOG"
check "its outcome from the close request" \
	grep -q "closed at the coordinator job=$JOB outcome=completed" "$MGR_LOG"
check "and no request is held for it any more" wait_until 10 none_held ||
	curl -s "$COORD_URL/metrics" | grep -E "waiting" | sed "s/^/# /"
e2e_verify a
eq "owner a's receipt is valid" 0 "$VRC"

e2e_policy checksum '.apps[0].reduce = true'
e2e_submit '.replicas = {min: 3, max: 3, initial: 3}'
eq "with a reduce stage: the job completes with no periodic tick" completed "$(e2e_finish 120)"
check "told of the close by the coordinator" \
	grep -q "the coordinator says the job is closed job=$JOB coordinator_job=$CJOB" "$MGR_LOG"
e2e_verify a
eq "owner a's receipt is valid, the reduce stage has its result" "0 1" \
	"$VRC $(e2e_stage a reduce ok)"
