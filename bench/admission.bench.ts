// Parallel runs under a real memory budget: 12 suites that each need a known amount of real
// memory (a container writing SUITE_MIB into a tmpfs) launched at once, on a budget the kernel
// enforces (a cgroup v1 memory limit that every suite container is started under with
// --cgroup-parent), so that too many at once are really OOM-killed, as on a small Docker
// Desktop VM. The monitor's memory capacity is set to that budget. Three launches: bare,
// `run --exclusive` (one at a time) and `run --shared` (admitted by predicted memory).
// Prints a Markdown section for BENCHMARKS.md ("## Parallel runs under a memory budget"), with
// where a run's time goes, phase by phase (DOCKER_STABILITY_TRACE marks).
// Needs root (cgroup v1 memory controller at /sys/fs/cgroup/memory). Also two bare launches
// with at most N suites at once (measurePool), which split the gap to the best packing.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_IMAGE, removeContainersLabelled } from '../test/helpers/docker';

const SUITES = Number(process.env.ADMISSION_BENCH_SUITES ?? 12);
const SUITE_MIB = Number(process.env.ADMISSION_BENCH_SUITE_MIB ?? 200);
const BUDGET_MIB = Number(process.env.ADMISSION_BENCH_BUDGET_MIB ?? 1024);
const HOLD_S = 2;
/** The gap between launches in the staggered rows. */
const STAGGER_MS = 400;
const ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const CGROUP = `dstab-bench-${ID}`;
const CGROUP_DIR = `/sys/fs/cgroup/memory/${CGROUP}`;
const LABEL = `docker-stability.admission-bench=${ID}`;
// ADMISSION_BENCH_CLI: another build's cli.js (e.g. main's), to compare under the same bench.
const CLI = process.env.ADMISSION_BENCH_CLI ?? resolve(__dirname, '../../dist/cli.js');
// ADMISSION_BENCH_ONLY=shared,exclusive: only these launches (by name; the others print 0 rows).
const ONLY = process.env.ADMISSION_BENCH_ONLY?.split(',');
// ADMISSION_BENCH_TRACE_DIR: keep each launch's trace marks there (the state folder is removed).
const TRACE_DIR = process.env.ADMISSION_BENCH_TRACE_DIR;

/** One suite: its container fills SUITE_MIB of tmpfs (memory charged to the budget), holds it, exits 0. */
function suiteArgs(): string[] {
  const body = `dd if=/dev/zero of=/data/fill bs=1M count=${SUITE_MIB} 2>/dev/null && sleep ${HOLD_S}`;
  return [
    'docker',
    'run',
    '--rm',
    '--network',
    'none',
    '--cgroup-parent',
    `/${CGROUP}`,
    '--label',
    LABEL,
    '--tmpfs',
    `/data:rw,size=${SUITE_MIB + 50}m`,
    TEST_IMAGE,
    'sh',
    '-c',
    body,
  ];
}

interface Outcome {
  code: number | null;
  ms: number;
  pid?: number;
  /** Epoch ms of the spawn and of the exit, to line up with the run's trace marks. */
  spawnedAt: number;
  exitedAt: number;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

function launch(args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  const t = performance.now();
  const spawnedAt = epochNow();
  return new Promise((res, rej) => {
    const c = spawn(args[0] as string, args.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.once('error', rej);
    c.once('exit', (code) => {
      if (code !== 0 && process.env.ADMISSION_BENCH_VERBOSE)
        console.error(`exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
      res({ code, ms: performance.now() - t, pid: c.pid, spawnedAt, exitedAt: epochNow() });
    });
  });
}

const readNum = (file: string): number => Number(readFileSync(join(CGROUP_DIR, file), 'utf8').trim());

const removeOurs = (): Promise<void> => removeContainersLabelled(LABEL);

interface LaunchResult {
  ok: number;
  wallS: number;
  peakMiB: number;
  /** Suites whose container was killed (exit 137: the kernel's OOM killer, the budget reached). */
  ooms: number;
  /** CPU seconds the launched processes used (the CLIs, `docker run` clients; not the containers). */
  cpuS: number;
  /** Under `run`: the median of each phase over the runs, in ms (from DOCKER_STABILITY_TRACE). */
  phases?: Record<string, number>;
}

/** A run's phases, from one mark to the next (see src/core/util/trace.ts and where it is called). */
const PHASES: Array<[string, string, string]> = [
  ['CLI start', 'spawn', 'run-begin'],
  ['prediction, first sample', 'run-begin', 'lock-queued'],
  ['queue and turnstile wait', 'lock-queued', 'lock-acquired'],
  ['after the lock (baseline)', 'lock-acquired', 'command-start'],
  ['command', 'command-start', 'command-end'],
  ['end: last sample, events, cleanup pass if one is due, record', 'command-end', 'release-start'],
  ['release', 'release-start', 'released'],
  ['exit', 'released', 'exit'],
];

const skipped: LaunchResult = { ok: 0, wallS: 0, peakMiB: 0, ooms: 0, cpuS: 0 };

/** CPU seconds (user + system) of this process's children that have ended and been waited for. */
function childrenCpuS(): number {
  // /proc/self/stat: fields 16 and 17 are cutime and cstime, in clock ticks (100 a second on Linux).
  const fields = readFileSync('/proc/self/stat', 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

interface Mark {
  pid: number;
  phase: string;
  t: number;
}

/** Median per phase over the runs; admission and sample time summed per run (they repeat). */
function phaseMedians(trace: string, outcomes: Outcome[]): Record<string, number> {
  const marks: Mark[] = existsSync(trace)
    ? readFileSync(trace, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Mark)
    : [];
  const per: Record<string, number[]> = {};
  const add = (k: string, v: number): void => void (per[k] ??= []).push(v);
  for (const o of outcomes) {
    const mine = marks.filter((m) => m.pid === o.pid);
    const first = (phase: string): number | undefined =>
      phase === 'spawn'
        ? o.spawnedAt
        : phase === 'exit'
          ? o.exitedAt
          : mine.find((m) => m.phase === phase)?.t;
    for (const [label, from, to] of PHASES) {
      const a = first(from);
      // The first lock marks are the run's own lock (its cleanup takes the cleanup lock later).
      const b = first(to);
      if (a !== undefined && b !== undefined) add(label, b - a);
    }
    for (const [label, start, end] of [
      ['admission checks (sum)', 'admit-start', 'admit-end'],
      ['daemon samples for admission (sum)', 'sample-start', 'sample-end'],
    ] as const) {
      const starts = mine.filter((m) => m.phase === start);
      const ends = mine.filter((m) => m.phase === end);
      add(
        label,
        starts.reduce((sum, m, i) => sum + ((ends[i]?.t ?? m.t) - m.t), 0),
      );
    }
  }
  return Object.fromEntries(Object.entries(per).map(([k, v]) => [k, median(v)]));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2 : 0;
}

/** Waits until `ms` after `t0` (performance.now() scale). */
const at = (t0: number, ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, Math.max(0, t0 + ms - performance.now())));

/** Launches the suites (`gapMs` apart: 0 is all at once) and measures them. */
async function measure(
  name: string,
  each: () => string[],
  env: NodeJS.ProcessEnv,
  gapMs = 0,
): Promise<LaunchResult> {
  if (ONLY && !ONLY.includes(name)) return skipped;
  writeFileSync(join(CGROUP_DIR, 'memory.max_usage_in_bytes'), '0');
  const trace = join(env.DOCKER_STABILITY_HOME as string, `trace-${name}.jsonl`);
  const cpu0 = childrenCpuS();
  const t = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: SUITES }, (_, i) =>
      at(t, i * gapMs).then(() => launch(each(), { ...env, DOCKER_STABILITY_TRACE: trace })),
    ),
  );
  const wallS = (performance.now() - t) / 1000;
  await removeOurs();
  if (TRACE_DIR && existsSync(trace)) copyFileSync(trace, join(TRACE_DIR, `trace-${name}-${ID}.jsonl`));
  return result(
    name,
    outcomes,
    wallS,
    childrenCpuS() - cpu0,
    existsSync(trace) ? phaseMedians(trace, outcomes) : undefined,
  );
}

/** What one launch gave (its suites already removed), printed as it is known. */
function result(
  name: string,
  outcomes: Outcome[],
  wallS: number,
  cpuS: number,
  phases?: LaunchResult['phases'],
): LaunchResult {
  const r = {
    ok: outcomes.filter((o) => o.code === 0).length,
    wallS,
    cpuS,
    peakMiB: readNum('memory.max_usage_in_bytes') / 2 ** 20,
    ooms: outcomes.filter((o) => o.code === 137).length,
    ...(phases ? { phases } : {}),
  };
  console.error(
    `admission bench: ${name}: ${r.ok}/${SUITES} ok, ${r.wallS.toFixed(1)} s, peak ${r.peakMiB.toFixed(0)} MiB, ${r.ooms} OOM kills, ${r.cpuS.toFixed(2)} s CPU in the launched processes`,
  );
  return r;
}

/**
 * The suites bare, but never more than `k` at once: each next one starts as one ends (a perfect
 * scheduler with no overhead of its own). `k` = what the refuse level lets `run --shared` admit
 * shows what is left to the runs' own overhead; `k` = the best packing's count, what that packing
 * really takes on this machine (suites at once share its cores).
 */
async function measurePool(
  name: string,
  k: number,
  env: NodeJS.ProcessEnv,
  gapMs = 0,
): Promise<LaunchResult> {
  if (ONLY && !ONLY.includes(`pool${k}${gapMs ? '-staggered' : ''}`)) return skipped;
  writeFileSync(join(CGROUP_DIR, 'memory.max_usage_in_bytes'), '0');
  const cpu0 = childrenCpuS();
  const t = performance.now();
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < SUITES) {
      const i = next++;
      await at(t, i * gapMs);
      outcomes.push(await launch(suiteArgs(), env));
    }
  };
  await Promise.all(Array.from({ length: k }, worker));
  const wallS = (performance.now() - t) / 1000;
  await removeOurs();
  return result(name, outcomes, wallS, childrenCpuS() - cpu0);
}

async function main(): Promise<void> {
  if (!existsSync('/sys/fs/cgroup/memory'))
    throw new Error('needs the cgroup v1 memory controller at /sys/fs/cgroup/memory');
  mkdirSync(CGROUP_DIR);
  const state = mkdtempSync(join(tmpdir(), 'ds-admission-'));
  try {
    writeFileSync(join(CGROUP_DIR, 'memory.limit_in_bytes'), String(BUDGET_MIB * 2 ** 20));
    const config = join(state, 'config.json');
    // The monitor's memory capacity is the budget; its refuse level (EMERGENCY, over 90%) applies to it.
    writeFileSync(config, JSON.stringify({ monitor: { capacities: { memoryBytes: BUDGET_MIB * 2 ** 20 } } }));
    const env = { ...process.env, DOCKER_STABILITY_HOME: state, DOCKER_STABILITY_CONFIG: config };
    const underRun = (mode: string) => (): string[] => [
      process.execPath,
      CLI,
      'run',
      '--category',
      'admission-bench',
      `--${mode}`,
      '--timeout',
      '10m',
      '--',
      ...suiteArgs(),
    ];

    // One suite alone: its duration, and (under `run`) the history its prediction comes from.
    const alone = await launch(suiteArgs(), env);
    for (let i = 0; i < 3; i++) await launch(underRun('exclusive')(), env);
    const single = alone.ms / 1000;
    const perRound = Math.floor(BUDGET_MIB / (SUITE_MIB + 2));
    const best = Math.ceil(SUITES / perRound) * single;

    const bare = await measure('bare', suiteArgs, env);
    const exclusive = await measure('exclusive', underRun('exclusive'), env);
    const shared = await measure('shared', underRun('shared'), env);
    // What the refuse level admits at a time (EMERGENCY over 90%: a run predicted at SUITE_MIB + 10%).
    const refuseK = Math.max(1, Math.floor((0.9 * BUDGET_MIB) / (SUITE_MIB * 1.1)));
    const poolRefuse = await measurePool(`bare, ${refuseK} at a time`, refuseK, env);
    const poolBest = await measurePool(`bare, ${perRound} at a time`, perRound, env);
    // Arrivals spread out, as CI jobs start: the later suites find the earlier ones in.
    const staggered = await measure('shared-staggered', underRun('shared'), env, STAGGER_MS);
    const poolStaggered = await measurePool(
      `bare, ${refuseK} at a time, staggered`,
      refuseK,
      env,
      STAGGER_MS,
    );

    const date = new Date().toISOString().replace(/:\d\d\.\d+Z$/, 'Z');
    const row = (what: string, r: LaunchResult): string =>
      `| ${what} | ${r.ok}/${SUITES} | ${r.wallS.toFixed(1)} s | ${(r.wallS / best).toFixed(2)}x | ${r.peakMiB.toFixed(0)} MiB | ${r.ooms} |`;
    process.stdout.write(
      [
        '## Parallel runs under a memory budget',
        '',
        `Run ${date} with \`npm run bench -- admission\`. Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}; load average at start ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}.`,
        '',
        `${SUITES} suites launched at once, each a container that writes ${SUITE_MIB} MiB into a tmpfs and holds it ${HOLD_S} s, all under one cgroup with a ${BUDGET_MIB} MiB memory limit (the kernel OOM-kills past it). The monitor's memory capacity is set to the budget. One suite alone takes ${single.toFixed(1)} s; the best packing that fits the budget runs ${perRound} at a time: ${best.toFixed(1)} s for all ${SUITES}.`,
        '',
        '| Launch | Succeeded | Wall time | vs best packing | Peak memory (cgroup) | Suites OOM-killed |',
        '| --- | --- | --- | --- | --- | --- |',
        row('bare (`docker run` x 12)', bare),
        row('`run --exclusive` (one at a time)', exclusive),
        row('`run --shared` (admitted by predicted memory)', shared),
        row(`bare, at most ${refuseK} at a time (what the refuse level admits, no overhead)`, poolRefuse),
        row(`bare, at most ${perRound} at a time (the best packing, really run)`, poolBest),
        row(`\`run --shared\`, launched ${STAGGER_MS} ms apart`, staggered),
        row(`bare, at most ${refuseK} at a time, launched ${STAGGER_MS} ms apart`, poolStaggered),
        '',
        `The gap of \`run --shared\` to the best packing, in parts: its own overhead (CLI start, samples, lock) ${(shared.wallS - poolRefuse.wallS).toFixed(1)} s (shared minus bare at most ${refuseK} at a time), the refuse level's packing ${(poolRefuse.wallS - poolBest.wallS).toFixed(1)} s (${refuseK} against ${perRound} at a time), and the suites sharing the machine's cores ${(poolBest.wallS - best).toFixed(1)} s (the best packing really run minus its count of single times).`,
        '',
        "Where a run's time goes (median over the 12 runs, ms; from `DOCKER_STABILITY_TRACE` marks):",
        '',
        '| Phase | exclusive | shared |',
        '| --- | --- | --- |',
        ...[
          ...PHASES.map(([label]) => label),
          'admission checks (sum)',
          'daemon samples for admission (sum)',
        ].map(
          (label) =>
            `| ${label} | ${(exclusive.phases?.[label] ?? 0).toFixed(0)} | ${(shared.phases?.[label] ?? 0).toFixed(0)} |`,
        ),
        '',
      ].join('\n') + '\n',
    );
  } finally {
    await removeOurs().catch(() => undefined);
    rmSync(state, { recursive: true, force: true });
    // The cgroup is removable once its containers are gone.
    for (let i = 0; i < 20 && existsSync(CGROUP_DIR); i++) {
      try {
        rmdirSync(CGROUP_DIR);
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}

main().catch((err: Error) => {
  process.stderr.write(`admission bench: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
