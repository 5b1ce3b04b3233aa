// The extension's own cost (issue 8), measured on the PACKAGED .vsix in code-server 4.100.3 +
// Debian Chromium against the real engine, with a 1000-sample history in place:
// - bundle and .vsix size (from the package);
// - activation time as VS Code itself reports it (Developer: Show Running Extensions: loading
//   dist/extension.js plus the synchronous activate call), and the time until the extension
//   is ready (its main bundle loaded and wired), from its own log line;
// - extension host memory added: RSS of the extension host process with the extension
//   installed minus without it, same workbench, same settings;
// - dashboard time to first chart: from the status bar click until all five canvases have
//   drawn their data line (1000 samples each);
// - one live update: script time the webview spends on one `sample` message (its handling and
//   the frames that draw it), over 20 live samples: the longest of those frames and the total.
// Prints a Markdown section for BENCHMARKS.md. Usage: node scripts/bench-extension.mjs [--vsix F]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  codeServerCli,
  ensureTools,
  killGroup,
  launchBrowser,
  loadPlaywright,
  repoRoot,
  scratchLayout,
  startCodeServer,
} from './lib/codeServer.mjs';
import { extensionBundles, listZip, packageVsix } from './lib/vsix.mjs';
import { countLinePixels, linePixels } from '../test/e2e/session.mjs';

// --dashboard-only: just the dashboard figures (no RSS baseline, no reloads), e.g. to compare
// two builds (--vsix) in one sitting. --webview DIR (repeatable): only the webview bundle in
// DIR (main.js, main.css), see webviewOnly() below.
const { values: opts } = parseArgs({
  options: {
    vsix: { type: 'string' },
    'dashboard-only': { type: 'boolean' },
    webview: { type: 'string', multiple: true },
  },
});
const dashboardOnly = opts['dashboard-only'] === true;
const ENDPOINT = 'unix:///var/run/docker.sock';
const HISTORY = 1000;
const SPACING_MS = 900;
const RELOADS = opts['dashboard-only'] ? 0 : 6;
const OPENINGS = 3;

/**
 * 1000 plausible samples ending `now`, 0.9 s apart: all of them in the dashboard's default
 * range (15 minutes), so an opening draws the whole history.
 */
function historySamples(now = Date.now()) {
  const levels = (p) => (p >= 90 ? 'EMERGENCY' : p >= 75 ? 'CRITICAL' : p >= 50 ? 'WARNING' : 'SAFE');
  const fig = (used, capacity) => {
    const percent = Math.round((used / capacity) * 10_000) / 100;
    return { used, capacity, percent, level: levels(percent) };
  };
  const samples = [];
  for (let i = 0; i < HISTORY; i++) {
    const wave = Math.sin(i / 40);
    const resources = {
      memory: fig(Math.round((6 + 3 * wave) * 2 ** 30), 24 * 2 ** 30),
      cpu: fig(Math.round(60 + 40 * wave), 200),
      containers: fig(20 + Math.round(10 * wave), 100),
      networks: fig(5, 31),
      volumes: fig(12, 200),
    };
    const worst = ['EMERGENCY', 'CRITICAL', 'WARNING', 'SAFE'].find((l) =>
      Object.values(resources).some((r) => r.level === l),
    );
    samples.push({
      endpoint: ENDPOINT,
      sampledAt: new Date(now - (HISTORY - i) * SPACING_MS).toISOString(),
      level: worst,
      resources,
      running: 10,
      source: { cgroup: 10, api: 0, failed: 0 },
      durationMs: 12,
      // what the diagnosis charts draw: per-owner memory, top consumers, the disk figure
      owners: ['api-test', 'shop-test', 'web'].map((id, k) => ({
        owner: { kind: 'compose', id },
        containers: 3,
        memoryBytes: Math.round((1 + k + wave) * 2 ** 30),
        cpuPercent: 10 + k,
      })),
      consumers: [0, 1, 2, 3, 4].map((k) => ({
        id: `c0000000000${k}`,
        name: `svc-${k}`,
        owner: { kind: 'compose', id: 'shop-test' },
        memoryBytes: (5 - k) * 2 ** 28,
        cpuPercent: k * 3,
      })),
      disk: {
        ...fig(Math.round((40 + i / 100) * 2 ** 30), 100 * 2 ** 30),
        source: 'statfs',
        measuredAt: new Date(now - (HISTORY - i) * SPACING_MS).toISOString(),
        breakdown: {
          images: 20 * 2 ** 30,
          buildCache: 5 * 2 ** 30,
          volumes: 8 * 2 ** 30,
          containers: 2 ** 30,
        },
      },
    });
  }
  return samples;
}

/** The samples, in the history file the extension reads at start. */
function seedHistory(stateHome) {
  const lines = historySamples().map((x) => JSON.stringify(x));
  const dir = join(stateHome, 'history');
  mkdirSync(dir, { recursive: true });
  const id = createHash('sha256').update(ENDPOINT).digest('hex').slice(0, 12);
  writeFileSync(join(dir, `${id}.jsonl`), lines.join('\n') + '\n');
}

/** RSS in KiB of the extension host process of a code-server process group. */
function extensionHostRss(pgid) {
  const out = execFileSync('ps', ['-o', 'pid=,rss=,args=', '-g', String(pgid)], { encoding: 'utf8' });
  const row = out.split('\n').find((l) => /extensionHost/.test(l) && !/ptyHost|fileWatcher/.test(l));
  if (!row) throw new Error(`no extension host process in group ${pgid}:\n${out}`);
  return Number(row.trim().split(/\s+/)[1]);
}

/**
 * A control for VS Code's activation figure: an extension that does nothing (an empty
 * activate), on the same activation event. What VS Code reports for it is the part of the
 * figure no extension can avoid in that window; ours is read against it.
 */
function controlVsix() {
  const dir = mkdtempSync(join(tmpdir(), 'dstab-control-'));
  const { engines } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const manifest = {
    name: 'activation-control',
    displayName: 'Activation Control',
    description: 'An extension that does nothing, to read VS Code activation figures against.',
    publisher: 'docker-stability-bench',
    version: '0.0.1',
    license: 'MIT',
    engines,
    activationEvents: ['onStartupFinished'],
    main: './extension.js',
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'extension.js'), 'exports.activate = function () {};\n');
  writeFileSync(join(dir, 'README.md'), '# Activation Control\n\nAn empty extension for benchmarks.\n');
  writeFileSync(join(dir, 'LICENSE'), 'MIT\n');
  const out = join(dir, 'control.vsix');
  const r = spawnSync(
    join(repoRoot, 'node_modules/.bin/vsce'),
    ['package', '--allow-missing-repository', '--out', out],
    { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.status !== 0) throw new Error(`packaging the control extension failed:\n${r.stdout}\n${r.stderr}`);
  return out;
}

/** A code-server window with the given .vsix files installed (none: the baseline). */
async function session(tools, extensions, measure) {
  const scratch = mkdtempSync(join(tmpdir(), 'dstab-bench-'));
  const dirs = scratchLayout(scratch, {
    'dockerStability.sampleIntervalSeconds': 1,
    'window.commandCenter': false,
  });
  seedHistory(dirs.stateHome);
  for (const e of extensions) codeServerCli(tools, dirs, ['--install-extension', e, '--force']);
  const server = await startCodeServer({ tools, dirs });
  const browser = await launchBrowser(loadPlaywright(tools), dirs);
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(90_000);
    await page.goto(`${server.url}?folder=${encodeURIComponent(dirs.workspace)}`, {
      waitUntil: 'domcontentloaded',
      timeout: 120_000,
    });
    await page.locator('.monaco-workbench').waitFor();
    await page.locator('.part.statusbar').waitFor();
    return await measure({ page, server, dirs });
  } finally {
    await browser.close().catch(() => {});
    killGroup(server.pid);
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The extension's "activated in" log lines (one per extension host) from the logs under userData. */
function activationLogLines(userData) {
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  return walk(join(userData, 'logs'))
    .filter((f) => f.endsWith('Docker Stability.log'))
    .flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.includes('activated in')),
    );
}

async function runCommand(page, title) {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input.input').fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first().click();
}

/** Rows of Developer: Show Running Extensions, as text, for each name (the editor is closed again). */
async function runningExtensionsRows(page, names) {
  await runCommand(page, 'Developer: Show Running Extensions');
  const rows = [];
  for (const name of names) {
    const row = page.locator('.runtime-extensions-editor .monaco-list-row').filter({ hasText: name }).first();
    await row.waitFor();
    // The figure appears once the extension's activation has completed.
    for (let i = 0; i < 50 && !/\d+\s*ms/.test(await row.innerText()); i++) await sleep(100);
    rows.push((await row.innerText()).replace(/\s+/g, ' '));
  }
  await page.keyboard.press('Control+W');
  return rows;
}

async function settledRss(server) {
  await sleep(15_000);
  const readings = [];
  for (let i = 0; i < 5; i++) {
    readings.push(extensionHostRss(server.pid));
    await sleep(1000);
  }
  return readings.sort((a, b) => a - b)[2];
}

/** The extension's "dashboard: opened in" log lines so far, parsed: start (Unix ms) and steps. */
function openingLines(userData) {
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  return walk(join(userData, 'logs'))
    .filter((f) => f.endsWith('Docker Stability.log'))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
    .map((l) => l.match(/dashboard: opened in .* at (\S+)\): (.*)$/))
    .filter(Boolean)
    .map(([, at, list]) => ({
      start: Date.parse(at),
      steps: Object.fromEntries(
        list
          .split(', ')
          .map((x) => x.match(/^(.*?) (-?\d+) ms$/))
          .filter(Boolean)
          .map(([, name, ms]) => [name.replace(/ of \d+ samples/, ''), Number(ms)]),
      ),
    }));
}

/**
 * One click on the status bar item to the dashboard drawn: `frameMs` from the click (this
 * process's clock) to the webview's first frame with the charts (its own mark, same clock),
 * `seenMs` until this script saw the five data lines in the canvases' pixels (polling, so later
 * by up to one poll), and the extension's marks in between.
 */
async function openDashboard(page, item, dirs, index) {
  const t0 = Date.now();
  await item.click();
  const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await frame.locator('.charts canvas').nth(4).waitFor();
  let seenMs;
  for (;;) {
    const px = await linePixels(frame, '--vscode-charts-blue');
    if (px.length === 5 && px.every((n) => n > 60)) {
      seenMs = Date.now() - t0;
      break;
    }
    if (Date.now() - t0 > 60_000) throw new Error(`charts not drawn after 60 s: ${px}`);
    await sleep(25);
  }
  for (let i = 0; i < 100; i++) {
    const line = openingLines(dirs.userData)[index];
    if (line) {
      const steps = { click: 0 };
      for (const [name, ms] of Object.entries(line.steps)) steps[name] = line.start - t0 + ms;
      steps.command = line.start - t0;
      return { seenMs, frameMs: steps['first frame drawn'], steps };
    }
    await sleep(100);
  }
  // a build from before the marks: only what this script saw
  return { seenMs, frameMs: undefined, steps: {} };
}

/**
 * Reads a live sample's figures from its "dashboard sample" measure (frame.ts): `total` its
 * script time over all the frames that drew it, `longest` the longest of those frames, `frames`
 * how many. A build from before the spreading drew a sample in one frame (its measure: handling
 * plus that frame), so there the longest frame is the total. Runs in the page.
 */
function sampleMeasures() {
  return performance.getEntriesByName('dashboard sample').map((e) => ({
    total: e.duration,
    longest: e.detail?.longestFrameMs ?? e.duration,
    frames: e.detail?.frames ?? 1,
    span: e.detail?.spanMs,
  }));
}

/**
 * One live update, as the webview measures it (sampleMeasures). A build from before those
 * entries drew synchronously: from the first (capture-phase) listener of the message to a task
 * queued behind it.
 */
async function liveUpdates(page, n = 20) {
  const body = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('body');
  await body.evaluate(() => {
    window.__sync = [];
    window.addEventListener(
      'message',
      (e) => {
        if (e.data?.type !== 'sample') return;
        const t0 = performance.now();
        setTimeout(() => window.__sync.push(performance.now() - t0), 0);
      },
      true,
    );
  });
  const read = async () => ({
    measured: await body.evaluate(sampleMeasures),
    sync: (await body.evaluate(() => window.__sync)).map((ms) => ({ total: ms, longest: ms, frames: 1 })),
  });
  const first = (await read()).measured.length;
  let r;
  for (let i = 0; i < 60; i++) {
    r = await read();
    if (r.measured.length - first >= n) return r.measured.slice(first);
    if (r.measured.length === first && r.sync.length >= n) return r.sync;
    await sleep(1000);
  }
  return r.measured.length > first ? r.measured.slice(first) : r.sync;
}

/** A line on live samples' figures: the longest frame and the total, median and p95. */
function liveSummary(updates) {
  const of = (k) => updates.map((u) => u[k]).filter((x) => x !== undefined);
  const mp = (xs) => `${median(xs).toFixed(2)} / ${p95(xs).toFixed(2)} ms`;
  const spans = of('span');
  return `live sample (median / p95 of ${updates.length}): longest frame ${mp(of('longest'))}, total ${mp(of('total'))} over ${median(of('frames'))} frames (median)${spans.length ? `, drawn ${median(spans).toFixed(0)} ms after it arrived (median)` : ''}`;
}

/** Where the time of an opening goes: consecutive steps, each said to be VS Code's or ours. */
const OPENING_STEPS = [
  ['click', 'command', "VS Code: the click reaches the extension's command"],
  ['command', 'panel created', 'VS Code: createWebviewPanel'],
  ['panel created', 'HTML set', 'ours: the HTML (CSP, nonce)'],
  ['HTML set', 'page started', "VS Code: the webview's frames made, our HTML loaded into them"],
  ['page started', 'bundle loaded', 'VS Code serves main.js (its size is ours)'],
  ['bundle loaded', 'script started', 'browser: main.js parsed and compiled (its size is ours)'],
  ['script started', 'ready sent', 'ours: the bundle sets itself up'],
  ['ready sent', 'ready received', 'VS Code: webview to extension host'],
  ['ready received', 'snapshot posted', 'ours: the snapshot built and handed to postMessage'],
  ['snapshot posted', 'received', 'VS Code: the snapshot carried to the webview (its size is ours)'],
  ['received', 'charts made', 'ours: the snapshot rendered, charts made and drawn'],
  ['charts made', 'first frame drawn', 'browser: style, layout, paint of that frame'],
];

function openingTable(openings, shown) {
  const cols = openings.map((_, i) => (i === 0 ? 'first opening' : `opening ${i + 1}`));
  if (shown) {
    openings = [...openings, shown];
    cols.push('shown again');
  }
  // A step whose start is missing (shown again: no panel made, no HTML set) counts from the
  // last mark before it.
  const last = openings.map(() => 0);
  const rows = OPENING_STEPS.map(([from, to, what]) => {
    const cells = openings.map((o, i) => {
      const a = o.steps[from] ?? last[i];
      const b = o.steps[to];
      if (b === undefined) return '?';
      last[i] = b;
      return `${Math.round(b - a)}`;
    });
    return `| ${from} → ${to} | ${what} | ${cells.join(' | ')} |`;
  });
  return [
    `| step | whose | ${cols.join(' | ')} |`,
    `| --- | --- | ${cols.map(() => '---').join(' | ')} |`,
    ...rows,
    `| **click → first frame drawn** (ms) | | ${openings.map((o) => (o.frameMs === undefined ? '?' : `**${Math.round(o.frameMs)}**`)).join(' | ')} |`,
    `| click → five data lines seen in the pixels (polled) | | ${openings.map((o) => o.seenMs).join(' | ')} |`,
  ].join('\n');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

/**
 * The webview's own work, without VS Code or the host (far less noise than the whole path):
 * the bundle in headless Chromium with a stand-in `acquireVsCodeApi`, handed the 1000-sample
 * snapshot (with owners, consumers, disk and one incident), then 30 live samples. Times the
 * snapshot's handling and until the five charts are drawn, and each live sample (sampleMeasures;
 * a bundle without them: its synchronous handling, which was all of it), each sample sent once
 * the one before is drawn and 100 ms have passed. Several bundles (say before and after) run in
 * turns, three rounds, in one sitting.
 */
async function webviewOnly(dirs) {
  const playwright = loadPlaywright(ensureTools());
  const browser = await playwright.chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const now = Date.now();
  const samples = historySamples(now);
  const snapshot = {
    samples,
    state: { status: 'up', endpoint: ENDPOINT, since: samples[0].sampledAt },
    settings: {
      thresholds: { warning: 50, critical: 75, emergency: 90 },
      intervalMs: 2000,
      historySize: HISTORY,
      memoryBudgetBytes: 2 ** 32,
    },
    locks: [],
    predictions: [],
    health: [],
    incidents: [{ at: samples[HISTORY / 2].sampledAt, kind: 'oom', title: 'OOM kill', container: 'svc-0' }],
    trusted: true,
    following: false,
  };
  const results = new Map(dirs.map((d) => [d, { snapshot: [], frame: [], updates: [], jobs: {} }]));
  try {
    for (let round = 0; round < 3; round++)
      for (const dir of dirs) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const html = `<!DOCTYPE html><html><head><link rel="stylesheet" href="main.css"></head>
<body class="vscode-light"><main id="app"></main><script>
window.acquireVsCodeApi = () => ({
  postMessage(m) { if (m.type === 'opened') window.__opened = m.marks; },
  getState: () => ({ rangeMs: null }),
  setState() {},
});
</script><script src="main.js"></script></body></html>`;
        writeFileSync(join(dir, 'bench.html'), html);
        await page.goto(`file://${join(resolve(dir), 'bench.html')}`);
        /* global window, document, performance, MessageEvent, requestAnimationFrame -- evaluated in the page */
        // Returns the synchronous handling time; then waits until the frames that draw it have
        // measured it (at most 1 s: a bundle without measures), and 100 ms more.
        const post = (data) =>
          page.evaluate((d) => {
            const count = () => performance.getEntriesByName('dashboard sample').length;
            const before = count();
            const t0 = performance.now();
            window.dispatchEvent(new MessageEvent('message', { data: d }));
            const ms = performance.now() - t0;
            return new Promise((done) => {
              const check = () =>
                count() > before || performance.now() - t0 > 1000
                  ? setTimeout(() => done(ms), 100)
                  : requestAnimationFrame(check);
              requestAnimationFrame(check);
            });
          }, data);
        const r = results.get(dir);
        // handed over first, so that what is timed is the webview's handling, not Playwright's
        await page.evaluate((snap) => (window.__snapshot = snap), snapshot);
        // The snapshot's handling, and until the five resource charts show their data line in
        // their pixels (checked after each frame): a bundle may leave drawing to a later frame
        // (an older one drew its charts again at their real size once they were attached).
        // The page has no VS Code theme: the charts draw in the #3794ff that countLinePixels falls back to.
        await page.evaluate(`window.__countLinePixels = ${countLinePixels}`);
        const [snapshotMs, frameMs] = await page.evaluate(() => {
          const lines = () => window.__countLinePixels(document.body, ['--no-theme', '.charts canvas']);
          const t0 = performance.now();
          window.dispatchEvent(
            new MessageEvent('message', { data: { type: 'snapshot', snapshot: window.__snapshot } }),
          );
          const ms = performance.now() - t0;
          return new Promise((done) => {
            const check = () =>
              setTimeout(() => {
                const px = lines();
                if ((px.length === 5 && px.every((n) => n > 60)) || performance.now() - t0 > 10_000)
                  done([ms, performance.now() - t0]);
                else requestAnimationFrame(check);
              }, 0);
            requestAnimationFrame(check);
          });
        });
        r.snapshot.push(snapshotMs);
        r.frame.push(frameMs);
        const sync = [];
        for (let i = 1; i <= 30; i++) {
          const sampledAt = new Date(now + i * 2000).toISOString();
          const last = samples[HISTORY - 1];
          const sample = { ...last, sampledAt, disk: { ...last.disk, measuredAt: sampledAt } };
          const ms = await post({ type: 'sample', sample, health: [] });
          sync.push({ total: ms, longest: ms, frames: 1 });
        }
        const measured = await page.evaluate(sampleMeasures);
        r.updates.push(...(measured.length ? measured : sync));
        // each job's time in the frames that drew live samples (a build that names them)
        const frameJobs = await page.evaluate(() =>
          performance.getEntriesByName('dashboard frame').flatMap((e) => e.detail?.jobs ?? []),
        );
        for (const [key, ms] of frameJobs) (r.jobs[key] ??= []).push(ms);
        await page.close();
        rmSync(join(dir, 'bench.html'));
      }
  } finally {
    await browser.close();
  }
  for (const [dir, r] of results)
    console.log(
      `${dir}: snapshot handled in ${median(r.snapshot).toFixed(1)} ms, all five charts drawn ${median(r.frame).toFixed(1)} ms after it arrived (medians of ${r.snapshot.length}); ${liveSummary(r.updates)}${
        Object.keys(r.jobs).length
          ? `; jobs in those frames, median / p95 ms: ${Object.entries(r.jobs)
              .map(([key, ms]) => `${key} ${median(ms).toFixed(2)} / ${p95(ms).toFixed(2)}`)
              .join(', ')}`
          : ''
      }`,
    );
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end`,
  );
}

if (opts.webview?.length) {
  await webviewOnly(opts.webview);
  process.exit(0);
}

const loadBefore = loadavg()[0];
const tools = ensureTools();
const vsix = opts.vsix ? resolve(opts.vsix) : packageVsix();
if (!vsix) throw new Error('packaging failed');
const entries = listZip(vsix);
const entryBytes = entries.find((e) => e.name === 'extension/dist/extension.js').size;
const mainBytes = entries.find((e) => e.name === 'extension/dist/extension-main.js')?.size ?? 0;
const bundleBytes = entries
  .filter((e) => extensionBundles.includes(e.name))
  .reduce((sum, e) => sum + e.size, 0);
const webviewBytes = entries.find((e) => e.name === 'extension/dist/webview/main.js').size;
const vsixBytes = statSync(vsix).size;

const baseline = dashboardOnly
  ? { rss: 0 }
  : await session(tools, [], async ({ server }) => ({ rss: await settledRss(server) }));

// The control extension is for the activation figures; the dashboard figures do without it.
const extensions = dashboardOnly ? [vsix] : [vsix, controlVsix()];
const measured = await session(tools, extensions, async ({ page, server, dirs }) => {
  const item = page
    .locator('.statusbar-item')
    .filter({ hasText: /\b(SAFE|WARNING|CRITICAL|EMERGENCY)\b/ })
    .first();
  await item.waitFor();
  const rss = dashboardOnly ? 0 : await settledRss(server);

  // Activation time as VS Code measured it, in this window and after RELOADS reloads of it
  // (each one a new extension host that activates the extension again). VS Code's figure is
  // Date.now() around an await and the require, so whatever else the extension host runs in
  // that window (built-in extensions activating at the same time) lands in it too: one
  // reading is noise, the median of several is the figure.
  const rows = [];
  const controlRows = [];
  for (let i = 0; !dashboardOnly; i++) {
    const [ours, control] = await runningExtensionsRows(page, ['Docker Stability', 'Activation Control']);
    rows.push(ours);
    controlRows.push(control);
    if (i === RELOADS) break;
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor();
    await item.waitFor();
    await sleep(3000);
  }
  const figure = (r) => Number(r.match(/(\d+)\s*ms/)?.[1]);
  const activations = rows.map(figure).filter(Number.isFinite);
  const controls = controlRows.map(figure).filter(Number.isFinite);
  const overControl = rows.map((r, i) => figure(r) - figure(controlRows[i])).filter(Number.isFinite);
  const logLines = activationLogLines(dirs.userData);
  const readies = logLines
    .map((l) => l.match(/ready (\d+) ms after activate was called \(bundle loaded in (\d+) ms\)/))
    .filter(Boolean);
  const entryLoads = logLines
    .map((l) => l.match(/VS Code loaded the entry point in (\d+) ms/))
    .filter(Boolean);

  // Dashboard: click to all five charts drawn with the 1000-sample history, OPENINGS times
  // (the editor closed in between: each opening is a new webview), with each opening's marks.
  const openings = [];
  for (let i = 0; i < OPENINGS; i++) {
    if (i > 0) {
      await runCommand(page, 'View: Close All Editors');
      await sleep(2000);
    }
    openings.push(await openDashboard(page, item, dirs, i));
  }
  const chartsRss = extensionHostRss(server.pid);
  const updates = await liveUpdates(page);
  // Shown again: another editor in front, then the click. The hidden webview is not kept
  // (no retainContextWhenHidden), so this loads it anew: what keeping it would save.
  await runCommand(page, 'File: New Untitled Text File');
  await sleep(2000);
  const shown = await openDashboard(page, item, dirs, OPENINGS);
  return {
    rss,
    chartsRss,
    activations,
    controls,
    overControl,
    activationText: rows[0],
    readies: readies.map((m) => Number(m[1])),
    mainLoads: readies.map((m) => Number(m[2])),
    entryLoads: entryLoads.map((m) => Number(m[1])),
    logLine: logLines[0],
    openings,
    shown,
    updates,
  };
});

const frames = measured.openings.map((o) => o.frameMs);
if (dashboardOnly) {
  console.log(
    `dashboard-only ${vsix} (load ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end): click to first frame drawn ${frames.map((f) => (f === undefined ? '?' : Math.round(f))).join(' / ')} ms (first / reopened), ${measured.shown.frameMs === undefined ? '?' : Math.round(measured.shown.frameMs)} ms shown again; click to the data lines seen ${measured.openings.map((o) => o.seenMs).join(' / ')} ms, ${measured.shown.seenMs} ms shown again; ${liveSummary(measured.updates)}\n`,
  );
  console.log(openingTable(measured.openings, measured.shown));
  process.exit(0);
}
const spread = (xs) => (xs.length ? `${median(xs)} ms (${Math.min(...xs)}-${Math.max(...xs)})` : '?');
const kib = (n) => `${(n / 1024).toFixed(0)} KB`;
const mib = (kb) => `${(kb / 1024).toFixed(1)} MB`;
const date = new Date().toISOString().slice(0, 10);
console.log(`## Extension

Measured ${date} by \`npm run bench -- extension\` (scripts/bench-extension.mjs) on this machine
(${cpus().length} cores, shared with other jobs: 1-minute load average ${loadBefore.toFixed(1)} at the start,
${loadavg()[0].toFixed(1)} at the end; Node ${process.version}; code-server 4.100.3 = VS Code 1.100.3;
Debian Chromium), on the packaged .vsix with a ${HISTORY}-sample history.

| figure | measured | target |
| --- | --- | --- |
| extension entry point \`dist/extension.js\` (loaded by VS Code at activation) | ${entryBytes} B | |
| extension main bundle \`dist/extension-main.js\` (loaded right after) | ${kib(mainBytes)} | |
| extension bundles together (with \`dist/docker-ssh.js\`, loaded for ssh:// only) | ${kib(bundleBytes)} | < 1 MB |
| webview bundle \`dist/webview/main.js\` (chart.js included) | ${kib(webviewBytes)} | |
| whole .vsix | ${kib(vsixBytes)} | < 2 MB |
| activation (VS Code's own figure, Running Extensions): median (min-max) of ${measured.activations.length} window loads | ${spread(measured.activations)} | < 50 ms |
| the same figure for an empty extension on the same event in the same windows (control), median (min-max) | ${spread(measured.controls)} | |
| ours minus the control, window by window, median (min-max) | ${spread(measured.overControl)} | |
| ... of which VS Code's require of \`dist/extension.js\` (its own marks), median (min-max) | ${spread(measured.entryLoads)} | |
| activate called to main bundle loaded, median (min-max) | ${spread(measured.mainLoads)} | |
| activate called to extension ready (main bundle loaded and wired), median (min-max) | ${spread(measured.readies)} | |
| extension host RSS, without / with the extension (${HISTORY} samples, monitoring) | ${mib(baseline.rss)} / ${mib(measured.rss)} | |
| extension host memory added by the extension | ${mib(measured.rss - baseline.rss)} | |
| ... with the dashboard open | ${mib(measured.chartsRss - baseline.rss)} | |
| dashboard: click to the first frame with the charts drawn (${HISTORY} samples), first opening / median of the next ${OPENINGS - 1} | ${Math.round(frames[0])} ms / ${Math.round(median(frames.slice(1)))} ms | < 300 ms |
| one live update in the webview: the longest frame's script time (median / p95 of ${measured.updates.length}) | ${median(measured.updates.map((u) => u.longest)).toFixed(2)} / ${p95(measured.updates.map((u) => u.longest)).toFixed(2)} ms | < 5 ms |
| ... and its script time over all the frames that draw it (median / p95) | ${median(measured.updates.map((u) => u.total)).toFixed(2)} / ${p95(measured.updates.map((u) => u.total)).toFixed(2)} ms | |

Running Extensions row: \`${measured.activationText.slice(0, 160)}\`

Extension log: \`${(measured.logLine ?? '(no "activated in" line found)').slice(0, 240)}\`

Where the dashboard's opening goes (ms):

${openingTable(measured.openings, measured.shown)}`);
