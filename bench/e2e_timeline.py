#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# The timeline tables of bench/e2e_timeline.sh from the logs it kept: one
# job-NNN-KIND.log per job (its replicas' lines), manager.log and the
# coordinator's log. Times are the lines' own (milliseconds, UTC).
import glob
import os
import re
import statistics
import sys
from datetime import datetime, timezone

STAMP = re.compile(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z ')


def ms(line):
    m = STAMP.match(line)
    if m is None:
        return None
    t = datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%f')
    return t.replace(tzinfo=timezone.utc).timestamp() * 1000


def lines(path):
    with open(path, errors='replace') as f:
        return [(ms(l), l) for l in f.read().splitlines()]


def first(rows, pred, last=False):
    v = [t for t, l in rows if t is not None and pred(l)]
    return (max(v) if last else min(v)) if v else None


ORDER = [
    ('policy', 'coordinator: the policy served to the submission'),
    ('opened', 'coordinator: job opened'),
    ('accepted', 'manager: job accepted (201)'),
    ('running', 'manager: running (replicas asked for)'),
    ('worker', 'first worker line'),
    ('nonce0', 'coordinator: first nonce'),
    ('nonce1', 'coordinator: last nonce'),
    ('release0', 'coordinator: first release'),
    ('release1', 'coordinator: last release'),
    ('ready0', 'workers: first ready'),
    ('ready1', 'workers: last ready'),
    ('batch0', 'first batch done'),
    ('batch1', 'last batch done'),
    ('rwait', 'reduce replica: waiting (for the drain; conf: the map results)'),
    ('drained', 'manager: the queue drained'),
    ('rgo', 'reduce replica: the drain (conf: the map results)'),
    ('closed', 'coordinator: job closed'),
    ('watch', 'manager: the coordinator says closed'),
    ('close', 'manager: close answered'),
    ('completed', 'manager: completed'),
]


def job_events(path, mgr, coord):
    kind = 'conf' if path.endswith('-conf.log') else 'plain'
    w = lines(path)
    started = [l for t, l in w if 'worker started' in l]
    if not started:
        return None
    job = re.search(r' job=(\S+)', started[0]).group(1)
    app = re.search(r' app=(\S+)', started[0]).group(1)
    items = sum(int(re.search(r' items=(\d+)', l).group(1))
                for t, l in w if 'batch done' in l)
    mine = [(t, l) for t, l in mgr if 'job=%s ' % job in l + ' ']
    ev = {
        'accepted': first(mine, lambda l: 'job accepted' in l),
        'running': first(mine, lambda l: 'to=running' in l),
        'watch': first(mine, lambda l: 'says the job is closed' in l),
        'close': first(mine, lambda l: 'closed at the coordinator' in l),
        'completed': first(mine, lambda l: ' to=completed' in l or
                           ' to=failed' in l),
        'worker': first(w, lambda l: True),
        'ready0': first(w, lambda l: 'worker started' in l),
        'ready1': first(w, lambda l: 'worker started' in l, True),
        'batch0': first(w, lambda l: 'batch done' in l),
        'batch1': first(w, lambda l: 'batch done' in l, True),
        'drained': first(mine, lambda l: 'the queue drained' in l),
        # The reduce replica's own lines (a plaintext one waits for the
        # drain with --after-drain, a confidential one for the map
        # results at the coordinator).
        'rwait': first(w, lambda l: 'waiting for the queue to drain' in l or
                       'waiting for the map results' in l),
        'rgo': first(w, lambda l: ' the queue drained job=' in l or
                     ' map results job=' in l),
    }
    cj = None
    for t, l in mine:
        m = re.search(r'closed job ([0-9a-f]{32})', l)
        if m:
            cj = m.group(1)
    if kind == 'conf' and cj is not None:
        c = [(t, l) for t, l in coord if cj in l]
        ev['opened'] = first(c, lambda l: 'job opened' in l)
        ev['nonce0'] = first(c, lambda l: '/nonce ->' in l)
        ev['nonce1'] = first(c, lambda l: '/nonce ->' in l, True)
        ev['release0'] = first(c, lambda l: '/release ->' in l)
        ev['release1'] = first(c, lambda l: '/release ->' in l, True)
        ev['closed'] = first(c, lambda l: 'job closed' in l)
        # The submission's policy fetch: the last before the open.
        if ev['opened'] is not None:
            ev['policy'] = first(coord, lambda l: 'GET /v1/policies/' in l and
                                 '/status' not in l and
                                 (ms(l) or 0) <= ev['opened'], True)
    t0 = ev['running']
    if t0 is None:
        return None
    rel = {k: (v - t0 if v is not None else None) for k, v in ev.items()}
    # The end: the job's work over (its last batch; with a reduce stage,
    # whose replica logs no batch, the coordinator's close) to the answer.
    over = ev['batch1'] if kind == 'plain' or app != 'pooled-stats' \
        else ev.get('closed')
    rel['end'] = ev['completed'] - over \
        if over is not None and ev['completed'] is not None else None
    return (app, items), kind, rel


def med(v):
    v = [x for x in v if x is not None]
    return '%.0f' % statistics.median(v) if v else '-'


def main():
    d = sys.argv[1]
    mgr = lines(os.path.join(d, 'manager.log'))
    cl = [p for p in glob.glob(os.path.join(d, '*.log'))
          if os.path.basename(p).startswith('coord')]
    coord = lines(cl[0]) if cl else []
    groups = {}
    for p in sorted(glob.glob(os.path.join(d, 'job-*.log'))):
        r = job_events(p, mgr, coord)
        if r is None:
            continue
        key, kind, rel = r
        groups.setdefault(key, {'plain': [], 'conf': []})[kind].append(rel)
    for (app, items), g in groups.items():
        print('%s, %d items per job: ms from the job\'s start, median over '
              '%d plaintext and %d confidential jobs' %
              (app, items, len(g['plain']), len(g['conf'])))
        print()
        print('| step | plaintext | confidential |')
        print('|---|---:|---:|')
        for k, name in ORDER:
            print('| %s | %s | %s |' % (name, med([r.get(k) for r in g['plain']]),
                                        med([r.get(k) for r in g['conf']])))
        e = {k: [r['end'] for r in g[k] if r['end'] is not None] for k in g}
        rng = {k: ' (%.0f to %.0f)' % (min(v), max(v)) if v else '' for k, v in e.items()}
        print('| **the end**: work over to completed | %s%s | %s%s |' %
              (med(e['plain']), rng['plain'], med(e['conf']), rng['conf']))
        print()


main()
