import type Docker from 'dockerode';
import type { DockerClient } from '../docker/client';
import { DockerUnreachableError, isNotFound } from '../docker/client';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import { formatBytes } from '../util/duration';
import { mapLimit } from '../util/pool';
import { containerFact } from './plan';
import { BUSY_STATES, type ContainerFact } from './facts';
import { describeHolders } from './rules';
import type { CleanupPlan, CleanupReport, PlanEntry, ResourceType } from './types';
import { DEFAULT_CONCURRENCY } from './types';

export interface ExecuteOptions {
  /** Removals in flight at once, per resource type. Default 4. */
  concurrency?: number;
  logger?: Logger;
  /**
   * Ask the daemon for each container's writable-layer size when re-inspecting it before
   * removal (`size=true` on one container: it walks that container's own layer only), so the
   * report can say how many bytes were reclaimed. Default true.
   */
  measureBytes?: boolean;
}

/** A removal call can outlast the client's default timeout on a busy daemon. */
const REMOVE_TIMEOUT_MS = 30_000;
/** Seconds an orphan gets to exit on SIGTERM before the daemon kills it. */
const STOP_GRACE_S = 2;
const ORDER: readonly ResourceType[] = ['container', 'network', 'volume', 'image'];

type Outcome = { kind: 'removed'; bytes?: number; note?: string } | { kind: 'kept'; reason: string };

/**
 * Removes what a plan selected: containers, then networks, then volumes, then images, with
 * bounded parallelism. Each resource is re-checked just before its removal: one that started,
 * got attached or mounted, or was recreated since planning is kept, with the reason. NotFound
 * counts as done. The report's `kept` holds the plan's kept entries plus those kept here.
 */
export async function executeCleanup(
  client: DockerClient,
  plan: CleanupPlan,
  opts: ExecuteOptions = {},
): Promise<CleanupReport> {
  const started = performance.now();
  const logger = opts.logger ?? silentLogger;
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`concurrency must be a whole number >= 1 (got ${concurrency})`);
  const measureBytes = opts.measureBytes ?? true;
  const removed: PlanEntry[] = [];
  const kept: PlanEntry[] = [...plan.keep];
  const failed: PlanEntry[] = [];
  let unreachable: DockerUnreachableError | undefined;
  // Mounts and attachments as they are after the containers are gone; refreshed once per stage.
  let containersNow: ContainerFact[] = [];

  const attempt = async (entry: PlanEntry, fn: () => Promise<Outcome>): Promise<void> => {
    if (unreachable) {
      failed.push({ ...entry, reason: `not attempted: ${unreachable.message}` });
      return;
    }
    try {
      const outcome = await fn();
      if (outcome.kind === 'kept') {
        kept.push({ ...entry, reason: outcome.reason });
        logger.info(`kept ${entry.type} ${entry.name}: ${outcome.reason}`);
      } else {
        const done: PlanEntry = {
          ...entry,
          reason: outcome.note ? `${entry.reason} (${outcome.note})` : entry.reason,
        };
        if (outcome.bytes !== undefined) done.bytes = outcome.bytes;
        else delete done.bytes;
        removed.push(done);
        logger.debug(`removed ${entry.type} ${entry.name}`);
      }
    } catch (err) {
      if (err instanceof DockerUnreachableError) unreachable = err;
      failed.push({ ...entry, reason: describeError(err) });
      logger.warn(`could not remove ${entry.type} ${entry.name}: ${describeError(err)}`);
    }
  };

  for (const type of ORDER) {
    const entries = plan.remove.filter((e) => e.type === type);
    if (entries.length === 0) continue;
    if (type !== 'container' && !unreachable) {
      try {
        containersNow = (await client.listContainers()).map(containerFact);
      } catch (err) {
        if (err instanceof DockerUnreachableError) unreachable = err;
        else throw err;
      }
    }
    const remover = removers[type];
    await mapLimit(entries, concurrency, (e) =>
      attempt(e, () => remover(client, e, { measureBytes, containersNow })),
    );
  }

  const known = removed.filter((e) => e.bytes !== undefined);
  const report: CleanupReport = {
    daemon: plan.daemon,
    removed,
    kept,
    failed,
    durationMs: Math.round(performance.now() - started),
  };
  if (known.length) report.bytesReclaimed = known.reduce((sum, e) => sum + (e.bytes ?? 0), 0);
  logger.info(
    `cleanup of ${plan.endpoint}: removed ${removed.length}, kept ${kept.length}, failed ${failed.length}` +
      (report.bytesReclaimed !== undefined ? `, ${formatBytes(report.bytesReclaimed)} reclaimed` : ''),
  );
  return report;
}

interface StageContext {
  measureBytes: boolean;
  containersNow: ContainerFact[];
}

type Remover = (client: DockerClient, e: PlanEntry, ctx: StageContext) => Promise<Outcome>;

const GONE: Outcome = { kind: 'removed', note: 'already gone' };

function holders(containers: ContainerFact[], uses: (c: ContainerFact) => boolean): string | undefined {
  const found = containers.filter(uses);
  return found.length ? describeHolders(found) : undefined;
}

type Call<T> = (api: Docker, abortSignal: AbortSignal) => Promise<T>;

/** Inspect, mapping NotFound to undefined. */
async function inspectOrGone<T>(client: DockerClient, what: string, fn: Call<T>): Promise<T | undefined> {
  try {
    return await client.call(what, fn);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Runs a removal. NotFound means someone else removed it: done. A conflict means it is in use
 * after all (the daemon refuses to remove a running container, a mounted volume, a used image):
 * kept, never forced.
 */
async function removeOrKeep(
  client: DockerClient,
  what: string,
  fn: Call<unknown>,
  bytes?: number,
): Promise<Outcome> {
  try {
    await client.call(what, fn, { timeoutMs: REMOVE_TIMEOUT_MS });
    return { kind: 'removed', bytes };
  } catch (err) {
    if (isNotFound(err)) return GONE;
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 409 || (status === 403 && /active endpoints/i.test(describeError(err)))) {
      return { kind: 'kept', reason: `in use at removal: ${describeError(err)}` };
    }
    throw err;
  }
}

const removers: Record<ResourceType, Remover> = {
  async container(client, e, { measureBytes }) {
    const info = await inspectOrGone(client, 'inspect container', (api, abortSignal) =>
      api.getContainer(e.id).inspect({ size: measureBytes, abortSignal } as object),
    );
    if (!info) return GONE;
    const state = info.State?.Status ?? 'unknown';
    if (BUSY_STATES.has(state)) {
      // Only an orphan of a run whose process is gone is stopped; anything else busy stays.
      if (!e.stopFirst || state === 'removing')
        return { kind: 'kept', reason: `${state === 'running' ? 'started' : state} since planning` };
      await stopContainer(client, e.id, state);
    }
    const sizeRw = (info as { SizeRw?: number }).SizeRw;
    // v=false: anonymous volumes are planned as volumes of their own and removed in the volume
    // stage after their own checks (protect label, age, no other user), never along with this.
    const remove: Call<unknown> = (api, abortSignal) =>
      api.getContainer(e.id).remove({ v: false, force: false, abortSignal });
    return removeOrKeep(
      client,
      'remove container',
      remove,
      measureBytes && typeof sizeRw === 'number' ? sizeRw : undefined,
    );
  },

  async network(client, e, { containersNow }) {
    // dockerode forwards no abort signal for a network inspect; client.call's timer still bounds it.
    const info = await inspectOrGone(client, 'inspect network', (api) => api.getNetwork(e.id).inspect());
    if (!info) return GONE;
    const endpoints = Object.values(
      (info as { Containers?: Record<string, { Name?: string }> }).Containers ?? {},
    );
    if (endpoints.length)
      return { kind: 'kept', reason: `attached to ${endpoints[0]?.Name ?? 'a container'} since planning` };
    const by = holders(containersNow, (c) => c.networks.includes(e.id) || c.networks.includes(e.name));
    if (by) return { kind: 'kept', reason: `attached to ${by} since planning` };
    return removeOrKeep(client, 'remove network', (api, abortSignal) =>
      api.getNetwork(e.id).remove({ abortSignal }),
    );
  },

  async volume(client, e, { containersNow }) {
    const info = await inspectOrGone(client, 'inspect volume', (api, abortSignal) =>
      api.getVolume(e.id).inspect({ abortSignal } as object),
    );
    if (!info) return GONE;
    const createdAt = (info as { CreatedAt?: string }).CreatedAt;
    if (e.createdAt && createdAt !== e.createdAt)
      return { kind: 'kept', reason: `recreated since planning (created ${createdAt})` };
    const by = holders(containersNow, (c) => c.volumeNames.includes(e.id));
    if (by) return { kind: 'kept', reason: `mounted by ${by} since planning` };
    return removeOrKeep(client, 'remove volume', (api, abortSignal) =>
      api.getVolume(e.id).remove({ force: false, abortSignal }),
    );
  },

  async image(client, e, { containersNow }) {
    const info = await inspectOrGone(client, 'inspect image', (api) => api.getImage(e.id).inspect());
    if (!info) return GONE;
    const by = holders(containersNow, (c) => c.imageId === e.id);
    if (by) return { kind: 'kept', reason: `used by ${by} since planning` };
    const remove: Call<unknown> = (api, abortSignal) =>
      api.getImage(e.id).remove({ force: false, noprune: false, abortSignal });
    return removeOrKeep(client, 'remove image', remove, e.bytes);
  },
};

/** Stops an orphan (a paused one is unpaused first, or the stop cannot end it); NotFound and 304 are fine. */
async function stopContainer(client: DockerClient, id: string, state: string): Promise<void> {
  try {
    if (state === 'paused') await client.call('unpause container', (api) => api.getContainer(id).unpause());
    await client.call(
      'stop container',
      (api, abortSignal) => api.getContainer(id).stop({ t: STOP_GRACE_S, abortSignal }),
      {
        timeoutMs: REMOVE_TIMEOUT_MS,
      },
    );
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (!isNotFound(err) && status !== 304) throw err;
  }
}

/** The daemon's own message when it gave one ("You cannot remove a running container…"). */
export function describeError(err: unknown): string {
  const e = err as { json?: { message?: string }; reason?: string; message?: string; statusCode?: number };
  const text = e?.json?.message ?? e?.message ?? String(err);
  return e?.statusCode ? `${text} (HTTP ${e.statusCode})` : text;
}
