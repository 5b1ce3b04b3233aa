import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockManager } from '../../../src/core/lock';
import { SharedMonitor } from '../../../src/core/monitor/shared';
import { endpointId } from '../../../src/core/paths';
import { RESOURCE_KINDS, rate } from '../../../src/core/levels';
import type { MonitorSettings } from '../../../src/core/monitor/settings';
import type { Sample } from '../../../src/core/monitor/types';
import { testClient } from '../../helpers/docker';

function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const v = fn();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 50);
    };
    check();
  });
}

describe('SharedMonitor (one sampler per daemon across processes)', function () {
  this.timeout(40_000);
  let dir: string;
  const monitors: SharedMonitor[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dstab-shared-'));
  });
  afterEach(async () => {
    await Promise.all(monitors.splice(0).map((m) => m.dispose()));
    rmSync(dir, { recursive: true, force: true });
  });

  function make(settings: Partial<MonitorSettings> = {}): SharedMonitor {
    const m = new SharedMonitor(
      testClient(),
      { intervalMs: 300, ...settings },
      { historyFile: join(dir, 'history.jsonl'), leaderDir: join(dir, 'leaders') },
    );
    monitors.push(m);
    return m;
  }

  it('elects exactly one leader; the follower re-emits the leader’s samples without sampling itself', async () => {
    const a = make();
    a.start();
    await waitFor('a to lead', () => a.role === 'leader');
    const b = make();
    const seenByB: Sample[] = [];
    b.onSample((s) => seenByB.push(s));
    b.start();
    const seenByA: Sample[] = [];
    a.onSample((s) => seenByA.push(s));
    await waitFor('b to receive three samples', () => seenByB.length >= 3);
    assert.equal(a.role, 'leader');
    assert.equal(b.role, 'follower');
    // Every sample B saw is one A took (same timestamps): B took none of its own.
    const taken = new Set([...a.history.toArray(), ...seenByA].map((s) => s.sampledAt));
    for (const s of seenByB)
      assert.ok(taken.has(s.sampledAt), `follower emitted a sample the leader never took: ${s.sampledAt}`);
    assert.equal(b.state.status, 'up');
  });

  it('hands leadership to a follower when the leader goes away', async () => {
    const a = make();
    a.start();
    await waitFor('a to lead', () => a.role === 'leader');
    const b = make();
    b.start();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(b.role, 'follower');
    await a.dispose();
    await waitFor('b to take over', () => b.role === 'leader', 10_000);
    const before = b.history.size;
    await waitFor('b to sample as leader', () => b.history.size > before);
  });

  it('a follower whose leader is quiet samples for itself but leaves the shared history file to the leader', async () => {
    // A leader that holds the lock and samples nothing: this process, so never stale.
    const quiet = await new LockManager({ dir: join(dir, 'leaders') }).acquire(
      `monitor-${endpointId(testClient().endpoint.host)}`,
      { why: 'a quiet leader' },
    );
    try {
      const b = make();
      const own = await b.sampleNow();
      assert.equal(b.role, 'follower');
      assert.equal(
        b.history.latest()?.sampledAt,
        own.sampledAt,
        'the follower keeps its own sample in memory',
      );
      await b.dispose(); // waits for any history write
      const file = join(dir, 'history.jsonl');
      const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
      assert.deepEqual(lines, [], 'a follower wrote to the shared history file');
    } finally {
      await quiet.release();
    }
  });

  it('a follower judges the leader’s samples by its own thresholds (the library and `watch` alike)', async () => {
    const a = make();
    a.start();
    await waitFor('a to lead', () => a.role === 'leader');
    // Every figure is at least WARNING here; by the leader's defaults, anything under 50% is SAFE.
    const own = { warning: 0, critical: 99, emergency: 99.5 };
    const b = make({ thresholds: own });
    const seenByB: Sample[] = [];
    b.onSample((s) => seenByB.push(s));
    b.start();
    await waitFor('b to receive two samples', () => seenByB.length >= 2);
    assert.equal(b.role, 'follower');
    for (const s of seenByB) {
      for (const k of RESOURCE_KINDS) {
        const f = s.resources[k];
        assert.equal(f.level, rate(f.percent, own), `${k} at ${f.percent}% in the sample of ${s.sampledAt}`);
      }
      assert.notEqual(s.level, 'SAFE');
    }
    const leaders = new Map(a.history.toArray().map((s) => [s.sampledAt, s]));
    const some = seenByB.find((s) => leaders.has(s.sampledAt));
    assert.ok(some, 'the follower emits the leader’s samples');
    assert.equal(leaders.get(some.sampledAt)?.resources.networks.level, 'SAFE', 'the leader’s own rating');
  });
});
