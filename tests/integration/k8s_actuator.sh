#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Kubernetes backend of the actuator alone (tests/tools/actuatorctl)
# against the API contract server (k8s_apiserver.py: HTTPS, the official
# schemas, kube-apiserver's rules, deploy/kubernetes/rbac.yaml's Role
# enforced, pods run as local processes): a Job whose parallelism follows
# the count, stopped pods ending with SIGTERM and status 143 so that the
# Job scales up again; 429s and 503s backed off, an expired watch listed again, a
# pod deleted from outside replaced; adoption by a new actuator; a
# Deployment scaled down idle pods first (pod-deletion-cost); TEE pods
# (a runtime class, SGX device-plugin resources); bad configurations;
# `coffer run --actuator kubernetes` (libcurl loaded on demand).
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/actuator_common.bash"

plan 50

start_k8s --role "$COFFER_SRC/deploy/kubernetes/rbac.yaml" \
	--runtime-class kata-qemu-tdx --node-resource sgx.intel.com/epc=1Gi \
	--node-resource sgx.intel.com/enclave=20 --node-resource sgx.intel.com/provision=20
D=$T/replicas
mkdir -p "$D"
replica_script "$T/replica.sh" "$D"
# pyjson EXPR: evaluate EXPR over the JSON on stdin (as o).
pyjson() { /usr/bin/python3 -c "import json,sys; o=json.load(sys.stdin); print($1)"; }
jobs_path=/apis/batch/v1/namespaces/coffer/jobs
requests() { k8s_curl GET /_contract/log; }

start_ctl kubernetes --opt kubeconfig="$K8S_KUBECONFIG" --image coffer:test \
	--name coffer-k1 --label coffer-job=k1 --label coffer-manager=mtest \
	--env COFFER_TEST_VAR=hello --grace-ms 3000 --restart 1 \
	--cpu-milli 500 --memory 268435456 -- "$T/replica.sh" "$D"

# 1. A Job of three pods; each replica's id is its pod's name.
eq "set 3" ok "$(cmd 'set 3')"
eq "three pods run" ok "$(cmd 'wait 3 30')"
mapfile -t IDS < <(ids)
eq "three replicas listed" 3 "${#IDS[@]}"
# Each pod starts on its own: wait for all three, not one of them.
started() { for i in "${IDS[@]}"; do [ -s "$D/$i.start" ] || return 1; done; }
wait_until 30 started
eq "a replica's id is its pod's name, with the spec's env" "${IDS[0]} hello" \
	"$(cut -d' ' -f1,2 "$D/${IDS[0]}.start")"
k8s_curl GET "$jobs_path/coffer-k1" >"$T/job.json"
eq "the Job: parallelism, restartPolicy, failure and replacement policies" \
	"3 Never [143] Failed" "$(pyjson 'o["spec"]["parallelism"], o["spec"]["template"]["spec"]["restartPolicy"], o["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"], o["spec"]["podReplacementPolicy"]' <"$T/job.json" | tr -d "(),'")"
eq "the Job: labels on it and its pods, resources, no token" \
	"k1 mtest 500m 268435456 False" "$(pyjson 'o["metadata"]["labels"]["coffer-job"], o["spec"]["template"]["metadata"]["labels"]["coffer-manager"], o["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"], o["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"], o["spec"]["template"]["spec"]["automountServiceAccountToken"]' <"$T/job.json" | tr -d "(),'")"
requests | grep -v '"admin": true' >"$T/req.log"
eq "every request was authorised by deploy/kubernetes/rbac.yaml" 0 \
	"$(grep -c '"code": 403' "$T/req.log")"
eq "objects are created with fieldValidation=Strict" "fieldValidation=Strict" \
	"$(grep '"POST"' "$T/req.log" | sed 's/.*"query": "\([^"]*\)".*/\1/' | sort -u)"

# 2. Down to one: the Job controller deletes two pods; their workers get
# SIGTERM and exit 143, which the Job ignores; nothing crashed. Then up
# again: the Job starts pods (a stop that exited 0 would have ended it).
eq "set 1" ok "$(cmd 'set 1')"
eq "one pod left" ok "$(cmd 'wait 1 30')"
eq "two pods got SIGTERM" 2 "$(cat "$D"/*.term 2>/dev/null | grep -c term)"
k8s_curl GET "$jobs_path/coffer-k1" >"$T/job.json"
eq "the Job counts no failure and no completion" "0 0" \
	"$(pyjson 'o["status"].get("failed", 0), o["status"].get("succeeded", 0)' <"$T/job.json" | tr -d '(),')"
eq "nothing crashed" 0 "$(field crashed)"
eq "up to two" ok "$(cmd 'set 2')"
eq "the Job starts a pod again" ok "$(cmd 'wait 2 30')"

# 3. The API server answers 429 to the next two PATCHes: the actuator backs
# off (Retry-After) and gets there.
k8s_curl POST '/_contract/fail?count=2&code=429&method=PATCH' >/dev/null
eq "set 3 through 429s" ok "$(cmd 'set 3')"
eq "three again" ok "$(cmd 'wait 3 30')"
eq "two PATCHes were refused with 429, then one took" "429 429 200" \
	"$(requests | grep '"PATCH"' | grep -v '"admin": true' | tail -3 | sed 's/.*"code": \([0-9]*\).*/\1/' | tr '\n' ' ' | sed 's/ $//')"

# 4. The watch expires (410): the actuator lists again and watches on,
# through two 503s (backed off); a pod deleted from outside is replaced by
# the Job, and is no crash.
NLIST=$(requests | grep -v '"admin": true' | grep -c '"verb": "list"')
k8s_curl POST '/_contract/fail?count=2&code=503&method=GET' >/dev/null
k8s_curl POST /_contract/expire >/dev/null
cmd 'tick 3' >/dev/null
ok "$([ "$(requests | grep -v '"admin": true' | grep -c '"verb": "list"')" -gt "$NLIST" ] && echo 0 || echo 1)" \
	"after 410 Gone the pods are listed again"
eq "a list refused with 503 is tried again" "503 200" \
	"$(requests | grep -v '"admin": true' | grep '"verb": "list"' | tail -2 | sed 's/.*"code": \([0-9]*\).*/\1/' | tr '\n' ' ' | sed 's/ $//')"
VICTIM=$(ids | head -1)
k8s_curl DELETE "/api/v1/namespaces/coffer/pods/$VICTIM" >/dev/null
cmd 'tick 1' >/dev/null
eq "the deleted pod is replaced" ok "$(cmd 'wait 3 30')"
ok "$(ids | grep -qx "$VICTIM" && echo 1 || echo 0)" "the deleted pod is gone from the list"
eq "no crash" 0 "$(field crashed)"

# 5. A new actuator of the same name and labels adopts the pods.
BEFORE=$(ids | tr '\n' ' ')
eq "detach and a new actuator" ok "$(cmd detach)"
eq "asked for three" ok "$(cmd 'set 3')"
eq "it sees three" ok "$(cmd 'wait 3 30')"
eq "the same pods, adopted, none started" "${BEFORE}adopted=3 started=0" \
	"$(ids | tr '\n' ' ')adopted=$(field adopted) started=$(field started)"

# 6. Workers that leave by themselves (status 0): the Job completes and
# starts no more; stop_all deletes it.
touch "$D/finish"
eq "the replicas finish" ok "$(cmd 'wait 0 30')"
ok "$([ "$(field completed)" -ge 1 ] && echo 0 || echo 1)" "counted as completed"
eq "set 3 starts nothing more" "ok 0" "$(cmd 'set 3') $(cmd 'tick 1' >/dev/null; field running)"
eq "stop_all" ok "$(cmd stopall)"
stop_ctl
eq "the Job is deleted with its pods" 404 \
	"$(k8s_curl GET "$jobs_path/coffer-k1" | pyjson 'o.get("code")')"
rm -f "$D"/*

# 7. A Deployment: scale-down marks the pods to go (idle first, then the
# busy one with the most recent item) before the count drops.
start_ctl kubernetes --opt kubeconfig="$K8S_KUBECONFIG" --opt mode=deployment \
	--image coffer:test --name coffer-d1 --label coffer-job=d1 \
	--grace-ms 3000 -- "$T/replica.sh" "$D"
eq "deployment: set 3" ok "$(cmd 'set 3')"
eq "deployment: three pods" ok "$(cmd 'wait 3 30')"
mapfile -t IDS < <(ids)
eq "deployment: set 1, two busy" ok "$(cmd "set 1 ${IDS[0]}=50 ${IDS[1]}=2")"
eq "deployment: one left" ok "$(cmd 'wait 1 30')"
eq "deployment: the pod with the oldest item is kept" "${IDS[0]}" "$(ids)"
eq "deployment: the costs were set before the scale" "pods pods deployments/scale" \
	"$(requests | grep '"PATCH"' | grep -v '"admin": true' | tail -3 | sed 's/.*"resource": "\([^"]*\)".*/\1/' | tr '\n' ' ' | sed 's/ $//')"
eq "deployment: stop_all" ok "$(cmd stopall)"
stop_ctl

# 8. TEE pods: TDX through its runtime class, SGX through the device
# plugin's resources (requests = limits), both scheduled and run.
start_ctl kubernetes --opt kubeconfig="$K8S_KUBECONFIG" --image coffer:test \
	--name coffer-t1 --label coffer-job=t1 --tee tdx -- "$T/replica.sh" "$D"
cmd 'set 1' >/dev/null
eq "tdx: a pod runs" ok "$(cmd 'wait 1 30')"
eq "tdx: its runtime class" kata-qemu-tdx "$(k8s_curl GET "$jobs_path/coffer-t1" | pyjson 'o["spec"]["template"]["spec"]["runtimeClassName"]')"
cmd stopall >/dev/null
stop_ctl
start_ctl kubernetes --opt kubeconfig="$K8S_KUBECONFIG" --image coffer:test \
	--name coffer-s1 --label coffer-job=s1 --tee sgx --tee-memory 134217728 \
	-- "$T/replica.sh" "$D"
cmd 'set 1' >/dev/null
eq "sgx: a pod runs" ok "$(cmd 'wait 1 30')"
eq "sgx: EPC and the SGX devices, as limits" "134217728 1 1" "$(k8s_curl GET "$jobs_path/coffer-s1" | pyjson '" ".join(o["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"][k] for k in ("sgx.intel.com/epc", "sgx.intel.com/enclave", "sgx.intel.com/provision"))')"
cmd stopall >/dev/null
stop_ctl

# 9. Configurations refused before anything is sent.
OUT=$("$CTL" kubernetes --opt kubeconfig="$K8S_KUBECONFIG" --opt mode=statefulset --image x -- true </dev/null)
check "an unknown mode is named" grep -q "mode: 'statefulset' is not job or deployment" <<<"$OUT"
sed 's/    token: .*/    exec:\n      command: aws/' "$K8S_KUBECONFIG" >"$T/exec.kubeconfig"
OUT=$("$CTL" kubernetes --opt kubeconfig="$T/exec.kubeconfig" --image x -- true </dev/null)
check "an exec-plugin user is refused with what to do" grep -q "exec or auth-provider plugin" <<<"$OUT"
OUT=$("$CTL" kubernetes --opt server=http://127.0.0.1:1 -- true </dev/null)
check "a plain-HTTP server is refused" grep -q "is not https://" <<<"$OUT"
OUT=$(printf 'set 1\ntick 2\nstatus\nquit\n' | "$CTL" kubernetes --opt server="$K8S_URL" \
	--opt ca="$K8S_CA" --opt token-file=/dev/null --image x --name coffer-u1 -- true)
check "a refused token is the status error" grep -q "error=list pods: 401 Unauthorized" <<<"$OUT"

# 10. coffer run with pods for workers.
start_redis
mkdir -p "$T/in"
for i in $(seq -w 1 10); do printf 'k8s run %s\n' "$i" >"$T/in/i-$i"; done
OUT=$(coffer run --app "$COFFER_BUILD/apps/fault.so" --inputs "$T/in" \
	--outputs "$T/run-out" --replicas 2 --redis "$REDIS_URL" --job k8s-run \
	--actuator kubernetes --actuator-opt kubeconfig="$K8S_KUBECONFIG" \
	--actuator-opt image=coffer:test --quiet 2>&1)
ok $? "coffer run --actuator kubernetes completes"
same=0
for f in "$T/in"/*; do cmp -s "$f" "$T/run-out/$(basename "$f")" || same=1; done
ok $same "coffer run: every output is its input"
eq "coffer run: its Job is deleted at the end" 404 \
	"$(k8s_curl GET "$jobs_path/coffer-k8s-run" | pyjson 'o.get("code")')"
