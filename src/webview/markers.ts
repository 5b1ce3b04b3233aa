// Incident markers: a dashed vertical line at each incident's time across a time chart, in
// the theme's error colour, so the charts show when something broke next to the figures.
import type { ChartType, Plugin } from 'chart.js';

export interface MarkerOptions {
  /** Unix ms, oldest first. */
  times: number[];
  color: string;
}

declare module 'chart.js' {
  interface PluginOptionsByType<TType extends ChartType> {
    markers?: MarkerOptions & { _type?: TType };
  }
}

export const markerPlugin: Plugin<'line', MarkerOptions> = {
  id: 'markers',
  afterDatasetsDraw(chart, _args, opts) {
    const { ctx, chartArea, scales } = chart;
    const x = scales.x;
    if (!x || !opts?.times?.length) return;
    ctx.save();
    ctx.setLineDash([2, 3]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = opts.color;
    ctx.fillStyle = opts.color;
    for (const t of opts.times) {
      const px = x.getPixelForValue(t);
      if (px < chartArea.left || px > chartArea.right) continue;
      ctx.beginPath();
      ctx.moveTo(px, chartArea.top);
      ctx.lineTo(px, chartArea.bottom);
      ctx.stroke();
      // a small triangle on top, visible even where the line crosses the data
      ctx.beginPath();
      ctx.moveTo(px - 5, chartArea.top);
      ctx.lineTo(px + 5, chartArea.top);
      ctx.lineTo(px, chartArea.top + 7);
      ctx.fill();
    }
    ctx.restore();
  },
};

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
