#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dicom-deid throughput and memory against gdcmanon (BENCHMARKS.md, "DICOM
# de-identification"). Measured in one run, everything pinned to CPU 0:
#   - small files: the 9 readable files of tests/vectors/dicom, 60 copies
#     each (540 files), de-identified file to file in one process by
#     bench/dicom_deid (the plugin through the app ABI) and by
#     `gdcmanon -c CERT -i DIR -o DIR` (gdcm's PS3.15 E.1.1 Basic Profile,
#     the closest Debian tool; it also RSA-encrypts the originals into an
#     Encrypted Attributes Sequence, which is part of its profile);
#   - one large file: CT_small with 64 MiB of pixel data;
#   - peak RSS of both on the large file against a small one;
#   - `coffer run` over the small files with one worker (end to end, for
#     scale; not a goal).
# Best of 3; throughput per second of CPU time (user + system).
#   BUILD=build bash bench/dicom.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
DRIVER=$COFFER_BUILD/bench/dicom_deid
APP=$COFFER_BUILD/apps/dicom-deid.so
COFFER=$COFFER_BUILD/bin/coffer
GOAL=2.0
COPIES=${DICOM_BENCH_COPIES:-60}
BIG_MIB=${DICOM_BENCH_BIG_MIB:-64}

for x in "$DRIVER" "$APP" "$COFFER"; do
	[ -x "$x" ] || [ -f "$x" ] || { echo "missing $x (run make bench)"; exit 1; }
done
for t in taskset gdcmanon openssl /usr/bin/time /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "missing $t (scripts/install-deps)"; exit 1; }
done
if [ -d /dev/shm ]; then W=$(mktemp -d /dev/shm/coffer-bench.XXXXXX); where="/dev/shm (tmpfs)"
else W=$(mktemp -d); where="$W"; fi
trap 'rm -rf "$W"' EXIT

mkdir -p "$W/small" "$W/big" "$W/o1" "$W/o2"
for f in tests/vectors/dicom/*.dcm; do
	b=$(basename "$f" .dcm)
	[ "$b" = no_meta ] && continue # corrupt on purpose: both refuse it
	for i in $(seq 1 "$COPIES"); do cp "$f" "$W/small/$b-$i.dcm"; done
done
/usr/bin/python3 - "$W/big/big.dcm" "$BIG_MIB" <<'EOF'
import sys, pydicom
d = pydicom.dcmread("tests/vectors/dicom/CT_small.dcm")
side = int((int(sys.argv[2]) * 1024 * 1024 // 2) ** 0.5)
d.Rows = d.Columns = side
d.PixelData = bytes(range(256)) * (side * side * 2 // 256) + b"\0" * ((side * side * 2) % 256)
d.save_as(sys.argv[1])
EOF
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" \
	-subj /CN=coffer-bench -days 1 2>/dev/null
SECRET=$(openssl rand -hex 32)
echo "$SECRET" > "$W/secret"
pin() { taskset -c 0 "$@"; }
load=$(cut -d' ' -f1-3 /proc/loadavg)

# best of 3: "<cpu seconds> <wall seconds>" of "$@" (its children included).
secs() {
	local bc= bw= t0 t1 c w
	for _ in 1 2 3; do
		rm -rf "$W/o1" "$W/o2" && mkdir -p "$W/o1" "$W/o2"
		t0=$(date +%s%N)
		c=$({ "$@" >/dev/null 2>&1 || echo FAIL; times; } | awk '
			/FAIL/ { bad = 1 }
			END { if (bad) exit 1; split($1, u, /[ms]/); split($2, s, /[ms]/)
			      printf "%.4f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }') ||
			{ echo "failed: $*" >&2; exit 1; }
		t1=$(date +%s%N)
		w=$(awk -v n=$((t1 - t0)) 'BEGIN { printf "%.4f", n / 1e9 }')
		bc=$(awk -v a="$c" -v b="${bc:-1e9}" 'BEGIN { print (a < b) ? a : b }')
		bw=$(awk -v a="$w" -v b="${bw:-1e9}" 'BEGIN { print (a < b) ? a : b }')
	done
	echo "$bc $bw"
}
per() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r + 0 >= g + 0) ? "met" : "**missed**" }'; }

nsmall=$(ls "$W/small" | wc -l)
bsmall=$(cat "$W"/small/* | wc -c)
bbig=$(stat -c %s "$W/big/big.dcm")
read -r ds_c ds_w < <(secs pin "$DRIVER" "$APP" "$SECRET" "$W/o1" "$W"/small/*)
read -r gs_c gs_w < <(secs pin gdcmanon -c "$W/cert.pem" -i "$W/small" -o "$W/o2" --continue)
read -r db_c db_w < <(secs pin "$DRIVER" "$APP" "$SECRET" "$W/o1" "$W/big/big.dcm")
read -r gb_c gb_w < <(secs pin gdcmanon -c "$W/cert.pem" -i "$W/big" -o "$W/o2")
pin "$DRIVER" "$APP" "$SECRET" "$W/o1" "$W/big/big.dcm" >/dev/null
/usr/bin/python3 -c 'import sys, pydicom
a, b = (pydicom.dcmread(f).PixelData for f in sys.argv[1:])
sys.exit(a != b)' "$W/big/big.dcm" "$W/o1/big.dcm" || { echo "pixel data changed"; exit 1; }

rss() {
	/usr/bin/time -v -o "$W/time.txt" taskset -c 0 "$@" >/dev/null 2>&1 ||
		{ echo "failed: $*" >&2; exit 1; }
	awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/time.txt"
}
d_rss_small=$(rss "$DRIVER" "$APP" "$SECRET" "$W/o1" "$W/small/CT_small-1.dcm")
d_rss_big=$(rss "$DRIVER" "$APP" "$SECRET" "$W/o1" "$W/big/big.dcm")
g_rss_small=$(rss gdcmanon -c "$W/cert.pem" -i "$W/small/CT_small-1.dcm" -o "$W/o2/x.dcm")
g_rss_big=$(rss gdcmanon -c "$W/cert.pem" -i "$W/big/big.dcm" -o "$W/o2/y.dcm")

# coffer run, one worker, end to end (Redis, queue, store, fsync per output).
mkdir -p "$W/run"
t0=$(date +%s%N)
TMPDIR=$W "$COFFER" run --app "$APP" --inputs "$W/small" --outputs "$W/run" --replicas 1 \
	--quiet --param secret_file="$W/secret" --param burned_in_annotation=accept >/dev/null ||
	{ echo "coffer run failed"; exit 1; }
t1=$(date +%s%N)
run_w=$(awk -v n=$((t1 - t0)) 'BEGIN { printf "%.3f", n / 1e9 }')

ds_f=$(per "$nsmall" "$ds_c"); gs_f=$(per "$nsmall" "$gs_c")
mb() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
ds_m=$(mb "$bsmall" "$ds_c"); gs_m=$(mb "$bsmall" "$gs_c")
db_m=$(mb "$bbig" "$db_c"); gb_m=$(mb "$bbig" "$gb_c")
echo "Files in $where; each command pinned to CPU 0 (\`taskset -c 0\`); best of 3;"
echo "rates per second of CPU time (user + system); MB = 10^6 bytes;"
echo "load average at the start: $load. gdcmanon $(gdcmanon --version 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)."
echo
echo "| work | tool | files/s | MB/s | ratio to gdcmanon | goal | |"
echo "|---|---|---:|---:|---:|---:|---|"
echo "| $nsmall small files ($((bsmall / 1000)) kB: CT, MR LE/BE/implicit, RLE, JPEG 2000, RT dose, ECG) | gdcmanon | $gs_f | $gs_m | 1.00 | | reference |"
echo "| same | dicom-deid (bench/dicom_deid) | $ds_f | $ds_m | $(ratio "$ds_f" "$gs_f") | $GOAL | $(verdict "$(ratio "$ds_f" "$gs_f")" $GOAL) |"
echo "| one file, $BIG_MIB MiB of pixel data | gdcmanon | $(per 1 "$gb_c") | $gb_m | 1.00 | | reference |"
echo "| same | dicom-deid | $(per 1 "$db_c") | $db_m | $(ratio "$db_m" "$gb_m") | $GOAL | $(verdict "$(ratio "$db_m" "$gb_m")" $GOAL) |"
echo "| $nsmall small files, \`coffer run --replicas 1\`, wall clock | coffer + dicom-deid | $(per "$nsmall" "$run_w") | | | | end to end |"
echo
echo "Peak RSS (\`/usr/bin/time -v\`), one file per process:"
echo
echo "| tool | CT_small (39 kB) | $BIG_MIB MiB file | growth | growth / file size |"
echo "|---|---:|---:|---:|---:|"
echo "| dicom-deid (bench/dicom_deid) | $d_rss_small kB | $d_rss_big kB | $((d_rss_big - d_rss_small)) kB | $(ratio $((d_rss_big - d_rss_small)) $((bbig / 1024))) |"
echo "| gdcmanon | $g_rss_small kB | $g_rss_big kB | $((g_rss_big - g_rss_small)) kB | $(ratio $((g_rss_big - g_rss_small)) $((bbig / 1024))) |"
echo
echo "The driver holds the input in one buffer (as the worker does) and writes"
echo "through a 64 KiB buffer: a growth of 1.00 x the file size is the input"
echo "buffer alone, nothing per element beyond the largest one."
