#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Replica start-up through the actuators (BENCHMARKS.md, "Actuators"): the
# local backend and a real Slurm cluster (munged, slurmctld and two
# emulated nodes of 8 CPUs each, started here as the tests start it), in
# the same run, driven by tests/tools/actuatorctl:
#   - start-up of one replica: from set_replicas(1) to the replica's
#     program running (it writes the time it started; one clock, one
#     machine), ACT_BENCH_RUNS times (default 10), median and 90th
#     percentile;
#   - scale-up 0 -> 16: from set_replicas(16) to the first and to the last
#     of the 16 programs running, ACT_BENCH_SCALE_RUNS times (default 5),
#     median and worst.
# Slurm's figures are its scheduler's (a job array of 16 tasks is one
# sbatch; the main scheduler picks it up on its next cycle), measured with
# the test cluster's slurm.conf (tests/integration/lib.sh, start_slurm),
# twice: with Slurm's default SchedulerParameters, then with
# batch_sched_delay=0 (what the tests use).
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/actuators.sh
set -u
cd "$(dirname "$0")/.."
export COFFER_BUILD=${COFFER_BUILD:-$PWD/${BUILD:-build}}
. tests/integration/lib.sh
. tests/integration/actuator_common.bash
RUNS=${ACT_BENCH_RUNS:-10}
SRUNS=${ACT_BENCH_SCALE_RUNS:-5}
N=16

[ -x "$CTL" ] || { echo "missing $CTL (run make bench)"; exit 1; }
for t in slurmctld slurmd munged sbatch; do
	command -v $t >/dev/null || { echo "missing $t (scripts/install-deps)"; exit 1; }
done

cat >"$T/replica.sh" <<'EOF'
#!/bin/sh
date +%s.%N >"$1/$COFFER_REPLICA_ID.start"
exec sleep 600
EOF
chmod +x "$T/replica.sh"

now() { date +%s.%N; }
# starts DIR: the start times written so far, sorted.
starts() { cat "$1"/*.start 2>/dev/null | sort -n; }
# wait_starts DIR N: until N replicas wrote their start time (60 s at most).
wait_starts() {
	local i
	for i in $(seq 6000); do
		[ "$(starts "$1" | grep -c .)" -ge "$2" ] && return 0
		sleep 0.01
	done
	return 1
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
pct90() { sort -n | awk '{v[NR]=$1} END {i=int(NR*0.9+0.999); if (i<1) i=1; print v[i]}'; }
worst() { sort -n | tail -1; }

# measure NAME BACKEND ARGS...: fills one/first/last result files.
measure() {
	local name=$1 d t0 r
	shift
	start_ctl "$@" -- "$T/replica.sh" "$T/$name.d"
	: >"$T/$name.one"
	: >"$T/$name.first"
	: >"$T/$name.last"
	for r in $(seq "$RUNS"); do
		d=$T/$name.d
		rm -rf "$d" && mkdir -p "$d"
		t0=$(now)
		[ "$(cmd 'set 1')" = ok ] || { echo "$name: set failed"; return 1; }
		# The actuator works only when ticked: tick until it sees one
		# running, then read when the program started.
		cmd 'wait 1 60' >/dev/null
		wait_starts "$d" 1 || { echo "$name: no start"; return 1; }
		echo "$(starts "$d" | head -1) - $t0" | bc >>"$T/$name.one"
		cmd 'set 0' >/dev/null
		cmd 'wait 0 60' >/dev/null
	done
	for r in $(seq "$SRUNS"); do
		d=$T/$name.d
		rm -rf "$d" && mkdir -p "$d"
		t0=$(now)
		cmd "set $N" >/dev/null
		cmd "wait $N 60" >/dev/null
		wait_starts "$d" "$N" || { echo "$name: not $N starts"; return 1; }
		echo "$(starts "$d" | head -1) - $t0" | bc >>"$T/$name.first"
		echo "$(starts "$d" | tail -1) - $t0" | bc >>"$T/$name.last"
		cmd 'set 0' >/dev/null
		cmd 'wait 0 60' >/dev/null
	done
	cmd stopall >/dev/null
	stop_ctl
}

SLURM_SCHED_PARAMS= start_slurm 2 8
[ -n "${SKIP_LOCAL:-}" ] || measure local local --grace-ms 2000 || exit 1
measure slurm slurm --opt partition=debug --opt poll-ms=200 --name coffer-bench \
	--label coffer-job=bench --grace-ms 2000 || exit 1
_stop_slurm
SLURM_SCHED_PARAMS=batch_sched_delay=0 start_slurm 2 8
measure tuned slurm --opt partition=debug --opt poll-ms=200 --name coffer-bench \
	--label coffer-job=bench --grace-ms 2000 || exit 1

f() { printf '%.3f' "$1"; }
row() { # label file stat
	local l s u
	l=$($3 <"$T/local.$2")
	s=$($3 <"$T/slurm.$2")
	u=$($3 <"$T/tuned.$2")
	printf '| %s | %s | %s | %s | %.0fx |\n' "$1" "$(f "$l")" "$(f "$s")" \
		"$(f "$u")" "$(echo "$u / $l" | bc -l)"
}
echo "Replica start-up, seconds from the request to the replica's program"
echo "running (local: a fork/exec here; slurm: sbatch of a job array, the"
echo "scheduler's cycle, slurmd and slurmstepd on an emulated node)."
echo
echo "| measurement | local | slurm, defaults | slurm, batch_sched_delay=0 | slurm (batch_sched_delay=0) / local |"
echo "|---|---|---|---|---|"
row "one replica, median of $RUNS" one median
row "one replica, 90th percentile" one pct90
row "0 -> $N: first running, median of $SRUNS" first median
row "0 -> $N: all $N running, median of $SRUNS" last median
row "0 -> $N: all $N running, worst of $SRUNS" last worst
echo
echo "Slurm $(sinfo --version | cut -d' ' -f2), a real cluster of 2 emulated nodes x 8 CPUs;"
echo "slurm.conf as start_slurm writes it (SchedulerType=sched/backfill), with"
echo "the default SchedulerParameters, then SchedulerParameters=batch_sched_delay=0."
