import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, resolve } from 'node:path';
import { promises as fsp, type Stats } from 'node:fs';
import * as lockfile from 'proper-lockfile';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import type { Unsubscribe } from '../monitor/types';
import { defaultLockDir } from '../paths';
import { formatDuration } from '../util/duration';
import { FifoTurns, TurnTimeout } from './fifo';
import { GATE_BUSY, withGate } from './gate';
import {
  appendEvent,
  lastEvent,
  readMetadata,
  summarize,
  writeMetadata,
  type LockEvent,
  type LockHolder,
  type LockMetadata,
  type LockTakeover,
  type MetadataRead,
} from './metadata';
import { lockNameOfEntry, lockPaths, validateLockName, type LockPaths } from './names';
import { currentIdentity, isPidAlive } from './process';
import { releaseOnSignal } from './signals';
import { ReleaseWaker } from './wake';

export const DEFAULT_STALE_MS = 10_000;
/** proper-lockfile silently raises anything lower to 2 s; we refuse it instead. */
export const MIN_STALE_MS = 2_000;
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 300_000;
/** First retry waits about this long; each further one up to twice as long, capped by maxRetryMs. */
const FIRST_RETRY_MS = 25;

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
}

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
}

export interface LockHandle {
  readonly name: string;
  readonly token: string;
  /** True once the lock was lost while held; release() then touches nothing on disk. */
  readonly compromised: boolean;
  onCompromised(cb: (err: Error) => void): Unsubscribe;
  /** Releases the lock; safe to call more than once. */
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

/** Turns inside this process, shared by every LockManager so two managers on one folder also queue. */
const turns = new FifoTurns();

/** The fs calls proper-lockfile makes (a plain object: module namespaces have getter-only properties). */
function lockfileFs() {
  return { mkdir: fs.mkdir, stat: fs.stat, utimes: fs.utimes, rmdir: fs.rmdir, rmdirSync: fs.rmdirSync, realpath: fs.realpath };
}

interface Reclaim {
  reclaim(): Promise<void>;
}
const reclaiming = new Map<string, Reclaim>();
/**
 * proper-lockfile removes a lock directory it finds stale with a plain rmdir, racing other
 * reclaimers (proper-lockfile #121). We hand it an fs whose rmdir, while one of our acquisitions
 * is in flight for that directory, re-checks staleness under a gate before removing anything.
 * Outside an acquisition (unlock, exit cleanup) rmdir is the plain one.
 */
const guardedFs = {
  ...lockfileFs(),
  rmdir(path: fs.PathLike, cb: (err: NodeJS.ErrnoException | null) => void): void {
    const job = reclaiming.get(String(path));
    if (!job) return fs.rmdir(path, cb);
    job.reclaim().then(
      () => cb(null),
      (err: NodeJS.ErrnoException) => cb(err),
    );
  },
};

/** proper-lockfile's own error for a held lock; our acquisition loop treats it as "retry later". */
function lockedError(): NodeJS.ErrnoException {
  return Object.assign(new Error('Lock file is already being held'), { code: 'ELOCKED' });
}

/** Identifies one lock directory: a removed and recreated directory gets a new birth time (and usually inode). */
function lockIdOf(st: Stats): string {
  return `${st.ino}:${st.birthtimeMs}`;
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function describeHolder(h: Pick<LockHolder, 'user' | 'host' | 'pid' | 'why'>): string {
  return `${h.user}@${h.host} (pid ${h.pid}${h.why ? `, "${h.why}"` : ''})`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Handle implements LockHandle {
  compromised = false;
  private readonly callbacks = new Set<(err: Error) => void>();
  private released?: Promise<void>;
  unlock?: () => Promise<void>;

  constructor(
    readonly name: string,
    readonly token: string,
    private readonly paths: LockPaths,
    private readonly endTurn: () => void,
    private readonly logger: Logger,
  ) {}

  onCompromised(cb: (err: Error) => void): Unsubscribe {
    this.callbacks.add(cb);
    return () => this.callbacks.delete(cb);
  }

  /** Called by proper-lockfile's heartbeat; never throws (its default handler would kill the process). */
  compromise(err: Error): void {
    if (this.compromised || this.released) return;
    this.compromised = true;
    this.logger.warn(`lock "${this.name}" was lost while held: ${err.message}`);
    for (const cb of this.callbacks) {
      try {
        cb(err);
      } catch (cbErr) {
        this.logger.error(`lock "${this.name}" onCompromised callback threw: ${(cbErr as Error).message}`);
      }
    }
  }

  release(): Promise<void> {
    this.released ??= this.doRelease();
    return this.released;
  }

  private async doRelease(): Promise<void> {
    try {
      if (this.compromised) return;
      // Metadata first: once the directory is gone a new holder may write its own.
      const read = await readMetadata(this.paths.metadata);
      if (read.state === 'ok' && read.meta.holder.token === this.token) await fsp.rm(this.paths.metadata, { force: true });
      try {
        await this.unlock?.();
      } catch (err) {
        // Released or compromised meanwhile: nothing of ours is left to remove.
        if (!['ERELEASED', 'ENOTACQUIRED', 'ENOENT'].includes(errCode(err) ?? '')) throw err;
      }
    } finally {
      this.endTurn();
    }
  }
}

type Attempt = { kind: 'acquired'; handle: Handle } | { kind: 'busy' };

/**
 * Named locks in one folder, one per environment (`test`, `dev`, `ci`...), held across processes
 * and machines that share the folder. Built on proper-lockfile: the lock is the directory
 * `<name>.lock` whose mtime is the heartbeat; who holds it and why lives in `<name>.json`.
 */
export class LockManager {
  readonly dir: string;
  readonly staleMs: number;
  private readonly logger: Logger;

  constructor(opts: LockOptions = {}) {
    this.dir = opts.dir ?? defaultLockDir();
    this.staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
    if (!Number.isFinite(this.staleMs) || this.staleMs < MIN_STALE_MS || this.staleMs > 86_400_000) {
      throw new RangeError(`staleMs must be from ${MIN_STALE_MS} to 86400000 (got ${opts.staleMs})`);
    }
    this.logger = opts.logger ?? silentLogger;
  }

  /** Retry waits never grow past this, so a freed or stale lock is noticed within one interval. */
  get maxRetryMs(): number {
    return Math.min(1_000, this.staleMs / 2);
  }

  async acquire(name: string, opts: AcquireOptions = {}): Promise<LockHandle> {
    const paths = lockPaths(this.dir, name);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS;
    if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be 0 or more (got ${opts.timeoutMs})`);
    const started = Date.now();
    const deadline = started + timeoutMs;
    let endTurn: () => void;
    try {
      endTurn = await turns.take(resolve(paths.lockDir), opts.signal, deadline);
    } catch (err) {
      if (err instanceof TurnTimeout) throw await this.timeoutError(name, started);
      throw err;
    }
    let waker: ReleaseWaker | undefined;
    try {
      await this.ensureDir();
      for (let attempt = 0; ; attempt++) {
        opts.signal?.throwIfAborted();
        const result = await this.attempt(name, paths, opts, endTurn);
        if (result.kind === 'acquired') return result.handle;
        const left = deadline - Date.now();
        if (timeoutMs === 0 || left <= 0) throw await this.timeoutError(name, started);
        waker ??= new ReleaseWaker(this.dir, basename(paths.lockDir));
        // Equal jitter: half the interval fixed, half random, so contenders spread out.
        const cap = Math.min(this.maxRetryMs, FIRST_RETRY_MS * 2 ** Math.min(attempt, 10));
        await waker.sleep(Math.min(left, cap / 2 + Math.random() * (cap / 2)), opts.signal);
      }
    } catch (err) {
      endTurn();
      throw err;
    } finally {
      waker?.close();
    }
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
  async status(name?: string): Promise<LockStatus[]> {
    const names = name !== undefined ? [validateLockName(name)] : await this.names();
    return Promise.all(names.map((n) => this.statusOf(n)));
  }

  /**
   * Removes a lock held by someone else. With `staleOnly` (the default) only a stale one; with
   * `staleOnly: false` also a live one, whose holder is then told its lock was compromised (at its
   * next heartbeat). Who forced it and why is appended to `<name>.events.jsonl`.
   */
  async forceRelease(
    name: string,
    opts: { why?: string; staleOnly?: boolean } = {},
  ): Promise<{ released: boolean; previous?: LockHolder; reason: string }> {
    const paths = lockPaths(this.dir, name);
    const staleOnly = opts.staleOnly ?? true;
    for (let i = 0; i < 100; i++) {
      const outcome = await this.gate(paths, async () => {
        const status = await this.statusOf(validateLockName(name));
        if (!status.held) {
          const leftover = (await readMetadata(paths.metadata)).state !== 'missing';
          if (leftover) await fsp.rm(paths.metadata, { force: true });
          return { released: false, reason: `lock "${name}" is not held${leftover ? ' (removed leftover metadata)' : ''}` };
        }
        const previous = status.holder;
        if (staleOnly && !status.stale) {
          const who = previous ? `${describeHolder(previous)} for ${formatDuration(status.ageMs ?? 0)}` : 'an unknown holder';
          return {
            released: false,
            previous,
            reason: `lock "${name}" is held by ${who} and is not stale (heartbeat ${formatDuration(status.heartbeatAgeMs ?? 0)} ago)`,
          };
        }
        await fsp.rm(paths.lockDir, { recursive: true, force: true });
        await fsp.rm(paths.metadata, { force: true });
        const reason = status.stale ? `stale: ${status.staleReason}` : 'forced while the holder was alive';
        await this.record(paths, {
          type: 'forced-release',
          at: new Date().toISOString(),
          by: currentIdentity(),
          reason: opts.why ?? reason,
          previous: previous && summarize(previous),
        });
        this.logger.info(`force-released lock "${name}" (${reason})`);
        return { released: true, previous, reason };
      });
      if (outcome !== GATE_BUSY) return outcome;
      await sleep(20 + Math.random() * 30);
    }
    throw new Error(`lock "${name}": another process kept reclaiming it; try again`);
  }

  private async names(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.dir);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return [];
      throw new LockDirError(`cannot read lock folder ${this.dir}: ${errCode(err) ?? (err as Error).message}`, errCode(err));
    }
    const names = new Set<string>();
    for (const e of entries) {
      const n = lockNameOfEntry(e);
      if (n) names.add(n);
    }
    return [...names].sort();
  }

  private async statusOf(name: string): Promise<LockStatus> {
    const paths = lockPaths(this.dir, name);
    const [st, read, forced] = await Promise.all([
      this.statLockDir(paths),
      readMetadata(paths.metadata),
      lastEvent(paths.events, 'forced-release'),
    ]);
    const base: LockStatus = { name, held: false, stale: false, ...(forced ? { lastForcedRelease: forced } : {}) };
    if (!st) return base;
    const now = Date.now();
    const status: LockStatus = { ...base, held: true };
    // probe() sets the first mtime up to a second ahead: never report a negative age.
    status.heartbeatAgeMs = Math.max(0, now - st.mtimeMs);
    if (read.state === 'ok') {
      status.holder = { ...read.meta.holder, heartbeatAt: new Date(Math.min(st.mtimeMs, now)).toISOString() };
      const acquired = Date.parse(read.meta.holder.acquiredAt);
      if (Number.isFinite(acquired)) status.ageMs = Math.max(0, now - acquired);
    } else {
      status.metadataProblem = read.state === 'missing' ? 'no metadata: holder unknown' : `metadata unreadable: ${read.error}`;
    }
    const reason = this.staleReason(st, read);
    if (reason) {
      status.stale = true;
      status.staleReason = reason;
    }
    return status;
  }

  /** Why a held lock is stale, or undefined when it is live. */
  private staleReason(st: Stats, read: MetadataRead): string | undefined {
    const staleMs = Math.max(this.staleMs, read.state === 'ok' ? read.meta.staleMs : 0);
    const age = Date.now() - st.mtimeMs;
    if (age > staleMs) return `heartbeat stopped ${formatDuration(age)} ago (stale after ${formatDuration(staleMs)})`;
    if (read.state === 'ok' && this.holderIsDead(read.meta, st)) {
      return `holder pid ${read.meta.holder.pid} is no longer running on ${read.meta.holder.host}`;
    }
    return undefined;
  }

  /**
   * A holder on this host whose pid is gone, provided the metadata belongs to this very lock
   * directory: right after a takeover the directory is new while the metadata may still name the
   * dead previous holder, and that must not make the new holder look dead.
   */
  private holderIsDead(meta: LockMetadata, st: Stats): boolean {
    return (
      meta.holder.host === currentIdentity().host && meta.lockId === lockIdOf(st) && isPidAlive(meta.holder.pid) === false
    );
  }

  private async statLockDir(paths: LockPaths): Promise<Stats | undefined> {
    try {
      return await fsp.stat(paths.lockDir);
    } catch (err) {
      if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return undefined;
      throw new LockDirError(`cannot read lock folder ${this.dir}: ${errCode(err) ?? (err as Error).message}`, errCode(err));
    }
  }

  private async ensureDir(): Promise<void> {
    try {
      await fsp.mkdir(this.dir, { recursive: true });
    } catch (err) {
      throw new LockDirError(`cannot create lock folder ${this.dir}: ${errCode(err) ?? (err as Error).message}`, errCode(err));
    }
  }

  private gate<T>(paths: LockPaths, fn: () => Promise<T>): Promise<T | typeof GATE_BUSY> {
    return withGate(paths.gate, fn);
  }

  /** One try: take the lock (reclaiming it if stale), write metadata, verify we own it. */
  private async attempt(name: string, paths: LockPaths, opts: AcquireOptions, endTurn: () => void): Promise<Attempt> {
    const token = randomUUID();
    const handle = new Handle(name, token, paths, endTurn, this.logger);
    if (opts.onCompromised) handle.onCompromised(opts.onCompromised);
    let takeover: LockTakeover | undefined;
    reclaiming.set(paths.lockDir, {
      reclaim: async () => {
        const outcome = await this.reclaimStale(paths);
        if (outcome === 'fresh' || outcome === GATE_BUSY) throw lockedError();
        if (outcome !== 'gone') takeover = outcome;
      },
    });
    try {
      for (let tries = 0; ; tries++) {
        try {
          handle.unlock = await lockfile.lock(paths.target, {
            stale: this.staleMs,
            realpath: false,
            retries: 0,
            lockfilePath: paths.lockDir,
            fs: guardedFs,
            onCompromised: (err) => handle.compromise(err),
          });
          break;
        } catch (err) {
          if (errCode(err) !== 'ELOCKED') throw this.dirError(err);
          if (tries > 0) return { kind: 'busy' };
          const dead = await this.reclaimDead(paths);
          if (!dead) return { kind: 'busy' };
          takeover = dead;
        }
      }
    } finally {
      reclaiming.delete(paths.lockDir);
    }
    return this.claim(name, paths, handle, opts, takeover);
  }

  /** Writes our metadata, then checks that the lock directory and the metadata are still ours. */
  private async claim(
    name: string,
    paths: LockPaths,
    handle: Handle,
    opts: AcquireOptions,
    takeover: LockTakeover | undefined,
  ): Promise<Attempt> {
    const me = currentIdentity();
    const now = new Date().toISOString();
    const holder: LockHolder = {
      ...me,
      why: opts.why ?? '',
      acquiredAt: now,
      heartbeatAt: now,
      token: handle.token,
      ...(takeover ? { takeover } : {}),
      ...(opts.keeper ? { keeper: true } : {}),
    };
    let lockId: string;
    try {
      lockId = lockIdOf(await fsp.stat(paths.lockDir));
      await writeMetadata(paths.metadata, { version: 1, name, lockId, staleMs: this.staleMs, holder });
    } catch (err) {
      await handle.unlock?.().catch(() => undefined);
      throw this.dirError(err);
    }
    const [check, st] = await Promise.all([readMetadata(paths.metadata), this.statLockDir(paths)]);
    if (check.state !== 'ok' || check.meta.holder.token !== handle.token || !st || lockIdOf(st) !== lockId) {
      // Someone else reclaimed the same lock between our mkdir and now: it is theirs. Drop ours
      // without removing anything (the directory on disk is not ours any more).
      this.logger.warn(`lock "${name}": lost a race for the lock after acquiring it; retrying`);
      await abandon(paths);
      return { kind: 'busy' };
    }
    if (takeover) {
      this.logger.info(`lock "${name}" taken over: ${takeover.reason}`);
      await this.record(paths, { type: 'takeover', at: takeover.at, by: me, reason: takeover.reason, previous: takeover.previous });
    }
    return { kind: 'acquired', handle };
  }

  /**
   * proper-lockfile found the directory stale by mtime: re-check under the gate and remove it
   * only if it still is. Returns the takeover, 'gone' when it vanished meanwhile, 'fresh' when a
   * heartbeat or a new holder made it live again, GATE_BUSY when another reclaimer is at work.
   */
  private reclaimStale(paths: LockPaths): Promise<LockTakeover | 'gone' | 'fresh' | typeof GATE_BUSY> {
    return this.gate(paths, async (): Promise<LockTakeover | 'gone' | 'fresh'> => {
      const st = await this.statLockDir(paths);
      if (!st) return 'gone';
      const read = await readMetadata(paths.metadata);
      const staleMs = Math.max(this.staleMs, read.state === 'ok' ? read.meta.staleMs : 0);
      const age = Date.now() - st.mtimeMs;
      if (age <= staleMs) return 'fresh';
      // rm, not rmdir: a stray file inside the directory must not make the lock unrecoverable.
      await fsp.rm(paths.lockDir, { recursive: true, force: true });
      return {
        at: new Date().toISOString(),
        reason: `heartbeat stopped ${formatDuration(age)} ago (stale after ${formatDuration(staleMs)})`,
        ...(read.state === 'ok' ? { previous: summarize(read.meta.holder) } : {}),
      };
    });
  }

  /** The lock is held by a pid that no longer runs on this host: remove it under the gate. */
  private async reclaimDead(paths: LockPaths): Promise<LockTakeover | undefined> {
    const first = await readMetadata(paths.metadata);
    if (first.state !== 'ok' || first.meta.holder.host !== currentIdentity().host) return undefined;
    if (isPidAlive(first.meta.holder.pid) !== false) return undefined;
    const outcome = await this.gate(paths, async () => {
      const [st, read] = await Promise.all([this.statLockDir(paths), readMetadata(paths.metadata)]);
      if (!st || read.state !== 'ok' || read.meta.holder.token !== first.meta.holder.token) return undefined;
      if (!this.holderIsDead(read.meta, st)) return undefined;
      await fsp.rm(paths.lockDir, { recursive: true, force: true });
      return {
        at: new Date().toISOString(),
        reason: `holder pid ${read.meta.holder.pid} is no longer running on ${read.meta.holder.host}`,
        previous: summarize(read.meta.holder),
      };
    });
    return outcome === GATE_BUSY ? undefined : outcome;
  }

  private async record(paths: LockPaths, event: LockEvent): Promise<void> {
    try {
      await appendEvent(paths.events, event);
    } catch (err) {
      this.logger.warn(`could not record ${event.type} in ${paths.events}: ${(err as Error).message}`);
    }
  }

  private async timeoutError(name: string, started: number): Promise<LockTimeoutError> {
    const [status] = await this.status(name).catch(() => [] as LockStatus[]);
    const waited = formatDuration(Date.now() - started);
    const holder = status?.holder;
    const heldFor = status?.ageMs;
    const who = holder
      ? `held by ${describeHolder(holder)} for ${formatDuration(heldFor ?? 0)}`
      : status?.held
        ? 'held by an unknown holder (no readable metadata)'
        : 'held by another caller in this process';
    const tried = waited === '0ms' ? 'tried once' : `gave up after ${waited}`;
    return new LockTimeoutError(`lock "${name}" is ${who}; ${tried} (folder ${this.dir})`, name, holder, heldFor);
  }

  private dirError(err: unknown): Error {
    const code = errCode(err);
    if (code && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOENT', 'ENOSPC', 'EDQUOT'].includes(code)) {
      return new LockDirError(`lock folder ${this.dir} is not writable: ${code}`, code);
    }
    return err as Error;
  }
}

/** An fs whose rmdir removes nothing: unlocking with it only makes proper-lockfile forget the lock. */
const forgetFs = {
  ...lockfileFs(),
  rmdir(_path: fs.PathLike, cb: (err: NodeJS.ErrnoException | null) => void): void {
    cb(null);
  },
};

/**
 * Forgets a lock proper-lockfile still tracks, without touching the disk: stops its heartbeat and
 * keeps its exit hook from removing a directory that now belongs to someone else.
 */
async function abandon(paths: LockPaths): Promise<void> {
  await lockfile.unlock(paths.target, { realpath: false, lockfilePath: paths.lockDir, fs: forgetFs }).catch(() => undefined);
}
