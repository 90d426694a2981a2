#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Sealed format throughput and memory (BENCHMARKS.md, "Sealed format
# throughput"). Everything that a ratio compares is measured in one run,
# interleaved: each round runs, one after the other, writing a new file
# alone (dd from /dev/zero), reading the input alone (dd), cp, coffer seal
# and open as run (two threads on two CPUs), the same pinned to one CPU
# with --threads 1, and age -e / age -d (Debian's age) on the same 512 MiB
# file in tmpfs; the best wall clock of the rounds counts. Each command
# writes a file its predecessor just freed, so all meet the same page
# allocator (see BENCHMARKS.md: this VM makes freshly reported pages
# costly). Around the rounds: openssl speed sha256 (the goal's reference:
# >= 0.85x, wall clock) and aes-256-gcm on CPU 0, before and after.
# Then the floor no design can beat here, from the same run: SHA-256 of
# every byte plus writing a new file on one core, and on two cores
# max(SHA-256 alone, half of SHA-256 + AES-GCM + read + write), and that
# plus a run's fixed cost (`coffer seal` of an empty file: exec, OpenSSL,
# key, temporary file, thread), which is what the wall clock can reach;
# writing is dd's CPU less that of reading its zeros (dd from /dev/zero
# to /dev/null); then bench/sealed_parts (the one-core work in memory)
# and the peak RSS of seal and open on a 1 GiB file (/usr/bin/time -v).
# Prints Markdown tables. Run by `make bench` (bench/run) or alone:
#   BUILD=build bash bench/sealed.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
COFFER=$COFFER_BUILD/bin/coffer
PARTS=$COFFER_BUILD/bench/sealed_parts
STREAM=$COFFER_BUILD/bench/sealed_stream
GOAL_RATIO=0.85
GOAL_RSS_KB=8192
SIZE_MIB=${SEALED_BENCH_MIB:-512}
RSS_MIB=${SEALED_BENCH_RSS_MIB:-1024}

for x in "$COFFER" "$PARTS" "$STREAM"; do
	[ -x "$x" ] || { echo "missing $x (run make bench)"; exit 1; }
done
for t in taskset openssl /usr/bin/time age age-keygen; do
	command -v "$t" >/dev/null || { echo "missing $t (scripts/install-deps)"; exit 1; }
done

# tmpfs keeps the disk out of the measurement; fall back to the build dir.
need_kb=$(( (2 * RSS_MIB + 64) * 1024 ))
if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt "$need_kb" ]; then
	W=$(mktemp -d /dev/shm/coffer-bench.XXXXXX)
	where="/dev/shm (tmpfs)"
else
	mkdir -p "$COFFER_BUILD/bench-tmp"
	W=$(mktemp -d "$COFFER_BUILD/bench-tmp/sealed.XXXXXX")
	where="$W ($(df -PT "$W" | awk 'NR == 2 { print $2 }'))"
fi
trap 'rm -rf "$W"' EXIT

printf 'coffer-key1:%s\n' "$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')" >"$W/key"
chmod 600 "$W/key"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$W/in"
: >"$W/empty"
bytes=$((SIZE_MIB << 20))

pin() { taskset -c 0 "$@"; }
ROUNDS=${SEALED_BENCH_ROUNDS:-7}
load0=$(cut -d' ' -f1-3 /proc/loadavg)
up0=$(uptime | sed 's/^ *//')
mbs() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r + 0 >= g + 0) ? "met" : "**missed**" }'; }
# openssl speed prints "<name> <k>k" for the one block size: 1000s of bytes/s.
ossl() { pin openssl speed -evp "$1" -bytes 16384 -seconds 3 2>/dev/null |
	awk 'END { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6 }'; }

age-keygen -o "$W/age.key" 2>/dev/null
age_rcpt=$(age-keygen -y "$W/age.key")
ncpu=$(taskset -cp $$ | awk -F': ' '{ print $2 }')
"$COFFER" seal --key "$W/key" "$W/in" "$W/sealed" >"$W/seal.txt" || exit 1
age -e -r "$age_rcpt" -o "$W/in.age" "$W/in" || exit 1
sha0=$(ossl sha256)
aes=$(ossl aes-256-gcm)

# One round: every command once, each after removing the last output.
# best_w / best_c / best_k: the best wall clock, CPU time (user + system,
# all threads) and busier thread's CPU time (coffer -v) per command.
declare -A cmd best_w best_c best_k idle
order="zero write read cp start seal open seal1 open1 age_e age_d"
cmd[zero]="dd if=/dev/zero of=/dev/null bs=1M count=$SIZE_MIB status=none"
cmd[write]="dd if=/dev/zero of=$W/out bs=1M count=$SIZE_MIB status=none"
cmd[read]="dd if=$W/in of=/dev/null bs=1M status=none"
cmd[cp]="cp $W/in $W/out"
cmd[start]="$COFFER seal -v --key $W/key $W/empty $W/out"
cmd[seal]="$COFFER seal -v --key $W/key $W/in $W/out"
cmd[open]="$COFFER open -v --key $W/key $W/sealed $W/out"
cmd[seal1]="taskset -c 0 $COFFER seal -v --threads 1 --key $W/key $W/in $W/out"
cmd[open1]="taskset -c 0 $COFFER open -v --threads 1 --key $W/key $W/sealed $W/out"
cmd[age_e]="age -e -r $age_rcpt -o $W/out $W/in"
cmd[age_d]="age -d -i $W/age.key -o $W/out $W/in.age"
TIMEFORMAT='%3R %3U %3S'
min() { awk -v a="$1" -v b="${2:-1e9}" 'BEGIN { print (a < b) ? a : b }'; }
for _ in $(seq "$ROUNDS"); do
	for c in $order; do
		rm -f "$W/out"
		# shellcheck disable=SC2086 # the commands are word lists
		{ time ${cmd[$c]} >"$W/stdout" 2>"$W/stderr"; } 2>"$W/time" ||
			{ echo "failed: ${cmd[$c]}"; cat "$W/stderr"; exit 1; }
		read -r w u s <"$W/time"
		# the share of two threads' wall clock spent idle, in the round
		# of the best wall clock: 1 - CPU of all threads / (2 x wall)
		[ "$(min "$w" "${best_w[$c]:-}")" = "$w" ] &&
			idle[$c]=$(awk -v w="$w" -v u="$u" -v s="$s" 'BEGIN { printf "%.0f%%", 100 * (1 - (u + s) / (2 * w)) }')
		best_w[$c]=$(min "$w" "${best_w[$c]:-}")
		best_c[$c]=$(min "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "${best_c[$c]:-}")
		# the largest of the "<seconds> s" figures of coffer's cpu line
		k=$(awk '$1 == "cpu" { m = 0; for (i = 2; i < NF; i++)
			if ($(i + 1) == "s" && $i + 0 > m) m = $i + 0; print m }' "$W/stdout")
		[ -n "$k" ] && best_k[$c]=$(min "$k" "${best_k[$c]:-}")
		case $c in
		open|open1) cmp -s "$W/in" "$W/out" || { echo "round trip mismatch"; exit 1; } ;;
		esac
	done
done
seal_threads=$(awk '$1 == "threads" { print $2 }' "$W/seal.txt")
rm -f "$W/out" "$W/in.age"
sha1=$(ossl sha256)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
sha=$(( (sha0 + sha1) / 2 ))
# The floor, from the same run (seconds of CPU for the whole file): SHA-256
# of every byte and AES-GCM at openssl speed's rate (which counts CPU time
# too), the read and the write as measured alone (their CPU time: on a
# loaded machine their wall clock includes waiting for a CPU).
t_sha=$(awk -v b="$bytes" -v r="$sha" 'BEGIN { printf "%.4f", b / r / 1e6 }')
t_aes=$(awk -v b="$bytes" -v r="$aes" 'BEGIN { printf "%.4f", b / r / 1e6 }')
# writing alone: dd's CPU less that of reading its zeros from /dev/zero
t_wr=$(awk -v w="${best_c[write]}" -v z="${best_c[zero]}" 'BEGIN { d = w - z; printf "%.4f", (d > 0) ? d : 0 }')
t_one=$(awk -v a="$t_sha" -v b="$t_aes" -v c="${best_c[read]}" -v d="$t_wr" 'BEGIN { printf "%.4f", a + b + c + d }')
t_two=$(awk -v a="$t_sha" -v t="$t_one" 'BEGIN { x = t / 2; printf "%.4f", (x > a) ? x : a }')
t_sw=$(awk -v a="$t_sha" -v d="$t_wr" 'BEGIN { printf "%.4f", a + d }')
# what the wall clock can reach: the two-core floor plus a run's fixed cost
t_run=$(awk -v t="$t_two" -v s="${best_w[start]}" 'BEGIN { printf "%.4f", t + s }')
faster() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? "yes" : "**no**" }'; }
row() { # label, command key, threads, note
	local w=${best_w[$2]} r
	r=$(ratio "$(mbs "$w")" "$sha")
	echo "| $1 | $3 | $w | $(mbs "$w") | $r | $4 | $(mbs "${best_c[$2]}") | ${best_k[$2]:+$(mbs "${best_k[$2]}")} |"
}

echo "Data in $where; plaintext $SIZE_MIB MiB of random bytes; chunk size 64 KiB;"
echo "CPUs allowed: $ncpu; MB = 10^6 bytes; $ROUNDS interleaved rounds, the best of"
echo "each command; load average $load0 at the start, $load1 at the end"
echo "(\`uptime\` at the start: $up0). \`openssl speed\` SHA-256 on CPU 0: $sha0 MB/s"
echo "before the rounds, $sha1 MB/s after; the ratios use their mean, $sha MB/s."
echo "Wall clock is what the goal counts; CPU time (user + system, all threads)"
echo "and the busier thread's CPU time (\`coffer -v\`) are shown next to it."
echo
echo "| command | threads | seconds (wall) | MB/s (wall) | ratio to SHA-256 | goal >= $GOAL_RATIO | MB/s (CPU, all threads) | MB/s (busier thread's CPU) |"
echo "|---|---:|---:|---:|---:|---|---:|---:|"
row "\`coffer seal\`, file to file" seal "$seal_threads" "$(verdict "$(ratio "$(mbs "${best_w[seal]}")" "$sha")" $GOAL_RATIO)"
row "\`coffer open\`, file to file" open "$seal_threads" "$(verdict "$(ratio "$(mbs "${best_w[open]}")" "$sha")" $GOAL_RATIO)"
row "\`coffer seal --threads 1\` (pinned to CPU 0)" seal1 1 "one-core path"
row "\`coffer open --threads 1\` (pinned to CPU 0)" open1 1 "one-core path"
row "\`age -e\` $(age --version)" age_e 1 "coffer seal faster: $(faster "${best_w[seal]}" "${best_w[age_e]}") (x$(ratio "${best_w[age_e]}" "${best_w[seal]}"))"
row "\`age -d\`" age_d 1 "coffer open faster: $(faster "${best_w[open]}" "${best_w[age_d]}") (x$(ratio "${best_w[age_d]}" "${best_w[open]}"))"
row "\`dd\` from /dev/zero to a new file (writing alone)" write 1 ""
row "\`dd\` of the input to /dev/null (reading alone)" read 1 ""
row "\`cp\` of the input to a new file" cp 1 ""
row "\`dd\` from /dev/zero to /dev/null (dd's own cost of making zeros, taken out of writing)" zero 1 ""
echo "| \`coffer seal\` of an empty file (a run's fixed cost: exec, OpenSSL, key, temporary file, thread) | 2 | ${best_w[start]} | | | | | |"
echo
echo "The floor in this run (seconds of CPU for $SIZE_MIB MiB: SHA-256 and AES-GCM at"
echo "\`openssl speed\`'s rates, $sha and $aes MB/s; reading and writing the CPU time"
echo "they took alone above, writing less dd's zeros). On an idle machine no design that"
echo "reads with read(2) does better by the wall clock (mapping the input costs as much"
echo "here: BENCHMARKS.md, \"Sealed format throughput\"); a run adds its fixed cost to the floor:"
echo
echo "| | seconds | MB/s | ratio to SHA-256 |"
echo "|---|---:|---:|---:|"
echo "| SHA-256 alone | $t_sha | $(mbs "$t_sha") | 1.00 |"
echo "| SHA-256 alone + writing a new file alone (one core) | $t_sw | $(mbs "$t_sw") | $(ratio "$(mbs "$t_sw")" "$sha") |"
echo "| one-core floor: SHA-256 + AES-GCM + read + write | $t_one | $(mbs "$t_one") | $(ratio "$(mbs "$t_one")" "$sha") |"
echo "| two-core floor: max(SHA-256, (SHA-256 + AES-GCM + read + write) / 2) | $t_two | $(mbs "$t_two") | $(ratio "$(mbs "$t_two")" "$sha") |"
echo "| two-core floor + a run's fixed cost (\`coffer seal\` of an empty file, wall) | $t_run | $(mbs "$t_run") | $(ratio "$(mbs "$t_run")" "$sha") |"
for c in seal open; do
	echo "| \`coffer $c\`: CPU of all threads (against the one-core floor) | ${best_c[$c]} | $(mbs "${best_c[$c]}") | $(ratio "$(mbs "${best_c[$c]}")" "$sha") |"
	echo "| \`coffer $c\`: the busier thread's CPU (against the two-core floor) | ${best_k[$c]} | $(mbs "${best_k[$c]}") | $(ratio "$(mbs "${best_k[$c]}")" "$sha") |"
	echo "| \`coffer $c\`: wall clock | ${best_w[$c]} | $(mbs "${best_w[$c]}") | $(ratio "$(mbs "${best_w[$c]}")" "$sha") |"
done
echo
echo "Two threads idle (1 - CPU of all threads / (2 x wall), in the round of"
echo "the best wall clock; on a loaded machine this includes waiting for a CPU):"
echo "\`coffer seal\` ${idle[seal]}, \`coffer open\` ${idle[open]}."
echo

declare -A part
while read -r k v; do part[$k]=$v; done < <(pin "$PARTS" "$SIZE_MIB")
echo "Where the time goes on one core (\`bench/sealed_parts.c\` works in memory"
echo "without system calls, on one cache-resident 64 KiB chunk buffer as seal and open do):"
echo
echo "| part | MB/s | ratio to SHA-256 |"
echo "|---|---:|---:|"
echo "| \`openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3\` | $aes | $(ratio "$aes" "$sha") |"
echo "| Coffer's AEAD layer alone (64 KiB chunks, 96-byte header as AAD) | ${part[aead_hot]} | $(ratio "${part[aead_hot]}" "$sha") |"
echo "| Coffer's SHA-256 alone (the content digest), 64 KiB updates | ${part[sha256_hot]} | $(ratio "${part[sha256_hot]}" "$sha") |"
echo "| memcpy of each chunk from memory (what read(2) copies) | ${part[memcpy_in]} | $(ratio "${part[memcpy_in]}" "$sha") |"
echo "| seal's loop without system calls: copy in, AEAD, digest | ${part[writer]} | $(ratio "${part[writer]}" "$sha") |"
echo "| open's loop without system calls: copy in, digest, AEAD | ${part[reader]} | $(ratio "${part[reader]}" "$sha") |"
echo

# Peak RSS on a 1 GiB file: memory must not grow with the file.
head -c $((RSS_MIB << 20)) /dev/urandom >"$W/big"
rm -f "$W/in" "$W/out" "$W/sealed"
# taskset execs the command, so time's child is coffer itself.
rss() {
	/usr/bin/time -v -o "$W/time.txt" taskset -c 0 "$@" >/dev/null ||
		{ echo "failed: $*" >&2; exit 1; }
	awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/time.txt"
}
head -c $((1 << 20)) "$W/big" >"$W/small"
base_rss=$(rss "$COFFER" version)
small_rss=$(rss "$COFFER" seal -q --threads 2 --key "$W/key" "$W/small" "$W/small.sealed")
seal_rss=$(rss "$COFFER" seal -q --threads 2 --key "$W/key" "$W/big" "$W/big.sealed")
rm -f "$W/big.sealed"
seal1_rss=$(rss "$COFFER" seal -q --threads 1 --key "$W/key" "$W/big" "$W/big.sealed")
lib_seal_rss=$(rss "$STREAM" seal "$W/key" "$W/big" "$W/big.sealed2")
rm -f "$W/big" "$W/big.sealed2"
open_rss=$(rss "$COFFER" open -q --threads 2 --key "$W/key" "$W/big.sealed" "$W/big.out")
[ "$(stat -c %s "$W/big.out")" -eq $((RSS_MIB << 20)) ] || { echo "1 GiB round trip failed"; exit 1; }
rm -f "$W/big.out"
open1_rss=$(rss "$COFFER" open -q --threads 1 --key "$W/key" "$W/big.sealed" "$W/big.out")
rm -f "$W/big.out"
lib_open_rss=$(rss "$STREAM" open "$W/key" "$W/big.sealed" "$W/big.out")
kb_verdict() { [ "$1" -lt "$2" ] && echo met || echo "**missed**"; }
echo "| memory (\`/usr/bin/time -v\`, maximum resident set size) | peak RSS (KiB) | goal | |"
echo "|---|---:|---:|---|"
echo "| \`coffer version\`: the binary and its shared libraries alone | $base_rss | | baseline |"
echo "| \`coffer seal --threads 2\`, 1 MiB file | $small_rss | | |"
echo "| \`coffer seal --threads 2\`, $RSS_MIB MiB file | $seal_rss | < $GOAL_RSS_KB | $(kb_verdict "$seal_rss" $GOAL_RSS_KB) |"
echo "| \`coffer open --threads 2\`, $RSS_MIB MiB file | $open_rss | < $GOAL_RSS_KB | $(kb_verdict "$open_rss" $GOAL_RSS_KB) |"
echo "| \`coffer seal --threads 1\`, $RSS_MIB MiB file | $seal1_rss | < $GOAL_RSS_KB | $(kb_verdict "$seal1_rss" $GOAL_RSS_KB) |"
echo "| \`coffer open --threads 1\`, $RSS_MIB MiB file | $open1_rss | < $GOAL_RSS_KB | $(kb_verdict "$open1_rss" $GOAL_RSS_KB) |"
echo "| growth from 1 MiB to $RSS_MIB MiB (seal, two threads) | $((seal_rss - small_rss)) | | |"
echo "| sealing's own share (seal $RSS_MIB MiB, two threads, minus the baseline) | $((seal_rss - base_rss)) | | |"
echo "| the sealed library alone, linked like the worker (\`bench/sealed_stream\` seal, $RSS_MIB MiB) | $lib_seal_rss | < $GOAL_RSS_KB | $(kb_verdict "$lib_seal_rss" $GOAL_RSS_KB) |"
echo "| the sealed library alone (\`bench/sealed_stream\` open, $RSS_MIB MiB) | $lib_open_rss | < $GOAL_RSS_KB | $(kb_verdict "$lib_open_rss" $GOAL_RSS_KB) |"
