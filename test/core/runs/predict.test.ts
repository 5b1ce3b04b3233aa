import * as assert from 'node:assert/strict';
import type { Sample } from '../../../src/core/monitor/types';
import { DEFAULT_THRESHOLDS } from '../../../src/core/levels';
import {
  exceeds,
  FALLBACK_NEEDS,
  predict,
  predictLevel,
  validatePredictionOptions,
  weightedPercentile,
} from '../../../src/core/runs/predict';
import { emptyAmounts, type ResourceAmounts, type RunRecord } from '../../../src/core/runs/records';

function record(category: string, added: Partial<ResourceAmounts>, i = 0): RunRecord {
  const a = { ...emptyAmounts(), ...added };
  return {
    id: `r${i}`,
    category,
    env: 'test',
    command: ['true'],
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    endedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i + 1)).toISOString(),
    durationMs: 1000,
    exitCode: 0,
    baseline: emptyAmounts(),
    peak: a,
    added: a,
    samples: 2,
  };
}

function sample(used: Partial<ResourceAmounts>, caps: Partial<ResourceAmounts> = {}): Sample {
  const fig = (u: number, c: number) => ({ used: u, capacity: c, percent: 0, level: 'SAFE' as const });
  return {
    endpoint: 'unix:///var/run/docker.sock',
    sampledAt: new Date(0).toISOString(),
    level: 'SAFE',
    resources: {
      memory: fig(used.memoryBytes ?? 0, caps.memoryBytes ?? 8 * 1024 ** 3),
      cpu: fig(used.cpuPercent ?? 0, caps.cpuPercent ?? 200),
      containers: fig(used.containers ?? 0, caps.containers ?? 100),
      networks: fig(used.networks ?? 0, caps.networks ?? 31),
      volumes: fig(used.volumes ?? 0, caps.volumes ?? 200),
    },
    running: 0,
    source: { cgroup: 0, api: 0, failed: 0 },
    durationMs: 1,
  };
}

describe('runs: weightedPercentile', () => {
  it('with equal weights is the smallest value whose cumulative share reaches p', () => {
    const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    const w = v.map(() => 1);
    assert.equal(weightedPercentile(v, w, 90), 9);
    assert.equal(weightedPercentile(v, w, 50), 5);
    assert.equal(weightedPercentile(v, w, 100), 10);
    assert.equal(weightedPercentile(v, w, 0), 1);
  });

  it('lets a heavy weight pull the percentile to its value', () => {
    assert.equal(weightedPercentile([1, 100], [9, 1], 90), 1);
    assert.equal(weightedPercentile([1, 100], [1, 9], 90), 100);
  });

  it('is 0 with no values', () => {
    assert.equal(weightedPercentile([], [], 90), 0);
  });
});

describe('runs: predict', () => {
  it('with no history uses the configured default for the category and says so', () => {
    const p = predict('e2e', [record('unit', { containers: 1 })], {
      defaults: { e2e: { containers: 10, memoryBytes: 1e9 } },
    });
    assert.equal(p.basis, 'default');
    assert.equal(p.runs, 0);
    assert.equal(p.added.containers, 10);
    assert.equal(p.added.memoryBytes, 1e9);
    // Needs the default does not name come from the fallback.
    assert.equal(p.added.networks, FALLBACK_NEEDS.networks);
    assert.match(p.explanation, /no runs of "e2e" recorded yet: using the configured default/);
  });

  it('with no history and no default assumes a modest run and says so', () => {
    const p = predict('e2e', []);
    assert.deepEqual(p.added, FALLBACK_NEEDS);
    assert.match(p.explanation, /no runs of "e2e" recorded yet and no configured default/);
  });

  it('plans for the p90 of recent runs plus a 10% margin, counts rounded up', () => {
    const runs = [3, 3, 3].map((n, i) =>
      record('it', { containers: n, networks: 1, memoryBytes: 100_000_000, cpuPercent: 33 }, i),
    );
    const p = predict('it', runs);
    assert.equal(p.basis, 'history');
    assert.equal(p.runs, 3);
    assert.equal(p.added.containers, 4); // 3 x 1.1 = 3.3 -> 4
    assert.equal(p.added.networks, 2); // 1.1 -> 2
    assert.equal(p.added.volumes, 0);
    assert.equal(p.added.memoryBytes, 110_000_000);
    assert.equal(p.added.cpuPercent, 36); // 36.3 rounded
    assert.match(p.explanation, /p90 of the last 3 run\(s\) of "it".*half-life 10 runs.*10% margin/);
  });

  it('does not round an exact product up a step (10 x 1.1 is 11, not 12)', () => {
    const p = predict('it', [record('it', { containers: 10 })]);
    assert.equal(p.added.containers, 11);
  });

  it('weighs recent runs more: an old outlier stops dominating once newer runs outweigh it', () => {
    // One big old run then 19 small ones: the big run keeps 0.5^1.9 = 27% weight, 2.4% of the total.
    const runs = [
      record('it', { containers: 50 }, 0),
      ...Array.from({ length: 19 }, (_, i) => record('it', { containers: 2 }, i + 1)),
    ];
    assert.equal(predict('it', runs).added.containers, 3); // p90 = 2, x1.1 -> 3
    // A percentile above 97.6 reaches it.
    assert.equal(predict('it', runs, { percentile: 99 }).added.containers, 55);
  });

  it('a recent big run dominates while an equally big old one has decayed away', () => {
    const small = (i: number) => record('it', { containers: 2 }, i);
    const recentBig = [...Array.from({ length: 9 }, (_, i) => small(i)), record('it', { containers: 20 }, 9)];
    const oldBig = [
      record('it', { containers: 20 }, 0),
      ...Array.from({ length: 9 }, (_, i) => small(i + 1)),
    ];
    // Ten runs: the newest carries weight 1, the oldest 0.5^(9/10) = 0.54, total about 7.4.
    assert.equal(predict('it', recentBig).added.containers, 22);
    assert.equal(predict('it', oldBig).added.containers, 3);
  });

  it('only counts the last `window` runs of the category', () => {
    const runs = [
      record('it', { containers: 40 }, 0),
      record('other', { containers: 99 }, 1),
      record('it', { containers: 1 }, 2),
    ];
    assert.equal(predict('it', runs, { window: 1 }).added.containers, 2);
    assert.equal(predict('it', runs, { window: 1 }).runs, 1);
  });

  it('honours margin and percentile options', () => {
    const runs = [1, 2, 3, 4].map((n, i) => record('it', { containers: n }, i));
    assert.equal(predict('it', runs, { margin: 1, percentile: 100 }).added.containers, 4);
    assert.equal(predict('it', runs, { margin: 2, percentile: 100 }).added.containers, 8);
    assert.equal(predict('it', runs, { margin: 1, percentile: 0 }).added.containers, 1);
  });
});

describe('runs: predictLevel', () => {
  it('adds the prediction to the current sample and rates each resource', () => {
    const p = predict('it', [], {
      defaults: { it: { containers: 10, memoryBytes: 0, cpuPercent: 0, networks: 0, volumes: 0 } },
    });
    const pl = predictLevel(sample({ containers: 0 }, { containers: 4 }), p, { ...DEFAULT_THRESHOLDS });
    assert.equal(pl.resources.containers.predicted, 10);
    assert.equal(pl.resources.containers.percent, 250);
    assert.equal(pl.resources.containers.level, 'EMERGENCY');
    assert.equal(pl.resources.memory.level, 'SAFE');
    assert.equal(pl.level, 'EMERGENCY');
    assert.equal(exceeds(pl, 'EMERGENCY'), true);
  });

  it('stays below a limit when now plus predicted is under its threshold', () => {
    const p = predict('it', [record('it', { containers: 10 })]);
    const pl = predictLevel(sample({ containers: 20 }), p, { ...DEFAULT_THRESHOLDS });
    assert.equal(pl.resources.containers.predicted, 31);
    assert.equal(pl.level, 'SAFE');
    assert.equal(exceeds(pl, 'WARNING'), false);
    assert.equal(exceeds(pl, 'SAFE'), true);
  });
});

describe('runs: validatePredictionOptions', () => {
  it('accepts valid settings and returns them', () => {
    const raw = {
      window: 10,
      percentile: 95,
      halfLifeRuns: 5,
      margin: 1.2,
      defaults: { e2e: { containers: 5, memoryBytes: 1e9 } },
    };
    assert.deepEqual(validatePredictionOptions(raw), raw);
    assert.deepEqual(validatePredictionOptions(undefined), {});
  });

  it('names the bad value', () => {
    assert.throws(
      () => validatePredictionOptions({ percentile: 120 }, 'runs.prediction'),
      /runs\.prediction\.percentile must be a number from 0 to 100 \(got 120\)/,
    );
    assert.throws(
      () => validatePredictionOptions({ window: 2.5 }),
      /prediction\.window must be an integer >= 1/,
    );
    assert.throws(() => validatePredictionOptions({ margin: 0.5 }), /margin must be a number >= 1/);
    assert.throws(
      () => validatePredictionOptions({ defaults: { e2e: { containers: 'five' } } }),
      /defaults\.e2e\.containers must be a number >= 0 \(got "five"\)/,
    );
    assert.throws(
      () => validatePredictionOptions({ defaults: { e2e: { container: 5 } } }),
      /defaults\.e2e\.container is not a need/,
    );
    assert.throws(
      () => validatePredictionOptions({ percentil: 90 }),
      /prediction\.percentil is not a setting/,
    );
    assert.throws(() => validatePredictionOptions([1]), /prediction must be an object/);
  });
});
