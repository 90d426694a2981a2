#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer up --standby 2` (doc/cli.md, doc/manager.md section 5.4): the
# manager it starts keeps 2 idle standby workers of each kind, plaintext
# and confidential for coffer up's own coordinator; the state file and the
# banner say so; Ctrl-C leaves no standby worker; a bad count is refused.
# timeout: 120
. "$(dirname "$0")/lib.sh"
plan 7

coffer up --standby x >"$T/bad.out" 2>&1
eq "--standby x: a usage error (exit 2)" 2 $?

start_coffer_up --grace-ms 2000 --standby 2
MURL=$(jq -r .url "$STATE")
TOKEN=$(jq -r .token "$STATE")
COORD=$(jq -r .coordinator.url "$STATE")
eq "the state file says the pool's size" 2 "$(jq .standby "$STATE")"
grep -q '^  standby: 2 idle workers per kind' "$T/up.out"
ok $? "and the banner"
pool() { curl -s -H "Authorization: Bearer $TOKEN" "$MURL/v1/standby"; }
both_full() {
	[ "$(pool | jq -c '[.kinds[] | [.kind, .idle]]')" = \
		"$(jq -nc --arg c "confidential:sim:$COORD" '[["plaintext", 2], [$c, 2]]')" ]
}
wait_until 60 both_full
ok $? "2 idle plaintext and 2 idle confidential workers for coffer up's coordinator"
pids=$(pool | jq -r '[.kinds[].workers[].pid] | map(tostring) | join(" ")')
alive_all=1
for p in $pids; do kill -0 "$p" 2>/dev/null || alive_all=0; done
eq "their processes run ($pids)" 1 "$alive_all"
kill -INT "$UP"
wait "$UP"
eq "Ctrl-C stops coffer up (exit 0)" 0 $?
gone() { local p; for p in $pids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_until 10 gone
ok $? "and leaves no standby worker"
