import { isLevel, type Level } from '../levels';
import type { Owner } from '../monitor/owners';

/**
 * What went wrong: a container killed for memory, one restarting over and over, one turning
 * unhealthy or never becoming healthy, the daemon becoming unreachable, coming back, and
 * having restarted meanwhile (its start time changed).
 */
export type IncidentKind =
  | 'oom'
  | 'restart-loop'
  | 'unhealthy'
  | 'never-healthy'
  | 'daemon-unreachable'
  | 'daemon-recovered'
  | 'daemon-restarted';
export const INCIDENT_KINDS: readonly IncidentKind[] = [
  'oom',
  'restart-loop',
  'unhealthy',
  'never-healthy',
  'daemon-unreachable',
  'daemon-recovered',
  'daemon-restarted',
];

/** Each kind in a few words, for any face (neither a CLI nor an editor word). */
export const INCIDENT_TITLES: Readonly<Record<IncidentKind, string>> = {
  oom: 'OOM kill',
  'restart-loop': 'restart loop',
  unhealthy: 'unhealthy',
  'never-healthy': 'never healthy',
  'daemon-unreachable': 'daemon unreachable',
  'daemon-recovered': 'daemon back',
  'daemon-restarted': 'daemon restarted',
};

export interface IncidentContainer {
  /** Short id (12 hex digits). */
  id: string;
  name: string;
  owner: Owner;
}

export interface Incident {
  /** ISO 8601: the daemon's event time for container incidents, the monitor's for the daemon's. */
  at: string;
  kind: IncidentKind;
  endpoint: string;
  container?: IncidentContainer;
  /** oom: true when the main process died of it (`die` with OOMKilled), false for an `oom` event. */
  mainProcessKilled?: boolean;
  /** restart-loop: restarts seen within `windowMs`. */
  restarts?: number;
  windowMs?: number;
  /** daemon-unreachable: why. */
  reason?: string;
  /** daemon-recovered: how long the daemon was unreachable. */
  downMs?: number;
  /** never-healthy: how long the container has been `starting`, and the bound it passed. */
  startingMs?: number;
  boundMs?: number;
  /** daemon-restarted: the daemon's start time (ISO 8601) before and after. */
  previousStartedAt?: string;
  startedAt?: string;
  /** The daemon's figures at the last sample before the incident. */
  figures?: { sampledAt: string; level: Level; memoryPercent: number; cpuPercent: number };
}

/** A structural check of one persisted incident: anything else is skipped on load. */
export function isIncident(x: unknown): x is Incident {
  if (typeof x !== 'object' || x === null) return false;
  const i = x as Record<string, unknown>;
  if (typeof i.at !== 'string' || Number.isNaN(Date.parse(i.at)) || typeof i.endpoint !== 'string')
    return false;
  if (!(INCIDENT_KINDS as readonly unknown[]).includes(i.kind)) return false;
  const c = i.container as Record<string, unknown> | undefined;
  if (
    c !== undefined &&
    (typeof c !== 'object' ||
      c === null ||
      typeof c.id !== 'string' ||
      typeof c.name !== 'string' ||
      typeof c.owner !== 'object')
  )
    return false;
  const f = i.figures as Record<string, unknown> | undefined;
  return f === undefined || (typeof f === 'object' && f !== null && isLevel(f.level));
}

/** Incidents at or after `sinceMs` (Unix ms), oldest first. */
export function incidentsSince(all: readonly Incident[], sinceMs: number): Incident[] {
  return all.filter((i) => Date.parse(i.at) >= sinceMs);
}

/** How many incidents of each kind. */
export function countByKind(all: readonly Incident[]): Record<IncidentKind, number> {
  const out = Object.fromEntries(INCIDENT_KINDS.map((k) => [k, 0])) as Record<IncidentKind, number>;
  for (const i of all) out[i.kind]++;
  return out;
}
