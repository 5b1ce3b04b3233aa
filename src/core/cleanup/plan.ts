import type Docker from 'dockerode';
import type { DockerClient } from '../docker/client';
import { isNotFound } from '../docker/client';
import { Labels } from '../labels';
import { silentLogger } from '../log';
import { mapLimit } from '../util/pool';
import { hostId, isPidAlive } from '../lock/process';
import type { Logger } from '../log';
import { defaultRunsFile, RunStore, type RunState } from '../runs/records';
import { resolveOptions } from '../options/cleanup';
import {
  BUSY_STATES,
  type ContainerFact,
  type ImageFact,
  type NetworkFact,
  type Snapshot,
  type VolumeFact,
} from './facts';
import { carriesOwnershipLabel } from './ownership';
import { decide, inScope } from './rules';
import type { CleanupOptions, CleanupPlan, ResolvedCleanupOptions } from './types';
import { DEFAULT_CONCURRENCY } from './types';

/**
 * Lists what a cleanup pass would remove and what it keeps, each with its reason. Reads the
 * daemon with plain list calls (never `size=true`, which walks every layer: moby #33036) and
 * touches nothing.
 */
export async function planCleanup(
  client: DockerClient,
  opts: CleanupOptions = {},
  /** When the pass began (default now): nothing created at or after it is removed. */
  startedAt: Date = new Date(),
): Promise<CleanupPlan> {
  const options = resolveOptions(opts);
  const logger = opts.logger ?? silentLogger;
  const passStartedMs = startedAt.getTime();
  const [daemon, snapshot] = await Promise.all([
    client.identity(),
    takeSnapshot(client, options.scope, options.includeImages, passStartedMs),
  ]);
  await addOwnershipFacts(client, snapshot, options, logger);
  const { remove, keep } = decide(snapshot, options, passStartedMs, Date.now());
  logger.info(`cleanup plan for ${client.endpoint.host}: ${remove.length} to remove, ${keep.length} kept`);
  return {
    createdAt: new Date(passStartedMs).toISOString(),
    endpoint: client.endpoint.host,
    daemon,
    remove,
    keep,
    options,
  };
}

/** Label filters the daemon applies itself; the rules check the scope again. */
function scopeFilters(scope: Record<string, string>): Record<string, string[]> {
  const label = Object.entries(scope).map(([k, v]) => `${k}=${v}`);
  return label.length ? { label } : {};
}

/**
 * Reads every container (unscoped: a volume mounted or a reaper run by a container outside the
 * scope still counts) and the in-scope networks, volumes and dangling images.
 */
export async function takeSnapshot(
  client: DockerClient,
  scope: Record<string, string>,
  includeImages: boolean,
  passStartedMs: number,
): Promise<Snapshot> {
  const filters = scopeFilters(scope);
  const [containers, networks, volumes, images] = await Promise.all([
    client.listContainers(),
    client.listNetworks(filters),
    client.listVolumes(filters),
    includeImages
      ? client.call('list images', (api, abortSignal) =>
          api.listImages({
            filters: { ...filters, dangling: ['true'] },
            abortSignal,
          } as Docker.ListImagesOptions),
        )
      : Promise.resolve([]),
  ]);
  return {
    containers: await refineCreation(client, containers.map(containerFact), scope, passStartedMs),
    networks: networks.map(networkFact),
    volumes: volumes.map(volumeFact),
    images: images.map(imageFact),
  };
}

/**
 * The container list gives creation to the second. For in-scope containers created in the
 * second the pass began, ask for the exact time, so that one created just before the pass is
 * not mistaken for one created during it.
 */
async function refineCreation(
  client: DockerClient,
  facts: ContainerFact[],
  scope: Record<string, string>,
  passStartedMs: number,
): Promise<ContainerFact[]> {
  const refined = await mapLimit(facts, DEFAULT_CONCURRENCY, async (c) => {
    if (c.createdMs + c.createdResolutionMs - 1 < passStartedMs || !inScope(c.labels, scope)) return c;
    try {
      const info = await client.call('inspect container', (api, abortSignal) =>
        api.getContainer(c.id).inspect({ abortSignal } as object),
      );
      const exact = Date.parse(info.Created);
      return Number.isFinite(exact) ? { ...c, createdMs: exact, createdResolutionMs: 1 } : c;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
  return refined.filter((c): c is ContainerFact => c !== undefined);
}

const ANONYMOUS_VOLUME_NAME = /^[0-9a-f]{64}$/;

/**
 * What the rules need beyond the lists, for in-scope containers that carry an ownership label
 * (a handful of inspects, never one per container on the daemon): their image's labels (an
 * ownership label inherited from a LABEL line owns nothing), their anonymous volumes (removed
 * explicitly after their own checks, never through the container's `v=true`), and, for busy
 * ones owned by a run, whether that run's process is provably gone.
 */
async function addOwnershipFacts(
  client: DockerClient,
  snapshot: Snapshot,
  o: ResolvedCleanupOptions,
  logger: Logger,
): Promise<void> {
  const candidates = snapshot.containers.filter(
    (c) => inScope(c.labels, o.scope) && carriesOwnershipLabel(c.labels),
  );
  const images = new Map<string, Promise<Record<string, string> | undefined>>();
  const imageLabels = (id: string) => {
    let p = images.get(id);
    if (!p) {
      p = client
        .call('inspect image', (api) => api.getImage(id).inspect())
        .then((i) => labelsOf(i.Config?.Labels))
        .catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
      images.set(id, p);
    }
    return p;
  };
  await mapLimit(candidates, DEFAULT_CONCURRENCY, async (c) => {
    c.imageLabels = await imageLabels(c.imageId);
    if (c.volumeNames.some((v) => ANONYMOUS_VOLUME_NAME.test(v)))
      c.anonymousVolumes = await anonymousVolumes(client, c);
  });

  const listed = new Set(snapshot.volumes.map((v) => v.name));
  const missing = [...new Set(candidates.flatMap((c) => c.anonymousVolumes ?? []))].filter(
    (v) => !listed.has(v),
  );
  const found = await mapLimit(missing, DEFAULT_CONCURRENCY, async (name) => {
    try {
      return volumeFact(
        await client.call('inspect volume', (api, abortSignal) =>
          api.getVolume(name).inspect({ abortSignal } as object),
        ),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
  snapshot.volumes.push(...found.filter((v): v is VolumeFact => v !== undefined));

  const busyRuns = candidates.filter(
    (c) => BUSY_STATES.has(c.state) && ownLabel(c, Labels.runId) !== undefined,
  );
  if (busyRuns.length === 0) return;
  const states = await new RunStore(o.runsFile ?? defaultRunsFile(), { logger }).states();
  for (const c of busyRuns) c.ownerGone = whyGone(c, states, o.endedRuns);
}

/** A label the container carries that its image does not give it (undefined: none, or not known). */
function ownLabel(c: ContainerFact, key: string): string | undefined {
  const v = c.labels[key];
  return v !== undefined && c.imageLabels !== undefined && c.imageLabels[key] !== v ? v : undefined;
}

/**
 * Why the run owning a busy container is provably gone, or undefined. Its record says it ended,
 * or the process that started it (per its start record, or per the pid the run's own DOCKER_HOST
 * stamped on the container) is dead in this pid space. A pid recorded in another pid space
 * (another host, container or boot) is never judged.
 */
function whyGone(c: ContainerFact, states: Map<string, RunState>, endedRuns: string[]): string | undefined {
  const runId = ownLabel(c, Labels.runId) as string;
  if (endedRuns.includes(runId)) return 'the run has ended';
  const state = states.get(runId);
  if (state?.endedAt) return `its run record says it ended at ${state.endedAt}`;
  const here = hostId();
  const claims = [
    { pid: state?.pid, host: state?.hostId, from: 'run record' },
    { pid: Number(ownLabel(c, Labels.runPid)), host: ownLabel(c, Labels.runHost), from: 'label' },
  ];
  for (const { pid, host, from } of claims) {
    if (host !== here || pid === undefined || !Number.isSafeInteger(pid)) continue;
    if (isPidAlive(pid) === false) return `its process, pid ${pid} on this host (${from}), is dead`;
  }
  return undefined;
}

/**
 * The container's volumes that the daemon created unnamed: mounted with a generated name that
 * neither its binds nor its mounts name. A volume a user made (`docker volume create`, also a
 * generated name) and mounted by name is named there, so it is never taken for one.
 */
async function anonymousVolumes(client: DockerClient, c: ContainerFact): Promise<string[] | undefined> {
  try {
    const info = await client.call('inspect container', (api, abortSignal) =>
      api.getContainer(c.id).inspect({ abortSignal } as object),
    );
    const named = new Set([
      ...(info.HostConfig?.Binds ?? []).map((b) => b.split(':')[0]),
      ...((info.HostConfig as { Mounts?: Array<{ Source?: string }> })?.Mounts ?? []).map((m) => m.Source),
    ]);
    return c.volumeNames.filter((v) => ANONYMOUS_VOLUME_NAME.test(v) && !named.has(v));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function labelsOf(labels: Record<string, string> | null | undefined): Record<string, string> {
  return labels ?? {};
}

export function containerFact(c: Docker.ContainerInfo): ContainerFact {
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''),
    state: c.State,
    createdMs: c.Created * 1000,
    createdResolutionMs: 1000,
    labels: labelsOf(c.Labels),
    imageId: c.ImageID,
    networks: Object.entries(c.NetworkSettings?.Networks ?? {}).flatMap(([name, n]) =>
      n.NetworkID ? [name, n.NetworkID] : [name],
    ),
    volumeNames: (c.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name as string),
  };
}

function networkFact(n: Docker.NetworkInspectInfo): NetworkFact {
  return {
    id: n.Id,
    name: n.Name,
    createdMs: Date.parse(n.Created),
    createdResolutionMs: 1,
    labels: labelsOf(n.Labels),
  };
}

export function volumeFact(v: Docker.VolumeInspectInfo): VolumeFact {
  const createdAt = (v as { CreatedAt?: string }).CreatedAt ?? '';
  return {
    name: v.Name,
    createdMs: Date.parse(createdAt),
    createdResolutionMs: 1000,
    createdAt,
    labels: labelsOf(v.Labels),
  };
}

function imageFact(i: Docker.ImageInfo): ImageFact {
  // Dangling images have no tag; the short id is the name users see in `docker images`.
  return {
    id: i.Id,
    name: i.Id.replace(/^sha256:/, '').slice(0, 12),
    createdMs: i.Created * 1000,
    createdResolutionMs: 1000,
    labels: labelsOf(i.Labels),
    size: i.Size,
  };
}
