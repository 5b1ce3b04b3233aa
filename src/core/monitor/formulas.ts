import {
  RESOURCE_KINDS,
  rate,
  thresholdsFor,
  worstLevel,
  type LevelledKind,
  type ThresholdSettings,
} from '../levels';
import type { ResourceFigure, Sample } from './types';

/** The parts of a stats frame (`GET /containers/{id}/stats`) the figures use. */
export interface StatsFrame {
  cpu_stats?: {
    cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  memory_stats?: { usage?: number; stats?: Record<string, number | undefined> };
}

/**
 * CPU% of one container between two frames, as docker/cli `stats_helpers.go` computes it:
 * container delta / system delta x online CPUs x 100. Per core (200 = two full cores).
 * `online_cpus` may be 0 on old kernels: fall back to the length of `percpu_usage`.
 * Zero unless both deltas are positive (first frame, counter reset).
 */
export function cpuPercentFromFrames(prev: StatsFrame | undefined, cur: StatsFrame): number {
  if (!prev) return 0;
  const cpuDelta =
    (cur.cpu_stats?.cpu_usage?.total_usage ?? 0) - (prev.cpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cur.cpu_stats?.system_cpu_usage ?? 0) - (prev.cpu_stats?.system_cpu_usage ?? 0);
  let online = cur.cpu_stats?.online_cpus ?? 0;
  if (!online) online = cur.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  if (!(cpuDelta > 0 && systemDelta > 0) || !online) return 0;
  return (cpuDelta / systemDelta) * online * 100;
}

/**
 * Working-set memory of one container: `usage` minus inactive file pages
 * (`total_inactive_file` on cgroup v1, `inactive_file` on v2). Raw usage counts page cache and
 * reads near 100% (lazydocker #560); subtracting `cache` is wrong on v2 (ctop #314).
 */
export function memoryFromFrame(frame: StatsFrame): number {
  const usage = frame.memory_stats?.usage ?? 0;
  const stats = frame.memory_stats?.stats ?? {};
  const inactive = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  return workingSet(usage, inactive);
}

export function workingSet(usage: number, inactiveFile: number): number {
  return inactiveFile < usage ? usage - inactiveFile : usage;
}

/**
 * CPU% from two cumulative CPU-time readings taken directly from the cgroup (nanoseconds), over
 * the wall time between them: the same per-core figure as the API formula, whose system delta
 * is wall time x online CPUs.
 */
export function cpuPercentFromCounters(
  prevNs: number,
  prevAtNs: bigint,
  curNs: number,
  curAtNs: bigint,
): number {
  const used = curNs - prevNs;
  const wall = Number(curAtNs - prevAtNs);
  if (!(used > 0 && wall > 0)) return 0;
  return (used / wall) * 100;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function figure(
  kind: LevelledKind,
  used: number,
  capacity: number,
  thresholds: ThresholdSettings,
): ResourceFigure {
  const percent = capacity > 0 ? round2((used / capacity) * 100) : 0;
  return {
    used: kind === 'cpu' ? round2(used) : used,
    capacity,
    percent,
    level: rate(percent, thresholdsFor(kind, thresholds)),
  };
}

export interface SampleInputs {
  endpoint: string;
  daemonId?: string;
  sampledAt: Date;
  memoryBytes: number;
  memoryCapacity: number;
  cpuPercent: number;
  cpuCapacity: number;
  containers: number;
  running: number;
  networks: number;
  volumes: number;
  capacities: { containers: number; networks: number; volumes: number };
  thresholds: ThresholdSettings;
  source: Sample['source'];
  durationMs: number;
  consumers?: Sample['consumers'];
  owners?: Sample['owners'];
  disk?: Sample['disk'];
  budget?: Sample['budget'];
}

/** Assembles a sample from measured totals: figures, levels and the overall (worst) level, disk's included. */
export function buildSample(i: SampleInputs): Sample {
  const resources = {
    memory: figure('memory', i.memoryBytes, i.memoryCapacity, i.thresholds),
    cpu: figure('cpu', i.cpuPercent, i.cpuCapacity, i.thresholds),
    containers: figure('containers', i.containers, i.capacities.containers, i.thresholds),
    networks: figure('networks', i.networks, i.capacities.networks, i.thresholds),
    volumes: figure('volumes', i.volumes, i.capacities.volumes, i.thresholds),
  };
  return {
    endpoint: i.endpoint,
    ...(i.daemonId ? { daemonId: i.daemonId } : {}),
    sampledAt: i.sampledAt.toISOString(),
    level: worstLevel([...Object.values(resources), ...(i.disk ? [i.disk] : [])].map((r) => r.level)),
    resources,
    running: i.running,
    source: i.source,
    durationMs: Math.round(i.durationMs * 10) / 10,
    ...(i.consumers ? { consumers: i.consumers } : {}),
    ...(i.owners ? { owners: i.owners } : {}),
    ...(i.disk ? { disk: i.disk } : {}),
    ...(i.budget ? { budget: i.budget } : {}),
  };
}

/** Every levelled figure of a sample in listing order: the five, then disk once it has been measured. */
export function levelledFigures(s: Sample): Array<{ kind: LevelledKind; figure: ResourceFigure }> {
  const all = RESOURCE_KINDS.map((kind): { kind: LevelledKind; figure: ResourceFigure } => ({
    kind,
    figure: s.resources[kind],
  }));
  if (s.disk) all.push({ kind: 'disk', figure: s.disk });
  return all;
}

/**
 * The resource that drives the overall level, disk's included: among those at the sample's
 * level, the one with the highest percent (ties keep the listing order). Disk is carried
 * outside `resources`, so the views ask this one function rather than handling it by hand.
 */
export function drivingFigure(s: Sample): { kind: LevelledKind; figure: ResourceFigure } {
  let best: { kind: LevelledKind; figure: ResourceFigure } = { kind: 'memory', figure: s.resources.memory };
  for (const cur of levelledFigures(s)) {
    const f = cur.figure;
    if (f.level === s.level && (best.figure.level !== s.level || f.percent > best.figure.percent)) best = cur;
  }
  return best;
}
