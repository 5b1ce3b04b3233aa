// What every time chart of the dashboard shares: chart.js registered once, theme colours, the
// threshold lines, and options chosen for speed (see timeChartOptions).
import {
  Chart,
  Decimation,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartArea,
  type ChartOptions,
  type ChartType,
  type Plugin,
  type TooltipItem,
} from 'chart.js';
import { clockTime } from './dom.js';
import type { Point } from './linePath.js';
import { markerPlugin, type MarkerOptions } from './markers.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Decimation, Filler);

export type { Point };

export interface Line {
  y: number;
  color: string;
}
interface ThresholdOptions {
  lines: Line[];
}

// the options of our two plugins (markers.ts has the other), typed where chart.js reads them
declare module 'chart.js' {
  interface PluginOptionsByType<TType extends ChartType> {
    thresholds?: ThresholdOptions & { _type?: TType };
    markers?: MarkerOptions & { _type?: TType };
  }
}

/** Draws the level thresholds as dashed horizontal lines across the chart area. */
export const thresholdPlugin: Plugin<'line', ThresholdOptions> = {
  id: 'thresholds',
  afterDatasetsDraw(chart, _args, opts) {
    const y = chart.scales.y;
    if (!y || !opts?.lines) return;
    drawThresholds(chart.ctx, chart.chartArea, (v) => y.getPixelForValue(v), opts.lines);
  },
};

/** The threshold lines, for the plugin and for the live layer (liveLayer.ts). */
export function drawThresholds(
  ctx: CanvasRenderingContext2D,
  area: ChartArea,
  yPixel: (value: number) => number,
  lines: readonly Line[],
): void {
  ctx.save();
  ctx.setLineDash([6, 4]);
  ctx.lineWidth = 1;
  for (const l of lines) {
    const py = yPixel(l.y);
    if (py < area.top || py > area.bottom) continue;
    ctx.strokeStyle = l.color;
    ctx.beginPath();
    ctx.moveTo(area.left, py);
    ctx.lineTo(area.right, py);
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * A time chart's one line dataset (the theme's line colour, 2 px) with the threshold and
 * incident-marker plugins, and any `more`; `layered`: the line is left to a live layer.
 */
export function lineChart(
  canvas: HTMLCanvasElement,
  data: Point[],
  c: Colors,
  options: ChartOptions<'line'>,
  more: Plugin<'line'>[] = [],
  layered = false,
): Chart<'line', Point[]> {
  return new Chart(canvas, {
    type: 'line',
    data: {
      datasets: [
        {
          data,
          borderColor: c.line,
          backgroundColor: c.line,
          borderWidth: 2,
          indexAxis: 'x',
          showLine: !layered,
        },
      ],
    },
    options,
    plugins: [thresholdPlugin, markerPlugin, ...more],
  });
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export interface Colors {
  line: string;
  marker: string;
  text: string;
  grid: string;
  warning: string;
  critical: string;
  emergency: string;
}

export function themeColors(): Colors {
  return {
    line: cssVar('--vscode-charts-blue', '#3794ff'),
    marker: cssVar('--vscode-charts-red', '#f14c4c'),
    text: cssVar('--vscode-foreground', '#cccccc'),
    grid: cssVar('--vscode-editorWidget-border', '#454545'),
    warning: cssVar('--vscode-charts-yellow', '#cca700'),
    critical: cssVar('--vscode-charts-orange', '#d18616'),
    emergency: cssVar('--vscode-charts-red', '#f14c4c'),
  };
}

/** The decimation plugin's settings (LTTB), which the live layer follows too. */
export const DECIMATION = { samples: 200, threshold: 250 };

/** Fixed axis sizes (px): room for "12:34:56 PM" below and "286 MiB" beside. */
const AXIS_HEIGHT = 24;
const AXIS_WIDTH = 64;
/** Room per time label ("12:34:56 PM" and a gap). */
const TIME_LABEL_WIDTH = 110;

/**
 * What every time chart shares, chosen for speed: data arrives as `{x, y}` in Unix ms (no
 * parsing), no animation, straight segments, and the decimation plugin (LTTB) so that a
 * thousand samples draw as a few hundred points.
 */
export function timeChartOptions(
  c: Colors,
  label: (item: TooltipItem<'line'>) => string,
  stacked = false,
): ChartOptions<'line'> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: { line: { tension: 0 }, point: { radius: 0 } },
    // room for the last time label, centred on the chart's right edge
    layout: { padding: { right: 32 } },
    scales: {
      x: {
        type: 'linear',
        // Evenly spaced time labels, as many as fit (chart.js's "nice" numbers in ms land at
        // odd places); fitting them here lets the axis skip its own label measuring.
        afterBuildTicks: (axis) => {
          const { min, max } = axis;
          const n = Math.max(2, Math.min(5, Math.floor(axis.maxWidth / TIME_LABEL_WIDTH)));
          axis.ticks =
            max > min
              ? Array.from({ length: n }, (_, i) => ({ value: min + ((max - min) * i) / (n - 1) }))
              : axis.ticks;
        },
        // Layout is most of a redraw: five labels of one width need no skipping, one measured
        // label stands for all, and the axis keeps a fixed height.
        ticks: {
          color: c.text,
          maxRotation: 0,
          autoSkip: false,
          sampleSize: 1,
          callback: (v) => clockTime(Number(v)),
        },
        afterFit: (axis) => {
          axis.height = AXIS_HEIGHT;
        },
        grid: { color: c.grid },
      },
      y: {
        beginAtZero: true,
        stacked,
        ticks: { color: c.text, sampleSize: 4 },
        afterFit: (axis) => {
          axis.width = AXIS_WIDTH;
        },
        grid: { color: c.grid },
      },
    },
    plugins: {
      decimation: { enabled: true, algorithm: 'lttb', ...DECIMATION },
      tooltip: {
        callbacks: {
          title: (items) => clockTime(items[0]?.parsed.x ?? 0),
          label,
        },
      },
      markers: { times: [], color: c.marker },
    },
  };
}

/** Re-applies theme colours to a chart made with timeChartOptions. */
export function rethemeChart(chart: Chart<'line', Point[]>, c: Colors): void {
  for (const axis of ['x', 'y'] as const) {
    const s = chart.options.scales?.[axis];
    if (s?.ticks) s.ticks.color = c.text;
    if (s?.grid) s.grid.color = c.grid;
  }
  if (chart.options.plugins?.markers) chart.options.plugins.markers.color = c.marker;
}

/** Index of the first time >= t in an ascending array (binary search). */
export function firstAtOrAfter(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
