// `npm run bench -- extension`: the extension's own cost (bundle, activation, memory,
// dashboard), measured in a real VS Code in a browser by scripts/bench-extension.mjs, which
// needs code-server and Chromium (scripts/install-code-server.sh) and so runs as its own process.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../..');
const r = spawnSync(
  process.execPath,
  [join(repoRoot, 'scripts/bench-extension.mjs'), ...process.argv.slice(2)],
  { cwd: repoRoot, stdio: 'inherit' },
);
process.exit(r.status ?? 1);
