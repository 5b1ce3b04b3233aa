// Messages between the extension host and the dashboard webview, in one place. The host sends
// a full snapshot when the webview says `ready`, then deltas. Everything the webview sends is
// untrusted input: the host runs it through `parseWebviewMessage` before acting on it.
import { LOCK_NAME_PATTERN } from './lockName';
import type { Level, ThresholdSettings } from './levels';
import type { MonitorState, Sample } from './monitor';

/** One environment lock as the dashboard shows it. */
export interface LockView {
  name: string;
  held: boolean;
  stale: boolean;
  holder?: { user: string; host: string; pid: number; why: string; acquiredAt: string };
  ageMs?: number;
  /** True when this window holds it. */
  mine: boolean;
}

export interface CleanupReportView {
  finishedAt: string;
  trigger: string;
  dryRun: boolean;
  removed: { kind: string; name: string; reason: string }[];
  kept: { kind: string; name: string; reason: string }[];
  failed: { kind: string; name: string; error: string }[];
  bytesReclaimed?: number;
}

export interface PredictionView {
  category: string;
  /** Expected peak figures of a run of this category, when known. */
  summary: string;
  level?: Level;
  runs: number;
}

/** One stability target of the health panel: a figure, its target and whether it is met. */
export interface HealthTarget {
  id: 'orphans' | 'unreachable' | 'memoryBudget' | 'successRate' | 'duration';
  label: string;
  value: string;
  target: string;
  /** undefined when there is no data yet (the value then says why). */
  met?: boolean;
}

/** One recorded incident as the dashboard marks it on the charts and lists it. */
export interface IncidentView {
  /** ISO 8601. */
  at: string;
  /** The core's incident kind ('oom', 'restart-loop', ...). */
  kind: string;
  /** The kind in a few words ("OOM kill"). */
  title: string;
  /** The container's name and its owner in words, for container incidents. */
  container?: string;
  owner?: string;
}

export interface DashboardSettings {
  thresholds: ThresholdSettings;
  intervalMs: number;
  historySize: number;
  memoryBudgetBytes: number;
}

export interface Snapshot {
  samples: Sample[];
  state: MonitorState;
  settings: DashboardSettings;
  locks: LockView[];
  cleanup?: CleanupReportView;
  predictions: PredictionView[];
  health: HealthTarget[];
  /** The endpoint's recorded incidents, oldest first. */
  incidents: IncidentView[];
  /** False in an untrusted workspace: destructive actions are hidden. */
  trusted: boolean;
  /** True when this window follows another window's sampler instead of sampling itself. */
  following: boolean;
}

export type HostMessage =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'sample'; sample: Sample; health: HealthTarget[] }
  | { type: 'state'; state: MonitorState; following: boolean }
  | { type: 'settings'; settings: DashboardSettings }
  | { type: 'locks'; locks: LockView[] }
  | { type: 'cleanup'; report: CleanupReportView }
  | { type: 'predictions'; predictions: PredictionView[]; health: HealthTarget[] }
  | { type: 'incidents'; incidents: IncidentView[] }
  | { type: 'error'; message: string };

/** Commands the webview may ask the host to run (a closed set: nothing else is accepted). */
export const WEBVIEW_COMMANDS = [
  'cleanUpNow',
  'pauseMonitoring',
  'resumeMonitoring',
  'showLog',
  'sampleNow',
] as const;
export type WebviewCommand = (typeof WEBVIEW_COMMANDS)[number];

export type WebviewMessage =
  | { type: 'ready' }
  /** Sent once per page load, after the first frame with the snapshot's charts was drawn. */
  | { type: 'opened'; marks: OpenMarks }
  | { type: 'forceRelease'; name: string }
  | { type: 'command'; command: WebviewCommand }
  /** The webview rendered samples: lets tests (and the log) see that data arrived. */
  | { type: 'rendered'; samples: number; latest?: string; drawn?: RenderedParts };

/**
 * The webview's marks on the way from opening the dashboard to its first drawn frame, in Unix
 * ms (its clock; the host's marks are on the host's, the same one when both run on one machine):
 * `page` the content document started (VS Code made the frame), `bundle` main.js had arrived,
 * `script` main.js started running, `ready` it asked for the snapshot, `snapshot` the snapshot
 * arrived, `charts` it was rendered (charts made), `frame` the first frame showing it was drawn.
 */
export const OPEN_MARKS = ['page', 'bundle', 'script', 'ready', 'snapshot', 'charts', 'frame'] as const;
export type OpenMark = (typeof OPEN_MARKS)[number];
export type OpenMarks = Record<OpenMark, number>;

/** What the diagnosis panels drew, counted: consumer rows, disk points, incident markers. */
export interface RenderedParts {
  consumers: number;
  diskPoints: number;
  incidents: number;
}

/**
 * Validates a message from the webview. Returns the typed message, or a string saying why it
 * was rejected; unknown fields are dropped so nothing unexpected reaches a handler.
 */
export function parseWebviewMessage(raw: unknown): WebviewMessage | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'message is not an object';
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'opened': {
      const raw = m.marks as Record<string, unknown> | undefined;
      if (typeof raw !== 'object' || raw === null) return 'opened: marks must be an object';
      const marks = {} as OpenMarks;
      for (const k of OPEN_MARKS) {
        const v = raw[k];
        // Unix ms between 2001 and 2286: anything else is no clock reading
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 1e12 || v > 1e13)
          return `opened: mark ${k} must be a time in Unix ms`;
        marks[k] = v;
      }
      return { type: 'opened', marks };
    }
    case 'forceRelease':
      if (typeof m.name !== 'string' || !LOCK_NAME_PATTERN.test(m.name))
        return `forceRelease: invalid lock name ${JSON.stringify(m.name)}`;
      return { type: 'forceRelease', name: m.name };
    case 'command':
      if (typeof m.command !== 'string' || !(WEBVIEW_COMMANDS as readonly string[]).includes(m.command)) {
        return `command: not allowed ${JSON.stringify(m.command)}`;
      }
      return { type: 'command', command: m.command as WebviewCommand };
    case 'rendered': {
      if (typeof m.samples !== 'number' || !Number.isInteger(m.samples) || m.samples < 0 || m.samples > 1e7) {
        return 'rendered: samples must be a non-negative integer';
      }
      const latest = typeof m.latest === 'string' && m.latest.length <= 40 ? m.latest : undefined;
      const d = m.drawn as Record<string, unknown> | undefined;
      const count = (v: unknown): v is number =>
        typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1e7;
      if (
        d !== undefined &&
        (typeof d !== 'object' || d === null || ![d.consumers, d.diskPoints, d.incidents].every(count))
      )
        return 'rendered: drawn must hold three non-negative integer counts';
      const drawn = d && {
        consumers: d.consumers as number,
        diskPoints: d.diskPoints as number,
        incidents: d.incidents as number,
      };
      return { type: 'rendered', samples: m.samples, latest, ...(drawn ? { drawn } : {}) };
    }
    default:
      return `unknown message type ${JSON.stringify(m.type)}`;
  }
}
