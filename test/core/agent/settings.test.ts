import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentMetrics,
  DEFAULT_AGENT_SETTINGS,
  negotiateExposition,
  parseListenAddress,
  validateAgentSettings,
} from '../../../src/core/agent';
import { RESOURCE_KINDS } from '../../../src/core/levels';
import { LockManager } from '../../../src/core/lock';
import type { Sample } from '../../../src/core/monitor/types';
import type { RunRecord } from '../../../src/core/runs/records';
import { PROMETHEUS_ACCEPT, seriesValue } from './helpers';

describe('agent settings', () => {
  it('a bare port binds to loopback; HOST:PORT and [v6]:PORT are taken as given; anything else is refused', () => {
    assert.deepEqual(parseListenAddress('9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseListenAddress('0.0.0.0:9100'), { host: '0.0.0.0', port: 9100 });
    assert.deepEqual(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464 });
    for (const bad of [
      '',
      'localhost',
      '127.0.0.1:',
      ':9464x',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      'http://127.0.0.1:9464',
    ]) {
      assert.throws(() => parseListenAddress(bad), /is not a listen address: use HOST:PORT/, bad);
    }
  });

  it('defaults: automatic cleanup at CRITICAL with a 10 min cooldown, scheduled every 30 min, no metrics endpoint', () => {
    const { settings, problems } = validateAgentSettings(undefined);
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      ...DEFAULT_AGENT_SETTINGS,
      autoCleanup: { enabled: true, level: 'CRITICAL', cooldownMs: 600_000 },
    });
    assert.equal(settings.scheduledCleanupMs, 30 * 60_000);
    assert.equal(settings.metrics, undefined);
  });

  it('takes every key, and reports each bad or unknown one by name (nothing is silently replaced)', () => {
    const ok = validateAgentSettings({
      autoCleanup: { enabled: false, level: 'emergency', cooldownMs: 0 },
      scheduledCleanupMs: 0,
      orphanScanMs: 5000,
      metrics: '9100',
    });
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(ok.settings, {
      autoCleanup: { enabled: false, level: 'EMERGENCY', cooldownMs: 0 },
      scheduledCleanupMs: 0,
      orphanScanMs: 5000,
      metrics: { host: '127.0.0.1', port: 9100 },
    });
    const bad = validateAgentSettings({
      autoCleanup: { enabled: 'yes', level: 'LOUD', cooldown: 5 },
      scheduledCleanupMs: 10,
      orphanScanMs: -1,
      metrics: {},
      every: 1,
    });
    assert.deepEqual(bad.problems, [
      'autoCleanup.enabled must be true or false (got "yes")',
      'autoCleanup.level must be one of SAFE, WARNING, CRITICAL, EMERGENCY (got "LOUD")',
      'autoCleanup.cooldown is not a setting (use enabled, level, cooldownMs)',
      'scheduledCleanupMs must be 0 (off) or a number of milliseconds >= 1000 (got 10)',
      'orphanScanMs must be a number of milliseconds >= 1000 (got -1)',
      'metrics must be "HOST:PORT", a port or null (got {})',
      'every is not a setting (use autoCleanup, scheduledCleanupMs, orphanScanMs, metrics)',
    ]);
    assert.deepEqual(validateAgentSettings([]).problems, ['must be an object (got [])']);
  });
});

describe('agent metrics (exposition)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ds-agent-metrics-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function sample(level: Sample['level']): Sample {
    const resources = Object.fromEntries(
      RESOURCE_KINDS.map((k, i) => [k, { used: i + 1, capacity: 10, percent: (i + 1) * 10, level: 'SAFE' }]),
    ) as Sample['resources'];
    resources.memory = { used: 3 * 1024 ** 3, capacity: 4 * 1024 ** 3, percent: 75, level };
    return {
      endpoint: 'e',
      sampledAt: '2026-12-01T00:00:00.000Z',
      level,
      resources,
      running: 2,
      source: { cgroup: 2, api: 1, failed: 0 },
      durationMs: 30,
    };
  }

  function record(id: string, category: string, exitCode: number | null, durationMs: number): RunRecord {
    const zero = { memoryBytes: 0, cpuPercent: 0, containers: 0, networks: 0, volumes: 0 };
    return {
      id,
      category,
      env: 'test',
      command: ['true'],
      startedAt: '2026-12-01T00:00:00Z',
      endedAt: '2026-12-01T00:00:01Z',
      durationMs,
      exitCode,
      baseline: zero,
      peak: zero,
      added: zero,
      samples: 1,
    };
  }

  it('exposes a sample, cleanups and each run record once, levels as numbers', async () => {
    const runsFile = join(dir, 'runs.jsonl');
    writeFileSync(
      runsFile,
      [record('a', 'unit', 0, 2000), record('b', 'unit', 1, 4000)].map((r) => JSON.stringify(r)).join('\n') +
        '\n',
    );
    const m = new AgentMetrics({
      endpoint: 'e',
      version: '9.9.9',
      runsFile,
      locks: new LockManager({ dir: join(dir, 'locks') }),
      processMetrics: false,
    });
    m.observeSample(sample('CRITICAL'));
    m.observeCleanup('auto', {
      report: {
        daemon: { id: 'd', endpoint: 'e' },
        removed: [{ type: 'container', id: 'c', name: 'c', reason: 'r' }],
        kept: [],
        failed: [],
        bytesReclaimed: 1000,
        durationMs: 200,
      },
    });
    m.observeCleanup('scheduled', { error: new Error('down') });
    let text = await m.text();
    assert.equal(seriesValue(text, 'docker_stability_level'), 2);
    assert.equal(seriesValue(text, 'docker_stability_resource_level', { resource: 'memory' }), 2);
    assert.equal(seriesValue(text, 'docker_stability_resource_used', { resource: 'memory' }), 3 * 1024 ** 3);
    assert.equal(seriesValue(text, 'docker_stability_resource_percent', { resource: 'containers' }), 30);
    assert.equal(seriesValue(text, 'docker_stability_sample_containers', { via: 'api' }), 1);
    assert.equal(seriesValue(text, 'docker_stability_cleanups_total', { trigger: 'auto', outcome: 'ok' }), 1);
    assert.equal(
      seriesValue(text, 'docker_stability_cleanups_total', { trigger: 'scheduled', outcome: 'error' }),
      1,
    );
    assert.equal(seriesValue(text, 'docker_stability_cleanup_removed_total', { type: 'container' }), 1);
    assert.equal(seriesValue(text, 'docker_stability_cleanup_reclaimed_bytes_total'), 1000);
    assert.equal(
      seriesValue(text, 'docker_stability_runs_total', { category: 'unit', outcome: 'success' }),
      1,
    );
    assert.equal(
      seriesValue(text, 'docker_stability_runs_total', { category: 'unit', outcome: 'failure' }),
      1,
    );
    assert.equal(seriesValue(text, 'docker_stability_agent_info', { version: '9.9.9', endpoint: 'e' }), 1);

    // a new record is counted once; the old ones are not counted again
    writeFileSync(
      runsFile,
      [record('a', 'unit', 0, 2000), record('b', 'unit', 1, 4000), record('c', 'unit', 0, 1000)]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    text = await m.text();
    assert.equal(
      seriesValue(text, 'docker_stability_runs_total', { category: 'unit', outcome: 'success' }),
      2,
    );
    assert.equal(seriesValue(text, 'docker_stability_run_duration_seconds_count', { category: 'unit' }), 3);
    text = await m.text();
    assert.equal(
      seriesValue(text, 'docker_stability_runs_total', { category: 'unit', outcome: 'failure' }),
      1,
    );

    // OpenMetrics: counter families without _total, samples with it, # EOF last; the classic
    // text rendered afterwards still names its counters *_total (prom-client renames in place)
    const om = await m.text('openmetrics');
    assert.match(om, /^# TYPE docker_stability_cleanups counter$/m);
    assert.equal(seriesValue(om, 'docker_stability_cleanups_total', { trigger: 'auto', outcome: 'ok' }), 1);
    assert.equal(seriesValue(om, 'docker_stability_level'), 2);
    assert.ok(om.endsWith('\n# EOF\n'));
    const [again, om2] = await Promise.all([m.text(), m.text('openmetrics')]);
    assert.match(again, /^# TYPE docker_stability_cleanups_total counter$/m);
    assert.equal(
      seriesValue(again, 'docker_stability_cleanups_total', { trigger: 'auto', outcome: 'ok' }),
      1,
    );
    assert.ok(!again.includes('# EOF'));
    assert.match(om2, /^# TYPE docker_stability_cleanups counter$/m);
  });

  it('serves OpenMetrics when the Accept header asks for it (as Prometheus does), the classic text otherwise', () => {
    assert.equal(negotiateExposition(PROMETHEUS_ACCEPT), 'openmetrics');
    assert.equal(negotiateExposition('application/openmetrics-text'), 'openmetrics');
    assert.equal(
      negotiateExposition('text/plain;q=0.5, application/openmetrics-text; version=1.0.0'),
      'openmetrics',
    );
    for (const classic of [
      undefined,
      '',
      '*/*',
      'text/plain;version=0.0.4',
      'application/openmetrics-text;version=0.0.1,text/plain;q=0.5',
      'application/openmetrics-text;q=0.2,text/plain;q=0.9',
      'application/openmetrics-text;q=0',
      'application/json',
    ])
      assert.equal(negotiateExposition(classic), 'text', String(classic));
  });
});
