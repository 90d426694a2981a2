# SPDX-License-Identifier: Apache-2.0
# The Kubernetes API contract the tests hold Coffer to, with no API server:
# every object is validated against the official OpenAPI v3 schemas of
# Kubernetes 1.35 (tests/vectors/k8s, a Draft 4 validator rooted at the
# document, as their README says), then checked for what kube-apiserver
# does beyond them (tests/vectors/k8s/README.md): strict fields, names,
# labels, restart policies, a Deployment's selector, a Job's failure
# policy, immutable fields, int32 ranges. Used by k8s_apiserver.py and
# k8s_manifests.py; run with Debian's /usr/bin/python3 (python3-jsonschema).
import json
import os
import re

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "vectors", "k8s")
DOCS = ["api__v1_openapi.json", "apis__apps__v1_openapi.json",
        "apis__batch__v1_openapi.json", "apis__node.k8s.io__v1_openapi.json",
        "apis__rbac.authorization.k8s.io__v1_openapi.json"]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
QUANTITY = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
                      r"(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")


class Invalid(Exception):
    """An object the API server refuses: code, reason, message, causes."""

    def __init__(self, code, reason, message, causes=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.causes = causes or []


def _load():
    schemas, gvk = {}, {}
    for name in DOCS:
        with open(os.path.join(VECTORS, name)) as f:
            doc = json.load(f)
        for k, v in doc["components"]["schemas"].items():
            if k in schemas and schemas[k] != v:
                raise SystemExit("schema %s differs between documents" % k)
            schemas[k] = v
            for g in v.get("x-kubernetes-group-version-kind", []):
                gvk[(g["group"], g["version"], g["kind"])] = k
    return schemas, gvk


SCHEMAS, GVK = _load()
_validators = {}


def schema_of(api_version, kind):
    group, _, version = api_version.rpartition("/")
    name = GVK.get((group, version, kind))
    if name is None:
        raise Invalid(400, "BadRequest", "no kind %r is registered for "
                      "version %r" % (kind, api_version))
    return name


def _validator(name):
    v = _validators.get(name)
    if v is None:
        root = {"$ref": "#/components/schemas/" + name,
                "components": {"schemas": SCHEMAS}}
        v = jsonschema.Draft4Validator(root)
        _validators[name] = v
    return v


def _resolve(s):
    while True:
        if "$ref" in s:
            s = SCHEMAS[s["$ref"].rsplit("/", 1)[1]]
        elif "allOf" in s and len(s["allOf"]) == 1 and "properties" not in s:
            s = s["allOf"][0]
        else:
            return s


def unknown_fields(obj, name):
    """The fields of obj the schema does not declare, as paths
    ("spec.template.spec.containers[0].foo"), and int32 overflows."""
    out = []

    def walk(v, s, path):
        s = _resolve(s)
        if s.get("x-kubernetes-preserve-unknown-fields"):
            return
        if isinstance(v, dict) and "properties" in s:
            for k, x in v.items():
                p = "%s.%s" % (path, k) if path else k
                if k in s["properties"]:
                    walk(x, s["properties"][k], p)
                elif "additionalProperties" not in s:
                    out.append("unknown field \"%s\"" % p)
        elif isinstance(v, dict) and isinstance(s.get("additionalProperties"),
                                               dict):
            for k, x in v.items():
                walk(x, s["additionalProperties"], "%s.%s" % (path, k))
        elif isinstance(v, list) and isinstance(s.get("items"), dict):
            for i, x in enumerate(v):
                walk(x, s["items"], "%s[%d]" % (path, i))
        elif s.get("format") == "int32" and isinstance(v, int) and \
                not isinstance(v, bool) and not -2**31 <= v < 2**31:
            out.append("%s: %d does not fit an int32" % (path, v))

    walk(obj, SCHEMAS[name], "")
    return out


def schema_errors(obj, name):
    return ["%s: %s" % (".".join(str(p) for p in e.absolute_path) or "<root>",
                        e.message)
            for e in sorted(_validator(name).iter_errors(obj),
                            key=lambda e: list(map(str, e.absolute_path)))]


def check_labels(labels, where, errs):
    for k, v in (labels or {}).items():
        prefix, _, nm = k.rpartition("/")
        if (prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix))) \
                or not nm or len(nm) > 63 or not LABEL_NAME.match(nm):
            errs.append("%s: Invalid value: %r: name part must consist of "
                        "alphanumeric characters, '-', '_' or '.'" % (where, k))
        if not isinstance(v, str) or len(v) > 63 or (v and not LABEL_NAME.match(v)):
            errs.append("%s: Invalid value: %r: a valid label value" % (where, v))


def check_meta(meta, errs, label_name=False, cluster=False):
    name = meta.get("name")
    if not name and not meta.get("generateName"):
        errs.append("metadata.name: Required value: name or generateName is "
                    "required")
    elif name and (len(name) > 253 or not DNS1123_SUBDOMAIN.match(name)):
        errs.append("metadata.name: Invalid value: %r: a lowercase RFC 1123 "
                    "subdomain" % name)
    elif name and label_name and len(name) > 63:
        errs.append("metadata.name: Invalid value: %r: must be no more than "
                    "63 characters" % name)
    check_labels(meta.get("labels"), "metadata.labels", errs)


def check_pod_spec(spec, where, errs, restart_ok):
    rp = spec.get("restartPolicy", "Always")
    if rp not in restart_ok:
        errs.append("%s.restartPolicy: Unsupported value: %r: supported "
                    "values: %s" % (where, rp, ", ".join(
                        '"%s"' % x for x in restart_ok)))
    names = set()
    for i, c in enumerate(spec.get("containers", [])):
        w = "%s.containers[%d]" % (where, i)
        n = c.get("name", "")
        if not DNS1123_LABEL.match(n) or len(n) > 63:
            errs.append("%s.name: Invalid value: %r" % (w, n))
        if n in names:
            errs.append("%s.name: Duplicate value: %r" % (w, n))
        names.add(n)
        if not c.get("image"):
            errs.append("%s.image: Required value" % w)
        for j, e in enumerate(c.get("env", [])):
            if not ENV_NAME.match(e.get("name", "")):
                errs.append("%s.env[%d].name: Invalid value: %r" %
                            (w, j, e.get("name")))
            if "value" in e and "valueFrom" in e:
                errs.append("%s.env[%d].valueFrom: Invalid value: may not be "
                            "specified when `value` is not empty" % (w, j))
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for rn, q in res.get(kind, {}).items():
                if not QUANTITY.match(str(q)):
                    errs.append("%s.resources.%s[%s]: Invalid value: %r: must "
                                "match the regular expression of a quantity"
                                % (w, kind, rn, q))
        # Extended resources (a domain other than kubernetes.io): whole
        # numbers, requests equal to limits, limits required.
        for rn, q in res.get("requests", {}).items():
            if "/" in rn and not rn.startswith("kubernetes.io/"):
                if str(res.get("limits", {}).get(rn)) != str(q):
                    errs.append("%s.resources.requests[%s]: Invalid value: %r:"
                                " must be equal to %s limit" % (w, rn, q, rn))
    if not spec.get("containers"):
        errs.append("%s.containers: Required value" % where)


def validate(obj, expect=None, strict=True):
    """Validate a whole object as the API server does on create or update.
    expect: (apiVersion, kind) the URL names. Returns a list of warnings
    (unknown fields when not strict); raises Invalid."""
    if not isinstance(obj, dict):
        raise Invalid(400, "BadRequest", "the body is not a JSON object")
    av, kind = obj.get("apiVersion"), obj.get("kind")
    if expect and (av, kind) != expect:
        raise Invalid(400, "BadRequest", "the API version in the data (%s) "
                      "does not match the expected API version (%s)" %
                      ("%s/%s" % (av, kind), "%s/%s" % expect))
    name = schema_of(av or "", kind or "")
    unknown = unknown_fields(obj, name)
    if unknown and strict:
        raise Invalid(400, "BadRequest", "strict decoding error: " +
                      ", ".join(unknown))
    errs = schema_errors(obj, name)
    if errs:
        raise Invalid(422, "Invalid", "%s is invalid: %s" % (kind, "; ".join(
            errs[:20])), errs)
    sem = []
    meta = obj.get("metadata") or {}
    check_meta(meta, sem, label_name=kind in ("Job", "Service", "Namespace"),
               cluster=kind in ("Namespace", "RuntimeClass", "ClusterRole",
                                "ClusterRoleBinding"))
    spec = obj.get("spec") or {}
    if kind == "Job":
        t = spec.get("template", {})
        check_labels(t.get("metadata", {}).get("labels"),
                     "spec.template.metadata.labels", sem)
        check_pod_spec(t.get("spec", {}), "spec.template.spec", sem,
                       ["Never", "OnFailure"])
        if spec.get("podFailurePolicy") is not None:
            if t.get("spec", {}).get("restartPolicy") != "Never":
                sem.append("spec.podFailurePolicy: Invalid value: only "
                           "allowed with restartPolicy Never")
            if spec.get("podReplacementPolicy", "Failed") != "Failed":
                sem.append("spec.podReplacementPolicy: Not supported: only "
                           "Failed when podFailurePolicy is set")
        for f in ("parallelism", "completions", "backoffLimit"):
            if isinstance(spec.get(f), int) and spec[f] < 0:
                sem.append("spec.%s: Invalid value: %d: must be greater than "
                           "or equal to 0" % (f, spec[f]))
    elif kind in ("Deployment", "StatefulSet"):
        t = spec.get("template", {})
        labels = t.get("metadata", {}).get("labels") or {}
        check_labels(labels, "spec.template.metadata.labels", sem)
        check_pod_spec(t.get("spec", {}), "spec.template.spec", sem, ["Always"])
        ml = (spec.get("selector") or {}).get("matchLabels") or {}
        if not ml and not (spec.get("selector") or {}).get("matchExpressions"):
            sem.append("spec.selector: Invalid value: empty selector is "
                       "invalid for deployment")
        if any(labels.get(k) != v for k, v in ml.items()):
            sem.append("spec.template.metadata.labels: Invalid value: "
                       "`selector` does not match template `labels`")
        if isinstance(spec.get("replicas"), int) and spec["replicas"] < 0:
            sem.append("spec.replicas: Invalid value: must be greater than or "
                       "equal to 0")
    elif kind == "Pod":
        check_pod_spec(spec, "spec", sem, ["Always", "Never", "OnFailure"])
    elif kind == "RuntimeClass":
        h = obj.get("handler", "")
        if not DNS1123_LABEL.match(h):
            sem.append("handler: Invalid value: %r: a DNS-1123 label" % h)
    elif kind in ("Role", "ClusterRole"):
        for i, r in enumerate(obj.get("rules") or []):
            if not r.get("verbs"):
                sem.append("rules[%d].verbs: Required value" % i)
            if not r.get("nonResourceURLs") and "apiGroups" not in r:
                sem.append("rules[%d].apiGroups: Required value" % i)
    if sem:
        raise Invalid(422, "Invalid", "%s.%s %r is invalid: %s" % (
            kind, (av or "").rpartition("/")[0] or "core",
            meta.get("name"), "; ".join(sem)), sem)
    return unknown


# Fields a user may not change once the object exists.
IMMUTABLE = {
    "Job": ["spec.selector", "spec.template", "spec.completionMode",
            "spec.podFailurePolicy", "spec.podReplacementPolicy",
            "spec.manualSelector"],
    "Deployment": ["spec.selector"],
    "StatefulSet": ["spec.selector", "spec.serviceName",
                    "spec.volumeClaimTemplates"],
}


def _get(obj, dotted):
    for p in dotted.split("."):
        obj = obj.get(p) if isinstance(obj, dict) else None
    return obj


def check_update(old, new):
    errs = ["%s: Invalid value: field is immutable" % f
            for f in IMMUTABLE.get(new.get("kind"), [])
            if _get(old, f) != _get(new, f)]
    if errs:
        raise Invalid(422, "Invalid", "%s.%s %r is invalid: %s" % (
            new.get("kind"), new.get("apiVersion", "").rpartition("/")[0],
            old.get("metadata", {}).get("name"), "; ".join(errs)), errs)


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strict_json(text):
    """Parse JSON refusing duplicate keys (strict decoding)."""
    def pairs(kv):
        d = {}
        for k, v in kv:
            if k in d:
                raise Invalid(400, "BadRequest", "strict decoding error: "
                              "duplicate field \"%s\"" % k)
            d[k] = v
        return d
    try:
        return json.loads(text, object_pairs_hook=pairs)
    except ValueError as e:
        raise Invalid(400, "BadRequest", "the body is not JSON: %s" % e)
