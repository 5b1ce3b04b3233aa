export * from './types';
export { planCleanup, takeSnapshot } from './plan';
export { executeCleanup, type ExecuteOptions } from './execute';
export { runCleanup, cleanupLockName, DEFAULT_CLEANUP_LOCK_TIMEOUT_MS, type RunCleanupOptions } from './run';
export {
  AutoCleanup,
  ScheduledCleanup,
  LevelTrigger,
  DEFAULT_AUTO_COOLDOWN_MS,
  summarize,
  type AutoCleanupOptions,
  type ScheduledCleanupOptions,
} from './auto';
export { decide, globToRegExp } from './rules';
export { reaperState, projectEvidence, folderProjectNames } from './ownership';
export type { Snapshot, ContainerFact, NetworkFact, VolumeFact, ImageFact } from './facts';
export { resolveOptions } from '../options/cleanup';
