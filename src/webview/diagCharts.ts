// The diagnosis charts: memory stacked by owner group (who uses it) and Docker's disk (when
// samples carry it). Same rules as the resource charts: data built once, one point appended
// per live sample, decimated, incidents marked.
import { Chart, type ChartOptions } from 'chart.js';
import { formatBytes } from '../shared/format.js';
import { thresholdsFor, type ThresholdSettings } from '../shared/levels.js';
import type { OwnerUsage, Sample } from '../shared/monitor.js';
import { ownerKey, ownerLabel } from '../shared/owner.js';
import {
  lineChart,
  rethemeChart,
  themeColors,
  timeChartOptions,
  type Colors,
  type Point,
} from './chartBase.js';
import { h } from './dom.js';
import { markerPlugin } from './markers.js';
import { drawWhenVisible, unwatch, type LiveRedraw } from './visible.js';

/** Owner groups drawn on their own; the rest are summed into one band. */
const MAX_GROUPS = 6;
const REST = '(the rest)';

function palette(): string[] {
  const v = (name: string, fallback: string): string =>
    getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
  return [
    v('--vscode-charts-blue', '#3794ff'),
    v('--vscode-charts-green', '#89d185'),
    v('--vscode-charts-purple', '#b180d7'),
    v('--vscode-charts-orange', '#d18616'),
    v('--vscode-charts-yellow', '#cca700'),
    v('--vscode-charts-red', '#f14c4c'),
    v('--vscode-descriptionForeground', '#999999'),
  ];
}

/** One chart in a figure with a caption and an accessible canvas. */
function figure(caption: string, canvas: HTMLCanvasElement): HTMLElement {
  return h(
    'figure',
    { class: 'chart' },
    h('figcaption', {}, caption),
    h('div', { class: 'chart-box' }, canvas),
  );
}

abstract class TimeChart {
  protected readonly canvas: HTMLCanvasElement;
  protected colors: Colors = themeColors();
  protected chart?: Chart<'line', Point[]>;
  protected incidents: number[] = [];
  /** The time range shown (Unix ms; undefined: from the first point, to the last). */
  protected range: TimeRange = {};
  readonly element: HTMLElement;

  constructor(
    caption: string,
    private readonly key: string,
  ) {
    this.canvas = h('canvas', {
      role: 'img',
      class: key,
      'aria-label': `${caption}: no data yet`,
      tabindex: 0,
    });
    this.element = figure(caption, this.canvas);
    // below the fold when the dashboard opens: drawn once it is seen, not with the first charts
    this.drawSoon = drawWhenVisible(this.canvas, () => this.draw(), false);
  }

  private readonly drawSoon: (force?: boolean) => void;

  setIncidents(times: number[]): void {
    this.incidents = times;
    if (this.chart) this.chart.options.plugins!.markers!.times = times;
    this.update();
  }

  retheme(): void {
    this.colors = themeColors();
    if (this.chart) rethemeChart(this.chart, this.colors);
    this.update();
  }

  /** Its drawing of what `add` appended, as a job (drawn then if on screen, else once it is seen). */
  liveRedraws(): LiveRedraw[] {
    return [{ key: this.key, element: this.canvas, draw: () => this.update() }];
  }

  /** Draws now if on screen, else once it is seen (see visible.ts). */
  protected update(): void {
    if (this.chart) this.applyRange(this.chart.options);
    if (this.chart || this.make) this.drawSoon();
  }

  /** How to make the chart anew: made (chart.js draws it then) once it is on screen. */
  private make?: () => Chart<'line', Point[]>;

  protected rebuild(make: () => Chart<'line', Point[]>): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.make = make;
    this.update();
  }

  protected applyRange(options: ChartOptions<'line'>): void {
    const x = options.scales?.x;
    if (x) {
      x.min = this.range.min;
      x.max = this.range.max;
    }
  }

  private draw(): void {
    if (this.make) {
      this.chart = this.make();
      this.make = undefined;
    } else this.chart?.update('none');
    this.canvas.setAttribute('aria-label', this.label());
    // the number of points drawn, for tests and the benchmark (a canvas says nothing itself)
    this.canvas.dataset.points = String(this.pointCount);
  }

  protected abstract label(): string;
  abstract get pointCount(): number;

  setRange(range: TimeRange): void {
    this.range = range;
    this.update();
  }

  dispose(): void {
    unwatch(this.canvas);
    this.chart?.destroy();
  }
}

export interface TimeRange {
  min?: number;
  max?: number;
}

interface Group {
  key: string;
  label: string;
  points: Point[];
}

/** Working-set memory stacked by owner group, from `sample.owners` (older samples: no point). */
export class OwnerMemoryChart extends TimeChart {
  private groups: Group[] = [];
  private times: number[] = [];
  private latest?: OwnerUsage[];

  constructor() {
    super('Memory by owner', 'owner-chart');
  }

  setAll(samples: readonly Sample[], range: TimeRange): void {
    this.range = range;
    const peak = new Map<string, { label: string; bytes: number }>();
    for (const s of samples)
      for (const o of s.owners ?? []) {
        const key = ownerKey(o.owner);
        const p = peak.get(key);
        if (!p || p.bytes < o.memoryBytes)
          peak.set(key, { label: ownerLabel(o.owner), bytes: o.memoryBytes });
      }
    const ranked = [...peak].sort((a, b) => b[1].bytes - a[1].bytes);
    this.groups = ranked.slice(0, MAX_GROUPS).map(([key, p]) => ({ key, label: p.label, points: [] }));
    if (ranked.length > MAX_GROUPS) this.groups.push({ key: REST, label: REST, points: [] });
    this.times = [];
    for (const s of samples) this.append(s);
    this.build();
  }

  /** Appends one point per group (drawn by `redraw`); a group first seen now joins the rest's band. */
  add(sample: Sample, maxPoints: number, range: TimeRange): void {
    this.range = range;
    if (!sample.owners) return;
    const unknown = sample.owners.some((o) => !this.groups.some((g) => g.key === ownerKey(o.owner)));
    if (unknown && !this.groups.some((g) => g.key === REST)) {
      this.groups.push({ key: REST, label: REST, points: this.times.map((x) => ({ x, y: 0 })) });
      this.build();
    }
    this.append(sample);
    const drop = this.times.length - maxPoints;
    if (drop > 0) {
      this.times.splice(0, drop);
      for (const g of this.groups) g.points.splice(0, drop);
    }
  }

  private append(s: Sample): void {
    if (!s.owners) return;
    const x = Date.parse(s.sampledAt);
    this.times.push(x);
    const bytes = new Map<string, number>();
    for (const o of s.owners) {
      const key = ownerKey(o.owner);
      const k = this.groups.some((g) => g.key === key) ? key : REST;
      bytes.set(k, (bytes.get(k) ?? 0) + o.memoryBytes);
    }
    for (const g of this.groups) g.points.push({ x, y: bytes.get(g.key) ?? 0 });
    this.latest = s.owners;
  }

  private build(): void {
    this.rebuild(() => {
      const colors = palette();
      const options = timeChartOptions(
        this.colors,
        (item) => `${item.dataset.label ?? ''}: ${formatBytes(item.parsed.y ?? 0)}`,
        true,
      );
      options.scales!.y!.ticks!.callback = (v) => formatBytes(Number(v));
      options.plugins!.markers!.times = this.incidents;
      this.applyRange(options);
      return new Chart(this.canvas, {
        type: 'line',
        data: {
          datasets: this.groups.map((g, i) => {
            const color = colors[g.key === REST ? colors.length - 1 : i % (colors.length - 1)]!;
            return {
              label: g.label,
              data: g.points,
              borderColor: color,
              backgroundColor: color,
              borderWidth: 1,
              fill: i === 0 ? 'origin' : '-1',
              indexAxis: 'x' as const,
            };
          }),
        },
        options,
        plugins: [markerPlugin],
      });
    });
  }

  get pointCount(): number {
    return this.times.length;
  }

  protected label(): string {
    if (!this.latest || this.times.length === 0)
      return 'Memory by owner: no per-owner figures in these samples';
    const top = this.latest
      .slice(0, 3)
      .map((o) => `${ownerLabel(o.owner)} ${formatBytes(o.memoryBytes)}`)
      .join(', ');
    return `Memory by owner over ${this.times.length} samples; now ${top}`;
  }
}

/** Docker's disk (percent of the data root's file system), one point per measurement. */
export class DiskChart extends TimeChart {
  private points: Point[] = [];
  private latest?: Sample['disk'];

  constructor(private thresholds: ThresholdSettings) {
    super('Disk (%)', 'disk-chart');
  }

  setAll(samples: readonly Sample[], range: TimeRange): void {
    this.range = range;
    this.points = [];
    for (const s of samples) this.append(s);
    this.build();
  }

  /** Appends one sample (drawn by `redraw`). */
  /** Whether the sample brought a new disk measurement (a figure re-sent unchanged does not). */
  add(sample: Sample, maxPoints: number, range: TimeRange): boolean {
    this.range = range;
    const appended = this.append(sample);
    if (appended && this.points.length > maxPoints) this.points.splice(0, this.points.length - maxPoints);
    return appended;
  }

  /** A disk figure is re-sent with samples until it is measured again: a point per measurement. */
  private append(s: Sample): boolean {
    const d = s.disk;
    if (!d) return false;
    const x = Date.parse(d.measuredAt);
    const last = this.points[this.points.length - 1];
    if (last && x <= last.x) return false;
    this.points.push({ x, y: d.percent });
    this.latest = d;
    return true;
  }

  setThresholds(t: ThresholdSettings): void {
    this.thresholds = t;
    if (this.chart) this.chart.options.plugins!.thresholds = { lines: this.lines() };
    this.update();
  }

  private lines(): { y: number; color: string }[] {
    const t = thresholdsFor('disk', this.thresholds);
    const c = this.colors;
    return [
      { y: t.warning, color: c.warning },
      { y: t.critical, color: c.critical },
      { y: t.emergency, color: c.emergency },
    ];
  }

  private build(): void {
    this.rebuild(() => {
      const c = this.colors;
      const options = timeChartOptions(c, (item) => `${item.parsed.y}%`);
      options.scales!.y!.suggestedMax = 100;
      options.plugins!.thresholds = { lines: this.lines() };
      options.plugins!.markers!.times = this.incidents;
      this.applyRange(options);
      return lineChart(this.canvas, this.points, c, options);
    });
  }

  get hasData(): boolean {
    return this.points.length > 0;
  }

  get pointCount(): number {
    return this.points.length;
  }

  protected label(): string {
    const d = this.latest;
    if (!d) return 'Disk: no disk figures in these samples';
    return `Disk history over ${this.points.length} measurements: now ${d.percent}% (${formatBytes(d.used)} of ${formatBytes(d.capacity)}), level ${d.level}`;
  }

  override retheme(): void {
    super.retheme();
    this.setThresholds(this.thresholds);
  }
}

/** The range the resource charts show, for charts whose own times are not the samples'. */
export function timeRange(samples: readonly Sample[], rangeMs: number): TimeRange {
  const last = samples[samples.length - 1];
  if (!last) return {};
  const max = Date.parse(last.sampledAt);
  return { min: Number.isFinite(rangeMs) ? max - rangeMs : Date.parse(samples[0]!.sampledAt), max };
}
