import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LEVELLED_KINDS } from '../../../src/core/levels';
import { DEFAULT_MONITOR_SETTINGS, validateMonitorSettings } from '../../../src/core/monitor/settings';
import { MACHINE_SETTINGS, parseConfig, SETTINGS, type SettingKey } from '../../../src/extension/settings';

const root = join(__dirname, '..', '..', '..', '..');

function from(values: Partial<Record<SettingKey, unknown>>): (k: SettingKey) => unknown {
  return (k) => values[k];
}

describe('extension settings: readConfig validation', () => {
  it('gives the documented defaults with no problems when nothing is set', () => {
    const { config, problems } = parseConfig(from({}));
    assert.deepEqual(problems, []);
    assert.equal(config.monitor.intervalMs, 2000);
    assert.deepEqual(config.monitor.thresholds, { warning: 50, critical: 75, emergency: 90 });
    assert.equal(config.monitor.capacities.memoryBytes, undefined);
    assert.equal(config.endpoint, undefined);
    assert.equal(config.health.memoryBudgetBytes, 4096 * 1024 * 1024);
    assert.equal(config.scheduledCleanup.everyMs, 0);
  });

  it('converts units: seconds, minutes and MiB become ms and bytes', () => {
    const { config } = parseConfig(
      from({
        sampleIntervalSeconds: 0.5,
        'capacity.memoryMiB': 512,
        'capacity.cpuCores': 2,
        'autoCleanup.cooldownMinutes': 2,
        'lock.staleSeconds': 3,
      }),
    );
    assert.equal(config.monitor.intervalMs, 500);
    assert.equal(config.monitor.capacities.memoryBytes, 512 * 1024 * 1024);
    assert.equal(config.monitor.capacities.cpuPercent, 200);
    assert.equal(config.autoCleanup.cooldownMs, 120_000);
    assert.equal(config.locks.staleMs, 3000);
  });

  it('names each bad setting and uses its default instead', () => {
    const { config, problems } = parseConfig(
      from({
        sampleIntervalSeconds: -3,
        'capacity.networks': 2.5,
        'autoCleanup.level': 'SAFE',
        'compose.globs': ['', 3],
        endpoint: 'docker.sock',
      }),
    );
    assert.equal(config.monitor.intervalMs, 2000);
    assert.equal(config.monitor.capacities.networks, 31);
    assert.equal(config.autoCleanup.level, 'CRITICAL');
    assert.deepEqual(config.compose.globs, SETTINGS['compose.globs'].def);
    assert.equal(config.endpoint, undefined);
    for (const key of [
      'sampleIntervalSeconds',
      'capacity.networks',
      'autoCleanup.level',
      'compose.globs',
      'endpoint',
    ]) {
      assert.ok(
        problems.some((p) => p.startsWith(`dockerStability.${key} `) && p.includes('default')),
        `no problem named ${key}: ${problems.join(' | ')}`,
      );
    }
  });

  it('rejects thresholds out of order and falls back to 50/75/90', () => {
    const { config, problems } = parseConfig(from({ 'thresholds.warning': 80, 'thresholds.critical': 70 }));
    assert.deepEqual(config.monitor.thresholds, { warning: 50, critical: 75, emergency: 90 });
    assert.match(problems.join('\n'), /ordered warning < critical < emergency/);
  });

  it('keeps valid per-resource overrides and ignores invalid ones by name', () => {
    const { config, problems } = parseConfig(
      from({
        'thresholds.perResource': {
          cpu: { warning: 70 },
          memory: { critical: 20 },
          disk: { warning: 60 },
          swap: { warning: 1 },
        },
      }),
    );
    assert.deepEqual(config.monitor.thresholds.perResource, { cpu: { warning: 70 }, disk: { warning: 60 } });
    assert.ok(problems.some((p) => p.includes('perResource.memory')));
    assert.ok(problems.some((p) => p.includes('perResource.swap') && p.includes('disk')));
    assert.ok(!problems.some((p) => p.includes('perResource.disk')));
  });

  it('reads the disk, stats-budget and health settings in their units and passes the core defaults when unset', () => {
    const unset = parseConfig(from({})).config.monitor;
    assert.equal(unset.statsBudgetPercent, DEFAULT_MONITOR_SETTINGS.statsBudgetPercent);
    assert.equal(unset.diskIntervalMs, DEFAULT_MONITOR_SETTINGS.diskIntervalMs);
    assert.equal(unset.logSizeBytes, DEFAULT_MONITOR_SETTINGS.logSizeBytes);
    assert.equal(unset.healthyWithinMs, DEFAULT_MONITOR_SETTINGS.healthyWithinMs);
    assert.equal(unset.capacities.diskBytes, undefined, "0: the daemon's figure");
    const { config, problems } = parseConfig(
      from({
        statsBudgetPercent: 2.5,
        'capacity.diskGiB': 64,
        diskIntervalSeconds: 60,
        logSizeMiB: 10,
        healthyWithinSeconds: 90,
      }),
    );
    assert.deepEqual(problems, []);
    assert.equal(config.monitor.statsBudgetPercent, 2.5);
    assert.equal(config.monitor.capacities.diskBytes, 64 * 1024 ** 3);
    assert.equal(config.monitor.diskIntervalMs, 60_000);
    assert.equal(config.monitor.logSizeBytes, 10 * 1024 * 1024);
    assert.equal(config.monitor.healthyWithinMs, 90_000);
    // what the extension gives the monitor, the core's validator takes as it is
    const checked = validateMonitorSettings(config.monitor);
    assert.deepEqual(checked.problems, []);
    assert.equal(checked.settings.capacities.diskBytes, 64 * 1024 ** 3);
    assert.equal(checked.settings.statsBudgetPercent, 2.5);
  });

  it('names a bad disk or budget setting and uses its default', () => {
    const { config, problems } = parseConfig(from({ statsBudgetPercent: 0, diskIntervalSeconds: 1 }));
    assert.equal(config.monitor.statsBudgetPercent, DEFAULT_MONITOR_SETTINGS.statsBudgetPercent);
    assert.equal(config.monitor.diskIntervalMs, DEFAULT_MONITOR_SETTINGS.diskIntervalMs);
    for (const key of ['statsBudgetPercent', 'diskIntervalSeconds'])
      assert.ok(problems.some((p) => p.startsWith(`dockerStability.${key} `) && p.includes('default')));
  });

  it('declares a per-resource threshold schema in package.json for every levelled resource, disk included', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const per = pkg.contributes.configuration.properties['dockerStability.thresholds.perResource'];
    assert.deepEqual(Object.keys(per.properties), [...LEVELLED_KINDS]);
  });

  it('declares every setting in package.json with the same default, a scope and a markdownDescription', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const props = pkg.contributes.configuration.properties as Record<
      string,
      { default: unknown; scope?: string; markdownDescription?: string; minimum?: number; maximum?: number }
    >;
    for (const [key, spec] of Object.entries(SETTINGS)) {
      const p = props[`dockerStability.${key}`];
      assert.ok(p, `package.json lacks dockerStability.${key}`);
      assert.deepEqual(p.default, spec.def, `default of ${key}`);
      assert.ok(p.scope && p.markdownDescription, `${key} lacks scope or markdownDescription`);
      if (spec.kind === 'number')
        assert.deepEqual([p.minimum, p.maximum], [spec.min, spec.max], `range of ${key}`);
    }
    assert.equal(
      Object.keys(props).length,
      Object.keys(SETTINGS).length,
      'package.json declares settings readConfig does not read',
    );
  });

  it('scopes the destructive policy (automatic and scheduled cleanup, what cleanup selects) to the machine, so no workspace sets it', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const props = pkg.contributes.configuration.properties as Record<string, { scope?: string }>;
    const machine = Object.keys(SETTINGS).filter((k) => props[`dockerStability.${k}`]?.scope === 'machine');
    assert.deepEqual(machine.sort(), [...MACHINE_SETTINGS].sort());
    for (const k of Object.keys(SETTINGS).filter((k) =>
      /^(autoCleanup|scheduledCleanup|cleanup)\./.test(k),
    )) {
      assert.ok(MACHINE_SETTINGS.has(k as SettingKey), `${k} is cleanup policy but not machine scoped`);
    }
  });
});
