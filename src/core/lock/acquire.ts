import { promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { formatDuration } from '../util/duration';
import { readGeneration } from './generation';
import type { Handle } from './handle';
import { describeHolder, holderKey, metaOf } from './holders';
import type { LockHolder } from './metadata';
import { lockPaths, type LockPaths } from './names';
import { before, describeTicket, readQueue, Ticket, type QueuedTicket } from './queue';
import { DEFAULT_ACQUIRE_TIMEOUT_MS, LockTimeoutError, type AcquireOptions } from './types';
import { ReleaseWaker } from './wake';
import { ensureDir, inspect, judgeStale, retryWait, type LockContext } from './common';
import { tryTake } from './exclusive';
import { drainShared, join } from './shared';
import { sharedHolders } from './members';
import { timeoutError } from './report';
import { traceMark } from '../util/trace';

/** Why an attempt did not get the lock: what the ticket says, and the error if time is up. */
interface Wait {
  waitingFor: string;
  blockedBy?: string[];
  reserved?: boolean;
  timeout(started: number): Promise<LockTimeoutError> | LockTimeoutError;
}

type Attempt = { handle: Handle } | { wait: Wait };

/** Everything one acquisition works with. */
interface Acquisition {
  ctx: LockContext;
  name: string;
  paths: LockPaths;
  opts: AcquireOptions;
  deadline: number;
  ticket?: Ticket;
  /** The last refusal by admission, and when. */
  refused?: { wait: Wait; at: number };
}

/**
 * Acquires in either mode through the queue: take a ticket, then on every change (a release, a
 * waiter leaving; or after a retry interval) try if the queue lets this waiter try now, and
 * record what it waits for otherwise. The queue only orders the waiters: mutual exclusion is the
 * lock's own (the exclusive directory, the turnstile, the drain), whatever the queue says.
 *
 * Order rule: the first in line tries. A shared waiter further back may try first only when
 * every waiter ahead of it is a shared one that its own admission refused for room (an exclusive
 * waiter is never passed: writer preference) beside the very holders still in (a holder that has
 * left since makes that verdict old: it must be judged again first), and none of them is
 * reserved. A refused waiter that would fit if only the holders that went ahead of it were gone
 * is reserved: nobody else passes it, so it goes in as soon as they finish.
 */
export async function acquireQueued(ctx: LockContext, name: string, opts: AcquireOptions): Promise<Handle> {
  const mode = opts.mode ?? 'exclusive';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS;
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be 0 or more (got ${opts.timeoutMs})`);
  opts.signal?.throwIfAborted();
  const started = Date.now();
  const a: Acquisition = { ctx, name, paths: lockPaths(ctx.dir, name), opts, deadline: started + timeoutMs };
  // Synchronously up to here: callers in one process line up in the order they called.
  const request = {
    ctx,
    paths: a.paths,
    name,
    mode,
    extra: {
      ...(opts.keeper ? { keeper: true } : {}),
      ...(opts.needs ? { needs: opts.needs } : {}),
      ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
    },
    why: opts.why,
  };
  const enter = (prepare: () => Promise<void> = async () => undefined): Promise<Ticket | undefined> =>
    Ticket.enter(request, prepare);
  a.ticket = await enter(async () => {
    await ensureDir(ctx);
    await fsp.mkdir(a.paths.shared).catch(() => undefined);
  });
  traceMark('lock-queued', { lock: name, mode });
  const waker = new ReleaseWaker(
    [{ dir: ctx.dir, entry: basename(a.paths.lockDir) }, { dir: a.paths.shared }, { dir: a.paths.queue }],
    undefined,
    true,
  );
  let waited = false;
  try {
    for (let attempt = 0; ; attempt++) {
      opts.signal?.throwIfAborted();
      if (a.ticket?.lost) {
        ctx.logger.warn(`lock "${name}": this waiter's ticket was removed (judged gone): queueing again`);
        await a.ticket.leave();
        a.ticket = await enter();
      }
      const mine = a.ticket?.fields;
      const ahead = mine
        ? (await readQueue(ctx, a.paths, true)).filter((t) =>
            before({ ...t.meta.queue, token: t.token }, mine),
          )
        : [];
      const r = mode === 'exclusive' ? await exclusiveAttempt(a, ahead) : await sharedAttempt(a, ahead);
      if ('handle' in r) {
        r.handle.waitedMs = Date.now() - started;
        if (waited && mode === 'exclusive') r.handle.contended = true;
        traceMark('lock-acquired', { lock: name, mode });
        return r.handle;
      }
      waited = true;
      await a.ticket?.update(r.wait);
      const left = a.deadline - Date.now();
      if (timeoutMs === 0 || left <= 0) throw await r.wait.timeout(started);
      await waker.sleep(Math.min(left, retryWait(ctx, attempt)), opts.signal);
    }
  } finally {
    waker.close();
    await a.ticket?.leave();
  }
}

/** An exclusive waiter tries only first in line; holding the lock, it waits for the shared holders to drain. */
async function exclusiveAttempt(a: Acquisition, ahead: QueuedTicket[]): Promise<Attempt> {
  if (ahead.length) return { wait: behind(a, ahead) };
  const handle = await tryTake(a.ctx, a.name, a.opts);
  if (!handle) return { wait: await turnstileBusy(a) };
  if (handle.holder?.takeover) handle.contended = true;
  try {
    await drainShared(a.ctx, a.name, handle, a.deadline, a.opts, async () => {
      handle.contended = true;
      await a.ticket?.update({ waitingFor: 'the shared holders to drain' });
    });
  } catch (err) {
    await handle.release();
    throw err;
  }
  return { handle };
}

/**
 * A shared waiter: asks its admission outside the turnstile first (a slow look at the
 * environment happens there), then takes the turnstile for a moment and asks again beside the
 * holders as they are then, joining if it fits.
 */
async function sharedAttempt(a: Acquisition, ahead: QueuedTicket[]): Promise<Attempt> {
  // A live exclusive holder in (or one being admitted): no use looking at the environment yet.
  // A stale one is taken over by the turnstile attempt below.
  const held = await liveTurnstile(a);
  if (held) return { wait: held };
  const outside = live(await sharedHolders(a.ctx, a.paths, false));
  if (whoKeepsItBack(ahead, outside)) {
    // Next in line: look at the environment now, so that its turn costs no wait for a sample.
    if (ahead.length === 1 && ahead[0]?.meta.queue.mode === 'shared') await a.opts.admit?.(outside);
    return { wait: behind(a, ahead) };
  }
  const known = unchangedRefusal(a, ahead, outside);
  if (known) return { wait: known };
  traceMark('admit-start', { lock: a.name, where: 'outside' });
  const pre = await refusal(a, outside);
  traceMark('admit-end', { lock: a.name, where: 'outside', fits: !pre });
  if (pre) return { wait: pre };
  const gate = await tryTake(a.ctx, a.name, {
    why: `admitting a shared holder${a.opts.why ? `: ${a.opts.why}` : ''}`,
  });
  if (!gate) return { wait: await turnstileBusy(a) };
  try {
    const mine = a.ticket?.fields;
    const [holders, queue] = await Promise.all([
      sharedHolders(a.ctx, a.paths, true).then(live),
      mine ? readQueue(a.ctx, a.paths, false) : Promise.resolve([]),
    ]);
    const nowAhead = mine ? queue.filter((t) => before({ ...t.meta.queue, token: t.token }, mine)) : [];
    if (whoKeepsItBack(nowAhead, holders)) return { wait: behind(a, nowAhead) };
    const refused = await refusal(a, holders);
    if (refused) return { wait: refused };
    const member = await join(
      a.ctx,
      a.name,
      a.paths,
      a.opts,
      nowAhead.map((t) => t.token),
    );
    const gen = await readGeneration(a.paths.lockDir).catch(() => undefined);
    // Joined while the turnstile was still ours: any exclusive holder after us sees us.
    if (!gate.compromised && gen?.state === 'held' && gen.token === gate.token) return { handle: member };
    await member.release();
    return {
      wait: {
        waitingFor: 'the turnstile was lost while joining',
        timeout: noRoom(a, 'the turnstile was lost while joining'),
      },
    };
  } finally {
    await gate.release();
  }
}

function live(r: { holders: { holder?: LockHolder }[] }): LockHolder[] {
  return r.holders.flatMap((m) => (m.holder ? [m.holder] : []));
}

/**
 * The first waiter ahead that this shared waiter may not pass, if any: an exclusive one, one
 * that is trying (not refused), a reserved one, or one refused beside a holder that has left
 * or changed its needs since (it must be judged again).
 */
function whoKeepsItBack(ahead: QueuedTicket[], holders: LockHolder[]): QueuedTicket | undefined {
  const tokens = new Set(holders.map(holderKey));
  return ahead.find((t) => {
    const q = t.meta.queue;
    return q.mode !== 'shared' || !q.blockedBy || q.reserved || q.blockedBy.some((tok) => !tokens.has(tok));
  });
}

/** How long a refusal stands while no holder has left: room freed by load outside the lock shows after this. */
const REJUDGE_MS = 2_000;

/**
 * A refusal that still stands without asking admission again (so without a look at the
 * environment): admission only refuses more as holders join, so while every holder this waiter
 * was refused beside is still in (for up to REJUDGE_MS), its answer stays; and a waiter that needs
 * at least as much of everything as a shared waiter ahead refused beside the same holders would
 * be refused too.
 */
function unchangedRefusal(a: Acquisition, ahead: QueuedTicket[], holders: LockHolder[]): Wait | undefined {
  const tokens = new Set(holders.map(holderKey));
  const still = (blockedBy: readonly string[] | undefined): boolean =>
    !!blockedBy && blockedBy.every((t) => tokens.has(t));
  const last = a.refused;
  if (last && still(last.wait.blockedBy) && Date.now() - last.at < REJUDGE_MS) return last.wait;
  const needs = a.opts.needs;
  if (!needs) return undefined;
  const bigger = ahead.find(
    (t) =>
      still(t.meta.queue.blockedBy) &&
      t.meta.holder.needs !== undefined &&
      Object.entries(t.meta.holder.needs).every(([k, v]) => (needs[k] ?? 0) >= v),
  );
  if (!bigger) return undefined;
  const reason = `no less than ${describeTicket(bigger)}, which has no room (${bigger.meta.queue.waitingFor})`;
  return { waitingFor: reason, blockedBy: [...tokens], timeout: noRoom(a, reason) };
}

/**
 * Why admission refuses this waiter beside `holders`, or undefined when it fits. A refused
 * waiter that some holders passed, and that would fit without them, is reserved.
 */
async function refusal(a: Acquisition, holders: LockHolder[]): Promise<Wait | undefined> {
  const reason = await a.opts.admit?.(holders);
  if (reason === undefined) return undefined;
  const token = a.ticket?.token;
  const passers = token ? holders.filter((h) => h.passed?.includes(token)) : [];
  const reserved =
    passers.length > 0 &&
    (await a.opts.admit?.(
      holders.filter((h) => !passers.includes(h)),
      passers,
    )) === undefined;
  const wait: Wait = {
    waitingFor: reserved
      ? `the ${passers.length} shared holder${passers.length === 1 ? '' : 's'} that went ahead of it to finish (reserved: nobody else goes first); ${reason}`
      : reason,
    blockedBy: holders.map(holderKey),
    ...(reserved ? { reserved } : {}),
    timeout: noRoom(a, reason),
  };
  a.refused = { wait, at: Date.now() };
  return wait;
}

function noRoom(a: Acquisition, reason: string): Wait['timeout'] {
  return (started) =>
    new LockTimeoutError(
      `lock "${a.name}": no room for another shared holder (${reason}); ${tried(a, started)} (folder ${a.ctx.dir})`,
      a.name,
    );
}

function tried(a: Acquisition, started: number): string {
  return a.opts.timeoutMs === 0 ? 'tried once' : `gave up after ${formatDuration(Date.now() - started)}`;
}

/** Waiting behind earlier waiters. */
function behind(a: Acquisition, ahead: QueuedTicket[]): Wait {
  const first = ahead[0] as QueuedTicket;
  const n = ahead.length;
  const what = `${n} earlier waiter${n === 1 ? '' : 's'} (first ${describeTicket(first)}, waiting for ${first.meta.queue.waitingFor})`;
  return {
    waitingFor: `its turn behind ${what}`,
    timeout: (started) =>
      new LockTimeoutError(
        `lock "${a.name}" has ${what} queued ahead; ${tried(a, started)} (folder ${a.ctx.dir})`,
        a.name,
        first.meta.holder,
      ),
  };
}

/** The exclusive lock directory is taken: by an exclusive holder, or a shared waiter being admitted. */
async function turnstileBusy(a: Acquisition): Promise<Wait> {
  return (
    (await liveTurnstile(a)) ?? {
      waitingFor: 'another caller in this process',
      timeout: (started) => timeoutError(a.ctx, a.name, started),
    }
  );
}

/** What holds the exclusive lock directory when a live holder does (undefined: free or stale). */
async function liveTurnstile(a: Acquisition): Promise<Wait | undefined> {
  const [gen, read] = await inspect(a.ctx, a.paths);
  if (gen.state === 'free') return undefined;
  const meta = metaOf(gen, read);
  if (judgeStale(a.ctx, gen, meta)) return undefined;
  const waitingFor = !meta
    ? 'the exclusive holder (unknown: no readable metadata)'
    : meta.holder.why.startsWith('admitting a shared holder')
      ? `a shared holder being admitted (${describeHolder(meta.holder)})`
      : `exclusive holder ${describeHolder(meta.holder)}`;
  return { waitingFor, timeout: (started) => timeoutError(a.ctx, a.name, started) };
}
