// The overhead of one run (issue 17: "`run -- true` under 300 ms more than the bare command").
// The commands take turns, round after round, so that the machine's load hits them alike:
// the bare `true`, `node -e 0` (Node's own start-up, which no change of ours can remove),
// `docker-stability run -- true`, and the same without the CLI's code cache. Twice: on the daemon as it is, then with FIXTURES running
// containers of the bench's own (each sample then reads their memory and CPU). The run's stderr
// lines are stamped as they arrive, which splits its time into start-up (to its first line),
// admission (lock, first sample, own endpoint: to "started"), and the command plus the end.
// Prints a Markdown section for BENCHMARKS.md ("### Overhead of one run").
// OVERHEAD_BENCH_ROUNDS (default 25), OVERHEAD_BENCH_FIXTURES (default 5); OVERHEAD_BENCH_COMPARE
// names another build's cli.js (e.g. main's) to take turns with this one's.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_IMAGE, TEST_LABEL, testClient, removeContainersLabelled } from '../test/helpers/docker';

const ROUNDS = Number(process.env.OVERHEAD_BENCH_ROUNDS ?? 25);
const WARMUP = 3;
const FIXTURES = Number(process.env.OVERHEAD_BENCH_FIXTURES ?? 5);
const TARGET_MS = 300;
const CLI = resolve(__dirname, '../../dist/cli.js');
const COMPARE = process.env.OVERHEAD_BENCH_COMPARE;
const CATEGORY = 'overhead-bench';
const FIXTURE_ID = `overhead-bench-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

interface Timed {
  ms: number;
  code: number | null;
  /** Arrival of each stderr line, ms after the spawn. */
  lines: Array<{ at: number; text: string }>;
}

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((res, rej) => {
    const t = performance.now();
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: Timed['lines'] = [];
    let partial = '';
    c.stderr.on('data', (d: Buffer) => {
      const at = performance.now() - t;
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) lines.push({ at, text });
    });
    c.once('error', rej);
    c.once('exit', (code) => res({ ms: performance.now() - t, code, lines }));
  });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (i - lo);
}
const median = (xs: number[]): number => quantile(xs, 0.5);
const ms = (n: number): string => `${Math.round(n)} ms`;

interface Scenario {
  label: string;
  running: number;
  bare: number[];
  node: number[];
  run: number[];
  /** The OVERHEAD_BENCH_COMPARE build's run, when given. */
  other: number[];
  /** The run with DOCKER_STABILITY_CODE_CACHE=off. */
  uncached: number[];
  /** Per round: run minus bare, as the two took turns. */
  diff: number[];
  firstLine: number[];
  admitted: number[];
  end: number[];
  failures: string[];
  load: [number, number];
}

async function scenario(label: string, env: NodeJS.ProcessEnv, config: string): Promise<Scenario> {
  const running = (await testClient().api.listContainers()).length;
  const s: Scenario = {
    label,
    running,
    bare: [],
    node: [],
    run: [],
    other: [],
    uncached: [],
    diff: [],
    firstLine: [],
    admitted: [],
    end: [],
    failures: [],
    load: [loadavg()[0] as number, 0],
  };
  const runArgs = (cli: string): string[] => [
    cli,
    'run',
    '--category',
    CATEGORY,
    '--force',
    '--config',
    config,
    '--',
    'true',
  ];
  type Name = keyof Pick<Scenario, 'bare' | 'node' | 'run' | 'other' | 'uncached'>;
  const commands: Array<[Name, () => Promise<Timed>]> = [
    ['bare', () => time('true', [], env)],
    ['node', () => time(process.execPath, ['-e', '0'], env)],
    ['run', () => time(process.execPath, runArgs(CLI), env)],
    ['uncached', () => time(process.execPath, runArgs(CLI), { ...env, DOCKER_STABILITY_CODE_CACHE: 'off' })],
    ...(COMPARE
      ? [['other', () => time(process.execPath, runArgs(COMPARE), env)] as [Name, () => Promise<Timed>]]
      : []),
  ];
  for (let round = -WARMUP; round < ROUNDS; round++) {
    // A different order every round: none of the three always follows another.
    const order = commands.map((_, i) => commands[(i + round + WARMUP) % commands.length]);
    const got: Partial<Record<string, Timed>> = {};
    for (const [name, go] of order as Array<(typeof commands)[number]>) got[name] = await go();
    if (round < 0) continue;
    const run = got.run as Timed;
    if (run.code !== 0) {
      s.failures.push(`exit ${run.code}: ${run.lines.map((l) => l.text).join(' | ')}`);
      continue;
    }
    const bare = got.bare as Timed;
    s.bare.push(bare.ms);
    s.node.push((got.node as Timed).ms);
    s.run.push(run.ms);
    if (got.other) s.other.push(got.other.ms);
    if (got.uncached) s.uncached.push(got.uncached.ms);
    s.diff.push(run.ms - bare.ms);
    const first = run.lines[0]?.at;
    const started = run.lines.find((l) => / started with the /.test(l.text))?.at;
    if (first !== undefined && started !== undefined) {
      s.firstLine.push(first);
      s.admitted.push(started - first);
      s.end.push(run.ms - started);
    }
  }
  s.load[1] = loadavg()[0] as number;
  console.error(
    `overhead bench: ${label}: run ${ms(median(s.run))}, bare ${ms(median(s.bare))}, node -e 0 ${ms(median(s.node))} (${s.failures.length} failed)`,
  );
  return s;
}

async function startFixtures(): Promise<void> {
  const api = testClient().api;
  for (let i = 0; i < FIXTURES; i++) {
    const c = await api.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: { [TEST_LABEL]: FIXTURE_ID },
      HostConfig: { NetworkMode: 'none', Init: true },
    });
    await c.start();
  }
}

const removeFixtures = (): Promise<void> => removeContainersLabelled(`${TEST_LABEL}=${FIXTURE_ID}`);

function rows(s: Scenario): string[] {
  const row = (name: string, xs: number[]): string =>
    `| ${s.label} | ${name} | ${ms(median(xs))} | ${ms(quantile(xs, 0.25))}-${ms(quantile(xs, 0.75))} | ${ms(Math.min(...xs))} | ${ms(Math.max(...xs))} |`;
  return [
    row('bare `true`', s.bare),
    row('`node -e 0` (Node start-up)', s.node),
    row('`run --force -- true`', s.run),
    row('the same, no code cache', s.uncached),
    ...(s.other.length ? [row(`the same, ${COMPARE}`, s.other)] : []),
    row('run minus bare, per round', s.diff),
  ];
}

function verdict(s: Scenario): string {
  const d = median(s.diff);
  const ratio = median(s.run) / Math.max(0.1, median(s.bare));
  return (
    `- ${s.label} (${s.running} running container(s), load ${s.load[0].toFixed(1)} → ${s.load[1].toFixed(1)}): ` +
    `run costs **${ms(d)} more than the bare command** (median of the per-round differences; ratio of medians ${ratio.toFixed(0)}x), ` +
    `${ms(median(s.run) - median(s.node))} more than Node's own start-up. Target (< ${TARGET_MS} ms more than bare): ${d < TARGET_MS ? '**met**' : '**not met**'}. ` +
    `Split (medians): to its first line, "waiting for the lock", ${ms(median(s.firstLine))} (Node start-up and loading the CLI), ` +
    `from there to "started" (lock, first sample, own endpoint) ${ms(median(s.admitted))}, the command and the end ${ms(median(s.end))}; ` +
    `without the code cache the run took ${ms(median(s.uncached))}.` +
    (s.failures.length ? ` ${s.failures.length} run(s) failed: ${s.failures.slice(0, 2).join('; ')}` : '')
  );
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'ds-overhead-bench-'));
  const config = join(home, 'config.json');
  // A run of `true` needs nothing: no default need to refuse on while the category has no history.
  writeFileSync(
    config,
    JSON.stringify({
      runs: {
        prediction: {
          defaults: { [CATEGORY]: { memoryBytes: 0, cpuPercent: 0, containers: 0, networks: 0, volumes: 0 } },
        },
      },
    }),
  );
  // Its own code cache folder, written by the warm-up rounds.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DOCKER_STABILITY_HOME: home,
    DOCKER_STABILITY_CODE_CACHE: join(home, 'code-cache'),
  };
  for (const k of ['COMPOSE_PROJECT_NAME', 'DOCKER_STABILITY_CONFIG', 'DOCKER_STABILITY_LOCK_DIR'])
    delete env[k];
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      void removeFixtures().finally(() => {
        rmSync(home, { recursive: true, force: true });
        process.exit(130);
      });
    });
  const started = new Date();
  try {
    const asIs = await scenario('daemon as it is', env, config);
    await startFixtures();
    const busy = await scenario(`${FIXTURES} more running`, env, config);
    const lines = [
      `### Overhead of one run (\`run -- true\`), ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `\`npm run bench -- overhead\`. Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}. ` +
        `${ROUNDS} rounds per daemon state after ${WARMUP} warm-up rounds; in each round the commands take turns in a rotating order. ` +
        'Times from spawn to exit, seen by the parent.',
      '',
      '| daemon | command | median | p25-p75 | min | max |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows(asIs),
      ...rows(busy),
      '',
      verdict(asIs),
      verdict(busy),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    if (asIs.failures.length || busy.failures.length) process.exitCode = 1;
  } finally {
    await removeFixtures();
    rmSync(home, { recursive: true, force: true });
  }
}

void main();
