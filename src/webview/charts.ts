// History charts (chart.js, bundled): one per resource, thresholds drawn as dashed lines,
// fed point by point as samples arrive; a live sample redraws each chart's live layer
// (liveLayer.ts), not the chart.js chart.
import type { Chart, ChartOptions } from 'chart.js';
import { formatBytes } from '../shared/format.js';
import {
  RESOURCE_KINDS,
  thresholdsFor,
  type ResourceKind,
  type ThresholdSettings,
} from '../shared/levels.js';
import type { Sample } from '../shared/monitor.js';
import {
  DECIMATION,
  firstAtOrAfter,
  lineChart,
  rethemeChart,
  themeColors,
  timeChartOptions,
  type Line,
  type Point,
} from './chartBase.js';
import { clockTime, h } from './dom.js';
import { extent } from './linePath.js';
import { LiveLayer, type LayerView } from './liveLayer.js';
import { markersIn } from './markers.js';
import { drawWhenVisible, unwatch, type LiveRedraw } from './visible.js';

export const TITLES: Record<ResourceKind, string> = {
  memory: 'Memory',
  cpu: 'CPU',
  containers: 'Containers',
  networks: 'Networks',
  volumes: 'Volumes',
};

/** Memory and CPU plot percent of capacity; the counts plot the count itself. */
const PERCENT: ReadonlySet<ResourceKind> = new Set(['memory', 'cpu']);

function valueOf(kind: ResourceKind, s: Sample): number {
  const f = s.resources[kind];
  return PERCENT.has(kind) ? f.percent : f.used;
}

function describe(kind: ResourceKind, s: Sample): string {
  const f = s.resources[kind];
  if (kind === 'memory') return `${f.percent}% (${formatBytes(f.used)} of ${formatBytes(f.capacity)})`;
  if (kind === 'cpu') return `${f.percent}% of ${f.capacity / 100} cores`;
  return `${f.used} of ${f.capacity} (${f.percent}%)`;
}

/** Runs `work` when the page is idle (within a second at most). */
function whenIdle(work: () => void): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(work, { timeout: 1000 });
  else setTimeout(work, 50);
}

export class HistoryCharts {
  private readonly charts = new Map<ResourceKind, Chart<'line', Point[]>>();
  private readonly canvases = new Map<ResourceKind, HTMLCanvasElement>();
  private readonly redraws = new Map<ResourceKind, (force?: boolean) => void>();
  /** Each chart's live layer (liveLayer.ts): a live sample redraws that, not the chart. */
  private readonly layers = new Map<ResourceKind, LiveLayer>();
  /** Charts whose next draw is a chart.js update (what changed is more than a sample). */
  private readonly stale = new Set<ResourceKind>();
  /** The chart under the pointer: chart.js draws all of it, with its tooltip, until the pointer leaves. */
  private hovered?: ResourceKind;
  /**
   * Charts drawn in layers, from their first live sample on: until then chart.js draws all of a
   * chart, so that opening the dashboard pays neither for keeping the frame nor for the layer.
   */
  private readonly layered = new Set<ResourceKind>();
  private disposed = false;
  /**
   * Each chart's data, built once from the snapshot and then appended to. Kept here because the
   * decimation plugin replaces `dataset.data` with its decimated view: this is the source.
   */
  private readonly points = new Map<ResourceKind, Point[]>();
  private samples: Sample[] = [];
  /** sampledAt of each sample in Unix ms, parsed once. */
  private times: number[] = [];
  private incidents: number[] = [];
  private colors = themeColors();
  readonly element: HTMLElement;

  constructor(
    private thresholds: ThresholdSettings,
    private rangeMs: number,
  ) {
    this.element = h('div', { class: 'charts' });
    for (const kind of RESOURCE_KINDS) {
      const canvas = h('canvas', {
        role: 'img',
        'aria-label': `${TITLES[kind]} history: no samples yet`,
        tabindex: 0,
      });
      this.canvases.set(kind, canvas);
      const figure = h(
        'figure',
        { class: 'chart' },
        h('figcaption', {}, `${TITLES[kind]}${PERCENT.has(kind) ? ' (%)' : ' (count)'}`),
        h('div', { class: 'chart-box' }, canvas),
      );
      this.element.append(figure);
      this.points.set(kind, []);
      this.layers.set(kind, new LiveLayer(() => this.layerView(kind), DECIMATION));
      canvas.addEventListener('pointerenter', () => this.hover(kind));
      canvas.addEventListener('pointerleave', () => this.hover(undefined));
      this.redraws.set(
        kind,
        drawWhenVisible(canvas, () => this.draw(kind)),
      );
    }
  }

  /**
   * Made on its first draw, with its data and options as they are then: chart.js draws a chart
   * when it is made, and sizes it from its canvas, which must be in the page by then (a chart
   * made detached is drawn again at its real size once attached).
   */
  private create(kind: ResourceKind, canvas: HTMLCanvasElement): Chart<'line', Point[]> {
    const c = this.colors;
    const options = timeChartOptions(c, (item) => {
      const t = item.parsed.x ?? 0;
      const i = firstAtOrAfter(this.times, t);
      const s = this.times[i] === t ? this.samples[i] : undefined;
      return s ? describe(kind, s) : String(item.parsed.y);
    });
    const on = this.configure(kind, options);
    return lineChart(canvas, this.points.get(kind)!, c, options, [this.layers.get(kind)!.plugin], on);
  }

  /** What the live layer draws for `kind`, now. */
  private layerView(kind: ResourceKind): LayerView {
    const { min, end } = this.window();
    return {
      points: this.points.get(kind)!,
      min,
      max: end,
      lines: this.lines(kind),
      times: this.incidents,
      colors: this.colors,
      tickLabel: clockTime,
    };
  }

  /** The pointer entered (kind) or left (undefined) a chart: chart.js draws that one whole, for its tooltip. */
  private hover(kind: ResourceKind | undefined): void {
    const before = this.hovered;
    this.hovered = kind;
    for (const k of [before, kind]) {
      if (k === undefined) continue;
      this.stale.add(k);
      this.draw(k);
    }
  }

  /** Threshold lines in the chart's own unit (percent, or a count of the capacity). */
  private lines(kind: ResourceKind): Line[] {
    const t = thresholdsFor(kind, this.thresholds);
    const capacity = this.samples[this.samples.length - 1]?.resources[kind].capacity;
    const scale = PERCENT.has(kind) ? 1 : (capacity ?? 100) / 100;
    return [
      { y: t.warning * scale, color: this.colors.warning },
      { y: t.critical * scale, color: this.colors.critical },
      { y: t.emergency * scale, color: this.colors.emergency },
    ];
  }

  /** The history and the incidents' times (Unix ms) to mark, drawn at once. */
  setAll(samples: Sample[], incidents: number[]): void {
    this.incidents = incidents;
    this.samples = [...samples];
    this.times = this.samples.map((s) => Date.parse(s.sampledAt));
    for (const [kind, points] of this.points) {
      points.length = 0;
      for (let i = 0; i < this.samples.length; i++)
        points.push({ x: this.times[i]!, y: valueOf(kind, this.samples[i]!) });
    }
    this.refresh();
  }

  /** Appends one sample: one point per chart, not a rebuild of the history; drawn by `redraw`. */
  add(sample: Sample, maxPoints: number): void {
    this.samples.push(sample);
    const t = Date.parse(sample.sampledAt);
    this.times.push(t);
    const drop = Math.max(0, this.samples.length - maxPoints);
    if (drop > 0) {
      this.samples.splice(0, drop);
      this.times.splice(0, drop);
    }
    for (const [kind, points] of this.points) {
      points.push({ x: t, y: valueOf(kind, sample) });
      if (drop > 0) points.splice(0, drop);
    }
  }

  /**
   * Each chart's drawing of what samples added, a job apiece (a frame fits one or two): the
   * charts on screen draw then, the others once they are seen.
   */
  liveRedraws(): LiveRedraw[] {
    return RESOURCE_KINDS.map((kind) => ({
      key: `history:${kind}`,
      element: this.canvases.get(kind)!,
      draw: () => {
        this.layer(kind);
        this.redraws.get(kind)?.(false);
      },
    }));
  }

  /** From now on `kind` is drawn in layers; its next draw, a chart.js update, makes the frame. */
  private layer(kind: ResourceKind): void {
    if (this.layered.has(kind)) return;
    this.layered.add(kind);
    this.stale.add(kind);
  }

  /**
   * Hands the charts to their live layers in idle time once the page is drawn, one chart per
   * idle period (a chart.js update, 2-3 ms each): the first live sample then finds them layered
   * and costs what any other does. A chart not layered by then is layered by that sample.
   */
  layerWhenIdle(): void {
    const pending = RESOURCE_KINDS.filter((k) => !this.layered.has(k));
    const step = (): void => {
      const kind = pending.shift();
      if (kind === undefined || this.disposed) return;
      if (!this.layered.has(kind)) {
        this.layer(kind);
        this.redraws.get(kind)?.(false);
      }
      if (pending.length > 0) whenIdle(step);
    };
    whenIdle(step);
  }

  /** How many incidents fall in the range shown (each is marked on every chart). */
  get markedIncidents(): number {
    const { min, end } = this.window();
    return markersIn(this.incidents, min, end);
  }

  /** Incident times (Unix ms), marked on every chart. */
  setIncidents(times: number[]): void {
    this.incidents = times;
    this.refresh();
  }

  setThresholds(t: ThresholdSettings): void {
    this.thresholds = t;
    this.refresh();
  }

  setRange(ms: number): void {
    this.rangeMs = ms;
    this.refresh();
  }

  /** Re-reads theme colours (the body class changes when the user switches themes). */
  retheme(): void {
    this.colors = themeColors();
    for (const chart of this.charts.values()) {
      const ds = chart.data.datasets[0]!;
      ds.borderColor = this.colors.line;
      ds.backgroundColor = this.colors.line;
      rethemeChart(chart, this.colors);
    }
    this.refresh();
  }

  /** The range shown: from `min` (undefined: the first sample) to the newest sample. */
  private window(): { end: number | undefined; min: number | undefined; from: number } {
    const end = this.times[this.times.length - 1];
    // "All" starts at the first sample, not at a round number chart.js would pick
    const min = Number.isFinite(this.rangeMs) ? (end ?? Date.now()) - this.rangeMs : this.times[0];
    return { end, min, from: min === undefined ? 0 : firstAtOrAfter(this.times, min) };
  }

  /** Draws every chart now (what changed is not only a sample: range, thresholds, markers). */
  private refresh(): void {
    for (const kind of RESOURCE_KINDS) {
      this.stale.add(kind);
      this.redraws.get(kind)?.(true);
    }
  }

  /**
   * The range, thresholds, markers and y bounds, set on a chart's options before a chart.js
   * update; with the live layer on (the result), chart.js leaves the line, thresholds, markers
   * and the x labels' ink to it. The y axis is asked for as suggested bounds that cover the data
   * in range (so that chart.js's own limits, taken from the decimated points, never widen it):
   * the same bounds, the same axis.
   */
  private configure(
    kind: ResourceKind,
    options: ChartOptions<'line'>,
    chart?: Chart<'line', Point[]>,
  ): boolean {
    const { end, min } = this.window();
    const layer = this.layers.get(kind)!;
    layer.on =
      this.layered.has(kind) && this.hovered !== kind && min !== undefined && end !== undefined && end > min;
    const x = options.scales?.x;
    if (x) {
      x.min = min;
      x.max = end;
      if (x.ticks) x.ticks.color = layer.on ? 'transparent' : this.colors.text;
    }
    const lines = this.lines(kind);
    if (options.plugins) {
      options.plugins.thresholds = { lines: layer.on ? [] : lines };
      if (options.plugins.markers) options.plugins.markers.times = layer.on ? [] : this.incidents;
    }
    const dataset = chart?.data.datasets[0];
    if (dataset) dataset.showLine = !layer.on;
    const y = options.scales?.y;
    if (y) {
      const bounds = this.yBounds(kind);
      y.suggestedMin = bounds.min;
      y.suggestedMax = bounds.max;
      layer.yKey = bounds.key;
    }
    return layer.on;
  }

  /**
   * The y axis: from zero (or the lowest value) to the thresholds (kept in view even when the
   * load is far below them) or the highest value in range.
   */
  private yBounds(kind: ResourceKind): { min: number; max: number; key: string } {
    const { end, min: from } = this.window();
    const { low, high } = extent(this.points.get(kind)!, from, end);
    const min = Math.min(0, low);
    const max = Math.max(Math.max(...this.lines(kind).map((l) => l.y)) * 1.05, high);
    return { min, max, key: `${min}:${max}` };
  }

  private draw(kind: ResourceKind): void {
    const canvas = this.canvases.get(kind)!;
    // not in the page (the table view): made or drawn when shown (`shown`)
    if (!canvas.isConnected) return;
    const chart = this.charts.get(kind);
    const full = this.stale.delete(kind);
    if (!chart) this.charts.set(kind, this.create(kind, canvas));
    else if (full || !this.layers.get(kind)!.redraw(chart, this.yBounds(kind).key)) {
      this.configure(kind, chart.options, chart);
      chart.update('none');
    }
    canvas.setAttribute('aria-label', this.label(kind));
  }

  /** The charts' element was put (back) in the page: draws what changed meanwhile. */
  shown(): void {
    this.refresh();
  }

  /** The canvas's accessible name: current figure and the range seen, since a canvas says nothing itself. */
  private label(kind: ResourceKind): string {
    const { from, min, end } = this.window();
    const last = this.samples[this.samples.length - 1];
    if (!last || from >= this.samples.length) return `${TITLES[kind]} history: no samples in this range`;
    const points = this.points.get(kind)!;
    let low = Infinity;
    let high = -Infinity;
    for (let i = from; i < points.length; i++) {
      const v = points[i]!.y;
      if (v < low) low = v;
      if (v > high) high = v;
    }
    const unit = PERCENT.has(kind) ? '%' : '';
    const marked = markersIn(this.incidents, min, end);
    const incidents = marked > 0 ? `; ${marked} incident${marked === 1 ? '' : 's'} marked` : '';
    return `${TITLES[kind]} history: now ${describe(kind, last)}, low ${low}${unit}, high ${high}${unit} over ${points.length - from} samples; level ${last.resources[kind].level}${incidents}`;
  }

  dispose(): void {
    this.disposed = true;
    for (const c of this.canvases.values()) unwatch(c);
    for (const c of this.charts.values()) c.destroy();
  }
}
