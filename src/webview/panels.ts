// The dashboard's panels other than the charts: current levels, figures table, locks, last
// cleanup, predictions, health. Each renders from plain data with textContent only.
import { formatBytes, formatDuration } from '../shared/format.js';
import { RESOURCE_KINDS, type ResourceKind } from '../shared/levels.js';
import type { MonitorState, Sample } from '../shared/monitor.js';
import {
  type CleanupReportView,
  type HealthTarget,
  type LockView,
  waiterState,
  type PredictionView,
} from '../shared/protocol.js';
import { TITLES } from './charts.js';
import { clockTime, h, table } from './dom.js';

function used(kind: ResourceKind, v: number): string {
  if (kind === 'memory') return formatBytes(v);
  if (kind === 'cpu') return `${(v / 100).toFixed(2)} cores`;
  return String(v);
}

function levelBadge(level: string): HTMLElement {
  return h('span', { class: `level level-${level.toLowerCase()}` }, level);
}

export function statusLine(state: MonitorState, latest: Sample | undefined, following: boolean): HTMLElement {
  const parts: (HTMLElement | string)[] = [];
  if (state.status === 'down')
    parts.push(
      h('strong', { class: 'down' }, 'Docker unreachable'),
      ` at ${state.endpoint}: ${state.reason}`,
    );
  else if (state.status === 'paused')
    parts.push(h('strong', {}, 'Monitoring paused'), ` (${state.endpoint})`);
  else if (latest)
    parts.push(
      'Overall ',
      levelBadge(latest.level),
      ` at ${latest.endpoint}, last sample ${clockTime(latest.sampledAt)}`,
    );
  else parts.push(`Waiting for the first sample of ${state.endpoint}…`);
  if (following) parts.push(' · following another window’s sampler');
  // the monitor's stats cost budget, in its own words ("sampling containers every 6 s to stay under 5% CPU")
  if (latest?.budget) parts.push(h('span', { class: 'budget' }, ` · ${latest.budget.reason}`));
  return h('p', { class: 'status', role: 'status' }, ...parts);
}

export function currentLevels(latest: Sample | undefined): HTMLElement {
  if (!latest) return h('p', {}, 'No sample yet.');
  return table(
    'Current level per resource',
    ['Resource', 'Used', 'Capacity', 'Percent', 'Level'],
    RESOURCE_KINDS.map((k) => {
      const f = latest.resources[k];
      return [TITLES[k], used(k, f.used), used(k, f.capacity), `${f.percent}%`, levelBadge(f.level)];
    }),
    'levels',
  );
}

/** The table view of the figures: every sample in range, newest first (the charts' accessible twin). */
export function figuresTable(samples: Sample[], limit = 200): HTMLElement {
  const rows = samples
    .slice(-limit)
    .reverse()
    .map((s) => [
      clockTime(s.sampledAt),
      s.level,
      `${s.resources.memory.percent}% (${formatBytes(s.resources.memory.used)})`,
      `${s.resources.cpu.percent}%`,
      String(s.resources.containers.used),
      String(s.resources.networks.used),
      String(s.resources.volumes.used),
    ]);
  return table(
    `Samples in range (${rows.length}, newest first)`,
    ['Time', 'Level', 'Memory', 'CPU', 'Containers', 'Networks', 'Volumes'],
    rows,
    'figures',
  );
}

export function locksPanel(
  locks: LockView[],
  trusted: boolean,
  onForce: (name: string) => void,
): HTMLElement {
  if (locks.length === 0) return h('p', {}, 'No environment locks.');
  const held = table(
    'Environment locks',
    ['Lock', 'Holder', 'Why', 'Age', 'State', ''],
    locks.map((l) => {
      const holder = l.holder ? `${l.holder.user}@${l.holder.host} (pid ${l.holder.pid})` : '—';
      const state = !l.held ? 'free' : l.stale ? 'stale' : l.mine ? 'held by this window' : 'held';
      let action: HTMLElement | string = '';
      if (trusted && l.held) {
        const b = h(
          'button',
          { type: 'button', class: l.stale ? '' : 'secondary', 'aria-label': `Force-release lock ${l.name}` },
          'Force release…',
        );
        b.addEventListener('click', () => onForce(l.name));
        action = b;
      }
      return [
        l.name,
        holder,
        l.holder?.why ?? '',
        l.ageMs === undefined ? '' : formatDuration(l.ageMs),
        state,
        action,
      ];
    }),
    'locks',
  );
  const queued = locks.filter((l) => l.queue && l.queue.length > 0);
  if (queued.length === 0) return held;
  // Waiters come from tickets in a shared folder: their text goes in as text nodes only (h()).
  const rows = queued.flatMap((l) =>
    (l.queue ?? []).map((w) => [
      l.name,
      waiterState(w),
      `${w.who.user}@${w.who.host} (pid ${w.who.pid})`,
      w.who.why,
      w.waitingFor,
      Number.isFinite(Date.parse(w.since)) ? clockTime(w.since) : '',
    ]),
  );
  const more = queued
    .filter((l) => (l.queueLength ?? 0) > (l.queue?.length ?? 0))
    .map((l) => `${l.name}: ${(l.queueLength ?? 0) - (l.queue?.length ?? 0)} more waiting`);
  return h(
    'div',
    {},
    held,
    table('Queued waiters', ['Lock', 'Place', 'Who', 'Why', 'Waits for', 'Since'], rows, 'lock-queue'),
    more.length > 0 ? h('p', {}, `Not listed: ${more.join('; ')}.`) : undefined,
  );
}

export function cleanupPanel(report: CleanupReportView | undefined): HTMLElement {
  if (!report) return h('p', {}, 'No cleanup has run in this session.');
  const summary = `${report.dryRun ? 'Dry run' : 'Cleanup'} (${report.trigger}) at ${new Date(report.finishedAt).toLocaleString()}: ${report.removed.length} removed, ${report.kept.length} kept, ${report.failed.length} failed${
    report.bytesReclaimed ? `, ${formatBytes(report.bytesReclaimed)} reclaimed` : ''
  }.`;
  const rows = [
    ...report.removed.map((r) => ['removed', r.kind, r.name, r.reason]),
    ...report.failed.map((r) => ['failed', r.kind, r.name, r.error]),
    ...report.kept.slice(0, 50).map((r) => ['kept', r.kind, r.name, r.reason]),
  ];
  return h(
    'div',
    {},
    h('p', {}, summary),
    rows.length > 0 ? table('Last cleanup', ['Outcome', 'Kind', 'Name', 'Why'], rows, 'cleanup') : '',
  );
}

export function predictionsPanel(predictions: PredictionView[]): HTMLElement {
  if (predictions.length === 0)
    return h(
      'p',
      {},
      'No runs recorded yet: predictions appear after `docker-stability run` has recorded test runs.',
    );
  return table(
    'Predicted load per test category',
    ['Category', 'Prediction', 'Level', 'Runs'],
    predictions.map((p) => [p.category, p.summary, p.level ? levelBadge(p.level) : '—', String(p.runs)]),
    'predictions',
  );
}

export function healthPanel(targets: HealthTarget[]): HTMLElement {
  return table(
    'Stability targets',
    ['Target', 'Now', 'Goal', 'Met'],
    targets.map((t) => [
      t.label,
      t.value,
      t.target,
      h(
        'span',
        { class: t.met === undefined ? 'met-unknown' : t.met ? 'met-yes' : 'met-no' },
        t.met === undefined ? 'no data' : t.met ? 'yes' : 'no',
      ),
    ]),
    'health',
  );
}
