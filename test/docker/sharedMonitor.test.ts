import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SharedMonitor } from '../../src/core/monitor/shared';
import type { Sample } from '../../src/core/monitor/types';
import { testClient } from '../helpers/docker';

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

  function make(): SharedMonitor {
    const m = new SharedMonitor(testClient(), { intervalMs: 300 }, { historyFile: join(dir, 'history.jsonl'), leaderDir: join(dir, 'leaders') });
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
    for (const s of seenByB) assert.ok(taken.has(s.sampledAt), `follower emitted a sample the leader never took: ${s.sampledAt}`);
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
});
