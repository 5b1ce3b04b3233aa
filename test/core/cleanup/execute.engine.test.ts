import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeCleanup, planCleanup, runCleanup } from '../../../src/core/cleanup';
import { LockManager } from '../../../src/core/lock';
import { DockerFixture, testClient } from '../../helpers/docker';

describe('cleanup execute on the real engine: re-checks what changed since planning', function () {
  this.timeout(120_000);
  const f = new DockerFixture(testClient(60_000));
  const run = { 'docker-stability.run-id': `run-${f.id}` };
  after(() => f.cleanup());

  it('keeps a container started, a volume mounted and a network attached since planning; counts one already gone as removed', async () => {
    const [toStart, plain, gone, other] = await Promise.all([
      f.container({ labels: run, start: false }),
      f.container({ labels: run, start: false }),
      f.container({ labels: run, start: false }),
      f.container({ labels: run, start: false }),
    ]);
    const [volMounted, volFree] = await Promise.all([f.volume(undefined, run), f.volume(undefined, run)]);
    const netName = f.name('net-attached');
    const [netAttached, netFree] = await Promise.all([f.network(netName, run), f.network(undefined, run)]);
    await new Promise((r) => setTimeout(r, 1100));

    const plan = await planCleanup(f.client, { scope: f.labels, olderThanMs: 0 });
    const planned = new Set(plan.remove.map((e) => e.id));
    for (const id of [
      toStart.id,
      plain.id,
      gone.id,
      other.id,
      volMounted,
      volFree,
      netAttached.id,
      netFree.id,
    ]) {
      assert.ok(planned.has(id), `${id} is planned for removal`);
    }

    // Between plan and execute: a planned container starts, another is removed by someone else,
    // an unplanned container mounts a planned volume and another attaches to a planned network,
    // and a new owned container appears.
    const [, , mounter, attacher, newcomer] = await Promise.all([
      toStart.start(),
      gone.remove(),
      f.container({ start: false, binds: [`${volMounted}:/data`] }),
      f.container({ start: false, network: netName }),
      f.container({ labels: run, start: false }),
    ]);

    const report = await executeCleanup(f.client, plan, { concurrency: 2 });
    const byId = (list: typeof report.removed) => new Map(list.map((e) => [e.id, e.reason]));
    const removed = byId(report.removed);
    const kept = byId(report.kept);
    assert.deepEqual(report.failed, []);
    assert.equal(kept.get(toStart.id), 'started since planning');
    const nameOf = async (c: typeof mounter) => (await c.inspect()).Name.replace(/^\//, '');
    assert.equal(kept.get(volMounted), `mounted by ${await nameOf(mounter)} (created) since planning`);
    assert.equal(kept.get(netAttached.id), `attached to ${await nameOf(attacher)} (created) since planning`);
    assert.match(removed.get(gone.id) ?? '', /\(already gone\)$/);
    for (const id of [plain.id, other.id, volFree, netFree.id]) assert.ok(removed.has(id), `${id} removed`);

    const left = new Set(
      (await f.client.listContainers({ label: [`docker-stability.test-fixture=${f.id}`] })).map((c) => c.Id),
    );
    for (const c of [toStart, mounter, attacher, newcomer]) assert.ok(left.has(c.id), `${c.id} still exists`);
    assert.ok(!left.has(plain.id) && !left.has(other.id));
    const vols = new Set(
      (await f.client.listVolumes({ label: [`docker-stability.test-fixture=${f.id}`] })).map((v) => v.Name),
    );
    assert.ok(vols.has(volMounted) && !vols.has(volFree));
  });

  it('two passes started together run one after the other: the second finds nothing left to remove', async () => {
    const ids = (
      await Promise.all(Array.from({ length: 10 }, () => f.container({ labels: run, start: false })))
    ).map((c) => c.id);
    await new Promise((r) => setTimeout(r, 1100));
    const dir = mkdtempSync(join(tmpdir(), 'dstab-cleanup-serial-'));
    try {
      const opts = (manager: LockManager) => ({ scope: f.labels, olderThanMs: 0, lock: { manager } });
      const reports = await Promise.all([
        runCleanup(f.client, opts(new LockManager({ dir }))),
        runCleanup(f.client, opts(new LockManager({ dir }))),
      ]);
      const counts = reports.map((r) => r.removed.filter((e) => ids.includes(e.id)).length).sort();
      assert.deepEqual(counts, [0, 10]);
      for (const r of reports) {
        assert.deepEqual(r.failed, []);
        assert.ok(
          !r.removed.some((e) => /already gone/.test(e.reason)),
          'no pass planned what the other removed',
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a bad concurrency with a clear error', async () => {
    const plan = await planCleanup(f.client, { scope: { [`never-${f.id}`]: 'x' } });
    await assert.rejects(
      executeCleanup(f.client, plan, { concurrency: 0 }),
      /concurrency must be a whole number >= 1/,
    );
  });
});
