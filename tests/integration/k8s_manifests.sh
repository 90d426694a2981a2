#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# deploy/kubernetes/*.yaml as the API server would take them: the official
# OpenAPI schemas (tests/vectors/k8s; RBAC and node.k8s.io included),
# strict fields, names and labels (k8s_manifests.py, k8s_contract.py), the
# references between them, and the manager's Role limited to what the
# Kubernetes actuator uses. Each check is also shown failing on a broken
# copy.
# timeout: 120
. "$(dirname "$0")/lib.sh"

plan 7

M=$COFFER_SRC/deploy/kubernetes
CHECK="/usr/bin/python3 $COFFER_SRC/tests/integration/k8s_manifests.py"
check "deploy/kubernetes passes" $CHECK "$M"/*.yaml

# broken NAME SED FILE: a copy of the manifests with FILE edited by SED
# must fail with a line that names the problem (grep pattern NAME).
broken() {
	local desc=$1 pattern=$2 expr=$3 file=$4 out
	rm -rf "$T/m" && cp -r "$M" "$T/m"
	sed -i "$expr" "$T/m/$file"
	out=$($CHECK "$T/m"/*.yaml 2>&1)
	if [ $? -ne 0 ] && grep -q -- "$pattern" <<<"$out"; then ok 0 "$desc"; else
		ok 1 "$desc"; printf '%s\n' "$out" | sed 's/^/# /'; fi
}
broken "an unknown field" 'unknown field "spec.template.spec.bogus"' \
	's/^      automountServiceAccountToken: false$/      automountServiceAccountToken: false\n      bogus: 1/' redis.yaml
broken "a wrong type" "spec.replicas: '1' is not of type 'integer'" \
	's/^  replicas: 1$/  replicas: "1"/' manager.yaml
broken "a name that is not DNS-1123" "metadata.name: Invalid value: 'Coffer_Store'" \
	's/^  name: coffer-store$/  name: Coffer_Store/' store.yaml
broken "a wildcard in the Role" "a wildcard" \
	's/verbs: \["list", "watch", "patch"\]/verbs: ["*"]/' rbac.yaml
broken "a Role that grants more than the actuator uses" "the actuator uses" \
	's/verbs: \["list", "watch", "patch"\]/verbs: ["list", "watch", "patch", "create"]/' rbac.yaml
broken "a runtime class that is not defined" "runtime class 'kata-tdx' is not defined" \
	's/runtimeClassName: kata-qemu-tdx/runtimeClassName: kata-tdx/' coordinator.yaml
