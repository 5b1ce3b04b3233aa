// The extension's settings as one typed, validated plain object. Kept free of `vscode` so the
// validation is tested directly; config.ts feeds it from `workspace.getConfiguration`.
import {
  DEFAULT_THRESHOLDS,
  LEVELS,
  RESOURCE_KINDS,
  thresholdProblems,
  type Level,
  type ResourceKind,
  type Thresholds,
  type ThresholdSettings,
} from '../core/levels';
import { LABEL_KEY_PATTERN } from '../core/labels';

export const SECTION = 'dockerStability';

const MIB = 1024 * 1024;

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
    };
    historySize: number;
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
}

/**
 * Every setting: key under `dockerStability.`, default, and how to read it. The defaults mirror
 * package.json `contributes.configuration` (a test checks that they agree).
 */
interface NumberSpec {
  kind: 'number';
  def: number;
  min: number;
  max: number;
  integer?: boolean;
}
type Spec =
  | NumberSpec
  | { kind: 'boolean'; def: boolean }
  | { kind: 'string'; def: string; pattern?: RegExp; patternText?: string }
  | { kind: 'enum'; def: string; values: readonly string[] }
  | { kind: 'stringArray'; def: string[] }
  | { kind: 'perResource'; def: Record<string, never> };

export const SETTINGS = {
  endpoint: {
    kind: 'string',
    def: '',
    pattern: /^$|^(unix|npipe|tcp|http|https|ssh):\/\//,
    patternText: 'unix://, npipe://, tcp:// or ssh:// URL',
  },
  sampleIntervalSeconds: { kind: 'number', def: 2, min: 0.25, max: 3600 },
  'thresholds.warning': { kind: 'number', def: DEFAULT_THRESHOLDS.warning, min: 0, max: 100 },
  'thresholds.critical': { kind: 'number', def: DEFAULT_THRESHOLDS.critical, min: 0, max: 100 },
  'thresholds.emergency': { kind: 'number', def: DEFAULT_THRESHOLDS.emergency, min: 0, max: 100 },
  'thresholds.perResource': { kind: 'perResource', def: {} },
  'capacity.memoryMiB': { kind: 'number', def: 0, min: 0, max: 16 * 1024 * 1024, integer: true },
  'capacity.cpuCores': { kind: 'number', def: 0, min: 0, max: 4096 },
  'capacity.containers': { kind: 'number', def: 100, min: 1, max: 100000, integer: true },
  'capacity.networks': { kind: 'number', def: 31, min: 1, max: 10000, integer: true },
  'capacity.volumes': { kind: 'number', def: 200, min: 1, max: 100000, integer: true },
  historySize: { kind: 'number', def: 1000, min: 10, max: 100000, integer: true },
  'autoCleanup.enabled': { kind: 'boolean', def: false },
  'autoCleanup.level': { kind: 'enum', def: 'CRITICAL', values: LEVELS.filter((l) => l !== 'SAFE') },
  'autoCleanup.cooldownMinutes': { kind: 'number', def: 10, min: 1, max: 1440 },
  'scheduledCleanup.intervalMinutes': { kind: 'number', def: 0, min: 0, max: 10080 },
  'cleanup.olderThanMinutes': { kind: 'number', def: 10, min: 0, max: 525600 },
  'cleanup.includeImages': { kind: 'boolean', def: false },
  'cleanup.testProjectPatterns': { kind: 'stringArray', def: ['*-test', '*_test'] },
  'cleanup.protectLabel': {
    kind: 'string',
    def: 'docker-stability.protect',
    pattern: LABEL_KEY_PATTERN,
    patternText: 'a Docker label key',
  },
  'lock.folder': { kind: 'string', def: '' },
  'lock.staleSeconds': { kind: 'number', def: 10, min: 2, max: 86400 },
  'lock.defaultName': {
    kind: 'string',
    def: 'test',
    pattern: /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?$/,
    patternText: 'a lock name (letters, digits, ".", "-", "_")',
  },
  'compose.diagnostics': { kind: 'boolean', def: true },
  'compose.globs': { kind: 'stringArray', def: ['**/docker-compose*.{yml,yaml}', '**/compose*.{yml,yaml}'] },
  'compose.testFileGlobs': { kind: 'stringArray', def: [] },
  'health.memoryBudgetMiB': { kind: 'number', def: 4096, min: 1, max: 16 * 1024 * 1024, integer: true },
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
  const bad = (key: string, why: string, def: unknown): void => {
    problems.push(`${SECTION}.${key} ${why}; using the default ${JSON.stringify(def)}`);
  };

  function read<K extends SettingKey>(key: K): (typeof SETTINGS)[K]['def'] {
    const spec: Spec = SETTINGS[key];
    const raw = get(key);
    if (raw === undefined || raw === null) return spec.def as (typeof SETTINGS)[K]['def'];
    switch (spec.kind) {
      case 'number':
        if (
          typeof raw !== 'number' ||
          !Number.isFinite(raw) ||
          raw < spec.min ||
          raw > spec.max ||
          (spec.integer && !Number.isInteger(raw))
        ) {
          bad(
            key,
            `must be ${spec.integer ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max} (got ${JSON.stringify(raw)})`,
            spec.def,
          );
          return spec.def as never;
        }
        return raw as never;
      case 'boolean':
        if (typeof raw !== 'boolean') {
          bad(key, `must be true or false (got ${JSON.stringify(raw)})`, spec.def);
          return spec.def as never;
        }
        return raw as never;
      case 'string':
        if (typeof raw !== 'string' || (spec.pattern && !spec.pattern.test(raw.trim()))) {
          bad(key, `must be ${spec.patternText ?? 'a string'} (got ${JSON.stringify(raw)})`, spec.def);
          return spec.def as never;
        }
        return raw.trim() as never;
      case 'enum':
        if (typeof raw !== 'string' || !spec.values.includes(raw.toUpperCase())) {
          bad(key, `must be one of ${spec.values.join(', ')} (got ${JSON.stringify(raw)})`, spec.def);
          return spec.def as never;
        }
        return raw.toUpperCase() as never;
      case 'stringArray':
        if (!Array.isArray(raw) || raw.some((s) => typeof s !== 'string' || s.trim() === '')) {
          bad(key, `must be a list of non-empty strings (got ${JSON.stringify(raw)})`, spec.def);
          return spec.def as never;
        }
        return raw.map((s: string) => s.trim()) as never;
      case 'perResource':
        return raw as never; // validated below, together with the global thresholds
    }
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
      },
      historySize: read('historySize'),
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
  };
  return { config, problems };
}

/** `{ "memory": { "warning": 60 } }`: per-resource overrides, each checked against the merged order. */
function parsePerResource(
  raw: unknown,
  global: Thresholds,
  problems: string[],
): ThresholdSettings['perResource'] {
  const key = `${SECTION}.thresholds.perResource`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${key} must be an object keyed by resource; using the default {}`);
    return undefined;
  }
  const out: Partial<Record<ResourceKind, Partial<Thresholds>>> = {};
  for (const [kind, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(RESOURCE_KINDS as readonly string[]).includes(kind)) {
      problems.push(`${key}.${kind} is not a resource (use ${RESOURCE_KINDS.join(', ')}); ignored`);
      continue;
    }
    if (typeof value !== 'object' || value === null) {
      problems.push(`${key}.${kind} must be an object with warning, critical and/or emergency; ignored`);
      continue;
    }
    const v = value as Record<string, unknown>;
    const unknownKeys = Object.keys(v).filter((k) => !['warning', 'critical', 'emergency'].includes(k));
    const merged = { ...global, ...v };
    const found = [
      ...thresholdProblems(merged, `${key}.${kind}`),
      ...unknownKeys.map((k) => `${key}.${kind}.${k} is not a threshold`),
    ];
    if (found.length > 0) {
      problems.push(`${found.join('; ')}; ignored`);
      continue;
    }
    const o: Partial<Thresholds> = {};
    for (const k of ['warning', 'critical', 'emergency'] as const) if (typeof v[k] === 'number') o[k] = v[k];
    out[kind as ResourceKind] = o;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
