// What a ResourceMonitor is built with (its settings are validated apart: settings.ts).
import type { Logger } from '../log';
import type { CpuSeed } from './cpuSeed';

export interface MonitorOptions {
  /** Persist history here (JSON Lines); without it history lives in memory only. */
  historyFile?: string;
  logger?: Logger;
  /** Relist containers, networks and volumes at least this often (events cover the rest). */
  fallbackPollMs?: number;
  /** Longest wait between reconnection attempts while the daemon is down. */
  maxBackoffMs?: number;
  /** Persist incidents here (JSON Lines); default: next to the history file (see incidentsFileFor). */
  incidentsFile?: string;
  /**
   * Read the disk figure (statfs of the data root, `/system/df` now and then). Default true; a
   * test run's monitor turns it off: no decision of a run rests on disk, and `/system/df` is
   * the daemon's most expensive call.
   */
  disk?: boolean;
  /**
   * Through cgroup files, how long the first sample waits between its two CPU readings (a
   * rate needs two). Default 250 ms. Through the stats API it is always about a second (the
   * daemon's stats collector ticks once a second).
   */
  cpuPrimeMs?: number;
  /**
   * CPU counters read earlier in this process (readCpuSeed): the first sample's window starts
   * there, so it waits only for what is left of `cpuPrimeMs` (containers the seed lacks wait as usual).
   */
  cpuSeed?: CpuSeed;
}
