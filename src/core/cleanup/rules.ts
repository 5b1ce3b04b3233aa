import { formatDuration } from '../util/duration';
import { BUSY_STATES, type ContainerFact, type Snapshot } from './facts';
import {
  isReaper,
  isReuse,
  ownership,
  projectEvidence,
  reaperState,
  type Ownership,
  type RuleContext,
} from './ownership';
import type { PlanEntry, ResolvedCleanupOptions } from './types';

/**
 * The eligibility rules of a cleanup pass, as pure functions over a snapshot of the daemon.
 * Nothing here talks to Docker; `plan.ts` gathers the facts and `execute.ts` re-checks them
 * before each removal. Ownership by labels is in `ownership.ts`.
 */

export interface Decision {
  remove: PlanEntry[];
  keep: PlanEntry[];
}

/** Networks the daemon creates itself; never removable whatever labels they carry. */
const PREDEFINED_NETWORKS = new Set(['bridge', 'host', 'none', 'ingress', 'docker_gwbridge']);

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

/** Why a resource is too new to remove, or undefined when it is old enough. */
function tooNew(createdMs: number, resolutionMs: number, ctx: RuleContext): string | undefined {
  // The list reports containers and volumes to the second: the true time may be up to a second later.
  if (!Number.isFinite(createdMs)) return 'creation time unknown';
  const latest = createdMs + resolutionMs - 1;
  if (latest >= ctx.passStartedMs) return 'created after the cleanup pass began';
  const age = ctx.nowMs - latest;
  if (age < ctx.opts.olderThanMs)
    return `younger than ${formatDuration(ctx.opts.olderThanMs)} (age ${formatDuration(age)})`;
  return undefined;
}

function isProtected(labels: Record<string, string>, ctx: RuleContext): boolean {
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
  const ctx: RuleContext = {
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
function containerKeepReason(c: ContainerFact, ctx: RuleContext): string | { owner: string; gone?: string } {
  if (isReaper(c.labels)) return 'testcontainers reaper (never removed)';
  if (isReuse(c.labels)) return 'testcontainers reusable container (never removed)';
  if (isProtected(c.labels, ctx)) return `protected by ${ctx.opts.protectLabel}=true`;
  const own = ownership(c.labels, ctx, c.imageLabels);
  if (!own.owned) return own.why;
  const gone = own.runId !== undefined && c.state !== 'removing' ? c.ownerGone : undefined;
  if (BUSY_STATES.has(c.state) && !gone) return c.state;
  return tooNew(c.createdMs, c.createdResolutionMs, ctx) ?? { owner: own.owner, gone };
}
