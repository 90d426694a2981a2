#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Sealed format throughput and memory (BENCHMARKS.md, "Sealed format
# throughput"). Measured in one run:
#   - coffer seal / open of a 512 MiB file in tmpfs, file to file, as run
#     (two threads: the digest on the second CPU, the writing shared),
#     wall clock, best of 5;
#     goal: >= 0.85x openssl speed -evp sha256 -bytes 16384 (one core);
#   - the same with --threads 1 pinned to CPU 0 (the one-core path);
#   - age -e / age -d (Debian's age) on the same file: coffer must be
#     faster;
#   - the references: openssl speed sha256 and aes-256-gcm on CPU 0;
#   - bench/sealed_parts: the one-core work in memory, split into parts;
#   - peak RSS of coffer seal and open on a 1 GiB file (/usr/bin/time -v),
#     on two threads and on one.
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
bytes=$((SIZE_MIB << 20))

pin() { taskset -c 0 "$@"; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
# best of 5 runs of "$@": prints "<cpu seconds> <wall seconds>", CPU being
# user + system time of the command (openssl speed divides by CPU time too,
# so the ratio does not depend on what else the machine runs); each minimum
# is taken separately.
secs() {
	local bc= bw= t0 t1 c w
	for _ in 1 2 3 4 5; do
		rm -f "$W/out"
		t0=$(date +%s%N)
		c=$({ "$@" >/dev/null || echo FAIL; times; } | awk '
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
mbs() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r + 0 >= g + 0) ? "met" : "**missed**" }'; }
# openssl speed prints "<name> <k>k" for the one block size: 1000s of bytes/s.
ossl() { pin openssl speed -evp "$1" -bytes 16384 -seconds 3 2>/dev/null |
	awk 'END { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6 }'; }

age-keygen -o "$W/age.key" 2>/dev/null
age_rcpt=$(age-keygen -y "$W/age.key")
ncpu=$(taskset -cp $$ | awk -F': ' '{ print $2 }')
# As run (auto: two threads when two CPUs are allowed), and the one-core
# path pinned to CPU 0.
read -r seal_c seal_w < <(secs "$COFFER" seal -q --key "$W/key" "$W/in" "$W/out")
"$COFFER" seal --key "$W/key" "$W/in" "$W/sealed" >"$W/seal.txt"
seal_threads=$(awk '$1 == "threads" { print $2 }' "$W/seal.txt")
read -r open_c open_w < <(secs "$COFFER" open -q --key "$W/key" "$W/sealed" "$W/out")
cmp -s "$W/in" "$W/out" || { echo "round trip mismatch"; exit 1; }
open_threads=$("$COFFER" open --force --key "$W/key" "$W/sealed" "$W/out" |
	awk '$1 == "threads" { print $2 }')
# The busier thread's CPU time (coffer -v), best of 5: what the wall clock
# would be on an otherwise idle machine, whatever the load of this one.
crit() {
	local best=1e9 c
	for _ in 1 2 3 4 5; do
		rm -f "$W/out"
		# the largest of the "<seconds> s" figures of the cpu line
		c=$("$@" | awk '$1 == "cpu" { m = 0; for (i = 2; i < NF; i++)
			if ($(i + 1) == "s" && $i + 0 > m) m = $i + 0; print m }')
		best=$(awk -v a="$c" -v b="$best" 'BEGIN { print (a < b) ? a : b }')
	done
	echo "$best"
}
seal_k=$(crit "$COFFER" seal -v --threads 2 --key "$W/key" "$W/in" "$W/out")
open_k=$(crit "$COFFER" open -v --threads 2 --key "$W/key" "$W/sealed" "$W/out")
read -r seal1_c seal1_w < <(secs pin "$COFFER" seal -q --threads 1 --key "$W/key" "$W/in" "$W/out")
read -r open1_c open1_w < <(secs pin "$COFFER" open -q --threads 1 --key "$W/key" "$W/sealed" "$W/out")
read -r agee_c agee_w < <(secs age -e -r "$age_rcpt" -o "$W/out" "$W/in")
age -e -r "$age_rcpt" -o "$W/in.age" "$W/in"
read -r aged_c aged_w < <(secs age -d -i "$W/age.key" -o "$W/out" "$W/in.age")
cmp -s "$W/in" "$W/out" || { echo "age round trip mismatch"; exit 1; }
rm -f "$W/in.age"
read -r copy_c copy_w < <(secs pin cp "$W/in" "$W/out")
seal_mbs=$(mbs "$seal_c")
open_mbs=$(mbs "$open_c")
copy_mbs=$(mbs "$copy_c")
aes=$(ossl aes-256-gcm)
sha=$(ossl sha256)
declare -A part
while read -r k v; do part[$k]=$v; done < <(pin "$PARTS" "$SIZE_MIB")
# The ceiling on one core when every byte is encrypted, hashed (the content
# digest) and copied through the page cache once, each at its own speed;
# on two cores, at best half of that work each (and never faster than the
# digest alone).
ceil=$(awk -v a="$aes" -v s="$sha" -v c="$copy_mbs" 'BEGIN { printf "%.0f", 1 / (1 / a + 1 / s + 1 / c) }')
ceil2=$(awk -v a="$aes" -v s="$sha" -v c="$copy_mbs" 'BEGIN { x = 2 / (1 / a + 1 / s + 1 / c); printf "%.0f", x < s ? x : s }')
faster() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? "yes" : "**no**" }'; }

echo "Data in $where; plaintext $SIZE_MIB MiB of random bytes; chunk size 64 KiB;"
echo "CPUs allowed: $ncpu; MB = 10^6 bytes; best of 5 runs each; load average at"
echo "the start: $load. Wall clock is what the goal counts; CPU time (user +"
echo "system, all threads) is shown next to it, and the busier thread's CPU time"
echo "(\`coffer seal -v\`): the wall clock on an otherwise idle machine. The"
echo "references (\`openssl speed\`, which divides by CPU time) and the one-thread"
echo "runs are pinned to CPU 0 with \`taskset -c 0\`; the two-thread runs and age"
echo "may use every allowed CPU."
echo
echo "| measurement | threads | MB/s (wall clock) | ratio to \`openssl speed\` SHA-256 | goal | | MB/s (CPU time, all threads) | MB/s (busier thread's CPU time) | ratio |"
echo "|---|---:|---:|---:|---:|---|---:|---:|---:|"
echo "| \`openssl speed -evp sha256 -bytes 16384 -seconds 3\` | 1 | $sha | 1.00 | | reference | | | |"
echo "| \`coffer seal\` $SIZE_MIB MiB, file to file | $seal_threads | $(mbs "$seal_w") | $(ratio "$(mbs "$seal_w")" "$sha") | $GOAL_RATIO | $(verdict "$(ratio "$(mbs "$seal_w")" "$sha")" $GOAL_RATIO) | $seal_mbs | $(mbs "$seal_k") | $(ratio "$(mbs "$seal_k")" "$sha") |"
echo "| \`coffer open\` $SIZE_MIB MiB, file to file | $open_threads | $(mbs "$open_w") | $(ratio "$(mbs "$open_w")" "$sha") | $GOAL_RATIO | $(verdict "$(ratio "$(mbs "$open_w")" "$sha")" $GOAL_RATIO) | $open_mbs | $(mbs "$open_k") | $(ratio "$(mbs "$open_k")" "$sha") |"
echo "| \`coffer seal --threads 1\` (pinned to one CPU) | 1 | $(mbs "$seal1_w") | $(ratio "$(mbs "$seal1_w")" "$sha") | | one-core path | $(mbs "$seal1_c") | | |"
echo "| \`coffer open --threads 1\` (pinned to one CPU) | 1 | $(mbs "$open1_w") | $(ratio "$(mbs "$open1_w")" "$sha") | | one-core path | $(mbs "$open1_c") | | |"
echo
echo "Against Debian's \`age\` $(age --version) (X25519 recipient, ChaCha20-Poly1305 in 64 KiB chunks, no"
echo "content digest), the same file, the same run:"
echo
echo "| | seconds (wall clock) | MB/s (wall clock) | MB/s (CPU time) | coffer faster |"
echo "|---|---:|---:|---:|---|"
echo "| \`coffer seal\` | $seal_w | $(mbs "$seal_w") | $seal_mbs | |"
echo "| \`age -e\` | $agee_w | $(mbs "$agee_w") | $(mbs "$agee_c") | $(faster "$seal_w" "$agee_w") (x$(ratio "$agee_w" "$seal_w")) |"
echo "| \`coffer open\` | $open_w | $(mbs "$open_w") | $open_mbs | |"
echo "| \`age -d\` | $aged_w | $(mbs "$aged_w") | $(mbs "$aged_c") | $(faster "$open_w" "$aged_w") (x$(ratio "$aged_w" "$open_w")) |"
echo
echo "Where the time goes on one core (same run; \`bench/sealed_parts.c\` works in memory"
echo "without system calls, on one cache-resident 64 KiB chunk buffer as seal and open do):"
echo
echo "| part | MB/s | ratio to \`openssl speed\` SHA-256 |"
echo "|---|---:|---:|"
echo "| \`openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3\` | $aes | $(ratio "$aes" "$sha") |"
echo "| Coffer's AEAD layer alone (64 KiB chunks, 96-byte header as AAD) | ${part[aead_hot]} | $(ratio "${part[aead_hot]}" "$sha") |"
echo "| Coffer's SHA-256 alone (the content digest), 64 KiB updates | ${part[sha256_hot]} | $(ratio "${part[sha256_hot]}" "$sha") |"
echo "| memcpy of each chunk from memory (what read(2) copies) | ${part[memcpy_in]} | $(ratio "${part[memcpy_in]}" "$sha") |"
echo "| seal's loop without system calls: copy in, AEAD, digest | ${part[writer]} | $(ratio "${part[writer]}" "$sha") |"
echo "| open's loop without system calls: copy in, digest, AEAD | ${part[reader]} | $(ratio "${part[reader]}" "$sha") |"
echo "| \`cp\` of the same file on the same file system (the I/O alone) | $copy_mbs | $(ratio "$copy_mbs" "$sha") |"
echo "| one-core ceiling: 1 / (1/AES-GCM + 1/SHA-256 + 1/cp) | $ceil | $(ratio "$ceil" "$sha") |"
echo "| two-core ceiling: 2 / (1/AES-GCM + 1/SHA-256 + 1/cp), the work split evenly | $ceil2 | $(ratio "$ceil2" "$sha") |"
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
