import { strict as assert } from 'node:assert';
import { parseConfig } from '../../../src/extension/settings';
import { MONITOR_FIELDS } from '../../../src/core/options/monitor';
import {
  CAPACITY_MAX,
  DEFAULT_MONITOR_SETTINGS,
  validateMonitorSettings,
} from '../../../src/core/monitor/settings';

describe('monitor settings validation', () => {
  it('returns the defaults with no problems for empty or non-object input', () => {
    for (const raw of [undefined, null, {}, 'nonsense', 42]) {
      const { settings, problems } = validateMonitorSettings(raw);
      assert.deepEqual(problems, [], `input ${JSON.stringify(raw)}`);
      assert.deepEqual(settings, DEFAULT_MONITOR_SETTINGS);
    }
    assert.equal(DEFAULT_MONITOR_SETTINGS.intervalMs, 2000);
    assert.equal(DEFAULT_MONITOR_SETTINGS.historySize, 1000);
    assert.equal(DEFAULT_MONITOR_SETTINGS.capacities.networks, 31);
  });

  it('accepts every valid value as given', () => {
    const raw = {
      intervalMs: 500,
      historySize: 50,
      statsConcurrency: 4,
      statsPath: 'api',
      topConsumers: 0,
      diskIntervalMs: 60_000,
      logSizeBytes: 10 * 1024 * 1024,
      statsBudgetPercent: 2.5,
      healthyWithinMs: 90_000,
      thresholds: { warning: 40, critical: 60, emergency: 80, perResource: { cpu: { emergency: 95 } } },
      capacities: {
        containers: 20,
        networks: 10,
        volumes: 30,
        memoryBytes: 1e9,
        cpuPercent: 150,
        diskBytes: 1e11,
      },
    };
    const { settings, problems } = validateMonitorSettings(raw);
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, raw);
  });

  it('names every bad value and falls back to its default', () => {
    const { settings, problems } = validateMonitorSettings({
      intervalMs: 10,
      historySize: 10.5,
      statsConcurrency: 'eight',
      statsPath: 'proc',
      topConsumers: -1,
      capacities: { containers: 0, networks: -3, volumes: 'many', memoryBytes: -1, cpuPercent: Number.NaN },
    });
    const expect: Array<[RegExp, string]> = [
      [/^intervalMs must be a number from 250 to 3600000 \(got 10\); using 2000$/, 'intervalMs'],
      [/^historySize must be an integer from 10 to 100000 \(got 10.5\); using 1000$/, 'historySize'],
      [/^statsConcurrency must be an integer from 1 to 64 \(got "eight"\); using 64$/, 'statsConcurrency'],
      [/^statsPath must be auto, cgroup or api \(got "proc"\); using auto$/, 'statsPath'],
      [/^topConsumers must be an integer from 0 to 1000 \(got -1\); using 5$/, 'topConsumers'],
      [/^capacities\.containers must be a number from 1 to 1000000 \(got 0\); using 100$/, 'containers'],
      [/^capacities\.networks .*\(got -3\); using 31$/, 'networks'],
      [/^capacities\.volumes .*\(got "many"\); using 200$/, 'volumes'],
      [
        /^capacities\.memoryBytes must be a positive number \(got -1\); using the daemon's figure$/,
        'memoryBytes',
      ],
      [/^capacities\.cpuPercent must be a positive number/, 'cpuPercent'],
    ];
    for (const [re, what] of expect)
      assert.ok(
        problems.some((p) => re.test(p)),
        `${what} not reported as expected in:\n${problems.join('\n')}`,
      );
    assert.equal(problems.length, expect.length);
    assert.deepEqual(settings, DEFAULT_MONITOR_SETTINGS);
  });

  it('treats a null or 0 memory/CPU capacity as "use the daemon figure" without complaint', () => {
    const { settings, problems } = validateMonitorSettings({
      capacities: { memoryBytes: 0, cpuPercent: null },
    });
    assert.deepEqual(problems, []);
    assert.equal(settings.capacities.memoryBytes, undefined);
    assert.equal(settings.capacities.cpuPercent, undefined);
  });

  it('merges partial thresholds over the defaults and rejects unordered or out-of-range ones', () => {
    assert.deepEqual(validateMonitorSettings({ thresholds: { warning: 30 } }).settings.thresholds, {
      warning: 30,
      critical: 75,
      emergency: 90,
    });

    const unordered = validateMonitorSettings({ thresholds: { warning: 80, critical: 70 } });
    assert.match(
      unordered.problems.join('\n'),
      /thresholds must be ordered warning < critical < emergency \(got 80, 70, 90\); using the defaults 50\/75\/90/,
    );
    assert.deepEqual(unordered.settings.thresholds, DEFAULT_MONITOR_SETTINGS.thresholds);

    const range = validateMonitorSettings({ thresholds: { emergency: 101 } });
    assert.match(
      range.problems.join('\n'),
      /thresholds\.emergency must be a number from 0 to 100 \(got 101\)/,
    );

    const equal = validateMonitorSettings({ thresholds: { warning: 75, critical: 75 } });
    assert.match(equal.problems.join('\n'), /ordered/, 'equal boundaries are not strictly increasing');
  });

  it('validates per-resource overrides against the global thresholds and drops the bad ones by name', () => {
    const { settings, problems } = validateMonitorSettings({
      thresholds: {
        perResource: {
          memory: { warning: 70, critical: 80 },
          cpu: { warning: 95 }, // above the global critical 75: unordered
          disks: { warning: 10 },
          disk: { warning: 80, critical: 90, emergency: 95 },
        },
      },
    });
    assert.deepEqual(settings.thresholds.perResource, {
      memory: { warning: 70, critical: 80 },
      disk: { warning: 80, critical: 90, emergency: 95 },
    });
    assert.ok(
      problems.some((p) =>
        /^thresholds\.perResource\.cpu must be ordered .*; ignoring this override$/.test(p),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) =>
        /^thresholds\.perResource\.disks is not a resource \(use memory, cpu, containers, networks, volumes, disk\)$/.test(
          p,
        ),
      ),
    );
    assert.equal(problems.length, 2);
  });

  it('rejects a per-resource override that is not an object instead of keeping it', () => {
    const { settings, problems } = validateMonitorSettings({ thresholds: { perResource: { cpu: 80 } } });
    assert.deepEqual(settings.thresholds.perResource, {});
    assert.match(problems.join('\n'), /thresholds\.perResource\.cpu must be an object/);
  });

  it('drops a per-resource override with a key that is no threshold, as the extension does', () => {
    const raw = { memory: { warning: 60, warnign: 70 }, cpu: [60] };
    const { settings, problems } = validateMonitorSettings({ thresholds: { perResource: raw } });
    assert.deepEqual(settings.thresholds.perResource, {});
    assert.ok(
      problems.some((p) => /^thresholds\.perResource\.memory\.warnign is not a threshold/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /^thresholds\.perResource\.cpu must be an object/.test(p)),
      problems.join('\n'),
    );
    // The extension's settings go through the same check, under their own names.
    const ext = parseConfig((k) => (k === 'thresholds.perResource' ? raw : undefined));
    assert.equal(ext.config.monitor.thresholds.perResource, undefined);
    assert.deepEqual(
      ext.problems.map((p) => p.replace(/^dockerStability\./, '')),
      problems,
    );
  });

  it('takes capacities in one range for the library, the CLI config and the extension settings', () => {
    const over = validateMonitorSettings({
      capacities: { containers: CAPACITY_MAX.containers + 1, memoryBytes: CAPACITY_MAX.memoryBytes * 2 },
    });
    assert.deepEqual(over.problems, [
      `capacities.containers must be a number from 1 to ${CAPACITY_MAX.containers} (got ${CAPACITY_MAX.containers + 1}); using 100`,
      `capacities.memoryBytes must be at most ${CAPACITY_MAX.memoryBytes} (got ${CAPACITY_MAX.memoryBytes * 2}); using the daemon's figure`,
    ]);
    assert.equal(
      validateMonitorSettings({ capacities: { volumes: CAPACITY_MAX.volumes } }).problems.length,
      0,
    );
    // The extension's fields are the same ranges in its units.
    assert.equal(MONITOR_FIELDS.containers.max, CAPACITY_MAX.containers);
    assert.equal(MONITOR_FIELDS.networks.max, CAPACITY_MAX.networks);
    assert.equal(MONITOR_FIELDS.volumes.max, CAPACITY_MAX.volumes);
    assert.equal(MONITOR_FIELDS.memoryMiB.max * 1024 * 1024, CAPACITY_MAX.memoryBytes);
    assert.equal(MONITOR_FIELDS.cpuCores.max * 100, CAPACITY_MAX.cpuPercent);
    assert.equal(MONITOR_FIELDS.diskGiB.max * 1024 ** 3, CAPACITY_MAX.diskBytes);
  });

  it('reports thresholds, perResource or capacities that are not objects', () => {
    assert.match(
      validateMonitorSettings({ thresholds: { perResource: 'cpu' } }).problems.join('\n'),
      /thresholds\.perResource must be an object keyed by resource/,
    );
    assert.match(
      validateMonitorSettings({ thresholds: 50 }).problems.join('\n'),
      /^thresholds must be an object .*\(got 50\); using the defaults 50\/75\/90$/,
    );
    assert.match(
      validateMonitorSettings({ capacities: 'big' }).problems.join('\n'),
      /^capacities must be an object \(got "big"\); using the defaults$/,
    );
  });

  describe('over the settings in force (a running monitor updated)', () => {
    const current = validateMonitorSettings({
      intervalMs: 5000,
      statsPath: 'api',
      thresholds: { warning: 40, critical: 60, emergency: 80, perResource: { cpu: { emergency: 95 } } },
      capacities: { containers: 20, networks: 10, volumes: 30, memoryBytes: 4e9 },
    }).settings;

    it('keeps the current value for each bad one and says so', () => {
      const { settings, problems } = validateMonitorSettings(
        {
          intervalMs: 1,
          statsPath: 'proc',
          thresholds: { warning: 90 },
          capacities: { containers: 0, memoryBytes: -1 },
        },
        current,
      );
      assert.equal(settings.intervalMs, 5000);
      assert.equal(settings.statsPath, 'api');
      assert.deepEqual(
        settings.thresholds,
        current.thresholds,
        'unordered thresholds keep the current ones, per-resource included',
      );
      assert.equal(settings.capacities.containers, 20);
      assert.equal(settings.capacities.memoryBytes, 4e9);
      const expect = [
        /^intervalMs must be .*\(got 1\); using 5000$/,
        /^statsPath must be .*\(got "proc"\); using api$/,
        /^thresholds must be ordered .*\(got 90, 60, 80\); using the current 40\/60\/80$/,
        /^capacities\.containers must be .*\(got 0\); using 20$/,
        /^capacities\.memoryBytes must be a positive number \(got -1\); using 4000000000$/,
      ];
      for (const re of expect)
        assert.ok(
          problems.some((p) => re.test(p)),
          `${re} not in:\n${problems.join('\n')}`,
        );
      assert.equal(problems.length, expect.length);
    });

    it('keeps what the update leaves out, and a capacities object replaces the current one', () => {
      const { settings, problems } = validateMonitorSettings(
        { historySize: 50, capacities: { containers: 7, networks: 10, volumes: 30 } },
        current,
      );
      assert.deepEqual(problems, []);
      assert.equal(settings.historySize, 50);
      assert.equal(settings.intervalMs, 5000);
      assert.deepEqual(settings.thresholds, current.thresholds);
      assert.deepEqual(
        settings.capacities,
        { containers: 7, networks: 10, volumes: 30 },
        'a memory capacity left out is the daemon figure again',
      );
    });
  });

  it('takes the diagnosis settings in range and reports the rest by name', () => {
    const ok = validateMonitorSettings({
      diskIntervalMs: 60_000,
      logSizeBytes: 50 * 1024 * 1024,
      statsBudgetPercent: 2.5,
      healthyWithinMs: 10_000,
      capacities: { diskBytes: 100e9 },
    });
    assert.deepEqual(ok.problems, []);
    assert.equal(ok.settings.statsBudgetPercent, 2.5);
    assert.equal(ok.settings.capacities.diskBytes, 100e9);
    const bad = validateMonitorSettings({
      diskIntervalMs: 5,
      statsBudgetPercent: 0,
      logSizeBytes: 1.5e6 + 0.5,
    });
    assert.equal(bad.settings.diskIntervalMs, DEFAULT_MONITOR_SETTINGS.diskIntervalMs);
    assert.equal(bad.settings.statsBudgetPercent, 5);
    assert.deepEqual(
      bad.problems.map((p) => p.split(' ')[0]),
      ['diskIntervalMs', 'logSizeBytes', 'statsBudgetPercent'],
    );
  });
});
