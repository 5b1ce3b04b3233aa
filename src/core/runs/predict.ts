import {
  levelIndex,
  rate,
  thresholdsFor,
  worstLevel,
  type Level,
  type ResourceKind,
  type ThresholdSettings,
} from '../levels';
import type { Sample } from '../monitor/types';
import { runNeed } from './cost';
import { AMOUNT_KEYS, type ResourceAmounts, type RunRecord } from './records';

export interface PredictionOptions {
  /** How many recent runs of the category count. */
  window?: number;
  /** The percentile of recent needs to plan for (0-100). */
  percentile?: number;
  /** Weight halves every this many runs back: recent runs count more. */
  halfLifeRuns?: number;
  /** Safety margin multiplied onto the estimate (1.1 = +10%). */
  margin?: number;
  /** Per-category needs used when a category has no history yet. */
  defaults?: Record<string, Partial<ResourceAmounts>>;
}

export const DEFAULT_PREDICTION: Required<Omit<PredictionOptions, 'defaults'>> = {
  window: 20,
  percentile: 90,
  halfLifeRuns: 10,
  margin: 1.1,
};

/** Used for a category with no runs and no configured default: a modest test run. */
export const FALLBACK_NEEDS: ResourceAmounts = {
  memoryBytes: 512 * 1024 * 1024,
  cpuPercent: 100,
  containers: 3,
  networks: 1,
  volumes: 1,
};

export interface Prediction {
  category: string;
  basis: 'history' | 'default';
  /** Runs the estimate rests on. */
  runs: number;
  added: ResourceAmounts;
  explanation: string;
}

/**
 * A weighted percentile: values sorted, each carrying its weight; the smallest value at which
 * the cumulative weight reaches p% of the total.
 */
export function weightedPercentile(values: number[], weights: number[], p: number): number {
  if (values.length === 0) return 0;
  const pairs = values.map((v, i) => [v, weights[i] ?? 0] as const).sort((a, b) => a[0] - b[0]);
  const total = pairs.reduce((s, [, w]) => s + w, 0);
  if (total <= 0) return pairs[pairs.length - 1]?.[0] ?? 0;
  const target = (Math.min(100, Math.max(0, p)) / 100) * total;
  let acc = 0;
  for (const [v, w] of pairs) {
    acc += w;
    if (acc >= target - 1e-9) return v;
  }
  return pairs[pairs.length - 1]?.[0] ?? 0;
}

/**
 * Estimates what the next run of a category will add to the daemon: over the last `window`
 * runs (newest weighted most, halving every `halfLifeRuns`), the `percentile` of each need,
 * times `margin`; counts rounded up. No history: the configured default for the category, else
 * a modest fallback, and the explanation says so.
 */
export function predict(category: string, records: RunRecord[], opts: PredictionOptions = {}): Prediction {
  const o = { ...DEFAULT_PREDICTION, ...opts };
  const runs = records.filter((r) => r.category === category).slice(-o.window);
  if (runs.length === 0) {
    const configured = opts.defaults?.[category];
    const added = { ...FALLBACK_NEEDS, ...configured };
    return {
      category,
      basis: 'default',
      runs: 0,
      added,
      explanation: configured
        ? `no runs of "${category}" recorded yet: using the configured default for the category`
        : `no runs of "${category}" recorded yet and no configured default: assuming a modest run`,
    };
  }
  const weights = runs.map((_, i) => 0.5 ** ((runs.length - 1 - i) / o.halfLifeRuns));
  const added = {} as ResourceAmounts;
  for (const k of AMOUNT_KEYS) {
    const v =
      weightedPercentile(
        runs.map((r) => runNeed(r, k)),
        weights,
        o.percentile,
      ) * o.margin;
    added[k] = k === 'memoryBytes' || k === 'cpuPercent' ? Math.round(v) : Math.max(0, Math.ceil(v - 1e-9));
  }
  return {
    category,
    basis: 'history',
    runs: runs.length,
    added,
    explanation: `p${o.percentile} of the last ${runs.length} run(s) of "${category}" (recent runs weigh more, half-life ${o.halfLifeRuns} runs; memory and CPU from the runs' own containers where recorded), plus ${Math.round((o.margin - 1) * 100)}% margin`,
  };
}

const KIND_OF: Record<keyof ResourceAmounts, ResourceKind> = {
  memoryBytes: 'memory',
  cpuPercent: 'cpu',
  containers: 'containers',
  networks: 'networks',
  volumes: 'volumes',
};

export interface PredictedLevel {
  level: Level;
  resources: Record<
    ResourceKind,
    { now: number; added: number; predicted: number; capacity: number; percent: number; level: Level }
  >;
}

/** Adds a prediction to the current sample and rates each resource and the whole. */
export function predictLevel(
  current: Sample,
  prediction: Prediction,
  thresholds: ThresholdSettings,
): PredictedLevel {
  const resources = {} as PredictedLevel['resources'];
  for (const k of AMOUNT_KEYS) {
    const kind = KIND_OF[k];
    const fig = current.resources[kind];
    const predicted = fig.used + prediction.added[k];
    const percent = fig.capacity > 0 ? Math.round((predicted / fig.capacity) * 10000) / 100 : 0;
    resources[kind] = {
      now: fig.used,
      added: prediction.added[k],
      predicted,
      capacity: fig.capacity,
      percent,
      level: rate(percent, thresholdsFor(kind, thresholds)),
    };
  }
  return { level: worstLevel(Object.values(resources).map((r) => r.level)), resources };
}

/** True when the predicted level is at or above `limit`. */
export function exceeds(p: PredictedLevel, limit: Level): boolean {
  return levelIndex(p.level) >= levelIndex(limit);
}

/**
 * Checks prediction settings from a file or a settings UI and returns them typed; throws an
 * Error naming the first bad value, so that a typo never silently turns into NaN predictions.
 */
export function validatePredictionOptions(raw: unknown, where = 'prediction'): PredictionOptions {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error(`${where} must be an object (got ${JSON.stringify(raw)})`);
  const r = raw as Record<string, unknown>;
  const out: PredictionOptions = {};
  const num = (key: keyof typeof DEFAULT_PREDICTION, ok: (v: number) => boolean, rule: string): void => {
    const v = r[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))
      throw new Error(`${where}.${key} must be ${rule} (got ${JSON.stringify(v)})`);
    out[key] = v;
  };
  num('window', (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
  num('percentile', (v) => v >= 0 && v <= 100, 'a number from 0 to 100');
  num('halfLifeRuns', (v) => v > 0, 'a number > 0');
  num('margin', (v) => v >= 1, 'a number >= 1 (1.1 = +10%)');
  const known = new Set(['window', 'percentile', 'halfLifeRuns', 'margin', 'defaults']);
  for (const k of Object.keys(r))
    if (!known.has(k)) throw new Error(`${where}.${k} is not a setting (known: ${[...known].join(', ')})`);
  if (r.defaults !== undefined) {
    if (typeof r.defaults !== 'object' || r.defaults === null || Array.isArray(r.defaults)) {
      throw new Error(
        `${where}.defaults must map category names to needs (got ${JSON.stringify(r.defaults)})`,
      );
    }
    out.defaults = {};
    for (const [category, needs] of Object.entries(r.defaults as Record<string, unknown>)) {
      const at = `${where}.defaults.${category}`;
      if (typeof needs !== 'object' || needs === null || Array.isArray(needs))
        throw new Error(`${at} must be an object like { "containers": 5 } (got ${JSON.stringify(needs)})`);
      const amounts: Partial<ResourceAmounts> = {};
      for (const [k, v] of Object.entries(needs as Record<string, unknown>)) {
        if (!(AMOUNT_KEYS as readonly string[]).includes(k))
          throw new Error(`${at}.${k} is not a need (known: ${AMOUNT_KEYS.join(', ')})`);
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
          throw new Error(`${at}.${k} must be a number >= 0 (got ${JSON.stringify(v)})`);
        amounts[k as keyof ResourceAmounts] = v;
      }
      out.defaults[category] = amounts;
    }
  }
  return out;
}
