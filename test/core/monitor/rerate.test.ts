import * as assert from 'node:assert/strict';
import type { Sample } from '../../../src/core/monitor/types';
import { rerate } from '../../../src/core/monitor/rerate';

// As a leader with default settings rated it: 60 of 100 containers is WARNING, the rest SAFE.
const leaderSample: Sample = {
  endpoint: 'unix:///var/run/docker.sock',
  sampledAt: '2026-11-27T18:00:00.000Z',
  level: 'WARNING',
  resources: {
    memory: { used: 1024, capacity: 4096, percent: 25, level: 'SAFE' },
    cpu: { used: 20, capacity: 200, percent: 10, level: 'SAFE' },
    containers: { used: 60, capacity: 100, percent: 60, level: 'WARNING' },
    networks: { used: 3, capacity: 31, percent: 9.68, level: 'SAFE' },
    volumes: { used: 0, capacity: 200, percent: 0, level: 'SAFE' },
  },
  running: 1,
  source: { cgroup: 1, api: 0, failed: 0 },
  durationMs: 5,
};

describe('a following window judges samples by its own settings', () => {
  it('re-rates every figure and the overall level with this window thresholds', () => {
    const r = rerate(leaderSample, {
      thresholds: { warning: 10, critical: 20, emergency: 50 },
      capacities: {},
    });
    assert.equal(r.resources.memory.level, 'CRITICAL');
    assert.equal(r.resources.containers.level, 'EMERGENCY');
    assert.equal(r.level, 'EMERGENCY');
    assert.equal(leaderSample.level, 'WARNING', 'the leader sample itself is not changed');
  });

  it('uses this window capacities where set and keeps the sample capacity elsewhere', () => {
    const r = rerate(leaderSample, {
      thresholds: { warning: 50, critical: 75, emergency: 90 },
      capacities: { containers: 1000, memoryBytes: 2048 },
    });
    assert.equal(r.resources.containers.percent, 6);
    assert.equal(r.resources.containers.level, 'SAFE');
    assert.equal(r.resources.memory.percent, 50);
    assert.equal(r.resources.memory.level, 'WARNING');
    assert.equal(r.resources.networks.capacity, 31);
    assert.equal(r.level, 'WARNING');
  });
  it('keeps disk in the overall level, re-rated by this window thresholds (and its size where only /system/df is known)', () => {
    const GiB = 1024 ** 3;
    const disk = {
      used: 92 * GiB,
      capacity: 100 * GiB,
      percent: 92,
      level: 'EMERGENCY' as const,
      source: 'statfs' as const,
      measuredAt: '2026-11-27T17:55:00.000Z',
    };
    const defaults = { warning: 50, critical: 75, emergency: 90 };
    const kept = rerate(
      { ...leaderSample, level: 'EMERGENCY', disk },
      { thresholds: defaults, capacities: {} },
    );
    assert.equal(kept.level, 'EMERGENCY', 'a full disk still drives the level');
    assert.equal(kept.disk?.level, 'EMERGENCY');
    const own = rerate(
      { ...leaderSample, level: 'EMERGENCY', disk },
      {
        thresholds: { ...defaults, perResource: { disk: { emergency: 95 } } },
        capacities: { diskBytes: 1000 * GiB },
      },
    );
    assert.equal(own.disk?.level, 'CRITICAL');
    assert.equal(own.disk?.capacity, 100 * GiB, 'statfs knows the size: the setting is for /system/df only');
    assert.equal(own.level, 'CRITICAL');
    const remote = rerate(
      { ...leaderSample, disk: { ...disk, source: 'system-df', capacity: 0, percent: 0, level: 'SAFE' } },
      { thresholds: defaults, capacities: { diskBytes: 100 * GiB } },
    );
    assert.equal(remote.disk?.percent, 92);
    assert.equal(remote.level, 'EMERGENCY');
  });
});
