import type { DockerClient } from '../docker/client';
import { costOfRead, ESTIMATED_MS_PER_STATS_CALL, StatsBudgetController, type CpuMark } from './budget';
import { ContainerStatsReader, type ContainerFigure } from './containerStats';
import { seedAgeMs, type CpuSeed } from './cpuSeed';
import { daemonPids, processCpuMs, type DaemonProcess } from './daemonProcess';
import type { MonitorSettings } from './settings';
import type { Sample } from './types';

export interface BudgetedRead {
  figures: ContainerFigure[];
  failed: number;
  budget?: Sample['budget'];
}

/**
 * The monitor's per-container reads under the stats budget, apart from the sampling loop:
 * the state it keeps (CPU priming, the budget, the carried read, the daemon's CPU mark) only
 * changes with the settings it is built from or an outage, which the monitor reports here.
 */
export class BudgetedStatsReader {
  private stats: ContainerStatsReader;
  private primed = false;
  private budget: StatsBudgetController | undefined;
  /** The last full per-container read, carried by samples between reads when the budget says so. */
  private carried: { figures: ContainerFigure[]; failed: number; at: number } | undefined;
  /** The daemon's CPU at the end of the last full read, over which processes (for the next read's baseline). */
  private lastReadEnd: { mark: CpuMark; pidsKey: string } | undefined;

  constructor(
    private readonly client: DockerClient,
    private settings: MonitorSettings,
    private readonly opts: { cpuPrimeMs?: number; cpuSeed?: CpuSeed } = {},
  ) {
    this.seed = opts.cpuSeed;
    this.stats = this.newStatsReader(settings);
  }

  /** The early CPU readings, until the first read (a reader built later primes as usual). */
  private seed: CpuSeed | undefined;

  private newStatsReader(settings: MonitorSettings): ContainerStatsReader {
    return new ContainerStatsReader(this.client, {
      path: settings.statsPath,
      concurrency: settings.statsConcurrency,
      ...(this.seed ? { cpuSeed: this.seed } : {}),
    });
  }

  /** Takes new settings in, dropping only the state that was built from a changed value. */
  applySettings(settings: MonitorSettings): void {
    if (
      settings.statsPath !== this.settings.statsPath ||
      settings.statsConcurrency !== this.settings.statsConcurrency
    ) {
      // the reader is built from these: a new one (and a fresh priming read for CPU) applies them
      this.stats = this.newStatsReader(settings);
      this.primed = false;
    }
    if (
      settings.intervalMs !== this.settings.intervalMs ||
      settings.statsBudgetPercent !== this.settings.statsBudgetPercent
    )
      this.budget = undefined;
    this.settings = settings;
  }

  /** After an outage: CPU needs priming again and the carried figures describe the old daemon. */
  forget(): void {
    this.primed = false;
    this.carried = undefined;
  }

  /**
   * Per-container figures. Through the API the budget decides: a full read when due (its
   * cost measured: the local dockerd's, containerd's and shims' CPU from /proc, else estimated per
   * call), otherwise the last full read's figures for the containers still running, plus a
   * read of only the containers it did not cover (events keep the list current).
   */
  async read(running: readonly string[], local: DaemonProcess | undefined): Promise<BudgetedRead> {
    const now = Date.now();
    const carried = this.carried;
    if (this.budget && carried && !this.budget.due(now)) {
      const live = new Set(running);
      const kept = carried.figures.filter((f) => live.has(f.id));
      const have = new Set(kept.map((f) => f.id));
      const fresh = running.filter((id) => !have.has(id));
      const more = fresh.length ? await this.stats.read(fresh, running) : { figures: [], failed: [] };
      this.carried = { ...carried, figures: [...kept, ...more.figures] };
      return {
        figures: this.carried.figures,
        failed: more.failed.length,
        budget: this.budget.state(new Date(carried.at).toISOString()),
      };
    }
    // The daemon's processes are found (a pass over /proc) only for a read that calls the API:
    // cgroup reads cost the daemon nothing.
    let pids: number[] | undefined;
    const mark = (): CpuMark | undefined => {
      pids ??= local ? daemonPids(local.pid) : [];
      if (!pids.length) return undefined;
      let cpuMs = 0;
      for (const pid of pids) cpuMs += processCpuMs(pid) ?? 0;
      return { cpuMs, atMs: Date.now() };
    };
    let before: CpuMark | undefined;
    const markBefore = (): void => void (before = mark());
    const seed = this.seed;
    this.seed = undefined;
    if (!this.primed && seed && running.some((id) => seed.counters.has(id))) {
      // The first CPU readings were the seed's: only what is left of the window is waited for.
      const left = (this.opts.cpuPrimeMs ?? 250) - seedAgeMs(seed);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
    let read = await this.stats.read(running, running, markBefore);
    if (!this.primed && read.figures.some((f) => !f.hasCpu)) {
      // First sample: CPU needs two readings. The daemon's stats collector ticks once a
      // second, so one-shot frames need about a second between them; cgroup files do not.
      const viaApi = read.figures.some((f) => f.via === 'api');
      await new Promise((r) => setTimeout(r, viaApi ? 1100 : (this.opts.cpuPrimeMs ?? 250)));
      before = undefined;
      read = await this.stats.read(running, running, markBefore);
    }
    this.primed = true;
    const calls = read.figures.filter((f) => f.via === 'api').length + read.failed.length;
    this.carried = { figures: read.figures, failed: read.failed.length, at: now };
    if (calls === 0) return { figures: read.figures, failed: read.failed.length };
    this.budget ??= new StatsBudgetController(this.settings.statsBudgetPercent, this.settings.intervalMs);
    const after = mark();
    const pidsKey = (pids ?? []).join(',');
    const previous = this.lastReadEnd?.pidsKey === pidsKey ? this.lastReadEnd.mark : undefined;
    this.lastReadEnd = after ? { mark: after, pidsKey } : undefined;
    this.budget.observe(
      now,
      before && after
        ? { cpuMs: costOfRead(before, after, previous), measure: 'daemon-cpu' }
        : { cpuMs: calls * ESTIMATED_MS_PER_STATS_CALL, measure: 'estimate' },
    );
    return {
      figures: read.figures,
      failed: read.failed.length,
      budget: this.budget.state(new Date(now).toISOString()),
    };
  }
}
