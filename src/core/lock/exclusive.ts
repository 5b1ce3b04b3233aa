import { randomUUID } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { FifoTurns, TurnTimeout } from './fifo';
import { abandon, Handle, writeHolder } from './handle';
import { readGeneration, removeGeneration, removeUnowned } from './generation';
import { summarize, type LockTakeover } from './metadata';
import { lockPaths, type LockPaths } from './names';
import { currentIdentity } from './process';
import { errCode, metaOf } from './holders';
import { DEFAULT_ACQUIRE_TIMEOUT_MS, type AcquireOptions } from './types';
import { ReleaseWaker } from './wake';
import {
  dirError,
  ensureDir,
  inspect,
  lockGeneration,
  newHolder,
  record,
  retryWait,
  judgeStale,
  type LockContext,
} from './common';
import { timeoutError } from './report';

/** Turns inside this process, shared by every LockManager so two managers on one folder also queue. */
const turns = new FifoTurns();

type Attempt = { kind: 'acquired'; handle: Handle } | { kind: 'busy' };

/** Takes the exclusive lock directory (shared holders aside). */
export async function take(ctx: LockContext, name: string, opts: AcquireOptions): Promise<Handle> {
  const paths = lockPaths(ctx.dir, name);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS;
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be 0 or more (got ${opts.timeoutMs})`);
  const started = Date.now();
  const deadline = started + timeoutMs;
  let endTurn: () => void;
  const turnTaken = turns.isHeld(resolve(paths.lockDir));
  try {
    endTurn = await turns.take(resolve(paths.lockDir), opts.signal, deadline);
  } catch (err) {
    if (err instanceof TurnTimeout) throw await timeoutError(ctx, name, started);
    throw err;
  }
  let waker: ReleaseWaker | undefined;
  try {
    await ensureDir(ctx);
    for (let attempt = 0; ; attempt++) {
      opts.signal?.throwIfAborted();
      const result = await tryOnce(ctx, name, paths, opts, endTurn);
      if (result.kind === 'acquired') {
        result.handle.waitedMs = Date.now() - started;
        result.handle.contended = turnTaken || attempt > 0 || !!result.handle.holder?.takeover;
        return result.handle;
      }
      const left = deadline - Date.now();
      if (timeoutMs === 0 || left <= 0) throw await timeoutError(ctx, name, started);
      waker ??= new ReleaseWaker(ctx.dir, basename(paths.lockDir));
      await waker.sleep(Math.min(left, retryWait(ctx, attempt)), opts.signal);
    }
  } catch (err) {
    endTurn();
    throw err;
  } finally {
    waker?.close();
  }
}

/** One try: take the lock (reclaiming it if stale), write metadata, verify we own it. */
async function tryOnce(
  ctx: LockContext,
  name: string,
  paths: LockPaths,
  opts: AcquireOptions,
  endTurn: () => void,
): Promise<Attempt> {
  let takeover: LockTakeover | undefined;
  for (let tries = 0; ; tries++) {
    const handle = new Handle(name, randomUUID(), paths, ctx.staleMs, endTurn, ctx.logger);
    try {
      await lockGeneration(ctx, paths, handle, opts);
    } catch (err) {
      if (errCode(err) !== 'ELOCKED') throw dirError(ctx, err);
      if (tries > 0) return { kind: 'busy' };
      takeover = await reclaimIfStale(ctx, paths);
      if (!takeover) return { kind: 'busy' };
      continue;
    }
    return claim(ctx, name, paths, handle, opts, takeover);
  }
}

/** Writes our metadata, then checks that the generation on disk is still ours. */
async function claim(
  ctx: LockContext,
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
  await writeHolder(paths, name, ctx.staleMs, handle.holder, ctx.logger);
  const gen = await readGeneration(paths.lockDir).catch(() => undefined);
  if (gen?.state !== 'held' || gen.token !== handle.token) {
    // Reclaimed from under us between our mkdir and now (a stall longer than the stale
    // period): it is someone else's now. Forget ours without removing anything.
    ctx.logger.warn(`lock "${name}": lost the lock right after taking it; retrying`);
    await abandon(paths, handle.token);
    return { kind: 'busy' };
  }
  if (takeover) ctx.logger.info(`lock "${name}" taken over: ${takeover.reason}`);
  return { kind: 'acquired', handle };
}

/**
 * The lock is held: if its holder is stale or dead, remove exactly the generation judged
 * (fenced: a newer holder is never touched, however long this process stalls in between) and
 * record the takeover, whoever then wins the lock.
 */
async function reclaimIfStale(ctx: LockContext, paths: LockPaths): Promise<LockTakeover | undefined> {
  const [gen, read] = await inspect(ctx, paths);
  if (gen.state === 'free') return { at: new Date().toISOString(), reason: 'released meanwhile' };
  const meta = metaOf(gen, read);
  const reason = judgeStale(ctx, gen, meta);
  if (!reason) return undefined;
  if (gen.state === 'held') {
    if (
      !(await removeGeneration(paths.lockDir, gen.token).catch((err: unknown) =>
        Promise.reject(dirError(ctx, err)),
      ))
    )
      return undefined;
  } else {
    await removeUnowned(paths.lockDir, gen).catch((err: unknown) => Promise.reject(dirError(ctx, err)));
  }
  const takeover: LockTakeover = {
    at: new Date().toISOString(),
    reason,
    ...(meta ? { previous: summarize(meta.holder) } : {}),
  };
  await record(ctx, paths, {
    type: 'takeover',
    at: takeover.at,
    by: currentIdentity(),
    reason,
    previous: takeover.previous,
  });
  return takeover;
}
