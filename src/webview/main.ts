// The dashboard webview: asks for a snapshot on load, then applies the host's deltas. UI state
// (time range, chart or table view) survives hiding and reloads through getState/setState.
import { afterFirstFrame, mark } from './timing.js';
import './dashboard.css';
import type { Sample } from '../shared/monitor.js';
import type { HostMessage, Snapshot, WebviewMessage } from '../shared/protocol.js';
import { HistoryCharts } from './charts.js';
import { DiskChart, OwnerMemoryChart, timeRange } from './diagCharts.js';
import { consumersPanel, diskPanel, incidentsPanel, ownersPanel } from './diagPanels.js';
import { h, replaceChildren } from './dom.js';
import { frames } from './frame.js';
import {
  cleanupPanel,
  currentLevels,
  figuresTable,
  healthPanel,
  locksPanel,
  predictionsPanel,
  statusLine,
} from './panels.js';
import { inRange, parseUiState, RANGES, type UiState } from './uiState.js';
import { isOnScreen } from './visible.js';

interface VsCodeApi {
  postMessage(m: WebviewMessage): void;
  getState(): unknown;
  setState(s: UiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

const ui = parseUiState(vscode.getState());
let snap: Snapshot | undefined;
let charts: HistoryCharts | undefined;
let ownerChart: OwnerMemoryChart | undefined;
let diskChart: DiskChart | undefined;

const app = document.getElementById('app') as HTMLElement;
const els = {
  status: h('div'),
  toolbar: h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Dashboard actions' }),
  error: h('p', { class: 'error', role: 'alert', hidden: true }),
  levels: h('section', { 'aria-labelledby': 'h-levels' }),
  historyBody: h('div'),
  consumersBody: h('div'),
  ownerChart: h('div', { class: 'diag-charts' }),
  disk: h('section', { 'aria-labelledby': 'h-disk', hidden: true }),
  diskChart: h('div', { class: 'diag-charts' }),
  diskBody: h('div'),
  incidents: h('section', { 'aria-labelledby': 'h-incidents' }),
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

/** A panel section: its heading (`id` names it for aria-labelledby) and its body. */
function section(el: HTMLElement, id: string, title: string, body: Node): void {
  replaceChildren(el, h('h2', { id }, title), body);
}

/** The status line: monitor state, newest sample, whether the window follows the monitor. */
function renderStatus(): void {
  if (!snap) return;
  replaceChildren(els.status, statusLine(snap.state, snap.samples[snap.samples.length - 1], snap.following));
}

function button(label: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
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
    const shown = timeRange(snap?.samples ?? [], ui.rangeMs);
    ownerChart?.setRange(shown);
    diskChart?.setRange(shown);
    if (ui.view === 'table') renderHistory();
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
  if (ui.view === 'table') {
    replaceChildren(els.historyBody, figuresTable(inRange(snap.samples, ui.rangeMs)));
    return;
  }
  // in the page before the charts are made: chart.js sizes a chart from its canvas
  const fresh = !charts;
  charts ??= new HistoryCharts(snap.settings.thresholds, ui.rangeMs);
  replaceChildren(els.historyBody, charts.element);
  if (fresh) {
    charts.setAll(snap.samples, incidentTimes());
    charts.layerWhenIdle();
  } else charts.shown();
}

/** The incidents' times (Unix ms), marked on every chart. */
function incidentTimes(): number[] {
  return (snap?.incidents ?? []).map((i) => Date.parse(i.at));
}

function renderConsumers(latest: Sample | undefined): void {
  const owners = ownersPanel(latest);
  replaceChildren(
    els.consumersBody,
    consumersPanel(latest, ui.consumerSort, (by) => {
      ui.consumerSort = by;
      saveUi();
      renderConsumers(snap?.samples[snap.samples.length - 1]);
      els.consumersBody.querySelector<HTMLElement>(`button[data-sort="${by}"]`)?.focus();
    }),
    owners,
  );
}

/** Disk shows only once a sample carries a disk figure: older samples have none, and none is not zero. */
function renderDisk(): void {
  if (!snap || !diskChart) return;
  const panel = diskPanel(snap.samples);
  els.disk.hidden = !panel && !diskChart.hasData;
  replaceChildren(els.diskBody, panel);
}

function renderDiagnosis(): void {
  if (!snap) return;
  ownerChart?.dispose();
  diskChart?.dispose();
  const range = timeRange(snap.samples, ui.rangeMs);
  ownerChart = new OwnerMemoryChart();
  diskChart = new DiskChart(snap.settings.thresholds);
  replaceChildren(els.ownerChart, ownerChart.element);
  replaceChildren(els.diskChart, diskChart.element);
  // markers first: chart.js draws a chart once when it is made (setAll), with what it has then
  const times = incidentTimes();
  ownerChart.setIncidents(times);
  diskChart.setIncidents(times);
  ownerChart.setAll(snap.samples, range);
  diskChart.setAll(snap.samples, range);
  renderConsumers(snap.samples[snap.samples.length - 1]);
  renderDisk();
  renderIncidents();
}

function renderIncidents(): void {
  if (!snap) return;
  section(els.incidents, 'h-incidents', 'Incidents', incidentsPanel(snap.incidents));
}

function renderAll(): void {
  if (!snap) return;
  renderStatus();
  renderToolbar();
  section(els.levels, 'h-levels', 'Current levels', currentLevels(snap.samples[snap.samples.length - 1]));
  renderHistory();
  renderDiagnosis();
  section(els.health, 'h-health', 'Health', healthPanel(snap.health));
  renderLocks();
  section(els.cleanup, 'h-cleanup', 'Last cleanup', cleanupPanel(snap.cleanup));
  section(els.predictions, 'h-predictions', 'Predictions', predictionsPanel(snap.predictions));
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
    drawn: {
      consumers: els.consumersBody.querySelectorAll('table.consumers tbody tr').length,
      diskPoints: els.disk.hidden ? 0 : (diskChart?.pointCount ?? 0),
      incidents: charts?.markedIncidents ?? 0,
    },
  });
}

/** Whether a sample since the last frame brought a new disk measurement (the panel shows the newest). */
let diskChanged = false;

/** The panels a live sample changes: cheap, so they go in the first frame, after the charts on screen. */
function drawLivePanels(): void {
  if (!snap) return;
  const latest = snap.samples[snap.samples.length - 1];
  renderStatus();
  section(els.levels, 'h-levels', 'Current levels', currentLevels(latest));
  section(els.health, 'h-health', 'Health', healthPanel(snap.health));
  renderConsumers(latest);
  if (diskChanged) renderDisk();
  diskChanged = false;
}

/**
 * Job priorities (lower first): the charts on screen, the panels, the charts off screen, the
 * ack. The charts go before the panels: a chart's first text in a frame (its time labels) makes
 * the browser recalculate the page's style at once if the panels were just replaced (0.5 ms in
 * the benchmark); after them, that is left to the frame's own rendering.
 */
const ON_SCREEN = 0;
const PANELS = 1;
const OFF_SCREEN = 2;
const LAST = 3;

/**
 * What a live sample changes, spread over the next frames (frame.ts): the on-screen charts and
 * the panels first, then what is off screen. A chart whose drawing is still pending when the
 * next sample arrives draws once, with both.
 */
function drawLive(): void {
  frames.schedule('panels', drawLivePanels, PANELS);
  if (ui.view === 'table') frames.schedule('table', renderHistory, PANELS);
  const redraws = [
    ...(charts?.liveRedraws() ?? []),
    ...(ownerChart?.liveRedraws() ?? []),
    ...(diskChart?.liveRedraws() ?? []),
  ];
  for (const r of redraws) frames.schedule(r.key, r.draw, isOnScreen(r.element) ? ON_SCREEN : OFF_SCREEN);
  // once all of it is drawn: tests wait for what the webview says it rendered
  frames.schedule('ack', ack, LAST);
}

function onMessage(m: HostMessage): void {
  if (m.type === 'snapshot') {
    mark('snapshot');
    frames.clear(); // live drawing for charts about to be replaced
    charts?.dispose();
    charts = undefined;
    snap = m.snapshot;
    renderAll();
    ack();
    mark('charts');
    afterFirstFrame((marks) => post({ type: 'opened', marks }));
    return;
  }
  if (!snap) return; // deltas before the snapshot are covered by it
  switch (m.type) {
    case 'sample':
      frames.handle(() => {
        if (!snap) return;
        snap.samples.push(m.sample);
        if (snap.samples.length > snap.settings.historySize)
          snap.samples.splice(0, snap.samples.length - snap.settings.historySize);
        snap.health = m.health;
        charts?.add(m.sample, snap.settings.historySize);
        const range = timeRange(snap.samples, ui.rangeMs);
        ownerChart?.add(m.sample, snap.settings.historySize, range);
        if (diskChart?.add(m.sample, snap.settings.historySize, range)) diskChanged = true;
        drawLive();
      });
      break;
    case 'state':
      snap.state = m.state;
      snap.following = m.following;
      renderStatus();
      renderToolbar();
      break;
    case 'settings':
      snap.settings = m.settings;
      charts?.setThresholds(m.settings.thresholds);
      diskChart?.setThresholds(m.settings.thresholds);
      break;
    case 'incidents': {
      snap.incidents = m.incidents;
      const times = incidentTimes();
      charts?.setIncidents(times);
      ownerChart?.setIncidents(times);
      diskChart?.setIncidents(times);
      renderIncidents();
      ack();
      break;
    }
    case 'locks':
      snap.locks = m.locks;
      renderLocks();
      break;
    case 'cleanup':
      snap.cleanup = m.report;
      section(els.cleanup, 'h-cleanup', 'Last cleanup', cleanupPanel(m.report));
      break;
    case 'predictions':
      snap.predictions = m.predictions;
      snap.health = m.health;
      section(els.predictions, 'h-predictions', 'Predictions', predictionsPanel(m.predictions));
      section(els.health, 'h-health', 'Health', healthPanel(snap.health));
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
  els.incidents,
  h(
    'section',
    { 'aria-labelledby': 'h-consumers' },
    h('h2', { id: 'h-consumers' }, 'Who uses what'),
    els.ownerChart,
    els.consumersBody,
  ),
  els.disk,
  els.health,
  els.locks,
  els.cleanup,
  els.predictions,
);

els.disk.append(h('h2', { id: 'h-disk' }, 'Disk'), els.diskChart, els.diskBody);

window.addEventListener('message', (e: MessageEvent<HostMessage>) => onMessage(e.data));
// VS Code swaps the body's theme class (vscode-light, vscode-dark, vscode-high-contrast...).
new MutationObserver(() => {
  charts?.retheme();
  ownerChart?.retheme();
  diskChart?.retheme();
}).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});
mark('ready');
post({ type: 'ready' });
