// SPDX-License-Identifier: Apache-2.0
// Coffer's dashboard (doc/manager.md section 10): reads the manager's API with
// the user's token and draws the jobs. Plain browser JavaScript, no library,
// no build step. Rules it keeps:
// - the token lives in this tab's sessionStorage and travels only in the
//   Authorization header of requests to this origin: never in a URL, a
//   cookie or localStorage;
// - every text from the API is put in the page as text (textContent), never
//   as HTML, and passes redact() first, so that a password in a URL or a
//   token inside a reason or an error is not shown;
// - secrets the API may carry are never shown: env values, URL user info
//   and query strings.
'use strict';
(function () {
  const TOKEN_KEY = 'coffer.token';
  const POLL_MS = 1000;
  const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
  const $ = (id) => document.getElementById(id);

  let token = null;
  try { token = sessionStorage.getItem(TOKEN_KEY); } catch (e) { token = null; }
  let live = true;
  let timer = null;
  let busy = false;
  let view = { kind: 'list' };
  let gen = 0; // bumped at each navigation: answers for an older view are dropped
  let cur = null; // the job being shown: samples, decisions, dead letters

  // ---------------------------------------------------------------- text

  // What must never reach the screen, whatever field it hides in.
  function redact(s) {
    if (s === null || s === undefined) return '';
    return String(s)
      .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s\/@]*@/gi, '$1***@')
      .replace(/\bcft_[A-Za-z0-9_-]+/g, 'cft_***')
      .replace(/\b(password|passwd|pass|secret|token|api[_-]?key|access[_-]?key|requirepass|auth)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;]+)/gi, '$1$2***');
  }

  // A URL without its user info, query and fragment (where credentials and
  // signed tokens travel).
  function safeUrl(u) {
    const s = String(u);
    const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^\/@?#]*@)?([^?#]*)([?#].*)?$/i.exec(s);
    if (!m) return redact(s);
    return redact(m[1] + m[2]) + (m[3] ? ' (query not shown)' : '');
  }

  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null) continue;
        if (k === 'text') e.textContent = redact(v);
        else if (k === 'className') e.className = v;
        else e.setAttribute(k, v);
      }
    }
    for (const c of kids) {
      if (c === null || c === undefined) continue;
      e.append(typeof c === 'string' || typeof c === 'number' ? redact(c) : c);
    }
    return e;
  }

  const num = (v) => typeof v === 'number' && isFinite(v);

  function fmtNum(v, digits) {
    if (!num(v)) return 'unknown';
    return v.toFixed(digits === undefined ? 0 : digits);
  }

  function fmtDur(s) {
    if (!num(s)) return 'unknown';
    const neg = s < 0;
    let a = Math.abs(s);
    let out;
    if (a < 60) out = a.toFixed(a < 10 ? 1 : 0) + ' s';
    else if (a < 3600) out = Math.floor(a / 60) + ' min ' + String(Math.floor(a % 60)).padStart(2, '0') + ' s';
    else if (a < 86400) out = Math.floor(a / 3600) + ' h ' + String(Math.floor((a % 3600) / 60)).padStart(2, '0') + ' min';
    else out = Math.floor(a / 86400) + ' d ' + Math.floor((a % 86400) / 3600) + ' h';
    return neg ? '-' + out : out;
  }

  const fmtPct = (v) => (num(v) ? (v * 100).toFixed(1) + ' %' : 'unknown');

  function fmtTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (isNaN(d)) return redact(iso);
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  // ----------------------------------------------------------------- API

  class AuthError extends Error {}

  async function api(path) {
    let res;
    try {
      res = await fetch(path, {
        method: 'GET',
        headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' },
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'error',
        referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      const err = new Error('cannot reach the manager (' + e.message + ')');
      err.status = 0;
      throw err;
    }
    if (res.status === 401) throw new AuthError('The manager refused this token (401). Sign in with another.');
    if (!res.ok) {
      let msg = 'HTTP ' + res.status;
      try { msg += ': ' + (await res.json()).error.message; } catch (e) { /* not JSON */ }
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return res.json();
  }

  // ---------------------------------------------------------- navigation

  function parseHash() {
    const m = /^#\/jobs\/([^/]+)$/.exec(location.hash);
    if (m) {
      const id = decodeURIComponent(m[1]);
      if (ID_RE.test(id)) return { kind: 'job', id };
    }
    return { kind: 'list' };
  }

  function show(which) {
    for (const s of ['login', 'jobs', 'job']) $(s).hidden = s !== which;
    $('session').hidden = which === 'login';
  }

  function notice(text) {
    const n = $('notice');
    n.hidden = !text;
    n.textContent = text ? redact(text) : '';
  }

  function announce(text) { $('announce').textContent = redact(text); }

  function schedule(ms) {
    clearTimeout(timer);
    timer = null;
    if (live && token) timer = setTimeout(tick, ms === undefined ? POLL_MS : ms);
  }

  async function tick() {
    if (busy) return;
    busy = true;
    const g = gen;
    try {
      if (!token) {
        show('login');
        return;
      }
      if (view.kind === 'job') await refreshJob(view.id, g);
      else await refreshList(g);
      if (g !== gen) return;
      notice('');
      $('updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      if (g !== gen) return;
      if (e instanceof AuthError) {
        forget();
        notice(e.message);
        return;
      }
      notice(e.message + (live ? ' (retrying)' : ''));
    } finally {
      busy = false;
      schedule(g !== gen ? 0 : POLL_MS);
    }
  }

  function navigate() {
    const v = parseHash();
    const changed = v.kind !== view.kind || v.id !== view.id;
    view = v;
    gen++;
    if (changed && v.kind === 'job') cur = null;
    if (!token) { show('login'); return; }
    show(v.kind === 'job' ? 'job' : 'jobs');
    if (changed) $('main').focus();
    clearTimeout(timer);
    tick();
  }

  function forget() {
    token = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
    clearTimeout(timer);
    show('login');
    $('token').focus();
  }

  // ------------------------------------------------------------ job list

  function onTrackText(j) {
    if (j.deadline_met === true) return ['deadline met', 'good'];
    if (j.deadline_met === false) return ['deadline missed', 'bad'];
    if (j.state === 'completed' && j.on_track === true) return ['deadline met', 'good'];
    if (j.state === 'completed' && j.on_track === false) return ['deadline missed', 'bad'];
    if (j.state !== 'running') return ['—', ''];
    if (j.on_track === true) return ['on track', 'good'];
    if (j.on_track === false) {
      return [num(j.predicted_lateness_s) && j.predicted_lateness_s > 0
        ? 'late by ' + fmtDur(j.predicted_lateness_s) : 'behind', 'bad'];
    }
    return ['unknown yet', ''];
  }

  function itemsText(j) {
    const it = j.items || {};
    if (!num(it.total)) return 'unknown';
    return fmtNum(it.done) + ' / ' + fmtNum(it.total) + (num(it.failed) && it.failed > 0 ? ' (' + it.failed + ' failed)' : '');
  }

  async function refreshList(g) {
    const data = await api('/v1/jobs');
    if (g !== gen) return;
    const jobs = data.jobs || [];
    const body = $('jobs-table').tBodies[0];
    const rows = jobs.map((j) => {
      const [track, cls] = onTrackText(j);
      const r = j.replicas || {};
      return el('tr', { 'data-job': j.id },
        el('th', { scope: 'row' }, el('a', { href: '#/jobs/' + encodeURIComponent(j.id), 'data-field': 'id' }, j.id)),
        el('td', { 'data-field': 'name' }, j.name || ''),
        el('td', { 'data-field': 'state', className: 'state state-' + j.state }, j.state),
        el('td', { 'data-field': 'items' }, itemsText(j)),
        el('td', { 'data-field': 'replicas' }, fmtNum(r.running) + ' / ' + fmtNum(r.desired)),
        el('td', { 'data-field': 'track', className: cls }, track),
        el('td', null, fmtDur(j.elapsed_s) + ' / ' + fmtDur(j.expected_time_s)));
    });
    body.replaceChildren(...rows);
    $('jobs-empty').hidden = jobs.length > 0;
    document.title = 'Jobs · Coffer';
  }

  // ---------------------------------------------------------------- a job

  async function refreshJob(id, g) {
    if (!cur || cur.id !== id) {
      cur = { id, samples: [], decisions: [], since: 0, dsince: 0, state: null, dead: null, deadFor: -1, done: false, spec: null };
    }
    const c = cur;
    // The spec does not change once a job is accepted: read it once, then
    // poll the light form (?view=status, doc/api.md section 4), which for a
    // job of thousands of items is a small fraction of the full answer.
    const full = c.spec === null;
    const j = await api('/v1/jobs/' + encodeURIComponent(id) + (full ? '' : '?view=status'));
    if (g !== gen) return;
    if (full) c.spec = j.spec || {};
    else j.spec = c.spec;
    const terminal = ['completed', 'failed', 'stopped'].includes(j.state);
    if (!c.done) {
      const tl = await api('/v1/jobs/' + encodeURIComponent(id) + '/timeline?since=' + c.since +
        '&decisions_since=' + c.dsince + '&limit=10000');
      if (g !== gen) return;
      for (const s of tl.samples || []) { c.samples.push(s); c.since = Math.max(c.since, s.seq); }
      for (const d of tl.decisions || []) { c.decisions.push(d); c.dsince = Math.max(c.dsince, d.seq); }
      // A finished job's timeline does not grow: read once more after the
      // end, then stop asking.
      if (terminal) c.done = true;
    }
    const failed = j.items && num(j.items.failed) ? j.items.failed : 0;
    if (failed > 0 && c.deadFor !== failed) {
      try {
        const dl = await api('/v1/jobs/' + encodeURIComponent(id) + '/dead_letters');
        if (g !== gen) return;
        c.dead = Array.isArray(dl.dead_letters) ? dl.dead_letters
          : { error: 'the manager cannot read its queue now' };
        c.deadTruncated = dl.truncated === true;
      } catch (e) {
        if (e instanceof AuthError) throw e;
        c.dead = { error: e.message };
      }
      c.deadFor = failed;
    }
    if (c.state !== null && c.state !== j.state) announce('Job ' + id + ' is now ' + j.state + '.');
    c.state = j.state;
    renderJob(j);
  }

  function card(label, main, sub) {
    return el('div', null, el('dt', null, label),
      el('dd', null, main, sub ? el('small', null, sub) : null));
  }

  // How a finished job ended against its deadline.
  function finishedText(j) {
    const end = Date.parse(j.finished_at), dl = Date.parse(j.deadline);
    if (isNaN(end) || isNaN(dl)) return 'finished';
    const d = (dl - end) / 1000;
    return 'finished ' + fmtDur(Math.abs(d)) + (d >= 0 ? ' before' : ' after') + ' the deadline';
  }

  const span = (field, text, cls) => el('span', { 'data-field': field, className: cls }, text);

  function renderJob(j) {
    const it = j.items || {};
    const r = j.replicas || {};
    const th = j.throughput || {};
    const [track, trackCls] = onTrackText(j);
    $('job-h').replaceChildren('Job ', span('id', j.id), j.name ? ' · ' : '', j.name ? span('name', j.name) : '');
    document.title = j.id + ' · Coffer';
    $('job-reason').replaceChildren(
      span('state', j.state, 'state state-' + j.state), ': ', span('reason', j.reason || ''));

    const warns = (j.warnings || []).map((w) => el('li', null, w.message || String(w)));
    $('job-warnings').replaceChildren(...warns);
    $('job-warnings').hidden = warns.length === 0;

    const over = ['completed', 'failed', 'stopped'].includes(j.state);
    const ahead = num(j.progress) && num(j.time_progress) ? j.progress - j.time_progress : null;
    const left = num(j.expected_time_s) && num(j.elapsed_s) ? j.expected_time_s - j.elapsed_s : null;
    $('job-cards').replaceChildren(
      card('Items done',
        el('span', null, span('items.done', fmtNum(it.done)), ' / ', span('items.total', fmtNum(it.total))),
        el('span', null, span('items.failed', fmtNum(it.failed)), ' failed · ',
          span('items.in_flight', fmtNum(it.in_flight)), ' in flight · ',
          span('items.queued', fmtNum(it.queued)), ' queued')),
      card('Progress vs ideal line',
        el('span', null, span('progress', fmtPct(j.progress)), ' vs ', span('time_progress', fmtPct(j.time_progress))),
        ahead === null ? 'unknown' : (ahead >= 0 ? 'ahead by ' : 'behind by ') + Math.abs(ahead * 100).toFixed(1) + ' points'),
      card('Throughput',
        el('span', null, span('throughput', fmtNum(th.items_per_s, 2)), ' items/s'),
        el('span', null, span('throughput_per_replica', fmtNum(th.per_replica_items_per_s, 2)), ' per ready replica')),
      card('Replicas',
        el('span', null, span('replicas.desired', fmtNum(r.desired)), ' desired · ',
          span('replicas.running', fmtNum(r.running)), ' running'),
        el('span', null, span('replicas.ready', fmtNum(r.ready)), ' ready (holding an item); bounds ',
          span('replicas.min', fmtNum(r.min)), '–', span('replicas.max', fmtNum(r.max)))),
      card('ETA', span('eta', over ? '—' : fmtDur(j.eta_s)),
        over ? 'the job is over' : num(j.eta_s) ? 'done at about ' + new Date(Date.now() + j.eta_s * 1000).toLocaleTimeString()
          : 'known once items finish'),
      card('Predicted lateness', span('track', track, trackCls),
        over ? finishedText(j) : el('span', null, 'predicted lateness ', span('lateness', fmtDur(j.predicted_lateness_s)))),
      card('Deadline', span('deadline', fmtTime(j.deadline)),
        j.state === 'running' && left !== null ? (left >= 0 ? fmtDur(left) + ' left' : 'passed ' + fmtDur(-left) + ' ago') : null),
      card('Elapsed / expected',
        el('span', null, span('elapsed', fmtDur(j.elapsed_s)), ' / ', span('expected', fmtDur(j.expected_time_s))),
        'replica-seconds used: ' + fmtNum(j.replica_seconds, 1)),
      card('Controller', span('controller', (j.controller && j.controller.name) || '—'),
        el('span', null, span('decisions', fmtNum(j.controller && j.controller.decisions)), ' decisions, every ',
          fmtDur(j.controller && j.controller.check_interval_s))));

    renderCharts(j);
    renderDecisions();
    renderFailures(j);
    renderConfidential(j);
    renderSpec(j);
  }

  // ---------------------------------------------------------------- charts

  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of kids) if (c) e.append(c);
    return e;
  }

  // At most n points of a series, evenly picked, keeping the last.
  function thin(a, n) {
    if (a.length <= n) return a;
    const out = [];
    const step = a.length / n;
    for (let i = 0; i < n; i++) out.push(a[Math.floor(i * step)]);
    out.push(a[a.length - 1]);
    return out;
  }

  // 1, 2, 5 or 10 times a power of ten, at least v (axis ticks).
  function niceStep(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v > 0 ? v : 1)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // Five ticks from 0 to ymax for ratios; whole numbers for counts.
  function yticks(ymax) {
    if (ymax === 1) return [0, 0.25, 0.5, 0.75, 1];
    const step = Math.max(1, Math.ceil(ymax / 4));
    const out = [];
    for (let v = 0; v <= ymax; v += step) out.push(v);
    return out;
  }

  function chart(id, title, desc, ymax, yfmt, xmax, draw, legend) {
    const W = 720, H = 240, L = 48, R = 12, T = 12, B = 30;
    const x = (t) => L + (Math.max(0, t) / xmax) * (W - L - R);
    const y = (v) => T + (1 - v / ymax) * (H - T - B);
    const tid = id + '-t', did = id + '-d';
    const g = svg('g');
    const ys = yticks(ymax);
    for (const v of ys) {
      g.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      const tx = svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' });
      tx.textContent = yfmt(v);
      g.append(tx);
    }
    const step = niceStep(xmax / 5);
    for (let t = 0; t <= xmax; t += step) {
      const tx = svg('text', { x: x(t), y: H - 10, 'text-anchor': 'middle' });
      tx.textContent = fmtDur(t);
      g.append(tx);
    }
    g.append(svg('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
    g.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
    const t = svg('title', { id: tid });
    t.textContent = title;
    const d = svg('desc', { id: did });
    d.textContent = desc;
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': tid + ' ' + did }, t, d, g);
    draw(s, x, y);
    const legendList = el('ul', { className: 'legend' },
      ...legend.map(([cls, text]) => el('li', null, el('span', { className: 'key ' + cls, 'aria-hidden': 'true' }), text)));
    $(id).replaceChildren(s, el('figcaption', null, legendList));
  }

  const poly = (pts, attrs) => svg('polyline', Object.assign({ fill: 'none', points: pts.join(' ') }, attrs));

  function stepPoints(ss, key, x, y) {
    const pts = [];
    let prev = null;
    for (const s of ss) {
      if (!num(s[key])) continue;
      if (prev !== null) pts.push(x(s.t_s) + ',' + y(prev));
      pts.push(x(s.t_s) + ',' + y(s[key]));
      prev = s[key];
    }
    return pts;
  }

  // The desired count is what the decisions set: a step at each one, from
  // the first sample's count (a sample taken at a decision may show the
  // count from before it).
  function desiredPoints(ss, j, x, y) {
    if (!ss.length) return [];
    const end = ss[ss.length - 1].t_s;
    let v = num(ss[0].desired) ? ss[0].desired : 0;
    const pts = [x(0) + ',' + y(v)];
    for (const d of cur.decisions) {
      if (!num(d.t_s) || !num(d.to) || d.t_s > end) continue;
      pts.push(x(d.t_s) + ',' + y(v), x(d.t_s) + ',' + y(d.to));
      v = d.to;
    }
    pts.push(x(end) + ',' + y(v));
    if (['completed', 'failed', 'stopped'].includes(j.state)) pts.push(x(end) + ',' + y(0));
    return pts;
  }

  function renderCharts(j) {
    const ss = thin(cur.samples, 600);
    const E = num(j.expected_time_s) ? j.expected_time_s : 1;
    const last = ss.length ? ss[ss.length - 1].t_s : 0;
    const xmax = Math.max(E, last, num(j.elapsed_s) && j.state === 'running' ? j.elapsed_s : 0) * 1.03 || 1;
    const lastP = ss.length ? ss[ss.length - 1].progress : null;
    chart('progress-chart', 'Progress of job ' + j.id + ' against the ideal line',
      'Items finished as a share of all items over time, and the straight line from 0 at the start to 100 % at the deadline (' +
      fmtDur(E) + '). Latest: ' + fmtPct(lastP) + ' at ' + fmtDur(last) + '.',
      1, (v) => Math.round(v * 100) + '%', xmax, (s, x, y) => {
        s.append(poly([x(0) + ',' + y(0), x(E) + ',' + y(1)], { stroke: '#4f5661', 'stroke-width': 2, 'stroke-dasharray': '6 4' }));
        s.append(svg('line', { x1: x(E), x2: x(E), y1: y(0), y2: y(1), stroke: '#a40e26', 'stroke-width': 1, 'stroke-dasharray': '2 3' }));
        s.append(poly(ss.filter((p) => num(p.progress)).map((p) => x(p.t_s) + ',' + y(p.progress)),
          { stroke: '#0b5cad', 'stroke-width': 2.5 }));
      }, [['key-progress', 'progress (done + failed) / total'], ['key-ideal', 'ideal line to the deadline'],
        ['key-deadline', 'the deadline']]);

    let ymax = num(j.replicas && j.replicas.max) ? Math.max(j.replicas.max, 2) : 2;
    for (const s of ss) ymax = Math.max(ymax, s.desired || 0, s.replicas || 0);
    for (const d of cur.decisions) ymax = Math.max(ymax, d.to || 0);
    chart('replicas-chart', 'Replicas of job ' + j.id,
      'Replicas desired by the controller, running, and ready (holding an item) over time, with a mark at each of the ' +
      cur.decisions.length + ' controller decisions.',
      ymax, (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)), xmax, (s, x, y) => {
        // Desired on top, dashed: running follows it and would hide it.
        s.append(poly(stepPoints(ss, 'replicas', x, y), { stroke: '#116329', 'stroke-width': 4, 'stroke-opacity': 0.55 }));
        s.append(poly(stepPoints(ss, 'ready', x, y), { stroke: '#7a4d00', 'stroke-width': 1.5, 'stroke-dasharray': '2 2' }));
        s.append(poly(desiredPoints(ss, j, x, y), { stroke: '#a40e26', 'stroke-width': 2, 'stroke-dasharray': '6 3' }));
        for (const d of cur.decisions) {
          if (!num(d.t_s) || !num(d.to)) continue;
          s.append(svg('circle', { cx: x(d.t_s), cy: y(d.to), r: 3.5, fill: '#6f42c1' }));
        }
      }, [['key-desired', 'desired'], ['key-running', 'running'], ['key-ready', 'ready'],
        ['key-decision', 'controller decision (dot at the count it set)']]);
  }

  // ------------------------------------------------------------- decisions

  function renderDecisions() {
    const ds = cur.decisions.slice().reverse();
    const rows = ds.map((d) => {
      const inp = d.inputs || {};
      const change = d.from === d.to ? String(d.to) + ' (kept)' : d.from + ' → ' + d.to;
      return el('tr', { 'data-seq': d.seq },
        el('td', { 'data-field': 'seq' }, String(d.seq)),
        el('td', null, fmtNum(d.t_s, 1)),
        el('td', { 'data-field': 'change' }, change + (d.clamped ? ' (asked ' + d.decided + ', clamped)' : '') +
          (d.rc ? ' (controller error ' + d.rc + ')' : '')),
        el('td', null, fmtNum(inp.error, 4)),
        el('td', null, fmtNum(inp.throughput, 2)),
        el('td', { 'data-field': 'reason' }, d.reason || ''));
    });
    $('dec-table').tBodies[0].replaceChildren(...rows);
    const ups = cur.decisions.filter((d) => d.to > d.from).length;
    const downs = cur.decisions.filter((d) => d.to < d.from).length;
    $('dec-summary').textContent = cur.decisions.length
      ? cur.decisions.length + ' decisions, newest first: ' + ups + ' up, ' + downs + ' down, ' +
        (cur.decisions.length - ups - downs) + ' kept.'
      : 'No decision yet: the controller decides every check interval once the job runs.';
  }

  // -------------------------------------------------------------- failures

  function renderFailures(j) {
    const it = j.items || {};
    const failed = num(it.failed) ? it.failed : 0;
    let text;
    if (!num(it.failed)) text = 'Unknown: the manager has not read the queue yet.';
    else if (failed === 0) text = 'No item has failed.';
    else text = failed + ' item' + (failed === 1 ? ' was' : 's were') + ' dead-lettered (failed at every attempt).';
    $('fail-summary').replaceChildren(span('failures', text));
    const rows = [];
    if (failed > 0 && cur.dead && !Array.isArray(cur.dead)) {
      $('fail-summary').append(' The list could not be read: ' + redact(cur.dead.error));
    } else if (failed > 0 && Array.isArray(cur.dead)) {
      for (const d of cur.dead) {
        rows.push(el('tr', null, el('td', { 'data-field': 'item' }, d.item || ''),
          el('td', null, fmtNum(d.attempts)), el('td', { 'data-field': 'error' }, d.error || '')));
      }
    }
    if (rows.length && cur.deadTruncated) $('fail-summary').append(' The first ' + rows.length + ' are listed.');
    $('dead-table').tBodies[0].replaceChildren(...rows);
    $('dead-wrap').hidden = rows.length === 0;
  }

  // ---------------------------------------------------------- confidential

  // A confidential job's claims, each with the command that checks it
  // without trusting the manager (doc/manager.md section 10). The manager
  // sends `confidential` (section 9): coordinator, policy, job, stage,
  // the policy's approvals, and outcome and outcome_reason once the
  // coordinator closed the job.
  function renderConfidential(j) {
    const tee = (j.spec && j.spec.tee) || {};
    const c = j.confidential || null;
    const isConf = c !== null || (tee.backend && tee.backend !== 'none');
    $('conf').hidden = !isConf;
    if (!isConf) return;
    const coord = (c && c.coordinator) || tee.coordinator;
    const coordText = coord ? safeUrl(coord) : 'URL';
    const hex = (v, n) => typeof v === 'string' && new RegExp('^[0-9a-f]{' + n + '}$').test(v);
    const pol = c && hex(c.policy, 64) ? c.policy : null;
    const cjob = c && hex(c.job, 32) ? c.job : null;
    const rows = [];
    const row = (label, field, value, ...cmds) => {
      rows.push(el('dt', null, label));
      rows.push(el('dd', null, el('span', { 'data-field': field }, value),
        ...cmds.map((cmd) => el('span', { className: 'cmd' }, 'verify: ', el('code', null, cmd)))));
    };
    const backend = tee.backend;
    const b = el('span', null, backend || 'not reported');
    if (backend === 'sim') b.append(' ', el('span', { className: 'insecure' }, 'INSECURE simulation: no hardware protection'));
    row('TEE backend', 'conf.backend', b, 'coffer coordinator verify ' + coordText + ' --expect MEASUREMENT');
    row('Coordinator', 'conf.coordinator', coord ? coordText : 'not reported', 'coffer coordinator show ' + coordText);
    if (!c) {
      $('conf-list').replaceChildren(...rows);
      return;
    }
    row('Policy', 'conf.policy', pol || 'not reported', 'coffer policy show ' + (pol || 'HASH'));
    rows.push(el('dt', null, 'Approvals'), el('dd', null, approvalsView(c.approvals),
      el('span', { className: 'cmd' }, 'verify: ', el('code', null,
        'coffer policy status ' + (pol || 'HASH') + ' --coordinator ' + coordText))));
    row('Job at the coordinator', 'conf.job', cjob ? cjob + ' (stage: ' + (c.stage || '?') + ')' : 'not reported',
      'coffer receipt fetch ' + (cjob || 'JOB') + ' --id YOUR.id --out receipt.json');
    row('Receipt', 'conf.receipt', c.outcome
      ? 'the coordinator closed the job: ' + c.outcome + (c.outcome_reason ? ' (' + c.outcome_reason + ')' : '')
      : 'not closed yet', 'coffer receipt verify receipt.json --id YOUR.id');
    $('conf-list').replaceChildren(...rows);
  }

  // The policy's approvals as the coordinator last answered the manager
  // (`confidential.approvals`, doc/manager.md section 9.5): how many owners
  // approved, each owner, and why the answer is not newer if it is not.
  function approvalsView(a) {
    const box = el('div', { 'data-field': 'conf.approvals' });
    const owners = a && Array.isArray(a.owners) ? a.owners : null;
    if (owners) {
      const count = (k) => owners.filter((o) => o && o.approval === k).length;
      const revoked = count('revoked');
      box.append(el('span', { 'data-field': 'conf.approvals.summary' },
        count('approved') + ' of ' + owners.length + ' owners approved' +
        (revoked ? ', ' + revoked + ' revoked' : '') +
        (num(a.needed) ? ', ' + a.needed + ' more needed (k of n)' : '') +
        '; policy ' + a.state + ', ' + (a.active ? 'active' : 'not active') + (a.reason ? ' (' + a.reason + ')' : '')),
      ' — as reported by the manager (untrusted), from the coordinator\'s answer of ' + fmtTime(a.answered_at));
      const label = { approved: 'approved', revoked: 'approval revoked', missing: 'not approved' };
      box.append(el('ul', { className: 'owners' }, ...owners.map((o) => el('li', {
        'data-owner': o.fingerprint, 'data-approval': o.approval,
        className: o.approval === 'approved' ? 'good' : o.approval === 'revoked' ? 'bad' : null,
      }, (o.name || '(no name)') + ' ', el('code', null, String(o.fingerprint).slice(0, 16)),
      ': ' + (label[o.approval] || o.approval)))));
    } else if (!a || !a.error) {
      box.append('not reported yet: the manager is asking the coordinator');
    }
    if (a && a.error) {
      box.append(el('span', { className: 'bad', 'data-field': 'conf.approvals.error' },
        (owners ? 'not updated: ' : '') + a.error));
    }
    return box;
  }

  // ------------------------------------------------------------------ spec

  function kv(o) {
    // Parameters come back as the manager stores them: 0.1 may read
    // 0.10000000000000001.
    const show = (v) => (typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(6)))
      : typeof v === 'string' && /^-?\d+\.\d{8,}$/.test(v) ? String(Number(Number(v).toPrecision(6)))
        : typeof v === 'object' ? JSON.stringify(v) : String(v));
    return Object.entries(o || {}).map(([k, v]) => k + '=' + show(v)).join(', ');
  }

  function renderSpec(j) {
    const s = j.spec || {};
    const items = [];
    const add = (k, v) => { if (v !== undefined && v !== null && v !== '') items.push(el('dt', null, k), el('dd', { 'data-spec': k }, v)); };
    add('Kind', j.kind);
    add('App', s.app);
    add('App parameters', s.app_params && Object.keys(s.app_params).length ? kv(s.app_params) : null);
    add('Command', Array.isArray(s.cmd) ? s.cmd.join(' ') : null);
    // Values of the environment may be credentials: names only.
    add('Environment', s.env && Object.keys(s.env).length ? Object.keys(s.env).join(', ') + ' (values not shown)' : null);
    const inp = s.inputs || {};
    add('Inputs', inp.prefix !== undefined ? 'prefix ' + inp.prefix
      : Array.isArray(inp.items) ? inp.items.length + ' listed items'
      : inp.items_file ? 'file ' + inp.items_file
      : inp.items_url ? 'URL ' + safeUrl(inp.items_url) : null);
    add('Input store', inp.store);
    add('Outputs', s.outputs ? [s.outputs.store, s.outputs.prefix].filter(Boolean).join(' ') : null);
    add('Submitted', fmtTime(j.submitted_at));
    add('Started', fmtTime(j.started_at));
    add('Finished', fmtTime(j.finished_at));
    add('Controller parameters', s.controller && s.controller.params ? kv(s.controller.params) : null);
    add('Replicas (min, max, initial)', s.replicas ? [s.replicas.min, s.replicas.max, s.replicas.initial].join(', ') : null);
    add('Attempts per item', s.max_attempts);
    add('Lease', num(s.lease_ms) ? fmtDur(s.lease_ms / 1000) : null);
    add('Queue', j.queue ? j.queue.layout + ' layout, ' + j.queue.name : null);
    add('Actuator', j.actuator ? j.actuator.used + (j.actuator.requested !== j.actuator.used ? ' (asked: ' + j.actuator.requested + ')' : '') : null);
    $('job-spec').replaceChildren(...items);
  }

  // ----------------------------------------------------------------- start

  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $('token').value.trim();
    $('token').value = '';
    if (!v) { notice('Enter a token.'); $('token').focus(); return; }
    token = v;
    try { sessionStorage.setItem(TOKEN_KEY, v); } catch (e) { /* this tab only, then */ }
    notice('');
    view = { kind: 'none' };
    navigate();
  });
  $('forget').addEventListener('click', () => { forget(); notice('Token forgotten.'); });
  $('live').addEventListener('click', () => {
    live = !live;
    $('live').setAttribute('aria-pressed', String(live));
    $('live').textContent = 'Live updates: ' + (live ? 'on' : 'off');
    if (live) tick(); else clearTimeout(timer);
  });
  window.addEventListener('hashchange', navigate);
  view = { kind: 'none' };
  navigate();
})();
