// `npm run package`: the production .vsix with @vscode/vsce (which runs vscode:prepublish, the
// minified build), then a check of what it ships: dist/ bundles, icon and the manifest files
// only, extension bundle under 1 MB, .vsix under 2 MB. Prints the path of the .vsix last.
// Usage: node scripts/package.mjs [--out FILE]
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkVsix, listZip } from './lib/vsix.mjs';

const repoRoot = resolve(import.meta.dirname, '..');
const { name, version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const { values: opts } = parseArgs({
  options: { out: { type: 'string', default: join(repoRoot, `${name}-${version}.vsix`) } },
});
const out = resolve(opts.out);

// --no-dependencies: the bundles are self-contained, node_modules must not ship. stdin is
// closed so that a vsce question (a missing field) fails the run instead of hanging it.
const r = spawnSync(
  join(repoRoot, 'node_modules/.bin/vsce'),
  ['package', '--no-dependencies', '--out', out],
  {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
if (r.status !== 0) {
  console.error(`package: vsce failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}

const entries = listZip(out);
const vsixSize = statSync(out).size;
console.log('\npackage: contents');
for (const e of entries) console.log(`  ${String(e.size).padStart(9)}  ${e.name}`);
console.log(`  ${String(vsixSize).padStart(9)}  (the .vsix, compressed)`);
const problems = checkVsix(entries, { vsixSize });
if (problems.length) {
  for (const p of problems) console.error(`package: ${p}`);
  process.exit(1);
}
console.log(out);
