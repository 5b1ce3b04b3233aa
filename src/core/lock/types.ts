import type { Logger } from '../log';
import type { Unsubscribe } from '../monitor/types';
import type { LockEvent, LockHolder } from './metadata';

export const DEFAULT_STALE_MS = 10_000;
/** proper-lockfile silently raises anything lower to 2 s; we refuse it instead. */
export const MIN_STALE_MS = 2_000;
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 300_000;

export interface LockOptions {
  /** Lock folder; default `defaultLockDir()` (`DOCKER_STABILITY_LOCK_DIR` or a per-user folder). */
  dir?: string;
  /** A holder whose heartbeat is older than this is stale; default 10 s, at least 2 s. */
  staleMs?: number;
  logger?: Logger;
}

export interface AcquireOptions {
  /** Free text shown to others waiting, e.g. "integration tests (PR 42)". */
  why?: string;
  /** How long to wait; 0 tries once. Default 5 minutes. */
  timeoutMs?: number;
  /** Aborting stops the wait; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called if the lock is lost while held (forced release, or taken over after a long stall). */
  onCompromised?: (err: Error) => void;
  /** Marks the holder as a background keeper (`lock acquire`), which `lock release` may stop. */
  keeper?: boolean;
  /**
   * `exclusive` (the default): nobody else holds the lock meanwhile; waits for shared holders to
   * finish and, while it waits, lets no new one in. `shared`: held beside other shared holders,
   * never beside an exclusive one.
   */
  mode?: LockMode;
  /** Shared mode: what this holder needs (e.g. predicted bytes), recorded for `admit` of later ones. */
  needs?: Record<string, number>;
  /**
   * Shared mode: whether this holder fits beside the shared holders already in; a reason to
   * wait (then asked again), or undefined to join. It is asked first outside the turnstile (so a
   * slow look at the environment happens there), then under it with the holders as they are
   * then, while no one else can be admitted: answer the second from what was looked at for the
   * first. `without` (when given) lists holders to count as gone, their present use included:
   * the queue asks so whether only the holders that went in ahead of this waiter keep it out.
   */
  admit?: (
    holders: LockHolder[],
    without?: readonly LockHolder[],
  ) => string | undefined | Promise<string | undefined>;
  /** An id of the caller's (e.g. a run id) recorded with the holder, so `admit` can find what it runs. */
  tag?: string;
}

export type LockMode = 'exclusive' | 'shared';

export interface LockStatus {
  name: string;
  /** The lock directory exists (possibly stale). */
  held: boolean;
  /** Held, but the holder's heartbeat stopped or its pid is dead on this host: the next acquirer takes it over. */
  stale: boolean;
  holder?: LockHolder;
  /** Since the holder acquired. */
  ageMs?: number;
  /** Since the last heartbeat (lock directory mtime). */
  heartbeatAgeMs?: number;
  staleReason?: string;
  /** Held but the metadata is missing or unreadable: who holds it is unknown (the lock still goes stale normally). */
  metadataProblem?: string;
  /** The most recent forced release of this lock, if any was recorded. */
  lastForcedRelease?: LockEvent;
  /** The holder runs on this host and is stopped (SIGSTOP, Ctrl-Z): it keeps the lock until resumed or ended. */
  holderStopped?: boolean;
  /** Holders in shared mode (with an exclusive holder present, it is waiting for these to finish). */
  shared?: SharedHolderStatus[];
  /** Waiters in the queue, first first (absent when nobody waits). */
  queue?: QueuedWaiter[];
}

/** One waiter in a lock's queue. */
export interface QueuedWaiter {
  /** 1 for the first in line. */
  position: number;
  mode: LockMode;
  /** Who waits (user, host, pid, why, keeper); `acquiredAt` is when it started waiting. */
  holder: LockHolder;
  /** What it waits for, e.g. "exclusive holder alice@ci-7 (pid 42)" or a reason the environment has no room. */
  waitingFor: string;
  /** Since its ticket's last heartbeat. */
  heartbeatAgeMs: number;
  /** Its own admission said there is no room for it (other waiters that fit may go first). */
  blocked: boolean;
  /** Only the holders that went in ahead of it keep it out: nobody else goes ahead of it. */
  reserved: boolean;
}

export interface SharedHolderStatus {
  holder?: LockHolder;
  stale: boolean;
  staleReason?: string;
  heartbeatAgeMs: number;
  metadataProblem?: string;
}

export interface LockHandle {
  readonly name: string;
  readonly token: string;
  /** How long acquiring it waited (for other holders, shared ones to drain, or admission). */
  readonly waitedMs: number;
  /**
   * Whether another holder had it (or had to drain, or was taken over) while this one asked:
   * false means the environment had no holder from the request on, so what was sampled while
   * asking still holds.
   */
  readonly contended: boolean;
  /** True once the lock was lost while held; release() then touches nothing on disk. */
  readonly compromised: boolean;
  onCompromised(cb: (err: Error) => void): Unsubscribe;
  /**
   * Records the process group of a command run under the lock: on this host the lock then stays
   * held while any process of that group lives, even if this process is killed or paused.
   */
  setProcessGroup(pgid: number): Promise<void>;
  /**
   * A shared holder's new needs: what it is still predicted to add (e.g. `{}` once its work is
   * done and only its cleanup is left). Admission counts these from now on, and a waiter refused
   * beside the old needs is judged again at once. Does nothing for an exclusive holder.
   */
  setNeeds(needs: Readonly<Record<string, number>>): Promise<void>;
  /** Releases the lock (only the generation this handle took); safe to call more than once. */
  release(): Promise<void>;
}

export class LockTimeoutError extends Error {
  constructor(
    message: string,
    readonly lockName: string,
    readonly holder?: LockHolder,
    readonly heldForMs?: number,
  ) {
    super(message);
    this.name = 'LockTimeoutError';
  }
}

/** The lock folder cannot be created, read or written. */
export class LockDirError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'LockDirError';
  }
}
