import { strict as assert } from 'node:assert';
import {
  DEFAULT_THRESHOLDS,
  parseLevel,
  rate,
  thresholdProblems,
  thresholdsFor,
  worstLevel,
} from '../../src/core/levels';

describe('levels', () => {
  it('rates the default boundaries as documented (SAFE <50, WARNING 50-75, CRITICAL 75-90, EMERGENCY >90)', () => {
    const cases: Array<[number, string]> = [
      [0, 'SAFE'],
      [49.99, 'SAFE'],
      [50, 'WARNING'],
      [74.99, 'WARNING'],
      [75, 'CRITICAL'],
      [90, 'CRITICAL'],
      [90.01, 'EMERGENCY'],
      [100, 'EMERGENCY'],
      [250, 'EMERGENCY'],
    ];
    for (const [p, level] of cases) assert.equal(rate(p, DEFAULT_THRESHOLDS), level, `rate(${p})`);
  });

  it('rates NaN (no data) as SAFE instead of alarming', () => {
    assert.equal(rate(Number.NaN), 'SAFE');
  });

  it('honours custom thresholds and per-resource overrides', () => {
    const s = { warning: 10, critical: 20, emergency: 30, perResource: { cpu: { warning: 60 } } };
    assert.equal(rate(15, thresholdsFor('memory', s)), 'WARNING');
    assert.deepEqual(thresholdsFor('cpu', s), { warning: 60, critical: 20, emergency: 30 });
  });

  it('reports unordered, out-of-range and non-numeric thresholds', () => {
    assert.deepEqual(thresholdProblems({ warning: 50, critical: 75, emergency: 90 }), []);
    assert.match(thresholdProblems({ warning: 80, critical: 75, emergency: 90 })[0] ?? '', /ordered/);
    assert.match(
      thresholdProblems({ warning: -1, critical: 75, emergency: 90 })[0] ?? '',
      /warning must be a number from 0 to 100/,
    );
    assert.match(thresholdProblems({ warning: '50', critical: 75, emergency: 90 })[0] ?? '', /warning/);
    assert.equal(thresholdProblems(null).length, 1);
  });

  it('picks the worst level and parses level names', () => {
    assert.equal(worstLevel(['SAFE', 'CRITICAL', 'WARNING']), 'CRITICAL');
    assert.equal(worstLevel([]), 'SAFE');
    assert.equal(parseLevel('critical'), 'CRITICAL');
    assert.throws(() => parseLevel('bad'), /unknown level "bad"/);
  });
});
