import {
  LEVELS,
  RESOURCE_KINDS,
  thresholdsFor,
  type Level,
  type ResourceKind,
  type ThresholdSettings,
} from '../levels';
import type { Sample } from './types';

export interface ForecastOptions {
  /** How far back the trend looks. */
  windowMs?: number;
  /** A crossing further away than this is not announced. */
  horizonMs?: number;
  /** Fewer samples than this, or a shorter span than `minSpanMs`, is too little data. */
  minSamples?: number;
  minSpanMs?: number;
  /** A slope smaller than this (percentage points a minute, either way) is steady. */
  steadyPerMinute?: number;
}

export const DEFAULT_FORECAST: Readonly<Required<ForecastOptions>> = Object.freeze({
  windowMs: 10 * 60_000,
  horizonMs: 30 * 60_000,
  minSamples: 6,
  minSpanMs: 60_000,
  steadyPerMinute: 0.05,
});

/** Pairs of points the slope is the median of: enough for a robust slope, bounded cost (~1800 pairs). */
const MAX_POINTS = 60;

export type Forecast =
  | { kind: ResourceKind; trend: 'too-little-data'; samples: number }
  | {
      kind: ResourceKind;
      trend: 'steady' | 'rising' | 'falling';
      /** Percentage points a minute (Theil-Sen slope). */
      perMinute: number;
      /** Percent now, on the trend line (a single spike does not move it). */
      percent: number;
      /** The next level up and when the trend reaches it, when that is within the horizon. */
      next?: { level: Level; inMs: number };
    };

/**
 * The trend of each resource's percent over recent samples: the Theil-Sen slope (the median of
 * the slopes between every pair of points), which a single spike, or up to about a quarter of
 * outliers, cannot move, unlike a least-squares fit. Honest when there is no trend ("steady")
 * or too little data.
 */
export function forecast(
  history: readonly Sample[],
  thresholds: ThresholdSettings,
  opts: ForecastOptions = {},
): Forecast[] {
  const o = { ...DEFAULT_FORECAST, ...opts };
  const last = history[history.length - 1];
  if (!last) return RESOURCE_KINDS.map((kind) => ({ kind, trend: 'too-little-data', samples: 0 }));
  const end = Date.parse(last.sampledAt);
  const recent = history.filter(
    (s) => end - Date.parse(s.sampledAt) <= o.windowMs && s.endpoint === last.endpoint,
  );
  const step = Math.max(1, Math.ceil(recent.length / MAX_POINTS));
  const points = recent.filter((_, i) => (recent.length - 1 - i) % step === 0);
  const span = points.length ? end - Date.parse((points[0] as Sample).sampledAt) : 0;
  return RESOURCE_KINDS.map((kind): Forecast => {
    if (points.length < o.minSamples || span < o.minSpanMs)
      return { kind, trend: 'too-little-data', samples: recent.length };
    const xs = points.map((s) => (Date.parse(s.sampledAt) - end) / 60_000); // minutes, 0 = now
    const ys = points.map((s) => s.resources[kind].percent);
    const slope = theilSen(xs, ys);
    const percent = median(ys.map((y, i) => y - slope * (xs[i] as number)));
    if (Math.abs(slope) < o.steadyPerMinute)
      return { kind, trend: 'steady', perMinute: round(slope), percent: round(percent) };
    const out: Forecast = {
      kind,
      trend: slope > 0 ? 'rising' : 'falling',
      perMinute: round(slope),
      percent: round(percent),
    };
    if (slope > 0) {
      const t = thresholdsFor(kind, thresholds);
      const bounds: Array<[Level, number]> = [
        [LEVELS[1] as Level, t.warning],
        [LEVELS[2] as Level, t.critical],
        [LEVELS[3] as Level, t.emergency],
      ];
      const up = bounds.find(([, b]) => b > percent);
      if (up) {
        const inMs = ((up[1] - percent) / slope) * 60_000;
        if (inMs <= o.horizonMs) out.next = { level: up[0], inMs: Math.round(inMs) };
      }
    }
    return out;
  });
}

function theilSen(xs: readonly number[], ys: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = (xs[j] as number) - (xs[i] as number);
      if (dx > 0) slopes.push(((ys[j] as number) - (ys[i] as number)) / dx);
    }
  }
  return slopes.length ? median(slopes) : 0;
}

function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

export type Crossing = { kind: ResourceKind; level: Level; inMs: number; perMinute: number };

/**
 * The announced crossings, soonest first; `none` when there is trend data but no crossing
 * within the horizon, `too-little-data` when no resource has enough samples.
 */
export function upcomingCrossings(all: readonly Forecast[]): Crossing[] | 'none' | 'too-little-data' {
  const out = all.flatMap((f) =>
    f.trend === 'rising' && f.next
      ? [{ kind: f.kind, level: f.next.level, inMs: f.next.inMs, perMinute: f.perMinute }]
      : [],
  );
  if (out.length > 0) return out.sort((a, b) => a.inMs - b.inMs);
  return all.every((f) => f.trend === 'too-little-data') ? 'too-little-data' : 'none';
}
