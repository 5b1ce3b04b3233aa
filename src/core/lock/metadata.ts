import { appendRegularFile, readRegularFile, writeFileAtomic } from '../util/fs';
import type { Identity } from './process';
import { errorMessage } from '../../shared/errors';

/** The holder fields that describe a previous holder in takeover and force-release records. */
export interface HolderSummary {
  user: string;
  host: string;
  pid: number;
  why: string;
  acquiredAt: string;
}

/** How the current holder got a lock that someone else still held (stale or dead). */
export interface LockTakeover {
  /** ISO time of the takeover. */
  at: string;
  /** Why the previous holder counted as stale, e.g. "holder pid 123 is no longer running on ci-7". */
  reason: string;
  /** The previous holder, when its metadata was readable. */
  previous?: HolderSummary;
}

export interface LockHolder {
  user: string;
  host: string;
  pid: number;
  /** Free text the holder gave, e.g. "integration tests". */
  why: string;
  acquiredAt: string;
  /** Last heartbeat: in `status` the lock directory's mtime, which proper-lockfile refreshes every staleMs/2. */
  heartbeatAt: string;
  /** Unique per acquisition; ownership is verified by it (proper-lockfile #121). */
  token: string;
  takeover?: LockTakeover;
  /** A background keeper started by `lock acquire` holds it (so `lock release` may ask it to let go). */
  keeper?: boolean;
  /** The holder's pid space (Identity.hostId): only a process in the same one judges `pid` and `pgid`. */
  hostId?: string;
  /** When `pid` started (processStartTime), so a reused pid is not taken for the holder. */
  pidStart?: string;
  /** The process group of the command run under the lock (`lock run`): the holder lives while it does. */
  pgid?: number;
  /** When the group's leader started. */
  pgidStart?: string;
  /** Held in shared mode: other shared holders may hold it at the same time, an exclusive one may not. */
  mode?: 'shared';
  /** What a shared holder said it needs (e.g. predicted memory bytes), for admitting the next one. */
  needs?: Record<string, number>;
  /** The caller's id for what it runs (a run id), recorded for admission decisions. */
  tag?: string;
  /** A shared holder that went in ahead of earlier waiters (queue.ts): their ticket tokens. */
  passed?: string[];
}

/** The sibling `<name>.json` file. */
export interface LockMetadata {
  version: 1;
  name: string;
  /** The generation (fencing token) of the lock directory this metadata belongs to: equal to holder.token. */
  lockId: string;
  /** The holder's stale period: a reclaimer never uses a shorter one than the holder heartbeats for. */
  staleMs: number;
  holder: LockHolder;
}

export type MetadataRead =
  { state: 'ok'; meta: LockMetadata } | { state: 'missing' } | { state: 'corrupt'; error: string };

const isString = (v: unknown): v is string => typeof v === 'string';

/** Real metadata is under 1 KB; a lock folder may be shared, so anything much larger is refused unread. */
const MAX_METADATA_BYTES = 64 * 1024;

/** Parses and checks a metadata file's text; throws a descriptive error for anything malformed. */
export function parseMetadata(text: string): LockMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON (${errorMessage(err)})`);
  }
  const m = raw as Partial<LockMetadata> | null;
  if (!m || typeof m !== 'object') throw new Error('not an object');
  if (m.version !== 1) throw new Error(`unknown version ${JSON.stringify(m.version)}`);
  if (!isString(m.name) || !isString(m.lockId)) throw new Error('name or lockId missing');
  if (typeof m.staleMs !== 'number' || !(m.staleMs > 0)) throw new Error('staleMs missing');
  const h = m.holder as Partial<LockHolder> | undefined;
  if (!h || typeof h !== 'object') throw new Error('holder missing');
  for (const key of ['user', 'host', 'why', 'acquiredAt', 'heartbeatAt', 'token'] as const) {
    if (!isString(h[key])) throw new Error(`holder.${key} missing`);
  }
  if (!Number.isSafeInteger(h.pid)) throw new Error('holder.pid missing');
  if (h.hostId !== undefined && !isString(h.hostId)) throw new Error('holder.hostId is not a string');
  if (h.pidStart !== undefined && !isString(h.pidStart)) throw new Error('holder.pidStart is not a string');
  if (h.pgid !== undefined && !(Number.isSafeInteger(h.pgid) && h.pgid > 1))
    throw new Error('holder.pgid is not a process group');
  if (h.pgidStart !== undefined && !isString(h.pgidStart))
    throw new Error('holder.pgidStart is not a string');
  if (h.tag !== undefined && !isString(h.tag)) throw new Error('holder.tag is not a string');
  if (h.mode !== undefined && h.mode !== 'shared') throw new Error('holder.mode is not "shared"');
  if (h.passed !== undefined && !(Array.isArray(h.passed) && h.passed.every(isString)))
    throw new Error('holder.passed is not a list of tokens');
  if (
    h.needs !== undefined &&
    (typeof h.needs !== 'object' ||
      h.needs === null ||
      Object.values(h.needs).some((v) => typeof v !== 'number' || !Number.isFinite(v)))
  ) {
    throw new Error('holder.needs is not a map of numbers');
  }
  return m as LockMetadata;
}

/** Reads metadata without ever throwing for bad content: corrupt files are reported, not fatal. */
export async function readMetadata(file: string): Promise<MetadataRead> {
  let text: string | undefined;
  try {
    text = await readRegularFile(file, MAX_METADATA_BYTES);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return {
      state: 'corrupt',
      error: `unreadable (${e.code && !e.message.includes(' ') ? e.code : e.message})`,
    };
  }
  if (text === undefined) return { state: 'missing' };
  try {
    return { state: 'ok', meta: parseMetadata(text) };
  } catch (err) {
    return { state: 'corrupt', error: errorMessage(err) };
  }
}

export async function writeMetadata(file: string, meta: LockMetadata): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(meta, null, 2) + '\n');
}

export function summarize(holder: LockHolder): HolderSummary {
  const { user, host, pid, why, acquiredAt } = holder;
  return { user, host, pid, why, acquiredAt };
}

/** One line of `<name>.events.jsonl`. */
export interface LockEvent {
  /** `acquired` is written by every holder as it gets the lock, with how long it waited. */
  type: 'takeover' | 'forced-release' | 'acquired';
  at: string;
  by: Identity;
  /** The takeover's stale reason, or the why given to force-release. */
  reason: string;
  previous?: HolderSummary;
  /** `acquired`: the mode taken and how long the acquisition waited. */
  mode?: 'exclusive' | 'shared';
  waitedMs?: number;
}

/** Past this size the log is cut to its last KEEP_EVENTS lines. */
const MAX_EVENTS_BYTES = 64 * 1024;
const KEEP_EVENTS = 100;

/**
 * Appends an event. One small `appendFile` is a single O_APPEND write, so concurrent writers do
 * not interleave on a local file system. Trimming may drop an event written concurrently: the
 * log is a record for people, the lock never depends on it.
 */
export async function appendEvent(file: string, event: LockEvent): Promise<void> {
  await appendRegularFile(file, JSON.stringify(event) + '\n');
  // A log grown far past the cap (by hand, or by a hostile writer) is started afresh, not read.
  const text = await readRegularFile(file, MAX_EVENTS_BYTES * 4).catch((err: NodeJS.ErrnoException) =>
    err.code === 'EFBIG' ? '' : undefined,
  );
  if (text !== undefined && (text === '' || text.length > MAX_EVENTS_BYTES)) {
    const lines = text.split('\n').filter(Boolean);
    await writeFileAtomic(file, lines.slice(-KEEP_EVENTS).join('\n') + '\n');
  }
}

/** The events of a type, oldest first, skipping lines that do not parse. */
export async function readEvents(file: string, type: LockEvent['type']): Promise<LockEvent[]> {
  let text: string | undefined;
  try {
    text = await readRegularFile(file, MAX_EVENTS_BYTES * 4);
  } catch {
    return [];
  }
  const out: LockEvent[] = [];
  for (const line of (text ?? '').split('\n')) {
    try {
      const e = JSON.parse(line) as LockEvent;
      if (e && e.type === type && isString(e.at)) out.push(e);
    } catch {
      // a torn or hand-edited line: skip it
    }
  }
  return out;
}

/** The newest event of a type. */
export async function lastEvent(file: string, type: LockEvent['type']): Promise<LockEvent | undefined> {
  return (await readEvents(file, type)).at(-1);
}
