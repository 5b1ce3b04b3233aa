import { strict as assert } from 'node:assert';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import { DockerFixture } from '../../helpers/docker';
import { waitFor } from '../../helpers/run';

describe('the stats cost budget, against the real engine (stats API path forced)', function () {
  this.timeout(60_000);
  const fx = new DockerFixture();
  after(() => fx.cleanup());

  it("measures the daemon's CPU per read, stretches the per-container interval to stay under budget, and counts still follow events", async () => {
    for (let i = 0; i < 4; i++) await fx.container({ name: fx.name(`b${i}`) });
    // a budget of 0.1% of a core: any real read of a few containers is over it at 500 ms
    const monitor = new ResourceMonitor(fx.client, {
      statsPath: 'api',
      intervalMs: 500,
      statsBudgetPercent: 0.1,
      topConsumers: 1000,
    });
    try {
      const first = await monitor.sampleNow();
      const b = first.budget;
      assert.ok(b, 'the API path says what it costs');
      assert.equal(b.measure, 'daemon-cpu', "the local dockerd's CPU from /proc");
      assert.equal(b.limitPercent, 0.1);
      assert.ok(b.costPercent > 0.1, `cost ${b.costPercent}%`);
      assert.ok(b.statsEveryMs > 500 && b.statsEveryMs % 500 === 0, `every ${b.statsEveryMs} ms`);
      assert.match(b.reason, /^sampling containers every [\d.]+ s to stay under 0\.1% CPU$/);

      // before the next full read: the figures are carried, with the time they were read
      const second = await monitor.sampleNow();
      assert.equal(second.budget?.statsAt, b.statsAt);
      assert.ok(Date.parse(second.sampledAt) > Date.parse(b.statsAt));

      // a container started meanwhile is counted and read at once (only it), not at the next full read
      const late = await fx.container({ name: fx.name('late') });
      const third = await waitFor(
        'the late container in a sample',
        async () => {
          const s = await monitor.sampleNow();
          return s.consumers?.some((c) => c.id === late.id.slice(0, 12)) ? s : undefined;
        },
        10_000,
        100,
      );
      // other engineers' containers come and go on this daemon: only ours are asserted
      assert.equal(third.budget?.statsAt, b.statsAt, 'read between full reads');
      for (const c of await fx.api.listContainers({
        filters: { label: [`docker-stability.test-fixture=${fx.id}`] },
      }))
        assert.ok(
          third.consumers?.some((x) => x.id === c.Id.slice(0, 12)),
          `${c.Names[0]} carried or read`,
        );
    } finally {
      await monitor.dispose();
    }
  });

  it('within budget it reads every sample and says so', async () => {
    const monitor = new ResourceMonitor(fx.client, {
      statsPath: 'api',
      intervalMs: 2000,
      statsBudgetPercent: 100,
    });
    try {
      const s = await monitor.sampleNow();
      assert.equal(s.budget?.statsEveryMs, 2000);
      assert.match(
        s.budget?.reason ?? '',
        /^sampling containers every 2 s \(about [\d.]+% CPU, under 100%\)$/,
      );
    } finally {
      await monitor.dispose();
    }
  });
});
