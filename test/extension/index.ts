// The extension-host test entry (the VS Code test API contract: `run(): Promise<void>`).
// Loaded by the extension host of a real VS Code (code-server via scripts/test-extension.mjs,
// or desktop VS Code via scripts/test-electron.mjs); runs every *.test.js beside it (but not
// the plain-Node unit/ folder) with mocha, reports each test on the console (which the harness
// relays), and writes the counts to the file named by DOCKER_STABILITY_TEST_SUMMARY so that
// `npm test` can add them up.
import Mocha from 'mocha';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { format } from 'node:util';

export const summaryEnv = 'DOCKER_STABILITY_TEST_SUMMARY';
export const grepEnv = 'DOCKER_STABILITY_TEST_GREP';
/** Starts every line of test output, so the harness can tell it from the workbench's own logging. */
export const outputMark = '[docker-stability-test] ';

function log(...args: unknown[]): void {
  console.log(outputMark + format(...args));
}

export interface Summary {
  passed: number;
  failed: number;
}

const repoRoot = resolve(__dirname, '../../..');

/**
 * Plain-Node unit tests of `src/extension` modules: they need no host and run with the core
 * suite (scripts/test.mjs, `npm run test:engine-free`), not here.
 */
const plainNodeDir = join(__dirname, 'unit');

/** The compiled tests under `dir`, less those whose source was deleted (tsc leaves them in out/). */
function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (path === plainNodeDir) continue;
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.js')) {
      const source = join(repoRoot, relative(join(repoRoot, 'out'), path)).replace(/\.js$/, '.ts');
      if (existsSync(source)) found.push(path);
      else
        log(
          `skipping ${relative(repoRoot, path)}: its source ${relative(repoRoot, source)} no longer exists`,
        );
    }
  }
  return found;
}

export async function run(): Promise<void> {
  Mocha.reporters.Base.consoleLog = log;
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false,
    timeout: 60_000,
    grep: process.env[grepEnv] || undefined,
  });
  const files = findTests(__dirname);
  if (files.length === 0) throw new Error(`no *.test.js under ${__dirname}`);
  for (const file of files) mocha.addFile(file);
  await mocha.loadFilesAsync();

  const summary: Summary = { passed: 0, failed: 0 };
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', () => summary.passed++);
    runner.on('fail', () => summary.failed++);
  });
  const summaryFile = process.env[summaryEnv];
  if (summaryFile) writeFileSync(summaryFile, JSON.stringify(summary));
  log(`extension-host tests: ${summary.passed} passed, ${summary.failed} failed`);
  if (summary.failed > 0 || summary.passed === 0) {
    throw new Error(`${summary.failed} of ${summary.passed + summary.failed} extension-host tests failed`);
  }
}
