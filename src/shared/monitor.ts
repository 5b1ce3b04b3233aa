// What a monitor sample and the monitor's state look like: written by the core, drawn by the
// webview, so it lives on the floor both stand on (src/shared imports nothing outside itself).
import type { Level, ResourceKind } from './levels';

/**
 * Who a container belongs to, from its labels: a docker-stability run, a compose project, a
 * testcontainers session, or nobody we know ("other").
 */
export type Owner =
  | { kind: 'run'; id: string; category?: string }
  | { kind: 'compose'; id: string }
  | { kind: 'testcontainers'; id: string }
  | { kind: 'other'; id: '' };

export type OwnerKind = Owner['kind'];

/** One running container's share: working-set memory and per-core CPU. */
export interface ContainerUsage {
  /** Short id (12 hex digits, as `docker ps` prints it). */
  id: string;
  /** The container's name without the leading slash. */
  name: string;
  owner: Owner;
  memoryBytes: number;
  /** Percent of one core (200 = two cores). */
  cpuPercent: number;
}

/** The sum over one owner's running containers. */
export interface OwnerUsage {
  owner: Owner;
  containers: number;
  memoryBytes: number;
  cpuPercent: number;
}

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

/** Where the bytes on Docker's disk go (the daemon's own accounting, `/system/df`, plus log files). */
export interface DiskBreakdown {
  images: number;
  buildCache: number;
  volumes: number;
  /** Containers' writable layers. */
  containers: number;
  /** json-file container logs; known on the local engine only. */
  logs?: number;
}

/**
 * The sixth resource: the file system holding Docker's data root. Disk is read rarely on paths
 * where it is expensive, so a figure carries the time it was measured, which may be older than
 * the sample that carries it.
 */
export interface DiskFigure extends ResourceFigure {
  /** statfs of the data root (local engine), or the daemon's `/system/df` (anywhere else). */
  source: 'statfs' | 'system-df';
  /** ISO 8601 time the figure was measured. */
  measuredAt: string;
  /** The daemon's `DockerRootDir`, where known. */
  dataRoot?: string;
  breakdown?: DiskBreakdown;
  /**
   * Containers whose json-file log is over the log-size bound with no rotation (`max-size`)
   * configured, largest first (local engine only): compose's log-rotation rule is the fix.
   */
  unrotatedLogs?: UnrotatedLog[];
}

/** One container log growing without rotation. */
export interface UnrotatedLog {
  /** Short id (12 hex digits). */
  id: string;
  name: string;
  owner: Owner;
  /** The compose service (`com.docker.compose.service`), when the container is one. */
  service?: string;
  /** Bytes of the log file. */
  bytes: number;
}

/**
 * The monitor's cost budget for per-container stats: when reading them costs the daemon more
 * than `limitPercent` of one core at the sample interval, they are read less often (the counts
 * still follow events) and the samples in between carry the last figures.
 */
export interface StatsBudget {
  /** Per-container figures are read this often (the sample interval when within budget). */
  statsEveryMs: number;
  /** The budget, percent of one core. */
  limitPercent: number;
  /** The measured cost of reading them once per sample interval, percent of one core. */
  costPercent: number;
  /** The daemon's CPU time read from /proc (local engine), or an estimate from the number of stats calls (anywhere else). */
  measure: 'daemon-cpu' | 'estimate';
  /** ISO 8601 time the carried per-container figures were read. */
  statsAt: string;
  /** One line for any face: "sampling containers every 6 s to stay under 5% CPU". */
  reason: string;
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
  /** Docker's disk, when it could be measured (absent in older history and when unknown). */
  disk?: DiskFigure;
  /** The stats cost budget in force (absent in older history, and on the cgroup path). */
  budget?: StatsBudget;
}

/** The monitor's connection state; `reason` explains an unreachable daemon. */
export type MonitorState =
  | { status: 'starting'; endpoint: string }
  | { status: 'up'; endpoint: string; since: string }
  | { status: 'down'; endpoint: string; since: string; reason: string; retryInMs: number }
  | { status: 'paused'; endpoint: string }
  | { status: 'disposed'; endpoint: string };
