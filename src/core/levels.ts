// The model (levels, resource kinds, thresholds) lives in src/shared so the webview can use it
// without the core; it is re-exported here so the core's users see one module.
import {
  DEFAULT_THRESHOLDS,
  LEVELLED_KINDS,
  LEVELS,
  type Level,
  type LevelledKind,
  type Thresholds,
  type ThresholdSettings,
} from '../shared/levels';

export {
  LEVELS,
  RESOURCE_KINDS,
  LEVELLED_KINDS,
  DEFAULT_THRESHOLDS,
  thresholdsFor,
  type Level,
  type ResourceKind,
  type LevelledKind,
  type Thresholds,
  type ThresholdSettings,
} from '../shared/levels';

/**
 * Rates a percentage: SAFE below `warning`, WARNING from `warning` up to `critical`, CRITICAL
 * from `critical` up to and including `emergency`, EMERGENCY above `emergency`
 * (defaults: SAFE < 50, WARNING 50-75, CRITICAL 75-90, EMERGENCY > 90).
 */
export function rate(percent: number, t: Thresholds = DEFAULT_THRESHOLDS): Level {
  if (!(percent >= t.warning)) return 'SAFE'; // NaN rates SAFE rather than alarming on no data
  if (percent < t.critical) return 'WARNING';
  if (percent <= t.emergency) return 'CRITICAL';
  return 'EMERGENCY';
}

export function levelIndex(level: Level): number {
  return LEVELS.indexOf(level);
}

export function worstLevel(levels: Iterable<Level>): Level {
  let worst: Level = 'SAFE';
  for (const l of levels) if (levelIndex(l) > levelIndex(worst)) worst = l;
  return worst;
}

export function isLevel(value: unknown): value is Level {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value);
}

/** Parses a level name case-insensitively; throws a clear error otherwise. */
export function parseLevel(text: string): Level {
  const upper = text.trim().toUpperCase();
  if (isLevel(upper)) return upper;
  throw new Error(`unknown level "${text}": use one of ${LEVELS.join(', ')}`);
}

/**
 * Validates thresholds from settings or flags: each a finite number in 0-100 and strictly
 * increasing. Returns the problems found (empty when valid).
 */
export function thresholdProblems(t: unknown, where = 'thresholds'): string[] {
  if (typeof t !== 'object' || t === null)
    return [`${where} must be an object with warning, critical and emergency`];
  const o = t as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of ['warning', 'critical', 'emergency'] as const) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
      problems.push(`${where}.${k} must be a number from 0 to 100 (got ${JSON.stringify(v)})`);
    }
  }
  if (problems.length === 0) {
    const { warning, critical, emergency } = o as unknown as Thresholds;
    if (!(warning < critical && critical < emergency)) {
      problems.push(
        `${where} must be ordered warning < critical < emergency (got ${warning}, ${critical}, ${emergency})`,
      );
    }
  }
  return problems;
}

/**
 * Validates per-resource threshold overrides (`{ "memory": { "warning": 60 } }`) against the
 * global thresholds they are merged over. Every override that is not an object, names no
 * resource, holds a key that is no threshold or is out of order once merged is dropped with a
 * problem naming it; the rest are kept with only their threshold numbers.
 */
export function validatePerResource(
  raw: unknown,
  global: Thresholds,
  where = 'thresholds.perResource',
): { value: NonNullable<ThresholdSettings['perResource']>; problems: string[] } {
  const value: NonNullable<ThresholdSettings['perResource']> = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { value, problems: [`${where} must be an object keyed by resource`] };
  const problems: string[] = [];
  for (const [kind, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!(LEVELLED_KINDS as readonly string[]).includes(kind)) {
      problems.push(`${where}.${kind} is not a resource (use ${LEVELLED_KINDS.join(', ')})`);
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(
        `${where}.${kind} must be an object with warning, critical and/or emergency (got ${JSON.stringify(v)}); ignoring this override`,
      );
      continue;
    }
    const o = v as Record<string, unknown>;
    const found = [
      ...thresholdProblems({ ...global, ...o }, `${where}.${kind}`),
      ...Object.keys(o)
        .filter((k) => k !== 'warning' && k !== 'critical' && k !== 'emergency')
        .map((k) => `${where}.${kind}.${k} is not a threshold`),
    ];
    if (found.length > 0) {
      problems.push(`${found.join('; ')}; ignoring this override`);
      continue;
    }
    const kept: Partial<Thresholds> = {};
    for (const k of ['warning', 'critical', 'emergency'] as const)
      if (typeof o[k] === 'number') kept[k] = o[k];
    value[kind as LevelledKind] = kept;
  }
  return { value, problems };
}
