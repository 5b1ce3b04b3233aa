// A run's options in the config file's `runs` section.
import type { CleanupSettingKey } from './cleanup';

/**
 * What `runs.cleanup` may set for the orphan pass before a run that would not fit: images are
 * never part of it (a run's own pass never removes images).
 */
export const RUN_CLEANUP_KEYS: readonly CleanupSettingKey[] = [
  'testProjectPatterns',
  'protectLabel',
  'olderThanMs',
];
