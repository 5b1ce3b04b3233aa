import { strict as assert } from 'node:assert';
import type Docker from 'dockerode';
import { withTestEnvironment } from '../../../src/core/runs/testRun';
import { DockerFixture, TEST_IMAGE } from '../../helpers/docker';
import { RunWorld } from './helpers';
import { MiB, waitFor } from '../../helpers/run';

const OWN_MIB = 96;
const OTHER_MIB = 256;

describe('per-run cost, against the real engine', function () {
  this.timeout(60_000);
  const fx = new DockerFixture();
  const world = new RunWorld();
  after(async () => {
    await fx.cleanup();
    await world.dispose(fx.api);
  });

  /** A container holding `mib` MiB in a tmpfs (working set the cgroup counts) and idling. */
  async function holder(
    suffix: string,
    mib: number,
    labels: Record<string, string>,
  ): Promise<Docker.Container> {
    const c = await fx.api.createContainer({
      Image: TEST_IMAGE,
      name: fx.name(suffix),
      Cmd: [
        'sh',
        '-c',
        `dd if=/dev/zero of=/hold/held bs=1M count=${mib} 2>/dev/null; while true; do sleep 3600; done`,
      ],
      Labels: { ...fx.labels, ...labels },
      HostConfig: {
        NetworkMode: 'none',
        Init: true,
        Memory: (mib + 64) * MiB,
        Tmpfs: { '/hold': `size=${mib + 16}m` },
      },
      StopTimeout: 1,
    });
    await c.start();
    return c;
  }

  it("records the run's own containers' memory, not the heavier unlabelled container's", async () => {
    const { report } = await withTestEnvironment(
      {
        ...world.runOptions('cost', fx.client),
        sampleIntervalMs: 300,
        // other engineers' containers share this daemon: counts must not make the run wait for room
        monitor: {
          statsPath: 'cgroup',
          capacities: { containers: 100_000, networks: 10_000, volumes: 100_000 },
        },
      },
      async (env) => {
        const own = await holder('own', OWN_MIB, env.labels);
        // someone else's load on the same daemon, started during the run and heavier
        const other = await holder('other', OTHER_MIB, {});
        const used = async (c: Docker.Container): Promise<number> =>
          ((await c.stats({ stream: false })) as { memory_stats: { usage?: number } }).memory_stats.usage ??
          0;
        await waitFor(
          'both holding their memory',
          async () =>
            (await used(own)) >= OWN_MIB * MiB && (await used(other)) >= OTHER_MIB * MiB ? true : undefined,
          20_000,
          200,
        );
        await new Promise((r) => setTimeout(r, 1500)); // a few samples of both
      },
    );
    const cost = report.record.cost;
    assert.ok(cost && cost.samples >= 2, JSON.stringify(cost));
    const peakMiB = cost.memoryBytes.peak / MiB;
    assert.ok(peakMiB >= OWN_MIB && peakMiB < OWN_MIB + 16, `own peak ${peakMiB.toFixed(1)} MiB`);
    assert.ok(cost.memoryBytes.mean <= cost.memoryBytes.peak);
    // the daemon-wide difference counts the other container too: what the cost is for
    assert.ok(
      report.record.added.memoryBytes / MiB >= OWN_MIB + OTHER_MIB,
      `added ${report.record.added.memoryBytes / MiB} MiB`,
    );
  });
});
