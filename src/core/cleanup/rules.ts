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
  /** Labels it got from its image; looked up only for containers a run might adopt. */
  inheritedLabels?: Record<string, string>;
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
  let adoptWindow: ResolvedCleanupOptions['adoptWindow'];
  if (opts.adoptWindow) {
    if (!opts.runId) throw new Error('adoptWindow needs runId: adopted resources are attributed to that run');
    const { from, to } = opts.adoptWindow;
    if (
      !(from instanceof Date) ||
      !(to instanceof Date) ||
      Number.isNaN(from.getTime()) ||
      Number.isNaN(to.getTime()) ||
      from > to
    ) {
      throw new Error('adoptWindow must be two valid dates with from <= to');
    }
    adoptWindow = { from: from.toISOString(), to: to.toISOString() };
  }
  return {
    olderThanMs,
    includeImages: opts.includeImages ?? false,
    testProjectPatterns: patterns,
    protectLabel,
    scope: { ...scope },
    runId: opts.runId,
    adoptWindow,
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

export type Ownership = { owned: true; owner: string } | { owned: false; why: string };

interface Context {
  opts: ResolvedCleanupOptions;
  projectRes: RegExp[];
  reapers: ReaperState;
  passStartedMs: number;
  nowMs: number;
}

/**
 * True when a resource carries no label of its own: none beyond those its image gave it
 * (`inherited`; unknown means not adoptable) and the caller's scope. Any other label was put
 * there on purpose by someone, so the resource cannot be attributed to the run by time alone.
 */
export function unlabelled(
  labels: Record<string, string>,
  inherited: Record<string, string> | undefined,
  scope: Record<string, string>,
): boolean {
  if (!inherited) return false;
  return Object.entries(labels).every(([k, v]) => inherited[k] === v || scope[k] === v);
}

/**
 * Who owns a resource, by its labels (and, for an adopting run, its creation time).
 * `inherited`: the labels a container got from its image; `{}` for networks and volumes.
 */
export function ownership(
  labels: Record<string, string>,
  createdMs: number,
  ctx: Context,
  inherited: Record<string, string> | undefined,
): Ownership {
  const { opts } = ctx;
  const run = labels[Labels.runId];
  if (opts.runId !== undefined) {
    if (run === opts.runId) return { owned: true, owner: `run ${opts.runId}` };
    if (opts.adoptWindow && unlabelled(labels, inherited, opts.scope)) {
      const from = Date.parse(opts.adoptWindow.from);
      const to = Date.parse(opts.adoptWindow.to);
      if (createdMs >= from && createdMs <= to)
        return { owned: true, owner: `run ${opts.runId} (created unlabelled during the run)` };
    }
    return { owned: false, why: `not part of run ${opts.runId}` };
  }
  if (run !== undefined) return { owned: true, owner: `run ${run}` };
  const project = labels[Labels.composeProject];
  if (project !== undefined && ctx.projectRes.some((re) => re.test(project))) {
    return { owned: true, owner: `compose test project ${project}` };
  }
  const session = sessionOf(labels);
  if (session !== undefined) {
    if (ctx.reapers.liveSessions.has(session))
      return { owned: false, why: `testcontainers session ${session} has a live reaper` };
    if (ctx.reapers.unattributedLive)
      return {
        owned: false,
        why: `testcontainers session ${session}: a reaper of unknown session is running`,
      };
    return { owned: true, owner: `testcontainers session ${session} (reaper gone)` };
  }
  if (project !== undefined) return { owned: false, why: `compose project ${project} is not a test project` };
  return { owned: false, why: 'not owned by a test run' };
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
    passStartedMs,
    nowMs,
  };
  const remove: PlanEntry[] = [];
  const keep: PlanEntry[] = [];
  const removedContainers = new Set<string>();

  for (const c of snapshot.containers) {
    if (!inScope(c.labels, options.scope)) continue;
    const entry = { type: 'container' as const, id: c.id, name: c.name, createdAt: iso(c.createdMs) };
    const why = containerKeepReason(c, ctx);
    if (typeof why === 'string') keep.push({ ...entry, reason: why });
    else {
      remove.push({ ...entry, reason: `${c.state} container of ${why.owner}` });
      removedContainers.add(c.id);
    }
  }

  /** Networks, volumes and images: never-list, protect, owner, age, then in use by a kept container. */
  const consider = (entry: Omit<PlanEntry, 'reason'>, fact: Dated, use: Use, never?: string): void => {
    if (!inScope(fact.labels, options.scope)) return;
    const holders = snapshot.containers.filter((c) => use.by(c) && !removedContainers.has(c.id));
    // Images are never adopted by time: a build cache is shared by every run.
    const own = ownership(fact.labels, fact.createdMs, ctx, entry.type === 'image' ? undefined : {});
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
    consider({ type: 'volume', id: v.name, name: v.name, createdAt: v.createdAt }, v, use);
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

function containerKeepReason(c: ContainerFact, ctx: Context): string | { owner: string } {
  if (isReaper(c.labels)) return 'testcontainers reaper (never removed)';
  if (isReuse(c.labels)) return 'testcontainers reusable container (never removed)';
  if (isProtected(c.labels, ctx)) return `protected by ${ctx.opts.protectLabel}=true`;
  const own = ownership(c.labels, c.createdMs, ctx, c.inheritedLabels);
  if (!own.owned) return own.why;
  if (BUSY_STATES.has(c.state)) return c.state;
  return tooNew(c.createdMs, c.createdResolutionMs, ctx) ?? { owner: own.owner };
}
