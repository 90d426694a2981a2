# SPDX-License-Identifier: Apache-2.0
# The report of bench/e2e_profile.sh: DIR holds plain.data and conf.data
# (perf record -a of the jobs of each kind) and daemons (the hook's
# notes). Items per kind from E2E_PROFILE_ITEMS.
import collections
import os
import re
import subprocess
import sys

d = sys.argv[1]
items = int(os.environ.get("E2E_PROFILE_ITEMS", "0"))
HZ = os.sysconf("SC_CLK_TCK")

fork_re = re.compile(r"PERF_RECORD_FORK\((\d+):(\d+)\):\((\d+):(\d+)\)")
comm_re = re.compile(r"PERF_RECORD_COMM(?: exec)?: (\S+):(\d+)/(\d+)")


def role(pid, parent, comm):
    """supervisor, runner, app host, or the command's name."""
    c = comm.get(pid, "?")
    if c == "exe":
        return "worker: app host"
    if c == "coffer-worker":
        pp = parent.get(pid)
        return ("worker: runner" if pp is not None and comm.get(pp) ==
                "coffer-worker" else "worker: supervisor")
    return c


def profile(kind):
    out = subprocess.run(["perf", "script", "-i", f"{d}/{kind}.data",
                          "--show-task-events", "-G",
                          "-F", "comm,pid,tid,ip,sym,dso"],
                         capture_output=True, text=True).stdout
    parent, comm = {}, {}
    samples = collections.Counter()
    syms = collections.Counter()
    for line in out.splitlines():
        m = fork_re.search(line)
        if m:
            child, pp = int(m.group(1)), int(m.group(3))
            if child != pp:
                parent[child] = pp
                comm.setdefault(child, comm.get(pp, "?"))
            continue
        m = comm_re.search(line)
        if m:
            comm[int(m.group(2))] = m.group(1)
            continue
        f = line.split()
        if len(f) < 2 or "PERF_RECORD" in line:
            continue
        # comm may hold spaces: the pid/tid field is the first "N/N".
        k = next((i for i, x in enumerate(f) if re.fullmatch(r"\d+/\d+", x)), None)
        if k is None:
            continue
        c = " ".join(f[:k])
        pid = int(f[k].split("/")[0])
        comm.setdefault(pid, c)
        if c != comm.get(pid):
            comm[pid] = c
        r = role(pid, parent, comm) if pid else "idle"
        samples[r] += 1
        if r.startswith("worker") or r == os.environ.get("E2E_PROFILE_PROC"):
            # ip sym (dso): the symbol and its object, not the address.
            sym = " ".join(f[k + 2:]) or "?"
            syms[(r, sym)] += 1
    return samples, syms


def daemons(kind):
    """CPU ms of each daemon, summed over the kind's jobs, and wall ms."""
    start, tot = {}, collections.Counter()
    for line in open(f"{d}/daemons"):
        ev, k, name, v = line.split()
        if k != kind:
            continue
        if ev == "start":
            start[name] = int(v)
        else:
            tot[name] += int(v) - start[name]
    return {n: v * 1000 / HZ if n != "time" else v * 10 for n, v in tot.items()}


for kind in ("plain", "conf"):
    s, syms = profile(kind)
    dm = daemons(kind)
    ms = 1000 / 997  # ms of CPU per sample
    total = sum(v for k, v in s.items() if k != "idle")
    print(f"## {kind}: {items} items, jobs' wall {dm.get('time', 0):.0f} ms")
    print()
    print("| process | CPU (ms) | per item (us) |")
    print("|---|---|---|")
    for k, v in s.most_common():
        print(f"| {k} | {v * ms:.0f} | {v * ms * 1000 / max(items, 1):.1f} |")
    print(f"| all but idle | {total * ms:.0f} | {total * ms * 1000 / max(items, 1):.1f} |")
    print()
    print("daemons by /proc (ms): " + ", ".join(
        f"{k} {v:.0f}" for k, v in dm.items() if k != "time"))
    print()
    print("busiest worker functions (samples; and E2E_PROFILE_PROC's):")
    for (r, sym), v in syms.most_common(40):
        print(f"  {v:6d}  {r:20s} {sym}")
    print()
