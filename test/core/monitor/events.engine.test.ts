import { strict as assert } from 'node:assert';
import type { DockerClient } from '../../../src/core/docker/client';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import { DockerFixture } from '../../helpers/docker';
import { waitFor } from '../../helpers/run';

type Counted = 'containers' | 'networks' | 'volumes';

/** What the daemon lists right now, counted as the monitor counts (predefined networks excluded). */
async function direct(client: DockerClient, kind: Counted): Promise<number> {
  if (kind === 'containers') return (await client.listContainers()).length;
  if (kind === 'networks')
    return (await client.listNetworks()).filter((n) => !['bridge', 'host', 'none'].includes(n.Name)).length;
  return (await client.listVolumes()).length;
}

describe('monitor counts follow the daemon through /events', function () {
  this.timeout(30_000);
  const fx = new DockerFixture();
  // An hour-long fallback poll: within this test only an event can make the monitor relist.
  const monitor = new ResourceMonitor(fx.client, { statsPath: 'cgroup' }, { fallbackPollMs: 3_600_000 });
  after(async () => {
    await monitor.dispose();
    await fx.cleanup();
  });

  /**
   * Waits until an event has made the monitor relist `kind`, then checks the sample against a
   * direct listing. Other suites create and remove resources on this daemon concurrently, so
   * the comparison is retried until a direct listing taken before and after the sample agree.
   */
  async function expectFollows(kind: Counted, callsBefore: number): Promise<void> {
    await waitFor(`an event to mark ${kind} dirty`, async () => {
      await monitor.sampleNow();
      return (monitor.inventoryListCalls[kind] ?? 0) > callsBefore ? true : undefined;
    });
    await waitFor(
      `the ${kind} count to match a direct listing`,
      async () => {
        const before = await direct(fx.client, kind);
        // A later event may still be in flight: let it land before sampling.
        await new Promise((r) => setTimeout(r, 100));
        const s = await monitor.sampleNow();
        const after = await direct(fx.client, kind);
        return before === after && s.resources[kind].used === after ? true : undefined;
      },
      10_000,
      200,
    );
  }

  before(() => monitor.sampleNow());

  for (const kind of ['containers', 'networks', 'volumes'] as const) {
    it(`relists ${kind} on create and remove events, without polling`, async () => {
      const calls0 = monitor.inventoryListCalls[kind] ?? 0;
      let remove: () => Promise<void>;
      if (kind === 'containers') {
        const c = await fx.container({ start: false });
        remove = () => c.remove({ force: true });
      } else if (kind === 'networks') {
        const n = await fx.network();
        remove = () => n.remove();
      } else {
        const v = await fx.volume();
        remove = () => fx.api.getVolume(v).remove();
      }
      await expectFollows(kind, calls0);
      const withOurs = (await monitor.sampleNow()).resources[kind].used;
      assert.ok(withOurs >= 1, `${kind}: ours is counted`);

      const calls1 = monitor.inventoryListCalls[kind] ?? 0;
      await remove();
      await expectFollows(kind, calls1);
    });
  }

  it('relists nothing on a sample that no event preceded (not one list call per sample)', async () => {
    const total = (): number => Object.values(monitor.inventoryListCalls).reduce((a, b) => a + b, 0);
    const before = total();
    const samples = 10;
    for (let i = 0; i < samples; i++) await monitor.sampleNow();
    // Without events every sample would relist all three kinds (30 calls). Other suites' churn
    // on this daemon may cause a few relists meanwhile, never one per sample.
    assert.ok(total() - before < samples, `${total() - before} list calls over ${samples} samples`);
  });
});
