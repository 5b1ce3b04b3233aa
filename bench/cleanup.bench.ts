// Cleanup benchmark: removing 50 stopped containers, 20 networks and 20 volumes with the cleanup
// engine, against `docker container/network/volume prune --filter label=...` (the CLI a user
// would type) and the same three prune endpoints called directly, each on a fresh fixture in the
// same run. Prints a Markdown section for BENCHMARKS.md ("## Cleanup").
//   node out/bench/cleanup.bench.js          (CLEANUP_BENCH_ROUNDS=5 for more rounds; default 3)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { runCleanup } from '../src/core/cleanup';
import { DockerClient } from '../src/core/docker/client';
import { resolveEndpoint } from '../src/core/docker/endpoint';
import { LockManager } from '../src/core/lock';
import { mapLimit } from '../src/core/util/pool';
import { randomSubnet, removeAllLabelled } from '../test/helpers/docker';

const ROUNDS = Number(process.env.CLEANUP_BENCH_ROUNDS ?? 3);
const IMAGE = process.env.DOCKER_STABILITY_TEST_IMAGE ?? 'docker-stability-test/busybox:1';
const BENCH_LABEL = 'docker-stability.bench-cleanup';
const SIZES = { containers: 50, networks: 20, volumes: 20 };
const client = new DockerClient(resolveEndpoint(), { timeoutMs: 120_000 });
const api = client.api;

/** A fresh fixture: stopped (never started) containers, internal networks and named volumes, one label. */
async function fixture(): Promise<string> {
  const id = `b${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const Labels = { [BENCH_LABEL]: id, 'docker-stability.run-id': `bench-${id}` };
  made.push(id);
  const jobs: Array<() => Promise<unknown>> = [
    ...Array.from(
      { length: SIZES.containers },
      () => () =>
        api.createContainer({ Image: IMAGE, Cmd: ['true'], Labels, HostConfig: { NetworkMode: 'none' } }),
    ),
    ...Array.from(
      { length: SIZES.networks },
      // Explicit subnets: the default pools hold only ~31 networks and other suites share them.
      (_, i) => () =>
        api.createNetwork({
          Name: `dstab-${id}-n${i}`,
          Labels,
          Internal: true,
          IPAM: { Driver: 'default', Config: [{ Subnet: randomSubnet() }] },
        }),
    ),
    ...Array.from(
      { length: SIZES.volumes },
      (_, i) => () => api.createVolume({ Name: `dstab-${id}-v${i}`, Labels }),
    ),
  ];
  await mapLimit(jobs, 6, (j) => j());
  // The engine skips what was created in the second its pass begins: start after that second.
  await new Promise((r) => setTimeout(r, 1100));
  return id;
}

/** Fixtures made so far: whatever a failed run leaves is removed by label at the end. */
const made: string[] = [];

const purge = (id: string): Promise<void> => removeAllLabelled(`${BENCH_LABEL}=${id}`);

async function remaining(id: string): Promise<number> {
  const filters = { label: [`${BENCH_LABEL}=${id}`] };
  const [c, n, v] = await Promise.all([
    client.listContainers(filters),
    client.listNetworks(filters),
    client.listVolumes(filters),
  ]);
  return c.length + n.length + v.length;
}

function docker(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const p = spawn('docker', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.once('error', fail);
    p.once('exit', (code) =>
      code === 0 ? done() : fail(new Error(`docker ${args.join(' ')} exited ${code}`)),
    );
  });
}

interface Timing {
  ms: number;
  planMs?: number;
  left: number;
}

type Method = (id: string) => Promise<Timing>;

function engine(opts: { concurrency?: number; measureBytes?: boolean }, lockDir: string): Method {
  return async (id) => {
    const t = performance.now();
    const report = await runCleanup(client, {
      scope: { [BENCH_LABEL]: id },
      olderThanMs: 0,
      ...opts,
      lock: { manager: new LockManager({ dir: lockDir }) },
    });
    const ms = performance.now() - t;
    if (report.failed.length)
      throw new Error(`engine failed on ${report.failed.length}: ${report.failed[0]?.reason}`);
    return { ms, planMs: ms - report.durationMs, left: await remaining(id) };
  };
}

const pruneCli: Method = async (id) => {
  const f = `label=${BENCH_LABEL}=${id}`;
  const t = performance.now();
  await docker(['container', 'prune', '-f', '--filter', f]);
  await docker(['network', 'prune', '-f', '--filter', f]);
  // API 1.41: volume prune removes named volumes too (moby #44216), so the label filter is all that scopes it.
  await docker(['volume', 'prune', '-f', '--filter', f]);
  return { ms: performance.now() - t, left: await remaining(id) };
};

const pruneApi: Method = async (id) => {
  const filters = { label: [`${BENCH_LABEL}=${id}`] };
  const t = performance.now();
  await api.pruneContainers({ filters });
  await api.pruneNetworks({ filters });
  await api.pruneVolumes({ filters });
  return { ms: performance.now() - t, left: await remaining(id) };
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const lockDir = mkdtempSync(join(tmpdir(), 'dstab-cleanup-bench-'));
  const load0 = loadavg();
  const version = await client.version();
  const methods: Array<[string, Method, number]> = [
    ['cleanup engine (`runCleanup`, concurrency 4, sizes measured)', engine({}, lockDir), ROUNDS],
    ['`docker container/network/volume prune --filter label=…` (3 CLI calls)', pruneCli, ROUNDS],
    ['prune endpoints called directly (3 API calls)', pruneApi, ROUNDS],
    ['cleanup engine, concurrency 1', engine({ concurrency: 1 }, lockDir), 1],
    ['cleanup engine, concurrency 8', engine({ concurrency: 8 }, lockDir), 1],
    ['cleanup engine, concurrency 4, sizes not measured', engine({ measureBytes: false }, lockDir), 1],
  ];
  const results = new Map<string, Timing[]>();
  try {
    // Rounds interleave the methods so that load changes hit them alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, method, rounds] of methods) {
        if (round >= rounds) continue;
        const id = await fixture();
        const timing = await method(id);
        if (timing.left) throw new Error(`${name}: ${timing.left} resources left`);
        results.set(name, [...(results.get(name) ?? []), timing]);
        process.stderr.write(`round ${round + 1} ${name}: ${timing.ms.toFixed(0)} ms\n`);
      }
    }
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
    for (const id of made) await purge(id);
  }
  const load1 = loadavg();
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const la = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
  const lines = [
    '## Cleanup',
    '',
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench -- cleanup\`. Machine: ${cpus().length} CPUs (${cpu}), ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB, Docker Engine ${version.Version} (API ${version.ApiVersion}), Node ${process.version}; ` +
      `load average at start ${la(load0)}, at end ${la(load1)}.`,
    '',
    `Each measurement removes a fresh fixture of ${SIZES.containers} stopped containers, ${SIZES.networks} networks and ${SIZES.volumes} volumes ` +
      'carrying one label; every method must leave none of them. Wall time in milliseconds; the engine figure includes its plan ' +
      '(lock and list calls) and its re-inspection of every resource before removing it.',
    '',
    '| method | median ms | runs (ms) | of which lock and plan (median ms) |',
    '| --- | --- | --- | --- |',
    ...[...results.entries()].map(([name, ts]) => {
      const plan = ts.filter((t) => t.planMs !== undefined).map((t) => t.planMs as number);
      return `| ${name} | ${median(ts.map((t) => t.ms)).toFixed(0)} | ${ts.map((t) => t.ms.toFixed(0)).join(', ')} | ${plan.length ? median(plan).toFixed(0) : '-'} |`;
    }),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`cleanup bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
