import { Labels } from '../labels';
import type { ContainerUsage, Owner, OwnerUsage } from '../../shared/monitor';

export type { ContainerUsage, Owner, OwnerKind, OwnerUsage } from '../../shared/monitor';

/** Optional label carrying a run's category next to its run id (runs may set it; absent is fine). */
export const RUN_CATEGORY_LABEL = 'docker-stability.category';

export function ownerOf(labels: Readonly<Record<string, string>> | undefined): Owner {
  const l = labels ?? {};
  const run = l[Labels.runId];
  if (run) {
    const category = l[RUN_CATEGORY_LABEL];
    return category ? { kind: 'run', id: run, category } : { kind: 'run', id: run };
  }
  const project = l[Labels.composeProject];
  if (project) return { kind: 'compose', id: project };
  const session = l[Labels.testcontainersSession];
  if (session) return { kind: 'testcontainers', id: session };
  return { kind: 'other', id: '' };
}

/** A stable key for grouping (`compose:shop-test`, `other`). */
export function ownerKey(o: Owner): string {
  return o.kind === 'other' ? 'other' : `${o.kind}:${o.id}`;
}

/** Heaviest first: by memory, then CPU, then name (a stable order for equal figures). */
function heavierFirst(
  a: { memoryBytes: number; cpuPercent: number },
  b: { memoryBytes: number; cpuPercent: number },
): number {
  return b.memoryBytes - a.memoryBytes || b.cpuPercent - a.cpuPercent;
}

/** The `limit` heaviest containers, by working-set memory. */
export function topConsumers(all: readonly ContainerUsage[], limit: number): ContainerUsage[] {
  return [...all]
    .sort((a, b) => heavierFirst(a, b) || a.name.localeCompare(b.name))
    .slice(0, Math.max(0, limit));
}

/** Every owner's totals, heaviest first. */
export function groupByOwner(all: readonly ContainerUsage[]): OwnerUsage[] {
  const groups = new Map<string, OwnerUsage>();
  for (const c of all) {
    const key = ownerKey(c.owner);
    const g = groups.get(key) ?? { owner: c.owner, containers: 0, memoryBytes: 0, cpuPercent: 0 };
    g.containers++;
    g.memoryBytes += c.memoryBytes;
    g.cpuPercent += c.cpuPercent;
    groups.set(key, g);
  }
  const out = [...groups.values()].map((g) => ({ ...g, cpuPercent: Math.round(g.cpuPercent * 100) / 100 }));
  return out.sort((a, b) => heavierFirst(a, b) || ownerKey(a.owner).localeCompare(ownerKey(b.owner)));
}

/** An owner in a few words: `compose shop-test`, `run 3f2a9c (unit)`, `testcontainers 9b1e0f2a`, `other`. */
export function ownerLabel(o: Owner): string {
  switch (o.kind) {
    case 'run':
      return `run ${o.id}${o.category ? ` (${o.category})` : ''}`;
    case 'compose':
      return `compose ${o.id}`;
    case 'testcontainers':
      // session ids are UUIDs: the first block tells them apart
      return `testcontainers ${o.id.slice(0, 8)}`;
    case 'other':
      return 'other';
  }
}
