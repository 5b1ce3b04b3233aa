import { strict as assert } from 'node:assert';
import { headline } from '../../src/cli/render';
import { DEFAULT_THRESHOLDS } from '../../src/core/levels';
import { buildSample, figure } from '../../src/core/monitor/formulas';
import { GiB, sampleInputs } from '../core/monitor/sampleInputs';

describe('CLI headline', () => {
  it('names the driving figure the status bar names, disk included', () => {
    const disk = {
      ...figure('disk', 95 * GiB, 100 * GiB, { ...DEFAULT_THRESHOLDS }),
      source: 'statfs' as const,
      measuredAt: '2026-01-02T03:00:00.000Z',
    };
    const s = buildSample(sampleInputs({ memoryBytes: 0.8 * 8 * GiB, disk }));
    assert.equal(headline(s, false), 'Docker at unix:///var/run/docker.sock: EMERGENCY (disk 95%)');
    const calm = buildSample(sampleInputs({ memoryBytes: 0.8 * 8 * GiB }));
    assert.equal(headline(calm, false), 'Docker at unix:///var/run/docker.sock: CRITICAL (memory 80%)');
  });
});
