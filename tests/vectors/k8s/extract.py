#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Regenerate the trimmed schemas here from the Kubernetes 1.35 OpenAPI v3
# documents (README.md): from each document, the component schemas that
# the roots below reach through $ref, unchanged, and nothing else.
#   tests/vectors/k8s/extract.py SRC_DIR     (SRC_DIR: ../shared/vectors/k8s)
import hashlib
import json
import os
import sys

ROOTS = {
    "apis__batch__v1_openapi.json": [
        "io.k8s.api.batch.v1.Job",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    ],
    "apis__apps__v1_openapi.json": [
        "io.k8s.api.apps.v1.Deployment",
        "io.k8s.api.apps.v1.StatefulSet",
        "io.k8s.api.autoscaling.v1.Scale",
    ],
    "api__v1_openapi.json": [
        "io.k8s.api.core.v1.Pod",
        "io.k8s.api.core.v1.PodList",
        "io.k8s.api.core.v1.Service",
        "io.k8s.api.core.v1.ServiceAccount",
        "io.k8s.api.core.v1.ConfigMap",
        "io.k8s.api.core.v1.Secret",
        "io.k8s.api.core.v1.Namespace",
        "io.k8s.api.core.v1.PersistentVolumeClaim",
        "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    ],
    "apis__node.k8s.io__v1_openapi.json": [
        "io.k8s.api.node.v1.RuntimeClass",
    ],
    "apis__rbac.authorization.k8s.io__v1_openapi.json": [
        "io.k8s.api.rbac.v1.Role",
        "io.k8s.api.rbac.v1.RoleBinding",
        "io.k8s.api.rbac.v1.ClusterRole",
        "io.k8s.api.rbac.v1.ClusterRoleBinding",
    ],
}
PREFIX = "#/components/schemas/"


def refs(v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "$ref" and isinstance(x, str) and x.startswith(PREFIX):
                out.add(x[len(PREFIX):])
            else:
                refs(x, out)
    elif isinstance(v, list):
        for x in v:
            refs(x, out)


def main():
    src, here = sys.argv[1], os.path.dirname(os.path.abspath(__file__))
    sums = []
    for name, roots in ROOTS.items():
        raw = open(os.path.join(src, name), "rb").read()
        sums.append("%s  %s" % (hashlib.sha256(raw).hexdigest(), name))
        doc = json.loads(raw)
        schemas = doc["components"]["schemas"]
        keep, todo = set(), list(roots)
        while todo:
            s = todo.pop()
            if s in keep:
                continue
            keep.add(s)
            found = set()
            refs(schemas[s], found)
            todo.extend(found - keep)
        out = {"openapi": doc["openapi"], "info": doc["info"],
               "components": {"schemas": {k: schemas[k] for k in sorted(keep)}}}
        with open(os.path.join(here, name), "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)
            f.write("\n")
    with open(os.path.join(here, "SOURCES.sha256"), "w") as f:
        f.write("\n".join(sums) + "\n")


main()
