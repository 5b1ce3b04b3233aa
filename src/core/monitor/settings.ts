import {
  DEFAULT_THRESHOLDS,
  thresholdProblems,
  validatePerResource,
  type ThresholdSettings,
} from '../levels';
import { DEFAULT_STATS_BUDGET_PERCENT } from './budget';
import { DEFAULT_STATS_CONCURRENCY } from './containerStats';
import { DEFAULT_DISK_INTERVAL_MS, DEFAULT_LOG_SIZE_BOUND } from './disk';
import { DEFAULT_HISTORY_SIZE } from './history';

export interface Capacities {
  /** Memory capacity in bytes; default: the daemon's MemTotal (on Docker Desktop, the VM's size). */
  memoryBytes?: number;
  /** CPU capacity in percent of a core; default: NCPU x 100. */
  cpuPercent?: number;
  /** Disk size in bytes where only `/system/df` is known (remote engines); locally statfs says. */
  diskBytes?: number;
  containers: number;
  /** Default 31: about the number of bridge networks the default address pools allow (moby #23971). */
  networks: number;
  volumes: number;
}

export interface MonitorSettings {
  intervalMs: number;
  thresholds: ThresholdSettings;
  capacities: Capacities;
  historySize: number;
  /** Most stats API calls in flight at once (only for containers not read from cgroup files). */
  statsConcurrency: number;
  /** `auto` reads cgroup files when the daemon is local on Linux, else the stats API. */
  statsPath: 'auto' | 'cgroup' | 'api';
  /** How many of the heaviest containers each sample names (0: none; owner totals are always kept). */
  topConsumers: number;
  /** `/system/df` (the disk breakdown; elsewhere the disk figure itself) at most this often. */
  diskIntervalMs: number;
  /** A json-file container log over this many bytes with no rotation is reported. */
  logSizeBytes: number;
  /** Per-container stats through the API are read less often to keep the daemon under this % of a core. */
  statsBudgetPercent: number;
  /**
   * A container still `starting` its healthcheck after this long never became healthy; 0: its
   * own healthcheck's start period plus retries x interval.
   */
  healthyWithinMs: number;
}

export const DEFAULT_MONITOR_SETTINGS: Readonly<MonitorSettings> = Object.freeze({
  intervalMs: 2000,
  thresholds: { ...DEFAULT_THRESHOLDS },
  capacities: { containers: 100, networks: 31, volumes: 200 },
  historySize: DEFAULT_HISTORY_SIZE,
  statsConcurrency: DEFAULT_STATS_CONCURRENCY,
  statsPath: 'auto',
  topConsumers: 5,
  diskIntervalMs: DEFAULT_DISK_INTERVAL_MS,
  logSizeBytes: DEFAULT_LOG_SIZE_BOUND,
  statsBudgetPercent: DEFAULT_STATS_BUDGET_PERCENT,
  healthyWithinMs: 0,
});

/**
 * The range of each capacity, in MonitorSettings' units (the lowest is 1). The extension's
 * `capacity.*` settings take the same ranges in theirs (src/core/options/monitor.ts).
 */
export const CAPACITY_MAX = {
  containers: 1_000_000,
  networks: 1_000_000,
  volumes: 1_000_000,
  /** 16 TiB. */
  memoryBytes: 16 * 1024 ** 4,
  /** 4096 cores. */
  cpuPercent: 4096 * 100,
  /** 1 PiB. */
  diskBytes: 1024 ** 5,
} as const;

const LIMITS = {
  intervalMs: [250, 3_600_000],
  historySize: [10, 100_000],
  statsConcurrency: [1, 64],
  topConsumers: [0, 1000],
  diskIntervalMs: [10_000, 86_400_000],
  logSizeBytes: [1024 * 1024, 2 ** 50],
  statsBudgetPercent: [0.1, 100],
  healthyWithinMs: [0, 86_400_000],
} as const;

/** Settings taken as any number in range; the rest of LIMITS' keys must be integers. */
const FRACTIONAL = new Set(['intervalMs', 'statsBudgetPercent']);

function num(v: unknown, min: number, max: number): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined;
}

/**
 * Turns raw settings (a VS Code configuration, a JSON file, flags) into valid MonitorSettings.
 * What raw leaves out comes from `base` (the defaults, or the settings in force when a running
 * monitor is updated); an object it gives (`thresholds`, `capacities`) replaces base's. Every
 * bad value is reported by name and replaced by base's; nothing throws.
 */
export function validateMonitorSettings(
  raw: unknown,
  base: Readonly<MonitorSettings> = DEFAULT_MONITOR_SETTINGS,
): { settings: MonitorSettings; problems: string[] } {
  const problems: string[] = [];
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const d = base;
  const which = base === DEFAULT_MONITOR_SETTINGS ? 'the defaults' : 'the current';
  const s: MonitorSettings = {
    ...d,
    thresholds: { ...d.thresholds },
    capacities: { ...d.capacities },
  };
  const baseLevels = `${d.thresholds.warning}/${d.thresholds.critical}/${d.thresholds.emergency}`;

  for (const key of Object.keys(LIMITS) as Array<keyof typeof LIMITS>) {
    if (r[key] === undefined) continue;
    const [min, max] = LIMITS[key];
    const v = num(r[key], min, max);
    const fractional = FRACTIONAL.has(key);
    if (v === undefined || (!fractional && !Number.isInteger(v))) {
      problems.push(
        `${key} must be ${fractional ? 'a number' : 'an integer'} from ${min} to ${max} (got ${JSON.stringify(r[key])}); using ${d[key]}`,
      );
    } else s[key] = v;
  }

  if (r.statsPath !== undefined) {
    if (r.statsPath === 'auto' || r.statsPath === 'cgroup' || r.statsPath === 'api')
      s.statsPath = r.statsPath;
    else
      problems.push(
        `statsPath must be auto, cgroup or api (got ${JSON.stringify(r.statsPath)}); using ${d.statsPath}`,
      );
  }

  if (r.thresholds !== undefined && (typeof r.thresholds !== 'object' || r.thresholds === null)) {
    problems.push(
      `thresholds must be an object with warning, critical, emergency (got ${JSON.stringify(r.thresholds)}); using ${which} ${baseLevels}`,
    );
  } else if (r.thresholds !== undefined) {
    const t = r.thresholds as Record<string, unknown>;
    const merged = {
      warning: d.thresholds.warning,
      critical: d.thresholds.critical,
      emergency: d.thresholds.emergency,
      ...t,
    };
    const p = thresholdProblems(merged, 'thresholds');
    if (p.length) problems.push(...p.map((m) => `${m}; using ${which} ${baseLevels}`));
    else {
      s.thresholds = {
        warning: merged.warning as number,
        critical: merged.critical as number,
        emergency: merged.emergency as number,
      };
      const per = (t as { perResource?: unknown }).perResource;
      if (per !== undefined) {
        const checked = validatePerResource(per, s.thresholds);
        problems.push(...checked.problems);
        s.thresholds.perResource = checked.value;
      }
    }
  }

  if (r.capacities !== undefined && (typeof r.capacities !== 'object' || r.capacities === null)) {
    problems.push(`capacities must be an object (got ${JSON.stringify(r.capacities)}); using ${which}`);
  } else if (r.capacities !== undefined) {
    const c = r.capacities as Record<string, unknown>;
    // A memory or CPU capacity left out means the daemon's figure, whatever base had.
    s.capacities = {
      containers: d.capacities.containers,
      networks: d.capacities.networks,
      volumes: d.capacities.volumes,
    };
    for (const key of ['containers', 'networks', 'volumes'] as const) {
      if (c[key] === undefined) continue;
      const v = num(c[key], 1, CAPACITY_MAX[key]);
      if (v === undefined)
        problems.push(
          `capacities.${key} must be a number from 1 to ${CAPACITY_MAX[key]} (got ${JSON.stringify(c[key])}); using ${d.capacities[key]}`,
        );
      else s.capacities[key] = v;
    }
    for (const key of ['memoryBytes', 'cpuPercent', 'diskBytes'] as const) {
      if (c[key] === undefined || c[key] === null || c[key] === 0) continue;
      const v = num(c[key], 1, CAPACITY_MAX[key]);
      if (v === undefined) {
        const kept = d.capacities[key];
        if (kept !== undefined) s.capacities[key] = kept;
        const above = typeof c[key] === 'number' && c[key] > CAPACITY_MAX[key];
        problems.push(
          `capacities.${key} must be ${above ? `at most ${CAPACITY_MAX[key]}` : 'a positive number'} (got ${JSON.stringify(c[key])}); using ${kept ?? "the daemon's figure"}`,
        );
      } else s.capacities[key] = v;
    }
  }
  return { settings: s, problems };
}
