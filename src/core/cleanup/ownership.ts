// Who owns a resource, by its labels: the rules a cleanup pass applies before any age or use.
import { Labels } from '../labels';
import type { ContainerFact } from './facts';
import type { ResolvedCleanupOptions } from './types';

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

function sessionOf(labels: Record<string, string>): string | undefined {
  for (const l of SESSION_LABELS) if (labels[l]) return labels[l];
  return undefined;
}

export function isReaper(labels: Record<string, string>): boolean {
  return labels[Labels.testcontainersRyuk] === 'true';
}

export function isReuse(labels: Record<string, string>): boolean {
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

/** What the rules know about the pass that one resource is judged in. */
export interface RuleContext {
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
  ctx: RuleContext,
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
