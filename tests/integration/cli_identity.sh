#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer id` and `coffer key` end to end: files created 0600 and never
# overwritten, public lines and key ids as doc/format/identity.md says,
# and the documented exit codes for refused and malformed files (FIFOs
# included); no secret left behind by an interrupted `new`; results that
# could not be printed or synced reported as such.
# timeout: 120
. "$(dirname "$0")/lib.sh"
plan 68

# rc CMD...: run CMD, keep stdout in $out and stderr in $err, print status.
rc() { "$@" >"$T/out" 2>"$T/err"; echo $?; }
out() { cat "$T/out"; }
err() { cat "$T/err"; }
mode() { stat -c %a "$1"; }
# inject SPEC CMD...: run CMD under strace fault injection (-e inject=SPEC).
# LeakSanitizer cannot run under ptrace, so a sanitizer build skips it there.
inject() {
	local spec=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -o /dev/null -e "inject=$spec" "$@"
}

# --- identities -----------------------------------------------------------
eq "id new exits 0" 0 "$(rc coffer id new --name alice@hosp-a "$T/alice.id")"
line=$(out)
[[ $line =~ ^coffer-id1:[A-Za-z0-9_-]{86}:alice@hosp-a:[A-Za-z0-9_-]{8}$ ]]
ok $? "id new prints a public line: $line"
eq "identity file is mode 600" 600 "$(mode "$T/alice.id")"
eq "identity file starts with its magic" coffer-identity1 "$(head -1 "$T/alice.id")"
eq "id show exits 0" 0 "$(rc coffer id show "$T/alice.id")"
eq "id show prints the same line" "$line" "$(out)"
eq "id check accepts the line" 0 "$(rc coffer id check "$line")"
grep -q '^name  *alice@hosp-a$' "$T/out"; ok $? "id check prints the name"
grep -qE '^fingerprint  *[0-9a-f]{64}$' "$T/out"; ok $? "id check prints a fingerprint"

cp "$T/alice.id" "$T/alice.copy"
eq "id new refuses to overwrite (exit 6)" 6 "$(rc coffer id new "$T/alice.id")"
grep -q 'already exists' "$T/err"; ok $? "... saying it exists: $(err)"
cmp -s "$T/alice.id" "$T/alice.copy"; ok $? "... and leaves the file unchanged"

(umask 000 && coffer id new "$T/loose-umask.id" >/dev/null)
eq "a permissive umask still gives mode 600" 600 "$(mode "$T/loose-umask.id")"

chmod 644 "$T/alice.id"
eq "id show refuses a 644 file (exit 6)" 6 "$(rc coffer id show "$T/alice.id")"
grep -q 'permissions 0644 are too open.*chmod 600' "$T/err"; ok $? "... explaining the fix: $(err)"
chmod 600 "$T/alice.id"

eq "id show of a missing file (exit 6)" 6 "$(rc coffer id show "$T/none.id")"
eq "id show of a directory (exit 6)" 6 "$(rc coffer id show "$T")"

printf 'hello\n' >"$T/junk.id"; chmod 600 "$T/junk.id"
eq "id show of a junk file (exit 5)" 5 "$(rc coffer id show "$T/junk.id")"
grep -q 'not an identity file' "$T/err"; ok $? "... saying so: $(err)"

sed 's/^name: alice@hosp-a$/name: mallory/' "$T/alice.id" >"$T/edited.id"; chmod 600 "$T/edited.id"
eq "an edited identity file is refused (exit 5)" 5 "$(rc coffer id show "$T/edited.id")"
grep -q 'does not match the secret keys' "$T/err"; ok $? "... as edited or damaged: $(err)"

sed '1s/.*/coffer-identity7/' "$T/alice.id" >"$T/v7.id"; chmod 600 "$T/v7.id"
eq "a future identity version is refused (exit 5)" 5 "$(rc coffer id show "$T/v7.id")"
grep -q 'unsupported version' "$T/err"; ok $? "... as an unsupported version: $(err)"

bad=${line/alice@hosp-a/alice@hosp-b}
eq "id check rejects an altered name (exit 5)" 5 "$(rc coffer id check "$bad")"
grep -q 'checksum mismatch' "$T/err"; ok $? "... by its checksum: $(err)"
eq "id check rejects a truncated line (exit 5)" 5 "$(rc coffer id check "${line:0:60}")"
eq "id check strips a trailing LF" 0 "$(rc coffer id check "$line"$'\n')"
eq "id check strips a trailing CR LF" 0 "$(rc coffer id check "$line"$'\r\n')"
eq "id check refuses a lone trailing CR (exit 5)" 5 "$(rc coffer id check "$line"$'\r')"
grep -q 'lone CR' "$T/err"; ok $? "... saying so: $(err)"

eq "id new rejects a bad name (exit 2)" 2 "$(rc coffer id new --name 'a b' "$T/b.id")"
[ ! -e "$T/b.id" ]; ok $? "... and creates no file"
eq "id new into a missing directory (exit 6)" 6 "$(rc coffer id new "$T/no/such/dir.id")"

# The documented test vector (doc/format/identity.md section 2).
vline='coffer-id1:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURqFIPAJiTCnVHSLfdy0PvdaDb86DSY4GvTrpKmOqptOag:alice:BscHCNfz'
printf 'coffer-identity1\nname: alice\ned25519-secret: nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\nx25519-secret: dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo\npublic: %s\n' "$vline" >"$T/vector.id"
chmod 600 "$T/vector.id"
eq "id show of the documented vector" "$vline" "$(coffer id show "$T/vector.id" 2>&1)"

# --- data keys ------------------------------------------------------------
eq "key new exits 0" 0 "$(rc coffer key new "$T/data.key")"
kid=$(out)
[[ $kid =~ ^[0-9a-f]{32}$ ]]; ok $? "key new prints a key id: $kid"
eq "key file is mode 600" 600 "$(mode "$T/data.key")"
grep -qE '^coffer-key1:[A-Za-z0-9_-]{43}$' "$T/data.key"; ok $? "key file is one coffer-key1 line"
eq "key show prints the same id" "$kid" "$(coffer key show "$T/data.key" 2>&1)"
eq "key new refuses to overwrite (exit 6)" 6 "$(rc coffer key new "$T/data.key")"

chmod 640 "$T/data.key"
eq "key show refuses a 640 file (exit 6)" 6 "$(rc coffer key show "$T/data.key")"
chmod 600 "$T/data.key"
eq "key show of an identity file (exit 5)" 5 "$(rc coffer key show "$T/alice.id")"

printf 'coffer-key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n' >"$T/vector.key"
chmod 600 "$T/vector.key"
eq "key show of the documented vector" 0365e1ebe93082f1a696d0198e9a8075 "$(coffer key show "$T/vector.key" 2>&1)"

# --- usage ----------------------------------------------------------------
eq "'coffer id' without a verb is a usage error (exit 2)" 2 "$(rc coffer id)"
eq "an unknown key verb is a usage error (exit 2)" 2 "$(rc coffer key rotate "$T/x")"
eq "id show with two files is a usage error (exit 2)" 2 "$(rc coffer id show a b)"
eq "coffer id --help exits 0" 0 "$(rc coffer id --help)"
grep -q 'coffer id check LINE' "$T/out"; ok $? "... and shows the verbs"
eq "coffer help key exits 0" 0 "$(rc coffer help key)"
coffer help | grep -qE '^  id ' && coffer help | grep -qE '^  key '
ok $? "coffer help lists id and key"

# --- key files that are not regular files ---------------------------------
mkfifo -m 600 "$T/fifo.key"
eq "key show of a FIFO does not hang (exit 6)" 6 "$(rc timeout 10 coffer key show "$T/fifo.key")"
grep -q 'not a regular file (it is a named pipe)' "$T/err"; ok $? "... and says what it is: $(err)"
eq "id show of a FIFO (exit 6)" 6 "$(rc timeout 10 coffer id show "$T/fifo.key")"
printf 'data\n' >"$T/plain"
eq "seal --key FIFO (exit 6)" 6 "$(rc timeout 10 coffer seal --key "$T/fifo.key" "$T/plain" "$T/fifo.sealed")"
grep -q 'named pipe' "$T/err"; ok $? "... naming the key file's type: $(err)"

# --- an interrupted key new / id new leaves no secret behind --------------
# SIGTERM at the fsync of the temporary file, i.e. with the secret in it.
mkdir "$T/intr"
{ inject fsync:signal=TERM:when=1 coffer key new "$T/intr/kk.key" >/dev/null; } 2>/dev/null
[ -z "$(ls -A "$T/intr")" ]; ok $? "SIGTERM during key new leaves no file: $(ls -A "$T/intr")"
{ inject fsync:signal=INT:when=1 coffer id new "$T/intr/i.id" >/dev/null; } 2>/dev/null
[ -z "$(ls -A "$T/intr")" ]; ok $? "SIGINT during id new leaves no file: $(ls -A "$T/intr")"
{ inject fsync:signal=HUP:when=1 coffer key new "$T/intr/k2.key" >/dev/null; } 2>/dev/null
[ -z "$(ls -A "$T/intr")" ]; ok $? "SIGHUP during key new leaves no file: $(ls -A "$T/intr")"

# --- results that cannot be printed ---------------------------------------
eq "key new with stdout full (exit 6)" 6 "$(rc sh -c "coffer key new '$T/full.key' >/dev/full")"
grep -q 'full.key was written, but its key id could not be printed' "$T/err"; ok $? "... saying the key was written: $(err)"
[[ $(coffer key show "$T/full.key") =~ ^[0-9a-f]{32}$ ]]; ok $? "... and the key file is usable"
eq "id new with stdout full (exit 6)" 6 "$(rc sh -c "coffer id new '$T/full.id' >/dev/full")"
grep -q 'full.id was written, but its public line could not be printed' "$T/err"; ok $? "... saying the identity was written: $(err)"
eq "key show with stdout full (exit 6)" 6 "$(rc sh -c "coffer key show '$T/full.key' >/dev/full")"
eq "id show with stdout full (exit 6)" 6 "$(rc sh -c "coffer id show '$T/full.id' >/dev/full")"

# --- a failed directory fsync after the link ------------------------------
# The 1st fsync is the temporary file's, the 2nd the directory's.
eq "key new whose directory fsync fails (exit 6)" 6 \
	"$(rc inject fsync:error=EIO:when=2 coffer key new "$T/dirsync.key")"
grep -q 'dirsync.key was written and is complete, but syncing its directory failed' "$T/err"; ok $? "... saying the key was written: $(err)"
eq "... still prints the key id" "$(coffer key show "$T/dirsync.key")" "$(out)"
