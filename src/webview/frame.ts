// Live drawing waits for the next animation frame: a burst of messages draws once, and a webview
// that is not shown (no frames) draws nothing until it is. Each frame that drew samples records
// a "dashboard sample" measure (performance timeline, seen in the webview's developer tools and
// read by the benchmark): the handling of its samples plus the frame's drawing, our script's time.
const jobs = new Map<string, () => void>();
let queued = false;
let sampleStart: number | undefined;
let sampleMs = 0;

/** Runs `job` in the next animation frame; a job queued again under the same key runs once. */
export function inNextFrame(key: string, job: () => void): void {
  jobs.set(key, job);
  if (queued) return;
  queued = true;
  requestAnimationFrame(runFrame);
}

/** Handles a live sample now (its data), counted with the frame that draws it. */
export function handleSample(handle: () => void): void {
  const t0 = performance.now();
  handle();
  sampleStart ??= t0;
  sampleMs += performance.now() - t0;
}

function runFrame(): void {
  queued = false;
  const t0 = performance.now();
  const todo = [...jobs.values()];
  jobs.clear();
  for (const job of todo) job();
  if (sampleStart === undefined) return;
  performance.measure('dashboard sample', {
    start: sampleStart,
    duration: sampleMs + (performance.now() - t0),
  });
  sampleStart = undefined;
  sampleMs = 0;
}
