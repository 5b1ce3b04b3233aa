import * as assert from 'node:assert/strict';
import { LockManager, LockTimeoutError } from '../../../src/core/lock';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import { beginTestRun, type ActiveTestRun } from '../../../src/core/runs/testRun';
import { testClient } from '../../helpers/docker';
import { RunWorld } from './helpers';

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
});
