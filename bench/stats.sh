#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pooled-stats (BENCHMARKS.md, "pooled-stats"): the map's rows per second
# and the reduce's time against Debian's numpy and scikit-learn, measured
# in the same run on the same rows, one core each, in CPU time (user +
# system of the process: other load on a shared machine does not change
# it; the reference runs with one BLAS/OpenMP thread).
#   - data: the Breast Cancer Wisconsin table (demo/data/pooled-stats, 30
#     num columns and a cat label, 569 rows) and the same rows repeated
#     STATS_BENCH_COPIES times (default 40: 22,760 rows, 4.9 MB);
#   - map: the plugin's process() over the file, in one process
#     (tests/tools/apprun, no queue), against numpy.loadtxt reading the
#     same file's 30 number columns (the closest Debian tool: a CSV of
#     numbers to doubles; it checks no schema and skips the label);
#   - reduce: reduce_finish (descriptive statistics with exact quantiles,
#     then the L2 logistic regression, C=1, tol 1e-10) against numpy's
#     mean/std/quantile plus StandardScaler and LogisticRegression(C=1,
#     solver='newton-cholesky', tol=1e-10) fitting the same rows;
#   - median of STATS_BENCH_RUNS runs (default 5) of each;
#   - end to end: `coffer run` of the three hospitals with 2 workers and
#     the reduce stage (includes starting Redis and the workers).
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/stats.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
APP=$COFFER_BUILD/apps/pooled-stats.so
APPRUN=$COFFER_BUILD/tests/tools/apprun
COFFER=$COFFER_BUILD/bin/coffer
D=$PWD/demo/data/pooled-stats
COPIES=${STATS_BENCH_COPIES:-40}
RUNS=${STATS_BENCH_RUNS:-5}
PY=/usr/bin/python3

for x in "$APP" "$APPRUN" "$COFFER"; do
	[ -e "$x" ] || { echo "missing $x (run make bench)"; exit 1; }
done
$PY -c 'import numpy, sklearn' 2>/dev/null || { echo "missing python3-sklearn (scripts/install-deps)"; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
{ head -1 "$D/hospital-a.csv"; tail -qn +2 "$D"/hospital-*.csv; } > "$W/t1.csv"
{ head -1 "$D/hospital-a.csv"; for _ in $(seq "$COPIES"); do tail -qn +2 "$D"/hospital-*.csv; done; } > "$W/tN.csv"
PARAMS=(--param "schema=$(cat "$D/schema.txt")" --param target=diagnosis --param positive=benign
	--param C=1 --param min_owners=1)

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ours FILE REPEAT -> "rows/s reduce_seconds"
ours() {
	"$APPRUN" --app "$APP" "${PARAMS[@]}" --repeat "$2" --time "$1" 2>&1 >/dev/null |
		awk '/^map:/ { m = $2 } /^reduce:/ { r = $2 } END { print m, r }'
}
# ref FILE REPEAT -> "rows/s reduce_seconds"
ref() {
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $PY - "$1" "$2" <<'EOF'
import sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
path, rep = sys.argv[1], int(sys.argv[2])
t = time.process_time()
for _ in range(rep):  # the 30 numbers only: no Python call per row
    X = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(30))
map_rate = X.shape[0] * rep / (time.process_time() - t)
with open(path) as f:
    y = np.array([line.rstrip("\n").endswith(",benign") for line in f][1:], float)
t = time.process_time()
stats = [X.mean(0), X.std(0, ddof=1), X.min(0), X.max(0),
         np.quantile(X, [0.25, 0.5, 0.75], axis=0)]
Z = StandardScaler().fit_transform(X)
LogisticRegression(C=1, solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(Z, y)
print(f"{map_rate:.0f} {time.process_time() - t:.6f}")
EOF
}

for f in t1 tN; do
	rows=$(($(wc -l < "$W/$f.csv") - 1))
	rep=$((200000 / rows + 1))
	: > "$W/$f.ours"
	: > "$W/$f.ref"
	for _ in $(seq "$RUNS"); do
		ours "$W/$f.csv" "$rep" >> "$W/$f.ours"
		ref "$W/$f.csv" "$((rep > 20 ? 20 : rep))" >> "$W/$f.ref"
	done
	# rows, then ours and the reference's map rate and reduce time
	echo "$rows $(cut -d' ' -f1 "$W/$f.ours" | median) $(cut -d' ' -f1 "$W/$f.ref" | median)" \
		"$(cut -d' ' -f2 "$W/$f.ours" | median) $(cut -d' ' -f2 "$W/$f.ref" | median)" >> "$W/results"
done

# table OURS REF FORMAT: rows of $W/results, columns OURS and REF (awk
# field numbers), ratio = the larger is better for the map (rates) and
# the smaller for the reduce (times): both as "how many times faster".
table() {
	awk -v a="$1" -v b="$2" -v fmt="$3" '{
		ratio = a == 2 ? $a / $b : $b / $a
		printf "| %d | " fmt " | " fmt " | %.2fx |\n", $1, $a, $b, ratio }' "$W/results"
}
echo "Map: rows per second of CPU time, one core (median of $RUNS runs)"
echo
echo "| rows | pooled-stats map (schema checks, binary form) | numpy.loadtxt (no checks) | ratio |"
echo "|---:|---:|---:|---:|"
table 2 3 "%.0f"
echo
echo "Reduce: descriptive statistics (mean, SD, min, max, 3 quantiles of 31"
echo "columns) and the L2 logistic regression (C=1, tol 1e-10), CPU seconds"
echo
echo "| rows | pooled-stats reduce_finish | numpy + StandardScaler + LogisticRegression(newton-cholesky) | ratio |"
echo "|---:|---:|---:|---:|"
table 4 5 "%.4f"
echo
echo "(ratio: how many times faster pooled-stats is)"

mkdir -p "$W/in"
cp "$D"/hospital-*.csv "$W/in/"
t0=$(date +%s.%N)
TMPDIR=$W "$COFFER" run --app "$APP" --inputs "$W/in" --outputs "$W/out" --replicas 2 --quiet \
	--owner hospital-a=A --owner hospital-b=B --owner hospital-c=C \
	"${PARAMS[@]}" --param min_owners=3 --reduce result.json > /dev/null 2>&1 ||
	{ echo "coffer run failed"; exit 1; }
t1=$(date +%s.%N)
echo
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "End to end: coffer run of the three hospitals (2 workers, private Redis, reduce): %.2f s\n", b - a }'
