import { Labels } from '../labels';
import type { ContainerUsage, Owner, OwnerUsage } from '../../shared/monitor';
import { ownerKey } from '../../shared/owner';

export type { ContainerUsage, Owner, OwnerKind, OwnerUsage } from '../../shared/monitor';
export { ownerKey, ownerLabel } from '../../shared/owner';

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
