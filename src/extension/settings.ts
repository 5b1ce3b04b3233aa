// The extension's settings as one typed, validated plain object. Kept free of `vscode` so the
// validation is tested directly; config.ts feeds it from `workspace.getConfiguration`.
import {
  DEFAULT_THRESHOLDS,
  thresholdProblems,
  validatePerResource,
  type Level,
  type Thresholds,
  type ThresholdSettings,
} from '../core/levels';
import { AUTO_CLEANUP_FIELDS } from '../core/options/autoCleanup';
import { CLEANUP_FIELDS, OLDER_THAN_MINUTES_FIELD } from '../core/options/cleanup';
import { COMPOSE_FIELDS } from '../core/options/compose';
import { checkField, fieldProblem, type Field } from '../core/options/fields';
import { LOCK_FIELDS } from '../core/options/lock';
import { MONITOR_FIELDS } from '../core/options/monitor';

export const SECTION = 'dockerStability';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export interface ExtensionConfig {
  /** Empty: resolve like the docker CLI (DOCKER_HOST, context, default socket). */
  endpoint?: string;
  monitor: {
    intervalMs: number;
    thresholds: ThresholdSettings;
    capacities: {
      memoryBytes?: number;
      cpuPercent?: number;
      containers: number;
      networks: number;
      volumes: number;
      diskBytes?: number;
    };
    historySize: number;
    statsBudgetPercent: number;
    diskIntervalMs: number;
    logSizeBytes: number;
    healthyWithinMs: number;
  };
  autoCleanup: { enabled: boolean; level: Level; cooldownMs: number };
  /** 0: no scheduled cleanup. */
  scheduledCleanup: { everyMs: number };
  cleanup: {
    olderThanMs: number;
    includeImages: boolean;
    testProjectPatterns: string[];
    protectLabel: string;
  };
  locks: { dir?: string; staleMs: number; defaultName: string };
  compose: { diagnostics: boolean; globs: string[]; testFileGlobs: string[] };
  health: { memoryBudgetBytes: number };
  notifications: { oomKills: boolean };
}

/**
 * Every setting: key under `dockerStability.`, and the core's field that declares its default,
 * type and range (src/core/options). The defaults mirror package.json
 * `contributes.configuration` (a test checks that they agree). A new setting is one line here
 * (its core field), one in ExtensionConfig and parseConfig, and its package.json entry.
 */
type Spec = Field | { kind: 'perResource'; def: Record<string, never> };

export const SETTINGS = {
  endpoint: {
    kind: 'string',
    def: '',
    pattern: /^$|^(unix|npipe|tcp|http|https|ssh):\/\//,
    expected: 'unix://, npipe://, tcp:// or ssh:// URL',
  },
  sampleIntervalSeconds: MONITOR_FIELDS.intervalSeconds,
  'thresholds.warning': MONITOR_FIELDS.warning,
  'thresholds.critical': MONITOR_FIELDS.critical,
  'thresholds.emergency': MONITOR_FIELDS.emergency,
  'thresholds.perResource': { kind: 'perResource', def: {} },
  'capacity.memoryMiB': MONITOR_FIELDS.memoryMiB,
  'capacity.cpuCores': MONITOR_FIELDS.cpuCores,
  'capacity.containers': MONITOR_FIELDS.containers,
  'capacity.networks': MONITOR_FIELDS.networks,
  'capacity.volumes': MONITOR_FIELDS.volumes,
  'capacity.diskGiB': MONITOR_FIELDS.diskGiB,
  historySize: MONITOR_FIELDS.historySize,
  statsBudgetPercent: MONITOR_FIELDS.statsBudgetPercent,
  diskIntervalSeconds: MONITOR_FIELDS.diskIntervalSeconds,
  logSizeMiB: MONITOR_FIELDS.logSizeMiB,
  healthyWithinSeconds: MONITOR_FIELDS.healthyWithinSeconds,
  'autoCleanup.enabled': AUTO_CLEANUP_FIELDS.enabled,
  'autoCleanup.level': AUTO_CLEANUP_FIELDS.level,
  'autoCleanup.cooldownMinutes': AUTO_CLEANUP_FIELDS.cooldownMinutes,
  'scheduledCleanup.intervalMinutes': AUTO_CLEANUP_FIELDS.intervalMinutes,
  'cleanup.olderThanMinutes': OLDER_THAN_MINUTES_FIELD,
  'cleanup.includeImages': CLEANUP_FIELDS.includeImages,
  'cleanup.testProjectPatterns': CLEANUP_FIELDS.testProjectPatterns,
  'cleanup.protectLabel': CLEANUP_FIELDS.protectLabel,
  'lock.folder': LOCK_FIELDS.folder,
  'lock.staleSeconds': LOCK_FIELDS.staleSeconds,
  'lock.defaultName': LOCK_FIELDS.defaultName,
  'compose.diagnostics': COMPOSE_FIELDS.diagnostics,
  'compose.globs': COMPOSE_FIELDS.globs,
  'compose.testFileGlobs': COMPOSE_FIELDS.testFileGlobs,
  'health.memoryBudgetMiB': { kind: 'number', def: 4096, min: 1, max: 16 * 1024 * 1024, integer: true },
  'notifications.oomKills': { kind: 'boolean', def: true },
} as const satisfies Record<string, Spec>;

export type SettingKey = keyof typeof SETTINGS;

/**
 * The destructive policy: what cleanup removes, and when it runs by itself. `machine` scoped in
 * package.json, and read from the user's (or the remote machine's) settings only, so a cloned
 * repository's `.vscode/settings.json` cannot make its owner's daemon a cleanup target.
 */
export const MACHINE_SETTINGS: ReadonlySet<SettingKey> = new Set<SettingKey>([
  'autoCleanup.enabled',
  'autoCleanup.level',
  'autoCleanup.cooldownMinutes',
  'scheduledCleanup.intervalMinutes',
  'cleanup.testProjectPatterns',
  'cleanup.protectLabel',
  'cleanup.olderThanMinutes',
  'cleanup.includeImages',
]);

export interface ParsedConfig {
  config: ExtensionConfig;
  /** One line per bad setting, naming it and the default used instead. */
  problems: string[];
}

/** Reads every setting through `get`, replacing each invalid value by its default. */
export function parseConfig(get: (key: SettingKey) => unknown): ParsedConfig {
  const problems: string[] = [];

  function read<K extends SettingKey>(key: K): (typeof SETTINGS)[K]['def'] {
    const spec: Spec = SETTINGS[key];
    const raw = get(key);
    if (raw === undefined || raw === null) return spec.def as (typeof SETTINGS)[K]['def'];
    if (spec.kind === 'perResource') return raw as never; // validated below, with the global thresholds
    const checked = checkField(spec, raw);
    if (checked.ok) return checked.value as never;
    problems.push(
      `${fieldProblem(`${SECTION}.${key}`, checked.expected, raw)}; using the default ${JSON.stringify(spec.def)}`,
    );
    return spec.def as never;
  }

  let thresholds: Thresholds = {
    warning: read('thresholds.warning'),
    critical: read('thresholds.critical'),
    emergency: read('thresholds.emergency'),
  };
  const order = thresholdProblems(thresholds, `${SECTION}.thresholds`);
  if (order.length > 0) {
    problems.push(
      `${order.join('; ')}; using the defaults ${DEFAULT_THRESHOLDS.warning}/${DEFAULT_THRESHOLDS.critical}/${DEFAULT_THRESHOLDS.emergency}`,
    );
    thresholds = { ...DEFAULT_THRESHOLDS };
  }
  const perResource = parsePerResource(read('thresholds.perResource'), thresholds, problems);

  const memoryMiB = read('capacity.memoryMiB');
  const cpuCores = read('capacity.cpuCores');
  const diskGiB = read('capacity.diskGiB');
  const endpoint = read('endpoint');
  const lockFolder = read('lock.folder');
  const everyMinutes = read('scheduledCleanup.intervalMinutes');
  const config: ExtensionConfig = {
    endpoint: endpoint || undefined,
    monitor: {
      intervalMs: Math.round(read('sampleIntervalSeconds') * 1000),
      thresholds: perResource ? { ...thresholds, perResource } : thresholds,
      capacities: {
        memoryBytes: memoryMiB > 0 ? memoryMiB * MIB : undefined,
        cpuPercent: cpuCores > 0 ? cpuCores * 100 : undefined,
        containers: read('capacity.containers'),
        networks: read('capacity.networks'),
        volumes: read('capacity.volumes'),
        diskBytes: diskGiB > 0 ? Math.round(diskGiB * GIB) : undefined,
      },
      historySize: read('historySize'),
      statsBudgetPercent: read('statsBudgetPercent'),
      diskIntervalMs: read('diskIntervalSeconds') * 1000,
      logSizeBytes: read('logSizeMiB') * MIB,
      healthyWithinMs: read('healthyWithinSeconds') * 1000,
    },
    autoCleanup: {
      enabled: read('autoCleanup.enabled'),
      level: read('autoCleanup.level') as Level,
      cooldownMs: Math.round(read('autoCleanup.cooldownMinutes') * 60_000),
    },
    scheduledCleanup: { everyMs: Math.round(everyMinutes * 60_000) },
    cleanup: {
      olderThanMs: Math.round(read('cleanup.olderThanMinutes') * 60_000),
      includeImages: read('cleanup.includeImages'),
      testProjectPatterns: [...read('cleanup.testProjectPatterns')],
      protectLabel: read('cleanup.protectLabel'),
    },
    locks: {
      dir: lockFolder || undefined,
      staleMs: Math.round(read('lock.staleSeconds') * 1000),
      defaultName: read('lock.defaultName'),
    },
    compose: {
      diagnostics: read('compose.diagnostics'),
      globs: [...read('compose.globs')],
      testFileGlobs: [...read('compose.testFileGlobs')],
    },
    health: { memoryBudgetBytes: read('health.memoryBudgetMiB') * MIB },
    notifications: { oomKills: read('notifications.oomKills') },
  };
  return { config, problems };
}

/** `{ "memory": { "warning": 60 } }`: per-resource overrides, checked by the core against the merged order. */
function parsePerResource(
  raw: unknown,
  global: Thresholds,
  problems: string[],
): ThresholdSettings['perResource'] {
  const checked = validatePerResource(raw, global, `${SECTION}.thresholds.perResource`);
  problems.push(...checked.problems);
  return Object.keys(checked.value).length > 0 ? checked.value : undefined;
}
