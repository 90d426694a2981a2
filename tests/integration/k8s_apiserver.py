#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A Kubernetes API server for tests, where none can run (shared/
# REAL-SERVERS.md): HTTPS on loopback, bearer tokens, the paths and
# semantics of kube-apiserver 1.35 for Jobs, Deployments (and their scale
# subresource), Pods and RuntimeClasses, every request body validated
# against the official OpenAPI schemas and the API server's own rules
# (k8s_contract.py), resourceVersions with 409 on a stale one, watches
# with bookmarks and 410 Gone on an expired resourceVersion, 429 when
# told to, RBAC rules enforced when given. A Job controller, a ReplicaSet
# controller and a kubelet run each pod's command as a local process, so
# jobs really complete.
#
#   k8s_apiserver.py --port P --cert C --key K --token-file F
#       [--admin-token-file F] [--role FILE] [--dir D] [--runtime-class N]...
#       [--node-resource NAME=QTY]... [--history N]
#
# Test controls (admin token): POST /_contract/fail?count=N&code=429
# [&method=M] (the next N matching requests fail: 429 with Retry-After: 1,
# or 500/503), POST /_contract/expire (every open watch gets an ERROR 410
# and closes; history older than now is dropped), GET /_contract/log (the
# request log, JSON lines).
import argparse
import collections
import copy
import datetime
import http.server
import json
import os
import random
import re
import signal
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

import yaml

import k8s_contract as kc

RESOURCES = {
    # (group path, resource) -> (apiVersion, kind, namespaced)
    ("api/v1", "pods"): ("v1", "Pod", True),
    ("apis/batch/v1", "jobs"): ("batch/v1", "Job", True),
    ("apis/apps/v1", "deployments"): ("apps/v1", "Deployment", True),
    ("apis/node.k8s.io/v1", "runtimeclasses"): ("node.k8s.io/v1",
                                                 "RuntimeClass", False),
}
GROUP_OF = {"api/v1": "", "apis/batch/v1": "batch", "apis/apps/v1": "apps",
            "apis/node.k8s.io/v1": "node.k8s.io"}
POD_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def status_obj(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
         "status": "Failure" if code >= 300 else "Success",
         "message": message, "reason": reason, "code": code}
    if details:
        s["details"] = details
    return s


# ---------------------------------------------------------------------
# The store: objects, one resourceVersion counter, an event history

class Store:
    def __init__(self, history):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1
        self.objs = {}                       # (res, ns, name) -> object
        self.events = collections.deque(maxlen=history)
        self.oldest = 1                      # history starts after this rv
        self.expired = 0                     # bumped by /_contract/expire

    def _event(self, res, ns, etype, obj):
        self.events.append((self.rv, res, ns, etype, copy.deepcopy(obj)))
        if len(self.events) == self.events.maxlen:
            self.oldest = self.events[0][0] - 1
        self.cond.notify_all()

    def put(self, res, obj, etype):
        with self.lock:
            self.rv += 1
            m = obj["metadata"]
            m["resourceVersion"] = str(self.rv)
            self.objs[(res, m.get("namespace", ""), m["name"])] = obj
            self._event(res, m.get("namespace", ""), etype, obj)
            return obj

    def remove(self, res, obj):
        with self.lock:
            self.rv += 1
            m = obj["metadata"]
            m["resourceVersion"] = str(self.rv)
            self.objs.pop((res, m.get("namespace", ""), m["name"]), None)
            self._event(res, m.get("namespace", ""), "DELETED", obj)

    def get(self, res, ns, name):
        return self.objs.get((res, ns, name))

    def items(self, res, ns=None):
        return [o for (r, n, _), o in list(self.objs.items())
                if r == res and (ns is None or n == ns)]


def selector_match(sel, labels):
    for term in filter(None, (sel or "").split(",")):
        term = term.strip()
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            k = k.rstrip("=")
            if labels.get(k) != v:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


# ---------------------------------------------------------------------
# Controllers and the kubelet

def quantity_value(q):
    m = re.match(r"^([0-9.]+)(Ki|Mi|Gi|Ti|m|k|M|G|T)?$", str(q))
    if not m:
        return 0
    mult = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4,
            "m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    return float(m.group(1)) * mult.get(m.group(2), 1)


class Cluster:
    """The Job and ReplicaSet controllers, the scheduler (one node) and the
    kubelet, in one loop every 50 ms."""

    def __init__(self, store, args):
        self.s = store
        self.dir = args.dir
        self.procs = {}     # pod name -> Popen
        self.kill_at = {}   # pod name -> time of SIGKILL
        self.restart_at = {}
        self.capacity = {"cpu": 64, "memory": 256 * 1024**3}
        for nr in args.node_resource or []:
            k, _, v = nr.partition("=")
            self.capacity[k] = quantity_value(v)
        for rc in args.runtime_class or []:
            self.s.put("runtimeclasses", {"apiVersion": "node.k8s.io/v1",
                                          "kind": "RuntimeClass",
                                          "metadata": {"name": rc,
                                                       "uid": str(uuid.uuid4()),
                                                       "creationTimestamp": now_iso()},
                                          "handler": rc}, "ADDED")
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)

    # -- pods ---------------------------------------------------------
    def new_pod(self, ns, owner, template, name_prefix):
        name = name_prefix + "".join(random.choice(POD_NAME_CHARS)
                                     for _ in range(5))
        t = copy.deepcopy(template)
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns,
                            "uid": str(uuid.uuid4()),
                            "creationTimestamp": now_iso(),
                            "labels": t.get("metadata", {}).get("labels", {}),
                            "annotations": t.get("metadata", {}).get(
                                "annotations", {}),
                            "ownerReferences": [{
                                "apiVersion": owner["apiVersion"],
                                "kind": owner["kind"],
                                "name": owner["metadata"]["name"],
                                "uid": owner["metadata"]["uid"],
                                "controller": True}]},
               "spec": t["spec"],
               "status": {"phase": "Pending"}}
        self.s.put("pods", pod, "ADDED")
        return pod

    def owned(self, owner):
        uid = owner["metadata"]["uid"]
        return [p for p in self.s.items("pods", owner["metadata"]["namespace"])
                if any(r.get("uid") == uid
                       for r in p["metadata"].get("ownerReferences", []))]

    def delete_pod(self, pod, grace=None):
        """Graceful deletion, as the API does: deletionTimestamp now, SIGTERM
        from the kubelet, SIGKILL after the grace period."""
        m = pod["metadata"]
        if m.get("deletionTimestamp"):
            return
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        m["deletionTimestamp"] = now_iso()
        m["deletionGracePeriodSeconds"] = grace
        p = self.procs.get(m["name"])
        if p is None or pod["status"].get("phase") in ("Succeeded", "Failed"):
            self.s.remove("pods", pod)
            return
        self.s.put("pods", pod, "MODIFIED")
        try:
            p.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.kill_at[m["name"]] = time.time() + grace

    def fits(self, pod):
        """One node: extended resources must be on it, a runtime class
        must exist."""
        rc = pod["spec"].get("runtimeClassName")
        if rc and self.s.get("runtimeclasses", "", rc) is None:
            return "RuntimeClass %r not found" % rc
        for c in pod["spec"]["containers"]:
            for rn, q in c.get("resources", {}).get("limits", {}).items():
                if "/" in rn and quantity_value(q) > self.capacity.get(rn, 0):
                    return "0/1 nodes are available: 1 Insufficient %s" % rn
        return None

    def start_pod(self, pod):
        why = self.fits(pod)
        if why is not None:
            st = pod["status"]
            if st.get("message") != why:
                st.update({"phase": "Pending", "conditions": [{
                    "type": "PodScheduled", "status": "False",
                    "reason": "Unschedulable", "message": why}],
                    "message": why})
                self.s.put("pods", pod, "MODIFIED")
            return
        c = pod["spec"]["containers"][0]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": self.dir, "HOSTNAME": pod["metadata"]["name"]}
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = e["value"]
            elif "valueFrom" in e:
                f = e["valueFrom"].get("fieldRef", {}).get("fieldPath", "")
                v = {"metadata.name": pod["metadata"]["name"],
                     "metadata.namespace": pod["metadata"]["namespace"],
                     "metadata.uid": pod["metadata"]["uid"],
                     "spec.nodeName": "node-1"}.get(f, "")
                env[e["name"]] = v
        argv = (c.get("command") or []) + (c.get("args") or [])
        log = open(os.path.join(self.dir, "logs", pod["metadata"]["name"] +
                                ".log"), "ab")
        try:
            p = subprocess.Popen(argv, env=env, stdout=log, stderr=log,
                                 stdin=subprocess.DEVNULL,
                                 cwd=c.get("workingDir") or self.dir,
                                 start_new_session=True)
        except OSError as e:
            p = None
            err = str(e)
        log.close()
        st = pod["status"]
        st.pop("message", None)
        st.pop("conditions", None)
        pod["spec"]["nodeName"] = "node-1"
        cs = {"name": c["name"], "image": c["image"], "ready": p is not None,
              "restartCount": st.get("containerStatuses", [{}])[0].get(
                  "restartCount", 0) if st.get("containerStatuses") else 0,
              "state": {}}
        if p is None:
            cs["state"] = {"terminated": {"exitCode": 128, "reason":
                                          "StartError", "message": err}}
            st.update({"phase": "Failed", "containerStatuses": [cs]})
        else:
            self.procs[pod["metadata"]["name"]] = p
            cs["state"] = {"running": {"startedAt": now_iso()}}
            if st.get("containerStatuses"):
                cs["lastState"] = st["containerStatuses"][0].get("lastState", {})
            st.update({"phase": "Running", "startTime": st.get(
                "startTime", now_iso()), "containerStatuses": [cs]})
        self.s.put("pods", pod, "MODIFIED")

    def reap(self, pod):
        name = pod["metadata"]["name"]
        p = self.procs.get(name)
        rc = p.poll() if p else None
        if p is None or rc is None:
            if p is not None and name in self.kill_at and \
                    time.time() >= self.kill_at[name]:
                os.killpg(p.pid, signal.SIGKILL)
            return
        # The container ended: what is left of it goes too.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        del self.procs[name]
        self.kill_at.pop(name, None)
        code = rc if rc >= 0 else 128 - rc
        st = pod["status"]
        cs = st["containerStatuses"][0]
        term = {"exitCode": code, "reason": "Completed" if code == 0 else
                "Error", "finishedAt": now_iso()}
        policy = pod["spec"].get("restartPolicy", "Always")
        deleting = bool(pod["metadata"].get("deletionTimestamp"))
        if not deleting and (policy == "Always" or
                             (policy == "OnFailure" and code != 0)):
            cs["lastState"] = {"terminated": term}
            cs["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
            cs["restartCount"] = cs.get("restartCount", 0) + 1
            cs["ready"] = False
            self.restart_at[name] = time.time() + min(
                5, 0.2 * 2 ** min(cs["restartCount"], 5))
            self.s.put("pods", pod, "MODIFIED")
            return
        cs["state"] = {"terminated": term}
        cs["ready"] = False
        st["phase"] = "Succeeded" if code == 0 else "Failed"
        if deleting:
            self.s.remove("pods", pod)
        else:
            self.s.put("pods", pod, "MODIFIED")

    def kubelet(self):
        for pod in self.s.items("pods"):
            name = pod["metadata"]["name"]
            phase = pod["status"].get("phase")
            if name in self.procs:
                self.reap(pod)
            elif phase == "Pending" and not pod["metadata"].get(
                    "deletionTimestamp"):
                self.start_pod(pod)
            elif phase == "Running" and name in self.restart_at and \
                    time.time() >= self.restart_at[name]:
                del self.restart_at[name]
                self.start_pod(pod)

    # -- the Job controller ------------------------------------------
    def ignored(self, job, pod):
        cs = pod["status"].get("containerStatuses") or [{}]
        code = cs[0].get("state", {}).get("terminated", {}).get("exitCode")
        for rule in (job["spec"].get("podFailurePolicy") or {}).get("rules", []):
            oe = rule.get("onExitCodes")
            if oe and code is not None and (code in oe.get("values", [])) == \
                    (oe.get("operator") == "In"):
                return rule["action"] == "Ignore"
        return False

    def job(self, job):
        spec, st = job["spec"], job.setdefault("status", {})
        if any(c.get("status") == "True" and c["type"] in ("Complete", "Failed")
               for c in st.get("conditions", [])):
            return
        pods = self.owned(job)
        seen = set(st.pop("_counted", []))
        for p in pods:
            ph = p["status"].get("phase")
            if ph in ("Succeeded", "Failed") and p["metadata"]["uid"] not in seen:
                seen.add(p["metadata"]["uid"])
                if ph == "Succeeded":
                    st["succeeded"] = st.get("succeeded", 0) + 1
                elif not self.ignored(job, p):
                    st["failed"] = st.get("failed", 0) + 1
        st["_counted"] = sorted(seen)
        active = [p for p in pods if p["status"].get("phase") in
                  ("Pending", "Running") and
                  not p["metadata"].get("deletionTimestamp")]
        terminating = [p for p in pods if p["metadata"].get("deletionTimestamp")]
        succeeded, failed = st.get("succeeded", 0), st.get("failed", 0)
        changed = False
        if failed > spec.get("backoffLimit", 6):
            for p in active:
                self.delete_pod(p)
            st["conditions"] = [{"type": "Failed", "status": "True",
                                 "reason": "BackoffLimitExceeded",
                                 "message": "Job has reached the specified "
                                            "backoff limit",
                                 "lastTransitionTime": now_iso()}]
            changed = True
        else:
            par = spec.get("parallelism", 1)
            if spec.get("completions") is None:
                want = len(active) if succeeded > 0 else par
            else:
                want = min(par, spec["completions"] - succeeded)
            if len(active) > want:
                # The Job controller's choice (ActivePods): not running
                # first, then the newest.
                victims = sorted(active, key=lambda p: (
                    p["metadata"]["creationTimestamp"], p["metadata"]["name"]),
                    reverse=True)
                victims.sort(key=lambda p: p["status"].get("phase") == "Running")
                for p in victims[:len(active) - want]:
                    self.delete_pod(p)
            else:
                gap = want - len(active)
                if spec.get("podReplacementPolicy", "TerminatingOrFailed") == \
                        "Failed" or spec.get("podFailurePolicy"):
                    gap -= len(terminating)
                for _ in range(max(0, gap)):
                    self.new_pod(job["metadata"]["namespace"], job,
                                 spec["template"], job["metadata"]["name"] + "-")
            if succeeded > 0 and not active and not terminating and \
                    spec.get("completions") is None:
                st["conditions"] = [{"type": "Complete", "status": "True",
                                     "lastTransitionTime": now_iso()}]
                st["completionTime"] = now_iso()
                changed = True
        new = {"active": len([p for p in self.owned(job) if p["status"].get(
            "phase") in ("Pending", "Running") and not p["metadata"].get(
                "deletionTimestamp")]), "succeeded": succeeded,
               "failed": failed, "terminating": len(terminating)}
        if changed or any(st.get(k, 0) != v for k, v in new.items()):
            st.update(new)
            st.setdefault("startTime", now_iso())
            self.s.put("jobs", job, "MODIFIED")

    # -- the ReplicaSet controller, for Deployments ------------------
    def deployment(self, d):
        pods = [p for p in self.owned(d)
                if not p["metadata"].get("deletionTimestamp")]
        want = d["spec"].get("replicas", 1)
        if len(pods) > want:
            # ReplicaSet's ranking: not running first, then the lowest
            # controller.kubernetes.io/pod-deletion-cost, then the newest.
            def cost(p):
                try:
                    return int(p["metadata"].get("annotations", {}).get(
                        "controller.kubernetes.io/pod-deletion-cost", "0"))
                except ValueError:
                    return 0
            pods = sorted(pods, key=lambda p: (
                p["metadata"]["creationTimestamp"], p["metadata"]["name"]),
                reverse=True)

            def rank(p):
                return (p["status"].get("phase") == "Running", cost(p))
            for p in sorted(pods, key=rank)[:len(pods) - want]:
                self.delete_pod(p)
        for _ in range(max(0, want - len(pods))):
            t = d["spec"]["template"]
            h = "%010x" % (hash(json.dumps(t, sort_keys=True)) & (16**10 - 1))
            t = copy.deepcopy(t)
            t.setdefault("metadata", {}).setdefault("labels", {})[
                "pod-template-hash"] = h
            self.new_pod(d["metadata"]["namespace"], d, t,
                         d["metadata"]["name"] + "-" + h + "-")
        ready = len([p for p in self.owned(d) if p["status"].get("phase") ==
                     "Running" and not p["metadata"].get("deletionTimestamp")])
        new = {"replicas": len(self.owned(d)), "readyReplicas": ready,
               "availableReplicas": ready, "observedGeneration":
               d["metadata"].get("generation", 1)}
        st = d.setdefault("status", {})
        if any(st.get(k) != v for k, v in new.items()):
            st.update(new)
            self.s.put("deployments", d, "MODIFIED")

    def loop(self):
        while True:
            with self.s.lock:
                for j in self.s.items("jobs"):
                    self.job(j)
                for d in self.s.items("deployments"):
                    self.deployment(d)
                self.kubelet()
            time.sleep(0.05)


# ---------------------------------------------------------------------
# RBAC

def load_rules(path):
    rules = []
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if doc and doc.get("kind") in ("Role", "ClusterRole"):
                rules.extend(doc.get("rules") or [])
    return rules


def allowed(rules, verb, group, resource):
    for r in rules:
        if (group in r.get("apiGroups", []) or "*" in r.get("apiGroups", [])) \
                and (resource in r.get("resources", []) or
                     "*" in r.get("resources", [])) \
                and (verb in r.get("verbs", []) or "*" in r.get("verbs", [])):
            return True
    return False


# ---------------------------------------------------------------------
# HTTP

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "coffer-k8s-contract/1.35"

    def log_message(self, fmt, *a):
        pass

    # -- plumbing ----------------------------------------------------
    def send_json(self, code, obj, headers=()):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.record(code)

    def fail(self, e):
        headers = [("Retry-After", "1")] if e.code == 429 else []
        details = {"causes": [{"message": c} for c in e.causes]} if e.causes \
            else None
        self.send_json(e.code, status_obj(e.code, e.reason, e.message,
                                          details), headers)

    def record(self, code):
        S = self.server
        with S.log_lock:
            S.log.write(json.dumps({
                "t": round(time.time(), 3),
                "method": self.command, "path": self.url.path,
                "query": self.url.query, "code": code,
                "ctype": self.headers.get("Content-Type"),
                "verb": getattr(self, "verb", None),
                "resource": getattr(self, "resource", None),
                "admin": getattr(self, "admin", False)}) + "\n")
            S.log.flush()

    def body(self):
        if self._body is not None:
            return self._body
        n = int(self.headers.get("Content-Length") or 0)
        if n > 3 * 1024 * 1024:
            self.close_connection = True
            raise kc.Invalid(413, "RequestEntityTooLarge", "request entity "
                             "too large")
        self._body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        return self._body

    def auth(self):
        h = self.headers.get("Authorization", "")
        tok = h[7:] if h.startswith("Bearer ") else None
        if tok is not None and tok == self.server.admin_token:
            self.admin = True
            return
        if tok is None or tok != self.server.token:
            raise kc.Invalid(401, "Unauthorized", "Unauthorized")
        self.admin = False

    # -- dispatch ----------------------------------------------------
    def handle_any(self):
        self._body = None
        self.url = urllib.parse.urlsplit(self.path)
        self.q = {k: v[-1] for k, v in urllib.parse.parse_qs(
            self.url.query, keep_blank_values=True).items()}
        try:
            if self.url.path == "/healthz":
                return self.send_json(200, {"ok": True})
            self.auth()
            if self.url.path.startswith("/_contract/"):
                if not self.admin:
                    raise kc.Invalid(403, "Forbidden", "test controls need the "
                                     "admin token")
                return self.control()
            self.route()
        except kc.Invalid as e:
            # A refused request's body is read all the same: left unread,
            # it would be taken for the next request on the connection.
            if self._body is None and not self.close_connection:
                try:
                    self.body()
                except kc.Invalid:
                    pass
            self.fail(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def route(self):
        parts = self.url.path.strip("/").split("/")
        # api/v1/namespaces/NS/pods[/NAME]; apis/G/V/namespaces/NS/R[/N[/S]];
        # apis/node.k8s.io/v1/runtimeclasses[/N]
        gp = "/".join(parts[:2]) if parts[0] == "api" else "/".join(parts[:3])
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        ns = ""
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        if not rest or (gp, rest[0]) not in RESOURCES:
            raise kc.Invalid(404, "NotFound", "the server could not find the "
                             "requested resource")
        res = rest[0]
        api_version, kind, namespaced = RESOURCES[(gp, res)]
        if namespaced != bool(ns):
            raise kc.Invalid(404, "NotFound", "the server could not find the "
                             "requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub not in (None, "scale", "status") or (sub == "scale" and
                                                    res != "deployments"):
            raise kc.Invalid(404, "NotFound", "the server could not find the "
                             "requested resource")
        verb = {"GET": "get" if name else ("watch" if self.q.get("watch") in
                                           ("1", "true") else "list"),
                "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if name else "deletecollection"}[self.command]
        self.verb, self.resource = verb, res + ("/" + sub if sub else "")
        if not self.admin and self.server.rules is not None and not allowed(
                self.server.rules, verb, GROUP_OF[gp], self.resource):
            raise kc.Invalid(403, "Forbidden", "%s \"%s\" is forbidden: User "
                             "\"system:serviceaccount:coffer:coffer-manager\" "
                             "cannot %s resource \"%s\" in API group \"%s\"" % (
                                 res, name or "", verb, self.resource,
                                 GROUP_OF[gp]))
        inj = self.server.inject
        with self.server.log_lock:
            if inj["count"] > 0 and inj["method"] in (None, self.command):
                inj["count"] -= 1
                code = inj["code"]
                reason = {429: "TooManyRequests", 500: "InternalError",
                          503: "ServiceUnavailable"}.get(code, "InternalError")
                raise kc.Invalid(code, reason, "injected by the test")
        S = self.server.store
        if verb == "watch":
            return self.watch(res, ns)
        with S.lock:
            if verb == "list":
                return self.do_list(res, ns, api_version, kind)
            if verb == "create":
                return self.create(res, ns, api_version, kind)
            obj = S.get(res, ns, name)
            if obj is None:
                raise kc.Invalid(404, "NotFound", "%s%s \"%s\" not found" % (
                    res, "." + GROUP_OF[gp] if GROUP_OF[gp] else "", name),
                    None)
            if verb == "get":
                return self.send_json(200, self.view(obj, sub))
            if verb == "delete":
                return self.delete(res, obj)
            return self.update(res, obj, sub, verb)

    def view(self, obj, sub):
        if sub == "scale":
            sel = ",".join("%s=%s" % kv for kv in sorted(
                obj["spec"]["selector"].get("matchLabels", {}).items()))
            return {"apiVersion": "autoscaling/v1", "kind": "Scale",
                    "metadata": {"name": obj["metadata"]["name"],
                                 "namespace": obj["metadata"]["namespace"],
                                 "resourceVersion": obj["metadata"][
                                     "resourceVersion"],
                                 "uid": obj["metadata"]["uid"],
                                 "creationTimestamp": obj["metadata"][
                                     "creationTimestamp"]},
                    "spec": {"replicas": obj["spec"].get("replicas", 1)},
                    "status": {"replicas": obj.get("status", {}).get(
                        "replicas", 0), "selector": sel}}
        o = copy.deepcopy(obj)
        o.get("status", {}).pop("_counted", None)
        return o

    def do_list(self, res, ns, api_version, kind):
        S = self.server.store
        items = [self.view(o, None) for o in S.items(res, ns or None)
                 if selector_match(self.q.get("labelSelector"),
                                   o["metadata"].get("labels", {}))]
        items.sort(key=lambda o: o["metadata"]["name"])
        self.send_json(200, {"apiVersion": api_version, "kind": kind + "List",
                             "metadata": {"resourceVersion": str(S.rv)},
                             "items": items})

    def create(self, res, ns, api_version, kind):
        S = self.server.store
        obj = kc.strict_json(self.body())
        strict = self.q.get("fieldValidation", "Warn")
        if strict not in ("Strict", "Warn", "Ignore"):
            raise kc.Invalid(400, "BadRequest", "fieldValidation: %r" % strict)
        warnings = kc.validate(obj, (api_version, kind), strict == "Strict")
        for w in warnings:
            drop_path(obj, w)
        m = obj["metadata"]
        if m.get("namespace", ns) != ns:
            raise kc.Invalid(400, "BadRequest", "the namespace of the provided "
                             "object does not match the namespace sent on the "
                             "request")
        if "resourceVersion" in m:
            raise kc.Invalid(400, "BadRequest", "resourceVersion should not be "
                             "set on objects to be created")
        if S.get(res, ns, m["name"]) is not None:
            raise kc.Invalid(409, "AlreadyExists", "%s \"%s\" already exists"
                             % (res, m["name"]), None)
        if ns:
            m["namespace"] = ns
        m.update({"uid": str(uuid.uuid4()), "creationTimestamp": now_iso(),
                  "generation": 1})
        if kind == "Job":
            # The system's selector (manualSelector unset): labels on the
            # template that only this Job's pods have.
            uid = m["uid"]
            extra = {"batch.kubernetes.io/controller-uid": uid,
                     "batch.kubernetes.io/job-name": m["name"],
                     "controller-uid": uid, "job-name": m["name"]}
            t = obj["spec"]["template"].setdefault("metadata", {})
            t.setdefault("labels", {}).update(extra)
            obj["spec"]["selector"] = {"matchLabels": {
                "batch.kubernetes.io/controller-uid": uid}}
            obj["spec"].setdefault("parallelism", 1)
            obj["spec"].setdefault("backoffLimit", 6)
            obj["spec"].setdefault("completionMode", "NonIndexed")
            obj["spec"].setdefault("podReplacementPolicy",
                                   "Failed" if obj["spec"].get(
                                       "podFailurePolicy") else
                                   "TerminatingOrFailed")
        elif kind == "Deployment":
            obj["spec"].setdefault("replicas", 1)
        S.put(res, obj, "ADDED")
        headers = [("Warning", '299 - "%s"' % w) for w in warnings
                   if strict == "Warn"]
        self.send_json(201, self.view(obj, None), headers)

    def update(self, res, obj, sub, verb):
        S = self.server.store
        text = self.body()
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        strict = self.q.get("fieldValidation", "Warn") == "Strict"
        cur = self.view(obj, sub)
        if verb == "update":
            if ctype != "application/json":
                raise kc.Invalid(415, "UnsupportedMediaType", "the body of the "
                                 "request was in an unknown format - accepted "
                                 "media types include: application/json")
            new = kc.strict_json(text)
        elif ctype in ("application/merge-patch+json",
                       "application/strategic-merge-patch+json"):
            patch = kc.strict_json(text)
            if not isinstance(patch, dict):
                raise kc.Invalid(400, "BadRequest", "a merge patch must be an "
                                 "object")
            new = kc.merge_patch(cur, patch)
        elif ctype == "application/json-patch+json":
            new = json_patch(cur, kc.strict_json(text))
        else:
            raise kc.Invalid(415, "UnsupportedMediaType", "the body of the "
                             "request was in an unknown format - accepted media "
                             "types include: application/json-patch+json, "
                             "application/merge-patch+json, application/"
                             "apply-patch+yaml")
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv is not None and rv != obj["metadata"]["resourceVersion"]:
            raise kc.Invalid(409, "Conflict", "Operation cannot be fulfilled on "
                             "%s \"%s\": the object has been modified; please "
                             "apply your changes to the latest version and try "
                             "again" % (res, obj["metadata"]["name"]))
        if sub == "scale":
            kc.validate(new, ("autoscaling/v1", "Scale"), strict)
            full = copy.deepcopy(obj)
            full["spec"]["replicas"] = new["spec"].get("replicas", 0)
        else:
            full = new
            warnings = kc.validate(full, (obj["apiVersion"], obj["kind"]),
                                   strict)
            for w in warnings:
                drop_path(full, w)
            for f in ("uid", "creationTimestamp", "namespace", "name"):
                if full["metadata"].get(f) != obj["metadata"].get(f):
                    raise kc.Invalid(422, "Invalid", "metadata.%s: field is "
                                     "immutable" % f)
            kc.check_update(obj, full)
            if obj["kind"] == "Pod" and {k: v for k, v in full.items()
                                         if k != "metadata"} != \
                    {k: v for k, v in obj.items() if k != "metadata"}:
                raise kc.Invalid(422, "Invalid", "Pod %r is invalid: spec: "
                                 "Forbidden: pod updates may not change fields "
                                 "other than metadata here" %
                                 obj["metadata"]["name"])
        if full.get("spec") != obj.get("spec"):
            full["metadata"]["generation"] = obj["metadata"].get(
                "generation", 1) + 1
        full["status"] = obj.get("status", {})
        obj.clear()
        obj.update(full)
        S.put(res, obj, "MODIFIED")
        self.send_json(200, self.view(obj, sub))

    def delete(self, res, obj):
        S = self.server.store
        text = self.body()
        opts = kc.strict_json(text) if text.strip() else {}
        policy = self.q.get("propagationPolicy", opts.get("propagationPolicy"))
        grace = self.q.get("gracePeriodSeconds", opts.get("gracePeriodSeconds"))
        pre = opts.get("preconditions") or {}
        if pre.get("resourceVersion") not in (None, obj["metadata"][
                "resourceVersion"]):
            raise kc.Invalid(409, "Conflict", "Precondition failed: "
                             "resourceVersion")
        headers = []
        C = self.server.cluster
        if res == "pods":
            C.delete_pod(obj, int(grace) if grace is not None else None)
            return self.send_json(200, self.view(obj, None))
        if res == "jobs" and policy is None:
            # kube-apiserver's default for Jobs: orphan the pods.
            headers.append(("Warning", '299 - "child pods are preserved by '
                            'default when jobs are deleted; set '
                            'propagationPolicy=Background to remove them or '
                            'set propagationPolicy=Orphan to suppress this '
                            'warning"'))
            policy = "Orphan"
        if policy in ("Background", "Foreground", None):
            for p in C.owned(obj):
                C.delete_pod(p)
        else:
            for p in C.owned(obj):
                p["metadata"]["ownerReferences"] = []
                S.put("pods", p, "MODIFIED")
        S.remove(res, obj)
        self.send_json(200, status_obj(200, "", "", {
            "name": obj["metadata"]["name"], "kind": res,
            "uid": obj["metadata"]["uid"]}), headers)

    def watch(self, res, ns):
        S = self.server.store
        sel = self.q.get("labelSelector")
        try:
            since = int(self.q.get("resourceVersion") or 0)
        except ValueError:
            raise kc.Invalid(400, "BadRequest", "resourceVersion: not a number")
        timeout = min(int(self.q.get("timeoutSeconds") or 1800), 1800)
        bookmarks = self.q.get("allowWatchBookmarks") in ("1", "true")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.record(200)

        def send(obj):
            data = (json.dumps(obj) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        end = time.time() + timeout
        expired = S.expired
        last_bm = time.time()
        try:
            with S.lock:
                if since and since < S.oldest:
                    send({"type": "ERROR", "object": status_obj(
                        410, "Expired", "too old resource version: %d (%d)" %
                        (since, S.oldest))})
                    return
            while time.time() < end:
                with S.lock:
                    evs = [e for e in S.events if e[0] > since and e[1] == res
                           and (not ns or e[2] == ns)]
                    if S.expired != expired:
                        send({"type": "ERROR", "object": status_obj(
                            410, "Expired", "too old resource version: %d" %
                            since)})
                        return
                    if not evs:
                        S.cond.wait(0.5)
                for rv, _, _, etype, obj in evs:
                    since = rv
                    if selector_match(sel, obj["metadata"].get("labels", {})):
                        o = copy.deepcopy(obj)
                        o.get("status", {}).pop("_counted", None)
                        send({"type": etype, "object": o})
                if bookmarks and time.time() - last_bm >= 1:
                    last_bm = time.time()
                    with S.lock:
                        send({"type": "BOOKMARK", "object": {
                            "kind": "Pod", "apiVersion": "v1",
                            "metadata": {"resourceVersion": str(S.rv)}}})
        finally:
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                pass

    def control(self):
        S, inj = self.server.store, self.server.inject
        if self.url.path == "/_contract/fail":
            with self.server.log_lock:
                inj.update(count=int(self.q.get("count", 1)),
                           code=int(self.q.get("code", 429)),
                           method=self.q.get("method"))
            return self.send_json(200, {"ok": True})
        if self.url.path == "/_contract/expire":
            with S.lock:
                S.expired += 1
                S.oldest = S.rv
                S.events.clear()
                S.cond.notify_all()
            return self.send_json(200, {"ok": True})
        if self.url.path == "/_contract/log":
            with open(self.server.log.name) as f:
                data = f.read().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        raise kc.Invalid(404, "NotFound", "no such control")


def drop_path(obj, warning):
    """Drop an unknown field named in a warning ('unknown field "a.b"')."""
    m = re.match(r'unknown field "(.*)"', warning)
    if not m:
        return
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", m.group(1))
    cur = obj
    for p in parts[:-1]:
        cur = cur[int(p[1:-1])] if p.startswith("[") else cur.get(p, {})
    if isinstance(cur, dict):
        cur.pop(parts[-1], None)


def json_patch(doc, ops):
    """RFC 6902, the operations add, remove, replace, test."""
    if not isinstance(ops, list):
        raise kc.Invalid(400, "BadRequest", "a JSON patch must be an array")
    doc = copy.deepcopy(doc)
    for op in ops:
        path = [p.replace("~1", "/").replace("~0", "~")
                for p in op.get("path", "").split("/")[1:]]
        cur = doc
        for p in path[:-1]:
            cur = cur[int(p)] if isinstance(cur, list) else cur.get(p)
            if cur is None:
                raise kc.Invalid(422, "Invalid", "the path %r does not exist"
                                 % op.get("path"))
        k = path[-1] if path else None
        if isinstance(cur, list) and k is not None and k != "-":
            k = int(k)
        o = op.get("op")
        if o in ("add", "replace"):
            if isinstance(cur, list) and (k == "-" or o == "add"):
                cur.insert(len(cur) if k == "-" else k, op["value"])
            else:
                cur[k] = op["value"]
        elif o == "remove":
            del cur[k]
        elif o == "test":
            if cur[k] != op["value"]:
                raise kc.Invalid(422, "Invalid", "test operation failed")
        else:
            raise kc.Invalid(400, "BadRequest", "unsupported op %r" % o)
    return doc


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--admin-token-file")
    ap.add_argument("--role")
    ap.add_argument("--dir", default=".")
    ap.add_argument("--runtime-class", action="append")
    ap.add_argument("--node-resource", action="append")
    ap.add_argument("--history", type=int, default=10000)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.token = open(a.token_file).read().strip()
    srv.admin_token = open(a.admin_token_file).read().strip() \
        if a.admin_token_file else None
    srv.rules = load_rules(a.role) if a.role else None
    srv.store = Store(a.history)
    srv.cluster = Cluster(srv.store, a)
    srv.inject = {"count": 0, "code": 429, "method": None}
    srv.log_lock = threading.Lock()
    srv.log = open(os.path.join(a.dir, "requests.log"), "a")
    threading.Thread(target=srv.cluster.loop, daemon=True).start()

    def stop(*_):
        for p in list(srv.cluster.procs.values()):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever()


if __name__ == "__main__":
    main()
