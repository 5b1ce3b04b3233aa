// The test command: starts a local Docker engine if none answers, then runs every suite
// (plain-Node unit and Docker tests, then extension-host tests where available) and ends
// with one line "N passed, N failed" over all of them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scratch = mkdtempSync(join(tmpdir(), 'dstab-test-'));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

if (!process.env.DOCKER_STABILITY_SKIP_ENGINE_SETUP) {
  if (run('bash', ['scripts/setup-docker.sh']) !== 0) {
    console.error('test: could not start a Docker engine');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const suites = [
  {
    name: 'core',
    cmd: 'node',
    args: ['scripts/run-mocha.mjs', '--suite', 'core'],
  },
];
if (existsSync('scripts/test-extension.mjs') && !process.env.DOCKER_STABILITY_SKIP_EXTENSION_TESTS) {
  suites.push({ name: 'extension-host', cmd: 'node', args: ['scripts/test-extension.mjs'] });
}
// Last: it packages the .vsix (a production build of dist/) and drives it in a browser; its
// screenshots go to test-results/ here (`npm run test:e2e` refreshes docs/images/).
if (existsSync('scripts/test-e2e.mjs') && !process.env.DOCKER_STABILITY_SKIP_E2E_TESTS) {
  suites.push({
    name: 'browser-e2e',
    cmd: 'node',
    args: ['scripts/test-e2e.mjs', '--images', 'test-results/e2e'],
  });
}

let passed = 0;
let failed = 0;
for (const s of suites) {
  const summary = join(scratch, `${s.name}.json`);
  console.log(`\n=== ${s.name} tests ===`);
  const code = run(s.cmd, [...s.args, '--summary-file', summary]);
  let counts = { passed: 0, failed: 0 };
  try {
    counts = JSON.parse(readFileSync(summary, 'utf8'));
  } catch {
    console.error(`test: suite ${s.name} wrote no summary (exit ${code})`);
  }
  passed += counts.passed;
  failed += counts.failed;
  if (code !== 0 && counts.failed === 0) failed += 1;
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
