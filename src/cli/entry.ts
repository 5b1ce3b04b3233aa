/**
 * The CLI's entry point (dist/cli.js): runs the CLI bundle (dist/cli-main.js) from a V8 code
 * cache. Without one, Node compiles the whole bundle on every start and each function the
 * command reaches on its first call: about a quarter of the CPU of a `run -- true` (issue 17),
 * which on a loaded machine is most of its overhead. Node 20 has no built-in compile cache
 * (`module.enableCompileCache` is Node 22), so this is that, for one file.
 *
 * The cache is written once per build, Node version and command, at exit (then it holds the
 * functions that command compiled), into `<cache folder>/code-cache`: `DOCKER_STABILITY_CODE_CACHE`
 * (`off` for none), else the user's cache folder. V8 checks that a cache fits its version, flags
 * and the source, and ignores one that does not; a cache file or folder that someone else owns
 * or can write is never read (running it would be running their code). Any failure just means
 * the bundle is compiled as without a cache.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { seedProcessCpu } from '../core/monitor/cpuSeed';

const BUNDLE = join(__dirname, 'cli-main.js');

// `run`: the first of the CPU readings its admission sample needs, before the bundle loads, so
// the 100 ms rate window passes while Node compiles and the lock is asked for (issue 17).
if (process.argv[2] === 'run') seedProcessCpu();

/** The folder of the cache files, or undefined for none. */
function cacheFolder(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.DOCKER_STABILITY_CODE_CACHE;
  if (chosen === 'off' || chosen === '0') return undefined;
  if (chosen) return chosen;
  const home = env.HOME || env.USERPROFILE || homedir();
  const base =
    process.platform === 'win32'
      ? env.LOCALAPPDATA || join(home, 'AppData', 'Local')
      : process.platform === 'darwin'
        ? join(home, 'Library', 'Caches')
        : env.XDG_CACHE_HOME || join(home, '.cache');
  return join(base, 'docker-stability', 'code-cache');
}

/** Only the user's own, not writable by anyone else (POSIX; elsewhere the profile folder is private). */
function ownedPrivately(path: string, kind: 'file' | 'dir'): boolean {
  const st = lstatSync(path);
  if (kind === 'file' ? !st.isFile() : !st.isDirectory()) return false;
  if (typeof process.getuid !== 'function') return true;
  return st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

function run(): void {
  let source = readFileSync(BUNDLE, 'utf8');
  const folder = cacheFolder();
  let file: string | undefined;
  let cached: Buffer | undefined;
  if (folder) {
    try {
      // One per command: each caches the functions it compiled. Names other than a command's
      // (flags, typos) share one. Keyed by the bundle's content: V8's own check of the source
      // is little more than its length, and npm gives every installed file the same mtime.
      const command = /^[a-z]{2,20}$/.test(process.argv[2] ?? '') ? (process.argv[2] as string) : 'other';
      const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
      file = join(folder, `cli-${command}-${process.version}-${process.arch}-${hash}.cache`);
      cached = ownedPrivately(folder, 'dir') && ownedPrivately(file, 'file') ? readFileSync(file) : undefined;
    } catch {
      cached = undefined; // none yet
    }
  }
  // The wrapper has a line of its own, so the bundle's lines and columns are its own in traces.
  source = `(function (exports, require, module, __filename, __dirname) {\n${source}\n})`;
  const script = new Script(source, { filename: BUNDLE, lineOffset: -1, cachedData: cached });
  const main = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void;
  if (file && (!cached || script.cachedDataRejected)) {
    const target = file;
    process.once('exit', () => writeCache(folder as string, target, script));
  }
  const module = { exports: {} };
  main(module.exports, createRequire(BUNDLE), module, BUNDLE, __dirname);
}

/** Writes the cache (atomically) and removes the command's caches of other builds. */
function writeCache(folder: string, file: string, script: Script): void {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    if (!ownedPrivately(folder, 'dir')) return;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    renameSync(tmp, file);
    const prefix = file.slice(folder.length + 1).replace(/-v\d.*$/, '-');
    for (const old of readdirSync(folder))
      if (old.startsWith(prefix) && join(folder, old) !== file && old.endsWith('.cache'))
        rmSync(join(folder, old), { force: true });
  } catch {
    // a cache is an optimisation: without it the next start compiles, as this one did
  }
}

run();
