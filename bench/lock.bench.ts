// Environment lock benchmark: uncontended acquire+release latency, and rounds per second with
// 2, 8 and 20 contending processes, against flock(1) doing the same critical section in the same run.
// Prints a Markdown section for BENCHMARKS.md ("## Lock").
//   node out/bench/lock.bench.js                 run the benchmark
//   node out/bench/lock.bench.js worker D N      (internal) one contending library process
// LOCK_BENCH_SCALE=2 doubles the rounds.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LockManager as LockManagerType } from '../src/core/lock';
import { sections } from '../test/core/lock/overlap';

/** The build measured: LOCK_BENCH_DIST=<an older dist/> measures a previous version in the same run's conditions. */
const DIST = resolve(process.env.LOCK_BENCH_DIST ?? resolve(__dirname, '../../dist'));
const CLI = join(DIST, 'cli.js');
const { LockManager } = createRequire(__filename)(join(DIST, 'lib.js')) as {
  LockManager: typeof LockManagerType;
};
/** The self-timing critical section of the lock tests. */
const SECTION = resolve(__dirname, '../test/core/lock/fixtures/critical.js');
const SCALE = Number(process.env.LOCK_BENCH_SCALE ?? 1);
/** The critical section every contender runs: exclusive marker create (overlap check), 10 ms, remove. */
const CRITICAL =
  'if ( set -C; echo $$ > "$MARK" ) 2>/dev/null; then sleep 0.01; rm -f "$MARK"; echo ok >> "$DONE"; else echo overlap >> "$OVERLAP"; fi';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number | null> {
  return new Promise((res, rej) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
    c.once('error', rej);
    c.once('exit', (code) => res(code));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function stats(ms: number[]): { median: number; p95: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: percentile(s, 50), p95: percentile(s, 95) };
}

const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

function lines(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

type Contender = 'lock run' | 'library' | 'flock(1)';

/** P processes x R rounds of the critical section under one contender; returns rounds/s and overlaps. */
async function contend(
  kind: Contender,
  procs: number,
  rounds: number,
): Promise<{ perSec: number; done: number; overlaps: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ds-lock-bench-'));
  const env = { MARK: join(dir, 'mark'), DONE: join(dir, 'done'), OVERLAP: join(dir, 'overlap'), CRITICAL };
  const round =
    kind === 'lock run'
      ? `"${process.execPath}" "${CLI}" lock run --dir "${dir}/locks" --name bench -- sh -c "$CRITICAL"`
      : `flock "${dir}/flock" sh -c "$CRITICAL"`;
  const t = Date.now();
  await Promise.all(
    Array.from({ length: procs }, () =>
      kind === 'library'
        ? run(process.execPath, [__filename, 'worker', join(dir, 'locks'), String(rounds)], env)
        : run('sh', ['-c', `i=0; while [ $i -lt ${rounds} ]; do ${round}; i=$((i+1)); done`], env),
    ),
  );
  const secs = (Date.now() - t) / 1000;
  const result = { perSec: (procs * rounds) / secs, done: lines(env.DONE), overlaps: lines(env.OVERLAP) };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** One long-lived contending process: acquire, run the critical section, release, repeat. */
async function worker(dir: string, rounds: number): Promise<void> {
  const m = new LockManager({ dir });
  for (let i = 0; i < rounds; i++) {
    await m.withLock('bench', 'bench worker', () => run('sh', ['-c', CRITICAL]), { timeoutMs: 600_000 });
  }
}

/**
 * Hand-over: P waiters queued behind one another, each a whole process running a 50 ms section;
 * the gap is from one section's end to the next one's start, as the sections timed themselves.
 */
async function handover(
  kind: 'lock run' | 'flock(1)',
  procs: number,
): Promise<{ median: number; p95: number; n: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ds-lock-bench-'));
  const log = join(dir, 'sections.log');
  const section = (i: number): string[] => [process.execPath, SECTION, log, `S${i}`, '50'];
  await Promise.all(
    Array.from({ length: procs }, (_, i) =>
      kind === 'lock run'
        ? run(process.execPath, [
            CLI,
            'lock',
            'run',
            '--dir',
            join(dir, 'locks'),
            '--name',
            'bench',
            '--timeout',
            '5m',
            '--',
            ...section(i),
          ])
        : run('flock', [join(dir, 'flock'), ...section(i)]),
    ),
  );
  const list = sections(log);
  const gaps = list.slice(1).map((s, i) => s.start - (list[i] as { end: number }).end);
  rmSync(dir, { recursive: true, force: true });
  return { ...stats(gaps), n: gaps.length };
}

async function main(): Promise<void> {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const flockVersion = spawnSync('flock', ['--version'], { encoding: 'utf8' }).stdout.trim();

  // Uncontended, in process: the library's own cost per acquire+release.
  const dir = mkdtempSync(join(tmpdir(), 'ds-lock-bench-'));
  const m = new LockManager({ dir });
  await timeEach(20, async () => (await m.acquire('warm')).release());
  const lib = stats(
    await timeEach(Math.round(300 * SCALE), async () => (await m.acquire('bench')).release()),
  );
  // Uncontended, whole command: what a test script pays per `lock run -- true` vs `flock f true`.
  const n = Math.round(15 * SCALE);
  const cliRun = stats(
    await timeEach(n, () =>
      run(process.execPath, [CLI, 'lock', 'run', '--dir', dir, '--name', 'bench', '--', 'true']),
    ),
  );
  const flockRun = stats(await timeEach(n, () => run('flock', [join(dir, 'flock'), 'true'])));
  const bare = stats(await timeEach(n, () => run(process.execPath, [CLI, '--version'])));
  rmSync(dir, { recursive: true, force: true });

  const gapRows: string[] = [];
  for (const kind of ['lock run', 'flock(1)'] as const) {
    const g = await handover(kind, Math.round(8 * SCALE));
    gapRows.push(`| ${kind} | ${fmt(g.median)} | ${fmt(g.p95)} | ${g.n} |`);
  }

  const rows: string[] = [];
  const plan: Array<[number, number]> = [
    [2, Math.round(10 * SCALE)],
    [8, Math.round(4 * SCALE)],
    [20, Math.round(2 * SCALE)],
  ];
  for (const [procs, rounds] of plan) {
    const cells: string[] = [];
    for (const kind of ['lock run', 'library', 'flock(1)'] as Contender[]) {
      const r = await contend(kind, procs, rounds);
      cells.push(`${r.perSec.toFixed(1)} (${r.done}/${procs * rounds} done, ${r.overlaps} overlaps)`);
    }
    rows.push(`| ${procs} x ${rounds} | ${cells.join(' | ')} |`);
  }

  const out = [
    '## Lock',
    '',
    `Build: ${DIST}.`,
    '',
    `Run ${date} on ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ${flockVersion}; load average at start ${load} (1, 5 and 15 minutes; compare it with the CPU count).`,
    '',
    'Uncontended acquire + release (milliseconds):',
    '',
    '| what | median | p95 | n |',
    '|---|---|---|---|',
    `| library \`acquire()\` + \`release()\`, in process | ${fmt(lib.median)} | ${fmt(lib.p95)} | ${Math.round(300 * SCALE)} |`,
    `| \`docker-stability lock run -- true\` (whole CLI process) | ${fmt(cliRun.median)} | ${fmt(cliRun.p95)} | ${n} |`,
    `| \`docker-stability --version\` (CLI start-up alone, for reference) | ${fmt(bare.median)} | ${fmt(bare.p95)} | ${n} |`,
    `| \`flock F true\` | ${fmt(flockRun.median)} | ${fmt(flockRun.p95)} | ${n} |`,
    '',
    'Contended: P processes x R rounds each of the same critical section (`sh -c`: exclusive marker create, 10 ms sleep, remove).',
    'Rounds per second over the whole run (higher is better); every round must complete with 0 overlaps.',
    '`lock run` and `flock(1)` start one process per round; `library` is P long-lived Node processes calling `withLock` around the same `sh -c`.',
    '',
    '| P x R | `lock run` rounds/s | library rounds/s | `flock(1)` rounds/s |',
    '|---|---|---|---|',
    ...rows,
    '',
    "Hand-over between queued waiters (milliseconds from one 50 ms section's end to the next one's start, as the sections timed themselves; 8 processes queued at once):",
    '',
    '| who waits | median gap | p95 | gaps |',
    '|---|---|---|---|',
    ...gapRows,
    '',
  ].join('\n');
  process.stdout.write(out + '\n');
}

if (process.argv[2] === 'worker') {
  worker(process.argv[3] as string, Number(process.argv[4])).catch((err: Error) => {
    process.stderr.write(`worker: ${err.message}\n`);
    process.exitCode = 1;
  });
} else {
  main().catch((err: Error) => {
    process.stderr.write(`lock bench: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  });
}
