import { promises as fsp, type Stats } from 'node:fs';
import * as lockfile from 'proper-lockfile';
import type { Logger } from '../log';
import { formatDuration } from '../util/duration';
import { disown, lockfileFs, own, readGeneration, type Generation } from './generation';
import {
  appendEvent,
  readMetadata,
  type LockEvent,
  type LockHolder,
  type LockMetadata,
  type MetadataRead,
} from './metadata';
import type { LockPaths } from './names';
import { currentIdentity, processStartTime } from './process';
import type { Handle } from './handle';
import { errCode, holderAlive, unsafeFolder } from './holders';
import { LockDirError, type AcquireOptions } from './types';
import { errorMessage } from '../../shared/errors';

/** What every part of the lock (exclusive, shared, reporting) works with: one folder, one stale period. */
export interface LockContext {
  readonly dir: string;
  readonly staleMs: number;
  readonly logger: Logger;
  /** Retry waits never grow past this, so a freed or stale lock is noticed within one interval. */
  readonly maxRetryMs: number;
  /** How old a queue ticket's last change must be before its read is reused (queue.ts; default 2.5 s). */
  readonly ticketCacheAfterMs?: number;
}

/** First retry waits about this long; each further one up to twice as long, capped by maxRetryMs. */
export const FIRST_RETRY_MS = 25;

/**
 * The wait before retry `step`: exponential up to maxRetryMs, with equal jitter (half the
 * interval fixed, half random) so contenders spread out.
 */
export function retryWait(ctx: LockContext, step: number): number {
  const cap = Math.min(ctx.maxRetryMs, FIRST_RETRY_MS * 2 ** Math.min(step, 10));
  return cap / 2 + Math.random() * (cap / 2);
}

export async function inspect(ctx: LockContext, paths: LockPaths): Promise<[Generation, MetadataRead]> {
  try {
    return await Promise.all([readGeneration(paths.lockDir), readMetadata(paths.metadata)]);
  } catch (err) {
    throw new LockDirError(
      `cannot read lock folder ${ctx.dir}: ${errCode(err) ?? errorMessage(err)}`,
      errCode(err),
    );
  }
}

/** Why a held lock is stale, or undefined when it is live. */
export function judgeStale(
  ctx: LockContext,
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
  const staleMs = Math.max(ctx.staleMs, meta?.staleMs ?? 0);
  const age = Date.now() - gen.heartbeatMs;
  if (age > staleMs)
    return `heartbeat stopped ${formatDuration(age)} ago (stale after ${formatDuration(staleMs)})`;
  return undefined;
}

export async function ensureDir(ctx: LockContext): Promise<void> {
  let st: Stats;
  try {
    await fsp.mkdir(ctx.dir, { recursive: true });
    st = await fsp.stat(ctx.dir);
  } catch (err) {
    throw new LockDirError(
      `cannot create lock folder ${ctx.dir}: ${errCode(err) ?? errorMessage(err)}`,
      errCode(err),
    );
  }
  const problem = unsafeFolder(st);
  if (problem) throw new LockDirError(`lock folder ${ctx.dir} ${problem}`, 'EUNSAFE');
}

/**
 * Creates a new generation at `paths.lockDir` for the handle's token through proper-lockfile
 * (mkdir, owner file, heartbeat), or rejects (ELOCKED when it is held) having forgotten the token.
 */
export async function lockGeneration(
  ctx: LockContext,
  paths: LockPaths,
  handle: Handle,
  opts: AcquireOptions,
): Promise<void> {
  if (opts.onCompromised) handle.onCompromised(opts.onCompromised);
  own(paths.lockDir, handle.token);
  try {
    handle.unlock = await lockfile.lock(paths.target, {
      stale: ctx.staleMs,
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

export async function record(ctx: LockContext, paths: LockPaths, event: LockEvent): Promise<void> {
  try {
    await appendEvent(paths.events, event);
  } catch (err) {
    ctx.logger.warn(`could not record ${event.type} in ${paths.events}: ${errorMessage(err)}`);
  }
}

export function dirError(ctx: LockContext, err: unknown): Error {
  const code = errCode(err);
  if (code && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOENT', 'ENOSPC', 'EDQUOT'].includes(code)) {
    return new LockDirError(`lock folder ${ctx.dir} is not writable: ${code}`, code);
  }
  return err as Error;
}
/** This process as the holder of generation `token`. */
export function newHolder(token: string, why: string | undefined, extra: Partial<LockHolder>): LockHolder {
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
