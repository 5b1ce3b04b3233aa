// What the status bar item says, as a pure function of the monitor's state (tested directly;
// statusBar.ts only copies the result onto the VS Code item).
import type { Level, LevelledKind } from '../core/levels';
import {
  countByKind,
  incidentsSince,
  INCIDENT_KINDS,
  INCIDENT_TITLES,
  type Incident,
} from '../core/incidents/types';
import { DEFAULT_FORECAST, upcomingCrossings, type Forecast } from '../core/monitor/forecast';
import { drivingFigure, levelledFigures } from '../core/monitor/formulas';
import { ownerLabel } from '../core/monitor/owners';
import type { MonitorState, Sample } from '../core/monitor/types';
import { formatBytes, formatDuration } from '../core/util/duration';
import { stripControlChars } from '../core/util/terminalText';
import { waiterState, type LockView } from '../shared/protocol';
import { CommandId } from './commandIds';

export interface StatusInput {
  state?: MonitorState;
  sample?: Sample;
  locks: readonly LockView[];
  /** Another window samples; this one follows its history. */
  following?: boolean;
  /** A docker-stability agent samples this endpoint. */
  agent?: AgentView;
  /** The endpoint's recorded incidents, oldest first. */
  incidents?: readonly Incident[];
  /** The trend per resource (see core/monitor/forecast). */
  forecasts?: readonly Forecast[];
  now?: number;
}

export interface AgentView {
  pid: number;
  since: string;
}

export interface StatusView {
  text: string;
  /** Overall level, or 'UNREACHABLE' / 'PAUSED' / 'STARTING' when there is no current level. */
  level: Level | 'UNREACHABLE' | 'PAUSED' | 'STARTING';
  /** Only for states the user can act on (STYLE.md): CRITICAL warns, EMERGENCY errors. */
  background?: 'warning' | 'error';
  tooltip: string;
  /** Commands the tooltip links to (the MarkdownString enables exactly these). */
  tooltipCommands: string[];
}

const ICON: Record<Level, string> = {
  SAFE: '$(pulse)',
  WARNING: '$(pulse)',
  CRITICAL: '$(warning)',
  EMERGENCY: '$(flame)',
};

const LABEL: Record<LevelledKind, string> = {
  memory: 'memory',
  cpu: 'CPU',
  containers: 'containers',
  networks: 'networks',
  volumes: 'volumes',
  disk: 'disk',
};

export function formatUsed(kind: LevelledKind, value: number): string {
  if (kind === 'memory' || kind === 'disk') return formatBytes(value);
  if (kind === 'cpu') return `${(value / 100).toFixed(2)} cores`;
  return String(Math.round(value));
}

function pct(p: number): string {
  return `${Math.round(p)}%`;
}

export function renderStatus(input: StatusInput): StatusView {
  const now = input.now ?? Date.now();
  const held = input.locks.filter((l) => l.held);
  const lockText =
    held.length > 0 ? ` $(lock) ${held.map((l) => stripControlChars(l.holder?.user ?? '?')).join(', ')}` : '';
  const tooltipCommands = [CommandId.openDashboard, CommandId.cleanUpNow, CommandId.resumeMonitoring];
  const lines: string[] = [];
  const endpoint = input.state?.endpoint ?? input.sample?.endpoint ?? '?';

  let text: string;
  let level: StatusView['level'];
  let background: StatusView['background'];
  const state = input.state;
  if (state?.status === 'down') {
    level = 'UNREACHABLE';
    text = `$(debug-disconnect) Docker unreachable`;
    lines.push(`**Docker is not reachable** at \`${endpoint}\``, '', `Reason: ${escapeMd(state.reason)}`, '');
    lines.push(`Since ${state.since}; next try in ${formatDuration(state.retryInMs)}.`, '');
  } else if (state?.status === 'paused') {
    level = 'PAUSED';
    text = `$(debug-pause) Docker paused`;
    lines.push(
      `**Monitoring paused** (\`${endpoint}\`). [Resume](command:${CommandId.resumeMonitoring})`,
      '',
    );
  } else if (!input.sample) {
    level = 'STARTING';
    text = `$(sync~spin) Docker`;
    lines.push(`**Docker Stability** is taking the first sample of \`${endpoint}\`…`, '');
  } else {
    const s = input.sample;
    const { kind, figure } = drivingFigure(s);
    level = s.level;
    text = `${ICON[s.level]} ${s.level} ${LABEL[kind]} ${pct(figure.percent)}`;
    background = s.level === 'EMERGENCY' ? 'error' : s.level === 'CRITICAL' ? 'warning' : undefined;
    lines.push(`**Docker ${s.level}** at \`${endpoint}\``, '');
  }

  if (input.sample) {
    const s = input.sample;
    lines.push('| Resource | Used | Capacity | % | Level |', '|---|--:|--:|--:|---|');
    for (const { kind, figure: f } of levelledFigures(s)) {
      lines.push(
        `| ${LABEL[kind]} | ${formatUsed(kind, f.used)} | ${formatUsed(kind, f.capacity)} | ${pct(f.percent)} | ${f.level} |`,
      );
    }
    lines.push(...topLines(s), ...forecastLines(input.forecasts ?? []), ...budgetLines(s));
    const age = now - Date.parse(s.sampledAt);
    lines.push(
      '',
      `Last sample ${s.sampledAt} (${formatDuration(age)} ago, took ${formatDuration(s.durationMs)}), ${s.running} running.`,
    );
  }
  lines.push(...incidentLines(input.incidents ?? [], now));
  if (input.agent) {
    lines.push(
      '',
      `Following the docker-stability **agent** on this host (pid ${input.agent.pid}, since ${input.agent.since}): it samples, this window reads its history.`,
    );
  } else if (input.following)
    lines.push('', 'Following the sampler of another window (one sampler per machine).');
  lines.push('');
  if (held.length === 0) lines.push('No environment lock held.');
  for (const l of held) {
    const h = l.holder;
    const who = h ? `${escapeMd(h.user)}@${escapeMd(h.host)} (pid ${h.pid})` : 'unknown holder';
    const why = h?.why ? ` — ${escapeMd(h.why)}` : '';
    lines.push(
      `$(lock) **${escapeMd(l.name)}**: ${who}${why}${l.stale ? ' — **stale**' : ''}${l.mine ? ' (this window)' : ''}  `,
    );
  }
  lines.push(...queueLines(input.locks));
  lines.push(
    '',
    `[Open dashboard](command:${CommandId.openDashboard}) · [Clean up now](command:${CommandId.cleanUpNow})`,
  );
  return { text: text + lockText, level, background, tooltip: lines.join('\n'), tooltipCommands };
}

/** The tooltip names this many waiters per lock; the dashboard lists them all. */
const TOOLTIP_WAITERS = 3;

/** Who waits for each lock, first first (ticket text is from a shared folder: escaped). */
function queueLines(locks: readonly LockView[]): string[] {
  const lines: string[] = [];
  for (const l of locks) {
    const q = l.queue ?? [];
    if (q.length === 0) continue;
    const total = Math.max(l.queueLength ?? 0, q.length);
    lines.push(`$(watch) **${escapeMd(l.name)}**: ${total} waiting  `);
    for (const w of q.slice(0, TOOLTIP_WAITERS)) {
      const why = w.who.why ? ` — ${escapeMd(w.who.why)}` : '';
      lines.push(
        `${escapeMd(waiterState(w))}: ${escapeMd(w.who.user)}@${escapeMd(w.who.host)} (pid ${w.who.pid})${why}, waits for ${escapeMd(w.waitingFor)}  `,
      );
    }
    if (total > TOOLTIP_WAITERS) lines.push(`and ${total - TOOLTIP_WAITERS} more  `);
  }
  return lines;
}

const INCIDENT_WINDOW_MS = 60 * 60_000;

/** How many incidents in the last hour, by kind, and the latest one (names escaped: they come from the daemon). */
function incidentLines(all: readonly Incident[], now: number): string[] {
  const recent = incidentsSince(all, now - INCIDENT_WINDOW_MS);
  if (recent.length === 0) return [];
  const counts = countByKind(recent);
  const byKind = INCIDENT_KINDS.filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${INCIDENT_TITLES[k]}`);
  const last = recent[recent.length - 1] as Incident;
  const what = last.container
    ? `${INCIDENT_TITLES[last.kind]} of ${escapeMd(last.container.name)} (${escapeMd(ownerLabel(last.container.owner))})`
    : INCIDENT_TITLES[last.kind];
  return [
    '',
    `**${recent.length} incident${recent.length === 1 ? '' : 's'}** in the last hour: ${byKind.join(', ')}. Last: ${what}, ${formatDuration(Math.max(0, now - Date.parse(last.at)))} ago.`,
  ];
}

/** "memory WARNING in about 4m 00s at this rate", or honestly steady / too little data. */
function forecastLines(all: readonly Forecast[]): string[] {
  if (all.length === 0) return [];
  const c = upcomingCrossings(all);
  if (c === 'too-little-data') return ['', 'Trend: too little data yet.'];
  if (c === 'none')
    return ['', `Trend: no level change within ${formatDuration(DEFAULT_FORECAST.horizonMs)} at this rate.`];
  return [
    '',
    ...c.map(
      (x) =>
        `**${LABEL[x.kind]} ${x.level}** in about ${formatDuration(x.inMs)} at this rate (+${x.perMinute} points a minute).  `,
    ),
  ];
}

/** The stats budget's own sentence (API path only): why the per-container figures may lag the counts. */
function budgetLines(s: Sample): string[] {
  const r = s.budget?.reason;
  return r ? ['', `${escapeMd(r.charAt(0).toUpperCase() + r.slice(1))}.`] : [];
}

/** The tooltip names this many of the heaviest containers: enough to answer "what is eating it". */
const TOOLTIP_TOP = 3;

/** The heaviest containers with their owners; names and label values come from the daemon: escaped. */
function topLines(s: Sample): string[] {
  const top = s.consumers?.slice(0, TOOLTIP_TOP) ?? [];
  if (top.length === 0) return [];
  const lines = [
    '',
    `Top ${top.length} by memory:`,
    '',
    '| Container | Owner | Memory | CPU |',
    '|---|---|--:|--:|',
  ];
  for (const c of top) {
    lines.push(
      `| ${escapeMd(c.name)} | ${escapeMd(ownerLabel(c.owner))} | ${formatBytes(c.memoryBytes)} | ${c.cpuPercent.toFixed(1)}% |`,
    );
  }
  return lines;
}

/** Escapes Markdown in text that came from outside (lock holders, error messages), and drops its control characters. */
export function escapeMd(s: string): string {
  return stripControlChars(s).replace(/[\\`*_{}[\]()#+!|<>]/g, (c) => `\\${c}`);
}
