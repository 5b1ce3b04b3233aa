import { strict as assert } from 'node:assert';
import { buildSample } from '../../../src/core/monitor/formulas';
import type { OwnerUsage } from '../../../src/core/monitor/owners';
import { RunCostTracker, runNeed } from '../../../src/core/runs/cost';
import { predict } from '../../../src/core/runs/predict';
import type { ResourceAmounts, RunRecord } from '../../../src/core/runs/records';
import { sampleInputs } from '../monitor/sampleInputs';

const MiB = 1024 * 1024;

function withOwners(owners: OwnerUsage[]) {
  return buildSample(sampleInputs({ owners, consumers: [] }));
}

const other = (memoryBytes: number): OwnerUsage => ({
  owner: { kind: 'other', id: '' },
  containers: 1,
  memoryBytes,
  cpuPercent: 50,
});
const run = (id: string, memoryBytes: number, cpuPercent: number): OwnerUsage => ({
  owner: { kind: 'run', id, category: 'it' },
  containers: 2,
  memoryBytes,
  cpuPercent,
});

function record(added: Partial<ResourceAmounts>, cost?: RunRecord['cost']): RunRecord {
  const zero = { memoryBytes: 0, cpuPercent: 0, containers: 0, networks: 0, volumes: 0 };
  return {
    id: 'r',
    category: 'it',
    env: 'test',
    command: ['npm'],
    startedAt: '2026-12-01T10:00:00.000Z',
    endedAt: '2026-12-01T10:01:00.000Z',
    durationMs: 60_000,
    exitCode: 0,
    baseline: zero,
    peak: zero,
    added: { ...zero, ...added },
    samples: 3,
    ...(cost ? { cost } : {}),
  };
}

describe('per-run cost', () => {
  it("counts only the run's own containers: peak and mean over the samples it had any running", () => {
    const t = new RunCostTracker('r1');
    t.observe(withOwners([other(900 * MiB)])); // not started yet: not in the mean
    t.observe(withOwners([other(900 * MiB), run('r1', 100 * MiB, 40), run('r2', 500 * MiB, 100)]));
    t.observe(withOwners([run('r1', 300 * MiB, 20), other(2000 * MiB)]));
    assert.deepEqual(t.record().cost, {
      samples: 2,
      memoryBytes: { peak: 300 * MiB, mean: 200 * MiB },
      cpuPercent: { peak: 40, mean: 30 },
    });
  });

  it('records no cost when no sample had per-owner figures, and zero when its containers never ran', () => {
    const none = new RunCostTracker('r1');
    none.observe(buildSample(sampleInputs()));
    assert.deepEqual(none.record(), {});
    const idle = new RunCostTracker('r1');
    idle.observe(withOwners([other(1)]));
    assert.equal(idle.record().cost?.samples, 0);
  });

  it("predicts from the runs' own peaks where recorded, else from peak minus baseline (and from a malformed cost too)", () => {
    // the daemon-wide difference was inflated by someone else's 2 GiB
    const own = record(
      { memoryBytes: 2048 * MiB, cpuPercent: 300, containers: 2 },
      {
        samples: 5,
        memoryBytes: { peak: 200 * MiB, mean: 150 * MiB },
        cpuPercent: { peak: 80, mean: 40 },
      },
    );
    assert.equal(runNeed(own, 'memoryBytes'), 200 * MiB);
    assert.equal(runNeed(own, 'cpuPercent'), 80);
    assert.equal(runNeed(own, 'containers'), 2, 'counts still from the record');
    const old = record({ memoryBytes: 256 * MiB });
    assert.equal(runNeed(old, 'memoryBytes'), 256 * MiB);
    const broken = { ...old, cost: { samples: 3 } } as unknown as RunRecord;
    assert.equal(runNeed(broken, 'memoryBytes'), 256 * MiB);
    const p = predict('it', [own], { margin: 1 });
    assert.equal(p.added.memoryBytes, 200 * MiB);
    assert.equal(p.added.cpuPercent, 80);
  });
});
