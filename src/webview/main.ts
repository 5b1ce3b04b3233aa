// The dashboard webview: asks for a snapshot on load, then applies the host's deltas. UI state
// (time range, chart or table view) survives hiding and reloads through getState/setState.
import './dashboard.css';
import type { Sample } from '../shared/monitor.js';
import type { HostMessage, Snapshot, WebviewMessage } from '../shared/protocol.js';
import { HistoryCharts } from './charts.js';
import { h, replaceChildren } from './dom.js';
import {
  cleanupPanel,
  currentLevels,
  figuresTable,
  healthPanel,
  locksPanel,
  predictionsPanel,
  statusLine,
} from './panels.js';

interface VsCodeApi {
  postMessage(m: WebviewMessage): void;
  getState(): unknown;
  setState(s: UiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface UiState {
  rangeMs: number;
  view: 'charts' | 'table';
}

const RANGES: { label: string; ms: number }[] = [
  { label: '5 min', ms: 5 * 60_000 },
  { label: '15 min', ms: 15 * 60_000 },
  { label: '1 hour', ms: 3_600_000 },
  { label: '6 hours', ms: 6 * 3_600_000 },
  { label: 'All', ms: Number.POSITIVE_INFINITY },
];

const vscode = acquireVsCodeApi();

function loadUi(): UiState {
  const s = (vscode.getState() ?? {}) as { rangeMs?: unknown; view?: unknown };
  // JSON turns Infinity ("All") into null.
  const rangeMs =
    s.rangeMs === null ? Number.POSITIVE_INFINITY : typeof s.rangeMs === 'number' ? s.rangeMs : 15 * 60_000;
  return { rangeMs, view: s.view === 'table' ? 'table' : 'charts' };
}

const ui = loadUi();
let snap: Snapshot | undefined;
let charts: HistoryCharts | undefined;

const app = document.getElementById('app') as HTMLElement;
const els = {
  status: h('div'),
  toolbar: h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Dashboard actions' }),
  error: h('p', { class: 'error', role: 'alert', hidden: true }),
  levels: h('section', { 'aria-labelledby': 'h-levels' }),
  historyBody: h('div'),
  health: h('section', { 'aria-labelledby': 'h-health' }),
  locks: h('section', { 'aria-labelledby': 'h-locks' }),
  cleanup: h('section', { 'aria-labelledby': 'h-cleanup' }),
  predictions: h('section', { 'aria-labelledby': 'h-predictions' }),
};

function saveUi(): void {
  vscode.setState(ui);
}

function post(m: WebviewMessage): void {
  vscode.postMessage(m);
}

function button(label: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
}

function inRange(samples: Sample[]): Sample[] {
  if (!Number.isFinite(ui.rangeMs)) return samples;
  const last = samples[samples.length - 1];
  const min = (last ? Date.parse(last.sampledAt) : Date.now()) - ui.rangeMs;
  return samples.filter((s) => Date.parse(s.sampledAt) >= min);
}

function renderToolbar(): void {
  if (!snap) return;
  const paused = snap.state.status === 'paused';
  const range = h(
    'select',
    { id: 'range', 'aria-label': 'Time range' },
    ...RANGES.map((r) => h('option', { value: String(r.ms), selected: r.ms === ui.rangeMs }, r.label)),
  );
  range.addEventListener('change', () => {
    ui.rangeMs = Number(range.value);
    saveUi();
    charts?.setRange(ui.rangeMs);
    renderHistory();
  });
  const view = button(
    ui.view === 'charts' ? 'Show table' : 'Show charts',
    () => {
      ui.view = ui.view === 'charts' ? 'table' : 'charts';
      saveUi();
      renderToolbar();
      renderHistory();
    },
    { 'aria-pressed': String(ui.view === 'table') },
  );
  replaceChildren(
    els.toolbar,
    h('label', { for: 'range' }, 'Range '),
    range,
    view,
    button('Sample now', () => post({ type: 'command', command: 'sampleNow' })),
    button(paused ? 'Resume monitoring' : 'Pause monitoring', () =>
      post({ type: 'command', command: paused ? 'resumeMonitoring' : 'pauseMonitoring' }),
    ),
    snap.trusted
      ? button('Clean up now…', () => post({ type: 'command', command: 'cleanUpNow' }))
      : h('span', { class: 'muted' }, 'Restricted mode: cleanup and force-release are disabled.'),
    button('Show log', () => post({ type: 'command', command: 'showLog' }), { class: 'secondary' }),
  );
}

function renderHistory(): void {
  if (!snap) return;
  if (!charts) {
    charts = new HistoryCharts(snap.settings.thresholds, ui.rangeMs);
    charts.setAll(snap.samples);
  }
  if (ui.view === 'charts') replaceChildren(els.historyBody, charts.element);
  else replaceChildren(els.historyBody, figuresTable(inRange(snap.samples)));
}

function renderAll(): void {
  if (!snap) return;
  const latest = snap.samples[snap.samples.length - 1];
  replaceChildren(els.status, statusLine(snap.state, latest, snap.following));
  renderToolbar();
  replaceChildren(els.levels, h('h2', { id: 'h-levels' }, 'Current levels'), currentLevels(latest));
  renderHistory();
  replaceChildren(els.health, h('h2', { id: 'h-health' }, 'Health'), healthPanel(snap.health));
  renderLocks();
  replaceChildren(els.cleanup, h('h2', { id: 'h-cleanup' }, 'Last cleanup'), cleanupPanel(snap.cleanup));
  replaceChildren(
    els.predictions,
    h('h2', { id: 'h-predictions' }, 'Predictions'),
    predictionsPanel(snap.predictions),
  );
}

function renderLocks(): void {
  if (!snap) return;
  replaceChildren(
    els.locks,
    h('h2', { id: 'h-locks' }, 'Environment locks'),
    locksPanel(snap.locks, snap.trusted, (name) => post({ type: 'forceRelease', name })),
  );
}

function ack(): void {
  if (!snap) return;
  post({
    type: 'rendered',
    samples: snap.samples.length,
    latest: snap.samples[snap.samples.length - 1]?.sampledAt,
  });
}

function onMessage(m: HostMessage): void {
  if (m.type === 'snapshot') {
    charts?.dispose();
    charts = undefined;
    snap = m.snapshot;
    renderAll();
    ack();
    return;
  }
  if (!snap) return; // deltas before the snapshot are covered by it
  switch (m.type) {
    case 'sample':
      snap.samples.push(m.sample);
      if (snap.samples.length > snap.settings.historySize)
        snap.samples.splice(0, snap.samples.length - snap.settings.historySize);
      snap.health = m.health;
      charts?.add(m.sample, snap.settings.historySize);
      replaceChildren(els.status, statusLine(snap.state, m.sample, snap.following));
      replaceChildren(els.levels, h('h2', { id: 'h-levels' }, 'Current levels'), currentLevels(m.sample));
      replaceChildren(els.health, h('h2', { id: 'h-health' }, 'Health'), healthPanel(snap.health));
      if (ui.view === 'table') renderHistory();
      ack();
      break;
    case 'state':
      snap.state = m.state;
      snap.following = m.following;
      replaceChildren(
        els.status,
        statusLine(snap.state, snap.samples[snap.samples.length - 1], snap.following),
      );
      renderToolbar();
      break;
    case 'settings':
      snap.settings = m.settings;
      charts?.setThresholds(m.settings.thresholds);
      break;
    case 'locks':
      snap.locks = m.locks;
      renderLocks();
      break;
    case 'cleanup':
      snap.cleanup = m.report;
      replaceChildren(els.cleanup, h('h2', { id: 'h-cleanup' }, 'Last cleanup'), cleanupPanel(m.report));
      break;
    case 'predictions':
      snap.predictions = m.predictions;
      snap.health = m.health;
      replaceChildren(
        els.predictions,
        h('h2', { id: 'h-predictions' }, 'Predictions'),
        predictionsPanel(m.predictions),
      );
      replaceChildren(els.health, h('h2', { id: 'h-health' }, 'Health'), healthPanel(snap.health));
      break;
    case 'error':
      els.error.textContent = m.message;
      els.error.hidden = false;
      setTimeout(() => (els.error.hidden = true), 10_000);
      break;
  }
}

replaceChildren(
  app,
  h('h1', {}, 'Docker Stability'),
  els.status,
  els.toolbar,
  els.error,
  els.levels,
  h(
    'section',
    { 'aria-labelledby': 'h-history', class: 'history' },
    h('h2', { id: 'h-history' }, 'History'),
    els.historyBody,
  ),
  els.health,
  els.locks,
  els.cleanup,
  els.predictions,
);

window.addEventListener('message', (e: MessageEvent<HostMessage>) => onMessage(e.data));
// VS Code swaps the body's theme class (vscode-light, vscode-dark, vscode-high-contrast...).
new MutationObserver(() => charts?.retheme()).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});
post({ type: 'ready' });
