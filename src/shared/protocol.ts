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
  /** Its queued waiters, first first, at most MAX_QUEUE_VIEW (absent when nobody waits). */
  queue?: LockWaiterView[];
  /** How many wait in all, when more than the queue lists. */
  queueLength?: number;
}

/** One waiter in a lock's queue. Its text comes from a ticket in a shared folder: untrusted. */
export interface LockWaiterView {
  /** 1 for the first in line. */
  position: number;
  mode: 'shared' | 'exclusive';
  who: { user: string; host: string; pid: number; why: string };
  /** When it began to wait (ISO 8601). */
  since: string;
  /** What it waits for, in the core's words ("exclusive holder alice@ci-7 (pid 42)", "its turn"). */
  waitingFor: string;
  /** Its own admission found no room for it: waiters that fit may go first. */
  blocked: boolean;
  /** Only the holders that went in ahead of it keep it out. */
  reserved: boolean;
}

/** A dashboard lists this many waiters per lock; the rest are counted. */
export const MAX_QUEUE_VIEW = 20;
/** A waiter's text is cut to this length: a ticket in a shared folder may carry anything. */
const MAX_WAITER_TEXT = 200;

/** The fields of a queued waiter the view takes (the core's QueuedWaiter has them). */
export interface QueuedWaiterLike {
  position: number;
  mode: 'shared' | 'exclusive';
  holder: { user: string; host: string; pid: number; why?: string; acquiredAt: string };
  waitingFor: string;
  blocked: boolean;
  reserved: boolean;
}

function clip(s: string | undefined): string {
  const t = typeof s === 'string' ? s : '';
  return t.length > MAX_WAITER_TEXT ? `${t.slice(0, MAX_WAITER_TEXT - 1)}…` : t;
}

/** A lock's queue as the view carries it: the first MAX_QUEUE_VIEW waiters, text fields cut short. */
export function lockQueueView(
  queue: readonly QueuedWaiterLike[] | undefined,
): Pick<LockView, 'queue' | 'queueLength'> {
  if (!queue || queue.length === 0) return {};
  const shown = queue.slice(0, MAX_QUEUE_VIEW).map((w): LockWaiterView => ({
    position: w.position,
    mode: w.mode,
    who: { user: clip(w.holder.user), host: clip(w.holder.host), pid: w.holder.pid, why: clip(w.holder.why) },
    since: clip(w.holder.acquiredAt),
    waitingFor: clip(w.waitingFor),
    blocked: w.blocked,
    reserved: w.reserved,
  }));
  return queue.length > shown.length ? { queue: shown, queueLength: queue.length } : { queue: shown };
}

/** A waiter's place and mode in words: "#2 shared, no room yet". */
export function waiterState(w: LockWaiterView): string {
  const note = w.blocked ? ', no room yet' : w.reserved ? ', next (reserved)' : '';
  return `#${w.position} ${w.mode}${note}`;
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
