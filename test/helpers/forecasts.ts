import type { Forecast } from '../../src/core/monitor/forecast';

/**
 * Two rising resources that each reach a level, the later crossing listed first: CPU CRITICAL in
 * 10 min (+2 points a minute), memory WARNING in 4 min (+1.5), so that a list must sort them.
 */
export const RISING_FORECASTS: readonly Forecast[] = [
  { kind: 'cpu', trend: 'rising', perMinute: 2, percent: 60, next: { level: 'CRITICAL', inMs: 600_000 } },
  { kind: 'memory', trend: 'rising', perMinute: 1.5, percent: 44, next: { level: 'WARNING', inMs: 240_000 } },
];
