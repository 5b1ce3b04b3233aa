// History charts (chart.js, bundled): one per resource, thresholds drawn as dashed lines,
// fed point by point as samples arrive.
import {
  Chart,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartType,
  type Plugin,
} from 'chart.js';
import { formatBytes } from '../shared/format.js';
import {
  RESOURCE_KINDS,
  thresholdsFor,
  type ResourceKind,
  type ThresholdSettings,
} from '../shared/levels.js';
import type { Sample } from '../shared/monitor.js';
import { h } from './dom.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip);

export const TITLES: Record<ResourceKind, string> = {
  memory: 'Memory',
  cpu: 'CPU',
  containers: 'Containers',
  networks: 'Networks',
  volumes: 'Volumes',
};

/** Memory and CPU plot percent of capacity; the counts plot the count itself. */
const PERCENT: ReadonlySet<ResourceKind> = new Set(['memory', 'cpu']);

interface Line {
  y: number;
  color: string;
}
interface ThresholdOptions {
  lines: Line[];
}

declare module 'chart.js' {
  interface PluginOptionsByType<TType extends ChartType> {
    thresholds?: ThresholdOptions & { _type?: TType };
  }
}

/** Draws the level thresholds as dashed horizontal lines across the chart area. */
const thresholdPlugin: Plugin<'line', ThresholdOptions> = {
  id: 'thresholds',
  afterDatasetsDraw(chart, _args, opts) {
    const { ctx, chartArea, scales } = chart;
    const y = scales.y;
    if (!y || !opts?.lines) return;
    ctx.save();
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1;
    for (const l of opts.lines) {
      const py = y.getPixelForValue(l.y);
      if (py < chartArea.top || py > chartArea.bottom) continue;
      ctx.strokeStyle = l.color;
      ctx.beginPath();
      ctx.moveTo(chartArea.left, py);
      ctx.lineTo(chartArea.right, py);
      ctx.stroke();
    }
    ctx.restore();
  },
};

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

interface Colors {
  line: string;
  text: string;
  grid: string;
  warning: string;
  critical: string;
  emergency: string;
}

function themeColors(): Colors {
  return {
    line: cssVar('--vscode-charts-blue', '#3794ff'),
    text: cssVar('--vscode-foreground', '#cccccc'),
    grid: cssVar('--vscode-editorWidget-border', '#454545'),
    warning: cssVar('--vscode-charts-yellow', '#cca700'),
    critical: cssVar('--vscode-charts-orange', '#d18616'),
    emergency: cssVar('--vscode-charts-red', '#f14c4c'),
  };
}

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

export class HistoryCharts {
  private readonly charts = new Map<ResourceKind, Chart<'line', { x: number; y: number }[]>>();
  private readonly canvases = new Map<ResourceKind, HTMLCanvasElement>();
  private samples: Sample[] = [];
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
      this.charts.set(kind, this.create(kind, canvas));
    }
  }

  private create(kind: ResourceKind, canvas: HTMLCanvasElement): Chart<'line', { x: number; y: number }[]> {
    const c = this.colors;
    return new Chart(canvas, {
      type: 'line',
      data: {
        datasets: [
          {
            data: [],
            borderColor: c.line,
            backgroundColor: c.line,
            borderWidth: 2,
            pointRadius: 0,
            tension: 0.2,
          },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: {
            type: 'linear',
            // Five evenly spaced time labels: chart.js's "nice" numbers in ms land at odd places.
            afterBuildTicks: (axis) => {
              const { min, max } = axis;
              axis.ticks =
                max > min ? [0, 1, 2, 3, 4].map((i) => ({ value: min + ((max - min) * i) / 4 })) : axis.ticks;
            },
            ticks: {
              color: c.text,
              maxRotation: 0,
              callback: (v) => new Date(Number(v)).toLocaleTimeString(),
            },
            grid: { color: c.grid },
          },
          y: { beginAtZero: true, ticks: { color: c.text }, grid: { color: c.grid } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: (items) => new Date(items[0]?.parsed.x ?? 0).toLocaleTimeString(),
              label: (item) => {
                const s = this.samples.find((x) => Date.parse(x.sampledAt) === item.parsed.x);
                return s ? describe(kind, s) : String(item.parsed.y);
              },
            },
          },
          thresholds: { lines: [] },
        },
      },
      plugins: [thresholdPlugin],
    });
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

  setAll(samples: Sample[]): void {
    this.samples = [...samples];
    for (const [kind, chart] of this.charts) {
      chart.data.datasets[0]!.data = this.samples.map((s) => ({
        x: Date.parse(s.sampledAt),
        y: valueOf(kind, s),
      }));
    }
    this.refresh();
  }

  /** Appends one sample: a delta, not a redraw of the whole history from scratch. */
  add(sample: Sample, maxPoints: number): void {
    this.samples.push(sample);
    const drop = Math.max(0, this.samples.length - maxPoints);
    if (drop > 0) this.samples.splice(0, drop);
    for (const [kind, chart] of this.charts) {
      const data = chart.data.datasets[0]!.data;
      data.push({ x: Date.parse(sample.sampledAt), y: valueOf(kind, sample) });
      if (drop > 0) data.splice(0, drop);
    }
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
      for (const axis of ['x', 'y'] as const) {
        const s = chart.options.scales?.[axis];
        if (s?.ticks) s.ticks.color = this.colors.text;
        if (s?.grid) s.grid.color = this.colors.grid;
      }
    }
    this.refresh();
  }

  private refresh(): void {
    const last = this.samples[this.samples.length - 1];
    const end = last ? Date.parse(last.sampledAt) : Date.now();
    const min = Number.isFinite(this.rangeMs) ? end - this.rangeMs : undefined;
    for (const [kind, chart] of this.charts) {
      const x = chart.options.scales?.x;
      if (x) {
        x.min = min;
        x.max = last ? end : undefined;
      }
      const lines = this.lines(kind);
      if (chart.options.plugins) chart.options.plugins.thresholds = { lines };
      // Keep the thresholds in view even when the load is far below them.
      const y = chart.options.scales?.y;
      if (y) y.suggestedMax = Math.max(...lines.map((l) => l.y)) * 1.05;
      chart.update('none');
      const canvas = this.canvases.get(kind);
      if (canvas) canvas.setAttribute('aria-label', this.label(kind, min));
    }
  }

  /** The canvas's accessible name: current figure and the range seen, since a canvas says nothing itself. */
  private label(kind: ResourceKind, min: number | undefined): string {
    const inRange = this.samples.filter((s) => min === undefined || Date.parse(s.sampledAt) >= min);
    const last = inRange[inRange.length - 1];
    if (!last) return `${TITLES[kind]} history: no samples in this range`;
    const values = inRange.map((s) => valueOf(kind, s));
    const unit = PERCENT.has(kind) ? '%' : '';
    return `${TITLES[kind]} history: now ${describe(kind, last)}, low ${Math.min(...values)}${unit}, high ${Math.max(...values)}${unit} over ${inRange.length} samples; level ${last.resources[kind].level}`;
  }

  dispose(): void {
    for (const c of this.charts.values()) c.destroy();
  }
}
