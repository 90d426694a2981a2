#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The same job (items, app, deadline controller) through three managers at
# once, one per actuator: local processes, a real Slurm cluster, and the
# Kubernetes contract server. Each gives the same outputs (every input's,
# byte for byte); with local and Slurm the deadline is met, the controller
# having scaled up and down.
# timeout: 300
. "$(dirname "$0")/lib.sh"

plan 11

start_redis
start_slurm 2 8
start_k8s --runtime-class kata-qemu-tdx
mkdir -p "$T/store/in"
for i in $(seq -w 1 40); do printf 'item %s %s\n' "$i" "$RANDOM" >"$T/store/in/i-$i"; done

# manager NAME ARGS...: a coffer-manager with its own store, sharing the
# object store and Redis; sets URL_<NAME>, TOKEN_<NAME>.
manager() {
	local name=$1 db=$T/$1.db
	shift
	printf -v "TOKEN_$name" '%s' "$(coffer-manager token create --db "$db" --name t)"
	coffer-manager serve --db "$db" --listen 127.0.0.1:0 --ready-file "$T/$name.url" \
		--redis "$REDIS_URL" --store "$T/store" --apps "$COFFER_BUILD/apps" \
		--tick-ms 250 --grace-ms 5000 "$@" >>"$T/$name.log" 2>&1 &
	track $!
	wait_until 30 test -s "$T/$name.url" || bail "manager $name did not start"
	printf -v "URL_$name" '%s' "$(cat "$T/$name.url")"
}
# api NAME METHOD PATH [curl args]
api() {
	local u=URL_$1 t=TOKEN_$1
	curl -s -X "$2" -H "Authorization: Bearer ${!t}" -H "Content-Type: application/json" "${@:4}" "${!u}$3"
}

manager local
manager slurm --actuator slurm --actuator-opt partition=debug --actuator-opt poll-ms=250
manager k8s --actuator kubernetes --actuator-opt kubeconfig="$K8S_KUBECONFIG" \
	--actuator-opt image=coffer:test

# 40 items of 0.4 s, the last one of 4 s: 19.6 s of work for one
# replica, a 15 s deadline: the controller must add replicas, then
# release the idle ones while the last item runs alone for 4 s, several
# decisions long (the controller decides every second). (Three long items
# for about as many replicas kept them all busy to the end: the one
# scale-down then came from a three-decision streak that raced the job's
# end, and lost it under load.)
JOB='{"app":"fault","app_params":{"sleep_ms":400,"slow":"in/i-40","slow_ms":4000},"inputs":{"prefix":"in/"},
 "outputs":{"prefix":"out-NAME/"},"expected_time_s":15,"lease_ms":5000,
 "replicas":{"min":1,"max":6,"initial":1},
 "controller":{"name":"deadline","check_interval_s":1}}'
for n in local slurm k8s; do
	api $n POST /v1/jobs -d "${JOB/NAME/$n}" >"$T/sub-$n.json"
	printf -v "ID_$n" "%s" "$(jq -r .id "$T/sub-$n.json")"
	v=ID_$n
	[ "${!v}" != null ] || bail "$n: the job was refused: $(cat "$T/sub-$n.json")"
done
state() { local id=ID_$1; api "$1" GET "/v1/jobs/${!id}" | jq -r .state; }
done_all() {
	local n s
	for n in local slurm k8s; do
		s=$(state $n)
		[ "$s" = completed ] || [ "$s" = failed ] || return 1
	done
}
wait_secs 200 done_all || diag "not every job finished"

for n in local slurm k8s; do
	id=ID_$n
	api $n GET "/v1/jobs/${!id}" >"$T/$n.json"
	eq "$n: the job completed" completed "$(jq -r .state "$T/$n.json")"
	same=0
	for f in "$T/store/in"/*; do
		cmp -s "$f" "$T/store/out-$n/in/$(basename "$f")" || same=1
	done
	ok $same "$n: every output is its input"
done
eq "local: the deadline is met" true "$(jq -r .on_track "$T/local.json")"
eq "slurm: the deadline is met" true "$(jq -r .on_track "$T/slurm.json")"
# The controller's decisions: up from 1, and back down.
for n in local slurm; do
	id=ID_$n
	api $n GET "/v1/jobs/${!id}/timeline" >"$T/$n.timeline.json"
	ok "$(jq -e '[.decisions[] | select(.to > .from)] | length > 0' "$T/$n.timeline.json" >/dev/null && \
		jq -e '[.decisions[] | select(.to < .from)] | length > 0' "$T/$n.timeline.json" >/dev/null && echo 0 || echo 1)" \
		"$n: the controller scaled up and down"
done
for n in local slurm k8s; do diag "$n: $(jq -c '[.elapsed_s, .replicas]' "$T/$n.json")"; done
eq "slurm: its replicas were Slurm jobs" 1 \
	"$([ "$(squeue -h -r -t all --name "coffer-$ID_slurm" -o %i | grep -c .)" -ge 2 ] && echo 1)"
