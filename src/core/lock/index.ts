export {
  LockManager,
  LockTimeoutError,
  LockDirError,
  DEFAULT_STALE_MS,
  MIN_STALE_MS,
  DEFAULT_ACQUIRE_TIMEOUT_MS,
  type LockOptions,
  type AcquireOptions,
  type LockStatus,
  type LockHandle,
  type LockMode,
  type SharedHolderStatus,
  type QueuedWaiter,
} from './manager';
export type { LockHolder, LockTakeover, HolderSummary, LockEvent, LockMetadata } from './metadata';
export {
  DEFAULT_LOCK_NAME,
  InvalidLockNameError,
  validateLockName,
  lockPaths,
  type LockPaths,
} from './names';
export { holderKey } from './holders';
export { isPidAlive, isSameProcessAlive, currentIdentity, hostId, type Identity } from './process';
export type { Unsubscribe } from '../monitor/types';
