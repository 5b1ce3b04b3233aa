import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { abandon, Handle, writeHolder } from './handle';
import { readGeneration, removeGeneration, removeUnowned } from './generation';
import { summarize, type LockTakeover } from './metadata';
import { lockPaths, type LockPaths } from './names';
import { currentIdentity } from './process';
import { errCode, metaOf } from './holders';
import type { AcquireOptions } from './types';
import { dirError, inspect, lockGeneration, newHolder, record, judgeStale, type LockContext } from './common';

/**
 * Lock directories a caller in this process is trying or holds, across every LockManager: two
 * callers in one process never race each other through the file system (their order is the
 * queue's).
 */
const taken = new Set<string>();

function takeTurn(key: string): (() => void) | undefined {
  if (taken.has(key)) return undefined;
  taken.add(key);
  let ended = false;
  return () => {
    if (!ended) taken.delete(key);
    ended = true;
  };
}

type Attempt = { kind: 'acquired'; handle: Handle } | { kind: 'busy' };

/**
 * One try at the exclusive lock directory (shared holders aside), reclaiming it if its holder is
 * stale: the handle, or undefined while someone (in this process or another) holds it. Waiting,
 * and the order of waiters, is the queue's (acquire.ts).
 */
export async function tryTake(
  ctx: LockContext,
  name: string,
  opts: AcquireOptions,
): Promise<Handle | undefined> {
  const paths = lockPaths(ctx.dir, name);
  const endTurn = takeTurn(resolve(paths.lockDir));
  if (!endTurn) return undefined;
  try {
    const result = await tryOnce(ctx, name, paths, opts, endTurn);
    if (result.kind === 'acquired') return result.handle;
  } catch (err) {
    endTurn();
    throw err;
  }
  endTurn();
  return undefined;
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
