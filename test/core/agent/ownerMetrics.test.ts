import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentMetrics } from '../../../src/core/agent';
import { LockManager } from '../../../src/core/lock';
import { buildSample } from '../../../src/core/monitor/formulas';
import { seriesValue } from './helpers';
import { sampleInputs } from '../monitor/sampleInputs';

describe('agent metrics by owner and incidents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ds-owner-metrics-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("exports each owner's memory, CPU and running containers from the last sample only", async () => {
    const m = new AgentMetrics({
      endpoint: 'e',
      version: '1',
      runsFile: join(dir, 'runs.jsonl'),
      locks: new LockManager({ dir: join(dir, 'locks') }),
      processMetrics: false,
    });
    const owners = [
      {
        owner: { kind: 'compose' as const, id: 'shop-test' },
        containers: 2,
        memoryBytes: 300,
        cpuPercent: 12.5,
      },
      { owner: { kind: 'other' as const, id: '' as const }, containers: 1, memoryBytes: 7, cpuPercent: 0 },
    ];
    m.observeSample(buildSample({ ...sampleInputs(), owners }));
    let text = await m.text();
    assert.equal(
      seriesValue(text, 'docker_stability_owner_memory_bytes', { kind: 'compose', owner: 'shop-test' }),
      300,
    );
    assert.equal(
      seriesValue(text, 'docker_stability_owner_cpu_percent', { kind: 'compose', owner: 'shop-test' }),
      12.5,
    );
    assert.equal(
      seriesValue(text, 'docker_stability_owner_containers_running', { kind: 'other', owner: '' }),
      1,
    );

    // the project went away: its series goes with it
    m.observeSample(buildSample({ ...sampleInputs(), owners: [owners[1] as (typeof owners)[number]] }));
    text = await m.text();
    assert.equal(seriesValue(text, 'docker_stability_owner_memory_bytes', { kind: 'compose' }), undefined);
    assert.equal(seriesValue(text, 'docker_stability_owner_memory_bytes', { kind: 'other' }), 7);
  });

  it('counts incidents by kind, every kind present from the start', async () => {
    const m = new AgentMetrics({
      endpoint: 'e',
      version: '1',
      runsFile: join(dir, 'runs2.jsonl'),
      locks: new LockManager({ dir: join(dir, 'locks2') }),
      processMetrics: false,
    });
    assert.equal(
      seriesValue(await m.text(), 'docker_stability_incidents_total', { kind: 'restart-loop' }),
      0,
    );
    m.observeIncident({ at: '2026-12-01T10:00:00.000Z', kind: 'oom', endpoint: 'e' });
    m.observeIncident({ at: '2026-12-01T10:00:01.000Z', kind: 'oom', endpoint: 'e' });
    assert.equal(seriesValue(await m.text(), 'docker_stability_incidents_total', { kind: 'oom' }), 2);
  });
});
