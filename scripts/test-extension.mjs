// Runs the extension-host tests (out/test/extension/index.js) inside a real VS Code: code-server
// 4.100.3 started in its own process group, its workbench opened in Debian's Chromium with the
// `payload` URL parameter that makes it load this working tree as the extension under
// development and run the tests file. Mocha's output is relayed from the page console; the
// counts come from the file the in-host runner writes. Always kills what it started.
// Usage: node scripts/test-extension.mjs [--summary-file F] [--grep G] [--timeout SECONDS] [--keep]
// [--verbose] (--keep leaves the scratch folder with every log; --verbose relays the whole page console)
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import {
  ensureTools,
  extensionLogs,
  killGroup,
  launchBrowser,
  loadPlaywright,
  repoRoot,
  scratchLayout,
  startCodeServer,
  tail,
  unstyleConsole,
} from './lib/codeServer.mjs';

const { values: opts } = parseArgs({
  options: {
    'summary-file': { type: 'string' },
    grep: { type: 'string' },
    timeout: { type: 'string', default: '600' },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const timeoutMs = Number(opts.timeout) * 1000;
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
  console.error(`test-extension: --timeout must be a positive number of seconds, got "${opts.timeout}"`);
  process.exit(64);
}

// Keep in step with outputMark in test/extension/index.ts.
const outputMark = '[docker-stability-test] ';
const testsEntry = join(repoRoot, 'out/test/extension/index.js');
for (const [file, how] of [
  [testsEntry, 'npm run compile-tests'],
  [join(repoRoot, 'dist/extension.js'), 'npm run build'],
]) {
  if (!existsSync(file)) {
    console.error(`test-extension: ${file} is missing: run ${how} first`);
    finish({ passed: 0, failed: 1 }, 1);
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'dstab-exthost-'));
const dirs = scratchLayout(scratch);
const inHostSummary = join(scratch, 'summary.json');
let server;
let browser;
let exitCode = 1;

function finish(summary, code) {
  if (opts['summary-file']) writeFileSync(opts['summary-file'], JSON.stringify(summary));
  else console.log(`\n${summary.passed} passed, ${summary.failed} failed`);
  process.exit(code);
}

async function cleanup() {
  clearTimeout(hardTimer);
  await browser?.close().catch(() => {});
  killGroup(server?.pid);
  if (!opts.keep) rmSync(scratch, { recursive: true, force: true });
  else console.log(`test-extension: kept ${scratch}`);
}

// The page's own console, kept to explain a run that failed before or outside the tests.
const pageConsole = [];
function printDiagnostics() {
  if (pageConsole.length)
    console.error(`\n--- browser console (last ${pageConsole.length} lines) ---\n${pageConsole.join('\n')}`);
  if (server) console.error(`\n--- code-server log (tail) ---\n${tail(server.logFile, 40)}`);
  for (const f of extensionLogs(dirs))
    console.error(`\n--- ${f.slice(dirs.userData.length + 1)} (tail) ---\n${tail(f, 40)}`);
}

// Whatever happens (a hung workbench, a test that never ends), the run ends and kills its processes.
const hardTimer = setTimeout(async () => {
  console.error(`test-extension: no result after ${opts.timeout} s, giving up`);
  printDiagnostics();
  await cleanup();
  finish(readSummary() ?? { passed: 0, failed: 1 }, 1);
}, timeoutMs);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await cleanup();
    process.exit(130);
  });
}

function readSummary() {
  try {
    return JSON.parse(readFileSync(inHostSummary, 'utf8'));
  } catch {
    return undefined;
  }
}

try {
  const tools = ensureTools();
  const playwright = loadPlaywright(tools);
  const env = { DOCKER_STABILITY_TEST_SUMMARY: inHostSummary };
  if (opts.grep) env.DOCKER_STABILITY_TEST_GREP = opts.grep;
  server = await startCodeServer({ tools, dirs, env });
  const authority = `${server.host}:${server.port}`;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${repoRoot}`],
    ['extensionTestsPath', `vscode-remote://${authority}${testsEntry}`],
  ];
  const url = `${server.url}?folder=${encodeURIComponent(dirs.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

  browser = await launchBrowser(playwright, dirs);
  const page = browser.pages()[0] ?? (await browser.newPage());
  // VS Code honours `payload` only with the smoke-test driver on; the setting lives in the
  // workbench configuration element, which must be changed before workbench.js reads it.
  /* global window, document, MutationObserver -- this function runs in the page */
  await page.addInitScript(() => {
    if (window.top !== window) return;
    const patch = (observer) => {
      const el = document.getElementById('vscode-workbench-web-configuration');
      if (!el) return;
      const settings = JSON.parse(el.getAttribute('data-settings') || '{}');
      settings.developmentOptions = { ...settings.developmentOptions, enableSmokeTestDriver: true };
      el.setAttribute('data-settings', JSON.stringify(settings));
      observer.disconnect();
    };
    new MutationObserver((_, observer) => patch(observer)).observe(document, {
      childList: true,
      subtree: true,
    });
  });
  const done = new Promise((res) => {
    page.exposeFunction('codeAutomationExit', (code) => res(Number(code))).catch(() => {});
  });
  page.on('console', async (msg) => {
    let args;
    try {
      args = await Promise.all(msg.args().map((a) => a.jsonValue()));
    } catch {
      args = [msg.text()];
    }
    const line = unstyleConsole(args);
    pageConsole.push(`[${msg.type()}] ${line}`);
    if (pageConsole.length > 40) pageConsole.shift();
    // Only the test output (see test/extension/index.ts), not the workbench's own logging.
    if (opts.verbose) console.log(`[${msg.type()}] ${line}`);
    else if (line.includes(outputMark)) console.log(line.slice(line.indexOf(outputMark) + outputMark.length));
  });
  page.on('pageerror', (err) => pageConsole.push(`[pageerror] ${err.message}`));

  console.log(`test-extension: VS Code (code-server) at ${server.url}, extension from ${repoRoot}`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
  const code = await done;
  const summary = readSummary() ?? { passed: 0, failed: 1 };
  if (!readSummary())
    console.error(
      `test-extension: the workbench exited with code ${code} and the tests wrote no summary (they did not run)`,
    );
  exitCode = code === 0 && summary.failed === 0 && summary.passed > 0 ? 0 : 1;
  if (exitCode !== 0) printDiagnostics();
  await cleanup();
  finish(summary, exitCode);
} catch (err) {
  console.error(`test-extension: ${err instanceof Error ? err.stack : err}`);
  printDiagnostics();
  await cleanup();
  finish(readSummary() ?? { passed: 0, failed: 1 }, 1);
}
