// A live sample without a chart.js update (issue 15): chart.js's update rebuilds its option
// resolvers and layout every time, about 2-3 ms a chart whatever it is told to skip. So a chart
// is drawn in two layers on its one canvas. chart.js draws the frame: axes, grid, y labels (the
// x labels in transparent ink, so that they keep their place). The layer then draws what a
// sample moves: the data line, decimated and traced as chart.js would (linePath.ts), the
// threshold lines and incident markers over it, and the x labels. The frame's pixels are kept
// aside after each chart.js draw; a live sample puts them back and draws the layer again
// (a fraction of a millisecond), as long as the frame is still right: same canvas size, same
// y axis (its bounds are given as suggestedMin/Max, see `yKey`), evenly spaced x ticks (which
// sit at fixed pixels whatever the range's times). Anything else is a chart.js update.
import type { Chart, ChartArea, FontSpec, RenderTextOpts } from 'chart.js';
import { renderText } from 'chart.js/helpers';
import { drawThresholds, type Colors, type Line } from './chartBase.js';
import { linePoints, tracePath, type Decimation, type Point } from './linePath.js';
import { drawMarkers } from './markers.js';

/** What the layer draws, as it is now. */
export interface LayerView {
  points: readonly Point[];
  /** The range shown; the layer draws only when both are known and min < max. */
  min: number | undefined;
  max: number | undefined;
  lines: readonly Line[];
  times: readonly number[];
  colors: Colors;
  tickLabel: (value: number) => string;
}

interface LabelSlot {
  font: FontSpec & { string: string };
  textOffset: number;
  options: RenderTextOpts;
}

/** Where chart.js drew the frame, read after its draw. */
interface Frame {
  width: number;
  height: number;
  area: ChartArea;
  left: number;
  right: number;
  yPixel: (v: number) => number;
  /** Extra room around the area for the line (chart.js's dataset clip: half the line width where a bound is open). */
  clip: { left: number; right: number; top: number; bottom: number };
  labelBand: { top: number; bottom: number; width: number };
  labels: LabelSlot[];
  yKey: string;
}

/** Half the data line's width (2 px): how far chart.js lets it overflow an open bound. */
const LINE_OVERFLOW = 1;

/** -32768..32767, as chart.js keeps a pixel. */
const int16 = (v: number): number => Math.max(-32768, Math.min(32767, v));

export class LiveLayer {
  /** Whether chart.js leaves the line and the rest to this layer (else it draws all). */
  on = false;
  /** The y axis asked of chart.js in its next update: a frame drawn with another is not reused. */
  yKey = '';
  private frame?: Frame;
  private readonly kept = document.createElement('canvas');

  /** Hooks the layer into its chart: after every chart.js draw (an update, a resize). */
  readonly plugin = {
    id: 'liveLayer',
    afterDraw: (chart: Chart<'line', Point[]>) => this.afterChartDraw(chart),
  };

  constructor(
    private readonly view: () => LayerView,
    private readonly decimation: Decimation,
  ) {}

  /**
   * Draws the layer over the kept frame, without chart.js; false when the frame is no longer
   * right (or there is none) and chart.js must update.
   */
  redraw(chart: Chart<'line', Point[]>, yKey: string): boolean {
    const f = this.frame;
    const canvas = chart.canvas;
    if (!this.on || !f || f.yKey !== yKey || f.width !== canvas.width || f.height !== canvas.height)
      return false;
    const v = this.view();
    if (!drawable(v)) return false;
    const ctx = chart.ctx;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(this.kept, 0, 0);
    ctx.restore();
    this.paint(ctx, f, v);
    return true;
  }

  private afterChartDraw(chart: Chart<'line', Point[]>): void {
    const x = chart.scales.x;
    const y = chart.scales.y;
    const v = this.view();
    if (!this.on || !x || !y || !drawable(v)) {
      this.frame = undefined;
      return;
    }
    const canvas = chart.canvas;
    this.kept.width = canvas.width;
    this.kept.height = canvas.height;
    const keep = this.kept.getContext('2d');
    if (!keep) return;
    keep.drawImage(canvas, 0, 0);
    const bounds = x.getUserBounds();
    const yb = y.getUserBounds();
    const f: Frame = {
      width: canvas.width,
      height: canvas.height,
      area: { ...chart.chartArea },
      left: x.left,
      right: x.right,
      yPixel: (value) => y.getPixelForValue(value),
      clip: {
        left: bounds.minDefined ? 0 : LINE_OVERFLOW,
        right: bounds.maxDefined ? 0 : LINE_OVERFLOW,
        top: yb.maxDefined ? 0 : LINE_OVERFLOW,
        bottom: yb.minDefined ? 0 : LINE_OVERFLOW,
      },
      labelBand: { top: x.top, bottom: x.bottom, width: chart.width },
      labels: x.getLabelItems().map((i) => ({
        font: i.font as LabelSlot['font'],
        textOffset: i.textOffset,
        options: { ...i.options },
      })),
      yKey: this.yKey,
    };
    this.frame = f;
    this.paint(chart.ctx, f, v);
  }

  /** The line, then the thresholds and markers over it (as the plugins draw after the datasets), then the x labels. */
  private paint(ctx: CanvasRenderingContext2D, f: Frame, v: LayerView): void {
    const min = v.min!;
    const max = v.max!;
    const width = f.right - f.left;
    const xPixel = (t: number): number => f.left + ((t - min) / (max - min)) * width;
    const { points, decimated } = linePoints(v.points, min, max, this.decimation);
    const px = points.map((p) => ({ x: int16(xPixel(p.x)), y: f.yPixel(p.y) }));
    const a = f.area;
    ctx.save();
    ctx.beginPath();
    ctx.rect(
      a.left - f.clip.left,
      a.top - f.clip.top,
      a.right + f.clip.right - (a.left - f.clip.left),
      a.bottom + f.clip.bottom - (a.top - f.clip.top),
    );
    ctx.clip();
    ctx.lineCap = 'butt';
    ctx.setLineDash([]);
    ctx.lineDashOffset = 0;
    ctx.lineJoin = 'miter';
    ctx.lineWidth = 2;
    ctx.strokeStyle = v.colors.line;
    const path = new Path2D();
    tracePath(path, px, decimated);
    ctx.stroke(path);
    ctx.restore();
    drawThresholds(ctx, a, f.yPixel, v.lines);
    drawMarkers(ctx, a, xPixel, v.times, v.colors.marker);
    // the x labels where chart.js put them (evenly spaced ticks, chartBase.ts)
    const n = f.labels.length;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, f.labelBand.top, f.labelBand.width, f.labelBand.bottom - f.labelBand.top);
    ctx.clip();
    f.labels.forEach((slot, i) => {
      const value = n > 1 ? min + ((max - min) * i) / (n - 1) : min;
      renderText(ctx, v.tickLabel(value), 0, slot.textOffset, slot.font, {
        ...slot.options,
        color: v.colors.text,
      });
    });
    ctx.restore();
  }
}

function drawable(v: LayerView): boolean {
  return v.min !== undefined && v.max !== undefined && v.max > v.min;
}
