#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Slurm backend of the actuator alone (tests/tools/actuatorctl), on a
# real cluster started here: replicas as array tasks with the spec's
# environment and id; scale-down by the hint (idle first) with SIGTERM
# reaching the replica's program itself; scancel after the grace period;
# a replica cancelled from outside replaced, one that exits 0 ending the
# pool; a new actuator adopting the replicas of a detached one; options
# and submissions the cluster refuses, with clear errors.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/actuator_common.bash"

plan 33

start_slurm 2 8
D=$T/replicas
mkdir -p "$D"
replica_script "$T/replica.sh" "$D"
start_ctl slurm --opt partition=debug --opt poll-ms=200 \
	--name coffer-act --label coffer-job=act-1 --env COFFER_TEST_VAR=hello \
	--grace-ms 2000 --restart 1 --log "$T/replicas.log" -- "$T/replica.sh" "$D"

# 1. Three replicas: array tasks, each with its id and the spec's env.
eq "set 3" ok "$(cmd 'set 3')"
eq "three replicas run" ok "$(cmd 'wait 3 60')"
mapfile -t IDS < <(ids)
eq "three ids" 3 "${#IDS[@]}"
J=${IDS[0]#s}
J=${J%_*}
eq "the ids are the array tasks" "s${J}_0 s${J}_1 s${J}_2" "${IDS[*]}"
# Each task starts on its own: wait for all three, not one of them.
started() { for i in "${IDS[@]}"; do [ -s "$D/$i.start" ] || return 1; done; }
wait_until 30 started
eq "each replica got its id and the spec's environment" "s${J}_1 hello" \
	"$(cut -d' ' -f1,2 "$D/s${J}_1.start")"
check "list gives each replica's node" bash -c "[ \"\$(echo '$(cmd list)' | tr ';' '\n' | grep -c ' running n[12] 0$')\" -eq 3 ]"
ok "$([ "$(field startups)" -ge 3 ] && echo 0 || echo 1)" "start-ups are measured"

# 2. Scale down to one, two replicas busy: the idle one stops first, then
# the busy one whose item is the most recent. SIGTERM reaches the
# program (its trap ran), which exits 0: COMPLETED, nothing killed.
eq "set 1 with a hint" ok "$(cmd "set 1 s${J}_0=50 s${J}_1=2")"
eq "one replica left" ok "$(cmd 'wait 1 60')"
eq "the oldest item's replica is kept" "s${J}_0" "$(ids)"
eq "SIGTERM reached the idle replica's program" term "$(cat "$D/s${J}_2.term" 2>/dev/null)"
eq "... and the busy one with the recent item" term "$(cat "$D/s${J}_1.term" 2>/dev/null)"
eq "they ended as COMPLETED" "COMPLETED COMPLETED" \
	"$(squeue -h -r -t all -j "${J}_1,${J}_2" -o '%T' | tr '\n' ' ' | sed 's/ $//')"
eq "nothing was killed or counted as crashed" "0 0" "$(field killed) $(field crashed)"

# 3. A replica that ignores SIGTERM is cancelled by Slurm after the grace.
touch "$D/stubborn"
eq "set 2" ok "$(cmd 'set 2')"
eq "two run" ok "$(cmd 'wait 2 60')"
eq "set 1 stops the newest" ok "$(cmd 'set 1')"
eq "it is gone after the grace period" ok "$(cmd 'wait 1 60')"
eq "it was killed, not counted as a crash" "1 0" "$(field killed) $(field crashed)"
rm -f "$D/stubborn"

# 4. Cancelled from outside: a crash, replaced by a new submission.
eq "set 2 again" ok "$(cmd 'set 2')"
eq "two run again" ok "$(cmd 'wait 2 60')"
VICTIM=$(ids | tail -1)
scancel "${VICTIM#s}"
cmd 'tick 2' >/dev/null
eq "the cancelled replica is replaced" ok "$(cmd 'wait 2 60')"
eq "counted as a crash" 1 "$(field crashed)"

# 5. Detach: a new actuator of the same name and labels adopts them.
BEFORE=$(ids | tr "\n" " ")
eq "detach and a new actuator" ok "$(cmd detach)"
eq "it is asked for two" ok "$(cmd 'set 2')"
eq "the new one sees two" ok "$(cmd 'wait 2 30')"
eq "the same replicas, adopted, none started" "${BEFORE}adopted=2 started=0" \
	"$(ids | tr '\n' ' ')adopted=$(field adopted) started=$(field started)"

# 6. A replica that leaves by itself with status 0 ends the pool.
touch "$D/finish"
eq "the replicas finish" ok "$(cmd 'wait 0 60')"
eq "set 3 starts nothing more" "ok 0" "$(cmd 'set 3') $(cmd 'tick 1' >/dev/null; field running)"
eq "stop_all" ok "$(cmd stopall)"
stop_ctl

# 7. Options and submissions the cluster refuses.
OUT=$("$CTL" slurm --opt partiton=debug -- true </dev/null)
check "a misspelt option is named" grep -q "unknown option 'partiton'" <<<"$OUT"
OUT=$("$CTL" slurm --opt time=soon -- true </dev/null)
check "a bad time limit is refused" grep -q "time: 'soon' is not a Slurm time" <<<"$OUT"
OUT=$(printf 'set 1\ntick 3\nstatus\nquit\n' | "$CTL" slurm --opt partition=nosuch --name coffer-bad -- true)
check "sbatch's refusal is the status error" grep -q "error=sbatch: .*[Ii]nvalid partition" <<<"$OUT"
