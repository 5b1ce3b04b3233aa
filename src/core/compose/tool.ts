import { execFile, spawn } from 'node:child_process';
import { promises as fsp, statSync } from 'node:fs';
import { dirname, join, basename, isAbsolute, win32, posix } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface ComposeTool {
  kind: 'v2' | 'v1';
  /** The argument vector prefix: `['docker', 'compose']` or `['docker-compose']`. */
  command: string[];
  version: string;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const DETECT_TIMEOUT_MS = 10_000;
const CONFIG_TIMEOUT_MS = 30_000;

/** Runs a program with an argument array (never a shell), a hard timeout and captured output. */
function run(
  command: string[],
  opts: { cwd?: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: opts.cwd,
        timeout: opts.timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: opts.env,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        let code = 0;
        let errText = String(stderr);
        if (e) {
          code = typeof e.code === 'number' ? e.code : 127;
          if (e.killed) errText = `${command.join(' ')} timed out after ${opts.timeoutMs} ms\n${errText}`;
          else if (typeof e.code === 'string') errText = `${command.join(' ')}: ${e.message}`;
        }
        resolve({ code, stdout: String(stdout), stderr: errText });
      },
    );
  });
}

let detected: Promise<ComposeTool | undefined> | undefined;

/**
 * The installed compose: `docker compose` (v2 plugin) when `docker compose version` exits 0,
 * else `docker-compose` (v1, or a standalone v2 binary by that name: its version says which).
 * Detected once per process once found.
 */
export function detectComposeTool(): Promise<ComposeTool | undefined> {
  const found = (detected ??= detect());
  // Only a success is remembered: a slow or missing tool is looked for again next time (it may
  // have been installed, or the machine was merely busy).
  void found.then((tool) => {
    if (!tool && detected === found) detected = undefined;
  });
  return found;
}

export interface ResolveOptions {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  isFile?: (path: string) => boolean;
}

function regularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path of a program on PATH, or undefined. Only absolute PATH entries count: on
 * Windows a program is otherwise looked for in the working directory first, which for compose
 * is the project's folder, so a `docker.exe` committed to a repository would run.
 */
export function resolveExecutable(name: string, opts: ResolveOptions = {}): string | undefined {
  const platform = opts.platform ?? process.platform;
  const env = opts.env ?? process.env;
  const isFile = opts.isFile ?? regularFile;
  const path = platform === 'win32' ? win32 : posix;
  const pathVar =
    platform === 'win32'
      ? (Object.entries(env).find(([k]) => k.toUpperCase() === 'PATH')?.[1] ?? '')
      : (env.PATH ?? '');
  const exts =
    platform === 'win32' ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e !== '') : [''];
  for (const dir of pathVar.split(path.delimiter)) {
    const d = dir.replace(/^"(.*)"$/, '$1');
    if (d === '' || !(platform === 'win32' ? win32.isAbsolute(d) : isAbsolute(d))) continue;
    for (const ext of exts) {
      const candidate = path.join(d, name + ext);
      if (isFile(candidate)) return candidate;
    }
  }
  return undefined;
}

async function detect(): Promise<ComposeTool | undefined> {
  const docker = resolveExecutable('docker');
  if (docker) {
    const plugin = await run([docker, 'compose', 'version', '--short'], { timeoutMs: DETECT_TIMEOUT_MS });
    if (plugin.code === 0)
      return { kind: 'v2', command: [docker, 'compose'], version: plugin.stdout.trim().replace(/^v/, '') };
  }
  const compose = resolveExecutable('docker-compose');
  if (compose) {
    const standalone = await run([compose, 'version', '--short'], { timeoutMs: DETECT_TIMEOUT_MS });
    if (standalone.code === 0) {
      const version = standalone.stdout.trim().replace(/^v/, '');
      return { kind: version.startsWith('1.') ? 'v1' : 'v2', command: [compose], version };
    }
  }
  return undefined;
}

function fileArgs(files: string[]): string[] {
  return files.flatMap((f) => ['-f', f]);
}

/**
 * Asks compose itself whether the files (merged in order) are a valid configuration
 * (`config -q`). Relative paths resolve from the first file's folder, as compose does.
 */
export async function validateWithCompose(
  files: string[],
  tool?: ComposeTool,
): Promise<{ ok: boolean; error?: string }> {
  const t = tool ?? (await detectComposeTool());
  if (!t)
    return {
      ok: false,
      error: 'no compose tool found: neither `docker compose` (v2) nor `docker-compose` (v1) runs here',
    };
  if (files.length === 0) return { ok: false, error: 'no compose file to validate' };
  const r = await run([...t.command, ...fileArgs(files), 'config', '-q'], {
    cwd: dirname(files[0] as string),
    timeoutMs: CONFIG_TIMEOUT_MS,
  });
  if (r.code === 0) return { ok: true };
  return { ok: false, error: r.stderr.trim() || `${t.command.join(' ')} config exited with ${r.code}` };
}

/** Validates a text as if it were `target` (same folder, so relative paths mean the same), without touching target. */
export async function validateCandidate(
  target: string,
  text: string,
  before: string[],
  after: string[],
  tool?: ComposeTool,
): Promise<{ ok: boolean; error?: string }> {
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.candidate.yml`);
  // `wx`: never through something planted at that name.
  await fsp.writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
  try {
    return await validateWithCompose([...before, tmp, ...after], tool);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

export interface ComposeRunOptions {
  projectName?: string;
  tool?: ComposeTool;
  /** `inherit` streams compose's output to ours (CLI); `pipe` captures it (library, tests). */
  stdio?: 'inherit' | 'pipe';
  timeoutMs?: number;
}

/** Runs `compose -f ... [-p name] <args>` and resolves with its exit code and captured output. */
export async function runCompose(
  files: string[],
  args: string[],
  opts: ComposeRunOptions = {},
): Promise<RunResult> {
  const t = opts.tool ?? (await detectComposeTool());
  if (!t)
    throw new Error(
      'no compose tool found: install Docker Compose (`docker compose` v2 or `docker-compose` v1)',
    );
  const project = opts.projectName ? ['-p', opts.projectName] : [];
  const argv = [...t.command, ...fileArgs(files), ...project, ...args];
  const [file, ...rest] = argv as [string, ...string[]];
  const timeoutMs = opts.timeoutMs ?? 300_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, rest, {
      cwd: dirname(files[0] ?? '.'),
      stdio: opts.stdio === 'inherit' ? 'inherit' : 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n${argv.join(' ')} timed out after ${timeoutMs} ms`;
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}
