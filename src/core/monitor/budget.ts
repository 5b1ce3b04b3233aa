import { round2 } from './formulas';
import type { StatsBudget } from './types';

/** The daemon's share of one core the per-container stats may cost by default. */
export const DEFAULT_STATS_BUDGET_PERCENT = 5;
/**
 * Daemon CPU (dockerd + containerd + shims) per one-shot stats call, for where /proc cannot tell
 * (remote engines, Docker Desktop): measured on Engine 20.10 here with 100 containers read every
 * 2 s (BENCHMARKS.md, "Monitor": 19% of a core, 3.8 ms a call).
 */
export const ESTIMATED_MS_PER_STATS_CALL = 3.8;
/** Figures older than this are not carried, whatever the cost: a minute-old figure still says something. */
export const MAX_STATS_EVERY_MS = 60_000;
/** Weight of the newest cost in the running estimate: one slow read must not triple the interval. */
const SMOOTHING = 0.3;
/** The interval shrinks only when the need falls below this share of it (no flapping at the edge). */
const SHRINK_BELOW = 0.75;

export interface StatsCost {
  /** Daemon CPU time one full per-container read cost, in ms. */
  cpuMs: number;
  measure: StatsBudget['measure'];
}

/** The daemon's CPU time so far (ms) at a moment (Unix ms), over one set of its processes. */
export interface CpuMark {
  cpuMs: number;
  atMs: number;
}

/**
 * What one read cost the daemon: the CPU it used during the read, less what it was using anyway,
 * at its rate between the end of the previous read and the start of this one (a shared daemon
 * is rarely idle; without this other load would stretch the interval). `previousEnd` must be
 * over the same processes; without it (or under a second before) the plain difference stands.
 */
export function costOfRead(before: CpuMark, after: CpuMark, previousEnd?: CpuMark): number {
  const used = after.cpuMs - before.cpuMs;
  const gap = previousEnd ? before.atMs - previousEnd.atMs : 0;
  if (!previousEnd || gap < 1000) return Math.max(0, used);
  const rate = Math.max(0, (before.cpuMs - previousEnd.cpuMs) / gap);
  return Math.max(0, used - rate * (after.atMs - before.atMs));
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * Decides how often per-container stats are read through the API so that what they cost the
 * daemon stays under `limitPercent` of one core: every sample while within budget, else every
 * k-th sample, k the smallest that fits (capped at MAX_STATS_EVERY_MS). Pure: it is told the
 * time and the measured costs.
 */
export class StatsBudgetController {
  private costMs: number | undefined;
  private measure: StatsBudget['measure'] = 'estimate';
  private everyMs: number;
  private lastReadAt: number | undefined;

  constructor(
    private readonly limitPercent: number,
    private readonly intervalMs: number,
  ) {
    this.everyMs = intervalMs;
  }

  get statsEveryMs(): number {
    return this.everyMs;
  }

  /** A full read is due (a quarter interval early is on time: timers drift). */
  due(now: number): boolean {
    return this.lastReadAt === undefined || now - this.lastReadAt >= this.everyMs - this.intervalMs / 4;
  }

  /** One full read happened at `now` and cost this much. */
  observe(now: number, cost: StatsCost): void {
    this.lastReadAt = now;
    this.measure = cost.measure;
    this.costMs =
      this.costMs === undefined ? cost.cpuMs : this.costMs + SMOOTHING * (cost.cpuMs - this.costMs);
    const needMs = this.costMs / (this.limitPercent / 100);
    const max = Math.max(this.intervalMs, MAX_STATS_EVERY_MS);
    const target = Math.min(
      max,
      Math.max(this.intervalMs, Math.ceil(needMs / this.intervalMs - 1e-9) * this.intervalMs),
    );
    if (target > this.everyMs || needMs < this.everyMs * SHRINK_BELOW) this.everyMs = target;
  }

  /** What a sample says about it; undefined before the first measured read. */
  state(statsAt: string): StatsBudget | undefined {
    if (this.costMs === undefined) return undefined;
    const costPercent = round2((this.costMs / this.intervalMs) * 100);
    const stretched = this.everyMs > this.intervalMs;
    return {
      statsEveryMs: this.everyMs,
      limitPercent: this.limitPercent,
      costPercent,
      measure: this.measure,
      statsAt,
      reason: stretched
        ? `sampling containers every ${seconds(this.everyMs)} to stay under ${this.limitPercent}% CPU`
        : `sampling containers every ${seconds(this.everyMs)} (about ${costPercent}% CPU, under ${this.limitPercent}%)`,
    };
  }
}
