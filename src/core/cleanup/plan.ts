import type Docker from 'dockerode';
import type { DockerClient } from '../docker/client';
import { isNotFound } from '../docker/client';
import { Labels } from '../labels';
import { silentLogger } from '../log';
import { mapLimit } from '../util/pool';
import type { ContainerFact, ImageFact, NetworkFact, Snapshot, VolumeFact } from './rules';
import { BUSY_STATES, decide, inScope, resolveOptions } from './rules';
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
  const [daemon, snapshot] = await Promise.all([client.identity(), takeSnapshot(client, options.scope, options.includeImages, passStartedMs)]);
  if (options.runId && options.adoptWindow) await addInheritedLabels(client, snapshot.containers, options);
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

/**
 * For containers a run might adopt (in scope and window, stopped, without the run's label),
 * records the labels they got from their image, so that only labels set on the container
 * itself count when deciding whether it is unlabelled. Images are inspected once each.
 */
async function addInheritedLabels(
  client: DockerClient,
  facts: ContainerFact[],
  o: ResolvedCleanupOptions,
): Promise<void> {
  const window = o.adoptWindow as { from: string; to: string };
  const from = Date.parse(window.from) - 1000;
  const to = Date.parse(window.to);
  const candidates = facts.filter(
    (c) =>
      inScope(c.labels, o.scope) &&
      c.labels[Labels.runId] !== o.runId &&
      !BUSY_STATES.has(c.state) &&
      c.createdMs >= from &&
      c.createdMs <= to,
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
    c.inheritedLabels = await imageLabels(c.imageId);
  });
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

function volumeFact(v: Docker.VolumeInspectInfo): VolumeFact {
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
