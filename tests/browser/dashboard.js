// SPDX-License-Identifier: Apache-2.0
// The dashboard in a real browser (Debian's chromium driven by playwright-core;
// tests/integration/dashboard_browser.sh starts `coffer up` and the jobs and
// runs this). It signs in with a read token by keyboard, checks what the
// page shows against the API, follows a job to completion, runs axe-core on
// every view, checks where the token goes and that no secret reaches the
// page, and saves screenshots. Prints TAP.
//
// Environment: URL, READ_TOKEN, ADMIN_TOKEN, MAIN_SPEC (a file: the job
// this script submits and follows, which runs for several seconds and
// scales), JOB_FAIL (dead-letters items), JOB_TEE (confidential, of
// the policy POLICY, on the sim backend), OWNER_ID (the identity file of
// one of POLICY's owners, who revokes its approval while the page looks;
// `coffer` on PATH, its coordinator pinned),
// SECRETS (strings, one per line, that must never appear in the page), OUT
// (screenshots).
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(k + ' is not set');
  return process.env[k];
};
const URL_ = env('URL');
const READ = env('READ_TOKEN');
const ADMIN = env('ADMIN_TOKEN');
const MAIN_SPEC = fs.readFileSync(env('MAIN_SPEC'), 'utf8');
let JOB = null; // the main job: submitted once the page is signed in
const JOB_FAIL = env('JOB_FAIL');
const JOB_TEE = env('JOB_TEE');
const POLICY = env('POLICY');
const OWNER_ID = env('OWNER_ID');
const OUT = env('OUT');
const SECRETS = env('SECRETS').split('\n').filter(Boolean).concat([READ, ADMIN]);
const PLAN = 46;

let n = 0;
let failed = 0;
function ok(cond, desc, detail) {
  n++;
  if (cond) console.log(`ok ${n} - ${desc}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${desc}`);
    if (detail !== undefined) console.log(String(typeof detail === 'string' ? detail : JSON.stringify(detail, null, 1)).split('\n').map((l) => '#   ' + l).join('\n'));
  }
  return cond;
}
const diag = (s) => console.log('# ' + s);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(p, token) {
  const r = await fetch(URL_ + p, { headers: { Authorization: 'Bearer ' + (token || READ) } });
  if (!r.ok) throw new Error(p + ': HTTP ' + r.status);
  return r.json();
}

// The page's text of [data-field=f] inside sel.
async function field(page, f, sel) {
  return page.$eval((sel || '#job') + ` [data-field="${f}"]`, (e) => e.textContent.trim());
}

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
async function axe(page, what) {
  // Injected through the DevTools protocol: the page's Content Security
  // Policy stays in force and is what is tested.
  await page.evaluate(AXE);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  ok(bad.length === 0, `axe-core: no serious or critical issue on ${what} (${res.violations.length} minor)`,
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((x) => x.target.join(' ')).join(', ')}`).join('\n'));
  for (const v of res.violations) if (!bad.includes(v)) diag(`axe minor: ${v.id} (${v.impact}) ${v.help}`);
}

// Seconds from a duration as the page prints it ("4.3 s", "-1 min 05 s",
// "2 h 03 min"), and its last shown unit: how far it may be from the number
// it was made of (seconds are rounded, minutes and hours cut).
function parseDur(text) {
  const m = /^(-?)(?:(\d+) d )?(?:(\d+) h ?)?(?:(\d+) min ?)?(?:([\d.]+) s)?$/.exec(text);
  if (!m || text === '' || text === '-') return null;
  const [d, h, mi, s] = [m[2], m[3], m[4], m[5]].map((x) => (x === undefined ? 0 : Number(x)));
  const unit = m[5] !== undefined ? (/\./.test(m[5]) ? 0.1 : 1) : m[4] !== undefined ? 60 : 3600;
  return { s: (m[1] ? -1 : 1) * (d * 86400 + h * 3600 + mi * 60 + s), slack: unit + 1e-9 };
}
const durIs = (text, v) => {
  const p = parseDur(text);
  return p !== null && typeof v === 'number' && Math.abs(p.s - v) <= p.slack;
};

// Tab through the page from the top; the elements focused, as selectors.
async function tabWalk(page, max) {
  // Start at the first element (the skip link): Tab then walks the page in
  // order until focus leaves it or comes back.
  await page.evaluate(() => document.querySelector('a.skip').focus());
  const seen = [];
  for (let i = 0; i < max; i++) {
    if (i > 0) await page.keyboard.press('Tab');
    const id = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      if (!e.dataset.tabProbe) e.dataset.tabProbe = String(Math.random()).slice(2);
      return e.dataset.tabProbe;
    });
    if (id === null || seen.includes(id)) break;
    seen.push(id);
  }
  return seen;
}

// Every control a person could use, visible: each must be reached by Tab.
async function everyControlByKeyboard(page, what) {
  const reached = await tabWalk(page, 400);
  const missed = await page.evaluate((reachedIds) => {
    const sel = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
    const out = [];
    for (const e of document.querySelectorAll(sel)) {
      const r = e.getBoundingClientRect();
      const visible = e.offsetParent !== null || (r.width > 0 && r.height > 0);
      if (!visible || e.disabled) continue;
      if (!reachedIds.includes(e.dataset.tabProbe)) out.push(e.outerHTML.slice(0, 120));
    }
    return out;
  }, reached);
  ok(missed.length === 0 && reached.length > 0, `keyboard reaches every control of ${what} (${reached.length} stops)`, missed.join('\n'));
}

(async () => {
  console.log('1..' + PLAN);
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const requests = [];
  const problems = [];
  page.on('request', (r) => requests.push({ url: r.url(), auth: r.headers().authorization || null }));
  // The last answer the page got for GET /v1/jobs/JOB: what it drew.
  let lastJob = null;
  page.on('response', async (r) => {
    if (new URL(r.url()).pathname !== '/v1/jobs/' + JOB || r.status() !== 200) return;
    try { lastJob = await r.json(); } catch (e) { /* a body cut short by a navigation */ }
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  // The browser logs each failed request; the one 401 is the wrong token
  // tried on purpose.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push('console: ' + m.text());
  });
  page.setDefaultTimeout(20000);

  try {
    // -- signing in, by keyboard --------------------------------------------
    const resp = await page.goto(URL_ + '/');
    const h = resp.headers();
    ok(resp.status() === 200 && /script-src 'self'/.test(h['content-security-policy'] || '') &&
      h['x-content-type-options'] === 'nosniff', 'the page is served without a token, with its Content Security Policy',
    h);
    ok(await page.isVisible('#login') && !(await page.isVisible('#jobs')), 'without a token it asks for one');
    await axe(page, 'the sign-in form');
    let presses = 0;
    while (presses < 6 && !(await page.evaluate(() => document.activeElement.id === 'token'))) {
      await page.keyboard.press('Tab');
      presses++;
    }
    ok(await page.evaluate(() => document.activeElement.id === 'token'), `Tab reaches the token field (${presses} presses)`);
    await page.keyboard.type('cft_not-a-real-token');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#notice:not([hidden])');
    ok(/refused/.test(await page.textContent('#notice')) && await page.isVisible('#login'),
      'a wrong token is refused, and the form is shown again');
    await page.focus('#token');
    await page.keyboard.type(READ);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`#jobs-table tr[data-job="${JOB_FAIL}"]`);
    ok(true, 'a read token is enough: the job list appears');
    const store = await page.evaluate(() => ({
      session: sessionStorage.getItem('coffer.token'), local: localStorage.length, cookie: document.cookie,
      value: document.getElementById('token').value,
    }));
    ok(store.session === READ && store.local === 0 && store.cookie === '' && store.value === '',
      'the token is in sessionStorage only: no localStorage, no cookie, not left in the field', { ...store, session: store.session === READ });
    // -- the list against the API --------------------------------------------
    const list = (await api('/v1/jobs')).jobs;
    for (const id of [JOB_FAIL, JOB_TEE]) {
      const want = list.find((j) => j.id === id);
      const shown = await field(page, 'state', `#jobs-table tr[data-job="${id}"]`);
      const after = (await api('/v1/jobs/' + id)).state;
      ok(want && (shown === want.state || shown === after), `the list shows ${id} ${shown} as the API does`, { shown, api: want && want.state, after });
    }
    await everyControlByKeyboard(page, 'the job list');
    await axe(page, 'the job list');

    // -- a running job, opened by keyboard -----------------------------------
    // Submitted now, whatever the time the steps above took (under ASan and
    // a loaded machine, a job submitted before the browser started could be
    // over before the page opens it).
    const sub = await fetch(URL_ + '/v1/jobs', { method: 'POST', body: MAIN_SPEC,
      headers: { Authorization: 'Bearer ' + ADMIN, 'Content-Type': 'application/json' } });
    if (sub.status !== 201) throw new Error('submitting the main job: HTTP ' + sub.status + ' ' + await sub.text());
    JOB = (await sub.json()).id;
    diag('main job ' + JOB);
    await page.waitForSelector(`#jobs-table tr[data-job="${JOB}"]`);
    await page.screenshot({ path: path.join(OUT, 'jobs.png') });
    await page.focus(`#jobs-table a[href="#/jobs/${JOB}"]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#job:not([hidden]) [data-field="items.done"]');
    ok(page.url().endsWith('#/jobs/' + JOB) && !page.url().includes('cft_'), 'Enter on a job opens it (the URL names the job, never the token)');
    // Items/s, replicas running, ETA and predicted lateness move at every
    // poll: once items finish (the ETA is known), with live updates paused,
    // the page must show exactly the last answer it got.
    await page.waitForFunction(() => {
      const e = document.querySelector('#job [data-field="eta"]');
      return e && /\d/.test(e.textContent);
    }, null, { timeout: 60000 });
    await page.click('#live');
    let cmp = null;
    for (let i = 0; i < 20; i++) {
      await sleep(250); // a poll in flight lands, then nothing moves
      const j = lastJob;
      const got = {
        state: await field(page, 'state'), items_per_s: await field(page, 'throughput'),
        running: await field(page, 'replicas.running'), eta: await field(page, 'eta'),
        lateness: await field(page, 'lateness').catch(() => null), track: await field(page, 'track'),
      };
      const th = j && j.throughput && j.throughput.items_per_s;
      cmp = { got, api: j && { state: j.state, items_per_s: th, running: j.replicas.running, eta_s: j.eta_s,
        predicted_lateness_s: j.predicted_lateness_s, on_track: j.on_track, deadline_met: j.deadline_met } };
      if (j && got.state === 'running' && j.state === 'running' && typeof th === 'number' &&
        got.items_per_s === th.toFixed(2) && got.running === String(j.replicas.running) &&
        durIs(got.eta, j.eta_s) && durIs(got.lateness, j.predicted_lateness_s) &&
        got.track === (j.deadline_met === false ? 'deadline missed' : j.on_track ? 'on track'
          : j.predicted_lateness_s > 0 ? 'late by ' + got.lateness : 'behind')) break;
      cmp.mismatch = true;
    }
    ok(!cmp.mismatch, `items/s, replicas running, ETA and predicted lateness are the API's (${cmp.got.items_per_s} items/s, ` +
      `ETA ${cmp.got.eta}, ${cmp.got.track})`, cmp);
    await page.click('#live');
    const before = await api('/v1/jobs/' + JOB);
    await sleep(1500); // one poll
    const shown = {
      state: await field(page, 'state'), done: Number(await field(page, 'items.done')),
      total: Number(await field(page, 'items.total')), desired: Number(await field(page, 'replicas.desired')),
      max: Number(await field(page, 'replicas.max')), decisions: Number(await field(page, 'decisions')),
    };
    const after = await api('/v1/jobs/' + JOB);
    ok(shown.state === 'running' && before.state === 'running', `the job is running while the page shows it (${shown.done}/${shown.total})`, { shown, before: before.state });
    ok(shown.total === after.items.total && shown.done >= before.items.done && shown.done <= after.items.done,
      'items done and total are what the API said between two reads', { shown, before: before.items, after: after.items });
    ok(shown.max === after.replicas.max && shown.desired >= 0 && shown.desired <= after.replicas.max,
      'replicas desired within the bounds the API gives', { shown, after: after.replicas });
    ok(shown.decisions >= before.controller.decisions && shown.decisions <= after.controller.decisions,
      'the decision count is the API\'s', { shown: shown.decisions, before: before.controller.decisions, after: after.controller.decisions });
    const ideal = await page.$$eval('#progress-chart polyline', (ps) => ps.map((p) => p.getAttribute('points').split(' ').length));
    ok(ideal.length === 2 && ideal[0] === 2 && ideal[1] >= 2, 'the chart draws the ideal line to the deadline and the progress', ideal);
    await page.screenshot({ path: path.join(OUT, 'job-running.png'), fullPage: true });
    await everyControlByKeyboard(page, 'a running job');
    await axe(page, 'a running job');

    // Live updates can be paused and resumed by keyboard.
    await page.focus('#live');
    await page.keyboard.press('Space');
    const paused = await page.getAttribute('#live', 'aria-pressed');
    await page.keyboard.press('Enter');
    ok(paused === 'false' && (await page.getAttribute('#live', 'aria-pressed')) === 'true',
      'the live-update switch works from the keyboard and says its state (aria-pressed)');

    // -- followed to completion, live ------------------------------------------
    await page.waitForFunction(() => {
      const e = document.querySelector('#job [data-field="state"]');
      return e && ['completed', 'failed', 'stopped'].includes(e.textContent);
    }, null, { timeout: 120000 });
    await sleep(1200); // the last timeline read after the end
    const fin = await api('/v1/jobs/' + JOB);
    const tl = await api('/v1/jobs/' + JOB + '/timeline');
    const end = {
      state: await field(page, 'state'), done: Number(await field(page, 'items.done')),
      total: Number(await field(page, 'items.total')), failed: Number(await field(page, 'items.failed')),
      decisions: Number(await field(page, 'decisions')), reason: await field(page, 'reason'),
    };
    ok(end.state === 'completed' && fin.state === 'completed', 'the page followed the job to completion without a reload', end);
    ok(end.done === fin.items.done && end.total === fin.items.total && end.failed === fin.items.failed && end.reason === fin.reason,
      'at the end: done, total, failed and the reason are the API\'s', { end, api: fin.items, reason: fin.reason });
    ok(end.decisions === fin.controller.decisions && tl.decisions.length === fin.controller.decisions,
      `the page counts the ${fin.controller.decisions} decisions of the timeline`, { end: end.decisions, api: fin.controller.decisions, tl: tl.decisions.length });
    const rows = await page.$$eval('#dec-table tbody tr', (rs) => rs.map((r) => ({
      seq: Number(r.dataset.seq), reason: r.querySelector('[data-field="reason"]').textContent,
      change: r.querySelector('[data-field="change"]').textContent,
    })));
    const byseq = new Map(rows.map((r) => [r.seq, r]));
    const wrong = tl.decisions.filter((d) => !byseq.has(d.seq) || byseq.get(d.seq).reason !== d.reason ||
      !byseq.get(d.seq).change.includes(String(d.to)));
    ok(rows.length === tl.decisions.length && wrong.length === 0, 'every decision is listed with its reason and the count it set', wrong.slice(0, 3));
    ok(tl.decisions.some((d) => d.to !== d.from), 'the controller resized the job (so the chart and the table show a change)',
      tl.decisions.map((d) => d.from + '->' + d.to).join(' '));
    const dots = await page.$$eval('#replicas-chart circle', (c) => c.length);
    ok(dots === tl.decisions.length, 'the replicas chart marks each decision', { dots });
    const track = await field(page, 'track');
    ok(track === (fin.deadline_met === false || fin.on_track === false ? 'deadline missed' : 'deadline met'),
      `a finished job says whether its deadline was met ("${track}")`, { on_track: fin.on_track, deadline_met: fin.deadline_met });
    await page.screenshot({ path: path.join(OUT, 'job-completed.png'), fullPage: true });
    // The README's picture (doc/img/dashboard.png): the cards and both charts.
    await page.evaluate(() => { document.activeElement.blur(); window.scrollTo(0, 0); });
    await page.screenshot({ path: path.join(OUT, 'dashboard.png'), fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: 1230 } });

    // -- failures and dead letters ---------------------------------------------
    await page.goto(URL_ + '/#/jobs/' + JOB_FAIL);
    await page.waitForFunction(() => {
      const e = document.querySelector('#job [data-field="state"]');
      return e && e.textContent === 'failed';
    }, null, { timeout: 60000 });
    await page.waitForSelector('#dead-table tbody tr');
    const jf = await api('/v1/jobs/' + JOB_FAIL);
    const dead = (await api('/v1/jobs/' + JOB_FAIL + '/dead_letters')).dead_letters;
    const deadShown = await page.$$eval('#dead-table tbody tr', (rs) => rs.map((r) => ({
      item: r.querySelector('[data-field="item"]').textContent, error: r.querySelector('[data-field="error"]').textContent,
    })));
    ok(Number(await field(page, 'items.failed')) === jf.items.failed && jf.items.failed > 0,
      `a failed job shows its ${jf.items.failed} failed items`);
    ok(deadShown.length === dead.length && dead.every((d) => deadShown.some((s) => s.item === d.item && s.error === d.error)),
      'and each dead letter with its error, as the API lists them', { deadShown, dead });
    await axe(page, 'a failed job with dead letters');
    await page.screenshot({ path: path.join(OUT, 'job-failed.png'), fullPage: true });

    // -- a confidential job -------------------------------------------------------
    // A real one: its owners' policy on coffer up's coordinator (sim),
    // followed until its items are done and the manager closes it there.
    await page.goto(URL_ + '/#/jobs/' + JOB_TEE);
    await page.waitForSelector('#conf:not([hidden]) [data-field="conf.backend"]');
    await page.waitForFunction(() => {
      const e = document.querySelector('#conf [data-field="conf.job"]');
      return e && /stage: close/.test(e.textContent);
    }, null, { timeout: 90000 });
    const jt0 = await api('/v1/jobs/' + JOB_TEE);
    await sleep(1200); // one poll
    const confText = await page.textContent('#conf');
    const conf = {
      backend: await field(page, 'conf.backend'), coordinator: await field(page, 'conf.coordinator'),
      policy: await field(page, 'conf.policy'), job: await field(page, 'conf.job'),
      receipt: await field(page, 'conf.receipt'),
    };
    const jt = await api('/v1/jobs/' + JOB_TEE);
    const cf = jt.confidential || {};
    // Closed at the coordinator (outcome) between the two reads, or not.
    const receiptOk = [jt0.confidential, cf].some((c) => (c.outcome
      ? conf.receipt.startsWith('the coordinator closed the job: ' + c.outcome) : conf.receipt === 'not closed yet'));
    ok(conf.backend.startsWith(jt.spec.tee.backend) && jt.spec.tee.backend === 'sim' && /INSECURE/.test(conf.backend) &&
      conf.coordinator === cf.coordinator, 'a confidential job shows its backend, sim labelled INSECURE, and its coordinator, as the API does',
    { conf, tee: jt.spec.tee, coordinator: cf.coordinator });
    ok(/As reported by the \(untrusted\) manager/.test(confText) && confText.includes('coffer coordinator verify ' + cf.coordinator),
      'labelled as reported by the untrusted manager, with the command that verifies the coordinator');
    ok(conf.policy === POLICY && cf.policy === POLICY && conf.job === cf.job + ' (stage: close)' && cf.stage === 'close' &&
      receiptOk && confText.includes('coffer policy show ' + POLICY) &&
      confText.includes('coffer receipt fetch ' + cf.job) && confText.includes('coffer receipt verify'),
    `policy, the coordinator's job, its stage and the receipt's status ("${conf.receipt}") are the API's, each with the coffer command that checks it`,
    { conf, api: cf });

    // The policy's approvals: as the API relays them, and as the command the
    // page shows (run here, as an owner would) reports them; then an owner
    // revokes its approval and the page shows it without a reload.
    const shownApprovals = () => page.$eval('#conf [data-field="conf.approvals"]', (e) => ({
      summary: (e.querySelector('[data-field="conf.approvals.summary"]') || {}).textContent || '',
      text: e.textContent,
      owners: [...e.querySelectorAll('li[data-owner]')].map((li) => ({
        fp: li.dataset.owner, approval: li.dataset.approval, text: li.textContent })),
    }));
    const statusCmd = await page.$eval('#conf [data-field="conf.approvals"] + .cmd code', (e) => e.textContent);
    const args = statusCmd.split(' ');
    // `coffer policy status HASH --coordinator URL`: state and the owners of
    // each list, as "name fingerprint-prefix".
    const coffer = () => {
      const out = execFileSync('coffer', args.slice(1), { encoding: 'utf8', timeout: 20000 });
      const lists = {};
      for (const line of out.split('\n')) {
        const m = /^(approved by|missing|revoked by)\s+(.*)$/.exec(line);
        if (m) lists[m[1]] = m[2].split(',').map((x) => x.trim().split(' ').pop());
      }
      const has = (k, fp) => (lists[k] || []).some((p) => fp.startsWith(p));
      return { state: (/^state\s+([a-z-]+)/m.exec(out) || [])[1], out,
        approval: (fp) => (has('revoked by', fp) ? 'revoked' : has('approved by', fp) ? 'approved' : 'missing') };
    };
    const sameAsCli = (shown, cli) => shown.owners.length === 3 && shown.owners.every((o) => o.approval === cli.approval(o.fp)) &&
      shown.summary.includes('policy ' + cli.state + ',');
    await page.waitForSelector('#conf [data-field="conf.approvals"] li[data-owner]');
    const ap0 = await shownApprovals();
    const apApi = (await api('/v1/jobs/' + JOB_TEE)).confidential.approvals;
    ok(apApi && Array.isArray(apApi.owners) && ap0.owners.length === apApi.owners.length &&
      apApi.owners.every((o) => ap0.owners.some((x) => x.fp === o.fingerprint && x.approval === o.approval && x.text.startsWith(o.name + ' '))) &&
      ap0.summary.startsWith(apApi.owners.filter((o) => o.approval === 'approved').length + ' of ' + apApi.owners.length + ' owners approved') &&
      /as reported by the manager \(untrusted\)/.test(ap0.text) &&
      statusCmd === 'coffer policy status ' + POLICY + ' --coordinator ' + cf.coordinator,
    `the approvals are the API's ("${ap0.summary}"), labelled as reported by the untrusted manager, with the command that checks them`,
    { ap0, apApi, statusCmd });
    const cli0 = coffer();
    ok(sameAsCli(ap0, cli0) && ap0.owners.every((o) => o.approval === 'approved'),
      `and what \`${args.slice(0, 3).join(' ')} ...\` reports: every owner approved, the policy ${cli0.state}`, { ap0, out: cli0.out });
    execFileSync('coffer', ['policy', 'revoke', POLICY, '--id', OWNER_ID], { stdio: 'ignore', timeout: 20000 });
    await page.waitForFunction(() => document.querySelector('#conf li[data-approval="revoked"]'), null, { timeout: 30000 });
    const ap1 = await shownApprovals();
    const cli1 = coffer();
    ok(sameAsCli(ap1, cli1) && cli1.state === 'revoked' && ap1.owners.filter((o) => o.approval === 'revoked').length === 1 &&
      ap1.summary.startsWith('2 of 3 owners approved, 1 revoked'),
    `an owner's revocation shows without a reload ("${ap1.summary}"), as \`coffer policy status\` reports it`, { ap1, out: cli1.out });
    await axe(page, 'a confidential job');
    await page.screenshot({ path: path.join(OUT, 'job-confidential.png'), fullPage: true });

    // -- where the token went, and what never reached the page -----------------
    const apiReqs = requests.filter((r) => /\/(v1|submissions)\//.test(new URL(r.url).pathname) || new URL(r.url).pathname === '/v1/jobs');
    const badAuth = apiReqs.filter((r) => r.auth !== 'Bearer ' + READ && r.auth !== 'Bearer cft_not-a-real-token');
    // The job page polls the light form; the spec is read once per visit.
    const jobGets = apiReqs.filter((r) => new URL(r.url).pathname === '/v1/jobs/' + JOB);
    const lightGets = jobGets.filter((r) => new URL(r.url).searchParams.get('view') === 'status');
    ok(lightGets.length > 5 && jobGets.length - lightGets.length <= 5,
      `the job page polled GET /v1/jobs/{id}?view=status (${lightGets.length} of ${jobGets.length} reads)`,
      jobGets.slice(0, 5).map((r) => r.url));
    ok(apiReqs.length > 10 && badAuth.length === 0, `all ${apiReqs.length} API requests carried the token in the Authorization header`, badAuth.slice(0, 3));
    const inUrl = requests.filter((r) => SECRETS.some((s) => r.url.includes(s)) || /cft_/.test(r.url));
    const foreign = requests.filter((r) => new URL(r.url).origin !== new URL(URL_).origin);
    ok(inUrl.length === 0 && foreign.length === 0, 'no token in any URL, and no request leaves the manager\'s origin', { inUrl, foreign });
    const staticAuth = requests.filter((r) => /\/ui\/|\/$/.test(new URL(r.url).pathname) && r.auth);
    ok(staticAuth.length === 0, 'the page\'s own files are fetched without the token');
    const pages = [];
    for (const id of [JOB, JOB_FAIL, JOB_TEE]) {
      await page.goto(URL_ + '/#/jobs/' + id);
      await page.waitForSelector('#job:not([hidden]) [data-field="items.done"]');
      await sleep(300);
      pages.push(await page.evaluate(() => document.documentElement.outerHTML + document.body.innerText));
    }
    await page.goto(URL_ + '/#/');
    await page.waitForSelector(`#jobs-table tr[data-job="${JOB}"]`);
    pages.push(await page.evaluate(() => document.documentElement.outerHTML + document.body.innerText));
    const leaked = SECRETS.filter((s) => pages.some((p) => p.includes(s)));
    ok(leaked.length === 0, `no secret reaches the page (${SECRETS.length} checked: env values, a Redis password and a token in a job's name, the tokens)`,
      leaked.map((s) => s.slice(0, 6) + '...'));
    ok(/redis:\/\/\*\*\*@/.test(pages[pages.length - 1]) && /cft_\*\*\*/.test(pages[pages.length - 1]),
      'the job name is shown with its Redis password and token masked');

    // Forget: the token leaves sessionStorage and the page asks again.
    await page.focus('#forget');
    await page.keyboard.press('Enter');
    ok(await page.isVisible('#login') && (await page.evaluate(() => sessionStorage.length)) === 0,
      '"Forget token" clears it and asks again');
    ok(problems.length === 0, 'no script error, console error or CSP violation', problems.slice(0, 5));
  } catch (e) {
    ok(false, 'the browser test ran to its end', e.stack);
  } finally {
    await browser.close();
  }
  if (n !== PLAN) diag(`ran ${n} of ${PLAN} planned tests`);
  process.exit(failed > 0 || n !== PLAN ? 1 : 0);
})();
