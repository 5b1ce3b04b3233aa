// Cleanup that runs by itself, as a person sets it (minutes): the extension's `autoCleanup.*` and
// `scheduledCleanup.*`. Apart from cleanup.ts, which the cleanup pass itself imports.
import { DEFAULT_AUTO_COOLDOWN_MS } from '../cleanup/auto';
import { LEVELS } from '../levels';

/** When cleanup runs by itself, as a person sets it (minutes): the extension's `autoCleanup.*` and `scheduledCleanup.*`. */
export const AUTO_CLEANUP_FIELDS = {
  enabled: { kind: 'boolean', def: false },
  level: { kind: 'enum', def: 'CRITICAL', values: LEVELS.filter((l) => l !== 'SAFE') },
  cooldownMinutes: { kind: 'number', def: DEFAULT_AUTO_COOLDOWN_MS / 60_000, min: 1, max: 1440 },
  /** 0: no scheduled cleanup. */
  intervalMinutes: { kind: 'number', def: 0, min: 0, max: 10080 },
} as const;
