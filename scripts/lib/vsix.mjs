// Reads the file list of a .vsix (a zip) from its central directory: enough to check what a
// package ships without an unzip tool.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Builds the .vsix with scripts/package.mjs and returns its path (the last line it prints); on
 * failure writes what it printed to stdout and returns undefined.
 */
export function packageVsix() {
  const script = join(resolve(import.meta.dirname, '../..'), 'scripts/package.mjs');
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    return undefined;
  }
  return r.stdout.trim().split('\n').pop();
}

/** [{ name, size, compressed }] for every entry of the zip file at `path`. */
export function listZip(path) {
  const buf = readFileSync(path);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${path} is not a zip file (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${path}: bad central directory entry ${n}`);
    const compressed = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    entries.push({ name: buf.toString('utf8', at + 46, at + 46 + nameLen), size, compressed });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** What the .vsix must and must not contain (issue 8: dist/ only, no sources, dev deps or tests). */
export const required = [
  'extension/package.json',
  'extension/dist/extension.js',
  'extension/dist/extension-main.js',
  'extension/dist/docker-ssh.js',
  'extension/dist/compose-worker.js',
  'extension/dist/webview/main.js',
  'extension/media/icon.png',
];
/** The extension's JavaScript on the host side: the entry point, what it loads, the ssh agent loaded on demand. */
export const extensionBundles = [
  'extension/dist/extension.js',
  'extension/dist/extension-main.js',
  'extension/dist/docker-ssh.js',
];
export const forbidden = [
  /node_modules\//,
  /^extension\/(src|test|out|bench|scripts|docs|compose)\//,
  /\.ts$/,
  /\.map$/,
  /\/dist\/(cli|lib)\.js$/,
  /\.vsix$/,
];

/** The problems with a listing, as sentences; empty when the package is as intended. */
export function checkVsix(entries, { maxBundle = 1024 * 1024, maxVsix = 2 * 1024 * 1024, vsixSize } = {}) {
  const problems = [];
  const names = new Set(entries.map((e) => e.name));
  for (const r of required) if (!names.has(r)) problems.push(`missing ${r}`);
  for (const e of entries)
    if (forbidden.some((f) => f.test(e.name))) problems.push(`ships ${e.name}, which it must not`);
  const bundleBytes = entries
    .filter((e) => extensionBundles.includes(e.name))
    .reduce((sum, e) => sum + e.size, 0);
  if (bundleBytes > maxBundle)
    problems.push(`extension bundles are ${bundleBytes} bytes together, over the ${maxBundle} budget`);
  if (vsixSize !== undefined && vsixSize > maxVsix)
    problems.push(`.vsix is ${vsixSize} bytes, over the ${maxVsix} budget`);
  return problems;
}
