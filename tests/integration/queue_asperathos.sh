#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Asperathos compatibility (doc/queue.md section 6): a job loaded in the
# Asperathos layout is processed by an unmodified Asperathos-style consumer
# (shell + redis-cli: RPOPLPUSH job job:processing, LREM when done, with
# REDIS_HOST and REDIS_PORT from its environment); progress is counted
# from Redis alone; the documented recovery returns an item a crashed
# consumer left in job:processing. Also: coffer-worker itself takes its
# Redis address from REDIS_HOST/REDIS_PORT and its settings from COFFER_*.
# timeout: 120
. "$(dirname "$0")/lib.sh"
plan 14

QCTL=$COFFER_BUILD/tests/tools/queuectl
N=40
start_redis
mkdir -p "$T/in" "$T/out"
for i in $(seq -w 1 $N); do printf 'asperathos item %s\n' "$i" > "$T/in/a$i.txt"; done

# The consumer, as an Asperathos user would write it for kubejobs. It
# stops after $MAX items (to look at progress mid-job) or when the queue
# is empty.
cat > "$T/consumer.sh" <<'EOF'
#!/bin/bash
n=0
while [ "$n" -lt "${MAX:-1000000}" ]; do
	item=$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" RPOPLPUSH job job:processing)
	[ -z "$item" ] && break
	tr 'a-z' 'A-Z' < "$IN/$item" > "$OUT/$item.tmp" && mv "$OUT/$item.tmp" "$OUT/$item"
	redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" LREM job:processing 1 "$item" > /dev/null
	n=$((n + 1))
done
EOF
chmod +x "$T/consumer.sh"
cenv=(env REDIS_HOST=127.0.0.1 REDIS_PORT="$REDIS_PORT" IN="$T/in" OUT="$T/out")

check "load $N items in the Asperathos layout" \
	"$QCTL" load "$REDIS_URL" job --layout asperathos --dir "$T/in"
eq "the items are in the literal list 'job'" "$N" "$(rcli LLEN job)"
check_fails "loading the same job twice is refused" \
	"$QCTL" load "$REDIS_URL" job --layout asperathos a b

"${cenv[@]}" MAX=10 "$T/consumer.sh"
eq "progress after one consumer did 10 items" \
	"total=$N done=10 failed=0 in_flight=0 queued=$((N - 10))" \
	"$("$QCTL" stats "$REDIS_URL" job --layout asperathos)"

# A consumer dies holding an item: it stays in job:processing...
held=$(rcli RPOPLPUSH job job:processing)
eq "a consumer that died holds one item" \
	"total=$N done=10 failed=0 in_flight=1 queued=$((N - 11))" \
	"$("$QCTL" stats "$REDIS_URL" job --layout asperathos)"
# ...until a reaper with a stale timeout has seen it there long enough.
eq "the first reap only notes it" "moved=0" \
	"$("$QCTL" reap "$REDIS_URL" job --layout asperathos --stale-ms 300)"
sleep 0.5
eq "a later reap returns it to the queue" "moved=1" \
	"$("$QCTL" reap "$REDIS_URL" job --layout asperathos --stale-ms 300)"

"${cenv[@]}" "$T/consumer.sh" &
c1=$!
"${cenv[@]}" "$T/consumer.sh" &
c2=$!
wait $c1 $c2
eq "two consumers finish the job" \
	"total=$N done=$N failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" job --layout asperathos)"
ok_all=0
for f in "$T"/in/*; do
	b=$(basename "$f")
	[ "$(tr 'a-z' 'A-Z' < "$f")" = "$(cat "$T/out/$b" 2>/dev/null)" ] || ok_all=1
done
ok $ok_all "every output is its input upper-cased (including $held)"
eq "exactly $N outputs" "$N" "$(ls "$T/out" | wc -l)"
check "destroy removes the job" "$QCTL" destroy "$REDIS_URL" job --layout asperathos
eq "no key left" "0" "$(rcli DBSIZE)"

# coffer-worker configured the way actuators do it: only the environment.
mkdir -p "$T/out2"
"$QCTL" load "$REDIS_URL" envjob --dir "$T/in" > /dev/null
env REDIS_HOST=127.0.0.1 REDIS_PORT="$REDIS_PORT" COFFER_JOB=envjob \
	COFFER_STORE="$T/in" COFFER_OUTPUTS="$T/out2" \
	COFFER_APP="$COFFER_BUILD/apps/checksum.so" COFFER_PARAMS='format=upper' \
	COFFER_EXIT_WHEN_DONE=1 coffer-worker 2> "$T/envworker.log"
eq "a worker configured by environment only finishes the job and exits 0" 0 $?
ok_all=0
for f in "$T"/in/*; do
	b=$(basename "$f")
	[ "$(tr 'a-z' 'A-Z' < "$f")" = "$(cat "$T/out2/$b" 2>/dev/null)" ] || ok_all=1
done
ok $ok_all "its outputs use the parameter from COFFER_PARAMS"
