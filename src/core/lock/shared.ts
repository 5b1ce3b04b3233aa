import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { formatDuration } from '../util/duration';
import { Handle, writeHolder } from './handle';
import { readGeneration } from './generation';
import { lockPaths, type LockPaths } from './names';
import { describeHolder, memberPaths } from './holders';
import { DEFAULT_ACQUIRE_TIMEOUT_MS, LockDirError, LockTimeoutError, type AcquireOptions } from './types';
import { ReleaseWaker } from './wake';
import { dirError, lockGeneration, newHolder, retryWait, type LockContext } from './common';
import { take } from './exclusive';
import { sharedHolders } from './members';

/**
 * Shared mode: take the exclusive lock for a moment as a turnstile (so no exclusive holder can
 * be between its drain and its run), judge the shared holders in, join them as a lock of our
 * own in `<name>.shared/` if `admit` agrees, then let the turnstile go.
 */
export async function acquireShared(ctx: LockContext, name: string, opts: AcquireOptions): Promise<Handle> {
  const paths = lockPaths(ctx.dir, name);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS;
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be 0 or more (got ${opts.timeoutMs})`);
  const started = Date.now();
  const deadline = started + timeoutMs;
  let waker: ReleaseWaker | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      const gate = await take(ctx, name, {
        why: `admitting a shared holder${opts.why ? `: ${opts.why}` : ''}`,
        timeoutMs: Math.max(0, deadline - Date.now()),
        signal: opts.signal,
      });
      let waitReason: string | undefined;
      try {
        const { holders: live } = await sharedHolders(ctx, paths, true);
        waitReason = await opts.admit?.(live.flatMap((m) => (m.holder ? [m.holder] : [])));
        if (waitReason === undefined) {
          const member = await join(ctx, name, paths, opts);
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
          `lock "${name}": no room for another shared holder (${waitReason}); ${timeoutMs === 0 ? 'tried once' : `gave up after ${formatDuration(Date.now() - started)}`} (folder ${ctx.dir})`,
          name,
        );
      }
      waker ??= new ReleaseWaker(paths.shared);
      await waker.sleep(Math.min(left, retryWait(ctx, attempt + 3)), opts.signal);
    }
  } finally {
    waker?.close();
  }
}

/** Joins the shared holders: a lock of our own, `<name>.shared/<token>.lock`, heartbeating like any other. */
async function join(ctx: LockContext, name: string, paths: LockPaths, opts: AcquireOptions): Promise<Handle> {
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
      waker ??= new ReleaseWaker(paths.shared);
      await waker.sleep(Math.min(left, retryWait(ctx, attempt)), opts.signal);
    }
  } finally {
    waker?.close();
  }
}
