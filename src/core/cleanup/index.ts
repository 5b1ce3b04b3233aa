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
export {
  decide,
  resolveOptions,
  globToRegExp,
  reaperState,
  projectEvidence,
  folderProjectNames,
  type Snapshot,
  type ContainerFact,
  type NetworkFact,
  type VolumeFact,
  type ImageFact,
} from './rules';
