import type { Logger } from '../log';
import { silentLogger } from '../log';
import { defaultLockDir } from '../paths';
import type { LockHolder } from './metadata';
import { releaseOnSignal } from './signals';
import {
  DEFAULT_ACQUIRE_TIMEOUT_MS,
  DEFAULT_STALE_MS,
  MIN_STALE_MS,
  type AcquireOptions,
  type LockHandle,
  type LockOptions,
  type LockStatus,
} from './types';
import type { LockContext } from './common';
import { take } from './exclusive';
import { acquireShared, drainShared } from './shared';
import { forceRelease, lockStatuses } from './report';

export {
  DEFAULT_ACQUIRE_TIMEOUT_MS,
  DEFAULT_STALE_MS,
  LockDirError,
  LockTimeoutError,
  MIN_STALE_MS,
} from './types';
export type {
  AcquireOptions,
  LockHandle,
  LockMode,
  LockOptions,
  LockStatus,
  SharedHolderStatus,
} from './types';

/**
 * Named locks in one folder, one per environment (`test`, `dev`, `ci`...), held across processes
 * and machines that share the folder. Built on proper-lockfile: the lock is the directory
 * `<name>.lock` whose mtime is the heartbeat; who holds it and why lives in `<name>.json`.
 * The exclusive path is in exclusive.ts, the shared one in shared.ts, status and forced
 * releases in report.ts.
 */
export class LockManager {
  readonly dir: string;
  readonly staleMs: number;
  private readonly ctx: LockContext;

  constructor(opts: LockOptions = {}) {
    this.dir = opts.dir ?? defaultLockDir();
    this.staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
    if (!Number.isFinite(this.staleMs) || this.staleMs < MIN_STALE_MS || this.staleMs > 86_400_000) {
      throw new RangeError(`staleMs must be from ${MIN_STALE_MS} to 86400000 (got ${opts.staleMs})`);
    }
    const logger: Logger = opts.logger ?? silentLogger;
    this.ctx = { dir: this.dir, staleMs: this.staleMs, logger, maxRetryMs: this.maxRetryMs };
  }

  /** Retry waits never grow past this, so a freed or stale lock is noticed within one interval. */
  get maxRetryMs(): number {
    return Math.min(1_000, this.staleMs / 2);
  }

  async acquire(name: string, opts: AcquireOptions = {}): Promise<LockHandle> {
    if (opts.mode === 'shared') return acquireShared(this.ctx, name, opts);
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS);
    const handle = await take(this.ctx, name, opts);
    try {
      await drainShared(this.ctx, name, handle, deadline, opts);
    } catch (err) {
      await handle.release();
      throw err;
    }
    return handle;
  }

  async withLock<T>(
    name: string,
    why: string,
    fn: (handle: LockHandle) => Promise<T>,
    opts: Omit<AcquireOptions, 'why'> = {},
  ): Promise<T> {
    const handle = await this.acquire(name, { ...opts, why });
    const unregister = releaseOnSignal(() => handle.release());
    try {
      return await fn(handle);
    } finally {
      unregister();
      await handle.release();
    }
  }

  /** Every lock in the folder (held or with leftover metadata), or just `name`. */
  status(name?: string): Promise<LockStatus[]> {
    return lockStatuses(this.ctx, name);
  }

  /**
   * Removes a lock held by someone else. With `staleOnly` (the default) only a stale one; with
   * `staleOnly: false` also a live one. A live holder on this host whose command runs in a process
   * group of its own (`lock run`) has that group ended first (SIGTERM, then SIGKILL after 5 s), so
   * the next holder never overlaps it; a holder elsewhere is told at its next heartbeat. Only the
   * generation judged is removed. Who forced it and why is appended to `<name>.events.jsonl`.
   */
  forceRelease(
    name: string,
    opts: { why?: string; staleOnly?: boolean } = {},
  ): Promise<{ released: boolean; previous?: LockHolder; reason: string }> {
    return forceRelease(this.ctx, name, opts);
  }
}
