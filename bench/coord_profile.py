# SPDX-License-Identifier: Apache-2.0
# The coordinator's CPU per confidential job, by step (BENCHMARKS.md,
# "Confidential vs plaintext jobs", "The coordinator's CPU per small
# job"): DIR/coord.data is `perf record -p` of coffer-coordinator with
# dwarf call chains, enabled only while confidential jobs ran
# (bench/e2e_profile.sh with E2E_PROFILE_COORD=1); DIR/coord-cpu its CPU
# (ns, /proc/PID/schedstat) at each such job's start and end. Each sample
# goes to the request handler it ran under (the route), then to the first
# step of that handler it ran in; what ran outside every handler goes to
# the HTTP server's and the event loop's own steps. Milliseconds per job
# are the share of the samples times the CPU the coordinator used in
# those jobs (perf's own cost included: the shares are the figure).
import collections
import subprocess
import sys

d = sys.argv[1]

# Handlers (the first one on the stack, from the root), as the table names them.
ROUTES = {
    "api_release": "release (POST .../release)",
    "api_release_nonce": "nonce (POST .../nonce)",
    "api_proofs": "proofs (POST .../proofs)",
    "api_job_open": "job open",
    "api_job_close": "job close",
    "api_job_show": "job show / held answer",
    "api_policy_status": "policy status",
}
# Steps inside a handler: the first of these on the stack below it, in
# this order of preference (a log line inside a commit is the log line's).
STEPS = [
    ("coffer_logkv", "log lines"),
    ("coffer_tee_verify", "evidence verification (sim: ECDSA P-384)"),
    ("coffer_wrap", "HPKE (X25519 key pair, 2 agreements, AEAD)"),
    ("coffer_wrap_key", "HPKE (X25519 key pair, 2 agreements, AEAD)"),
    ("coffer_hpke_seal_once_key", "HPKE (X25519 key pair, 2 agreements, AEAD)"),
    ("coffer_release_answer_make", "the answer's JSON"),
    ("store_release", "session + audit event, commit"),
    ("coffer_release_request_parse", "request parse"),
    ("find_keys", "data keys (KR7)"),
    ("coord_book_status", "policy status (S1-S5: SQLite)"),
    ("coord_book_measurement_revoked", "revocations (KR12)"),
    ("make_payload", "session keys, params"),
    ("coord_nonce_issue", "nonce issue (HMAC)"),
    ("coord_nonce_take", "nonce take"),
    ("coord_state_job_get", "job row (SQLite)"),
    ("ledger_close_job", "close: Merkle roots, receipt signature"),
    ("ledger_close_stage", "stage close"),
    ("log_proof", "per proof: audit entry + proof row"),
    ("coffer_itemproof_verify_mac_with", "per proof: MAC check"),
    ("ledger_get", "ledger load (first batch)"),
    ("coffer_itemproof_parse", "per proof: parse"),
    ("coord_ledger_proofs", "per proof: rules, ack"),
    ("commit", "commit (sealed pages, fdatasync)"),
    ("coord_state_commit", "commit (sealed pages, fdatasync)"),
    ("coffer_receipt_input_root", "input root (Merkle)"),
    ("coffer_job_request_parse", "request parse"),
    ("http_reply_json", "JSON reply"),
    ("coord_job_answer", "job answer"),
]
# Outside every handler.
OUTSIDE = [
    ("commit", "group commit, deferred (sealed pages, fdatasync)"),
    ("coord_waiters_wake", "held answers woken"),
    ("__GI___writev", "replies written (kernel: loopback TCP)"),
    ("evbuffer_write_atmost", "replies written (kernel: loopback TCP)"),
    ("on_accept", "connections: accept, close"),
    ("evutil_accept4_", "connections: accept, close"),
    ("__GI___close", "connections: accept, close"),
    ("__GI_epoll_ctl", "connections: accept, close"),
    ("evbuffer_read", "requests read (kernel)"),
    ("on_read", "HTTP head and body parse"),
    ("epoll_wait", "event loop wait (kernel)"),
]


def samples(path):
    out = subprocess.run(["perf", "script", "-i", path, "-F", "tid,ip,sym"],
                         capture_output=True, text=True).stdout
    cur = None
    for line in out.splitlines():
        if not line.strip():
            if cur is not None:
                yield cur
            cur = None
        elif not line.startswith("\t"):
            cur = []
        elif cur is not None:
            f = line.split(None, 1)
            cur.append((f[1] if len(f) > 1 else "?").replace(" (inlined)", "").strip())
    if cur is not None:
        yield cur


def bucket(stack):
    fr = list(reversed(stack))  # from the root
    for i, s in enumerate(fr):
        if s in ROUTES:
            below = set(fr[i + 1:])
            step = next((n for f, n in STEPS if f in below), "other")
            return ROUTES[s], step
        if s.startswith("api_"):
            return "other routes", s
    names = set(fr)
    step = next((n for f, n in OUTSIDE if f in names), "other")
    return "outside the handlers", step


cpu = [int(x.split()[1]) for x in open(f"{d}/coord-cpu")]
jobs = len(cpu) // 2
total_ms = sum(cpu[2 * i + 1] - cpu[2 * i] for i in range(jobs)) / 1e6
routes = collections.Counter()
steps = collections.Counter()
n = 0
for s in samples(f"{d}/coord.data"):
    r, st = bucket(s)
    routes[r] += 1
    steps[(r, st)] += 1
    n += 1
if n == 0 or jobs == 0:
    sys.exit("no coordinator samples (perf could not attach?)")
per = total_ms / jobs
print(f"coordinator: {jobs} confidential jobs, {total_ms / jobs:.1f} ms CPU per job "
      f"under perf, {n} samples")
print()
print("| route | step | share | ms per job |")
print("|---|---|---:|---:|")
for r, v in routes.most_common():
    print(f"| **{r}** | | **{100 * v / n:.1f}%** | **{per * v / n:.2f}** |")
    for (r2, st), w in steps.most_common():
        if r2 == r and 100 * w / n >= 0.3:
            print(f"| | {st} | {100 * w / n:.1f}% | {per * w / n:.2f} |")
