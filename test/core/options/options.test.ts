import { strict as assert } from 'node:assert';
import { cleanupSettingsFrom } from '../../../src/cli/config';
import { resolveOptions } from '../../../src/core/cleanup';
import { validateLockName } from '../../../src/core/lock/names';
import { AUTO_CLEANUP_FIELDS } from '../../../src/core/options/autoCleanup';
import { checkCleanupSection } from '../../../src/core/options/cleanup';
import { COMPOSE_FIELDS } from '../../../src/core/options/compose';
import { checkField, fieldProblem, type Field } from '../../../src/core/options/fields';
import { LOCK_FIELDS } from '../../../src/core/options/lock';
import { MONITOR_FIELDS } from '../../../src/core/options/monitor';
import { validateMonitorSettings } from '../../../src/core/monitor/settings';
import { RUN_CLEANUP_KEYS } from '../../../src/core/options/runs';
import { parseConfig, type SettingKey } from '../../../src/extension/settings';

/** The one-line refusal of a value by a field, as every adapter words it. */
function refusal(field: Field, where: string, raw: unknown): string | undefined {
  const c = checkField(field, raw);
  return c.ok ? undefined : fieldProblem(where, c.expected, raw);
}

describe('options: one validated schema per capability', () => {
  const tables: Array<[string, Field, unknown, string]> = [
    ['monitor', MONITOR_FIELDS.intervalSeconds, 0.1, 'x must be a number from 0.25 to 3600 (got 0.1)'],
    ['monitor', MONITOR_FIELDS.warning, 101, 'x must be a number from 0 to 100 (got 101)'],
    ['monitor', MONITOR_FIELDS.containers, 2.5, 'x must be an integer from 1 to 1000000 (got 2.5)'],
    ['monitor', MONITOR_FIELDS.historySize, '100', 'x must be an integer from 10 to 100000 (got "100")'],
    ['lock', LOCK_FIELDS.staleSeconds, 1, 'x must be a number from 2 to 86400 (got 1)'],
    [
      'lock',
      LOCK_FIELDS.defaultName,
      'a/b',
      'x must be a lock name (letters, digits, ".", "-", "_") (got "a/b")',
    ],
    [
      'lock',
      LOCK_FIELDS.defaultName,
      'end.',
      'x must be a lock name (letters, digits, ".", "-", "_") (got "end.")',
    ],
    [
      'cleanup',
      AUTO_CLEANUP_FIELDS.level,
      'SAFE',
      'x must be one of WARNING, CRITICAL, EMERGENCY (got "SAFE")',
    ],
    ['cleanup', AUTO_CLEANUP_FIELDS.enabled, 'yes', 'x must be true or false (got "yes")'],
    [
      'compose',
      COMPOSE_FIELDS.globs,
      ['*.yml', ''],
      'x must be a list of non-empty strings (got ["*.yml",""])',
    ],
    ['compose', COMPOSE_FIELDS.globs, '*.yml', 'x must be a list of non-empty strings (got "*.yml")'],
  ];
  for (const [capability, field, raw, message] of tables) {
    it(`${capability}: refuses ${JSON.stringify(raw)} in one line naming the key`, () => {
      assert.equal(refusal(field, 'x', raw), message);
    });
  }

  it('cleanup: a table of bad sections, each refused in one line naming the key', () => {
    const bad: Array<[unknown, string]> = [
      [{ olderThanMs: -1 }, 'cleanup.olderThanMs must be a number of milliseconds >= 0 (got -1)'],
      [{ olderThanMs: '10m' }, 'cleanup.olderThanMs must be a number of milliseconds >= 0 (got "10m")'],
      [{ includeImages: 1 }, 'cleanup.includeImages must be true or false (got 1)'],
      [{ testProjectPatterns: [' '] }, 'cleanup.testProjectPatterns must be non-empty globs (got [" "])'],
      [{ protectLabel: 'has space' }, 'cleanup.protectLabel must be a Docker label key (got "has space")'],
      [{ protectLabel: '' }, 'cleanup.protectLabel must be a Docker label key (got "")'],
      [
        { olderThan: 5 },
        'cleanup.olderThan is not a setting (use olderThanMs, includeImages, testProjectPatterns, protectLabel)',
      ],
      [[], 'cleanup must be an object (got [])'],
    ];
    for (const [section, message] of bad) {
      assert.deepEqual(checkCleanupSection(section, 'cleanup').problems, [message]);
      assert.throws(() => cleanupSettingsFrom(section, 'cleanup'), { message: `config ${message}` });
    }
    assert.deepEqual(checkCleanupSection({ protectLabel: 'team.keep', olderThanMs: 0 }, 'cleanup'), {
      values: { protectLabel: 'team.keep', olderThanMs: 0 },
      problems: [],
    });
  });

  it('runs: runs.cleanup refuses includeImages, which a run’s own pass never removes', () => {
    assert.deepEqual(
      checkCleanupSection({ includeImages: true }, 'runs.cleanup', RUN_CLEANUP_KEYS).problems,
      ['runs.cleanup.includeImages is not a setting (use testProjectPatterns, protectLabel, olderThanMs)'],
    );
  });

  it('the library refuses what the CLI and the extension refuse: a protect label that is no label key', () => {
    // Before: resolveOptions took any non-empty string, the CLI and the extension a label key only.
    assert.throws(() => resolveOptions({ protectLabel: 'has space' }), {
      message: 'protectLabel must be a Docker label key (got "has space")',
    });
    assert.throws(
      () => resolveOptions({ includeImages: 'no' as unknown as boolean }),
      /includeImages must be true or false/,
    );
    assert.equal(resolveOptions({ protectLabel: 'team.keep' }).protectLabel, 'team.keep');
  });

  it('the lock-name setting accepts and refuses exactly what the lock itself does', () => {
    for (const name of [
      'test',
      'a',
      'db.main',
      'x_1',
      'end.',
      '.hidden',
      'a/b',
      'a b',
      'é',
      'x'.repeat(65),
    ]) {
      let lockOk = true;
      try {
        validateLockName(name);
      } catch {
        lockOk = false;
      }
      // Windows device names are refused by the lock only: a setting cannot tell a platform.
      assert.equal(checkField(LOCK_FIELDS.defaultName, name).ok, lockOk, name);
    }
  });

  it('extension settings and the CLI config file accept and refuse the same cleanup values alike', () => {
    const cases: Array<[SettingKey, 'includeImages' | 'testProjectPatterns' | 'protectLabel', unknown]> = [
      ['cleanup.protectLabel', 'protectLabel', 'team.keep'],
      ['cleanup.protectLabel', 'protectLabel', 'has space'],
      ['cleanup.protectLabel', 'protectLabel', 42],
      ['cleanup.testProjectPatterns', 'testProjectPatterns', ['*-it']],
      ['cleanup.testProjectPatterns', 'testProjectPatterns', ['']],
      ['cleanup.testProjectPatterns', 'testProjectPatterns', 'x'],
      ['cleanup.includeImages', 'includeImages', true],
      ['cleanup.includeImages', 'includeImages', 'true'],
    ];
    for (const [setting, key, raw] of cases) {
      const { problems } = parseConfig((k) => (k === setting ? raw : undefined));
      const cli = checkCleanupSection({ [key]: raw }, 'cleanup').problems;
      assert.equal(problems.length, cli.length, `${setting}=${JSON.stringify(raw)}`);
      // The same words after the key's name: `must be a Docker label key (got ...)`.
      const tail = (line: string) =>
        line.slice(line.indexOf(' must be')).replace(/; using the default .*$/, '');
      if (cli[0] !== undefined) assert.equal(tail(problems[0] ?? ''), tail(cli[0]));
    }
  });

  it('extension settings and the CLI config file accept and refuse the same thresholds alike', () => {
    for (const [level, raw] of [
      ['warning', 40],
      ['warning', -1],
      ['critical', 101],
      ['emergency', '90'],
      ['warning', 80],
    ] as const) {
      const ext = parseConfig((k) => (k === `thresholds.${level}` ? raw : undefined)).problems;
      const cli = validateMonitorSettings({ thresholds: { [level]: raw } }).problems;
      assert.equal(ext.length, cli.length, `${level}=${JSON.stringify(raw)}`);
      const tail = (line: string) => /(must be [^;(]*)/.exec(line)?.[1];
      if (cli[0] !== undefined)
        assert.equal(tail(ext[0] ?? ''), tail(cli[0]), `${level}=${JSON.stringify(raw)}`);
    }
  });

  it('the extension’s age floor in minutes is the library’s default in milliseconds', () => {
    const { config } = parseConfig(() => undefined);
    assert.equal(config.cleanup.olderThanMs, resolveOptions().olderThanMs);
  });
});
