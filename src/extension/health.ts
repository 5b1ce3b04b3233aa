// The dashboard's health panel: the stability targets teams track, each figure with its target.
// Pure, so the judgement (met or not, "no data yet") is tested directly.
import type { Sample } from '../core/monitor/types';
import { formatBytes, formatDuration } from '../core/util/duration';
import type { HealthTarget } from '../shared/protocol';

/** Per-category run results, from the run records when they exist. */
export interface RunStats {
  category: string;
  runs: number;
  succeeded: number;
  /** Median duration of the category's runs, ms. */
  medianDurationMs: number;
}

export interface HealthInput {
  latest?: Sample;
  /** Orphaned test containers the cleanup planner would remove now; undefined until counted. */
  orphans?: number;
  /** Times the daemon went unreachable (or restarted) within the window. */
  unreachableEpisodes: number;
  windowMs: number;
  memoryBudgetBytes: number;
  runs: RunStats[];
}

export const DURATION_TARGET_MS = 5 * 60_000;

export function healthTargets(h: HealthInput): HealthTarget[] {
  const out: HealthTarget[] = [];
  out.push({
    id: 'orphans',
    label: 'Orphaned test containers now',
    value: h.orphans === undefined ? 'not counted yet' : String(h.orphans),
    target: '0',
    met: h.orphans === undefined ? undefined : h.orphans === 0,
  });
  out.push({
    id: 'unreachable',
    label: `Daemon unreachable or restarted (last ${Math.round(h.windowMs / 3_600_000)} h)`,
    value: String(h.unreachableEpisodes),
    target: '0',
    met: h.unreachableEpisodes === 0,
  });
  const mem = h.latest?.resources.memory.used;
  out.push({
    id: 'memoryBudget',
    label: 'Memory used by containers',
    value: mem === undefined ? 'no sample yet' : formatBytes(mem),
    target: `≤ ${formatBytes(h.memoryBudgetBytes)}`,
    met: mem === undefined ? undefined : mem <= h.memoryBudgetBytes,
  });
  const runs = h.runs.reduce((n, r) => n + r.runs, 0);
  const ok = h.runs.reduce((n, r) => n + r.succeeded, 0);
  out.push({
    id: 'successRate',
    label: 'Test run success rate',
    value: runs === 0 ? 'no runs recorded yet' : `${Math.round((ok / runs) * 1000) / 10}% of ${runs}`,
    target: '100%',
    met: runs === 0 ? undefined : ok === runs,
  });
  if (h.runs.length === 0) {
    out.push({
      id: 'duration',
      label: 'Run duration per category',
      value: 'no runs recorded yet',
      target: '< 5m',
      met: undefined,
    });
  }
  for (const r of h.runs) {
    out.push({
      id: 'duration',
      label: `Run duration: ${r.category}`,
      value: `${formatDuration(r.medianDurationMs)} median of ${r.runs}`,
      target: '< 5m',
      met: r.medianDurationMs < DURATION_TARGET_MS,
    });
  }
  return out;
}

/** Counts transitions into "down" within the window ending now. */
export class UnreachableTracker {
  private readonly downs: number[] = [];
  private wasDown = false;

  constructor(readonly windowMs = 24 * 3_600_000) {}

  observe(status: string, at = Date.now()): void {
    const down = status === 'down';
    if (down && !this.wasDown) this.downs.push(at);
    this.wasDown = down;
  }

  count(now = Date.now()): number {
    while (this.downs.length > 0 && (this.downs[0] as number) < now - this.windowMs) this.downs.shift();
    return this.downs.length;
  }
}
