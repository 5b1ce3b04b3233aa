import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built CLI (npm test and test:core build it first). */
export const CLI = resolve(__dirname, '../../../../dist/cli.js');
export const HOLDER = resolve(__dirname, 'fixtures/holder.js');
/** Short stale period keeps the tests fast; proper-lockfile's minimum. */
export const STALE_MS = 2_000;

/** A fresh lock folder per test, removed afterwards. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ds-lock-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Process groups started with `group: true` that have not finished yet. */
const groups = new Set<number>();

/**
 * Kills every unfinished process group (a timed-out stress loop and the `lock run` it started),
 * so nothing keeps running into the next test or after the suite.
 */
export function killGroups(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  groups.clear();
}

/** Runs a process to completion, collecting its output; `group` gives it its own process group. */
export function runProcess(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; group?: boolean } = {},
): Promise<Finished> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.group,
    });
    const pid = child.pid;
    if (opts.group && pid) {
      groups.add(pid);
      child.once('close', () => groups.delete(pid));
    }
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
}

export function cli(args: string[], env?: NodeJS.ProcessEnv): Promise<Finished> {
  return runProcess(process.execPath, [CLI, ...args], { env });
}

export type LockVerb = 'run' | 'acquire' | 'release' | 'status' | 'force-release';

/** The CLI arguments of `lock <verb>` on the lock `test` in `dir`, followed by `rest`. */
export function lockArgs(verb: LockVerb, dir: string, ...rest: string[]): string[] {
  return ['lock', verb, '--dir', dir, '--name', 'test', ...rest];
}

/**
 * Runs `lock <verb>` on the lock `test` in `dir` to completion, with the built CLI or `opts.cli`
 * (the fault matrix runs against LOCK_TEST_CLI).
 */
export function lockCli(
  verb: LockVerb,
  dir: string,
  rest: string[] = [],
  opts: { cli?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Finished> {
  return runProcess(process.execPath, [opts.cli ?? CLI, ...lockArgs(verb, dir, ...rest)], { env: opts.env });
}

/** A long-running child whose stdout lines can be awaited. */
export class Child {
  readonly proc: ChildProcess;
  private out = '';
  private waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(cmd: string, args: string[]) {
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d: Buffer) => {
      this.out += d.toString();
      for (const w of this.waiters) w();
    });
    this.proc.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((r) => this.proc.once('exit', (code, signal) => r({ code, signal })));
  }

  get output(): string {
    return this.out;
  }

  /** Resolves with the first output line matching re, or rejects after timeoutMs. */
  waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((res, rej) => {
      const check = (): boolean => {
        const m = re.exec(this.out);
        if (m) {
          this.waiters = this.waiters.filter((w) => w !== onData);
          clearTimeout(timer);
          res(m);
        }
        return !!m;
      };
      const onData = (): void => void check();
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== onData);
        rej(new Error(`timed out waiting for ${re} in output:\n${this.out}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(onData);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}

export function holder(mode: string, dir: string, name: string, ...rest: string[]): Child {
  return new Child(process.execPath, [HOLDER, mode, dir, name, String(STALE_MS), ...rest]);
}

/** The critical-section fixture: writes its start, ticks and end to a log (overlap.ts reads it). */
export const CRITICAL = resolve(__dirname, 'fixtures/critical.js');

/** The command line after `--` of a critical section labelled `label` that lasts `ms`, logging to `log`. */
export function criticalCommand(log: string, label: string, ms: number): string[] {
  return ['--', process.execPath, CRITICAL, log, label, String(ms)];
}

/**
 * `lock run` (lock `test` in `dir`) of a critical section labelled `label` that lasts `ms`: labels
 * starting with S run `--shared`, others exclusive.
 */
export function criticalRun(
  dir: string,
  log: string,
  label: string,
  ms: number,
  extra: string[] = [],
): Child {
  return new Child(process.execPath, [
    CLI,
    ...lockArgs(
      'run',
      dir,
      '--stale',
      `${STALE_MS}ms`,
      '--timeout',
      '90s',
      ...(label.startsWith('S') ? ['--shared'] : []),
      ...extra,
      ...criticalCommand(log, label, ms),
    ),
  ]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until cond holds, failing after timeoutMs with what was awaited. */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(20);
  }
}

/** One test's lock folder, its critical-section log, and the children to kill afterwards. */
export interface SectionSuite {
  readonly dir: string;
  readonly log: string;
  readonly children: Child[];
}

/**
 * Registers the per-test setup the process-level lock suites share: a fresh temp folder with its
 * section log; afterwards every child and process group is killed, then `beforeRemove` runs
 * (e.g. ending sections whose wrapper was killed), then the folder is removed.
 */
export function sectionSuite(beforeRemove?: (log: string) => void): SectionSuite {
  const s = { dir: '', log: '', children: [] as Child[], cleanup: (): void => undefined };
  beforeEach(() => {
    const t = tempDir();
    s.dir = t.dir;
    s.log = join(t.dir, 'sections.log');
    s.cleanup = t.cleanup;
  });
  afterEach(() => {
    for (const c of s.children.splice(0)) c.kill('SIGKILL');
    killGroups();
    beforeRemove?.(s.log);
    s.cleanup();
  });
  return s;
}
