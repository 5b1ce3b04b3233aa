// The live layer's data line (src/webview/linePath.ts) against chart.js 4 itself, in plain Node:
// the points it draws for a range must be the ones chart.js's line controller and decimation
// plugin would draw, or a live sample would move the picture. Bundled by esbuild as in
// frames.test.ts (src/webview is an ES module package), chart.js in the same bundle.
import * as assert from 'node:assert/strict';
import { importBundled, REPO_ROOT } from '../helpers/bundle';
import type * as LinePath from '../../src/webview/linePath.js' with { 'resolution-mode': 'import' };

type Point = { x: number; y: number };
interface Bounds {
  min: number;
  max: number;
  minDefined: boolean;
  maxDefined: boolean;
}
interface Mod {
  linePath: typeof LinePath;
  /** chart.js's decimation plugin run on a stand-in chart: the points it leaves, or undefined (not decimated). */
  decimate(
    points: Point[],
    bounds: Bounds,
    options: { samples: number; threshold: number },
  ): Point[] | undefined;
  /** chart.js's choice of the points a line controller draws for the x range. */
  visible(points: Point[], bounds: Bounds): { start: number; count: number };
}

let mod: Mod;

before(async () => {
  const entry = `
    import { Decimation } from 'chart.js';
    import { _getStartAndCountOfVisiblePoints } from 'chart.js/helpers';
    export * as linePath from './src/webview/linePath.ts';
    const scale = (bounds) => ({ type: 'linear', axis: 'x', getUserBounds: () => bounds, getPixelForValue: (v) => v });
    export function decimate(points, bounds, options) {
      const dataset = { data: points, indexAxis: 'x' };
      const iScale = scale(bounds);
      const meta = { controller: { supportsDecimation: true }, xAxisID: 'x', iScale };
      const chart = {
        width: 500,
        data: { datasets: [dataset] },
        options: { parsing: false, indexAxis: 'x' },
        scales: { x: iScale },
        getDatasetMeta: () => meta,
      };
      Decimation.beforeElementsUpdate(chart, {}, { enabled: true, algorithm: 'lttb', ...options });
      return dataset._decimated;
    }
    export function visible(points, bounds) {
      return _getStartAndCountOfVisiblePoints({ _sorted: true, iScale: scale(bounds), _parsed: points, dataset: null }, points, true);
    }
  `;
  mod = await importBundled<Mod>({
    stdin: { contents: entry, resolveDir: REPO_ROOT, loader: 'js' },
    platform: 'neutral',
    mainFields: ['module', 'main'],
  });
});

/** `n` points one `step` apart from `t0`, a wave with noise from a fixed seed. */
function series(n: number, t0 = 1_000_000, step = 900): Point[] {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => ({
    x: t0 + i * step,
    y: 50 + 30 * Math.sin(i / 40) + 10 * rand(),
  }));
}

const bounds = (min: number, max: number): Bounds => ({ min, max, minDefined: true, maxDefined: true });
const DECIMATION = { samples: 200, threshold: 250 };

describe('webview line path (the live layer draws what chart.js would)', () => {
  it('decimates the points in range to the very points chart.js keeps (LTTB, same buckets)', () => {
    const points = series(1000);
    // counts: whole numbers in plateaus, where triangles tie
    const counts = points.map((p) => ({ x: p.x, y: Math.round(p.y / 10) }));
    for (const [min, max, data] of [
      [points[0]!.x, points[999]!.x, counts],
      [points[500]!.x, points[999]!.x, counts], // starting on a point
      [points[0]!.x, points[999]!.x], // All
      [points[999]!.x - 900_000, points[999]!.x], // 15 minutes: every point
      [points[999]!.x - 300_000, points[999]!.x], // 5 minutes: 333 points
      [points[100]!.x + 450, points[700]!.x + 450], // between points at both ends
    ] as [number, number, Point[]?][]) {
      const expected = mod.decimate(data ?? points, bounds(min, max), DECIMATION);
      assert.ok(expected, `chart.js decimates ${min}..${max}`);
      const ours = mod.linePath.linePoints(data ?? points, min, max, DECIMATION);
      assert.equal(ours.decimated, true);
      assert.deepEqual(ours.points, expected);
    }
  });

  it('below the threshold, draws what chart.js draws undecimated: the points in range and one beyond each end', () => {
    const points = series(1000);
    for (const [min, max] of [
      [points[999]!.x - 200_000, points[999]!.x],
      [points[300]!.x + 1, points[400]!.x - 1],
      [points[300]!.x, points[400]!.x], // on points at both ends
      [points[0]!.x - 5000, points[100]!.x],
    ] as [number, number][]) {
      assert.equal(
        mod.decimate(points, bounds(min, max), DECIMATION),
        undefined,
        'chart.js does not decimate',
      );
      const { start, count } = mod.visible(points, bounds(min, max));
      assert.deepEqual(mod.linePath.visibleRange(points, min, max), { start, count });
      const ours = mod.linePath.linePoints(points, min, max, DECIMATION);
      assert.equal(ours.decimated, false);
      assert.deepEqual(ours.points, points.slice(start, start + count));
    }
  });

  it("traces points sharing a pixel column as one vertical stroke through their extremes (chart.js's fast path)", () => {
    const calls: string[] = [];
    const sink = {
      moveTo: (x: number, y: number) => calls.push(`M${x},${y}`),
      lineTo: (x: number, y: number) => calls.push(`L${x},${y}`),
    };
    mod.linePath.tracePath(
      sink,
      [
        { x: 10, y: 50 },
        { x: 11.2, y: 40 },
        { x: 11.6, y: 60 },
        { x: 11.8, y: 55 },
        { x: 13, y: 45 },
      ],
      false,
    );
    assert.deepEqual(calls, ['M10,50', 'L10,50', 'L11.2,40', 'L11.7,60', 'L11.7,40', 'L11.7,55', 'L13,45']);
    calls.length = 0;
    mod.linePath.tracePath(
      sink,
      [
        { x: 1, y: 2 },
        { x: 1.5, y: 3 },
      ],
      true,
    );
    assert.deepEqual(calls, ['M1,2', 'L1.5,3'], 'decimated: point to point');
  });

  it('measures the lowest and highest value in range, which set the y axis', () => {
    const points = series(100);
    const { low, high, count } = mod.linePath.extent(points, points[10]!.x, points[20]!.x);
    const inRange = points.slice(10, 21).map((p) => p.y);
    assert.deepEqual(
      { low, high, count },
      { low: Math.min(...inRange), high: Math.max(...inRange), count: 11 },
    );
  });
});
