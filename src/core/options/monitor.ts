// The monitor's options in the units a person sets them (seconds, MiB, cores, percent): the
// extension's `dockerStability.*` monitor settings. The CLI config file and the library give
// MonitorSettings (milliseconds, bytes), checked by validateMonitorSettings; both start from
// DEFAULT_MONITOR_SETTINGS.
import { DEFAULT_THRESHOLDS } from '../levels';
import { CAPACITY_MAX, DEFAULT_MONITOR_SETTINGS } from '../monitor/settings';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

const percent = (def: number) => ({ kind: 'number', def, min: 0, max: 100 }) as const;

export const MONITOR_FIELDS = {
  intervalSeconds: { kind: 'number', def: DEFAULT_MONITOR_SETTINGS.intervalMs / 1000, min: 0.25, max: 3600 },
  warning: percent(DEFAULT_THRESHOLDS.warning),
  critical: percent(DEFAULT_THRESHOLDS.critical),
  emergency: percent(DEFAULT_THRESHOLDS.emergency),
  /** 0: the daemon's MemTotal. */
  memoryMiB: { kind: 'number', def: 0, min: 0, max: CAPACITY_MAX.memoryBytes / MIB, integer: true },
  /** 0: the daemon's NCPU. */
  cpuCores: { kind: 'number', def: 0, min: 0, max: CAPACITY_MAX.cpuPercent / 100 },
  containers: {
    kind: 'number',
    def: DEFAULT_MONITOR_SETTINGS.capacities.containers,
    min: 1,
    max: CAPACITY_MAX.containers,
    integer: true,
  },
  networks: {
    kind: 'number',
    def: DEFAULT_MONITOR_SETTINGS.capacities.networks,
    min: 1,
    max: CAPACITY_MAX.networks,
    integer: true,
  },
  volumes: {
    kind: 'number',
    def: DEFAULT_MONITOR_SETTINGS.capacities.volumes,
    min: 1,
    max: CAPACITY_MAX.volumes,
    integer: true,
  },
  /** 0: the data root's size from statfs; only `/system/df` (remote engines) needs it. */
  diskGiB: { kind: 'number', def: 0, min: 0, max: CAPACITY_MAX.diskBytes / GIB },
  statsBudgetPercent: {
    kind: 'number',
    def: DEFAULT_MONITOR_SETTINGS.statsBudgetPercent,
    min: 0.1,
    max: 100,
  },
  diskIntervalSeconds: {
    kind: 'number',
    def: DEFAULT_MONITOR_SETTINGS.diskIntervalMs / 1000,
    min: 10,
    max: 86400,
    integer: true,
  },
  logSizeMiB: {
    kind: 'number',
    def: DEFAULT_MONITOR_SETTINGS.logSizeBytes / (1024 * 1024),
    min: 1,
    max: 1024 * 1024,
    integer: true,
  },
  /** 0: each container's own healthcheck start period plus retries x interval. */
  healthyWithinSeconds: {
    kind: 'number',
    def: DEFAULT_MONITOR_SETTINGS.healthyWithinMs / 1000,
    min: 0,
    max: 86400,
    integer: true,
  },
  historySize: {
    kind: 'number',
    def: DEFAULT_MONITOR_SETTINGS.historySize,
    min: 10,
    max: 100000,
    integer: true,
  },
} as const;
