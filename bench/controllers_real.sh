#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The controller simulator checked against a real run: one job of a few
# hundred sleeping items on real coffer-worker replicas started by the local
# actuator (behind a start-up delay standing in for attestation), a private
# redis-server, and the deadline controller loaded as a plugin, observing
# and scaling down as coffer-manager does (item times from the acks; idle
# replicas stop first, named by the queue's holders); then the
# simulator's prediction for the same parameters. Goal: the deadline is met
# and the real cost is within 20% of the prediction.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=bench/out
mkdir -p "$out"
sim=$BUILD/bench/controllers-sim
real=$BUILD/bench/controllers_real
worker=$BUILD/bin/coffer-worker
app=$PWD/$BUILD/apps/fault.so
ctl=$BUILD/controllers/deadline.so
for f in "$sim" "$real" "$worker" "$app" "$ctl"; do
	if [ ! -e "$f" ]; then
		echo "controllers_real.sh: $f is missing (make BUILD=$BUILD bench builds it)" >&2
		exit 1
	fi
done

# The job: 300 items of 2 s (the fault app's sleep_ms), replicas that take
# 5 s to start, at most 8, a tick every second, coffer-manager's 10 s grace
# and the queue's 30 s lease; the deadline is twice the fastest completion.
items=${CTL_REAL_ITEMS:-300}
item_ms=${CTL_REAL_ITEM_MS:-2000}
startup=${CTL_REAL_STARTUP:-5}
max=${CTL_REAL_MAX:-8}
factor=${CTL_REAL_FACTOR:-2}
item_s=$(awk -v m="$item_ms" 'BEGIN { printf "%.3f", m / 1000 }')
common=(--items "$items" --item-time "$item_s" --sigma 0 --startup "$startup"
	--max "$max" --interval 1 --grace 10 --lease 30)
fastest=$("$sim" --one --controller static "${common[@]}" --deadline 1e9 |
	sed -n 's/.* fastest=\([0-9.]*\) .*/\1/p')
deadline=$(awk -v f="$fastest" -v k="$factor" 'BEGIN { printf "%.1f", f * k }')

echo "Command: \`make bench B=controllers\` (\`bench/controllers_real.sh\`): $items items"
echo "of $item_ms ms, start-up $startup s, max $max replicas, deadline $deadline s"
echo "($factor x the fastest completion, $fastest s), check interval 1 s."
echo

realout=$("$real" --worker "$worker" --app "$app" --controller "$ctl" \
	--items "$items" --item-ms "$item_ms" --startup "$startup" --max "$max" \
	--deadline "$deadline" --interval 1 --grace-ms 10000 --lease-ms 30000 \
	--trace "$out/ctl-real-trace.dat") || { echo "real run failed" >&2; exit 1; }
predout=$("$sim" --one --plugin "$ctl" "${common[@]}" --deadline "$deadline" \
	--trace "$out/ctl-real-sim-trace.dat") || { echo "simulation failed" >&2; exit 1; }
# the same, with the item and start-up times the real run measured
mitem=$(echo "$realout" | sed -n 's/.* measured_item_s=\([0-9.]*\).*/\1/p')
mstart=$(echo "$realout" | sed -n 's/.* measured_startup_s=\([0-9.]*\).*/\1/p')
pred2out=$("$sim" --one --plugin "$ctl" --items "$items" --item-time "$mitem" \
	--sigma 0 --startup "$mstart" --max "$max" --interval 1 --grace 10 \
	--lease 30 --deadline "$deadline") || { echo "simulation failed" >&2; exit 1; }

field() { echo "$1" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p"; }
echo "| run | deadline met | finish (s) | cost (replica-s) | peak replicas | scale events | replicas killed (items interrupted) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '| real (local actuator, coffer-worker, redis) | %s | %s | %s | %s | %s | %s |\n' \
	"$(field "$realout" met)" "$(field "$realout" finish)" "$(field "$realout" cost)" \
	"$(field "$realout" peak)" "$(field "$realout" scale_events)" "$(field "$realout" killed)"
printf '| simulator, same parameters | %s | %s | %s | %s | %s | %s |\n' \
	"$(field "$predout" met)" "$(field "$predout" finish)" "$(field "$predout" cost)" \
	"$(field "$predout" peak)" "$(field "$predout" scale_events)" "$(field "$predout" interrupted)"
printf '| simulator, measured item %s s and start-up %s s | %s | %s | %s | %s | %s | %s |\n' \
	"$mitem" "$mstart" "$(field "$pred2out" met)" "$(field "$pred2out" finish)" \
	"$(field "$pred2out" cost)" "$(field "$pred2out" peak)" "$(field "$pred2out" scale_events)" \
	"$(field "$pred2out" interrupted)"
echo
rc=0
awk -v r="$(field "$realout" cost)" -v p="$(field "$predout" cost)" \
	-v met="$(field "$realout" met)" 'BEGIN {
	d = (r - p) / p * 100
	printf "Real cost / predicted cost: %.3f (%+.1f%%; goal within 20%%): %s; deadline %s.\n",
	    r / p, d, (d <= 20 && d >= -20) ? "met" : "NOT met",
	    met == 1 ? "met" : "NOT met"
	exit !((d <= 20 && d >= -20) && met == 1)
}' || rc=1

if command -v gnuplot >/dev/null; then
	gnuplot -e "set terminal pngcairo size 900,460 font 'DejaVu Sans,10'; \
		set output '$out/ctl-real.png'; \
		set title 'deadline controller: real run vs simulator (same job)'; \
		set xlabel 'time (s)'; set ylabel 'replicas'; set y2label 'progress (%)'; \
		set yrange [0:$max * 1.2]; set y2range [0:105]; set ytics nomirror; set y2tics 0,20,100; \
		set key outside bottom center horizontal; set grid; \
		set arrow 1 from $deadline, graph 0 to $deadline, graph 1 nohead lw 2 lc rgb '#c0392b' dt 2; \
		plot '$out/ctl-real-trace.dat' u 1:2 w steps lw 2 lc rgb '#2c7fb8' t 'real: replicas', \
		     '$out/ctl-real-sim-trace.dat' u 1:2 w steps lw 2 dt 2 lc rgb '#08306b' t 'simulated: replicas', \
		     '$out/ctl-real-trace.dat' u 1:5 axes x1y2 w l lw 2 lc rgb '#f39c12' t 'real: progress', \
		     '$out/ctl-real-sim-trace.dat' u 1:5 axes x1y2 w l lw 2 dt 2 lc rgb '#a04000' t 'simulated: progress'" ||
		echo "controllers_real.sh: gnuplot failed" >&2
	echo "Plot: $out/ctl-real.png."
fi
exit $rc
