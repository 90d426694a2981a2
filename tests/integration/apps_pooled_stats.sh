#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The pooled-stats app (doc/apps/pooled-stats.md) on the Breast Cancer
# Wisconsin data split into three hospitals (demo/data/pooled-stats/):
# under `coffer run` with owners; the same figures as the whole table;
# checked against Debian's numpy and scikit-learn (and scipy's LP for the
# separable case) by tests/integration/pooled-stats/reference.py for
# several C; malformed files refused with line and column and without the
# cell's value; every disclosure limit enforced. Most runs go through
# tests/tools/apprun (the plugin's stages in one process, in
# milliseconds); `coffer run` covers the worker path.
# timeout: 180
. "$(dirname "$0")/lib.sh"
plan 91

APP=$COFFER_BUILD/apps/pooled-stats.so
APPRUN=$COFFER_BUILD/tests/tools/apprun
D=$COFFER_SRC/demo/data/pooled-stats
REF="/usr/bin/python3 $COFFER_SRC/tests/integration/pooled-stats/reference.py"
export TMPDIR=$T
SCHEMA="schema=$(cat "$D/schema.txt")"
MODEL=(--param "$SCHEMA" --param target=diagnosis --param positive=benign)
OWNERS=(--owner hospital-a=A --owner hospital-b=B --owner hospital-c=C)
HOSP=("$D/hospital-a.csv" "$D/hospital-b.csv" "$D/hospital-c.csv")

# stats OUT [apprun args...]: run the app in-process, result in $T/OUT.
stats() {
	local out=$1
	shift
	"$APPRUN" --app "$APP" "$@" > "$T/$out" 2> "$T/$out.err"
}
# refused "description" EXPECTED-SUBSTRING [apprun args...]
refused() {
	local desc=$1 want=$2 err
	shift 2
	"$APPRUN" --app "$APP" "$@" > /dev/null 2> "$T/refused.err"
	local rc=$?
	err=$(cat "$T/refused.err")
	if [ $rc -ne 0 ] && [[ $err == *"$want"* ]]; then ok 0 "$desc"; else
		ok 1 "$desc"; diag "exit $rc: $err"; fi
}
# json FILE EXPR: a value of a result (Python's json, as the reference).
json() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

# --- Under coffer run: three owners named by input prefix -------------------
mkdir -p "$T/in"
cp "${HOSP[@]}" "$T/in/"
coffer run --app "$APP" --inputs "$T/in" --outputs "$T/out" --replicas 2 --quiet \
	"${OWNERS[@]}" "${MODEL[@]}" --reduce result.json > "$T/run.out" 2> "$T/run.err"
eq "coffer run with three owners and --reduce: exit 0" 0 $?
eq "the result counts 3 owners and 569 rows" "3 569 ['A', 'B', 'C']" \
	"$(json "$T/out/result.json" 'r["owners"], r["rows"], r["owner_names"]')"
stats inproc.json "${OWNERS[@]}" "${MODEL[@]}" "${HOSP[@]}"
check "the worker path and the in-process path give the same bytes" \
	cmp "$T/out/result.json" "$T/inproc.json"
map_bytes=$(cat "$T"/out/hospital-*.csv | wc -c)
csv_bytes=$(cat "${HOSP[@]}" | wc -c)
[ "$map_bytes" -lt $((csv_bytes / 2)) ]
ok $? "the map outputs are compact ($map_bytes bytes for $csv_bytes of CSV)"

# --- Three owners give what the whole table gives ----------------------------
{ head -1 "${HOSP[0]}"; for f in "${HOSP[@]}"; do tail -n +2 "$f"; done; } > "$T/whole.csv"
stats whole.json --param min_owners=1 "${MODEL[@]}" "$T/whole.csv"
eq "the whole table as one file: exit 0" 0 $?
check "three owners give the same statistics and model as the whole table" \
	$REF --same "$T/inproc.json" "$T/whole.json"

# --- Against numpy and scikit-learn, several C; the separable case --------------
for C in 0.01 0.1 1 10 100; do
	stats "C$C.json" "${OWNERS[@]}" "${MODEL[@]}" --param C=$C "${HOSP[@]}" ||
		diag "C=$C: $(cat "$T/C$C.json.err")"
done
stats none.json "${OWNERS[@]}" "${MODEL[@]}" --param penalty=none "${HOSP[@]}"
eq "penalty=none: the app reports, it does not fail" 0 $?
$REF --positive benign "${HOSP[@]}" -- "$T"/C0.01.json "$T"/C0.1.json "$T"/C1.json \
	"$T"/C10.json "$T"/C100.json "$T"/none.json > "$T/ref.out" 2>&1
n=0
while IFS= read -r line; do
	case $line in
	"ok   "*) ok 0 "${line#ok   }"; n=$((n + 1)) ;;
	"FAIL "*) ok 1 "${line#FAIL }"; n=$((n + 1)) ;;
	*) echo "$line" ;;
	esac
done < "$T/ref.out"
eq "the reference made its 30 checks" 30 "$n"
eq "penalty=none says there is no finite solution, with no coefficients" \
	"separated False None" \
	"$(json "$T/none.json" 'r["model"]["status"], r["model"]["finite_solution"], r["model"]["intercept"]')"
grep -q '"message": "no finite solution: .*complete separation' "$T/none.json"
ok $? "... and says why in its message"

# --- Malformed files: refused with line and column, never the cell's value ----
H=$(head -1 "${HOSP[0]}")
mkdir -p "$T/bad"
bad() { # name line3: a file of header + 2 good rows + the given third row
	{ echo "$H"; sed -n 2,3p "${HOSP[0]}"; printf '%s\n' "$2"; } > "$T/bad/$1"
}
row=$(sed -n 4p "${HOSP[0]}")
f2() { awk -F, -v OFS=, -v v="$1" '{ $2 = v; print }' <<< "$row"; }
bad nonnum.csv "$(f2 10.3x8)"
bad range.csv "-${row}"
bad level.csv "${row%,*},cancer"
bad missing.csv "$(f2 '')"
bad na.csv "$(f2 NA)"
bad fields.csv "${row%,*}"
bad quote.csv "$(f2 '"10.38')"
refused "a cell that is not a number: line and column" \
	"'nonnum.csv' line 4, column 2 (mean texture): not a decimal number" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/nonnum.csv"
refused "a value below the schema's range" \
	"line 4, column 1 (mean radius): outside the allowed range [0, inf]" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/range.csv"
refused "a label that is not a level" \
	"line 4, column 31 (diagnosis): not one of the levels malignant, benign" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/level.csv"
refused "an empty cell" "line 4, column 2 (mean texture): a missing value (give missing=drop" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/missing.csv"
refused "NA is missing too" "line 4, column 2 (mean texture): a missing value" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/na.csv"
refused "a row with a field too few" "line 4: 30 fields, the header has 31" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/fields.csv"
refused "a quoted field never closed" "line 4, column 2: a quoted field is not closed" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/quote.csv"
"$APPRUN" --app "$APP" "${MODEL[@]}" --param min_owners=1 "$T/bad/nonnum.csv" 2>&1 |
	grep -q '10.3x8'
ok $((1 - $?)) "the error does not quote the cell"
stats dropped.json --param "$SCHEMA" --param min_owners=1 --param min_rows_per_owner=1 \
	--param missing=drop --param min_cell_count=1 "$T/bad/missing.csv"
eq "missing=drop leaves the row out and counts it" "2 1" \
	"$(json "$T/dropped.json" 'r["rows"], r["rows_dropped_missing"]')"
sed 's/^mean radius,/mean radius,patient id,/; 2,$s/^\([^,]*\),/\1,P-0042,/' "${HOSP[0]}" > "$T/bad/extra.csv"
refused "a column the schema does not declare" \
	"line 1, column 2: 'patient id' is not a column of the schema (declare it NAME:skip" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/extra.csv"
stats skip.json --param "schema=patient id:skip;$(cat "$D/schema.txt")" --param target=diagnosis \
	--param positive=benign --param min_owners=1 "$T/bad/extra.csv"
stats noskip.json "${MODEL[@]}" --param min_owners=1 "${HOSP[0]}"
check "a skip column is read and left out" cmp "$T/skip.json" "$T/noskip.json"
cut -d, -f1-30 "${HOSP[0]}" > "$T/bad/nolabel.csv"
refused "a column the schema declares is missing" "line 1: no column 'diagnosis'" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/nolabel.csv"
# Spreadsheet habits: a BOM, CRLF, quoted fields, spaces, columns reordered.
/usr/bin/python3 - "${HOSP[0]}" "$T/bad/excel.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
order = list(range(len(rows[0]) - 1, -1, -1))
with open(sys.argv[2], "w", newline="", encoding="utf-8-sig") as f:
    w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for r in rows:
        w.writerow([" " + r[i] + " " if i % 2 else r[i] for i in order])
EOF
stats excel.json "${MODEL[@]}" --param min_owners=1 "$T/bad/excel.csv"
check "BOM, CRLF, quotes, spaces and another column order read the same" \
	cmp "$T/excel.json" "$T/noskip.json"

# --- Parameters ----------------------------------------------------------
refused "an unknown parameter is named, with the closest one" \
	"unknown parameter 'min_owner' (did you mean 'min_owners'?)" "${MODEL[@]}" --param min_owner=1 "${HOSP[0]}"
sed '1s/mean texture/mean textur/' "${HOSP[0]}" > "$T/bad/typo.csv"
refused "a header name with a typo: the closest column" \
	"line 1, column 2: 'mean textur' is not a column of the schema (did you mean 'mean texture'?)" \
	"${MODEL[@]}" --param min_owners=1 "$T/bad/typo.csv"
refused "a schema type that does not exist" "type 'real' is not num, int, cat{...} or skip" \
	--param 'schema=a:real' "${HOSP[0]}"
refused "a target outside the schema" "parameter target: no column 'diagnose' in the schema (did you mean 'diagnosis'?)" \
	--param "$SCHEMA" --param target=diagnose --param positive=benign "${HOSP[0]}"
refused "a positive label that is not a level" "parameter positive: 'Benign' is not a level" \
	--param "$SCHEMA" --param target=diagnosis --param positive=Benign "${HOSP[0]}"
refused "C out of range" "parameter C: 0 is out of its range" "${MODEL[@]}" --param C=0 "${HOSP[0]}"
refused "a quantile of 1" "'1' is not a probability strictly between 0 and 1" \
	"${MODEL[@]}" --param quantiles=0.5,1 "${HOSP[0]}"
mkdir -p "$T/maps"
"$APPRUN" --app "$APP" "${OWNERS[@]}" "${MODEL[@]}" --map-only "$T/maps" "${HOSP[@]}"
eq "map outputs written" 3 "$(ls "$T/maps" | wc -l)"
refused "a reduce with another schema than the map's" "made with another schema" \
	--param "schema=${SCHEMA#schema=};extra:num" --reduce-only "$T"/maps/*
head -c 5000 "$T/maps/hospital-a.csv" > "$T/maps/hospital-a.csv.cut"
refused "a truncated map output" "map output 'hospital-a.csv.cut':" \
	"${MODEL[@]}" --reduce-only "$T/maps/hospital-a.csv.cut" "$T/maps/hospital-b.csv"
printf 'PSTATS01junk' > "$T/maps/junk"
refused "junk is not a map output" "map output 'junk':" "${MODEL[@]}" --reduce-only "$T/maps/junk"

# --- Disclosure limits ------------------------------------------------------
refused "two owners when min_owners=3" "2 data owners, fewer than min_owners=3: nothing is released" \
	"${OWNERS[@]}" "${MODEL[@]}" "${HOSP[0]}" "${HOSP[1]}"
refused "inputs without owners" "the inputs have no owners, and min_owners=3" \
	"${MODEL[@]}" "${HOSP[@]}"
refused "an owner below min_rows_per_owner is named, its count is not" \
	"owner 'C' has fewer than min_rows_per_owner=190 usable rows: nothing is released" \
	"${OWNERS[@]}" "${MODEL[@]}" --param min_rows_per_owner=190 "${HOSP[@]}"
grep -q 189 "$T/refused.err"
ok $((1 - $?)) "... and the message holds no owner's row count"
refused "one item without an owner among owned ones" "has no owner while others have one" \
	--owner hospital-a=A --owner hospital-b=B "${MODEL[@]}" "${HOSP[@]}"
refused "a class smaller than min_cell_count: no model" \
	"the negative class has fewer than min_cell_count=250 rows: no model is released" \
	"${OWNERS[@]}" "${MODEL[@]}" --param min_cell_count=250 "${HOSP[@]}"
stats cells.json "${OWNERS[@]}" --param "$SCHEMA" --param min_cell_count=250 "${HOSP[@]}"
eq "small counts are suppressed, and a lone one takes another with it" \
	"{'malignant': None, 'benign': None}" "$(json "$T/cells.json" 'r["columns"][30]["counts"]')"
stats cells2.json "${OWNERS[@]}" --param "$SCHEMA" --param min_cell_count=213 "${HOSP[@]}"
eq "... whatever the order of the levels" "{'malignant': None, 'benign': None}" \
	"$(json "$T/cells2.json" 'r["columns"][30]["counts"]')"
stats sup.json "${OWNERS[@]}" "${MODEL[@]}" --param minmax_min_n=1000 "${HOSP[@]}"
eq "below minmax_min_n, min, max and quantiles are suppressed" "None None None suppressed" \
	"$(json "$T/sup.json" 'r["columns"][0]["min"], r["columns"][0]["max"], r["columns"][0]["quantiles"]["0.5"], r["columns"][0]["order_statistics"]')"
eq "... and mean and SD are kept" "14.127291739894552 3.5240488262120775" \
	"$(json "$T/sup.json" 'r["columns"][0]["mean"], r["columns"][0]["sd"]')"
stats coarse.json "${OWNERS[@]}" "${MODEL[@]}" --param minmax_min_n=1000 \
	--param minmax_small=coarsen --param coarsen_digits=1 "${HOSP[@]}"
eq "minmax_small=coarsen rounds min down and max up to 1 digit (6.981 -> 6, 28.11 -> 30)" \
	"6 30 10 coarsened" \
	"$(json "$T/coarse.json" 'r["columns"][0]["min"], r["columns"][0]["max"], r["columns"][0]["quantiles"]["0.5"], r["columns"][0]["order_statistics"]')"
eq "no figure per owner: the result's members are the documented ones" \
	"app columns limits model owner_names owners rows rows_dropped_missing version" \
	"$(json "$T/inproc.json" '" ".join(sorted(r))')"
eq "... and owner_names holds names only" "True" \
	"$(json "$T/inproc.json" 'all(isinstance(x, str) for x in r["owner_names"])')"

# --- Options and types the Wisconsin data does not use ------------------------
printf 'site,age,sex,grade,bmi,event\nx,34,F,I,22.5,yes\nx,51,M,II,31.0,no\nx,47,F,III,27.25,no\nx,62,M,II,24.0,yes\nx,29,F,I,19.5,no\nx,58,M,III,29.75,yes\n' > "$T/small.csv"
stats small.json --param 'schema=site:skip;age:int[0,120];sex:cat{F,M};grade:cat{I,II,III};bmi:num[10,80];event:cat{no,yes}' \
	--param target=event --param positive=yes --param features=age,sex,grade,bmi \
	--param min_owners=1 --param min_rows_per_owner=1 --param min_cell_count=1 "$T/small.csv"
eq "int, cat features (treatment coding) and num together: exit 0" 0 $?
eq "... a cat column adds one indicator per level but the first" "age sex=M grade=II grade=III bmi" \
	"$(json "$T/small.json" '" ".join(f["name"] for f in r["model"]["features"])')"
eq "... with n=6 below minmax_min_n, order statistics are suppressed" "None suppressed" \
	"$(json "$T/small.json" 'r["columns"][0]["min"], r["columns"][0]["order_statistics"]')"
eq "... the int column's mean is exact" "46.833333333333336" "$(json "$T/small.json" 'r["columns"][0]["mean"]')"
/usr/bin/python3 - "$T/small.csv" "$T/small.json" > "$T/small.ref" 2>&1 <<'EOF2'
# Treatment coding checked against scikit-learn: the indicators built by
# hand from the CSV, standardised, fitted with the same objective.
import csv, json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
rows = list(csv.DictReader(open(sys.argv[1])))
X = np.array([[float(r["age"]), r["sex"] == "M", r["grade"] == "II",
               r["grade"] == "III", float(r["bmi"])] for r in rows], float)
y = np.array([r["event"] == "yes" for r in rows], int)
lr = LogisticRegression(C=1, solver="newton-cholesky", tol=1e-10).fit(
    StandardScaler().fit_transform(X), y)
m = json.load(open(sys.argv[2]))["model"]
got = [f["coef"] for f in m["features"]] + [m["intercept"]]
dev = max(abs(a - b) for a, b in zip(got, list(lr.coef_[0]) + list(lr.intercept_)))
print(f"largest deviation {dev:.1e}")
sys.exit(0 if dev <= 1e-6 else 1)
EOF2
ok $? "... and its coefficients are scikit-learn's on hand-made indicators ($(cat "$T/small.ref" | tail -1))"
sed '1s/event$/code/; 2,$s/,yes$/,1/; 2,$s/,no$/,0/' "$T/small.csv" > "$T/int.csv"
stats int.json --param 'schema=site:skip;age:int[0,120];sex:cat{F,M};grade:cat{I,II,III};bmi:num[10,80];code:int[0,1]' \
	--param target=code --param positive=1 --param negative=0 --param features=age,sex,grade,bmi \
	--param min_owners=1 --param min_rows_per_owner=1 --param min_cell_count=1 "$T/int.csv"
eq "an int target coded 1/0 gives the same model as the cat target" \
	"$(json "$T/small.json" 'r["model"]["intercept"], [f["coef"] for f in r["model"]["features"]]')" \
	"$(json "$T/int.json" 'r["model"]["intercept"], [f["coef"] for f in r["model"]["features"]]')"
refused "an int target value that is neither label" "line 3, column 6 (code): neither the positive (1) nor the negative (0) label" \
	--param 'schema=site:skip;age:int;sex:cat{F,M};grade:cat{I,II,III};bmi:num;code:int' \
	--param target=code --param positive=1 --param negative=0 --param min_owners=1 \
	<(sed '3s/,0$/,2/' "$T/int.csv")
refused "a level indicator with a small side: no model (its mean would be a count)" \
	"feature 'grade=II' has fewer than min_cell_count=3 rows on one side: no model is released" \
	--param 'schema=site:skip;age:int[0,120];sex:cat{F,M};grade:cat{I,II,III};bmi:num[10,80];event:cat{no,yes}' \
	--param target=event --param positive=yes --param features=age,sex,grade,bmi \
	--param min_owners=1 --param min_rows_per_owner=1 --param min_cell_count=3 "$T/small.csv"
refused "a quantile listed twice" "parameter quantiles: 0.50 is listed twice" \
	"${MODEL[@]}" --param quantiles=0.5,0.50 "${HOSP[0]}"
refused "an int column refuses a decimal" "line 2, column 2 (age): not an integer" \
	--param 'schema=site:skip;age:int;sex:cat{F,M};grade:cat{I,II,III};bmi:num;event:cat{no,yes}' --param min_owners=1 \
	<(sed '2s/,34,/,34.5,/' "$T/small.csv")
tr ',' ';' < "$T/small.csv" > "$T/semi.csv"
stats semi.json --param 'schema=site:skip;age:int[0,120];sex:cat{F,M};grade:cat{I,II,III};bmi:num[10,80];event:cat{no,yes}' \
	--param delimiter=semicolon --param target=event --param positive=yes --param features=age,sex,grade,bmi \
	--param min_owners=1 --param min_rows_per_owner=1 --param min_cell_count=1 "$T/semi.csv"
check "delimiter=semicolon reads the same" cmp "$T/small.json" "$T/semi.json"
tail -n +2 "$T/small.csv" > "$T/nohdr.csv"
stats nohdr.json --param 'schema=site:skip;age:int[0,120];sex:cat{F,M};grade:cat{I,II,III};bmi:num[10,80];event:cat{no,yes}' \
	--param header=no --param target=event --param positive=yes --param features=age,sex,grade,bmi \
	--param min_owners=1 --param min_rows_per_owner=1 --param min_cell_count=1 "$T/nohdr.csv"
check "header=no takes the columns in schema order" cmp "$T/small.json" "$T/nohdr.json"
stats const.json --param 'schema=site:skip;age:int;sex:cat{F,M};grade:cat{I,II,III};bmi:num;event:cat{no,yes}' \
	--param target=event --param positive=yes --param features=age,sex,grade,bmi --param min_owners=1 \
	--param min_rows_per_owner=1 --param min_cell_count=1 <(sed '2,$s/,F,/,M,/' "$T/small.csv")
grep -q "feature 'sex=M' has the same value in every row" "$T/const.json.err"
ok $? "a constant feature cannot be standardised, and the error says which"

# --- The documentation's parameter table is the code's -------------------------
/usr/bin/python3 - "$COFFER_SRC/apps/pooled-stats/params.c" "$COFFER_SRC/doc/apps/pooled-stats.md" \
	> "$T/doc.out" 2>&1 <<'EOF2'
import re, sys
code = re.findall(r'\{ "(\w+)", PT_\w+, "([^"]*)"', open(sys.argv[1]).read())
doc = dict(re.findall(r'^\| `(\w+)` \| (?:\\\||[^|])+ \| ([^|]+) \|', open(sys.argv[2]).read(), re.M))
bad = [f"{n}: code default '{d}', doc '{doc.get(n)}'" for n, d in code
       if doc.get(n, "").strip() != (f"`{d}`" if d else doc.get(n, "").strip() or "?")
       or n not in doc]
print("\n".join(bad) or f"{len(code)} parameters agree")
sys.exit(1 if bad or len(code) < 20 else 0)
EOF2
ok $? "doc/apps/pooled-stats.md lists every parameter with the code's default ($(cat "$T/doc.out" | head -3))"
