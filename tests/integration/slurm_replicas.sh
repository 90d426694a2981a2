#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Slurm actuator against a real cluster (munged, slurmctld, two
# emulated nodes) started here: jobs through coffer-manager whose replicas
# are Slurm array tasks; a replica cancelled from outside and one killed,
# a node drained then downed, a replica preempted: each replaced, every
# item done; the manager killed while replicas run adopts them (no
# duplicates). The backend's own behaviour (graceful stops, the hint) is
# slurm_actuator.sh's.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"

plan 19

start_redis
start_slurm 2 8
start_manager --actuator slurm --actuator-opt partition=debug \
	--actuator-opt time=10 --actuator-opt poll-ms=250

# submit NAME ITEMS SLEEP_MS INITIAL MAX CONTROLLER_JSON: a fault-app job
# over in-NAME/ (items copied to out-NAME/); sets ID.
submit() {
	local name=$1 n=$2 ms=$3 init=$4 max=$5 ctl=$6 i
	mkdir -p "$T/store/in-$name"
	for i in $(seq -w 1 "$n"); do printf '%s %s\n' "$name" "$i" >"$T/store/in-$name/i-$i"; done
	api POST /v1/jobs -d "{\"name\":\"$name\",\"app\":\"fault\",
		\"app_params\":{\"sleep_ms\":$ms},\"inputs\":{\"prefix\":\"in-$name/\"},
		\"outputs\":{\"prefix\":\"out-$name/\"},\"expected_time_s\":120,
		\"lease_ms\":2000,\"replicas\":{\"min\":1,\"max\":$max,\"initial\":$init},
		\"controller\":$ctl}" >"$T/sub.json"
	ID=$(jq -r .id "$T/sub.json")
	[ "$ID" != null ] || bail "$name: the job was refused: $(cat "$T/sub.json")"
}

# outputs_ok NAME: every input has an output with its content.
outputs_ok() {
	local f
	for f in "$T/store/in-$1"/*; do
		cmp -s "$f" "$T/store/out-$1/in-$1/$(basename "$f")" || return 1
	done
}

# live NAME: the job's array tasks that Slurm has pending or running.
live() { squeue -h -r --name "coffer-$1" -t pending,running -o '%i' | sort; }
# nrunning ID N: N of the job's array tasks run.
nrunning() { [ "$(squeue -h -r --name "coffer-$1" -t running -o '%i' | grep -c .)" -eq "$2" ]; }
# arrays NAME: how many sbatch submissions (array jobs) the job made.
arrays() { squeue -h -r --name "coffer-$1" -t all -o '%F' | sort -u | grep -c .; }
# attempts ID: the highest attempt of any item done, from the replicas' log.
attempts() {
	grep -o 'attempt=[0-9]*' "$T/manager.db.logs/$1.log" | cut -d= -f2 | sort -n | tail -1
}
# kill_replica ID: SIGKILL every process whose COFFER_REPLICA_ID is ID
# (the test's own replicas, on this machine), once its worker runs (the
# batch script sets the variable, then execs the worker). 1 if none
# within 20 s.
kill_replica() {
	local e n=0
	for _ in $(seq 200); do
		for e in /proc/[0-9]*/environ; do
			{ tr '\0' '\n' <"$e"; } 2>/dev/null | grep -qx "COFFER_REPLICA_ID=$1" &&
				kill -9 "$(basename "$(dirname "$e")")" 2>/dev/null && n=$((n + 1))
		done
		[ $n -gt 0 ] && return 0
		sleep 0.1
	done
	return 1
}
# started ID N: N of the job's array tasks run within 60 s; else what the
# job, Slurm and the manager say.
started() {
	wait_secs 60 nrunning "$1" "$2" && return 0
	diag "replicas did not all start: $(api GET "/v1/jobs/$1" | jq -c '[.state, .reason, .replicas]')"
	squeue -h -a -r -t all -o '%i %j %T %R' 2>&1 | sed 's/^/# squeue: /'
	tail -n 5 "$MGR_LOG" | sed 's/^/# /'
	return 1
}
static() { echo "{\"name\":\"static\",\"check_interval_s\":1,\"params\":{\"replicas\":\"$1\"}}"; }

# 1. A job on the cluster: its replicas are the array tasks of one
# submission, of the job's name, its labels in their comment, with the
# options given (partition, time limit). From outside, an admin cancels
# one (scancel: Slurm's SIGTERM, the worker finishes its item) and another
# one's processes are killed (kill -9, as the OOM killer would: its item
# is lost and comes back after its lease). Both are replaced by new
# submissions, and every output is there.
submit outside 18 400 3 3 "$(static 3)"
started "$ID" 3
eq "one submission of three replicas" "1 3" \
	"$(arrays "$ID") $(squeue -h -r --name "coffer-$ID" -t all -o '%i' | grep -c .)"
mapfile -t R < <(squeue -h -r --name "coffer-$ID" -t running -o '%i')
scontrol show job "${R[2]}" >"$T/task.job"
eq "partition and time limit reach Slurm" "Partition=debug TimeLimit=00:10:00" \
	"$(grep -o 'Partition=[a-z]*' "$T/task.job") $(grep -o 'TimeLimit=[0-9:]*' "$T/task.job")"
check "the job's labels are its comment" \
	grep -Eq "Comment=coffer-job=$ID,coffer-manager=m[0-9a-f]{8},coffer-stage=map( |$)" "$T/task.job"
scancel "${R[0]}"
kill_replica "s${R[1]}" || diag "no process of s${R[1]} found"
check "outside: the job completes" wait_state 120 "$ID" completed
check "outside: every output" outputs_ok outside
eq "outside: Slurm saw one cancelled, one failed" "CANCELLED FAILED" \
	"$(squeue -h -r -t all -j "${R[0]},${R[1]}" -o '%T' | sort | tr '\n' ' ' | sed 's/ $//')"
ok "$([ "$(arrays "$ID")" -ge 2 ] && echo 0 || echo 1)" \
	"outside: the lost replicas were replaced ($(arrays "$ID") submissions)"
ok "$([ "$(attempts "$ID")" -ge 2 ] && echo 0 || echo 1)" \
	"outside: the killed replica's item was leased again"

# 2. A node drained mid-job keeps its replicas running; taken down, its
# replicas are killed by Slurm and replaced on the other node.
submit drain 18 400 3 3 "$(static 3)"
started "$ID" 3
N=$(squeue -h -r --name "coffer-$ID" -t running -o '%N' | head -1)
scontrol update NodeName="$N" State=DRAIN Reason=coffer-test
sleep 0.5
eq "drain: the replicas on $N keep running" 3 \
	"$(squeue -h -r --name "coffer-$ID" -t running -o '%i' | grep -c .)"
scontrol update NodeName="$N" State=DOWN Reason=coffer-test
check "drain: the job completes" wait_state 120 "$ID" completed
check "drain: every output" outputs_ok drain
ok "$(squeue -h -r --name "coffer-$ID" -t all -o '%N' | grep -qv "^$N\$" && echo 0 || echo 1)" \
	"drain: replicas ran on the other node once $N was down"
scontrol update NodeName="$N" State=RESUME
wait_secs 30 slurm_idle 2 || diag "$N did not come back"

# 3. Preemption: a job of the high partition needs a whole node; the
# replicas there are cancelled by the scheduler and replaced.
submit preempt 40 400 4 4 "$(static 4)"
started "$ID" 4
N=$(squeue -h -r --name "coffer-$ID" -t running -o '%N' | head -1)
HJ=$(sbatch --parsable -p high --exclusive -w "$N" -o /dev/null --wrap 'sleep 3')
check "preempt: the job completes" wait_state 120 "$ID" completed
check "preempt: every output" outputs_ok preempt
ok "$(squeue -h -r --name "coffer-$ID" -t all -o '%T' | grep -q PREEMPTED && echo 0 || echo 1)" \
	"preempt: the scheduler preempted replicas (job $HJ)"

# 4. The manager is killed while replicas run; the next one adopts them:
# the same array tasks, no new submission while they live.
submit restart 18 600 3 3 "$(static 3)"
started "$ID" 3
BEFORE=$(live "$ID")
kill -9 "$MGR_PID"
wait "$MGR_PID" 2>/dev/null
restart_manager --actuator slurm --actuator-opt partition=debug --actuator-opt poll-ms=250
sleep 1
eq "restart: the same replicas, none added" "$BEFORE" "$(live "$ID")"
check "restart: the job completes" wait_state 120 "$ID" completed
eq "restart: no submission after the restart" 1 "$(arrays "$ID")"
check "restart: the replicas were adopted" grep -q "adopted a replica" "$MGR_LOG"
