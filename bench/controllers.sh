#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The controller benchmark (doc/controllers.md section 7): the simulator's
# sweep over every job family with fixed seeds, every controller loaded as
# a plugin .so, next to the best fixed replica count chosen in hindsight;
# then what-if runs of the deadline controller; then plots (gnuplot PNGs in
# bench/out/): cost against the oracle per family, the deadline controller
# on one job of each family, and one representative job per controller.
# Run by `make bench B=controllers`. CTL_SEEDS (6) and CTL_SEED_BASE (1:
# the reported seeds; the controller was tuned on 1000 and up) change the
# seeds.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
sim=$BUILD/bench/controllers-sim
plugins=$BUILD/controllers
seeds=${CTL_SEEDS:-6}
base=${CTL_SEED_BASE:-1}
out=bench/out
mkdir -p "$out"
if [ ! -x "$sim" ]; then
	echo "controllers.sh: $sim is missing (make BUILD=$BUILD bench builds it)" >&2
	exit 1
fi
csv=$out/controllers-runs.csv

echo "Command: \`make bench B=controllers\` (simulator \`$sim --seeds $seeds --seed-base $base\`)."
echo
"$sim" --plugins "$plugins" --seeds "$seeds" --seed-base "$base" --traces "$out" \
	--csv "$csv" || exit 1

echo "### What-if runs of deadline (same jobs, feasible runs)"
echo
echo "| setting | deadline met | cost/oracle median | p95 | median, factor >= 1.5 | p95, factor >= 1.5 | items interrupted/run |"
echo "|---|---:|---:|---:|---:|---:|---:|"
whatif() { # label, sim args...
	local label=$1 row
	shift
	row=$("$sim" --plugins "$plugins" --seeds "$seeds" --seed-base "$base" \
		--only deadline "$@" | grep -F -m1 '| **deadline** |')
	echo "$row" | awk -F'|' -v l="$label" \
		'{ printf "| %s |%s|%s|%s|%s|%s|%s|\n", l, $4, $5, $6, $7, $8, $11 }'
}
whatif "as benchmarked (coffer-manager: idle replicas stop first, item times from the acks, 10 s grace)"
whatif "newest-first stops (the local actuator without the manager's hint)" --newest-first
whatif "no item times (the monitor's mean from replica-seconds, no variance)" --no-item-times
whatif "the host also reports exact ready replicas and start-ups" --obs-full
whatif "newest-first stops with a 120 s grace (and the controller knows it)" \
	--newest-first --grace 120 --deadline-params grace_s=120
whatif "min_slack 1: hedge for every feasible deadline (max at once, as before issue 17)" \
	--deadline-params min_slack=1
whatif "min_slack 1.25: assume every deadline leaves 25% of slack" \
	--deadline-params min_slack=1.25
whatif "the host knows the start-up from earlier jobs" --startup-known
whatif "the job gives item_time_estimate_s, half the true mean" --item-estimate 0.5
whatif "the job gives item_time_estimate_s, twice the true mean" --item-estimate 2
whatif "the host knows the start-up and the job the mean item time (within 30%)" \
	--startup-known --item-estimate 1 --deadline-params estimate_error=1.3
whatif "...and the job also gives the spread of its item times (cv_prior)" \
	--startup-known --item-estimate 1 --spread-known --deadline-params estimate_error=1.3
whatif "...and tail_p 0.1 (the longest item left may outlast the reserve 10% of the time)" \
	--startup-known --item-estimate 1 --spread-known \
	--deadline-params estimate_error=1.3,tail_p=0.1
echo

if ! command -v gnuplot >/dev/null; then
	echo "controllers.sh: gnuplot not installed; no plots" >&2
	exit 0
fi
# Cost / oracle at deadline factors >= 1.5 per family: median and p95 of
# deadline, the best fixed count in hindsight, static-max and hpa.
ctls="deadline hindsight static-max hpa"
pcts() { # family controller -> "median p95" of the feasible runs, factor >= 1.5
	awk -F, -v fam="$1" -v c="$2" 'NR > 1 && $1 == fam && $7 == c && $11 == 1 &&
		$3 >= 1.5 { print $15 }' "$csv" | sort -g |
		awk '{ v[NR] = $1 } END { m = int(NR * 0.5 + 0.999999); p = int(NR * 0.95 + 0.999999);
			if (NR == 0) print "0 0"; else print v[m < 1 ? 1 : m], v[p < 1 ? 1 : p] }'
}
{
	echo "# family $(for c in $ctls; do printf '%s-median %s-p95 ' "$c" "$c"; done)"
	awk -F, 'NR > 1 && !seen[$1]++ { print $1 }' "$csv" | while read -r fam; do
		printf '"%s"' "$fam"
		for c in $ctls; do printf ' %s' "$(pcts "$fam" "$c")"; done
		echo
	done
} >"$out/ctl-families.dat"
gnuplot -e "dat='$out/ctl-families.dat'; out='$out/ctl-families.png'" \
	bench/controllers/plot_families.gp ||
	echo "controllers.sh: gnuplot failed for the family plot" >&2
for dat in "$out"/ctl-trace-*.dat; do
	name=${dat##*/ctl-trace-}
	name=${name%.dat}
	deadline=$(sed -n 's/^# .*; deadline \([0-9.]*\) s;.*/\1/p' "$dat" | head -1)
	summary=$(sed -n 's/^# finished \([0-9.]*\) met \([01]\) cost \([0-9]*\).*/finished at \1 s, met \2, cost \3 replica-s/p' "$dat")
	oracle=$(sed -n 's/^# .*; oracle \([0-9]*\) replica-s.*/\1/p' "$dat" | head -1)
	ymax=$(sed -n 's/^# .*; max \([0-9]*\)$/\1/p' "$dat" | head -1)
	xmax=$(awk -v d="$deadline" 'BEGIN { print 1.6 * d }')
	gnuplot -e "dat='$dat'; out='$out/ctl-$name.png'; \
		title='$name: $summary (oracle $oracle)'; deadline=$deadline; \
		ymax=${ymax:-32}; xmax=$xmax" bench/controllers/plot.gp ||
		echo "controllers.sh: gnuplot failed for $name" >&2
done
echo "Plots: $out/ctl-families.png (cost per family), $out/ctl-*.png (replicas and progress of one job)."
