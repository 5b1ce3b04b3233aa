import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { formatDuration } from '../util/duration';
import { Handle, writeHolder } from './handle';
import { lockPaths, type LockPaths } from './names';
import { describeHolder, memberPaths } from './holders';
import { LockDirError, LockTimeoutError, type AcquireOptions } from './types';
import { ReleaseWaker } from './wake';
import { dirError, lockGeneration, newHolder, retryWait, type LockContext } from './common';
import { sharedHolders } from './members';

/**
 * Joins the shared holders: a lock of our own, `<name>.shared/<token>.lock`, heartbeating like
 * any other. `passed`: the tickets of earlier waiters it goes ahead of.
 */
export async function join(
  ctx: LockContext,
  name: string,
  paths: LockPaths,
  opts: AcquireOptions,
  passed: string[],
): Promise<Handle> {
  try {
    await fsp.mkdir(paths.shared, { recursive: true });
  } catch (err) {
    throw dirError(ctx, err);
  }
  const token = randomUUID();
  const mp = memberPaths(paths, token);
  const handle = new Handle(name, token, mp, ctx.staleMs, () => undefined, ctx.logger);
  try {
    await lockGeneration(ctx, mp, handle, opts);
  } catch (err) {
    throw dirError(ctx, err);
  }
  handle.holder = newHolder(token, opts.why, {
    mode: 'shared',
    ...(opts.needs ? { needs: opts.needs } : {}),
    ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
    ...(passed.length ? { passed } : {}),
  });
  await writeHolder(mp, name, ctx.staleMs, handle.holder, ctx.logger);
  return handle;
}

/** Holding the exclusive lock, waits until no shared holder is left (stale ones are reclaimed). */
export async function drainShared(
  ctx: LockContext,
  name: string,
  handle: Handle,
  deadline: number,
  opts: AcquireOptions,
  onWait?: () => Promise<void>,
): Promise<void> {
  const paths = lockPaths(ctx.dir, name);
  let waker: ReleaseWaker | undefined;
  const started = Date.now();
  try {
    for (let attempt = 0; ; attempt++) {
      const { holders: live, reclaimed } = await sharedHolders(ctx, paths, true);
      if (live.length === 0) {
        if (attempt > 0 || reclaimed > 0) handle.contended = true;
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0 || opts.timeoutMs === 0) {
        const who = live.map((m) => (m.holder ? describeHolder(m.holder) : 'an unknown holder')).join(', ');
        throw new LockTimeoutError(
          `lock "${name}" is held in shared mode by ${who}; ${opts.timeoutMs === 0 ? 'tried once' : `gave up after ${formatDuration(Date.now() - started)}`} (folder ${ctx.dir})`,
          name,
          live[0]?.holder,
        );
      }
      if (handle.compromised)
        throw new LockDirError(`lock "${name}" was lost while waiting for its shared holders to finish`);
      if (!waker) await onWait?.();
      waker ??= new ReleaseWaker(paths.shared, undefined, true);
      await waker.sleep(Math.min(left, retryWait(ctx, attempt)), opts.signal);
    }
  } finally {
    waker?.close();
  }
}
