// Incident markers: a dashed vertical line at each incident's time across a time chart, in
// the theme's error colour, so the charts show when something broke next to the figures.
import type { ChartArea, Plugin } from 'chart.js';

export interface MarkerOptions {
  /** Unix ms, oldest first. */
  times: number[];
  color: string;
}

export const markerPlugin: Plugin<'line', MarkerOptions> = {
  id: 'markers',
  afterDatasetsDraw(chart, _args, opts) {
    const x = chart.scales.x;
    if (!x || !opts?.times?.length) return;
    drawMarkers(chart.ctx, chart.chartArea, (t) => x.getPixelForValue(t), opts.times, opts.color);
  },
};

/** The markers, for the plugin and for the live layer (liveLayer.ts). */
export function drawMarkers(
  ctx: CanvasRenderingContext2D,
  area: ChartArea,
  xPixel: (time: number) => number,
  times: readonly number[],
  color: string,
): void {
  if (times.length === 0) return;
  ctx.save();
  ctx.setLineDash([2, 3]);
  ctx.lineWidth = 2;
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  for (const t of times) {
    const px = xPixel(t);
    if (px < area.left || px > area.right) continue;
    ctx.beginPath();
    ctx.moveTo(px, area.top);
    ctx.lineTo(px, area.bottom);
    ctx.stroke();
    // a small triangle on top, visible even where the line crosses the data
    ctx.beginPath();
    ctx.moveTo(px - 5, area.top);
    ctx.lineTo(px + 5, area.top);
    ctx.lineTo(px, area.top + 7);
    ctx.fill();
  }
  ctx.restore();
}

/** Incident times (Unix ms) within [min, max]: what a chart's accessible name counts. */
export function markersIn(
  times: readonly number[],
  min: number | undefined,
  max: number | undefined,
): number {
  let n = 0;
  for (const t of times) if ((min === undefined || t >= min) && (max === undefined || t <= max)) n++;
  return n;
}
