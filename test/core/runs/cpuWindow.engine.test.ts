// The first sample of a run rates CPU over a window that starts at the CPU counters read as the
// process started (the CLI) or as the run began: the window overlaps start-up and the lock
// instead of being waited for after them. Admission must still see a real CPU rate.
import * as assert from 'node:assert/strict';
import { readdirSync, rmdirSync } from 'node:fs';
import { ContainerStatsReader } from '../../../src/core/monitor/containerStats';
import { readCpuSeed, seedProcessCpu, takeProcessCpuSeed } from '../../../src/core/monitor/cpuSeed';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import { withTestEnvironment } from '../../../src/core/runs/testRun';
import { DockerFixture, TEST_IMAGE } from '../../helpers/docker';
import { runWorldSuite } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runs: the first sample CPU window (engine)', function () {
  this.timeout(60_000);
  const rw = runWorldSuite();
  const fx = new DockerFixture();
  let busy: string;
  let idle: string;

  before(async function () {
    // A loaded container: one core spinning (output to /dev/null, not the container's log).
    busy = (await fx.container({ cmd: ['sh', '-c', 'yes > /dev/null'] })).id;
    idle = (await fx.container()).id;
    await sleep(300);
    if (!readCpuSeed()?.counters.has(busy)) this.skip(); // no cgroup files here: the API path primes as before
  });

  after(() => fx.cleanup());

  it('reads the seeded containers counters from the cgroup files, and a seed is taken by one run only', () => {
    const seed = readCpuSeed();
    assert.ok(seed?.counters.has(busy) && seed.counters.has(idle));
    seedProcessCpu();
    assert.ok(takeProcessCpuSeed(5000)?.counters.has(busy));
    assert.equal(takeProcessCpuSeed(5000), undefined, 'taken once');
    seedProcessCpu();
    assert.equal(takeProcessCpuSeed(-1), undefined, 'a seed older than the limit is not used');
  });

  it('rates a container from the seed on its first read: the loaded one at its real CPU, the idle one near 0', async () => {
    const seed = readCpuSeed();
    await sleep(150);
    const reader = new ContainerStatsReader(rw.client, { path: 'cgroup', cpuSeed: seed });
    const { figures } = await reader.read([busy, idle]);
    const b = figures.find((f) => f.id === busy);
    const i = figures.find((f) => f.id === idle);
    assert.equal(b?.hasCpu, true, 'CPU known on the first read');
    assert.ok((b?.cpuPercent ?? 0) > 25, `the loaded container reads ${b?.cpuPercent}% of a core`);
    assert.ok((i?.cpuPercent ?? 100) < 10, `the idle container reads ${i?.cpuPercent}%`);
    // Without a seed the first read knows no CPU (the old path: read, wait, read again).
    const cold = await new ContainerStatsReader(rw.client, { path: 'cgroup' }).read([busy]);
    assert.equal(cold.figures[0]?.hasCpu, false);
  });

  it("waits only for what is left of the window: a seed older than it costs the first sample no wait, and the loaded container's CPU is in it", async () => {
    const monitor = (seed = readCpuSeed()) =>
      new ResourceMonitor(
        rw.client,
        { topConsumers: 1000 },
        { disk: false, cpuPrimeMs: 1000, cpuSeed: seed },
      );
    // A 1 s window makes the wait plain against the daemon's answers (tens of ms).
    const seed = readCpuSeed();
    await sleep(1100);
    const warm = monitor(seed);
    const t0 = performance.now();
    const s = await warm.sampleNow();
    const warmMs = performance.now() - t0;
    await warm.dispose();
    const cpu = s.consumers?.find((c) => busy.startsWith(c.id))?.cpuPercent ?? 0;
    assert.ok(cpu > 25, `loaded container at ${cpu}% of a core`);
    assert.ok(warmMs < 900, `the first sample took ${Math.round(warmMs)} ms with a 1.1 s old seed`);
    // A fresh seed: the sample waits out the rest of its window (at least ~1 s from the seed).
    const fresh = readCpuSeed();
    const cold = monitor(fresh);
    const t1 = performance.now();
    const c = await cold.sampleNow();
    const coldMs = performance.now() - t1;
    await cold.dispose();
    assert.ok(coldMs >= 900, `the first sample took ${Math.round(coldMs)} ms with a fresh seed`);
    assert.ok((c.consumers?.find((x) => busy.startsWith(x.id))?.cpuPercent ?? 0) > 25);
  });

  it('finds the cgroup files of a container with a cgroup parent of its own (a memory budget), and seeds it', async () => {
    const parent = `dstab-${fx.id}-budget`;
    const c = await fx.api.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['sh', '-c', 'yes > /dev/null'],
      Labels: fx.labels,
      HostConfig: { NetworkMode: 'none', Init: true, CgroupParent: `/${parent}` },
      StopTimeout: 1,
    });
    try {
      await c.start();
      await sleep(200);
      const seed = readCpuSeed();
      assert.ok(seed?.counters.has(c.id), 'the seed lists it');
      await sleep(150);
      const { figures, failed } = await new ContainerStatsReader(rw.client, {
        path: 'cgroup',
        cpuSeed: seed,
      }).read([c.id]);
      assert.deepEqual(failed, []);
      assert.equal(figures[0]?.via, 'cgroup');
      assert.equal(figures[0]?.hasCpu, true);
      assert.ok((figures[0]?.cpuPercent ?? 0) > 25, `reads ${figures[0]?.cpuPercent}% of a core`);
    } finally {
      await c.remove({ force: true });
      // The cgroupfs driver leaves the parent's folders behind.
      for (const ctl of readdirSync('/sys/fs/cgroup'))
        try {
          rmdirSync(`/sys/fs/cgroup/${ctl}/${parent}`);
        } catch {
          // not in this controller, or not a v1 hierarchy
        }
    }
  });

  it("admits a run on a sample that sees the loaded container's CPU", async () => {
    const { report } = await withTestEnvironment(
      { ...rw.world.runOptions('cpu-window', rw.client), force: true, monitor: { topConsumers: 1000 } },
      async () => 'ran',
    );
    // The run's baseline is its admission sample (an uncontended lock): the busy container's core is in it.
    assert.ok(
      report.record.baseline.cpuPercent > 25,
      `baseline CPU ${report.record.baseline.cpuPercent}% of a core with one core spinning`,
    );
  });
});
