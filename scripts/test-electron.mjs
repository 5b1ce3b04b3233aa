// The same extension-host suite as scripts/test-extension.mjs, in desktop VS Code through
// @vscode/test-electron 2.x (downloads VS Code into .vscode-test/ on first use, so it needs a
// machine with internet access; CI here uses the code-server route instead).
// Usage: node scripts/test-electron.mjs [--summary-file F] [--grep G] [--vscode-version V]
import { runTests } from '@vscode/test-electron';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    'summary-file': { type: 'string' },
    grep: { type: 'string' },
    'vscode-version': { type: 'string', default: '1.100.3' },
  },
});

const repoRoot = resolve(import.meta.dirname, '..');
const testsEntry = join(repoRoot, 'out/test/extension/index.js');
if (!existsSync(testsEntry) || !existsSync(join(repoRoot, 'dist/extension.js'))) {
  console.error('test-electron: run npm run prepare-tests first');
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'dstab-electron-'));
const workspace = join(scratch, 'workspace');
const stateHome = join(scratch, 'docker-stability-home');
for (const d of [workspace, stateHome]) mkdirSync(d, { recursive: true });
const inHostSummary = join(scratch, 'summary.json');

let code = 1;
try {
  code = await runTests({
    version: opts['vscode-version'],
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: testsEntry,
    launchArgs: [
      workspace,
      '--disable-extensions',
      '--disable-workspace-trust',
      '--user-data-dir',
      join(scratch, 'user-data'),
    ],
    extensionTestsEnv: {
      DOCKER_STABILITY_HOME: stateHome,
      DOCKER_STABILITY_TEST_SUMMARY: inHostSummary,
      ...(opts.grep ? { DOCKER_STABILITY_TEST_GREP: opts.grep } : {}),
    },
  });
} catch (err) {
  console.error(`test-electron: ${err instanceof Error ? err.message : err}`);
}

let summary = { passed: 0, failed: 1 };
try {
  summary = JSON.parse(readFileSync(inHostSummary, 'utf8'));
} catch {
  console.error(
    'test-electron: the extension host wrote no summary (VS Code did not start or the runner crashed)',
  );
}
rmSync(scratch, { recursive: true, force: true });
if (opts['summary-file']) writeFileSync(opts['summary-file'], JSON.stringify(summary));
else console.log(`\n${summary.passed} passed, ${summary.failed} failed`);
process.exit(code === 0 && summary.failed === 0 && summary.passed > 0 ? 0 : 1);
