// The data model of levels and thresholds, which the core computes with and the webview draws
// with. src/shared imports nothing outside itself: the extension host, the core and the browser
// bundle can all stand on it. src/core/levels.ts re-exports it with the logic around it.

export type Level = 'SAFE' | 'WARNING' | 'CRITICAL' | 'EMERGENCY';
export const LEVELS: readonly Level[] = ['SAFE', 'WARNING', 'CRITICAL', 'EMERGENCY'];

export type ResourceKind = 'memory' | 'cpu' | 'containers' | 'networks' | 'volumes';
/** The resources in the order every view lists them. */
export const RESOURCE_KINDS: readonly ResourceKind[] = ['memory', 'cpu', 'containers', 'networks', 'volumes'];

/**
 * Every resource a level is computed for: the five plus disk. Disk stays out of RESOURCE_KINDS
 * (and of `Sample.resources`) because it is measured rarely and carried in `Sample.disk`, so old
 * and new history have the same five `resources` keys.
 */
export type LevelledKind = ResourceKind | 'disk';
export const LEVELLED_KINDS: readonly LevelledKind[] = [...RESOURCE_KINDS, 'disk'];

/** Lower bounds (percent) at which a level begins. */
export interface Thresholds {
  warning: number;
  critical: number;
  emergency: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  warning: 50,
  critical: 75,
  emergency: 90,
});

export type ThresholdSettings = Thresholds & {
  perResource?: Partial<Record<LevelledKind, Partial<Thresholds>>>;
};

/** Resolves the thresholds for one resource: the per-resource override merged over the global ones. */
export function thresholdsFor(kind: LevelledKind, s: ThresholdSettings): Thresholds {
  const o = s.perResource?.[kind];
  return {
    warning: o?.warning ?? s.warning,
    critical: o?.critical ?? s.critical,
    emergency: o?.emergency ?? s.emergency,
  };
}
