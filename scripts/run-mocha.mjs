// Runs mocha over compiled test folders and ends with the line CI reads: "N passed, N failed".
// Usage: node scripts/run-mocha.mjs <dir...> [--exclude name]... [--summary-file F] [--grep G]
// Folders named in --exclude (e.g. extension, e2e: they run in their own hosts) are skipped, and
// so are test files named there (e.g. engine.test.js, where a suite needs no engine but one file does).
import Mocha from 'mocha';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const dirs = [];
let summaryFile;
let grep;
const exclude = new Set();
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--summary-file') summaryFile = args[++i];
  else if (args[i] === '--grep') grep = args[++i];
  else if (args[i] === '--exclude') exclude.add(args[++i]);
  else dirs.push(args[i]);
}

function findTests(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!exclude.has(name)) out = out.concat(findTests(p));
    } else if (name.endsWith('.test.js') && !exclude.has(name)) out.push(resolve(p));
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
