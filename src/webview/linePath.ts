// The data line of a time chart as chart.js 4 draws it (line controller, decimation plugin, line
// element with no tension), so that a live sample can redraw that line alone, without a chart.js
// update (liveLayer.ts), and give the same picture. Free of DOM types: tested in plain Node
// against chart.js itself (test/webview/linePath.test.ts).

export type Point = { x: number; y: number };

/** What a path needs: a canvas context or a Path2D. */
export interface PathSink {
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
}

/**
 * The points chart.js draws for the range [min, max] (undefined: open): those inside, plus the
 * one before and the one after, so that the line runs to the chart's edges (chart.js's
 * `_lookupByKey` lo/hi; points ascending by x).
 */
export function visibleRange(
  points: readonly Point[],
  min: number | undefined,
  max: number | undefined,
): { start: number; count: number } {
  const n = points.length;
  if (n === 0) return { start: 0, count: 0 };
  let start = 0;
  if (min !== undefined) start = Math.min(Math.max(lookup(points, (i) => points[i]!.x < min).lo, 0), n - 1);
  if (max === undefined) return { start, count: n - start };
  const hi = lookup(
    points,
    (i) => points[i]!.x < max || (points[i]!.x === max && points[i + 1]?.x === max),
  ).hi;
  return { start, count: Math.min(Math.max(hi + 1, start), n) - start };
}

/** chart.js's binary search: `lo` the last index for which `below` holds (or 0), `hi` the next. */
function lookup(points: readonly Point[], below: (i: number) => boolean): { lo: number; hi: number } {
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (below(mid)) lo = mid;
    else hi = mid;
  }
  return { lo, hi };
}

/**
 * Largest-Triangle-Three-Buckets down to `samples` points, as chart.js's decimation plugin does
 * it (same buckets, same ties), over `count` points from `start`.
 */
export function lttb(data: readonly Point[], start: number, count: number, samples: number): Point[] {
  if (samples >= count) return data.slice(start, start + count);
  const out: Point[] = [];
  const bucket = (count - 2) / (samples - 2);
  let a = start;
  out.push(data[a]!);
  for (let i = 0; i < samples - 2; i++) {
    const avgStart = Math.floor((i + 1) * bucket) + 1 + start;
    const avgEnd = Math.min(Math.floor((i + 2) * bucket) + 1, count) + start;
    let avgX = 0;
    let avgY = 0;
    for (let j = avgStart; j < avgEnd; j++) {
      avgX += data[j]!.x;
      avgY += data[j]!.y;
    }
    avgX /= avgEnd - avgStart;
    avgY /= avgEnd - avgStart;
    const from = Math.floor(i * bucket) + 1 + start;
    const to = Math.min(Math.floor((i + 1) * bucket) + 1, count) + start;
    const { x: ax, y: ay } = data[a]!;
    let maxArea = -1;
    let next = a;
    for (let j = from; j < to; j++) {
      const p = data[j]!;
      const area = 0.5 * Math.abs((ax - avgX) * (p.y - ay) - (ax - p.x) * (avgY - ay));
      if (area > maxArea) {
        maxArea = area;
        next = j;
      }
    }
    out.push(data[next]!);
    a = next;
  }
  out.push(data[start + count - 1]!);
  return out;
}

export interface Decimation {
  /** Decimate when more points than this are in range. */
  threshold: number;
  /** Down to this many. */
  samples: number;
}

/**
 * The points of the line in range, decimated as chart.js would; `decimated` says which path
 * chart.js then traces (see tracePath).
 */
export function linePoints(
  points: readonly Point[],
  min: number | undefined,
  max: number | undefined,
  d: Decimation,
): { points: Point[]; decimated: boolean } {
  const { start, count } = visibleRange(points, min, max);
  if (count > d.threshold) return { points: lttb(points, start, count, d.samples), decimated: true };
  return { points: points.slice(start, start + count), decimated: false };
}

/**
 * Traces the line through `px` (pixel coordinates) into `sink`. Decimated, point to point;
 * otherwise chart.js's fast path: points that share a pixel column are drawn as one vertical
 * stroke through their extremes.
 */
export function tracePath(sink: PathSink, px: readonly Point[], decimated: boolean): void {
  if (px.length === 0) return;
  if (decimated) {
    sink.moveTo(px[0]!.x, px[0]!.y);
    for (let i = 1; i < px.length; i++) sink.lineTo(px[i]!.x, px[i]!.y);
    return;
  }
  let avgX = 0;
  let countX = 0;
  let prevX: number | undefined;
  let minY = NaN;
  let maxY = NaN;
  let lastY = NaN;
  const column = (): void => {
    // NaN on the first point, as in chart.js: no column yet
    if (minY !== maxY && !(Number.isNaN(minY) && Number.isNaN(maxY))) {
      sink.lineTo(avgX, maxY);
      sink.lineTo(avgX, minY);
      sink.lineTo(avgX, lastY);
    }
  };
  sink.moveTo(px[0]!.x, px[0]!.y);
  for (const { x, y } of px) {
    const truncX = x | 0;
    if (truncX === prevX) {
      if (y < minY) minY = y;
      else if (y > maxY) maxY = y;
      avgX = (countX * avgX + x) / ++countX;
    } else {
      column();
      sink.lineTo(x, y);
      prevX = truncX;
      countX = 0;
      minY = maxY = y;
    }
    lastY = y;
  }
  column();
}

/** Lowest and highest y over the points in [min, max] (Infinity / -Infinity when none). */
export function extent(
  points: readonly Point[],
  min: number | undefined,
  max: number | undefined,
): { low: number; high: number; count: number } {
  let low = Infinity;
  let high = -Infinity;
  let count = 0;
  for (const p of points) {
    if ((min !== undefined && p.x < min) || (max !== undefined && p.x > max)) continue;
    if (p.y < low) low = p.y;
    if (p.y > high) high = p.y;
    count++;
  }
  return { low, high, count };
}
