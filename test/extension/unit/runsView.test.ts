import * as assert from 'node:assert/strict';
import { rate } from '../../../src/core/levels';
import type { Sample } from '../../../src/core/monitor/types';
import type { RunRecord } from '../../../src/core/runs/records';
import { runsView } from '../../../src/extension/runsView';

const zero = { memoryBytes: 0, cpuPercent: 0, containers: 0, networks: 0, volumes: 0 };

function record(
  category: string,
  exitCode: number | null,
  durationMs: number,
  containers: number,
): RunRecord {
  return {
    id: `${category}-${durationMs}`,
    category,
    env: 'test',
    command: ['npm', 'test'],
    startedAt: '2026-11-27T10:00:00.000Z',
    endedAt: '2026-11-27T10:01:00.000Z',
    durationMs,
    exitCode,
    baseline: zero,
    peak: { ...zero, containers },
    added: { ...zero, containers },
    samples: 3,
  };
}

function sample(containers: number): Sample {
  const fig = (used: number, capacity: number) => ({
    used,
    capacity,
    percent: (used / capacity) * 100,
    level: rate((used / capacity) * 100),
  });
  return {
    endpoint: 'e',
    sampledAt: '2026-11-27T10:00:00.000Z',
    level: 'SAFE',
    resources: {
      memory: fig(0, 100),
      cpu: fig(0, 200),
      containers: fig(containers, 100),
      networks: fig(3, 31),
      volumes: fig(0, 200),
    },
    running: 0,
    source: { cgroup: 0, api: 0, failed: 0 },
    durationMs: 1,
  };
}

describe('dashboard run panels from run records', () => {
  it('is empty without records (the panels then say "no runs recorded yet")', () => {
    assert.deepEqual(runsView([], undefined, { warning: 50, critical: 75, emergency: 90 }), {
      predictions: [],
      runs: [],
    });
  });

  it('counts successes and the median duration per category, and predicts the level a next run would reach', () => {
    const records = [
      record('e2e', 0, 100_000, 40),
      record('e2e', 1, 300_000, 40),
      record('e2e', 0, 200_000, 40),
      record('unit', null, 1000, 0),
    ];
    const { predictions, runs } = runsView(records, sample(20), { warning: 50, critical: 75, emergency: 90 });
    assert.deepEqual(runs, [
      { category: 'e2e', runs: 3, succeeded: 2, medianDurationMs: 200_000 },
      { category: 'unit', runs: 1, succeeded: 0, medianDurationMs: 1000 },
    ]);
    const e2e = predictions.find((p) => p.category === 'e2e');
    // 20 containers now + 40 * 1.1 margin = 64 of 100: WARNING.
    assert.equal(e2e?.level, 'WARNING');
    assert.match(e2e?.summary ?? '', /\+44 containers/);
    assert.equal(e2e?.runs, 3);
  });
});
