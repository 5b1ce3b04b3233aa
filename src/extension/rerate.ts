// A window judges samples by its own settings: a follower's samples were rated by the leading
// process (another window, a terminal's `watch`), whose thresholds and capacities may differ.
import { worstLevel, type ResourceKind } from '../core/levels';
import { figure } from '../core/monitor/formulas';
import type { MonitorSettings } from '../core/monitor/settings';
import type { Sample } from '../core/monitor/types';
import { RESOURCE_ORDER } from '../shared/protocol';

export type RatingSettings = Pick<MonitorSettings, 'thresholds'> & {
  capacities: Partial<MonitorSettings['capacities']>;
};

/** Recomputes percent and level of every figure with these thresholds and capacities (unset ones keep the sample's). */
export function rerate(s: Sample, settings: RatingSettings): Sample {
  const c = settings.capacities;
  const capacity: Record<ResourceKind, number | undefined> = {
    memory: c.memoryBytes,
    cpu: c.cpuPercent,
    containers: c.containers,
    networks: c.networks,
    volumes: c.volumes,
  };
  const resources = { ...s.resources };
  for (const kind of RESOURCE_ORDER) {
    const f = s.resources[kind];
    resources[kind] = figure(kind, f.used, capacity[kind] ?? f.capacity, settings.thresholds);
  }
  return { ...s, resources, level: worstLevel(RESOURCE_ORDER.map((k) => resources[k].level)) };
}
