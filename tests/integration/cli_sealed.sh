#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer seal`, `open` and `inspect` end to end (doc/cli.md,
# doc/format/sealed.md): round trips through files and pipes, digests,
# exit codes, nothing left behind by a failed or interrupted seal or open
# (ignored signals staying ignored), refusing non-regular files and
# overwrites, escaped file names, and results that could not be printed.
# timeout: 300
. "$(dirname "$0")/lib.sh"
plan 171

cd "$T" || bail "no temp dir"
command -v coffer >/dev/null || bail "coffer not built"

# A data key file (doc/format/identity.md section 4), written directly.
newkey() {
	printf 'coffer-key1:%s\n' "$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')" >"$1"
	chmod 600 "$1"
}
rc() { "$@" >/dev/null 2>&1; echo $?; }
field() { awk -v k="$1" '$1 == k { print $2 }'; }
no_temp_files() { ! ls -a "${1:-.}" | grep -q '\.tmp-'; }
not_grep() { ! grep -q "$@"; }
# inject SPEC CMD...: run CMD under strace fault injection (-e inject=SPEC).
# LeakSanitizer cannot run under ptrace, so a sanitizer build skips it there.
inject() {
	local spec=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -o /dev/null -e "inject=$spec" "$@"
}

newkey k1
newkey k2
head -c 1000000 /dev/urandom >data.bin

# --- round trip through files ------------------------------------------
coffer seal --key k1 data.bin data.sealed >seal.out 2>seal.err
eq "seal exits 0" 0 $?
d_seal=$(field digest <seal.out)
eq "seal prints the digest of the sealed file" "sha256:$(sha256sum data.sealed | cut -d' ' -f1)" "$d_seal"
eq "seal prints the plaintext size" 1000000 "$(field plaintext <seal.out)"
eq "the sealed file has the size of section 2" $((96 + 1000000 + 16 * (1000000 / 65536 + 1))) "$(stat -c %s data.sealed)"
coffer inspect data.sealed >inspect.out
eq "inspect exits 0 without a key" 0 $?
eq "inspect shows the same digest" "$d_seal" "$(field digest <inspect.out)"
eq "inspect counts the chunks" $((1000000 / 65536 + 1)) "$(field chunks <inspect.out)"
eq "inspect shows the chunk size" 65536 "$(field chunk-size <inspect.out)"
eq "inspect shows the key id" "$(field key-id <seal.out)" "$(field key-id <inspect.out)"
coffer inspect --json data.sealed >inspect.json
check "inspect --json has the digest" grep -q "\"digest\": \"$d_seal\"" inspect.json
check "inspect --json has the plaintext size" grep -q '"plaintext_size": 1000000' inspect.json
coffer open --key k1 data.sealed data.out >open.out
eq "open exits 0" 0 $?
check "open restores the plaintext" cmp data.bin data.out
eq "open reports the same digest" "$d_seal" "$(field digest <open.out)"
eq "opened plaintext is private (0600)" 600 "$(stat -c %a data.out)"
check "open leaves no temporary file" no_temp_files
eq "the sealed file follows the umask (022 here)" 644 "$(umask 022; coffer seal -q --key k1 data.bin umask.sealed; stat -c %a umask.sealed)"
coffer open --json --key k1 data.sealed data.json.out >open.json
check "open --json says verified" grep -q '"verified": true' open.json

# --- sizes, chunk sizes, suites ------------------------------------------
: >empty
eq "seal an empty file" 0 "$(rc coffer seal --key k1 empty empty.sealed)"
eq "an empty plaintext is a header and one empty chunk" 112 "$(stat -c %s empty.sealed)"
eq "open an empty file" 0 "$(rc coffer open --key k1 empty.sealed empty.out)"
eq "the opened empty file is empty" 0 "$(stat -c %s empty.out)"
head -c 8192 /dev/urandom >two4k
eq "seal with --chunk-size 4K" 0 "$(rc coffer seal --key k1 --chunk-size 4K two4k two4k.sealed)"
eq "inspect shows 4096" 4096 "$(coffer inspect two4k.sealed | field chunk-size)"
eq "an exact multiple ends with an empty last chunk" 3 "$(coffer inspect two4k.sealed | field chunks)"
coffer open --key k1 two4k.sealed two4k.out >/dev/null
check "4K chunks round trip" cmp two4k two4k.out
eq "seal with ChaCha20-Poly1305" 0 "$(rc coffer seal --key k1 --suite chacha20-poly1305 data.bin chacha.sealed)"
eq "inspect names the suite" ChaCha20-Poly1305 "$(coffer inspect chacha.sealed | field suite)"
coffer open --key k1 chacha.sealed chacha.out >/dev/null
check "ChaCha20-Poly1305 round trips" cmp data.bin chacha.out

# --- pipes ---------------------------------------------------------------
cat data.bin | coffer seal -q --key k1 - - | coffer open -q --key k1 - - >piped.out
eq "seal - - | open - - exits 0 for both" "0 0 0" "${PIPESTATUS[*]}"
check "the pipeline restores the plaintext" cmp data.bin piped.out
coffer seal --key k1 - stdin.sealed <data.bin >/dev/null
coffer open --key k1 stdin.sealed - 2>open_stdout.err | cmp - data.bin
eq "open FILE - streams the plaintext" "0 0" "${PIPESTATUS[*]}"
check "with OUT '-' the summary goes to stderr" grep -q '^digest' open_stdout.err
coffer seal --key k1 data.bin - 2>seal_stdout.err >stdout.sealed
check "seal to stdout writes a sealed file" coffer open -q --key k1 stdout.sealed stdout.out
check "...that opens to the plaintext" cmp data.bin stdout.out
eq "seal to stdout prints the digest of what it wrote, on stderr" \
	"sha256:$(sha256sum stdout.sealed | cut -d' ' -f1)" "$(field digest <seal_stdout.err)"
mkfifo fifo
(cat data.sealed >fifo &)
eq "a named pipe is accepted as IN" 0 "$(rc coffer open --key k1 fifo fifo.out)"
check "...and opens" cmp data.bin fifo.out

# --- tampering and keys: exit codes and nothing written ----------------
eq "wrong key: exit 3" 3 "$(rc coffer open --key k2 data.sealed wrong.out)"
coffer open --key k2 data.sealed wrong.out 2>wrong.err
check "wrong key says so" grep -q 'wrong key' wrong.err
check "wrong key writes nothing" test ! -e wrong.out
cp data.sealed flipped.sealed
flip flipped.sealed 500000
eq "a flipped byte in a chunk: exit 4" 4 "$(rc coffer open --key k1 flipped.sealed flipped.out)"
check "a failed open leaves no OUT" test ! -e flipped.out
check "a failed open leaves no temporary file" no_temp_files
cp data.sealed hdr.sealed
flip hdr.sealed 40
eq "a flipped byte in the salt: exit 4" 4 "$(rc coffer open --key k1 hdr.sealed hdr.out)"
cp data.sealed ver.sealed
printf '\002' | dd of=ver.sealed bs=1 seek=8 conv=notrunc status=none
eq "an unknown version: exit 5" 5 "$(rc coffer open --key k1 ver.sealed ver.out)"
eq "inspect rejects it too: exit 5" 5 "$(rc coffer inspect ver.sealed)"
coffer open --key k1 ver.sealed ver.out 2>ver.err
check "the error names the version" grep -q 'version 2 is not supported' ver.err
head -c $((96 + 3 * 65552)) data.sealed >cut.sealed
eq "truncated at a chunk boundary: exit 5" 5 "$(rc coffer open --key k1 cut.sealed cut.out)"
head -c 100000 data.sealed >cut2.sealed
eq "truncated inside a chunk: exit 4" 4 "$(rc coffer open --key k1 cut2.sealed cut2.out)"
head -c 50 data.sealed >cut3.sealed
eq "shorter than a header: exit 5" 5 "$(rc coffer open --key k1 cut3.sealed cut3.out)"
check "no truncated open wrote anything" test ! -e cut.out -a ! -e cut2.out -a ! -e cut3.out
{ cat data.sealed; tail -c +97 data.sealed | head -c 65552; } >ext.sealed
eq "extended by a chunk's worth of bytes: exit 4" 4 "$(rc coffer open --key k1 ext.sealed ext.out)"
eq "not a sealed file: exit 5" 5 "$(rc coffer open --key k1 data.bin notsealed.out)"
# Streaming to stdout: verified chunks come out, the status says it failed.
cp data.sealed late.sealed
flip late.sealed $((96 + 5 * 65552 + 10))
coffer open --key k1 late.sealed - >late.out 2>late.err
eq "a tampered chunk while streaming: exit 4" 4 $?
eq "only the chunks before it were written" $((5 * 65536)) "$(stat -c %s late.out)"
check "and they are the verified plaintext" cmp late.out <(head -c $((5 * 65536)) data.bin)
check "stderr says to discard the stream" grep -q 'discard it' late.err

# --- files that are not regular, missing, existing ----------------------
mkdir adir
eq "a directory as IN: exit 6" 6 "$(rc coffer seal --key k1 adir x.sealed)"
eq "a device as IN: exit 6" 6 "$(rc coffer seal --key k1 /dev/zero x.sealed)"
check "nothing was written" test ! -e x.sealed
eq "a read error mid-seal (stdin is a directory): exit 6" 6 "$(rc coffer seal --key k1 - rd.sealed <adir)"
check "a failed seal leaves no OUT" test ! -e rd.sealed
check "...and no temporary file" no_temp_files
eq "a missing IN: exit 6" 6 "$(rc coffer seal --key k1 nosuch x.sealed)"
eq "a missing key file: exit 6" 6 "$(rc coffer seal --key nokey data.bin x.sealed)"
cp k1 kopen && chmod 644 kopen
eq "a key file readable by others: exit 6" 6 "$(rc coffer seal --key kopen data.bin x.sealed)"
printf 'not a key\n' >kbad && chmod 600 kbad
eq "a malformed key file: exit 5" 5 "$(rc coffer seal --key kbad data.bin x.sealed)"
check "still nothing written" test ! -e x.sealed
echo old >exists
eq "OUT exists: exit 6" 6 "$(rc coffer seal --key k1 data.bin exists)"
eq "...and is untouched" old "$(cat exists)"
eq "open to an existing OUT: exit 6" 6 "$(rc coffer open --key k1 data.sealed exists)"
eq "--force replaces it" 0 "$(rc coffer open --force --key k1 data.sealed exists)"
check "...with the plaintext" cmp data.bin exists
eq "a directory as OUT, even with --force: exit 6" 6 "$(rc coffer open --force --key k1 data.sealed adir)"
eq "a device as OUT, even with --force: exit 6" 6 "$(rc coffer open --force --key k1 data.sealed /dev/null)"
check "/dev/null is still a device" test -c /dev/null

# --- usage -------------------------------------------------------------
eq "no --key: exit 2" 2 "$(rc coffer seal data.bin y.sealed)"
eq "a chunk size that is not a power of two: exit 2" 2 "$(rc coffer seal --key k1 --chunk-size 5000 data.bin y.sealed)"
eq "--chunk-size 0: exit 2 (not the default)" 2 "$(rc coffer seal --key k1 --chunk-size 0 data.bin y.sealed)"
eq "--chunk-size 0K: exit 2" 2 "$(rc coffer seal --key k1 --chunk-size 0K data.bin y.sealed)"
check "...and nothing was written" test ! -e y.sealed
eq "an unknown suite: exit 2" 2 "$(rc coffer seal --key k1 --suite des data.bin y.sealed)"
eq "one argument too many: exit 2" 2 "$(rc coffer open --key k1 a b c)"
eq "coffer help seal: exit 0" 0 "$(rc coffer help seal)"

# --- an interrupted open leaves nothing behind --------------------------
mkdir intr
mkfifo intr.fifo
coffer open --key k1 intr.fifo intr/out 2>/dev/null &
pid=$!
track $pid
exec 3>intr.fifo
head -c 300000 data.sealed >&3
# The plaintext goes to a file with no name (O_TMPFILE) until verified.
unnamed() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q "$2/#[0-9]* (deleted)"; }
wait_until 10 unnamed $pid "$PWD/intr"
ok $? "an open in progress writes to an unnamed file"
eq "with no name in the directory" "" "$(ls -A intr)"
kill -TERM $pid
wait $pid 2>/dev/null
exec 3>&-
check "SIGTERM leaves no temporary file" no_temp_files intr
check "and leaves no OUT" test ! -e intr/out
# SIGKILL, which no handler sees: still nothing (it was OUT.tmp-* with
# hundreds of MB of plaintext).
coffer open --key k1 intr.fifo intr/out 2>/dev/null &
pid=$!
track $pid
exec 3>intr.fifo
head -c 300000 data.sealed >&3
wait_until 10 unnamed $pid "$PWD/intr"
kill -KILL $pid
wait $pid 2>/dev/null
exec 3>&-
eq "coffer open killed with SIGKILL leaves nothing in the directory" "" "$(ls -A intr)"

# --- file names cannot forge summary lines --------------------------------
forged=$'evil\ndigest       sha256:0000000000000000000000000000000000000000000000000000000000000000'
coffer seal --key k1 data.bin "$forged" >forged.out 2>&1
eq "seal to a name with a newline: exit 0" 0 $?
eq "awk sees exactly one digest: the real one" \
	"sha256:$(sha256sum <"$forged" | cut -d' ' -f1)" "$(field digest <forged.out)"
check "the name is printed with \\n escaped" grep -qF 'output       evil\ndigest' forged.out
eq "inspect prints one digest line too" 1 "$(coffer inspect "$forged" | grep -c '^digest')"
tabbed=$'a\tb\\c\033[2J'
cp data.sealed "$tabbed"
check "tab, backslash and escape bytes are escaped" \
	grep -qF 'input        a\tb\\c\x1b[2J' <(coffer inspect "$tabbed")
latin1=$'caf\xe9.sealed'
cp data.sealed "$latin1"
eq "inspect --json keeps a non-UTF-8 input name (U+FFFD for the bad byte)" \
	"caf"$'\xef\xbf\xbd'".sealed" "$(coffer inspect --json "$latin1" | jq -r .input)"
eq "open --json keeps a non-UTF-8 output name" "nonutf8"$'\xef\xbf\xbd' \
	"$(coffer open --json --key k1 data.sealed nonutf8$'\xff' | jq -r .output)"
check "text output escapes the bad byte" grep -qF 'input        caf\xe9.sealed' <(coffer inspect "$latin1")

# --- results that cannot be printed are errors ----------------------------
coffer seal --key k1 data.bin full.sealed >/dev/full 2>full.err
eq "seal with stdout full: exit 6" 6 $?
check "...the sealed file exists all the same" coffer open -q --key k1 full.sealed full.out
check "...and stderr says it was written" grep -q 'full.sealed was written, but its summary' full.err
eq "seal --quiet prints nothing, so a full stdout is fine" 0 "$(rc sh -c 'coffer seal -q --key k1 data.bin fullq.sealed >/dev/full')"
eq "inspect with stdout full: exit 6" 6 "$(rc sh -c 'coffer inspect data.sealed >/dev/full')"
coffer open --key k1 data.sealed fullopen.out >/dev/full 2>fullopen.err
eq "open with stdout full: exit 6" 6 $?
check "...the plaintext is in place" cmp data.bin fullopen.out
check "...and stderr does not claim nothing was written" not_grep 'nothing was written' fullopen.err

# --- a failed directory fsync after the rename ----------------------------
# The 1st fsync is the temporary file's, the 2nd the directory's.
inject fsync:error=EIO:when=2 \
	coffer open --key k1 data.sealed dirsync.out >dirsync.stdout 2>dirsync.err
eq "open whose directory fsync fails: exit 6" 6 $?
check "...the verified plaintext is in place" cmp data.bin dirsync.out
check "...stderr says it was written and is complete" grep -q 'dirsync.out was written and is complete, but syncing its directory failed' dirsync.err
check "...not that nothing was written" not_grep 'nothing was written' dirsync.err
check "...and the summary was printed" grep -q '^verified' dirsync.stdout

# --- an interrupted seal leaves nothing behind ----------------------------
mkdir sintr
{ inject fsync:signal=TERM:when=1 \
	coffer seal --key k1 data.bin sintr/out.sealed >/dev/null; } 2>/dev/null
check "SIGTERM at the fsync of a seal leaves no temporary file" no_temp_files sintr
check "...and no OUT" test ! -e sintr/out.sealed

# --- an ignored SIGHUP stays ignored (nohup, background jobs) -------------
mkfifo hup.fifo
(trap '' HUP; exec coffer seal -q --key k1 hup.fifo hup.sealed) 2>hup.err &
pid=$!
track $pid
exec 4>hup.fifo
head -c 200000 data.bin >&4
wait_until 10 unnamed $pid "$PWD"
ok $? "a seal in progress writes to an unnamed file"
sigign=$(awk '$1 == "SigIgn:" { print $2 }' /proc/$pid/status)
(( 0x$sigign & 1 ))
ok $? "SIGHUP is still ignored while the temporary file exists (SigIgn $sigign)"
sigcgt=$(awk '$1 == "SigCgt:" { print $2 }' /proc/$pid/status)
(( 0x$sigcgt & (1 << 14) ))
ok $? "SIGTERM is caught to remove the temporary file (SigCgt $sigcgt)"
kill -HUP $pid
tail -c +200001 data.bin >&4
exec 4>&-
wait $pid
eq "kill -HUP does not end it: exit 0" 0 $?
coffer open -q --key k1 hup.sealed hup.out
check "...and the sealed file is complete" cmp data.bin hup.out

# --- one thread or two (the digest on a second thread) ----------------------
# The same format and digest whichever runs; the summary says which ran;
# auto picks one thread when the process may use only one CPU.
head -c 3000000 /dev/urandom >thr.bin
for t in 1 2; do
	coffer seal --threads $t --key k1 thr.bin thr$t.sealed >thr$t.out
	eq "seal --threads $t: exit 0" 0 $?
	eq "...its summary says $t" "$t" "$(field threads <thr$t.out)"
	eq "...and its digest is that of the file" \
		"sha256:$(sha256sum thr$t.sealed | cut -d' ' -f1)" "$(field digest <thr$t.out)"
	for u in 1 2; do
		coffer open --threads $u --key k1 thr$t.sealed thr$t$u.out >thr$t$u.open
		eq "open --threads $u of a file sealed with $t: exit 0" 0 $?
		check "...the plaintext" cmp thr.bin thr$t$u.out
		eq "...the same digest" "$(field digest <thr$t.out)" "$(field digest <thr$t$u.open)"
	done
done
eq "open --json says how many threads ran" 2 \
	"$(coffer open --json --threads 2 --key k1 thr1.sealed - 2>&1 >/dev/null | jq .threads)"
eq "auto on one CPU runs one thread" 1 \
	"$(taskset -c 0 coffer seal --key k1 thr.bin thr_one.sealed | field threads)"
head -c 100000 /dev/urandom >small.bin
eq "auto runs one thread for a file under 1 MiB" 1 \
	"$(coffer seal --key k1 small.bin small.sealed | field threads)"
eq "...and opens it on one" 1 \
	"$(coffer open --key k1 small.sealed small.out | field threads)"
check "...the plaintext" cmp small.bin small.out
if [ "$(nproc)" -ge 2 ]; then
	eq "auto on two CPUs runs two threads for 3 MB" 2 \
		"$(coffer seal --key k1 thr.bin thr_auto.sealed | field threads)"
fi
eq "--threads 3: exit 2" 2 "$(rc coffer seal --threads 3 --key k1 thr.bin thr3.sealed)"
check "...and nothing was written" test ! -e thr3.sealed
# a tampered chunk on two threads: exit 4, nothing under OUT
cp thr2.sealed thr_bad.sealed
flip thr_bad.sealed $((96 + 20 * 65552 + 100))
eq "open --threads 2 of a tampered chunk: exit 4" 4 \
	"$(rc coffer open --threads 2 --key k1 thr_bad.sealed thr_bad.out)"
check "...and no OUT" test ! -e thr_bad.out
check "...and no temporary file" no_temp_files
# streaming out: only the 20 verified chunks before the bad one came out
coffer open --threads 2 --key k1 thr_bad.sealed - >thr_bad.stream 2>/dev/null
eq "...to stdout, exactly the verified chunks" $((20 * 65536)) "$(stat -c %s thr_bad.stream)"
check "...which are the plaintext" cmp thr_bad.stream <(head -c $((20 * 65536)) thr.bin)
# SIGTERM in the middle of a two-thread seal and open: nothing left behind
for cmd in seal open; do
	mkdir "tintr_$cmd"
	mkfifo "tintr_$cmd.fifo"
	coffer $cmd --threads 2 --key k1 "tintr_$cmd.fifo" "tintr_$cmd/out" 2>/dev/null &
	pid=$!
	track $pid
	exec 5>"tintr_$cmd.fifo"
	if [ $cmd = seal ]; then head -c 1500000 thr.bin >&5; else head -c 1500000 thr2.sealed >&5; fi
	wait_until 10 unnamed $pid "$PWD/tintr_$cmd"
	ok $? "a two-thread $cmd in progress writes to an unnamed file"
	kill -TERM $pid
	wait $pid 2>/dev/null
	eq "...SIGTERM ends it by the signal" 143 $?
	exec 5>&-
	check "...and leaves no temporary file" no_temp_files "tintr_$cmd"
	check "...and leaves no OUT" test ! -e "tintr_$cmd/out"
done
# A read or a write that fails in the middle of a two-thread seal or open
# (strace fault injection: the third batch's readv or writev): exit 6,
# the error named, nothing under OUT and no temporary file.
for f in "seal readv EIO Input/output" "seal writev ENOSPC No.space" \
	"open writev ENOSPC No.space"; do
	set -- $f
	in=thr.bin
	[ "$1" = open ] && in=thr2.sealed
	inject "$2:error=$3:when=3" coffer "$1" --threads 2 --key k1 $in "tfail_$1_$2" \
		>/dev/null 2>"tfail_$1_$2.err"
	eq "$1 --threads 2 whose third $2 fails ($3): exit 6" 6 $?
	check "...the error is named" grep -q "$4" "tfail_$1_$2.err"
	check "...and no OUT" test ! -e "tfail_$1_$2"
	check "...and no temporary file" no_temp_files
done
# A reader that goes away (a closed pipe): with SIGPIPE ignored, exit 6
# naming it; by default the signal ends the command, as for cat.
for cmd in seal open; do
	in=thr.bin
	[ $cmd = open ] && in=thr2.sealed
	(trap '' PIPE; coffer $cmd --threads 2 --key k1 $in - 2>"tpipe_$cmd.err" |
		head -c 1000 >/dev/null; exit "${PIPESTATUS[0]}")
	eq "$cmd --threads 2 to a pipe closed early, SIGPIPE ignored: exit 6" 6 $?
	check "...the error is named" grep -q "Broken pipe" "tpipe_$cmd.err"
	coffer $cmd --threads 2 --key k1 $in - 2>/dev/null | head -c 1000 >/dev/null
	eq "...by default SIGPIPE ends it" 141 "${PIPESTATUS[0]}"
done
