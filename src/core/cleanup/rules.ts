import { Labels } from '../labels';
import { formatDuration } from '../util/duration';
import type { CleanupOptions, PlanEntry, ResolvedCleanupOptions } from './types';
import { DEFAULT_OLDER_THAN_MS, DEFAULT_TEST_PROJECT_PATTERNS } from './types';

/**
 * The ownership and eligibility rules of a cleanup pass, as pure functions over a snapshot of
 * the daemon. Nothing here talks to Docker; `plan.ts` gathers the facts and `execute.ts`
 * re-checks them before each removal.
 */

/** What the rules need to know about a container (from `/containers/json?all=1`). */
export interface ContainerFact {
  id: string;
  name: string;
  /** created, running, paused, restarting, removing, exited, dead */
  state: string;
  /** Creation time in ms; `createdResolutionMs` says how precise it is (the list gives seconds). */
  createdMs: number;
  createdResolutionMs: number;
  labels: Record<string, string>;
  imageId: string;
  /**
   * Networks it is attached to, by name and by id. A container that never started has an empty
   * NetworkID in the list, so the name is the only link; the daemon itself lets a network with
   * stopped containers attached be removed, which would break them on their next start.
   */
  networks: string[];
  /** Names of the volumes it mounts (type volume). */
  volumeNames: string[];
  /**
   * The labels of its image, looked up for containers carrying an ownership label: a label the
   * container merely inherited from its image's LABEL owns nothing. Undefined: not known.
   */
  imageLabels?: Record<string, string>;
  /** Names of the volumes the daemon created for it unnamed (image VOLUME, `-v /path`). */
  anonymousVolumes?: string[];
  /**
   * Why the process of the run that owns it is provably gone (its run record says it ended, or
   * its pid on this host is dead). Set only for containers carrying a run label of their own.
   */
  ownerGone?: string;
}

export interface NetworkFact {
  id: string;
  name: string;
  createdMs: number;
  createdResolutionMs: number;
  labels: Record<string, string>;
}

export interface VolumeFact {
  name: string;
  createdMs: number;
  createdResolutionMs: number;
  createdAt: string;
  labels: Record<string, string>;
}

export interface ImageFact {
  id: string;
  name: string;
  createdMs: number;
  createdResolutionMs: number;
  labels: Record<string, string>;
  size: number;
}

/** Every container on the daemon (never scoped: mounts and reapers outside the scope count too). */
export interface Snapshot {
  containers: ContainerFact[];
  networks: NetworkFact[];
  volumes: VolumeFact[];
  /** Dangling images only, and only when images are included. */
  images: ImageFact[];
}

export interface Decision {
  remove: PlanEntry[];
  keep: PlanEntry[];
}

/**
 * Label spellings of other testcontainers implementations. Node and Python write
 * `org.testcontainers.session-id`; Java and Go write `org.testcontainers.sessionId`. Reusable
 * containers carry a config hash instead of a session: node `org.testcontainers.container-hash`,
 * Java `org.testcontainers.hash`.
 */
const SESSION_LABELS = [Labels.testcontainersSession, 'org.testcontainers.sessionId'];
const REUSE_LABELS = [
  Labels.testcontainersReuse,
  'org.testcontainers.container-hash',
  'org.testcontainers.hash',
];
/** Networks the daemon creates itself; never removable whatever labels they carry. */
const PREDEFINED_NETWORKS = new Set(['bridge', 'host', 'none', 'ingress', 'docker_gwbridge']);
/** States in which a container is in use or in flux; `created`, `exited` and `dead` are not. */
export const BUSY_STATES: ReadonlySet<string> = new Set(['running', 'restarting', 'paused', 'removing']);

export function resolveOptions(opts: CleanupOptions = {}): ResolvedCleanupOptions {
  const olderThanMs = opts.olderThanMs ?? DEFAULT_OLDER_THAN_MS;
  if (!Number.isFinite(olderThanMs) || olderThanMs < 0) {
    throw new Error(`olderThanMs must be a number of milliseconds >= 0 (got ${String(opts.olderThanMs)})`);
  }
  const patterns = opts.testProjectPatterns ?? [...DEFAULT_TEST_PROJECT_PATTERNS];
  for (const p of patterns) {
    if (typeof p !== 'string' || p.trim() === '')
      throw new Error(`testProjectPatterns must be non-empty globs (got ${JSON.stringify(p)})`);
  }
  const protectLabel = opts.protectLabel ?? Labels.protect;
  if (typeof protectLabel !== 'string' || protectLabel.trim() === '')
    throw new Error('protectLabel must be a non-empty label name');
  const scope = opts.scope ?? {};
  for (const [k, v] of Object.entries(scope)) {
    if (k.trim() === '' || typeof v !== 'string')
      throw new Error(
        `scope must map label names to string values (got ${JSON.stringify(k)}=${JSON.stringify(v)})`,
      );
  }
  if (opts.runId !== undefined && opts.runId.trim() === '') throw new Error('runId must not be empty');
  const endedRuns = opts.endedRuns ?? [];
  if (!Array.isArray(endedRuns) || endedRuns.some((r) => typeof r !== 'string' || r.trim() === ''))
    throw new Error('endedRuns must be a list of run ids');
  if (opts.runsFile !== undefined && (typeof opts.runsFile !== 'string' || opts.runsFile.trim() === ''))
    throw new Error('runsFile must be a file path');
  return {
    olderThanMs,
    includeImages: opts.includeImages ?? false,
    testProjectPatterns: patterns,
    protectLabel,
    scope: { ...scope },
    runId: opts.runId,
    endedRuns: [...endedRuns],
    runsFile: opts.runsFile,
  };
}

/** Compiles a compose project glob: `*` any run of characters, `?` one character, all else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export function inScope(labels: Record<string, string>, scope: Record<string, string>): boolean {
  return Object.entries(scope).every(([k, v]) => labels[k] === v);
}

function sessionOf(labels: Record<string, string>): string | undefined {
  for (const l of SESSION_LABELS) if (labels[l]) return labels[l];
  return undefined;
}

function isReaper(labels: Record<string, string>): boolean {
  return labels[Labels.testcontainersRyuk] === 'true';
}

function isReuse(labels: Record<string, string>): boolean {
  return REUSE_LABELS.some((l) => labels[l] !== undefined);
}

/** Sessions whose reaper still runs. A running reaper without a session label could reap any session. */
export interface ReaperState {
  liveSessions: Set<string>;
  unattributedLive: boolean;
}

export function reaperState(containers: readonly ContainerFact[]): ReaperState {
  const liveSessions = new Set<string>();
  let unattributedLive = false;
  for (const c of containers) {
    if (!isReaper(c.labels) || c.state !== 'running') continue;
    const s = sessionOf(c.labels);
    if (s) liveSessions.add(s);
    else unattributedLive = true;
  }
  return { liveSessions, unattributedLive };
}

export type Ownership = { owned: true; owner: string; runId?: string } | { owned: false; why: string };

/** What a compose project's containers say about its name: chosen (`-p`, `name:`, the variable) or its folder's. */
export type ProjectEvidence = { chosen: true } | { chosen: false; folder: string };

interface Context {
  opts: ResolvedCleanupOptions;
  projectRes: RegExp[];
  reapers: ReaperState;
  projects: Map<string, ProjectEvidence>;
  passStartedMs: number;
  nowMs: number;
}

/** The labels by which a resource may be owned. */
const OWNERSHIP_LABELS = [Labels.runId, Labels.composeProject, ...SESSION_LABELS];
const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';

export function carriesOwnershipLabel(labels: Record<string, string>): boolean {
  return OWNERSHIP_LABELS.some((k) => labels[k] !== undefined);
}

/**
 * The project names compose derives from a folder: v1 lower-cases and drops all but
 * `[-_a-z0-9]`; v2 does the same and also trims leading `-` and `_`.
 */
export function folderProjectNames(folder: string): string[] {
  const v1 = folder.toLowerCase().replace(/[^-_a-z0-9]/g, '');
  return [...new Set([v1, v1.replace(/^[-_]+/, '')])];
}

/**
 * Per compose project, whether its name was chosen or taken from its folder, from the
 * `working_dir` label compose puts on containers (not on networks or volumes). One container
 * whose folder gives the project's name is enough to say "folder": an explicit name that
 * happens to equal the folder's cannot be told apart, and doubt keeps.
 */
export function projectEvidence(containers: readonly ContainerFact[]): Map<string, ProjectEvidence> {
  const out = new Map<string, ProjectEvidence>();
  for (const c of containers) {
    const project = c.labels[Labels.composeProject];
    const dir = c.labels[WORKING_DIR_LABEL];
    if (project === undefined || dir === undefined) continue;
    const folder = dir.split(/[\\/]/).filter(Boolean).pop() ?? '';
    if (folderProjectNames(folder).includes(project)) out.set(project, { chosen: false, folder: dir });
    else if (!out.has(project)) out.set(project, { chosen: true });
  }
  return out;
}

/**
 * Who owns a resource, by the labels set on it when it was created. `inherited`: the labels of
 * a container's image (`{}` for networks, volumes and images; undefined when unknown): an
 * ownership label equal to the image's came from a `LABEL` line and proves nothing about who
 * ran the container, so it owns nothing. Time never owns anything: an unlabelled resource is
 * nobody's, however close to a run it was created.
 */
export function ownership(
  labels: Record<string, string>,
  ctx: Context,
  inherited: Record<string, string> | undefined,
): Ownership {
  const { opts } = ctx;
  const present = OWNERSHIP_LABELS.filter((k) => labels[k] !== undefined);
  if (present.length && inherited === undefined)
    return {
      owned: false,
      why: 'its image cannot be read, so its own labels cannot be told from the image’s',
    };
  const own = (key: string): string | undefined =>
    labels[key] !== undefined && inherited?.[key] !== labels[key] ? labels[key] : undefined;
  const fromImage = present.filter((k) => own(k) === undefined);
  const notOwned = (why: string): Ownership => ({
    owned: false,
    why: fromImage.length
      ? `${fromImage.map((k) => `${k}=${labels[k]}`).join(', ')} comes from its image's LABEL, which owns nothing`
      : why,
  });
  const run = own(Labels.runId);
  if (opts.runId !== undefined) {
    if (run === opts.runId) return { owned: true, owner: `run ${run} (its own run label)`, runId: run };
    return notOwned(`not part of run ${opts.runId}`);
  }
  if (run !== undefined) return { owned: true, owner: `run ${run} (its own run label)`, runId: run };
  const project = own(Labels.composeProject);
  if (project !== undefined && ctx.projectRes.some((re) => re.test(project))) {
    const ev = ctx.projects.get(project);
    if (!ev)
      return {
        owned: false,
        why: `compose project ${project}: no container of it says whether its name was chosen or is its folder's`,
      };
    if (!ev.chosen)
      return {
        owned: false,
        why: `compose project ${project} is named after its folder ${ev.folder}, which is no proof of a test project`,
      };
    return { owned: true, owner: `compose test project ${project} (name chosen, not its folder's)` };
  }
  const sessionLabel = SESSION_LABELS.find((l) => own(l) !== undefined);
  const session = sessionLabel ? labels[sessionLabel] : undefined;
  if (session !== undefined) {
    if (ctx.reapers.liveSessions.has(session))
      return { owned: false, why: `testcontainers session ${session} has a live reaper` };
    if (ctx.reapers.unattributedLive)
      return {
        owned: false,
        why: `testcontainers session ${session}: a reaper of unknown session is running`,
      };
    return { owned: true, owner: `testcontainers session ${session} (its session label, reaper gone)` };
  }
  if (project !== undefined) return notOwned(`compose project ${project} is not a test project`);
  return notOwned('not owned by a test run');
}

/** Why a resource is too new to remove, or undefined when it is old enough. */
function tooNew(createdMs: number, resolutionMs: number, ctx: Context): string | undefined {
  // The list reports containers and volumes to the second: the true time may be up to a second later.
  if (!Number.isFinite(createdMs)) return 'creation time unknown';
  const latest = createdMs + resolutionMs - 1;
  if (latest >= ctx.passStartedMs) return 'created after the cleanup pass began';
  const age = ctx.nowMs - latest;
  if (age < ctx.opts.olderThanMs)
    return `younger than ${formatDuration(ctx.opts.olderThanMs)} (age ${formatDuration(age)})`;
  return undefined;
}

function isProtected(labels: Record<string, string>, ctx: Context): boolean {
  return labels[ctx.opts.protectLabel] === 'true';
}

/** `name (state)`, plus how many more, for a reason text. */
export function describeHolders(holders: readonly ContainerFact[]): string {
  const first = holders[0] as ContainerFact;
  const more = holders.length > 1 ? ` and ${holders.length - 1} more` : '';
  return `${first.name} (${first.state})${more}`;
}

/**
 * Decides, for every in-scope resource of the snapshot, whether this pass removes it and why.
 * Networks, volumes and images count as free when every container using them is itself
 * removed by this pass (containers go first).
 */
export function decide(
  snapshot: Snapshot,
  options: ResolvedCleanupOptions,
  passStartedMs: number,
  nowMs: number = passStartedMs,
): Decision {
  const ctx: Context = {
    opts: options,
    projectRes: options.testProjectPatterns.map(globToRegExp),
    reapers: reaperState(snapshot.containers),
    projects: projectEvidence(snapshot.containers),
    passStartedMs,
    nowMs,
  };
  const remove: PlanEntry[] = [];
  const keep: PlanEntry[] = [];
  const removedContainers = new Set<string>();
  /** Anonymous volume name -> the container removed by this pass that the daemon made it for. */
  const anonymousOf = new Map<string, ContainerFact>();

  for (const c of snapshot.containers) {
    if (!inScope(c.labels, options.scope)) continue;
    const entry = { type: 'container' as const, id: c.id, name: c.name, createdAt: iso(c.createdMs) };
    const why = containerKeepReason(c, ctx);
    if (typeof why === 'string') {
      keep.push({ ...entry, reason: why });
      continue;
    }
    if (why.gone) {
      remove.push({
        ...entry,
        reason: `${c.state} container of ${why.owner}, whose process is gone (${why.gone}): stopped, then removed`,
        stopFirst: true,
      });
    } else remove.push({ ...entry, reason: `${c.state} container of ${why.owner}` });
    removedContainers.add(c.id);
    for (const v of c.anonymousVolumes ?? []) anonymousOf.set(v, c);
  }

  /** Networks, volumes and images: never-list, protect, owner, age, then in use by a kept container. */
  const consider = (
    entry: Omit<PlanEntry, 'reason'>,
    fact: Dated,
    use: Use,
    never?: string,
    anonymousFor?: ContainerFact,
  ): void => {
    // An anonymous volume carries no labels: it belongs to the pass's scope through its container.
    if (!anonymousFor && !inScope(fact.labels, options.scope)) return;
    const holders = snapshot.containers.filter((c) => use.by(c) && !removedContainers.has(c.id));
    const byLabel = ownership(fact.labels, ctx, {});
    const own: Ownership =
      !byLabel.owned && anonymousFor
        ? { owned: true, owner: `container ${anonymousFor.name}, which this pass removes (anonymous volume)` }
        : byLabel;
    const kept =
      never ??
      (isProtected(fact.labels, ctx) ? `protected by ${options.protectLabel}=true` : undefined) ??
      (own.owned ? undefined : own.why) ??
      tooNew(fact.createdMs, fact.createdResolutionMs, ctx) ??
      (holders.length ? `${use.verb} ${describeHolders(holders)}` : undefined);
    if (kept !== undefined) keep.push({ ...entry, reason: kept });
    else if (own.owned) remove.push({ ...entry, reason: `${use.removedAs} ${own.owner}` });
  };

  for (const n of snapshot.networks) {
    const use = {
      by: (c: ContainerFact) => c.networks.includes(n.id) || c.networks.includes(n.name),
      verb: 'attached to',
      removedAs: 'unused network of',
    };
    const never = PREDEFINED_NETWORKS.has(n.name) ? 'predefined network' : undefined;
    consider({ type: 'network', id: n.id, name: n.name, createdAt: iso(n.createdMs) }, n, use, never);
  }
  for (const v of snapshot.volumes) {
    const use = {
      by: (c: ContainerFact) => c.volumeNames.includes(v.name),
      verb: 'mounted by',
      removedAs: 'unmounted volume of',
    };
    consider(
      { type: 'volume', id: v.name, name: v.name, createdAt: v.createdAt },
      v,
      use,
      undefined,
      anonymousOf.get(v.name),
    );
  }
  if (options.includeImages) {
    for (const i of snapshot.images) {
      const use = {
        by: (c: ContainerFact) => c.imageId === i.id,
        verb: 'used by',
        removedAs: 'dangling image of',
      };
      consider({ type: 'image', id: i.id, name: i.name, bytes: i.size, createdAt: iso(i.createdMs) }, i, use);
    }
  }
  return { remove, keep };
}

interface Dated {
  labels: Record<string, string>;
  createdMs: number;
  createdResolutionMs: number;
}

/** How containers use a resource, and the words for the reasons. */
interface Use {
  by(c: ContainerFact): boolean;
  verb: string;
  removedAs: string;
}

function iso(ms: number): string | undefined {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/**
 * Why a container stays, or its owner when it goes (`gone`: it runs, but its run's process is
 * provably gone, so it is an orphan to stop first; a container being removed is left to that).
 */
function containerKeepReason(c: ContainerFact, ctx: Context): string | { owner: string; gone?: string } {
  if (isReaper(c.labels)) return 'testcontainers reaper (never removed)';
  if (isReuse(c.labels)) return 'testcontainers reusable container (never removed)';
  if (isProtected(c.labels, ctx)) return `protected by ${ctx.opts.protectLabel}=true`;
  const own = ownership(c.labels, ctx, c.imageLabels);
  if (!own.owned) return own.why;
  const gone = own.runId !== undefined && c.state !== 'removing' ? c.ownerGone : undefined;
  if (BUSY_STATES.has(c.state) && !gone) return c.state;
  return tooNew(c.createdMs, c.createdResolutionMs, ctx) ?? { owner: own.owner, gone };
}
