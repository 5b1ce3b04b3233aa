import type { Level, ResourceKind } from '../levels';
import type { ContainerUsage, OwnerUsage } from './owners';

/** One resource's figures in a sample. */
export interface ResourceFigure {
  /** Memory: bytes; CPU: percent of one core summed over containers (200 = two cores); counts: items. */
  used: number;
  /** Memory: MemTotal bytes (or the configured capacity); CPU: NCPU x 100; counts: configured maxima. */
  capacity: number;
  /** used / capacity x 100, rounded to two decimals. */
  percent: number;
  level: Level;
}

export interface Sample {
  /** The endpoint watched, as the user would write it (unix:///var/run/docker.sock). */
  endpoint: string;
  /** The daemon's own ID (DaemonIdentity.id); absent in history written before it was recorded. */
  daemonId?: string;
  /** ISO 8601 time the sample was taken. */
  sampledAt: string;
  /** The worst level across resources. */
  level: Level;
  resources: Record<ResourceKind, ResourceFigure>;
  /** Containers running at sample time (containers.used counts all, running or not). */
  running: number;
  /** How container figures were read: directly from cgroup files, or through the stats API. */
  source: { cgroup: number; api: number; failed: number };
  /** Wall time the sample took, in ms. */
  durationMs: number;
  /**
   * The heaviest running containers by working-set memory (at most the `topConsumers` setting),
   * from the figures the sample read anyway. Absent in history written before it was recorded.
   */
  consumers?: ContainerUsage[];
  /** Every owner's totals over its running containers, heaviest first (absent in older history). */
  owners?: OwnerUsage[];
}

/** The monitor's connection state; `reason` explains an unreachable daemon. */
export type MonitorState =
  | { status: 'starting'; endpoint: string }
  | { status: 'up'; endpoint: string; since: string }
  | { status: 'down'; endpoint: string; since: string; reason: string; retryInMs: number }
  | { status: 'paused'; endpoint: string }
  | { status: 'disposed'; endpoint: string };

export type { Unsubscribe } from '../util/emitter';
