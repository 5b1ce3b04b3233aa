import { randomUUID } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { promises as fsp, type Stats } from 'node:fs';
import * as lockfile from 'proper-lockfile';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import { defaultLockDir } from '../paths';
import { formatDuration } from '../util/duration';
import { FifoTurns, TurnTimeout } from './fifo';
import {
  disown,
  lockfileFs,
  own,
  readGeneration,
  removeGeneration,
  removeUnowned,
  type Generation,
} from './generation';
import {
  appendEvent,
  lastEvent,
  readMetadata,
  summarize,
  type LockEvent,
  type LockHolder,
  type LockMetadata,
  type LockTakeover,
  type MetadataRead,
} from './metadata';
import { lockNameOfEntry, lockPaths, validateLockName, type LockPaths } from './names';
import { currentIdentity, hostId, isGroupAlive, isPidAlive, processStartTime, processState } from './process';
import { releaseOnSignal } from './signals';
import { abandon, Handle, writeHolder } from './handle';
import {
  describeHolder,
  errCode,
  holderAlive,
  isPlanted,
  memberPaths,
  metaOf,
  unsafeFolder,
} from './holders';
import {
  DEFAULT_ACQUIRE_TIMEOUT_MS,
  DEFAULT_STALE_MS,
  LockDirError,
  LockTimeoutError,
  MIN_STALE_MS,
  type AcquireOptions,
  type LockHandle,
  type LockOptions,
  type LockStatus,
  type SharedHolderStatus,
} from './types';
import { ReleaseWaker } from './wake';

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

/** First retry waits about this long; each further one up to twice as long, capped by maxRetryMs. */
const FIRST_RETRY_MS = 25;
/** How long a forced release waits for a holder's command group to end after SIGTERM, before SIGKILL. */
const FORCE_TERM_GRACE_MS = 5_000;

/** Turns inside this process, shared by every LockManager so two managers on one folder also queue. */
const turns = new FifoTurns();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
    if (opts.mode === 'shared') return this.acquireShared(name, opts);
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS);
    const handle = await this.take(name, opts);
    try {
      await this.drainShared(name, handle, deadline, opts);
    } catch (err) {
      await handle.release();
      throw err;
    }
    return handle;
  }

  /** Takes the exclusive lock directory (shared holders aside). */
  private async take(name: string, opts: AcquireOptions): Promise<Handle> {
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
   * `staleOnly: false` also a live one. A live holder on this host whose command runs in a process
   * group of its own (`lock run`) has that group ended first (SIGTERM, then SIGKILL after 5 s), so
   * the next holder never overlaps it; a holder elsewhere is told at its next heartbeat. Only the
   * generation judged is removed. Who forced it and why is appended to `<name>.events.jsonl`.
   */
  async forceRelease(
    name: string,
    opts: { why?: string; staleOnly?: boolean } = {},
  ): Promise<{ released: boolean; previous?: LockHolder; reason: string }> {
    const paths = lockPaths(this.dir, name);
    const staleOnly = opts.staleOnly ?? true;
    const members = await this.releaseShared(paths, name, staleOnly, opts.why);
    const main = await this.forceReleaseExclusive(paths, name, staleOnly, opts.why);
    if (members === 0) return main;
    const also = `${members} shared holder${members === 1 ? '' : 's'} released`;
    return { ...main, released: true, reason: main.released ? `${main.reason}; ${also}` : also };
  }

  /** Removes stale shared holders, or with `staleOnly: false` every one (ending their command groups here first). */
  private async releaseShared(
    paths: LockPaths,
    name: string,
    staleOnly: boolean,
    why: string | undefined,
  ): Promise<number> {
    const { holders: live, reclaimed } = await this.sharedHolders(paths, true);
    let removed = reclaimed;
    if (staleOnly) return removed;
    for (const m of live) {
      if (!m.holder) continue;
      await this.endHolderGroup(m.holder);
      const mp = memberPaths(paths, m.holder.token);
      if (await removeGeneration(mp.lockDir, m.holder.token)) {
        removed++;
        await fsp.rm(mp.metadata, { recursive: true, force: true });
        await this.record(paths, {
          type: 'forced-release',
          at: new Date().toISOString(),
          by: currentIdentity(),
          reason: why ?? 'forced while the shared holder was alive',
          previous: summarize(m.holder),
        });
      }
    }
    this.logger.info(`force-released ${removed} shared holder(s) of lock "${name}"`);
    return removed;
  }

  private async forceReleaseExclusive(
    paths: LockPaths,
    name: string,
    staleOnly: boolean,
    why: string | undefined,
  ): Promise<{ released: boolean; previous?: LockHolder; reason: string }> {
    const [gen, read] = await this.inspect(paths);
    if (gen.state === 'free') {
      const leftover = read.state !== 'missing' || (await isPlanted(paths.metadata));
      if (leftover) await this.removeMetadata(paths);
      return {
        released: false,
        reason: `lock "${name}" is not held${leftover ? ' (removed leftover metadata)' : ''}`,
      };
    }
    const meta = metaOf(gen, read);
    const previous = meta?.holder;
    const staleReason = this.staleReason(gen, meta);
    if (staleOnly && !staleReason) {
      const status = await this.statusOf(name);
      const who = previous
        ? `${describeHolder(previous)} for ${formatDuration(status.ageMs ?? 0)}`
        : 'an unknown holder';
      return {
        released: false,
        previous,
        reason: `lock "${name}" is held by ${who} and is not stale (heartbeat ${formatDuration(status.heartbeatAgeMs ?? 0)} ago)`,
      };
    }
    if (!staleReason && previous) await this.endHolderGroup(previous);
    if (gen.state === 'held') await removeGeneration(paths.lockDir, gen.token);
    else await removeUnowned(paths.lockDir, gen);
    if (meta || read.state !== 'ok') await this.removeMetadata(paths);
    const reason = staleReason ? `stale: ${staleReason}` : 'forced while the holder was alive';
    await this.record(paths, {
      type: 'forced-release',
      at: new Date().toISOString(),
      by: currentIdentity(),
      reason: why ?? reason,
      previous: previous && summarize(previous),
    });
    this.logger.info(`force-released lock "${name}" (${reason})`);
    return { released: true, previous, reason };
  }

  /** Ends a live holder's command group on this host (verified by its recorded start time), waiting until it is gone. */
  private async endHolderGroup(h: LockHolder): Promise<void> {
    if (h.pgid === undefined || h.hostId !== hostId()) return;
    if (h.pgidStart !== undefined && isPidAlive(h.pgid) && processStartTime(h.pgid) !== h.pgidStart) return;
    const signal = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-(h.pgid as number), sig);
      } catch {
        // gone already
      }
    };
    signal('SIGTERM');
    const deadline = Date.now() + FORCE_TERM_GRACE_MS;
    while (isGroupAlive(h.pgid) && Date.now() < deadline) await sleep(50);
    if (isGroupAlive(h.pgid)) {
      signal('SIGKILL');
      const hard = Date.now() + 2_000;
      while (isGroupAlive(h.pgid) && Date.now() < hard) await sleep(20);
    }
  }

  private async removeMetadata(paths: LockPaths): Promise<void> {
    // rm, recursive: a directory planted at the metadata path must not make the lock unusable.
    // (rm removes a symlink itself, never what it points to.)
    await fsp.rm(paths.metadata, { recursive: true, force: true });
  }

  private async names(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.dir);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return [];
      throw new LockDirError(
        `cannot read lock folder ${this.dir}: ${errCode(err) ?? (err as Error).message}`,
        errCode(err),
      );
    }
    const names = new Set<string>();
    for (const e of entries) {
      const n = lockNameOfEntry(e);
      if (n) names.add(n);
    }
    return [...names].sort();
  }

  private async inspect(paths: LockPaths): Promise<[Generation, MetadataRead]> {
    try {
      return await Promise.all([readGeneration(paths.lockDir), readMetadata(paths.metadata)]);
    } catch (err) {
      throw new LockDirError(
        `cannot read lock folder ${this.dir}: ${errCode(err) ?? (err as Error).message}`,
        errCode(err),
      );
    }
  }

  private async statusOf(name: string): Promise<LockStatus> {
    const paths = lockPaths(this.dir, name);
    const [[gen, read], forced, shared] = await Promise.all([
      this.inspect(paths),
      lastEvent(paths.events, 'forced-release'),
      this.sharedHolders(paths, false).then((r) => r.holders),
    ]);
    const base: LockStatus = {
      name,
      held: false,
      stale: false,
      ...(forced ? { lastForcedRelease: forced } : {}),
      ...(shared.length ? { shared } : {}),
    };
    if (gen.state === 'free') return base;
    const now = Date.now();
    const status: LockStatus = { ...base, held: true };
    // probe() sets the first mtime up to a second ahead: never report a negative age.
    status.heartbeatAgeMs = Math.max(0, now - gen.heartbeatMs);
    const meta = metaOf(gen, read);
    if (meta) {
      status.holder = { ...meta.holder, heartbeatAt: new Date(Math.min(gen.heartbeatMs, now)).toISOString() };
      const acquired = Date.parse(meta.holder.acquiredAt);
      if (Number.isFinite(acquired)) status.ageMs = Math.max(0, now - acquired);
      if (holderAlive(meta.holder) && processState(meta.holder.pid) === 'T') status.holderStopped = true;
    } else if (gen.state === 'unowned') {
      status.metadataProblem = 'no owner in the lock directory: being taken or released, or left by a crash';
    } else {
      status.metadataProblem =
        read.state === 'missing' || read.state === 'ok'
          ? 'no metadata: holder unknown'
          : `metadata unreadable: ${read.error}`;
    }
    const reason = this.staleReason(gen, meta);
    if (reason) {
      status.stale = true;
      status.staleReason = reason;
    }
    return status;
  }

  /** Why a held lock is stale, or undefined when it is live. */
  private staleReason(
    gen: Exclude<Generation, { state: 'free' }>,
    meta: LockMetadata | undefined,
  ): string | undefined {
    if (meta) {
      const alive = holderAlive(meta.holder);
      if (alive === true) return undefined;
      if (alive === false) {
        const group =
          meta.holder.pgid !== undefined ? ` (nor its command's process group ${meta.holder.pgid})` : '';
        return `holder pid ${meta.holder.pid} is no longer running on ${meta.holder.host}${group}`;
      }
    }
    const staleMs = Math.max(this.staleMs, meta?.staleMs ?? 0);
    const age = Date.now() - gen.heartbeatMs;
    if (age > staleMs)
      return `heartbeat stopped ${formatDuration(age)} ago (stale after ${formatDuration(staleMs)})`;
    return undefined;
  }

  private async ensureDir(): Promise<void> {
    let st: Stats;
    try {
      await fsp.mkdir(this.dir, { recursive: true });
      st = await fsp.stat(this.dir);
    } catch (err) {
      throw new LockDirError(
        `cannot create lock folder ${this.dir}: ${errCode(err) ?? (err as Error).message}`,
        errCode(err),
      );
    }
    const problem = unsafeFolder(st);
    if (problem) throw new LockDirError(`lock folder ${this.dir} ${problem}`, 'EUNSAFE');
  }

  /** One try: take the lock (reclaiming it if stale), write metadata, verify we own it. */
  /**
   * Shared mode: take the exclusive lock for a moment as a turnstile (so no exclusive holder can
   * be between its drain and its run), judge the shared holders in, join them as a lock of our
   * own in `<name>.shared/` if `admit` agrees, then let the turnstile go.
   */
  private async acquireShared(name: string, opts: AcquireOptions): Promise<LockHandle> {
    const paths = lockPaths(this.dir, name);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS;
    if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be 0 or more (got ${opts.timeoutMs})`);
    const started = Date.now();
    const deadline = started + timeoutMs;
    let waker: ReleaseWaker | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        const gate = await this.take(name, {
          why: `admitting a shared holder${opts.why ? `: ${opts.why}` : ''}`,
          timeoutMs: Math.max(0, deadline - Date.now()),
          signal: opts.signal,
        });
        let waitReason: string | undefined;
        try {
          const { holders: live } = await this.sharedHolders(paths, true);
          waitReason = await opts.admit?.(live.flatMap((m) => (m.holder ? [m.holder] : [])));
          if (waitReason === undefined) {
            const member = await this.join(name, paths, opts);
            const gen = await readGeneration(paths.lockDir).catch(() => undefined);
            // Joined while the turnstile was still ours: any exclusive holder after us sees us.
            if (!gate.compromised && gen?.state === 'held' && gen.token === gate.token) return member;
            await member.release();
            waitReason = 'the turnstile was lost while joining';
          }
        } finally {
          await gate.release();
        }
        const left = deadline - Date.now();
        if (timeoutMs === 0 || left <= 0) {
          throw new LockTimeoutError(
            `lock "${name}": no room for another shared holder (${waitReason}); ${timeoutMs === 0 ? 'tried once' : `gave up after ${formatDuration(Date.now() - started)}`} (folder ${this.dir})`,
            name,
          );
        }
        waker ??= new ReleaseWaker(paths.shared);
        const cap = Math.min(this.maxRetryMs, FIRST_RETRY_MS * 2 ** Math.min(attempt + 3, 10));
        await waker.sleep(Math.min(left, cap / 2 + Math.random() * (cap / 2)), opts.signal);
      }
    } finally {
      waker?.close();
    }
  }

  /** Joins the shared holders: a lock of our own, `<name>.shared/<token>.lock`, heartbeating like any other. */
  private async join(name: string, paths: LockPaths, opts: AcquireOptions): Promise<Handle> {
    try {
      await fsp.mkdir(paths.shared, { recursive: true });
    } catch (err) {
      throw this.dirError(err);
    }
    const token = randomUUID();
    const mp = memberPaths(paths, token);
    const handle = new Handle(name, token, mp, this.staleMs, () => undefined, this.logger);
    try {
      await this.lockGeneration(mp, handle, opts);
    } catch (err) {
      throw this.dirError(err);
    }
    handle.holder = newHolder(token, opts.why, {
      mode: 'shared',
      ...(opts.needs ? { needs: opts.needs } : {}),
      ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
    });
    await writeHolder(mp, name, this.staleMs, handle.holder, this.logger);
    return handle;
  }

  /** Holding the exclusive lock, waits until no shared holder is left (stale ones are reclaimed). */
  private async drainShared(
    name: string,
    handle: Handle,
    deadline: number,
    opts: AcquireOptions,
  ): Promise<void> {
    const paths = lockPaths(this.dir, name);
    let waker: ReleaseWaker | undefined;
    const started = Date.now();
    try {
      for (let attempt = 0; ; attempt++) {
        const { holders: live } = await this.sharedHolders(paths, true);
        if (live.length === 0) return;
        const left = deadline - Date.now();
        if (left <= 0 || opts.timeoutMs === 0) {
          const who = live.map((m) => (m.holder ? describeHolder(m.holder) : 'an unknown holder')).join(', ');
          throw new LockTimeoutError(
            `lock "${name}" is held in shared mode by ${who}; ${opts.timeoutMs === 0 ? 'tried once' : `gave up after ${formatDuration(Date.now() - started)}`} (folder ${this.dir})`,
            name,
            live[0]?.holder,
          );
        }
        if (handle.compromised)
          throw new LockDirError(`lock "${name}" was lost while waiting for its shared holders to finish`);
        waker ??= new ReleaseWaker(paths.shared);
        const cap = Math.min(this.maxRetryMs, FIRST_RETRY_MS * 2 ** Math.min(attempt, 10));
        await waker.sleep(Math.min(left, cap / 2 + Math.random() * (cap / 2)), opts.signal);
      }
    } finally {
      waker?.close();
    }
  }

  /**
   * The shared holders, each judged like an exclusive holder. With `reclaim`, stale ones are
   * removed (fenced, recorded) and only live ones returned; leftover metadata of released ones goes too.
   */
  private async sharedHolders(
    paths: LockPaths,
    reclaim: boolean,
  ): Promise<{ holders: SharedHolderStatus[]; reclaimed: number }> {
    let entries: string[];
    try {
      entries = await fsp.readdir(paths.shared);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return { holders: [], reclaimed: 0 };
      if (errCode(err) === 'ENOTDIR') {
        // Something planted where the folder belongs: a lock is always a directory.
        if (reclaim) await fsp.rm(paths.shared, { force: true });
        return { holders: [], reclaimed: 0 };
      }
      throw new LockDirError(
        `cannot read lock folder ${this.dir}: ${errCode(err) ?? (err as Error).message}`,
        errCode(err),
      );
    }
    const out: SharedHolderStatus[] = [];
    let reclaimed = 0;
    const now = Date.now();
    for (const e of entries) {
      const token = /^([A-Za-z0-9-]{1,64})\.lock$/.exec(e)?.[1];
      if (!token) continue;
      const mp = memberPaths(paths, token);
      const [gen, read] = await this.inspect(mp);
      if (gen.state === 'free') continue;
      const meta = metaOf(gen, read);
      const staleReason = this.staleReason(gen, meta);
      if (staleReason && reclaim) {
        if (gen.state === 'held') await removeGeneration(mp.lockDir, gen.token);
        else await removeUnowned(mp.lockDir, gen);
        await fsp.rm(mp.metadata, { recursive: true, force: true });
        reclaimed++;
        await this.record(paths, {
          type: 'takeover',
          at: new Date().toISOString(),
          by: currentIdentity(),
          reason: `shared holder: ${staleReason}`,
          previous: meta && summarize(meta.holder),
        });
        continue;
      }
      out.push({
        ...(meta
          ? { holder: meta.holder }
          : {
              metadataProblem:
                read.state === 'corrupt'
                  ? `metadata unreadable: ${read.error}`
                  : 'no metadata: holder unknown',
            }),
        stale: !!staleReason,
        ...(staleReason ? { staleReason } : {}),
        heartbeatAgeMs: Math.max(0, now - gen.heartbeatMs),
      });
    }
    if (reclaim) {
      for (const e of entries) {
        const token = /^([A-Za-z0-9-]{1,64})\.json$/.exec(e)?.[1];
        if (!token || entries.includes(`${token}.lock`)) continue;
        const st = await fsp.lstat(join(paths.shared, e)).catch(() => undefined);
        if (st && now - st.mtimeMs > this.staleMs)
          await fsp.rm(join(paths.shared, e), { recursive: true, force: true });
      }
    }
    return { holders: out, reclaimed };
  }

  /**
   * Creates a new generation at `paths.lockDir` for the handle's token through proper-lockfile
   * (mkdir, owner file, heartbeat), or rejects (ELOCKED when it is held) having forgotten the token.
   */
  private async lockGeneration(paths: LockPaths, handle: Handle, opts: AcquireOptions): Promise<void> {
    if (opts.onCompromised) handle.onCompromised(opts.onCompromised);
    own(paths.lockDir, handle.token);
    try {
      handle.unlock = await lockfile.lock(paths.target, {
        stale: this.staleMs,
        realpath: false,
        retries: 0,
        lockfilePath: paths.lockDir,
        fs: lockfileFs,
        onCompromised: (err) => handle.compromise(err),
      });
    } catch (err) {
      disown(paths.lockDir, handle.token);
      throw err;
    }
  }

  private async attempt(
    name: string,
    paths: LockPaths,
    opts: AcquireOptions,
    endTurn: () => void,
  ): Promise<Attempt> {
    let takeover: LockTakeover | undefined;
    for (let tries = 0; ; tries++) {
      const handle = new Handle(name, randomUUID(), paths, this.staleMs, endTurn, this.logger);
      try {
        await this.lockGeneration(paths, handle, opts);
      } catch (err) {
        if (errCode(err) !== 'ELOCKED') throw this.dirError(err);
        if (tries > 0) return { kind: 'busy' };
        takeover = await this.reclaimIfStale(paths);
        if (!takeover) return { kind: 'busy' };
        continue;
      }
      return this.claim(name, paths, handle, opts, takeover);
    }
  }

  /** Writes our metadata, then checks that the generation on disk is still ours. */
  private async claim(
    name: string,
    paths: LockPaths,
    handle: Handle,
    opts: AcquireOptions,
    takeover: LockTakeover | undefined,
  ): Promise<Attempt> {
    handle.holder = newHolder(handle.token, opts.why, {
      ...(takeover ? { takeover } : {}),
      ...(opts.keeper ? { keeper: true } : {}),
    });
    await writeHolder(paths, name, this.staleMs, handle.holder, this.logger);
    const gen = await readGeneration(paths.lockDir).catch(() => undefined);
    if (gen?.state !== 'held' || gen.token !== handle.token) {
      // Reclaimed from under us between our mkdir and now (a stall longer than the stale
      // period): it is someone else's now. Forget ours without removing anything.
      this.logger.warn(`lock "${name}": lost the lock right after taking it; retrying`);
      await abandon(paths, handle.token);
      return { kind: 'busy' };
    }
    if (takeover) this.logger.info(`lock "${name}" taken over: ${takeover.reason}`);
    return { kind: 'acquired', handle };
  }

  /**
   * The lock is held: if its holder is stale or dead, remove exactly the generation judged
   * (fenced: a newer holder is never touched, however long this process stalls in between) and
   * record the takeover, whoever then wins the lock.
   */
  private async reclaimIfStale(paths: LockPaths): Promise<LockTakeover | undefined> {
    const [gen, read] = await this.inspect(paths);
    if (gen.state === 'free') return { at: new Date().toISOString(), reason: 'released meanwhile' };
    const meta = metaOf(gen, read);
    const reason = this.staleReason(gen, meta);
    if (!reason) return undefined;
    if (gen.state === 'held') {
      if (
        !(await removeGeneration(paths.lockDir, gen.token).catch((err: unknown) =>
          Promise.reject(this.dirError(err)),
        ))
      )
        return undefined;
    } else {
      await removeUnowned(paths.lockDir, gen).catch((err: unknown) => Promise.reject(this.dirError(err)));
    }
    const takeover: LockTakeover = {
      at: new Date().toISOString(),
      reason,
      ...(meta ? { previous: summarize(meta.holder) } : {}),
    };
    await this.record(paths, {
      type: 'takeover',
      at: takeover.at,
      by: currentIdentity(),
      reason,
      previous: takeover.previous,
    });
    return takeover;
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
    return new LockTimeoutError(
      `lock "${name}" is ${who}; ${tried} (folder ${this.dir})`,
      name,
      holder,
      heldFor,
    );
  }

  private dirError(err: unknown): Error {
    const code = errCode(err);
    if (code && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOENT', 'ENOSPC', 'EDQUOT'].includes(code)) {
      return new LockDirError(`lock folder ${this.dir} is not writable: ${code}`, code);
    }
    return err as Error;
  }
}

/** This process as the holder of generation `token`. */
function newHolder(token: string, why: string | undefined, extra: Partial<LockHolder>): LockHolder {
  const me = currentIdentity();
  const now = new Date().toISOString();
  const pidStart = processStartTime(me.pid);
  return {
    ...me,
    why: why ?? '',
    acquiredAt: now,
    heartbeatAt: now,
    token,
    ...(pidStart !== undefined ? { pidStart } : {}),
    ...extra,
  };
}
