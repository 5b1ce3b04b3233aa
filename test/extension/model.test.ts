// The dashboard snapshot's history: what the charts draw for every sample, the details the
// panels show only for the newest (runs in the extension-host suite; needs no VS Code API).
import * as assert from 'node:assert/strict';
import { historyForDashboard } from '../../src/extension/model';
import type { Sample } from '../../src/shared/monitor';

const owner = { kind: 'compose' as const, id: 'shop' };

function sample(i: number, withDisk = true): Sample {
  const fig = { used: i, capacity: 100, percent: i, level: 'SAFE' as const };
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
  return {
    endpoint: 'unix:///var/run/docker.sock',
    sampledAt: at,
    level: 'SAFE',
    resources: { memory: fig, cpu: fig, containers: fig, networks: fig, volumes: fig },
    running: 1,
    source: { cgroup: 1, api: 0, failed: 0 },
    durationMs: 3,
    consumers: [{ id: 'aaaaaaaaaaaa', name: 'web', owner, memoryBytes: i, cpuPercent: 1 }],
    owners: [{ owner, containers: 1, memoryBytes: i, cpuPercent: 1 }],
    budget: {
      statsEveryMs: 6000,
      limitPercent: 5,
      costPercent: 9,
      measure: 'estimate',
      statsAt: at,
      reason: 'sampling containers every 6 s to stay under 5% CPU',
    },
    ...(withDisk
      ? {
          disk: {
            ...fig,
            source: 'statfs' as const,
            measuredAt: at,
            breakdown: { images: 1, buildCache: 2, volumes: 3, containers: 4 },
            unrotatedLogs: [{ id: 'aaaaaaaaaaaa', name: 'web', owner, bytes: 5 }],
          },
        }
      : {}),
  };
}

describe('dashboard snapshot history', () => {
  it('keeps every figure the charts draw and the newest sample whole', () => {
    const samples = [sample(1), sample(2), sample(3)];
    const sent = historyForDashboard(samples);
    assert.equal(sent.length, 3);
    assert.deepEqual(sent[2], samples[2], 'the newest sample as it is');
    for (const [i, s] of sent.entries()) {
      const was = samples[i]!;
      assert.equal(s.sampledAt, was.sampledAt);
      assert.deepEqual(s.resources, was.resources);
      assert.deepEqual(s.owners, was.owners, 'the owner chart draws every sample');
      assert.equal(s.disk?.percent, was.disk?.percent, 'the disk chart draws every measurement');
      assert.equal(s.disk?.measuredAt, was.disk?.measuredAt);
    }
  });

  it('leaves out what only the newest sample shows: consumers, budget, disk breakdown and logs', () => {
    const sent = historyForDashboard([sample(1), sample(2), sample(3)]);
    for (const s of sent.slice(0, 2)) {
      assert.equal(s.consumers, undefined);
      assert.equal(s.budget, undefined);
      assert.equal(s.disk?.breakdown, undefined);
      assert.equal(s.disk?.unrotatedLogs, undefined);
    }
  });

  it('keeps the disk details of the newest disk figure when the newest sample has none', () => {
    const sent = historyForDashboard([sample(1), sample(2), sample(3, false)]);
    assert.equal(sent[0]!.disk?.breakdown, undefined);
    assert.deepEqual(sent[1]!.disk?.breakdown, { images: 1, buildCache: 2, volumes: 3, containers: 4 });
    assert.equal(sent[1]!.disk?.unrotatedLogs?.length, 1);
    assert.equal(sent[1]!.consumers, undefined);
  });

  it('does not change the samples it is given', () => {
    const samples = [sample(1), sample(2)];
    historyForDashboard(samples);
    assert.ok(samples[0]!.consumers && samples[0]!.disk?.breakdown);
  });
});
