#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The worker renews its lease while the app runs (an item three times
# longer than the lease is not taken away, even with a reaper running all
# along), and on SIGTERM finishes the current item, acknowledges it and
# exits 0, leaving the rest queued. Both app kinds. SIGHUP to the worker's
# whole process group (a terminal's hang-up) does the same.
# timeout: 150
. "$(dirname "$0")/lib.sh"
plan 25

QCTL=$COFFER_BUILD/tests/tools/queuectl
APPS=$COFFER_BUILD/apps
LEASE=600
start_redis
mkdir -p "$T/in" "$T/trace"
for i in 1 2 3; do printf 'slow item %d\n' "$i" > "$T/in/s$i"; done

reaper() { # job: reap with the same lease until killed
	while :; do "$QCTL" reap "$REDIS_URL" "$1" --lease-ms $LEASE > /dev/null; sleep 0.1; done
}

one_kind() { # job app kind-label
	local job=$1 app=$2 what=$3 item= rc
	"$QCTL" load "$REDIS_URL" "$job" s1 s2 s3 > /dev/null
	reaper "$job" &
	local rp=$!
	track $rp
	coffer-worker --job "$job" --redis "$REDIS_URL" --store "$T/in" --outputs "$T/out-$job" \
		--app "$app" --param sleep_ms=4000 --param trace_dir="$T/trace" \
		--lease-ms $LEASE --worker-id "$job-w" 2> "$T/$job.log" &
	local wp=$!
	track $wp
	for _ in $(seq 400); do
		item=$(rcli LRANGE "coffer:{$job}:inflight:$job-w" 0 0)
		[ -n "$item" ] && break
		sleep 0.02
	done
	[ -n "$item" ]; ok $? "$what: the worker took an item ($item)"
	sleep 2 # past lease + reaper grace: only renewals keep it
	eq "$what: still leased to the worker after 3 lease periods" "1 2" \
		"$(rcli LLEN "coffer:{$job}:inflight:$job-w") $(rcli LLEN "coffer:{$job}:queue")"
	kill -TERM $wp
	wait $wp
	rc=$?
	kill $rp 2>/dev/null
	wait $rp 2>/dev/null
	eq "$what: SIGTERM lets the item finish, then exit 0" 0 $rc
	eq "$what: the item is done, the others still queued" \
		"total=3 done=1 failed=0 in_flight=0 queued=2" "$("$QCTL" stats "$REDIS_URL" "$job")"
	cmp -s "$T/in/$item" "$T/out-$job/$item"; ok $? "$what: its output is there"
	eq "$what: never leased again while it ran (attempts)" 1 \
		"$(rcli HGET "coffer:{$job}:attempts" "$item")"
	eq "$what: the worker unregistered" 0 "$(rcli ZCARD "coffer:{$job}:workers")"
	grep -q "item done item=$item" "$T/$job.log"; ok $? "$what: the log has the item, attempt and time"
}

one_kind tp "$APPS/fault.so" plugin
one_kind tx "$APPS/fault" executable

# SIGHUP to the whole group, the runner included (doc/worker.md 5): the
# runner finishes its item as on SIGTERM. It kept the supervisor's handler,
# which in a forked child re-raises the signal with its default action
# (lib/signals.c), and died mid-item (review of round six, finding 15).
"$QCTL" load "$REDIS_URL" hp s1 s2 s3 > /dev/null
setsid coffer-worker --job hp --redis "$REDIS_URL" --store "$T/in" --outputs "$T/out-hp" \
	--app "$APPS/fault.so" --param sleep_ms=1500 --lease-ms 5000 --worker-id hp-w \
	2> "$T/hp.log" &
wp=$!
track $wp
item=
for _ in $(seq 400); do
	item=$(rcli LRANGE 'coffer:{hp}:inflight:hp-w' 0 0)
	[ -n "$item" ] && break
	sleep 0.02
done
sleep 0.3
kill -HUP -- -"$wp"
wait $wp
eq "SIGHUP to the group: the item finishes, then exit 0" 0 $?
eq "SIGHUP to the group: the item is done, the others still queued" \
	"total=3 done=1 failed=0 in_flight=0 queued=2" "$("$QCTL" stats "$REDIS_URL" hp)"
eq "SIGHUP to the group: done at its first attempt" 1 \
	"$(rcli HGET 'coffer:{hp}:attempts' "$item")"
grep -q "signal received, stopping signal=SIGHUP" "$T/hp.log"
ok $? "SIGHUP to the group: the supervisor logs it"

# A lease taken over by someone else: the worker abandons the item (its app
# is stopped, nothing is stored or recorded) and goes on with the next.
"$QCTL" load "$REDIS_URL" lj s1 s2 > /dev/null
coffer-worker --job lj --redis "$REDIS_URL" --store "$T/in" --outputs "$T/out-lj" \
	--app "$APPS/fault.so" --param sleep_ms=1500 --lease-ms $LEASE --worker-id lj-w \
	2> "$T/lj.log" &
wp=$!
track $wp
for _ in $(seq 400); do
	item=$(rcli LRANGE 'coffer:{lj}:inflight:lj-w' 0 0)
	[ -n "$item" ] && break
	sleep 0.02
done
rcli SET "coffer:{lj}:lease:$item" intruder PX 60000 > /dev/null
other=s2; [ "$item" = s2 ] && other=s1
other_done() { [ "$(rcli SISMEMBER 'coffer:{lj}:done' "$other")" = 1 ]; }
wait_until 30 other_done; ok $? "after losing $item's lease the worker went on with $other"
grep -q "item abandoned.*item=$item" "$T/lj.log"; ok $? "the abandoned item is logged"
[ ! -e "$T/out-lj/$item" ]; ok $? "no output was stored for the abandoned item"
eq "the abandoned item was not recorded as done or failed" "0 0" \
	"$(rcli SISMEMBER 'coffer:{lj}:done' "$item") $(rcli HEXISTS 'coffer:{lj}:errors' "$item")"
kill -0 $wp; ok $? "the worker process is still running"
kill -TERM $wp; wait $wp
