import * as assert from 'node:assert/strict';
import { LockManager, LockTimeoutError } from '../../../src/core/lock';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import { beginTestRun, type ActiveTestRun } from '../../../src/core/runs/testRun';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';
import { TEST_IMAGE, testClient } from '../../helpers/docker';
import { RunWorld, waitUntil } from './helpers';

const MiB = 2 ** 20;

describe('runs: shared runs admitted by predicted resources (engine)', function () {
  this.timeout(90_000);
  const client = testClient();
  let world: RunWorld;
  const active: ActiveTestRun[] = [];

  beforeEach(() => {
    world = new RunWorld();
  });
  afterEach(async () => {
    await Promise.all(active.splice(0).map((r) => r.end({ exitCode: 0 }).catch(() => undefined)));
    await world.dispose(client.api);
  });

  /** Options for a run whose category needs `needMiB` of memory and nothing else, on a daemon of `capacityBytes`. */
  const options = (lock: LockManager, category: string, needMiB: number, capacityBytes?: number) => ({
    ...world.runOptions(category, client),
    lock,
    mode: 'shared' as const,
    cleanupAfter: false,
    prediction: {
      defaults: {
        [category]: { memoryBytes: needMiB * MiB, cpuPercent: 0, containers: 0, networks: 0, volumes: 0 },
      },
    },
    monitor: {
      capacities: {
        containers: 1_000_000,
        networks: 1_000_000,
        volumes: 1_000_000,
        ...(capacityBytes ? { memoryBytes: capacityBytes } : {}),
      },
    },
  });

  it('two shared runs hold the environment at once; an exclusive one waits for both, and runs once they end', async () => {
    const lock = new LockManager({ dir: world.lockDir });
    const a = await beginTestRun(options(lock, 'shared-a', 10));
    active.push(a);
    const b = await beginTestRun({ ...options(lock, 'shared-b', 10), timeoutMs: 20_000 });
    active.push(b);
    const [st] = await lock.status('test');
    assert.equal(st?.shared?.length, 2);
    await assert.rejects(
      lock.acquire('test', { timeoutMs: 500 }),
      (err: Error) => err instanceof LockTimeoutError && /held in shared mode by/.test(err.message),
    );
    await Promise.all(active.splice(0).map((r) => r.end({ exitCode: 0 })));
    const x = await lock.acquire('test', { timeoutMs: 5_000 });
    await x.release();
  });

  it('a shared run that would push the daemon past the refuse level beside the ones already in waits, naming the figures, and gets in when one ends', async () => {
    const monitor = new ResourceMonitor(client, {});
    const used = (await monitor.sampleNow()).resources.memory.used;
    await monitor.dispose();
    // Room for one 200 MiB run below 90% (EMERGENCY), not for two: other suites' containers may
    // grow meanwhile, hence 100 MiB of slack either way.
    const capacity = Math.round((used + 300 * MiB) / 0.9);
    const lock = new LockManager({ dir: world.lockDir });
    const a = await beginTestRun(options(lock, 'big', 200, capacity));
    active.push(a);
    await assert.rejects(
      beginTestRun({ ...options(lock, 'big', 200, capacity), timeoutMs: 1_500 }),
      (err: Error) =>
        err instanceof LockTimeoutError &&
        /no room for another shared holder \(predicted level EMERGENCY .*memory .* plus what the 1 shared run already running will still add/.test(
          err.message,
        ),
    );
    const waiting = beginTestRun({ ...options(lock, 'big', 200, capacity), timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    await active.splice(0)[0]?.end({ exitCode: 0 });
    const b = await waiting;
    active.push(b);
  });

  it('a shared run arriving while the shared runs in fill the daemon queues for its turn (no orphan cleanup, no polling outside the queue) and gets in as soon as one ends', async () => {
    const monitor = new ResourceMonitor(client, {});
    const used = (await monitor.sampleNow()).resources.memory.used;
    // Room below 90% for the daemon as it is plus 150 MiB: A's container (100 MiB) plus B's
    // predicted 100 MiB does not fit, B alone does (50 MiB of slack either way).
    const capacity = Math.round((used + 150 * MiB) / 0.9);
    const lock = new LockManager({ dir: world.lockDir });
    const a = await beginTestRun(options(lock, 'fill', 100, capacity));
    active.push(a);
    const own = new DockerClient(parseHost(a.env.DOCKER_HOST as string, 'test'));
    const filler = await own.api.createContainer({
      name: `${world.prefix}filler`,
      Image: TEST_IMAGE,
      Cmd: ['sh', '-c', 'dd if=/dev/zero of=/data/fill bs=1M count=100 2>/dev/null && sleep 60'],
      HostConfig: { NetworkMode: 'none', Tmpfs: { '/data': 'rw,size=150m' } },
    });
    await filler.start();
    await waitUntil(
      async () => (await monitor.sampleNow()).resources.memory.used > used + 90 * MiB,
      20_000,
      "A's container filling its 100 MiB",
    );
    await monitor.dispose();
    const progress: string[] = [];
    const waiting = beginTestRun({
      ...options(lock, 'fill', 100, capacity),
      timeoutMs: 30_000,
      onProgress: (m) => progress.push(m),
    });
    let b: ActiveTestRun | undefined;
    void waiting.then(
      (r) => (b = r),
      () => undefined,
    );
    await waitUntil(
      async () => !!(await lock.status('test'))[0]?.queue?.some((w) => w.blocked),
      20_000,
      'B refused for room in the queue',
    );
    assert.equal(b, undefined, 'B is not in while A and its container are');
    assert.ok(!progress.some((m) => /orphans/.test(m)), progress.join('\n'));
    await filler.remove({ force: true });
    await active.splice(0)[0]?.end({ exitCode: 0 });
    active.push(await waiting);
    assert.ok(!progress.some((m) => /orphans/.test(m)), progress.join('\n'));
  });
});
