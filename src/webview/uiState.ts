// The dashboard's own state (time range, chart or table view, consumer sort), kept through
// VS Code's getState/setState: read back from whatever was stored, which may be anything.
import type { Sample } from '../shared/monitor.js';

/** How the consumers table is sorted. */
export type ConsumerSort = 'memory' | 'cpu' | 'name' | 'owner';
export const CONSUMER_SORTS: readonly ConsumerSort[] = ['memory', 'cpu', 'name', 'owner'];

export interface UiState {
  rangeMs: number;
  view: 'charts' | 'table';
  consumerSort: ConsumerSort;
}

export const RANGES: { label: string; ms: number }[] = [
  { label: '5 min', ms: 5 * 60_000 },
  { label: '15 min', ms: 15 * 60_000 },
  { label: '1 hour', ms: 3_600_000 },
  { label: '6 hours', ms: 6 * 3_600_000 },
  { label: 'All', ms: Number.POSITIVE_INFINITY },
];

/** The stored state, or the defaults for what is missing or malformed. */
export function parseUiState(stored: unknown): UiState {
  const s = (stored ?? {}) as { rangeMs?: unknown; view?: unknown; consumerSort?: unknown };
  // JSON turns Infinity ("All") into null.
  const rangeMs =
    s.rangeMs === null ? Number.POSITIVE_INFINITY : typeof s.rangeMs === 'number' ? s.rangeMs : 15 * 60_000;
  const consumerSort = CONSUMER_SORTS.find((k) => k === s.consumerSort) ?? 'memory';
  return { rangeMs, view: s.view === 'table' ? 'table' : 'charts', consumerSort };
}

/** The samples within `rangeMs` of the newest one (all of them for an infinite range). */
export function inRange(samples: Sample[], rangeMs: number): Sample[] {
  if (!Number.isFinite(rangeMs)) return samples;
  const last = samples[samples.length - 1];
  const min = (last ? Date.parse(last.sampledAt) : Date.now()) - rangeMs;
  return samples.filter((s) => Date.parse(s.sampledAt) >= min);
}
