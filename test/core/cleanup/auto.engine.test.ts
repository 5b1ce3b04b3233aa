import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CleanupReport } from '../../../src/core/cleanup';
import { AutoCleanup, cleanupLockName, ScheduledCleanup } from '../../../src/core/cleanup';
import type { Level } from '../../../src/core/levels';
import { RESOURCE_KINDS } from '../../../src/core/levels';
import { LockManager, LockTimeoutError } from '../../../src/core/lock';
import type { ResourceFigure, Sample } from '../../../src/core/monitor/types';
import { DockerFixture, TEST_LABEL, testClient } from '../../helpers/docker';

/** A sample source the test drives by hand, in place of the monitor (Docker itself is real). */
class SampleSource {
  private listeners = new Set<(s: Sample) => void>();
  onSample(cb: (s: Sample) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  emit(level: Level): void {
    const figure: ResourceFigure = { used: 1, capacity: 1, percent: 100, level };
    const resources = Object.fromEntries(RESOURCE_KINDS.map((k) => [k, figure])) as Sample['resources'];
    const s: Sample = {
      endpoint: 'test',
      sampledAt: new Date().toISOString(),
      level,
      resources,
      running: 0,
      source: { cgroup: 0, api: 0, failed: 0 },
      durationMs: 1,
    };
    for (const l of this.listeners) l(s);
  }
  get subscribers(): number {
    return this.listeners.size;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the next value pushed, or rejects after `ms`. */
function nextOf<T>(queue: T[], ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((done, fail) => {
    const poll = () => {
      const v = queue.shift();
      if (v !== undefined) done(v);
      else if (Date.now() > deadline) fail(new Error(`nothing within ${ms} ms`));
      else setTimeout(poll, 50);
    };
    poll();
  });
}

describe('automatic and scheduled cleanup (real engine)', function () {
  this.timeout(120_000);
  const f = new DockerFixture(testClient(60_000));
  const run = { 'docker-stability.run-id': `run-${f.id}` };
  const lockDir = mkdtempSync(join(tmpdir(), 'dstab-cleanup-auto-lock-'));
  const locks = new LockManager({ dir: lockDir });
  const cleanup = { scope: f.labels, olderThanMs: 0 };

  after(async () => {
    await f.cleanup();
    rmSync(lockDir, { recursive: true, force: true });
  });

  /** Owned containers that never started, old enough (to the second) for a pass without age floor. */
  async function orphans(n: number): Promise<string[]> {
    const cs = await Promise.all(Array.from({ length: n }, () => f.container({ labels: run, start: false })));
    await sleep(1100);
    return cs.map((c) => c.id);
  }

  async function exists(id: string): Promise<boolean> {
    const cs = await f.client.listContainers({ label: [`${TEST_LABEL}=${f.id}`] });
    return cs.some((c) => c.Id === id);
  }

  it('runs one pass when the level rises to CRITICAL, not again while it stays there or within the cooldown', async () => {
    const source = new SampleSource();
    const reports: CleanupReport[] = [];
    const auto = new AutoCleanup(source, f.client, {
      cooldownMs: 60_000,
      cleanup,
      lock: { manager: locks },
      onReport: (r) => reports.push(r),
    });
    try {
      const first = await orphans(2);
      source.emit('WARNING');
      await sleep(500);
      assert.equal(reports.length, 0, 'WARNING is below the default trigger level');
      assert.ok(await exists(first[0] as string));

      source.emit('CRITICAL');
      const report = await nextOf(reports, 30_000);
      assert.deepEqual(report.removed.map((e) => e.id).sort(), [...first].sort());
      assert.deepEqual(report.failed, []);

      const later = await orphans(1);
      source.emit('EMERGENCY');
      source.emit('SAFE');
      source.emit('CRITICAL');
      await sleep(1000);
      assert.equal(reports.length, 0, 'a rise within the cooldown runs no pass');
      assert.ok(await exists(later[0] as string));
    } finally {
      auto.dispose();
    }
    assert.equal(source.subscribers, 0, 'dispose unsubscribes');
  });

  it('says why an automatic pass did not run when another cleanup holds the lock', async () => {
    const source = new SampleSource();
    const errors: unknown[] = [];
    const handle = await locks.acquire(cleanupLockName((await f.client.identity()).id), { why: 'test' });
    const auto = new AutoCleanup(source, f.client, {
      level: 'WARNING',
      cleanup,
      lock: { manager: locks, timeoutMs: 300 },
      onError: (e) => errors.push(e),
    });
    try {
      source.emit('WARNING');
      const err = await nextOf(errors, 10_000);
      assert.ok(err instanceof LockTimeoutError, String(err));
    } finally {
      auto.dispose();
      await handle.release();
    }
  });

  it('scheduled cleanup runs a pass every interval until disposed', async () => {
    const first = await orphans(2);
    const reports: CleanupReport[] = [];
    const scheduled = new ScheduledCleanup(f.client, {
      everyMs: 300,
      cleanup,
      lock: { manager: locks },
      onReport: (r) => reports.push(r),
    });
    let report: CleanupReport;
    try {
      report = await nextOf(reports, 30_000);
      // the previous test left one orphan behind on purpose (kept by the cooldown)
      for (const id of first)
        assert.ok(
          report.removed.some((e) => e.id === id),
          `${id} removed`,
        );
      await nextOf(reports, 30_000);
    } finally {
      scheduled.dispose();
    }
    const late = await orphans(1);
    await sleep(1000);
    assert.ok(await exists(late[0] as string), 'no pass after dispose');
  });

  it('rejects a schedule without a positive interval', () => {
    assert.throws(() => new ScheduledCleanup(f.client, { everyMs: 0 }), /everyMs must be a positive number/);
  });
});
