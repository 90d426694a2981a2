#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Check Kubernetes manifests (deploy/kubernetes/*.yaml) as the API server
# would take them (k8s_contract.py: the official schemas, strict fields,
# names, labels), then what makes them work together: every reference
# (service accounts, roles, runtime classes, volume claims, service
# selectors and ports, the manager's actuator options) names an object of
# the set, and the manager's Role grants exactly what the Kubernetes
# actuator uses (doc/manager.md section 5.3), no wildcard.
#   k8s_manifests.py FILE...     prints one line per problem; exit 1 if any
import sys

import yaml

import k8s_contract as kc

# What the actuator does (kubernetes.c), as RBAC rules.
ACTUATOR_RULES = {
    ("batch", "jobs"): {"get", "create", "patch", "delete"},
    ("apps", "deployments"): {"get", "create", "delete"},
    ("apps", "deployments/scale"): {"patch"},
    ("", "pods"): {"list", "watch", "patch"},
}


def pod_templates(o):
    t = (o.get("spec") or {}).get("template")
    return [t] if t else []


def main():
    objs, problems = [], []
    for path in sys.argv[1:]:
        with open(path) as f:
            try:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                problems.append("%s: not YAML: %s" % (path, e))
                continue
        for i, d in enumerate(docs):
            where = "%s[%d] %s/%s" % (path, i, d.get("kind"),
                                       (d.get("metadata") or {}).get("name"))
            try:
                kc.validate(d, strict=True)
            except kc.Invalid as e:
                problems.append("%s: %d %s: %s" % (where, e.code, e.reason,
                                                   e.message))
                continue
            objs.append((where, d))

    def named(kind, name, ns=None):
        return any(o["kind"] == kind and o["metadata"]["name"] == name and
                   (ns is None or o["metadata"].get("namespace") == ns)
                   for _, o in objs)

    claims = {o["metadata"]["name"] for _, o in objs
              if o["kind"] == "PersistentVolumeClaim"}
    for where, o in objs:
        ns = o["metadata"].get("namespace")
        kind = o["kind"]
        for t in pod_templates(o):
            spec = t.get("spec", {})
            vct = {c["metadata"]["name"] for c in
                   (o["spec"].get("volumeClaimTemplates") or [])}
            sa = spec.get("serviceAccountName")
            if sa and not named("ServiceAccount", sa, ns):
                problems.append("%s: service account %r is not defined" %
                                (where, sa))
            rc = spec.get("runtimeClassName")
            if rc and not named("RuntimeClass", rc):
                problems.append("%s: runtime class %r is not defined" %
                                (where, rc))
            vols = {v["name"] for v in spec.get("volumes", [])} | vct
            for v in spec.get("volumes", []):
                c = (v.get("persistentVolumeClaim") or {}).get("claimName")
                if c and c not in claims:
                    problems.append("%s: volume claim %r is not defined" %
                                    (where, c))
            for c in spec.get("containers", []):
                for m in c.get("volumeMounts", []):
                    if m["name"] not in vols:
                        problems.append("%s: mount of an undefined volume %r" %
                                        (where, m["name"]))
                args = c.get("command", []) + c.get("args", [])
                for k, a in enumerate(args[:-1]):
                    if a != "--actuator-opt":
                        continue
                    key, _, val = args[k + 1].partition("=")
                    if key == "service-account" and not named(
                            "ServiceAccount", val, ns):
                        problems.append("%s: actuator service account %r is "
                                        "not defined" % (where, val))
                    if key == "volume" and val.split(":")[0] not in claims:
                        problems.append("%s: actuator volume claim %r is not "
                                        "defined" % (where, val))
                    if key == "namespace" and val != ns:
                        problems.append("%s: actuator namespace %r is not the "
                                        "manager's %r (its Role ends there)" %
                                        (where, val, ns))
        if kind == "Service":
            sel = o["spec"].get("selector") or {}
            targets = [t for _, w in objs for t in pod_templates(w)
                       if w["metadata"].get("namespace") == ns and
                       all(t.get("metadata", {}).get("labels", {}).get(k) == v
                           for k, v in sel.items())]
            if not targets:
                problems.append("%s: its selector matches no pod template" %
                                where)
            ports = {p.get("name") for t in targets
                     for c in t["spec"]["containers"] for p in c.get("ports", [])}
            for p in o["spec"].get("ports", []):
                tp = p.get("targetPort")
                if isinstance(tp, str) and tp not in ports:
                    problems.append("%s: target port %r is no container's" %
                                    (where, tp))
        if kind == "RoleBinding":
            ref = o["roleRef"]
            if not named(ref["kind"], ref["name"], ns if ref["kind"] == "Role"
                         else None):
                problems.append("%s: role %r is not defined" % (where,
                                                                 ref["name"]))
            for s in o.get("subjects", []):
                if s["kind"] == "ServiceAccount" and not named(
                        "ServiceAccount", s["name"], s.get("namespace", ns)):
                    problems.append("%s: subject %r is not defined" %
                                    (where, s["name"]))
        if kind in ("Role", "ClusterRole"):
            granted = {}
            for r in o.get("rules", []):
                for g in r.get("apiGroups", []):
                    for res in r.get("resources", []):
                        for v in r.get("verbs", []):
                            if "*" in (g, res, v):
                                problems.append("%s: a wildcard (%s %s %s)" %
                                                (where, g, res, v))
                            granted.setdefault((g, res), set()).add(v)
            if o["metadata"]["name"] == "coffer-manager" and \
                    granted != ACTUATOR_RULES:
                problems.append("%s: grants %s, the actuator uses %s" % (
                    where, sorted((k, sorted(v)) for k, v in granted.items()),
                    sorted((k, sorted(v)) for k, v in ACTUATOR_RULES.items())))
            if kind == "ClusterRole":
                problems.append("%s: a ClusterRole: the manager's rights end "
                                "at its namespace" % where)
    for p in problems:
        print(p)
    print("%d objects, %d problems" % (len(objs), len(problems)))
    return 1 if problems else 0


sys.exit(main())
