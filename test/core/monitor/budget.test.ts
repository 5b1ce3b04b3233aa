import { strict as assert } from 'node:assert';
import { costOfRead, MAX_STATS_EVERY_MS, StatsBudgetController } from '../../../src/core/monitor/budget';

/** Feeds the controller one full read per due sample at a 2 s interval; returns when reads happened. */
function run(c: StatsBudgetController, costs: (i: number) => number, samples: number): number[] {
  const reads: number[] = [];
  for (let i = 0; i < samples; i++) {
    const now = i * 2000;
    if (!c.due(now)) continue;
    reads.push(now);
    c.observe(now, { cpuMs: costs(reads.length - 1), measure: 'daemon-cpu' });
  }
  return reads;
}

describe('stats cost budget', () => {
  it('reads every sample while the cost is within budget, and says so', () => {
    const c = new StatsBudgetController(5, 2000);
    assert.equal(c.state('t'), undefined, 'nothing to say before a measured read');
    // 60 ms of daemon CPU per read at 2 s: 3% of a core
    const reads = run(c, () => 60, 10);
    assert.equal(reads.length, 10);
    const s = c.state('2026-12-02T00:00:00.000Z');
    assert.equal(s?.statsEveryMs, 2000);
    assert.equal(s?.costPercent, 3);
    assert.equal(s?.reason, 'sampling containers every 2 s (about 3% CPU, under 5%)');
  });

  it('stretches the interval to the smallest multiple that keeps the recorded cost under budget', () => {
    // Recorded on Engine 20.10 here: 100 containers through the API cost about 27% of a core at 2 s.
    const c = new StatsBudgetController(5, 2000);
    const reads = run(c, () => 540, 30);
    // 540 ms / 5% = 10.8 s between reads: every 12 s (6 samples)
    assert.equal(c.statsEveryMs, 12_000);
    const gaps = reads.slice(1).map((t, i) => t - (reads[i] ?? 0));
    assert.ok(
      gaps.slice(1).every((g) => g === 12_000),
      gaps.join(','),
    );
    const spent = reads.length * 540;
    assert.ok(
      (spent / (30 * 2000)) * 100 < 5 + 540 / 600,
      `average ${(spent / 600).toFixed(1)}% over the run`,
    );
    assert.equal(c.state('t')?.reason, 'sampling containers every 12 s to stay under 5% CPU');
  });

  it('ignores a single slow read, comes back down when the cost falls, and never carries for over a minute', () => {
    const c = new StatsBudgetController(5, 2000);
    run(c, (i) => (i === 3 ? 300 : 50), 8);
    assert.ok(c.statsEveryMs <= 4000, `one 300 ms read among 50 ms ones gave ${c.statsEveryMs} ms`);

    const d = new StatsBudgetController(5, 2000);
    run(d, () => 540, 20);
    assert.equal(d.statsEveryMs, 12_000);
    run(d, () => 20, 400);
    assert.equal(d.statsEveryMs, 2000, 'the cost fell: back to every sample');

    const e = new StatsBudgetController(5, 2000);
    run(e, () => 100_000, 5);
    assert.equal(e.statsEveryMs, MAX_STATS_EVERY_MS);
  });

  it('holds its interval near the edge instead of flapping', () => {
    const c = new StatsBudgetController(5, 2000);
    // alternating just over and just under what 2 s allows (100 ms)
    run(c, (i) => (i % 2 ? 95 : 110), 60);
    assert.equal(c.statsEveryMs, 4000);
  });

  it("takes the daemon's background load out of a read's cost, at its rate between reads", () => {
    // 300 ms of CPU over a 2 s read; between reads the daemon used 100 ms a second on its own
    const prev = { cpuMs: 10_000, atMs: 0 };
    const before = { cpuMs: 11_000, atMs: 10_000 };
    const after = { cpuMs: 11_300, atMs: 12_000 };
    assert.equal(costOfRead(before, after, prev), 100);
    assert.equal(costOfRead(before, after), 300, 'no previous read: the plain difference');
    assert.equal(costOfRead(before, { cpuMs: 11_050, atMs: 12_000 }, prev), 0, 'never negative');
  });
});
