import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { DockerClient, SystemDf } from '../docker/client';
import { DEFAULT_THRESHOLDS, type ThresholdSettings } from '../levels';
import { silentLogger, type Logger } from '../log';
import { mapLimit } from '../util/pool';
import { findDaemonProcess } from './daemonProcess';
import { figure, round2 } from './formulas';
import { ownerOf } from './owners';
import type { DiskBreakdown, DiskFigure, UnrotatedLog } from './types';

/** How often `/system/df` (and the log sizes) are read by default: it sizes every layer and volume. */
export const DEFAULT_DISK_INTERVAL_MS = 5 * 60_000;
/** A json-file log over this size with no `max-size` is reported. */
export const DEFAULT_LOG_SIZE_BOUND = 100 * 1024 * 1024;
/** Containers whose log files are sized per refresh, and inspected (for their log options) at most. */
const MAX_LOGS_SIZED = 2000;
const MAX_LOGS_INSPECTED = 20;

/**
 * The file system's figures as `df` prints them: used = total - free, capacity = used +
 * available to unprivileged writers, so the percent is df's Use% and reaches 100 when writes
 * start failing (a root reserve is neither used nor available).
 */
export async function statfsBytes(path: string): Promise<{ used: number; capacity: number }> {
  const s = await fsp.statfs(path);
  const used = (s.blocks - s.bfree) * s.bsize;
  return { used, capacity: used + s.bavail * s.bsize };
}

/** The daemon's own accounting, summed as `docker system df` sums it (shared build cache once). */
export function breakdownFromDf(df: SystemDf): DiskBreakdown {
  const sum = <T>(xs: readonly T[] | null | undefined, f: (x: T) => number | undefined): number =>
    (xs ?? []).reduce((n, x) => {
      const v = f(x);
      return typeof v === 'number' && v > 0 ? n + v : n;
    }, 0);
  return {
    images: df.LayersSize && df.LayersSize > 0 ? df.LayersSize : 0,
    buildCache: sum(df.BuildCache, (b) => (b.Shared ? 0 : b.Size)),
    volumes: sum(df.Volumes, (v) => v.UsageData?.Size),
    containers: sum(df.Containers, (c) => c.SizeRw),
  };
}

/** Bytes of a container's json-file log and its rotated files (`<id>-json.log`, `.1`, …). */
async function logFilesBytes(dataRoot: string, id: string): Promise<{ total: number; current: number }> {
  const dir = join(dataRoot, 'containers', id);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  let total = 0;
  let current = 0;
  for (const n of names) {
    if (!n.startsWith(`${id}-json.log`)) continue;
    const size = (await fsp.stat(join(dir, n)).catch(() => undefined))?.size ?? 0;
    total += size;
    if (n === `${id}-json.log`) current = size;
  }
  return { total, current };
}

export interface DiskReaderOptions {
  /** The daemon runs on this machine: its data root can be statfs'd and its log files sized. */
  local: boolean;
  /** `/system/df` (and the log sizes) at most this often. */
  everyMs?: number;
  logSizeBound?: number;
  /** The disk's size where only `/system/df` is known (it says what is used, not of how much). */
  capacityBytes?: number;
  logger?: Logger;
  now?: () => number;
}

/**
 * Docker's disk. On the local engine each sample statfs's the data root (one system call) and
 * carries the breakdown of the last rare refresh; elsewhere the figure itself is the last
 * `/system/df`, with the time it was measured. A refresh runs in the background, never inside
 * a sample, and one at a time.
 */
export class DiskReader {
  private readonly everyMs: number;
  private readonly logSizeBound: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private refreshedAt: number | undefined;
  private refreshing: Promise<void> | undefined;
  private last: { at: number; breakdown: DiskBreakdown; unrotatedLogs: UnrotatedLog[] } | undefined;

  constructor(
    private readonly client: DockerClient,
    private readonly opts: DiskReaderOptions,
  ) {
    this.everyMs = opts.everyMs ?? DEFAULT_DISK_INTERVAL_MS;
    this.logSizeBound = opts.logSizeBound ?? DEFAULT_LOG_SIZE_BOUND;
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The figure a sample carries; undefined until one is known (elsewhere: until the first
   * `/system/df` answered). Starts a refresh in the background when one is due.
   */
  async figure(dataRoot: string | undefined, thresholds: ThresholdSettings): Promise<DiskFigure | undefined> {
    if (this.refreshedAt === undefined || this.now() - this.refreshedAt >= this.everyMs)
      void this.refresh(dataRoot);
    if (this.opts.local && dataRoot) {
      const at = this.now();
      const fs = await statfsBytes(dataRoot).catch((err: Error) => {
        this.logger.debug(`statfs ${dataRoot}: ${err.message}`);
        return undefined;
      });
      if (fs)
        return {
          ...figure('disk', fs.used, fs.capacity, thresholds),
          source: 'statfs',
          measuredAt: new Date(at).toISOString(),
          dataRoot,
          ...this.details(),
        };
    }
    if (!this.last) return undefined;
    const b = this.last.breakdown;
    return {
      ...figure(
        'disk',
        b.images + b.buildCache + b.volumes + b.containers,
        this.opts.capacityBytes ?? 0,
        thresholds,
      ),
      source: 'system-df',
      measuredAt: new Date(this.last.at).toISOString(),
      ...(dataRoot ? { dataRoot } : {}),
      ...this.details(),
    };
  }

  private details(): Pick<DiskFigure, 'breakdown' | 'unrotatedLogs'> {
    if (!this.last) return {};
    return {
      breakdown: this.last.breakdown,
      ...(this.last.unrotatedLogs.length ? { unrotatedLogs: this.last.unrotatedLogs } : {}),
    };
  }

  /** Reads `/system/df` (and the log sizes, locally) now, or joins the refresh in flight. */
  refresh(dataRoot: string | undefined): Promise<void> {
    this.refreshedAt = this.now();
    this.refreshing ??= this.readBreakdown(dataRoot)
      .catch((err: Error) => this.logger.debug(`disk breakdown: ${err.message}`))
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private async readBreakdown(dataRoot: string | undefined): Promise<void> {
    const df = await this.client.systemDf();
    const at = this.now();
    const breakdown = breakdownFromDf(df);
    let unrotatedLogs: UnrotatedLog[] = [];
    if (this.opts.local && dataRoot) {
      const containers = (df.Containers ?? []).slice(0, MAX_LOGS_SIZED);
      const sizes = await mapLimit(containers, 16, async (c) => ({
        c,
        ...(await logFilesBytes(dataRoot, c.Id)),
      }));
      breakdown.logs = sizes.reduce((n, s) => n + s.total, 0);
      unrotatedLogs = await this.unrotated(
        sizes.filter((s) => s.current > this.logSizeBound).sort((a, b) => b.current - a.current),
      );
    }
    this.last = { at, breakdown, unrotatedLogs };
  }

  /** Of the big logs, those whose container has no `max-size` (one inspect each, bounded). */
  private async unrotated(
    big: Array<{ c: NonNullable<SystemDf['Containers']>[number]; current: number }>,
  ): Promise<UnrotatedLog[]> {
    const judged = await mapLimit(big.slice(0, MAX_LOGS_INSPECTED), 4, async ({ c, current }) => {
      const info = await this.client
        .call('inspect container', (api, abortSignal) => api.getContainer(c.Id).inspect({ abortSignal }))
        .catch(() => undefined);
      const log = info?.HostConfig?.LogConfig;
      if (!log || log.Type !== 'json-file' || log.Config?.['max-size']) return undefined;
      const labels = c.Labels ?? {};
      const service = labels['com.docker.compose.service'];
      const entry: UnrotatedLog = {
        id: c.Id.slice(0, 12),
        name: c.Names?.[0]?.replace(/^\//, '') || c.Id.slice(0, 12),
        owner: ownerOf(labels),
        ...(service ? { service } : {}),
        bytes: current,
      };
      return entry;
    });
    return judged.filter((x): x is UnrotatedLog => x !== undefined);
  }
}

/**
 * Docker's disk now, outside a monitor (one statfs locally, or one `/system/df`): what a cleanup
 * reports its reclaimed bytes against.
 */
export async function measureDisk(
  client: DockerClient,
  opts: { thresholds?: ThresholdSettings; capacityBytes?: number } = {},
): Promise<DiskFigure | undefined> {
  const socket = client.endpoint.socketPath;
  const local = socket && process.platform === 'linux' ? await findDaemonProcess(socket) : undefined;
  const root = (await client.info()).DockerRootDir;
  const reader = new DiskReader(client, { local: local !== undefined, capacityBytes: opts.capacityBytes });
  await reader.refresh(root);
  return reader.figure(root, opts.thresholds ?? DEFAULT_THRESHOLDS);
}

/** Bytes a cleanup reclaimed, set against the disk measured after it. */
export interface ReclaimedOnDisk {
  bytes: number;
  /** The reclaimed bytes as points of the disk's capacity (0 when the capacity is unknown). */
  points: number;
  /** The disk's percent before the cleanup, estimated as now plus what was reclaimed. */
  percentBefore: number;
  disk: DiskFigure;
}

export function reclaimedOnDisk(bytes: number, disk: DiskFigure): ReclaimedOnDisk {
  const points = disk.capacity > 0 ? round2((bytes / disk.capacity) * 100) : 0;
  return { bytes, points, percentBefore: round2(disk.percent + points), disk };
}
