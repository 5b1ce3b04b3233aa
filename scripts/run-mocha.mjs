// Runs mocha over compiled test folders and ends with the line CI reads: "N passed, N failed".
// Usage: node scripts/run-mocha.mjs <dir or file...> [--exclude name]... [--engine-free]
// [--suite core|engine-free] [--summary-file F] [--grep G]
// Folders named in --exclude (e.g. extension, e2e: they run in their own hosts) are skipped below
// the folders given (a folder given is searched even if its name is excluded), and so are test
// files named there. --engine-free skips the files that need a Docker engine (*.engine.test.js).
// --suite names one of the sets below, so that npm test, the npm scripts and CI agree on them.
import Mocha from 'mocha';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * core: every plain-Node test (test/extension runs in a VS Code extension host and test/e2e in a
 * browser, each by its own script; test/extension/unit is plain Node). engine-free: those of them
 * that need no Docker engine, less the packaging tests (a production build and npm installs).
 */
const SUITES = {
  core: ['out/test', 'out/test/extension/unit', ...excluding('extension', 'e2e', 'helpers', 'fixtures')],
  'engine-free': [
    'out/test',
    'out/test/extension/unit',
    ...excluding('extension', 'e2e', 'packaging', 'helpers', 'fixtures'),
    '--engine-free',
  ],
};
function excluding(...names) {
  return names.flatMap((n) => ['--exclude', n]);
}

const args = process.argv.slice(2);
const dirs = [];
let summaryFile;
let grep;
let engineFree = false;
const exclude = new Set();
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--summary-file') summaryFile = args[++i];
  else if (args[i] === '--engine-free') engineFree = true;
  else if (args[i] === '--suite') {
    const suite = SUITES[args[++i]];
    if (!suite) {
      console.error(`run-mocha: --suite is one of ${Object.keys(SUITES).join(', ')}, got "${args[i]}"`);
      process.exit(64);
    }
    args.splice(i + 1, 0, ...suite);
  } else if (args[i] === '--grep') grep = args[++i];
  else if (args[i] === '--exclude') exclude.add(args[++i]);
  else dirs.push(args[i]);
}

function findTests(dir) {
  let out = [];
  let entries;
  try {
    if (statSync(dir).isFile()) return [resolve(dir)];
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!exclude.has(name)) out = out.concat(findTests(p));
    } else if (name.endsWith('.test.js') && !exclude.has(name)) {
      if (!(engineFree && name.endsWith('.engine.test.js'))) out.push(resolve(p));
    }
  }
  return out;
}

const mocha = new Mocha({ timeout: 60_000, reporter: 'spec', grep });
const files = dirs.flatMap(findTests);
for (const f of files) mocha.addFile(f);
if (files.length === 0) {
  console.error(`run-mocha: no *.test.js under ${dirs.join(', ')}`);
  process.exit(1);
}

await mocha.loadFilesAsync();
const runner = mocha.run();
let passed = 0;
let failed = 0;
runner.on('pass', () => passed++);
runner.on('fail', () => failed++);
runner.on('end', () => {
  if (summaryFile) writeFileSync(summaryFile, JSON.stringify({ passed, failed }));
  else console.log(`\n${passed} passed, ${failed} failed`);
  // Open handles (a dockerode agent, a timer a failed test left) must not keep CI waiting.
  setTimeout(() => process.exit(failed > 0 || passed === 0 ? 1 : 0), 100);
});
