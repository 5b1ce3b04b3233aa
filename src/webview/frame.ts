// Live drawing in animation frames, spread so that no frame's script work is long (frames.ts):
// the page's scheduler, with its measures on the performance timeline (seen in the webview's
// developer tools and read by the benchmark):
// - "dashboard frame": one frame's script time, the work it ran plus any message handled since
//   the frame before (so the first frame of a live sample counts the sample's handling too);
// - "dashboard sample": one live sample (or a burst of them) from its handling to the frame that
//   drew the last of it: its duration is the script time over all those frames, its detail
//   { longestFrameMs, frames, spanMs } the longest frame, how many, and the wall time to the end.
import { FrameScheduler } from './frames.js';

/** Script time a frame aims at: a second job joins a frame only if it is expected to fit. */
export const FRAME_BUDGET_MS = 3;

export const frames = new FrameScheduler(
  { request: (run) => requestAnimationFrame(() => run()), now: () => performance.now() },
  {
    budgetMs: FRAME_BUDGET_MS,
    onFrame: (f) =>
      performance.measure('dashboard frame', { start: f.start, duration: f.ms, detail: { jobs: f.jobs } }),
    onBurst: (b) =>
      performance.measure('dashboard sample', {
        start: b.start,
        duration: b.totalMs,
        detail: { longestFrameMs: b.longestMs, frames: b.frames, spanMs: b.spanMs },
      }),
  },
);
