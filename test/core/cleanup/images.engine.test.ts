import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCleanup } from '../../../src/core/cleanup';
import { LockManager } from '../../../src/core/lock';
import { DockerFixture, TEST_IMAGE, TEST_LABEL, testClient } from '../../helpers/docker';

describe('cleanup of dangling test images (real engine, opt-in)', function () {
  this.timeout(120_000);
  const f = new DockerFixture(testClient(60_000));
  const run = { 'docker-stability.run-id': `run-${f.id}` };
  const repo = `dstab-cleanup-images-${f.id}`;
  const made: string[] = [];
  const lockDir = mkdtempSync(join(tmpdir(), 'dstab-cleanup-images-lock-'));

  /**
   * A dangling image: committed under `repo:tag`, then the tag moves to a newer commit. `LABEL`
   * lines give it labels the way a test build's Dockerfile would.
   */
  async function dangling(tag: string, labels: Record<string, string>): Promise<string> {
    const c = await f.container({ start: false });
    const changes = Object.entries({ ...f.labels, ...labels }).map(([k, v]) => `LABEL ${k}="${v}"`);
    const commit = async (n: number) => {
      const r = (await c.commit({ repo, tag, changes: [...changes, `LABEL build="${n}"`] })) as {
        Id: string;
      };
      made.push(r.Id);
      return r.Id;
    };
    const old = await commit(1);
    await commit(2);
    return old;
  }

  after(async () => {
    rmSync(lockDir, { recursive: true, force: true });
    await f.cleanup();
    for (const id of made.reverse())
      await f.api
        .getImage(id)
        .remove({ force: true })
        .catch(() => undefined);
  });

  it('removes owned dangling images only with includeImages, keeps unowned ones and ones a staying container uses', async () => {
    const [owned, unowned, used] = await Promise.all([
      dangling('owned', run),
      dangling('unowned', {}),
      dangling('used', run),
    ]);
    // The container has the run label only through its image's LABEL, which owns nothing: it
    // stays, and keeps the image in use.
    const user = await f.api.createContainer({
      Image: used,
      Cmd: ['true'],
      Labels: f.labels,
      HostConfig: { NetworkMode: 'none' },
    });
    await new Promise((r) => setTimeout(r, 1100));
    const ids = new Set([owned, unowned, used]);

    const without = await runCleanup(f.client, { scope: f.labels, olderThanMs: 0, dryRun: true });
    assert.ok(![...without.removed, ...without.kept].some((e) => e.type === 'image'), 'images are opt-in');

    const report = await runCleanup(f.client, {
      scope: f.labels,
      olderThanMs: 0,
      includeImages: true,
      lock: { manager: new LockManager({ dir: lockDir }) },
    });
    const images = (list: typeof report.removed) =>
      new Map(list.filter((e) => e.type === 'image' && ids.has(e.id)).map((e) => [e.id, e]));
    const removed = images(report.removed);
    const kept = images(report.kept);
    assert.deepEqual([...removed.keys()], [owned]);
    assert.match(
      removed.get(owned)?.reason ?? '',
      new RegExp(`^dangling image of run run-${f.id} \\(its own run label\\)$`),
    );
    assert.equal(
      report.kept.find((e) => e.id === user.id)?.reason,
      `docker-stability.run-id=run-${f.id} comes from its image's LABEL, which owns nothing`,
    );
    assert.equal(typeof removed.get(owned)?.bytes, 'number');
    assert.equal(kept.get(unowned)?.reason, 'not owned by a test run');
    assert.match(kept.get(used)?.reason ?? '', /^used by \S+ \(created\)$/);
    const left = new Set(
      (await f.api.listImages({ filters: { label: [`${TEST_LABEL}=${f.id}`] } })).map((i) => i.Id),
    );
    assert.ok(!left.has(owned) && left.has(unowned) && left.has(used));
    assert.ok((await f.api.getImage(TEST_IMAGE).inspect()).Id, 'the base image is untouched');
  });
});
