import type { InventoryCounts } from './inventory';
import type { ContainerFigure } from './containerStats';
import { groupByOwner, ownerOf, topConsumers, type ContainerUsage } from './owners';
import type { Sample } from './types';

/**
 * Per-container figures joined with the names and labels the container list already gave:
 * who uses what costs no daemon call on either path.
 */
export function usageBreakdown(
  figures: readonly ContainerFigure[],
  counts: InventoryCounts,
  top: number,
): Pick<Sample, 'consumers' | 'owners'> {
  const all: ContainerUsage[] = figures.map((f) => {
    const d = counts.details.get(f.id);
    return {
      id: f.id.slice(0, 12),
      name: d?.name ?? f.id.slice(0, 12),
      owner: ownerOf(d?.labels),
      memoryBytes: f.memoryBytes,
      cpuPercent: Math.round(f.cpuPercent * 100) / 100,
    };
  });
  return { consumers: topConsumers(all, top), owners: groupByOwner(all) };
}
