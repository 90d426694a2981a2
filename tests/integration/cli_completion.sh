#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer completion`: the bash script it prints, sourced into this shell,
# completes command names, each command's verbs and long options, and file
# names; and what it offers agrees with the commands themselves (every verb
# is accepted, every option is in the command's --help).
# timeout: 120
. "$(dirname "$0")/lib.sh"
plan 30

coffer completion >"$T/coffer.bash"
ok $? "coffer completion exits 0"
bash -n "$T/coffer.bash"
ok $? "the script is valid bash"
# shellcheck disable=SC1091
. "$T/coffer.bash"
complete -p coffer 2>/dev/null | grep -q -- '-F _coffer'
ok $? "sourcing it registers _coffer for coffer"

# comp LINE: what bash would offer for LINE (the last word is the one being
# completed; a trailing space starts an empty one), sorted, on one line.
comp() {
	local line=$1
	read -ra COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	_coffer coffer "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' '
}

mkdir -p "$T/empty" "$T/files/sub"
: >"$T/files/data.csv"
: >"$T/files/data.key"
cd "$T/empty" || bail "cd $T/empty"

# --- command names ---------------------------------------------------------
all=$(comp "coffer ")
eq "'coffer <TAB>' offers every command and --help, --version" \
	"--help --version attest audit collateral completion coordinator help id inspect job key open policy receipt results run seal token up version" "$all"
eq "'coffer se<TAB>' completes seal" "seal" "$(comp "coffer se")"
eq "'coffer i<TAB>' offers id and inspect" "id inspect" "$(comp "coffer i")"

# --- verbs -----------------------------------------------------------------
eq "'coffer job <TAB>' offers its verbs" \
	"delete list logs show stop submit timeline wait watch" "$(comp "coffer job ")"
eq "'coffer job wat<TAB>' completes watch" "watch" "$(comp "coffer job wat")"
eq "'coffer key <TAB>' offers new, show and upload" "new show upload" "$(comp "coffer key ")"
eq "'coffer id <TAB>' offers new, show and check" "check new show" "$(comp "coffer id ")"
eq "'coffer attest <TAB>' offers its verbs" "measure report sim-key verify" \
	"$(comp "coffer attest ")"
eq "'coffer help se<TAB>' completes a command name" "seal" "$(comp "coffer help se")"
eq "'coffer seal <TAB>' (no verbs) offers files, here none" "" "$(comp "coffer seal ")"

# --- options ---------------------------------------------------------------
eq "'coffer seal --<TAB>' offers seal's options" \
	"--chunk-size --force --help --json --key --quiet --suite --threads --verbose" "$(comp "coffer seal --")"
eq "'coffer seal --ch<TAB>' completes --chunk-size" "--chunk-size" "$(comp "coffer seal --ch")"
eq "'coffer job list --<TAB>' offers job's options" \
	"--force --help --interval --output --state --timeout --token --url" "$(comp "coffer job list --")"
eq "'coffer job --<TAB>' offers options in the verb's place too" \
	"--force --help --interval --output --state --timeout --token --url" "$(comp "coffer job --")"
eq "'coffer attest verify --allow-missing-c<TAB>'" \
	"--allow-missing-collateral --allow-missing-crl" \
	"$(comp "coffer attest verify --allow-missing-c")"
eq "'coffer run --rep<TAB>' completes --replicas" "--replicas" "$(comp "coffer run --rep")"
eq "'coffer up --<TAB>'" "--allow-cmd --allow-workload-url --asperathos --asperathos-no-token --coordinator-port --dir --grace-ms --help --listen --no-coordinator --port --redis --standby --workload-dir" "$(comp "coffer up --")"
eq "'coffer job list --state <TAB>' offers the states" \
	"completed failed pending running stopped" "$(comp "coffer job list --state ")"
eq "'coffer job list --state r<TAB>' completes running" "running" \
	"$(comp "coffer job list --state r")"
eq "'coffer open --k<TAB>' completes --key" "--key" "$(comp "coffer open --k")"

# --- files -----------------------------------------------------------------
eq "'coffer seal --key DIR/data.k<TAB>' completes a file" "$T/files/data.key" \
	"$(comp "coffer seal --key $T/files/data.k")"
eq "'coffer key new DIR/<TAB>' offers the directory's entries" \
	"$T/files/data.csv $T/files/data.key $T/files/sub" "$(comp "coffer key new $T/files/")"
eq "'coffer inspect DIR/d<TAB>' completes files" "$T/files/data.csv $T/files/data.key" \
	"$(comp "coffer inspect $T/files/d")"

# --- agreement with the commands -------------------------------------------
# Every verb offered is one the command accepts, and an unknown one is not.
bad=
for cmd in attest id job key; do
	for v in $(comp "coffer $cmd "); do
		coffer "$cmd" "$v" --help >/dev/null 2>&1 || bad="$bad $cmd/$v"
	done
done
eq "every verb offered is accepted ('coffer CMD VERB --help' exits 0)" "" "$bad"
bad=
for cmd in attest id job key; do
	coffer "$cmd" no-such-verb >/dev/null 2>&1
	[ $? -eq 2 ] || bad="$bad $cmd"
done
eq "an unknown verb is refused with exit 2" "" "$bad"

# Every option offered is documented in the command's --help (the options
# come from the getopt tables the commands parse with; the help is text).
missing=
for cmd in $all; do
	[[ $cmd == -* ]] && continue
	help=$(coffer "$cmd" --help 2>&1)
	for o in $(comp "coffer $cmd --"); do
		[ "$o" = --help ] && continue
		grep -q -- "$o\b" <<<"$help" || missing="$missing $cmd:$o"
	done
done
eq "every option offered appears in its command's --help" "" "$missing"

# Every command has a --help that exits 0 and starts with its usage.
bad=
for cmd in $all; do
	[[ $cmd == -* ]] && continue
	coffer "$cmd" --help 2>/dev/null | head -1 | grep -q "^usage: coffer $cmd" ||
		bad="$bad $cmd"
done
eq "'coffer CMD --help' prints CMD's usage for every command" "" "$bad"
