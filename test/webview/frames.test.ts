// The webview's frame scheduler, in plain Node: the page's frames and clock are faked by hand.
// src/webview is an ES module package (a browser bundle), so the module is bundled here by
// esbuild, as the webview's build does, and imported from that; its types come from the source.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { importBundled, REPO_ROOT } from '../helpers/bundle';
import type { BurstReport, FrameReport, FrameScheduler } from '../../src/webview/frames.js' with {
  'resolution-mode': 'import',
};

let Scheduler: typeof FrameScheduler;

before(async () => {
  const mod = await importBundled<{ FrameScheduler: typeof FrameScheduler }>({
    entryPoints: [join(REPO_ROOT, 'src/webview/frames.ts')],
  });
  Scheduler = mod.FrameScheduler;
});

/** A page's frames by hand: `tick()` runs what was requested for the next frame; time moves only when a job says. */
function fakeFrames() {
  let t = 0;
  let next: (() => void)[] = [];
  const frames: FrameReport[] = [];
  const bursts: BurstReport[] = [];
  const clock = {
    request: (run: () => void) => void next.push(run),
    now: () => t,
  };
  return {
    frames,
    bursts,
    /** A job that takes `ms` and notes its name. */
    work: (log: string[], name: string, ms: number) => () => {
      log.push(name);
      t += ms;
    },
    scheduler: (budgetMs = 4) =>
      new Scheduler(clock, {
        budgetMs,
        onFrame: (f) => frames.push(f),
        onBurst: (b) => bursts.push(b),
      }),
    /** Runs one frame (16 ms after the last); false if none was requested. */
    tick(): boolean {
      const run = next;
      next = [];
      t += 16;
      for (const r of run) r();
      return run.length > 0;
    },
    get requested() {
      return next.length;
    },
  };
}

describe('webview frame scheduler: a live sample drawn over several frames', () => {
  it('runs only the first job in a frame until its cost is known, then as many as fit the budget', () => {
    const f = fakeFrames();
    const s = f.scheduler(4);
    const log: string[] = [];
    const queue = () => {
      s.schedule('status', f.work(log, 'status', 0.5), 0);
      for (const k of ['a', 'b', 'c']) s.schedule(k, f.work(log, k, 2), 1);
    };
    queue();
    // nothing known yet: one job per frame
    for (let i = 0; i < 4; i++) assert.ok(f.tick());
    assert.deepEqual(log, ['status', 'a', 'b', 'c']);
    assert.equal(f.tick(), false, 'nothing left: no frame requested');
    assert.equal(f.bursts.length, 1);
    assert.deepEqual(
      { frames: f.bursts[0]!.frames, totalMs: f.bursts[0]!.totalMs, longestMs: f.bursts[0]!.longestMs },
      { frames: 4, totalMs: 6.5, longestMs: 2 },
    );
    // known now: status + one 2 ms chart fit 4 ms, a second chart would not (4.5 ms)
    log.length = 0;
    queue();
    f.tick();
    assert.deepEqual(log, ['status', 'a']);
    f.tick();
    assert.deepEqual(log, ['status', 'a', 'b', 'c'], 'two charts of 2 ms fit 4 ms');
    assert.equal(f.tick(), false);
    assert.ok(
      f.frames.every((x) => x.ms <= 4),
      `frames: ${f.frames.map((x) => x.ms).join(', ')}`,
    );
    // a larger budget takes two charts a frame
    const g = fakeFrames();
    const wide = g.scheduler(5);
    const wlog: string[] = [];
    for (let round = 0; round < 2; round++) {
      wlog.length = 0;
      for (const k of ['a', 'b', 'c', 'd']) wide.schedule(k, g.work(wlog, k, 2));
      while (g.tick());
    }
    assert.deepEqual(
      g.frames.slice(-2).map((x) => x.jobs.length),
      [2, 2],
    );
  });

  it('runs lower priorities first, and the older job first among equals', () => {
    const f = fakeFrames();
    const s = f.scheduler(100);
    const log: string[] = [];
    // costs known first, so that all fit one frame
    for (const k of ['off', 'b', 'a', 'status']) s.schedule(k, f.work(log, k, 0));
    while (f.tick());
    log.length = 0;
    s.schedule('off', f.work(log, 'off', 0), 10);
    s.schedule('b', f.work(log, 'b', 0), 1);
    s.schedule('a', f.work(log, 'a', 0), 1);
    s.schedule('status', f.work(log, 'status', 0), 0);
    f.tick();
    assert.deepEqual(log, ['status', 'b', 'a', 'off']);
  });

  it('a job queued again before it ran replaces its pending work, in its place: no growing queue', () => {
    const f = fakeFrames();
    const s = f.scheduler(4);
    const log: string[] = [];
    s.schedule('a', f.work(log, 'a#1', 3));
    s.schedule('b', f.work(log, 'b#1', 3));
    // a burst of samples: each queues its drawing again
    for (let i = 2; i <= 50; i++) {
      s.schedule('a', f.work(log, `a#${i}`, 3));
      s.schedule('b', f.work(log, `b#${i}`, 3));
    }
    assert.equal(s.size, 2);
    assert.equal(f.requested, 1, 'one frame requested, however many samples');
    while (f.tick());
    assert.deepEqual(log, ['a#50', 'b#50']);
    assert.equal(f.bursts.length, 1);
    assert.equal(f.bursts[0]!.frames, 2);
  });

  it('a job queued while others wait keeps the older ones ahead (none starves)', () => {
    const f = fakeFrames();
    const s = f.scheduler(4);
    const log: string[] = [];
    for (const k of ['a', 'b', 'c']) s.schedule(k, f.work(log, k, 3));
    f.tick(); // a
    s.schedule('a', f.work(log, 'a2', 3)); // a later sample: a is new again, behind b and c
    s.schedule('b', f.work(log, 'b2', 3)); // still pending: replaced in its place
    while (f.tick());
    assert.deepEqual(log, ['a', 'b2', 'c', 'a2']);
  });

  it('counts work handled outside a frame with the next frame, and ends a burst when nothing is left', () => {
    const f = fakeFrames();
    const s = f.scheduler(4);
    const log: string[] = [];
    s.handle(f.work(log, 'message', 1));
    s.schedule('a', f.work(log, 'a', 2));
    s.schedule('b', f.work(log, 'b', 2));
    f.tick();
    f.tick();
    assert.equal(f.tick(), false);
    assert.deepEqual(
      f.frames.map((x) => x.ms),
      [3, 2],
    );
    const [b] = f.bursts;
    assert.equal(f.bursts.length, 1);
    assert.equal(b!.totalMs, 5);
    assert.equal(b!.longestMs, 3);
    assert.equal(b!.frames, 2);
    // from the message (t=0) to the end of the second frame: two frames 16 ms apart, 5 ms of work
    assert.equal(b!.spanMs, 37);
    // a message with nothing to draw still ends its burst in the next frame
    s.handle(f.work(log, 'message', 1));
    assert.ok(f.tick());
    assert.equal(f.bursts.length, 2);
    assert.equal(f.bursts[1]!.frames, 1);
  });

  it('work handled since the last frame counts against the budget', () => {
    const f = fakeFrames();
    const s = f.scheduler(4);
    const log: string[] = [];
    for (const k of ['a', 'b']) s.schedule(k, f.work(log, k, 1.5));
    while (f.tick());
    log.length = 0;
    // 1.5 + 1.5 fit 4 ms, but not after a message that took 2 ms
    s.handle(() => {
      f.work(log, 'message', 2)();
      for (const k of ['a', 'b']) s.schedule(k, f.work(log, k, 1.5));
    });
    f.tick();
    assert.deepEqual(log, ['message', 'a']);
    assert.equal(f.frames[f.frames.length - 1]!.ms, 3.5);
    f.tick();
    assert.deepEqual(log, ['message', 'a', 'b']);
    assert.deepEqual(
      f.frames[f.frames.length - 1]!.jobs,
      [['b', 1.5]],
      'each frame names its jobs and their times',
    );
  });

  it('a job that throws does not stop the others', () => {
    const f = fakeFrames();
    const s = f.scheduler(4);
    const log: string[] = [];
    s.schedule('bad', () => {
      throw new Error('boom');
    });
    s.schedule('a', f.work(log, 'a', 1));
    assert.throws(() => f.tick(), /boom/);
    while (f.tick());
    assert.deepEqual(log, ['a']);
    assert.equal(f.bursts.length, 1);
  });

  it('clear drops what is pending', () => {
    const f = fakeFrames();
    const s = f.scheduler(4);
    const log: string[] = [];
    s.schedule('a', f.work(log, 'a', 1));
    s.clear();
    assert.equal(s.size, 0);
    while (f.tick());
    assert.deepEqual(log, []);
  });
});
