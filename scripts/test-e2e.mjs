// Browser end-to-end checks of the PACKAGED extension (issue 8): builds the .vsix with
// scripts/package.mjs (unless --vsix names one), then runs test/e2e/*.e2e.test.mjs with mocha;
// those install it into a scratch code-server and drive Debian's Chromium against the real
// engine. Screenshots land in docs/images/ (or --images). Writes {passed, failed} to --summary-file.
// Usage: node scripts/test-e2e.mjs [--vsix FILE] [--images DIR] [--summary-file F] [--grep G] [--timeout SECONDS]
import Mocha from 'mocha';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import { packageVsix } from './lib/vsix.mjs';

const repoRoot = resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: {
    vsix: { type: 'string' },
    images: { type: 'string', default: 'docs/images' },
    'summary-file': { type: 'string' },
    grep: { type: 'string' },
    timeout: { type: 'string', default: '900' },
  },
});

function finish(summary) {
  if (opts['summary-file']) writeFileSync(opts['summary-file'], JSON.stringify(summary));
  else console.log(`\n${summary.passed} passed, ${summary.failed} failed`);
  process.exit(summary.failed > 0 || summary.passed === 0 ? 1 : 0);
}

const vsix = opts.vsix ? resolve(opts.vsix) : packageVsix();
if (!vsix) {
  console.error('test-e2e: packaging failed');
  finish({ passed: 0, failed: 1 });
}
process.env.DOCKER_STABILITY_E2E_VSIX = vsix;
process.env.DOCKER_STABILITY_E2E_IMAGES = resolve(opts.images);
console.log(`test-e2e: testing ${vsix}`);

const mocha = new Mocha({ timeout: 120_000, reporter: 'spec', grep: opts.grep });
const dir = join(repoRoot, 'test/e2e');
for (const f of readdirSync(dir)
  .filter((n) => n.endsWith('.e2e.test.mjs'))
  .sort())
  mocha.addFile(join(dir, f));
await mocha.loadFilesAsync();

const summary = { passed: 0, failed: 0 };
// The session's after() hook kills code-server and the browser; this is the last resort.
const hard = setTimeout(
  () => {
    console.error(`test-e2e: no result after ${opts.timeout} s, giving up`);
    finish({ passed: summary.passed, failed: summary.failed + 1 });
  },
  Number(opts.timeout) * 1000,
);
hard.unref();
const runner = mocha.run(() => finish(summary));
runner.on('pass', () => summary.passed++);
runner.on('fail', () => summary.failed++);
