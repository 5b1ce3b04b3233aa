import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../util/duration';
import { removeGeneration, removeUnowned } from './generation';
import { lastEvent, summarize, type LockHolder } from './metadata';
import { lockNameOfEntry, lockPaths, validateLockName, type LockPaths } from './names';
import { currentIdentity, hostId, isGroupAlive, isPidAlive, processStartTime, processState } from './process';
import { describeHolder, errCode, holderAlive, isPlanted, memberPaths, metaOf } from './holders';
import { LockDirError, LockTimeoutError, type LockStatus } from './types';
import { inspect, judgeStale, record, type LockContext } from './common';
import { sharedHolders } from './members';
import { queueStatus } from './queue';
import { errorMessage } from '../../shared/errors';

/** How long a forced release waits for a holder's command group to end after SIGTERM, before SIGKILL. */
const FORCE_TERM_GRACE_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every lock in the folder (held or with leftover metadata), or just `name`. */
export async function lockStatuses(ctx: LockContext, name?: string): Promise<LockStatus[]> {
  const names = name !== undefined ? [validateLockName(name)] : await lockNames(ctx);
  return Promise.all(names.map((n) => statusOf(ctx, n)));
}

async function statusOf(ctx: LockContext, name: string): Promise<LockStatus> {
  const paths = lockPaths(ctx.dir, name);
  const [[gen, read], forced, shared, queue] = await Promise.all([
    inspect(ctx, paths),
    lastEvent(paths.events, 'forced-release'),
    sharedHolders(ctx, paths, false).then((r) => r.holders),
    queueStatus(ctx, paths).catch(() => []),
  ]);
  const base: LockStatus = {
    name,
    held: false,
    stale: false,
    ...(forced ? { lastForcedRelease: forced } : {}),
    ...(shared.length ? { shared } : {}),
    ...(queue.length ? { queue } : {}),
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
  const reason = judgeStale(ctx, gen, meta);
  if (reason) {
    status.stale = true;
    status.staleReason = reason;
  }
  return status;
}

async function lockNames(ctx: LockContext): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fsp.readdir(ctx.dir);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return [];
    throw new LockDirError(
      `cannot read lock folder ${ctx.dir}: ${errCode(err) ?? errorMessage(err)}`,
      errCode(err),
    );
  }
  const names = new Set<string>();
  await Promise.all(
    entries.map(async (e) => {
      const n = lockNameOfEntry(e);
      if (!n) return;
      // Every waiter makes the shared and queue folders: empty, they say nothing about the lock.
      if (/\.(shared|queue)$/.test(e) && (await fsp.readdir(join(ctx.dir, e)).catch(() => [])).length === 0)
        return;
      names.add(n);
    }),
  );
  return [...names].sort();
}

/**
 * Removes a lock held by someone else. With `staleOnly` (the default) only a stale one; with
 * `staleOnly: false` also a live one. A live holder on this host whose command runs in a process
 * group of its own (`lock run`) has that group ended first (SIGTERM, then SIGKILL after 5 s), so
 * the next holder never overlaps it; a holder elsewhere is told at its next heartbeat. Only the
 * generation judged is removed. Who forced it and why is appended to `<name>.events.jsonl`.
 */
export async function forceRelease(
  ctx: LockContext,
  name: string,
  opts: { why?: string; staleOnly?: boolean } = {},
): Promise<{ released: boolean; previous?: LockHolder; reason: string }> {
  const paths = lockPaths(ctx.dir, name);
  const staleOnly = opts.staleOnly ?? true;
  const members = await releaseShared(ctx, paths, name, staleOnly, opts.why);
  const main = await forceReleaseExclusive(ctx, paths, name, staleOnly, opts.why);
  if (members === 0) return main;
  const also = `${members} shared holder${members === 1 ? '' : 's'} released`;
  return { ...main, released: true, reason: main.released ? `${main.reason}; ${also}` : also };
}

/** Removes stale shared holders, or with `staleOnly: false` every one (ending their command groups here first). */
async function releaseShared(
  ctx: LockContext,
  paths: LockPaths,
  name: string,
  staleOnly: boolean,
  why: string | undefined,
): Promise<number> {
  const { holders: live, reclaimed } = await sharedHolders(ctx, paths, true);
  let removed = reclaimed;
  if (staleOnly) return removed;
  for (const m of live) {
    if (!m.holder) continue;
    await endHolderGroup(ctx, m.holder);
    const mp = memberPaths(paths, m.holder.token);
    if (await removeGeneration(mp.lockDir, m.holder.token)) {
      removed++;
      await fsp.rm(mp.metadata, { recursive: true, force: true });
      await record(ctx, paths, {
        type: 'forced-release',
        at: new Date().toISOString(),
        by: currentIdentity(),
        reason: why ?? 'forced while the shared holder was alive',
        previous: summarize(m.holder),
      });
    }
  }
  ctx.logger.info(`force-released ${removed} shared holder(s) of lock "${name}"`);
  return removed;
}

async function forceReleaseExclusive(
  ctx: LockContext,
  paths: LockPaths,
  name: string,
  staleOnly: boolean,
  why: string | undefined,
): Promise<{ released: boolean; previous?: LockHolder; reason: string }> {
  const [gen, read] = await inspect(ctx, paths);
  if (gen.state === 'free') {
    const leftover = read.state !== 'missing' || (await isPlanted(paths.metadata));
    if (leftover) await removeMetadata(paths);
    return {
      released: false,
      reason: `lock "${name}" is not held${leftover ? ' (removed leftover metadata)' : ''}`,
    };
  }
  const meta = metaOf(gen, read);
  const previous = meta?.holder;
  const staleReason = judgeStale(ctx, gen, meta);
  if (staleOnly && !staleReason) {
    const status = await statusOf(ctx, name);
    const who = previous
      ? `${describeHolder(previous)} for ${formatDuration(status.ageMs ?? 0)}`
      : 'an unknown holder';
    return {
      released: false,
      previous,
      reason: `lock "${name}" is held by ${who} and is not stale (heartbeat ${formatDuration(status.heartbeatAgeMs ?? 0)} ago)`,
    };
  }
  if (!staleReason && previous) await endHolderGroup(ctx, previous);
  if (gen.state === 'held') await removeGeneration(paths.lockDir, gen.token);
  else await removeUnowned(paths.lockDir, gen);
  if (meta || read.state !== 'ok') await removeMetadata(paths);
  const reason = staleReason ? `stale: ${staleReason}` : 'forced while the holder was alive';
  await record(ctx, paths, {
    type: 'forced-release',
    at: new Date().toISOString(),
    by: currentIdentity(),
    reason: why ?? reason,
    previous: previous && summarize(previous),
  });
  ctx.logger.info(`force-released lock "${name}" (${reason})`);
  return { released: true, previous, reason };
}

/** Ends a live holder's command group on this host (verified by its recorded start time), waiting until it is gone. */
async function endHolderGroup(ctx: LockContext, h: LockHolder): Promise<void> {
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

async function removeMetadata(paths: LockPaths): Promise<void> {
  // rm, recursive: a directory planted at the metadata path must not make the lock unusable.
  // (rm removes a symlink itself, never what it points to.)
  await fsp.rm(paths.metadata, { recursive: true, force: true });
}

export async function timeoutError(
  ctx: LockContext,
  name: string,
  started: number,
): Promise<LockTimeoutError> {
  const [status] = await lockStatuses(ctx, name).catch(() => [] as LockStatus[]);
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
    `lock "${name}" is ${who}; ${tried} (folder ${ctx.dir})`,
    name,
    holder,
    heldFor,
  );
}
