// Parallel test runs: the seed's claim that test suites sharing one Docker environment succeed
// every time under `docker-stability run`. A tiny suite that breaks when two copies share the
// environment (it owns a container with one fixed name for about a second) is launched
// PARALLEL_BENCH_COPIES (default 20) times at once, first bare, then each under
// `docker-stability run`. Prints a Markdown section for BENCHMARKS.md ("## Parallel test runs").
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_IMAGE, removeContainersLabelled } from '../test/helpers/docker';

const COPIES = Number(process.env.PARALLEL_BENCH_COPIES ?? 20);
const FIXTURE_NAME = 'dstab-parallel-fixture';
/** Every fixture container carries this label, so the bench can remove them whatever happens. */
const BENCH_LABEL = `docker-stability.parallel-bench=${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const CLI = resolve(__dirname, '../../dist/cli.js');

/**
 * The suite, as a user's test command: create the fixture container under its fixed name,
 * hold it about a second, check the name still points at our container, remove it. Exit 0 only
 * if all of that held; a second copy running at the same time fails on the name conflict or
 * finds the name pointing at another copy's container.
 */
const SUITE = [
  `id=$(docker create --network none --name ${FIXTURE_NAME} --label ${BENCH_LABEL} ${TEST_IMAGE} true 2>/dev/null) || exit 1`,
  'sleep 1',
  `cur=$(docker inspect -f '{{.Id}}' ${FIXTURE_NAME} 2>/dev/null) || exit 1`,
  '[ "$cur" = "$id" ] || exit 1',
  'docker rm -f "$id" >/dev/null 2>&1 || exit 1',
].join('\n');

interface Outcome {
  code: number | null;
  ms: number;
}

function launch(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  const t = performance.now();
  return new Promise((res, rej) => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.once('error', rej);
    c.once('exit', (code) => {
      if (code !== 0 && code !== 1)
        console.error(`parallel bench: exit ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}`);
      res({ code, ms: performance.now() - t });
    });
  });
}

/** Removes this bench's fixture containers, and one a previous interrupted bench left under the fixed name. */
async function removeFixtures(): Promise<void> {
  await Promise.all([
    removeContainersLabelled(BENCH_LABEL),
    // the earlier bench's label has another value: any value, but only under the fixed name
    removeContainersLabelled(BENCH_LABEL.split('=')[0] as string, { name: [`^/${FIXTURE_NAME}$`] }),
  ]);
}

async function round(
  label: string,
  start: () => Promise<Outcome>,
): Promise<{ ok: number; wallS: number; outcomes: Outcome[] }> {
  await removeFixtures();
  const t = performance.now();
  const outcomes = await Promise.all(Array.from({ length: COPIES }, start));
  const wallS = (performance.now() - t) / 1000;
  const ok = outcomes.filter((o) => o.code === 0).length;
  console.error(`parallel bench: ${label}: ${ok}/${COPIES} succeeded in ${wallS.toFixed(1)} s`);
  return { ok, wallS, outcomes };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'ds-parallel-bench-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_STABILITY_HOME: home };
  delete env.COMPOSE_PROJECT_NAME;
  const started = new Date();
  const load0 = loadavg();
  // Interrupted: remove the fixtures before ending (the children get the signal too).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void removeFixtures().finally(() => {
        rmSync(home, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  try {
    const bare = await round('bare', () => launch('sh', ['-c', SUITE], env));
    const controlled = await round('under run', () =>
      launch(
        process.execPath,
        [CLI, 'run', '--category', 'parallel-bench', '--timeout', '20m', '--', 'sh', '-c', SUITE],
        env,
      ),
    );
    const load1 = loadavg();
    const dockerVersion = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
      encoding: 'utf8',
    }).stdout.trim();
    const perRun = controlled.wallS / COPIES;
    const lines = [
      '## Parallel test runs',
      '',
      `Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench -- parallel\`. Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ` +
        `${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Docker Engine ${dockerVersion}, Node ${process.version}; load average at start ${load0.map((l) => l.toFixed(1)).join(' / ')}, ` +
        `at end ${load1.map((l) => l.toFixed(1)).join(' / ')} (other engineers' suites share the machine).`,
      '',
      `The suite creates a container with the fixed name \`${FIXTURE_NAME}\`, holds it about a second, checks the name still points at its own container and removes it: two copies sharing the environment break each other. ${COPIES} copies launched at once:`,
      '',
      '| Launch | Succeeded | Wall time |',
      '| --- | --- | --- |',
      `| bare (\`sh -c suite\` x ${COPIES}) | ${bare.ok}/${COPIES} (${Math.round((bare.ok / COPIES) * 100)}%) | ${bare.wallS.toFixed(1)} s |`,
      `| under \`docker-stability run --category parallel-bench\` x ${COPIES} | ${controlled.ok}/${COPIES} (${Math.round((controlled.ok / COPIES) * 100)}%) | ${controlled.wallS.toFixed(1)} s (${perRun.toFixed(1)} s per run, serialised by the lock) |`,
      '',
      'Under `run` the copies take the environment lock in turn, so each suite owns the environment while it runs; the cost is the wait: the copies run one after the other, and each run adds its own overhead (prediction sample, lock, baseline sample, start on a whole second, cleanup pass).',
    ];
    process.stdout.write(lines.join('\n') + '\n');
    if (controlled.ok !== COPIES) process.exitCode = 1;
  } finally {
    await removeFixtures();
    rmSync(home, { recursive: true, force: true });
  }
}

void main();
