import type { Sample } from '../monitor/types';
import type { ResourceAmounts, RunRecord } from './records';

/**
 * What a run's own containers used (those carrying its run-id label), from the per-owner totals
 * every sample carries anyway: other load on the daemon does not count, so a category's history
 * and predictions are its own.
 */
export interface RunCost {
  /** Samples in which at least one of the run's containers was running (the means are over these). */
  samples: number;
  memoryBytes: { peak: number; mean: number };
  /** Percent of one core (200 = two cores). */
  cpuPercent: { peak: number; mean: number };
}

/** Accumulates a run's cost sample by sample. */
export class RunCostTracker {
  private samples = 0;
  private memory = { peak: 0, sum: 0 };
  private cpu = { peak: 0, sum: 0 };
  private seen = false;

  constructor(private readonly runId: string) {}

  observe(s: Sample): void {
    if (!s.owners) return; // a sample without per-owner figures says nothing about the run
    this.seen = true;
    const own = s.owners.find((o) => o.owner.kind === 'run' && o.owner.id === this.runId);
    if (!own || own.containers === 0) return;
    this.samples++;
    this.memory.peak = Math.max(this.memory.peak, own.memoryBytes);
    this.memory.sum += own.memoryBytes;
    this.cpu.peak = Math.max(this.cpu.peak, own.cpuPercent);
    this.cpu.sum += own.cpuPercent;
  }

  /** The record's `cost` field: absent when no sample had per-owner figures. */
  record(): { cost?: RunCost } {
    if (!this.seen) return {};
    const mean = (sum: number): number => (this.samples ? sum / this.samples : 0);
    return {
      cost: {
        samples: this.samples,
        memoryBytes: { peak: this.memory.peak, mean: Math.round(mean(this.memory.sum)) },
        cpuPercent: {
          peak: Math.round(this.cpu.peak * 100) / 100,
          mean: Math.round(mean(this.cpu.sum) * 100) / 100,
        },
      },
    };
  }
}

/**
 * What a recorded run needed of one resource: for memory and CPU its own containers' peak when
 * the record has it (the daemon-wide peak minus baseline counts whatever else ran meanwhile),
 * else that difference, as records written before it was measured hold.
 */
export function runNeed(r: RunRecord, k: keyof ResourceAmounts): number {
  // a record is read back from a file: a malformed cost falls back rather than throwing
  const c = r.cost as Partial<RunCost> | undefined;
  if (typeof c?.samples === 'number' && c.samples > 0) {
    const own =
      k === 'memoryBytes' ? c.memoryBytes?.peak : k === 'cpuPercent' ? c.cpuPercent?.peak : undefined;
    if (typeof own === 'number' && Number.isFinite(own) && own >= 0) return own;
  }
  return r.added[k];
}
