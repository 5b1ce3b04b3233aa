// Each process judges samples by its own settings: a follower's samples were rated by the
// leading process (another window, a terminal's `watch`, an agent), whose thresholds and
// capacities may differ. SharedMonitor re-rates what it follows, so every user of the core
// (the extension, `watch`, the library) sees its own levels.
import { RESOURCE_KINDS, worstLevel, type ResourceKind } from '../levels';
import { figure } from './formulas';
import type { MonitorSettings } from './settings';
import type { Sample } from './types';

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
  for (const kind of RESOURCE_KINDS) {
    const f = s.resources[kind];
    resources[kind] = figure(kind, f.used, capacity[kind] ?? f.capacity, settings.thresholds);
  }
  // statfs knows the disk's size; the setting is only for `/system/df`, which does not say
  const d = s.disk;
  const disk = d && {
    ...d,
    ...figure(
      'disk',
      d.used,
      d.source === 'system-df' ? (c.diskBytes ?? d.capacity) : d.capacity,
      settings.thresholds,
    ),
  };
  const levels = [...RESOURCE_KINDS.map((k) => resources[k].level), ...(disk ? [disk.level] : [])];
  return { ...s, resources, level: worstLevel(levels), ...(disk ? { disk } : {}) };
}
