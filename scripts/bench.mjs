// Runs the compiled benchmarks: `npm run bench` runs all, `npm run bench -- monitor lock` some.
// Each bench/<name>.bench.ts prints a Markdown section for BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
const all = readdirSync('out/bench')
  .filter((f) => f.endsWith('.bench.js'))
  .sort();
const chosen = wanted.length ? all.filter((f) => wanted.some((w) => f.startsWith(`${w}.`))) : all;
if (chosen.length === 0) {
  console.error(`bench: nothing matches ${wanted.join(', ')} (have ${all.join(', ')})`);
  process.exit(1);
}
spawnSync('bash', ['scripts/setup-docker.sh'], { stdio: 'inherit' });
let failed = 0;
for (const f of chosen) {
  console.log(`\n<!-- ${f} -->`);
  const r = spawnSync('node', [`out/bench/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
