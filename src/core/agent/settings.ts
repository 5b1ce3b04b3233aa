import { isLevel, LEVELS, type Level } from '../levels';
import { errorMessage } from '../../shared/errors';

/** Where the metrics endpoint listens. */
export interface ListenAddress {
  host: string;
  port: number;
}

export interface AgentSettings {
  autoCleanup: {
    enabled: boolean;
    /** The level that triggers a pass (once per rise). */
    level: Level;
    cooldownMs: number;
  };
  /** Interval between scheduled passes; 0: none. */
  scheduledCleanupMs: number;
  /** How often orphans are counted for the metrics (a dry-run plan: list calls only). */
  orphanScanMs: number;
  /** Serve metrics here; undefined: no metrics endpoint. */
  metrics?: ListenAddress;
}

/** The seed's "automated cleanup every 30 minutes". */
export const DEFAULT_SCHEDULED_CLEANUP_MS = 30 * 60_000;
export const DEFAULT_ORPHAN_SCAN_MS = 60_000;
export const DEFAULT_METRICS_PORT = 9464;

export const DEFAULT_AGENT_SETTINGS: Readonly<AgentSettings> = Object.freeze<AgentSettings>({
  autoCleanup: { enabled: true, level: 'CRITICAL', cooldownMs: 10 * 60_000 },
  scheduledCleanupMs: DEFAULT_SCHEDULED_CLEANUP_MS,
  orphanScanMs: DEFAULT_ORPHAN_SCAN_MS,
});

/**
 * Parses `HOST:PORT`, `[::1]:PORT` or a bare `PORT`. A bare port binds to 127.0.0.1: the
 * endpoint tells who runs what on the host, so it leaves loopback only when told to.
 */
export function parseListenAddress(text: string): ListenAddress {
  const t = text.trim();
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(t);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new Error(
      `"${text}" is not a listen address: use HOST:PORT (e.g. 127.0.0.1:${DEFAULT_METRICS_PORT}) or a port`,
    );
  }
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port };
}

const isMs = (v: unknown, min: number): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= min;

/**
 * Validates the agent section (as a config file or the library gives it). The agent removes
 * things, so every problem is reported and nothing is silently replaced: the caller refuses to
 * start on any problem. Unknown keys are problems too (a typo must not turn a setting off).
 */
export function validateAgentSettings(input: unknown): { settings: AgentSettings; problems: string[] } {
  const d = DEFAULT_AGENT_SETTINGS;
  const settings: AgentSettings = { ...d, autoCleanup: { ...d.autoCleanup } };
  const problems: string[] = [];
  if (input === undefined) return { settings, problems };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { settings, problems: [`must be an object (got ${JSON.stringify(input)})`] };
  }
  for (const [key, v] of Object.entries(input as Record<string, unknown>)) {
    switch (key) {
      case 'autoCleanup':
        problems.push(...autoCleanupProblems(v, settings));
        break;
      case 'scheduledCleanupMs':
        if (v === 0 || isMs(v, 1000)) settings.scheduledCleanupMs = v as number;
        else
          problems.push(
            `scheduledCleanupMs must be 0 (off) or a number of milliseconds >= 1000 (got ${JSON.stringify(v)})`,
          );
        break;
      case 'orphanScanMs':
        if (isMs(v, 1000)) settings.orphanScanMs = v;
        else
          problems.push(`orphanScanMs must be a number of milliseconds >= 1000 (got ${JSON.stringify(v)})`);
        break;
      case 'metrics':
        if (v === null || v === false) settings.metrics = undefined;
        else if (typeof v === 'string' || typeof v === 'number') {
          try {
            settings.metrics = parseListenAddress(String(v));
          } catch (err) {
            problems.push(`metrics: ${errorMessage(err)}`);
          }
        } else problems.push(`metrics must be "HOST:PORT", a port or null (got ${JSON.stringify(v)})`);
        break;
      default:
        problems.push(`${key} is not a setting (use autoCleanup, scheduledCleanupMs, orphanScanMs, metrics)`);
    }
  }
  return { settings, problems };
}

function autoCleanupProblems(v: unknown, settings: AgentSettings): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return [`autoCleanup must be an object (got ${JSON.stringify(v)})`];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    if (key === 'enabled' && typeof value === 'boolean') settings.autoCleanup.enabled = value;
    else if (key === 'level' && typeof value === 'string' && isLevel(value.toUpperCase()))
      settings.autoCleanup.level = value.toUpperCase() as Level;
    else if (key === 'cooldownMs' && isMs(value, 0)) settings.autoCleanup.cooldownMs = value;
    else if (key === 'enabled' || key === 'level' || key === 'cooldownMs') {
      const expected = {
        enabled: 'true or false',
        level: `one of ${LEVELS.join(', ')}`,
        cooldownMs: 'a number of milliseconds >= 0',
      }[key];
      problems.push(`autoCleanup.${key} must be ${expected} (got ${JSON.stringify(value)})`);
    } else problems.push(`autoCleanup.${key} is not a setting (use enabled, level, cooldownMs)`);
  }
  return problems;
}
