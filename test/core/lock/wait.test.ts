import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { AgentMetrics } from '../../../src/core/agent';
import { LockManager } from '../../../src/core/lock';
import { seriesValue } from '../agent/helpers';
import { STALE_MS, tempDir } from './helpers';

describe('lock wait time (acquired events and the agent histogram)', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  it('records how long each acquisition waited, by mode, and the agent exports it as docker_stability_lock_wait_seconds', async () => {
    const m = new LockManager({ dir: tmp.dir, staleMs: STALE_MS });
    const first = await m.acquire('env', { why: 'first' });
    assert.equal(first.contended, false);
    const waiting = m.acquire('env', { why: 'second', timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    await first.release();
    const second = await waiting;
    assert.equal(second.contended, true);
    assert.ok(second.waitedMs >= 250, `waited ${second.waitedMs} ms`);
    await second.release();
    const shared = await m.acquire('env', { why: 'third', mode: 'shared' });
    await shared.release();

    const acquired = (await m.acquisitions()).filter((a) => a.lock === 'env').map((a) => a.event);
    assert.deepEqual(
      acquired.map((e) => [e.reason, e.mode]),
      [
        ['first', 'exclusive'],
        ['second', 'exclusive'],
        ['third', 'shared'],
      ],
    );
    assert.ok((acquired[0]?.waitedMs ?? -1) < 250);
    assert.ok((acquired[1]?.waitedMs ?? 0) >= 250);

    const metrics = new AgentMetrics({
      endpoint: 'e',
      version: '1',
      runsFile: join(tmp.dir, 'runs.jsonl'),
      locks: m,
      processMetrics: false,
    });
    const text = await metrics.text();
    const count = (mode: string): number | undefined =>
      seriesValue(text, 'docker_stability_lock_wait_seconds_count', { lock: 'env', mode });
    assert.equal(count('exclusive'), 2);
    assert.equal(count('shared'), 1);
    // The second one waited at least 250 ms: it is above the 0.1 s bucket, the first below.
    assert.equal(
      seriesValue(text, 'docker_stability_lock_wait_seconds_bucket', {
        lock: 'env',
        mode: 'exclusive',
        le: '0.1',
      }),
      1,
    );
    // A second scrape counts nothing twice.
    assert.equal(
      seriesValue(await metrics.text(), 'docker_stability_lock_wait_seconds_count', {
        lock: 'env',
        mode: 'exclusive',
      }),
      2,
    );
  });
});
