import { strict as assert } from 'node:assert';
import { DEFAULT_THRESHOLDS, type ThresholdSettings } from '../../../src/core/levels';
import {
  buildSample,
  cpuPercentFromCounters,
  cpuPercentFromFrames,
  drivingFigure,
  figure,
  memoryFromFrame,
  workingSet,
  type StatsFrame,
} from '../../../src/core/monitor/formulas';
import type { DiskFigure } from '../../../src/core/monitor/types';
import { GiB, sampleInputs as inputs } from './sampleInputs';

/** A statfs disk figure at `fraction` of a 100 GiB data root. */
function diskFigure(fraction: number, t: ThresholdSettings = { ...DEFAULT_THRESHOLDS }): DiskFigure {
  return {
    ...figure('disk', fraction * 100 * GiB, 100 * GiB, t),
    source: 'statfs',
    measuredAt: '2026-01-02T03:00:00.000Z',
  };
}

function frame(total: number, system: number, online: number, percpu?: number[] | null): StatsFrame {
  return {
    cpu_stats: {
      cpu_usage: { total_usage: total, percpu_usage: percpu },
      system_cpu_usage: system,
      online_cpus: online,
    },
  };
}

describe('monitor formulas', () => {
  describe('cpuPercentFromFrames (docker/cli stats_helpers.go)', () => {
    it('divides the container delta by the system delta and scales by online CPUs x 100', () => {
      // 0.5 s of CPU over 2 s of system time summed over 2 CPUs = one full core of two
      const prev = frame(1_000_000_000, 10_000_000_000, 2);
      const cur = frame(1_500_000_000, 10_500_000_000, 2);
      assert.equal(cpuPercentFromFrames(prev, cur), 200);
      const half = frame(1_250_000_000, 10_500_000_000, 2);
      assert.equal(cpuPercentFromFrames(prev, half), 100);
    });

    it('falls back to the length of percpu_usage when online_cpus is 0', () => {
      const prev = frame(0, 1_000, 0, [0, 0, 0, 0]);
      const cur = frame(100, 2_000, 0, [25, 25, 25, 25]);
      assert.equal(cpuPercentFromFrames(prev, cur), (100 / 1000) * 4 * 100);
    });

    it('is zero without a previous frame, with no CPU count, or unless both deltas are positive', () => {
      const cur = frame(2_000, 20_000, 2);
      assert.equal(cpuPercentFromFrames(undefined, cur), 0);
      assert.equal(cpuPercentFromFrames(frame(2_000, 10_000, 2), cur), 0, 'container delta 0');
      assert.equal(cpuPercentFromFrames(frame(1_000, 20_000, 2), cur), 0, 'system delta 0');
      assert.equal(
        cpuPercentFromFrames(frame(3_000, 10_000, 2), cur),
        0,
        'counter reset: negative container delta',
      );
      assert.equal(cpuPercentFromFrames(frame(1_000, 30_000, 2), cur), 0, 'negative system delta');
      assert.equal(
        cpuPercentFromFrames(frame(1_000, 10_000, 0, null), frame(2_000, 20_000, 0, null)),
        0,
        'no CPU count at all',
      );
      assert.equal(cpuPercentFromFrames({}, {}), 0, 'empty frames');
    });
  });

  describe('memoryFromFrame', () => {
    it('subtracts total_inactive_file on cgroup v1 (page cache is not counted: lazydocker #560)', () => {
      const f: StatsFrame = {
        memory_stats: { usage: 300, stats: { total_inactive_file: 120, cache: 200, inactive_file: 5 } },
      };
      assert.equal(memoryFromFrame(f), 180);
    });

    it('subtracts inactive_file on cgroup v2, never `cache` (ctop #314)', () => {
      const f: StatsFrame = { memory_stats: { usage: 300, stats: { inactive_file: 100, file: 250 } } };
      assert.equal(memoryFromFrame(f), 200);
    });

    it('is never negative and reads 0 on an empty frame', () => {
      assert.equal(
        memoryFromFrame({ memory_stats: { usage: 100, stats: { total_inactive_file: 400 } } }),
        100,
      );
      assert.equal(memoryFromFrame({}), 0);
      assert.equal(workingSet(100, 100), 100, 'inactive equal to usage is implausible: keep usage');
      assert.equal(workingSet(100, 30), 70);
      assert.ok(workingSet(0, 10) >= 0);
    });
  });

  describe('cpuPercentFromCounters (cgroup counters)', () => {
    it('is CPU nanoseconds used over wall nanoseconds x 100 (per core)', () => {
      assert.equal(cpuPercentFromCounters(0, 0n, 1_000_000_000, 1_000_000_000n), 100);
      assert.equal(cpuPercentFromCounters(5e8, 1_000_000_000n, 1.5e9, 1_500_000_000n), 200);
      assert.equal(cpuPercentFromCounters(0, 0n, 25, 100n), 25);
    });

    it('is zero unless both CPU time and wall time advanced', () => {
      assert.equal(cpuPercentFromCounters(10, 0n, 10, 100n), 0);
      assert.equal(
        cpuPercentFromCounters(20, 0n, 10, 100n),
        0,
        'counter went backwards (container restarted)',
      );
      assert.equal(cpuPercentFromCounters(0, 100n, 10, 100n), 0, 'no wall time');
    });
  });

  describe('figure', () => {
    it('computes percent to two decimals and rates it with the resource thresholds', () => {
      const f = figure('memory', 1, 3, DEFAULT_THRESHOLDS);
      assert.deepEqual(f, { used: 1, capacity: 3, percent: 33.33, level: 'SAFE' });
      assert.equal(figure('containers', 50, 100, DEFAULT_THRESHOLDS).level, 'WARNING');
      assert.equal(figure('containers', 75, 100, DEFAULT_THRESHOLDS).level, 'CRITICAL');
      assert.equal(figure('containers', 90, 100, DEFAULT_THRESHOLDS).level, 'CRITICAL');
      assert.equal(figure('containers', 91, 100, DEFAULT_THRESHOLDS).level, 'EMERGENCY');
    });

    it('rounds CPU used to two decimals but keeps counts and bytes exact', () => {
      assert.equal(figure('cpu', 12.34567, 200, DEFAULT_THRESHOLDS).used, 12.35);
      assert.equal(figure('memory', 123456789, 1e9, DEFAULT_THRESHOLDS).used, 123456789);
    });

    it('reads 0% (SAFE) against a zero capacity instead of dividing by zero', () => {
      assert.deepEqual(figure('volumes', 5, 0, DEFAULT_THRESHOLDS), {
        used: 5,
        capacity: 0,
        percent: 0,
        level: 'SAFE',
      });
    });

    it('uses a per-resource override for that resource only', () => {
      const t: ThresholdSettings = {
        ...DEFAULT_THRESHOLDS,
        perResource: { networks: { warning: 10, critical: 20, emergency: 30 } },
      };
      assert.equal(figure('networks', 7, 31, t).level, 'CRITICAL'); // 22.58%
      assert.equal(figure('volumes', 7, 31, t).level, 'SAFE');
    });
  });

  describe('buildSample', () => {
    it('assembles all five figures with the overall level = the worst of them', () => {
      const s = buildSample(inputs({ networks: 29 }));
      assert.equal(s.endpoint, 'unix:///var/run/docker.sock');
      assert.equal(s.sampledAt, '2026-01-02T03:04:05.000Z');
      assert.deepEqual(s.resources.memory, { used: GiB, capacity: 8 * GiB, percent: 12.5, level: 'SAFE' });
      assert.deepEqual(s.resources.cpu, { used: 20, capacity: 200, percent: 10, level: 'SAFE' });
      assert.deepEqual(s.resources.containers, { used: 10, capacity: 100, percent: 10, level: 'SAFE' });
      assert.deepEqual(s.resources.networks, { used: 29, capacity: 31, percent: 93.55, level: 'EMERGENCY' });
      assert.deepEqual(s.resources.volumes, { used: 5, capacity: 200, percent: 2.5, level: 'SAFE' });
      assert.equal(s.level, 'EMERGENCY');
      assert.equal(s.running, 4);
      assert.deepEqual(s.source, { cgroup: 4, api: 0, failed: 0 });
      assert.equal(s.durationMs, 12.3);
    });

    it('is SAFE when every resource is SAFE and WARNING when only one reaches 50%', () => {
      assert.equal(buildSample(inputs()).level, 'SAFE');
      assert.equal(buildSample(inputs({ cpuPercent: 100 })).level, 'WARNING');
    });
  });

  describe('drivingFigure', () => {
    it('names the resource at the overall level with the highest percent', () => {
      // memory 80% and cpu 85% are both CRITICAL: cpu drives
      const s = buildSample(inputs({ memoryBytes: 0.8 * 8 * GiB, cpuPercent: 170, containers: 60 }));
      assert.equal(s.level, 'CRITICAL');
      assert.equal(drivingFigure(s).kind, 'cpu');
      assert.equal(drivingFigure(s).figure, s.resources.cpu);
    });

    it('prefers a resource at a worse level over a higher percent at a lower level', () => {
      // containers 20% is EMERGENCY under its own low thresholds; memory 85% is only CRITICAL
      const t: ThresholdSettings = {
        ...DEFAULT_THRESHOLDS,
        perResource: { containers: { warning: 5, critical: 10, emergency: 15 } },
      };
      const s = buildSample(inputs({ thresholds: t, containers: 20, memoryBytes: 0.85 * 8 * GiB }));
      assert.equal(s.resources.memory.level, 'CRITICAL');
      assert.equal(s.resources.containers.level, 'EMERGENCY');
      assert.equal(drivingFigure(s).kind, 'containers');
    });

    it('names disk when its figure is at the overall level with the highest percent', () => {
      // memory 80% CRITICAL, disk 88% CRITICAL: disk drives, with its own figure
      const disk = diskFigure(0.88);
      const s = buildSample(inputs({ memoryBytes: 0.8 * 8 * GiB, disk }));
      assert.equal(s.level, 'CRITICAL');
      assert.deepEqual(drivingFigure(s), { kind: 'disk', figure: disk });
    });

    it('names disk at a worse level under its own thresholds, and not when a resource is worse', () => {
      const t: ThresholdSettings = {
        ...DEFAULT_THRESHOLDS,
        perResource: { disk: { warning: 10, critical: 20, emergency: 30 } },
      };
      const s = buildSample(inputs({ thresholds: t, memoryBytes: 0.8 * 8 * GiB, disk: diskFigure(0.4, t) }));
      assert.equal(s.level, 'EMERGENCY');
      assert.equal(drivingFigure(s).kind, 'disk');
      const calm = buildSample(inputs({ memoryBytes: 0.8 * 8 * GiB, disk: diskFigure(0.6) }));
      assert.equal(drivingFigure(calm).kind, 'memory');
    });

    it('names memory when everything is SAFE at 0%', () => {
      const s = buildSample(
        inputs({ memoryBytes: 0, cpuPercent: 0, containers: 0, networks: 0, volumes: 0 }),
      );
      assert.equal(drivingFigure(s).kind, 'memory');
    });
  });
});
