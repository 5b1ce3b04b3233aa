import { strict as assert } from 'node:assert';
import { breakdownFromDf, reclaimedOnDisk } from '../../../src/core/monitor/disk';
import { buildSample } from '../../../src/core/monitor/formulas';
import { figure } from '../../../src/core/monitor/formulas';
import type { DiskFigure } from '../../../src/core/monitor/types';
import { GiB, sampleInputs } from './sampleInputs';

describe('disk figures', () => {
  it('sums /system/df as docker system df does: shared build cache once, unknown volume sizes left out', () => {
    const b = breakdownFromDf({
      LayersSize: 5 * GiB,
      Containers: [{ Id: 'a', SizeRw: 100 }, { Id: 'b', SizeRw: 0 }, { Id: 'c' }],
      Volumes: [{ UsageData: { Size: 2000 } }, { UsageData: { Size: -1 } }, { UsageData: null }],
      BuildCache: [{ Size: 300 }, { Size: 700, Shared: true }],
    });
    assert.deepEqual(b, { images: 5 * GiB, buildCache: 300, volumes: 2000, containers: 100 });
    assert.deepEqual(breakdownFromDf({ Containers: null, Volumes: null, BuildCache: null }), {
      images: 0,
      buildCache: 0,
      volumes: 0,
      containers: 0,
    });
  });

  it('rates disk with its own thresholds, and its level joins the sample level', () => {
    const t = {
      warning: 50,
      critical: 75,
      emergency: 90,
      perResource: { disk: { warning: 85, critical: 92, emergency: 97 } },
    };
    const f = figure('disk', 80, 100, t);
    assert.equal(f.level, 'SAFE', '80% is under the disk warning of 85');
    const disk: DiskFigure = {
      ...figure('disk', 93, 100, t),
      source: 'statfs',
      measuredAt: '2026-01-02T03:04:05.000Z',
      dataRoot: '/var/lib/docker',
    };
    const s = buildSample(sampleInputs({ thresholds: t, disk }));
    assert.equal(s.disk?.level, 'CRITICAL');
    assert.equal(s.level, 'CRITICAL', 'memory and CPU are SAFE: disk drives the level');
    assert.deepEqual(Object.keys(s.resources), ['memory', 'cpu', 'containers', 'networks', 'volumes']);
    assert.equal(buildSample(sampleInputs()).disk, undefined, 'no disk figure, no disk key');
  });

  it("sets a cleanup's reclaimed bytes against the disk measured after it", () => {
    const after: DiskFigure = {
      ...figure('disk', 60 * GiB, 100 * GiB, { warning: 50, critical: 75, emergency: 90 }),
      source: 'statfs',
      measuredAt: '2026-01-02T03:04:05.000Z',
    };
    const r = reclaimedOnDisk(2.5 * GiB, after);
    assert.equal(r.points, 2.5);
    assert.equal(r.percentBefore, 62.5);
    assert.equal(r.disk.percent, 60);
    assert.equal(
      reclaimedOnDisk(GiB, { ...after, capacity: 0 }).points,
      0,
      'unknown capacity: no points claimed',
    );
  });
});
