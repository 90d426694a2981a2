#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# deploy/slurm/coffer-control.sbatch on a real cluster (started here): the
# control plane runs as a Slurm job, its manager submits a job's workers
# as array tasks, the job completes with every output; scancel of the
# control job stops the manager and Redis and leaves no worker behind.
# And `coffer run --actuator slurm`: the same, without a manager.
# timeout: 180
. "$(dirname "$0")/lib.sh"

plan 10

start_slurm 2 8
H=$T/coffer
mkdir -p "$H/store/in"
for i in $(seq -w 1 12); do printf 'deploy %s\n' "$i" >"$H/store/in/i-$i"; done
MP=$(random_port) || bail "no port"
RP=$(random_port) || bail "no port"
CJ=$(sbatch --parsable -o "$T/control.out" \
	--export=ALL,COFFER_HOME="$H",COFFER_BIN="$BIN",COFFER_APPS="$COFFER_BUILD/apps",COFFER_LISTEN_HOST=127.0.0.1,COFFER_PORT="$MP",COFFER_REDIS_PORT="$RP",COFFER_PARTITION=debug,COFFER_TIME=10,COFFER_GRACE_MS=3000 \
	"$COFFER_SRC/deploy/slurm/coffer-control.sbatch")
check "the control job's manager is up" wait_until 60 test -s "$H/manager.url"
URL=$(cat "$H/manager.url")
TOKEN=$(cat "$H/token")
SUB=$(curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" "$URL/v1/jobs" -d '{"app":"fault",
	"app_params":{"sleep_ms":200},"inputs":{"prefix":"in/"},"outputs":{"prefix":"out/"},
	"expected_time_s":60,"replicas":{"min":1,"max":3,"initial":3},
	"controller":{"name":"static","params":{"replicas":"max"}}}')
ID=$(jq -r .id <<<"$SUB")
[ "$ID" != null ] || bail "the job was refused: $SUB"
done_() { [ "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/jobs/$ID" | jq -r .state)" = completed ]; }
check "the job completes" wait_secs 90 done_ ||
	diag "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/jobs/$ID" | jq -c "[.state, .reason, .replicas]")"
same=0
for f in "$H/store/in"/*; do cmp -s "$f" "$H/store/out/in/$(basename "$f")" || same=1; done
ok $same "every output is its input"
eq "its workers were array tasks of the job's name, with the options" \
	"3 debug" "$(squeue -h -r -t all --name "coffer-$ID" -o '%i' | grep -c .) $(squeue -h -r -t all --name "coffer-$ID" -o '%P' | sort -u)"
scancel "$CJ"
gone() { ! squeue -h -j "$CJ" -t running,completing 2>/dev/null | grep -q .; }
check "scancel stops the control job" wait_secs 30 gone
eq "no worker is left running" "" "$(squeue -h -r -t running,pending -o %j | grep coffer-job)"

# coffer run on the cluster: workers as Slurm jobs, a queue they reach.
start_redis
check_fails "coffer run --actuator slurm needs --redis" coffer run --app \
	"$COFFER_BUILD/apps/fault.so" --inputs "$H/store/in" --outputs "$T/run-out" \
	--actuator slurm
OUT=$(coffer run --app "$COFFER_BUILD/apps/fault.so" --inputs "$H/store/in" \
	--outputs "$T/run-out" --replicas 3 --redis "$REDIS_URL" --job slurm-run \
	--actuator slurm --actuator-opt partition=debug --quiet 2>&1)
ok $? "coffer run --actuator slurm completes"
same=0
for f in "$H/store/in"/*; do cmp -s "$f" "$T/run-out/$(basename "$f")" || same=1; done
ok $same "coffer run: every output is its input"
eq "coffer run: its workers were Slurm jobs" 3 \
	"$(squeue -h -r -t all --name coffer-slurm-run -o %i | grep -c .)"
