#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The controller benchmark (doc/controllers.md): the simulator's sweep over
# every workload with fixed seeds, every controller loaded as a plugin .so,
# then what-if runs of the deadline controller, and a plot of replicas and
# progress over time of one representative job per controller (gnuplot PNGs
# in bench/out/). Run by `make bench B=controllers`.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
sim=$BUILD/bench/controllers-sim
plugins=$BUILD/controllers
seeds=${CTL_SEEDS:-6}
out=bench/out
mkdir -p "$out"
if [ ! -x "$sim" ]; then
	echo "controllers.sh: $sim is missing (make BUILD=$BUILD bench builds it)" >&2
	exit 1
fi

echo "Command: \`make bench B=controllers\` (simulator \`$sim --seeds $seeds\`)."
echo
"$sim" --plugins "$plugins" --seeds "$seeds" --seed-base 1 --traces "$out" \
	--csv "$out/controllers-runs.csv" || exit 1

echo "### What-if runs of deadline (same jobs, feasible runs)"
echo
echo "| setting | deadline met | cost/oracle median | p95 | items interrupted/run |"
echo "|---|---:|---:|---:|---:|"
whatif() { # label, sim args...
	local label=$1 row
	shift
	row=$("$sim" --plugins "$plugins" --seeds "$seeds" --seed-base 1 \
		--only deadline "$@" | grep -F '| **overall** / deadline |')
	echo "$row" | awk -F'|' -v l="$label" '{ printf "| %s |%s|%s|%s|%s|\n", l, $4, $5, $6, $9 }'
}
whatif "as benchmarked (coffer-manager: idle replicas stop first, item times from the acks, 10 s grace)"
whatif "before idle-first stops and item times (newest-first stops, no variance, min_slack 1.1)" \
	--newest-first --no-item-times --deadline-params min_slack=1.1
whatif "newest-first stops (the local actuator without the manager's hint)" --newest-first
whatif "no item times (the monitor's mean from replica-seconds, no variance)" --no-item-times
whatif "min_slack 1.1 (the cold start assumes 10% of slack; the previous default)" \
	--deadline-params min_slack=1.1
whatif "the host also reports exact ready replicas and start-ups" --obs-full
whatif "newest-first stops with a 120 s grace (and the controller knows it)" \
	--newest-first --grace 120 --deadline-params grace_s=120
echo

if command -v gnuplot >/dev/null; then
	for dat in "$out"/ctl-trace-*.dat; do
		name=${dat##*/ctl-trace-}
		name=${name%.dat}
		deadline=$(sed -n 's/^# .*; deadline \([0-9.]*\) s;.*/\1/p' "$dat" | head -1)
		summary=$(sed -n 's/^# finished \([0-9.]*\) met \([01]\) cost \([0-9]*\).*/finished at \1 s, met \2, cost \3 replica-s/p' "$dat")
		oracle=$(sed -n 's/^# .*; oracle \([0-9]*\) replica-s.*/\1/p' "$dat" | head -1)
		xmax=$(awk -v d="$deadline" 'BEGIN { print 1.6 * d }')
		gnuplot -e "dat='$dat'; out='$out/ctl-$name.png'; \
			title='$name: $summary (oracle $oracle)'; deadline=$deadline; \
			ymax=32; xmax=$xmax" bench/controllers/plot.gp ||
			echo "controllers.sh: gnuplot failed for $name" >&2
	done
	echo "Plots: $out/ctl-*.png (replicas and progress of the representative job)."
else
	echo "controllers.sh: gnuplot not installed; no plots" >&2
fi
