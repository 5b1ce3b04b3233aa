// Spreads a live sample's drawing over consecutive animation frames, so that no frame's script
// work is long: each frame runs the most urgent pending jobs while their expected cost fits the
// frame's budget (always at least one). A job queued again under the same key before it ran
// replaces its pending work and keeps its place: a burst of samples never grows a queue.
// Free of DOM types (the page passes in requestAnimationFrame and performance.now), so that it is
// tested in plain Node (test/webview/frames.test.ts).

/** What the scheduler needs from the page. */
export interface FrameClock {
  /** Calls `run` in the next frame (requestAnimationFrame in the page). */
  request(run: () => void): void;
  /** Milliseconds, monotonic (performance.now in the page). */
  now(): number;
}

/**
 * One frame's work: `ms` of script time from `start`, counting work handled since the frame
 * before; `jobs` the keys of the jobs it ran, each with its own time (ms).
 */
export interface FrameReport {
  start: number;
  ms: number;
  jobs: [key: string, ms: number][];
}

/**
 * One burst of work, from the first thing handled or queued to the frame that left nothing
 * pending: `totalMs` of script time over `frames` frames, the longest of them `longestMs`;
 * `spanMs` from `start` to the end of the last frame (wall time, what a user waits).
 */
export interface BurstReport {
  start: number;
  totalMs: number;
  longestMs: number;
  frames: number;
  spanMs: number;
}

export interface FrameSchedulerOptions {
  /** Script time a frame aims to stay under (ms). */
  budgetMs: number;
  onFrame?: (f: FrameReport) => void;
  onBurst?: (b: BurstReport) => void;
}

interface Job {
  run: () => void;
  priority: number;
  /** Order first queued: among equal priorities, the older job runs first. */
  seq: number;
}

/** Weight of the newest measurement in a job's expected cost. */
const SMOOTHING = 0.5;

export class FrameScheduler {
  private readonly pending = new Map<string, Job>();
  /** Each key's expected cost (ms), from its runs so far; a key never run is expected to fill a frame. */
  private readonly cost = new Map<string, number>();
  private seq = 0;
  private requested = false;
  /** Work handled outside a frame since the last one (ms): counted with the next frame. */
  private carried = 0;
  private burst?: { start: number; totalMs: number; longestMs: number; frames: number };

  constructor(
    private readonly clock: FrameClock,
    private readonly options: FrameSchedulerOptions,
  ) {}

  /**
   * Queues `run` under `key`, lower `priority` first. Queued again before it ran, the newer
   * `run` and `priority` replace the pending ones, in the same place.
   */
  schedule(key: string, run: () => void, priority = 0): void {
    const job = this.pending.get(key);
    if (job) {
      job.run = run;
      job.priority = priority;
    } else this.pending.set(key, { run, priority, seq: this.seq++ });
    this.begin(this.clock.now());
    this.request();
  }

  /** Runs `work` now (say, a message's data taken in), its time counted with the next frame's. */
  handle(work: () => void): void {
    const t0 = this.clock.now();
    this.begin(t0);
    try {
      work();
    } finally {
      const ms = this.clock.now() - t0;
      this.carried += ms;
      this.burst!.totalMs += ms;
      this.request();
    }
  }

  /** Drops every pending job (what they would draw is being replaced). */
  clear(): void {
    this.pending.clear();
  }

  /** Jobs waiting for a frame. */
  get size(): number {
    return this.pending.size;
  }

  private begin(t: number): void {
    this.burst ??= { start: t, totalMs: 0, longestMs: 0, frames: 0 };
  }

  private request(): void {
    if (this.requested) return;
    this.requested = true;
    this.clock.request(() => this.frame());
  }

  /**
   * The most urgent jobs whose expected cost fits what is left of the budget (the work handled
   * since the last frame counts), at least one.
   */
  private frame(): void {
    this.requested = false;
    const t0 = this.clock.now();
    const jobs: [string, number][] = [];
    try {
      const order = [...this.pending].sort(([, a], [, b]) => a.priority - b.priority || a.seq - b.seq);
      for (const [key, job] of order) {
        const spent = this.carried + this.clock.now() - t0;
        if (jobs.length > 0 && spent + this.expected(key) > this.options.budgetMs) break;
        this.pending.delete(key);
        const j0 = this.clock.now();
        try {
          job.run();
        } finally {
          const ms = this.clock.now() - j0;
          jobs.push([key, ms]);
          const before = this.cost.get(key);
          this.cost.set(key, before === undefined ? ms : before + SMOOTHING * (ms - before));
        }
      }
    } finally {
      // a job that threw is reported by the page; the others still run, in the next frame
      this.settle(t0, jobs);
    }
  }

  private settle(t0: number, jobs: [string, number][]): void {
    const end = this.clock.now();
    const ms = this.carried + (end - t0);
    this.carried = 0;
    this.options.onFrame?.({ start: t0, ms, jobs });
    const burst = this.burst;
    if (burst) {
      burst.frames++;
      burst.totalMs += end - t0;
      burst.longestMs = Math.max(burst.longestMs, ms);
    }
    if (this.pending.size > 0) {
      this.request();
      return;
    }
    this.burst = undefined;
    if (burst) this.options.onBurst?.({ ...burst, spanMs: end - burst.start });
  }

  private expected(key: string): number {
    return this.cost.get(key) ?? this.options.budgetMs;
  }
}
