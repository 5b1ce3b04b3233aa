import { randomUUID } from 'node:crypto';
import { promises as fsp, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../util/duration';
import { isAtomicTempName, writeFileAtomic } from '../util/fs';
import { describeHolder, errCode, holderAlive } from './holders';
import { readMetadata, type LockHolder, type LockMetadata } from './metadata';
import type { LockPaths } from './names';
import { processState } from './process';
import type { LockMode, QueuedWaiter } from './types';
import { newHolder, type LockContext } from './common';

/**
 * The queue of a lock: `<name>.queue/`, one ticket per waiter, `<seq>-<token>.json`. A ticket is
 * the waiter's metadata (as a holder's, `acquiredAt` being when it began to wait) plus its place
 * and what it waits for. `seq` is one more than the highest ticket in the folder when it was
 * created, so the order is the order of arrival without any clock (two arrivals at the same
 * moment tie and are ordered by token). The waiter heartbeats its ticket (mtime) and removes it
 * when it leaves; a gone waiter's ticket is removed by the next reader (ticketStale), so it
 * never blocks the queue.
 */
export interface QueueFields {
  seq: number;
  mode: LockMode;
  waitingFor: string;
  /**
   * Refused by its own admission, judged beside these shared holders (`holderKey`: token and
   * needs): others may pass it while every one of them is still in with the same needs.
   */
  blockedBy?: string[];
  /** Only the holders that passed it keep it out: nobody else may pass it. */
  reserved?: boolean;
}

export interface TicketMetadata extends LockMetadata {
  queue: QueueFields;
}

/** A live ticket as read from the folder. */
export interface QueuedTicket {
  token: string;
  meta: TicketMetadata;
  heartbeatMs: number;
}

const TICKET_RE = /^(\d{12})-([A-Za-z0-9-]{1,64})\.json$/;
const SEQ_WIDTH = 12;
/** A ticket is worthless after a crash of the machine (its waiter is gone): not flushed to disk. */
const TICKET_WRITE = { durable: false } as const;

function ticketName(seq: number, token: string): string {
  return `${String(seq).padStart(SEQ_WIDTH, '0')}-${token}.json`;
}

/** The ticket a holder's metadata is, when its queue fields are valid. */
function ticketOf(meta: LockMetadata): TicketMetadata | undefined {
  const q = (meta as Partial<TicketMetadata>).queue as Partial<QueueFields> | undefined;
  if (!q || typeof q !== 'object') return undefined;
  if (!Number.isSafeInteger(q.seq) || (q.seq as number) < 0) return undefined;
  if (q.mode !== 'shared' && q.mode !== 'exclusive') return undefined;
  if (typeof q.waitingFor !== 'string') return undefined;
  if (
    q.blockedBy !== undefined &&
    !(Array.isArray(q.blockedBy) && q.blockedBy.every((t) => typeof t === 'string'))
  )
    return undefined;
  if (q.reserved !== undefined && typeof q.reserved !== 'boolean') return undefined;
  return meta as TicketMetadata;
}

/** Queue order: by seq, then token. */
export function before(a: QueueFields & { token: string }, b: QueueFields & { token: string }): boolean {
  return a.seq < b.seq || (a.seq === b.seq && a.token < b.token);
}

/**
 * Why a ticket's waiter is gone, or undefined while it waits. On its own host: its process is
 * dead (at once), or it is stopped (SIGSTOP, Ctrl-Z) and its heartbeat is older than the stale
 * period: a waiter holds nothing, so a paused one gives up its place. Elsewhere: its heartbeat.
 */
export function ticketStale(ctx: LockContext, t: QueuedTicket, now = Date.now()): string | undefined {
  const h = t.meta.holder;
  const alive = holderAlive(h);
  if (alive === false) return `waiter pid ${h.pid} is no longer running on ${h.host}`;
  if (alive === true && processState(h.pid) !== 'T') return undefined;
  const staleMs = Math.max(ctx.staleMs, t.meta.staleMs);
  const age = now - t.heartbeatMs;
  return age > staleMs
    ? `waiter heartbeat stopped ${formatDuration(age)} ago${alive === true ? ' (process stopped)' : ''}`
    : undefined;
}

/** Makes `<name>.queue/` a folder: something planted there (a file, a symlink) is removed, never followed. */
async function ensureQueueDir(paths: LockPaths): Promise<void> {
  const st = await fsp.lstat(paths.queue).catch(() => undefined);
  if (st && !st.isDirectory()) await fsp.rm(paths.queue, { force: true });
  await fsp.mkdir(paths.queue, { recursive: true });
}

/** A ticket as last read, by its path: reused while the file is the same file, unchanged. */
interface ReadTicket {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  meta: TicketMetadata | undefined;
}

/**
 * The tickets this process read last, per queue folder. A waiter reads the whole queue on every
 * change; a ticket whose inode, size, mtime and ctime are those of the last read is not read
 * again (ctime cannot be set back by anyone). An inode number is not enough: ext4 hands a freed
 * one straight back, so two rewrites (renames) can leave a ticket with the inode it had, and a
 * file system with coarse times (1 s on ext4 with 128-byte inodes, 2 s on FAT) can give both the
 * same times. So a ticket is kept only once its last change is TICKET_CACHE_AFTER_MS old: any later
 * change then has other times.
 */
const lastRead = new Map<string, Map<string, ReadTicket>>();

export const TICKET_CACHE_AFTER_MS = 2_500;

function sameFile(a: ReadTicket | undefined, st: Stats): a is ReadTicket {
  return (
    !!a && a.ino === st.ino && a.size === st.size && a.mtimeMs === st.mtimeMs && a.ctimeMs === st.ctimeMs
  );
}

/**
 * The live tickets, first first. Entries that are not tickets (symlinks, FIFOs, folders, garbage,
 * huge files) are ignored: never followed, never read past a size cap, never blocking. With
 * `reclaim`, tickets of gone waiters are removed, and unreadable entries too once older than
 * the stale period.
 */
export async function readQueue(
  ctx: LockContext,
  paths: LockPaths,
  reclaim: boolean,
): Promise<QueuedTicket[]> {
  let entries: string[];
  try {
    entries = await fsp.readdir(paths.queue);
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return [];
    throw err;
  }
  const now = Date.now();
  const out: QueuedTicket[] = [];
  const cached = lastRead.get(paths.queue);
  const seen = new Map<string, ReadTicket>();
  await Promise.all(
    entries.map(async (e) => {
      const m = TICKET_RE.exec(e);
      const file = join(paths.queue, e);
      const st = await fsp.lstat(file).catch(() => undefined);
      if (!st) return;
      const old = now - st.mtimeMs > ctx.staleMs;
      if (!m) {
        // A writer killed between its temp file and the rename leaves the temp file.
        if (reclaim && old && isAtomicTempName(e) && st.isFile()) await fsp.rm(file, { force: true });
        return;
      }
      let meta: TicketMetadata | undefined;
      if (st.isFile()) {
        const known = cached?.get(e);
        if (sameFile(known, st)) meta = known.meta;
        else {
          const read = await readMetadata(file);
          meta = read.state === 'ok' ? ticketOf(read.meta) : undefined;
        }
        // Kept under the identity lstat gave: had a rewrite come between the two, its times are
        // not those, and the ticket is read again.
        if (now - st.ctimeMs >= (ctx.ticketCacheAfterMs ?? TICKET_CACHE_AFTER_MS))
          seen.set(e, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, meta });
      }
      if (!meta || meta.holder.token !== m[2] || meta.queue.seq !== Number(m[1])) {
        if (reclaim && old && !st.isDirectory()) await fsp.rm(file, { force: true });
        return;
      }
      const t: QueuedTicket = { token: m[2] as string, meta, heartbeatMs: st.mtimeMs };
      const stale = ticketStale(ctx, t, now);
      if (!stale) out.push(t);
      else if (reclaim) {
        ctx.logger.info(`lock queue ${paths.queue}: removed the ticket of a gone waiter (${stale})`);
        await fsp.rm(file, { force: true });
      }
    }),
  );
  if (seen.size) lastRead.set(paths.queue, seen);
  else lastRead.delete(paths.queue);
  return out.sort((a, b) => (before(fields(a), fields(b)) ? -1 : 1));
}

function fields(t: QueuedTicket): QueueFields & { token: string } {
  return { ...t.meta.queue, token: t.token };
}

/** The queue as `lock status` shows it. */
export async function queueStatus(ctx: LockContext, paths: LockPaths): Promise<QueuedWaiter[]> {
  const now = Date.now();
  return (await readQueue(ctx, paths, false)).map((t, i) => ({
    position: i + 1,
    mode: t.meta.queue.mode,
    holder: t.meta.holder,
    waitingFor: t.meta.queue.waitingFor,
    heartbeatAgeMs: Math.max(0, now - t.heartbeatMs),
    blocked: t.meta.queue.blockedBy !== undefined,
    reserved: !!t.meta.queue.reserved,
  }));
}

/** One waiter in a few words: `alice@ci-7 (pid 42, "why"), exclusive`. */
export function describeTicket(t: QueuedTicket): string {
  return `${describeHolder(t.meta.holder)}, ${t.meta.queue.mode}`;
}

/** Tickets this process has out, removed on exit (a waiter that ends without leaving, e.g. process.exit). */
const active = new Set<string>();
let exitHook = false;

function track(file: string): void {
  active.add(file);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const f of active) {
      try {
        unlinkSync(f);
      } catch {
        // gone already
      }
    }
  });
}

/** Who asks for a ticket, for which lock. */
export interface TicketRequest {
  ctx: LockContext;
  paths: LockPaths;
  name: string;
  mode: LockMode;
  /** Holder fields beyond this process's identity (keeper, needs, tag). */
  extra: Partial<LockHolder>;
  why: string | undefined;
}

/** Arrivals in this process line up here, so two callers get tickets in the order they asked. */
const arrivals = new Map<string, Promise<unknown>>();

/** This waiter's ticket: heartbeats until it leaves; `lost` once someone removed it (judged gone). */
export class Ticket {
  lost = false;
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  /** A new wording not yet written (it goes with the next heartbeat). */
  private dirty = false;
  /** Whether what it waits for was written once: the first wording goes out at once. */
  private described = false;

  private constructor(
    private readonly ctx: LockContext,
    readonly file: string,
    private meta: TicketMetadata,
  ) {
    track(file);
    this.timer = setInterval(() => void this.beat(), Math.max(250, ctx.staleMs / 2));
    this.timer.unref();
  }

  get token(): string {
    return this.meta.holder.token;
  }

  get fields(): QueueFields & { token: string } {
    return { ...this.meta.queue, token: this.token };
  }

  /**
   * Takes the next place in the queue of `paths`, in this process in call order (`prepare`, e.g.
   * checking the lock folder, runs in that order first, and its error is the caller's). Undefined
   * when no ticket can be made: the waiter then only loses its place in line, never the lock's
   * guarantees.
   */
  static enter(req: TicketRequest, prepare: () => Promise<void>): Promise<Ticket | undefined> {
    const { paths } = req;
    const prev = arrivals.get(paths.queue) ?? Promise.resolve();
    const entering = prev.then(async () => {
      await prepare();
      try {
        return await Ticket.create(req);
      } catch (err) {
        req.ctx.logger.debug(`lock "${req.name}": no place in the queue (${errCode(err) ?? String(err)})`);
        return undefined;
      }
    });
    const settled = entering.catch(() => undefined);
    arrivals.set(paths.queue, settled);
    void settled.then(() => {
      if (arrivals.get(paths.queue) === settled) arrivals.delete(paths.queue);
    });
    return entering;
  }

  private static async create({ ctx, paths, name, mode, extra, why }: TicketRequest): Promise<Ticket> {
    await ensureQueueDir(paths);
    const entries = await fsp.readdir(paths.queue);
    const last = Math.max(0, ...entries.map((e) => Number(TICKET_RE.exec(e)?.[1] ?? 0)));
    const token = randomUUID();
    const seq = last + 1;
    const meta: TicketMetadata = {
      version: 1,
      name,
      lockId: token,
      staleMs: ctx.staleMs,
      holder: newHolder(token, why, extra),
      queue: { seq, mode, waitingFor: 'its turn' },
    };
    const file = join(paths.queue, ticketName(seq, token));
    await writeFileAtomic(file, JSON.stringify(meta) + '\n', TICKET_WRITE);
    return new Ticket(ctx, file, meta);
  }

  /**
   * Records what the waiter waits for. What others decide on (blocked, reserved) is written at
   * once; a new wording alone waits for the next heartbeat, so waiters re-judging themselves do
   * not wake each other in a loop.
   */
  async update(q: Omit<QueueFields, 'seq' | 'mode'>): Promise<void> {
    const cur = this.meta.queue;
    const decisive =
      !this.described ||
      (cur.blockedBy === undefined) !== (q.blockedBy === undefined) ||
      !!cur.reserved !== !!q.reserved ||
      !sameSet(cur.blockedBy, q.blockedBy);
    const changed = decisive || cur.waitingFor !== q.waitingFor;
    this.meta = {
      ...this.meta,
      queue: {
        seq: cur.seq,
        mode: cur.mode,
        waitingFor: q.waitingFor,
        ...(q.blockedBy ? { blockedBy: q.blockedBy } : {}),
        ...(q.reserved ? { reserved: true } : {}),
      },
    };
    this.described = true;
    if (decisive) await this.write();
    else if (changed) this.dirty = true;
  }

  /** Rewrites the ticket, unless it was removed (then the waiter enters again). */
  private write(): Promise<void> {
    this.dirty = false;
    this.writing = this.writing.then(async () => {
      if (this.lost) return;
      const st = await fsp.lstat(this.file).catch(() => undefined);
      if (!st?.isFile()) {
        this.lost = true;
        return;
      }
      await writeFileAtomic(this.file, JSON.stringify(this.meta) + '\n', TICKET_WRITE).catch((err: unknown) =>
        this.ctx.logger.warn(`lock queue: could not update ${this.file}: ${errCode(err) ?? String(err)}`),
      );
    });
    return this.writing;
  }

  private async beat(): Promise<void> {
    if (this.lost) return;
    if (this.dirty) return this.write();
    const now = new Date();
    await fsp.utimes(this.file, now, now).catch((err: unknown) => {
      if (errCode(err) === 'ENOENT') this.lost = true;
    });
  }

  async leave(): Promise<void> {
    clearInterval(this.timer);
    this.lost = true;
    await this.writing;
    active.delete(this.file);
    await fsp.rm(this.file, { force: true }).catch(() => undefined);
  }
}

function sameSet(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((x) => b.includes(x));
}
