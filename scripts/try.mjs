// `npm run try`: the extension without a desktop VS Code. Packages the .vsix, installs it into
// a scratch code-server 4.100.3 (VS Code 1.100.3 in the browser) and serves it on 127.0.0.1
// until Ctrl-C, which stops everything and removes the scratch folder. The extension watches
// the same daemon and keeps its state where the CLI does.
// Usage: npm run try [-- --port 8080] [--folder DIR] [--vsix FILE]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { codeServerCli, ensureTools, killGroup, scratchLayout, startCodeServer } from './lib/codeServer.mjs';
import { packageVsix } from './lib/vsix.mjs';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    folder: { type: 'string', default: process.cwd() },
    vsix: { type: 'string' },
  },
});
const port = Number(opts.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`try: --port must be a TCP port, got "${opts.port}"`);
  process.exit(64);
}

const tools = ensureTools();
const vsix = opts.vsix ? resolve(opts.vsix) : packageVsix();
if (!vsix) process.exit(1);

const scratch = mkdtempSync(join(tmpdir(), 'dstab-try-'));
const dirs = { ...scratchLayout(scratch), workspace: resolve(opts.folder) };
codeServerCli(tools, dirs, ['--install-extension', vsix, '--force']);
// The user's own state folder (history, locks), not the scratch one the tests use.
const server = await startCodeServer({
  tools,
  dirs,
  port,
  env: { DOCKER_STABILITY_HOME: process.env.DOCKER_STABILITY_HOME },
});
const stop = () => {
  killGroup(server.pid);
  rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
console.log(`\nDocker Stability ${vsix.split('/').pop()} is running in VS Code (code-server 4.100.3):`);
console.log(`  open ${server.url}?folder=${encodeURIComponent(dirs.workspace)}`);
console.log('  (status bar, bottom left; F1 > "Docker Stability: Open Dashboard"). Ctrl-C stops it.');
