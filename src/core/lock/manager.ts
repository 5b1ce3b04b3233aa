import type { Logger } from '../log';
import { silentLogger } from '../log';
import { defaultLockDir } from '../paths';
import { readEvents, type LockEvent, type LockHolder } from './metadata';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { lockNameOfEntry, lockPaths } from './names';
import { currentIdentity } from './process';
import { releaseOnSignal } from './signals';
import {
  DEFAULT_STALE_MS,
  MIN_STALE_MS,
  type AcquireOptions,
  type LockHandle,
  type LockOptions,
  type LockStatus,
} from './types';
import { record, type LockContext } from './common';
import { acquireQueued } from './acquire';
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
  QueuedWaiter,
  SharedHolderStatus,
} from './types';

/**
 * Where acquisitions are logged: apart from `<name>.events.jsonl`, so that one line per run
 * never pushes the takeovers and forced releases people read out of that trimmed log.
 */
function acquisitionsFile(dir: string, name: string): string {
  return join(dir, `${name}.acquired.jsonl`);
}

/**
 * Named locks in one folder, one per environment (`test`, `dev`, `ci`...), held across processes
 * and machines that share the folder. Built on proper-lockfile: the lock is the directory
 * `<name>.lock` whose mtime is the heartbeat; who holds it and why lives in `<name>.json`.
 * Waiters queue in `<name>.queue/` (queue.ts, acquire.ts); the exclusive path is in
 * exclusive.ts, the shared one in shared.ts, status and forced releases in report.ts.
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
    const handle = await acquireQueued(this.ctx, name, opts);
    // How long each acquisition waited, for the agent's lock-wait histogram (`acquisitions`).
    await record(
      this.ctx,
      { ...lockPaths(this.dir, name), events: acquisitionsFile(this.dir, name) },
      {
        type: 'acquired',
        at: new Date().toISOString(),
        by: currentIdentity(),
        reason: opts.why ?? '',
        mode: opts.mode ?? 'exclusive',
        waitedMs: Math.round(handle.waitedMs),
      },
    );
    return handle;
  }

  /** The recent acquisitions of every lock in the folder (oldest first per lock), each with its mode and wait. */
  async acquisitions(): Promise<Array<{ lock: string; event: LockEvent }>> {
    const entries = await fsp.readdir(this.dir).catch(() => [] as string[]);
    const locks = entries.flatMap((e) => {
      const n = /^(.+)\.acquired\.jsonl$/.exec(e)?.[1];
      return n !== undefined && lockNameOfEntry(`${n}.lock`) === n ? [n] : [];
    });
    const events = await Promise.all(
      locks.map((lock) => readEvents(acquisitionsFile(this.dir, lock), 'acquired')),
    );
    return locks.flatMap((lock, i) => (events[i] ?? []).map((event) => ({ lock, event })));
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
