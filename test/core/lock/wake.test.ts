import { strict as assert } from 'node:assert';
import { getEventListeners } from 'node:events';
import { renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../src/core/util/fs';
import { ReleaseWaker } from '../../../src/core/lock/wake';
import { tempDir } from './helpers';

/** Long enough that a sleep ending before it was woken, never timed out. */
const LONG_MS = 30_000;
/** A sleep that must run to its timeout; anything that woke it would come within milliseconds. */
const SHORT_MS = 1_500;
/** Taken to mean "ran to its timeout": far above any wake, below SHORT_MS. */
const TIMED_OUT_MS = 1_000;

/** Whether p settles within ms (a bound against hanging, not a speed target). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a sleep took. */
async function timed(p: Promise<void>): Promise<number> {
  const start = Date.now();
  await p;
  return Date.now() - start;
}

describe('ReleaseWaker: wakes a waiter on real changes only, once per burst', function () {
  this.timeout(60_000);
  let dir = '';
  let cleanup = (): void => undefined;
  const wakers: ReleaseWaker[] = [];
  const waker = (...args: ConstructorParameters<typeof ReleaseWaker>): ReleaseWaker => {
    const w = new ReleaseWaker(...args);
    wakers.push(w);
    return w;
  };

  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => {
    for (const w of wakers.splice(0)) w.close();
    cleanup();
  });

  it("does not wake for writeFileAtomic's temporary files, but does for the rename onto the real name", async () => {
    const w = waker(dir);
    const sleeping = timed(w.sleep(SHORT_MS));
    // Every kind of event a temp file gives: created, written, renamed (to another temp name), touched, removed.
    const tmp = join(dir, '.000000000001-abc.json.1234.deadbeef.tmp');
    const tmp2 = join(dir, '.000000000001-abc.json.1234.cafebabe.tmp');
    writeFileSync(tmp, 'partial');
    writeFileSync(tmp, 'partial, more');
    renameSync(tmp, tmp2);
    utimesSync(tmp2, new Date(), new Date());
    rmSync(tmp2);
    assert.ok((await sleeping) >= TIMED_OUT_MS, 'the sleep ran to its timeout');

    // The same kind of write, carried through to its real name: that is a change.
    const woken = w.sleep(LONG_MS);
    await writeFileAtomic(join(dir, '000000000001-abc.json'), '{}\n');
    assert.equal(await settlesWithin(woken, 10_000), true, 'the rename onto the real name woke it');
  });

  it('names that only look partly like temp files are real entries and wake it', async () => {
    const w = waker(dir);
    for (const name of ['.hidden', 'visible.tmp', '.tmp']) {
      const woken = w.sleep(LONG_MS);
      writeFileSync(join(dir, name), 'x');
      assert.equal(await settlesWithin(woken, 10_000), true, `${name} woke it`);
    }
  });

  it('a real entry created wakes it long before its timeout', async () => {
    const w = waker(dir);
    const woken = w.sleep(LONG_MS);
    writeFileSync(join(dir, 'owner-abc'), '');
    assert.equal(await settlesWithin(woken, 10_000), true);
  });

  it('a burst of changes wakes one sleep once, settleMs after its first change; the next sleep is not woken by it', async () => {
    const settleMs = 100;
    const w = waker(dir, undefined, false, settleMs);
    const first = w.sleep(LONG_MS);
    // The whole burst is synchronous: the kernel has queued every event before the watcher sees
    // the first, and the settle timer cannot fire while they are being handed out.
    const burstAt = Date.now();
    writeFileSync(join(dir, 'a'), '1');
    writeFileSync(join(dir, 'b'), '2');
    writeFileSync(join(dir, 'a'), '3');
    renameSync(join(dir, 'a'), join(dir, 'c'));
    rmSync(join(dir, 'b'));
    assert.equal(await settlesWithin(first, 10_000), true, 'the burst woke the first sleep');
    // Timers may fire a millisecond early by the wall clock.
    assert.ok(Date.now() - burstAt >= settleMs - 5, 'it waited settleMs for the rest of the burst');
    assert.ok((await timed(w.sleep(SHORT_MS))) >= TIMED_OUT_MS, 'the burst was used up by the first sleep');
  });

  it('a change that came while nobody slept makes the next sleep end early, after settleMs', async () => {
    const settleMs = 100;
    const w = waker(dir, undefined, false, settleMs);
    // A second waker on the same folder gets the same events in the same callback as w: once it has
    // woken, w has seen the change too, with no sleep of its own pending.
    const probe = waker(dir);
    const probed = probe.sleep(LONG_MS);
    writeFileSync(join(dir, 'released'), '');
    assert.equal(await settlesWithin(probed, 10_000), true, 'the change was delivered');

    const start = Date.now();
    assert.equal(await settlesWithin(w.sleep(LONG_MS), 10_000), true, 'the earlier change ended the sleep');
    assert.ok(Date.now() - start >= settleMs - 5, 'counted from the sleep: not at once');
    assert.ok((await timed(w.sleep(SHORT_MS))) >= TIMED_OUT_MS, 'that change was used up');
  });

  it('an aborted signal rejects: at once when already aborted (even with a change pending), or during the sleep', async () => {
    const w = waker(dir);
    const aborted = new AbortController();
    aborted.abort(new Error('stop now'));
    await assert.rejects(w.sleep(LONG_MS, aborted.signal), /stop now/);

    const probe = waker(dir);
    const probed = probe.sleep(LONG_MS);
    writeFileSync(join(dir, 'changed'), '');
    assert.equal(await settlesWithin(probed, 10_000), true);
    await assert.rejects(w.sleep(LONG_MS, aborted.signal), /stop now/, 'abort wins over a pending change');

    const later = new AbortController();
    const sleeping = w.sleep(LONG_MS, later.signal);
    later.abort(new Error('stop later'));
    await assert.rejects(sleeping, /stop later/);
    assert.equal(getEventListeners(later.signal, 'abort').length, 0);
  });

  it('the timeout still resolves, and an ended sleep leaves no abort listener behind', async () => {
    const w = waker(dir);
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i++) await w.sleep(20, signal);
    assert.equal(getEventListeners(signal, 'abort').length, 0);
  });

  it('with renamesOnly, a heartbeat (utimes) does not wake it; the entry going away does', async () => {
    const file = join(dir, 'owner-abc');
    writeFileSync(file, '');
    const w = waker(dir, undefined, true);
    // Without renamesOnly the same heartbeat wakes a waker: the event did happen.
    const control = waker(dir);
    const sleeping = timed(w.sleep(SHORT_MS));
    const controlled = control.sleep(LONG_MS);
    for (let i = 1; i <= 3; i++)
      utimesSync(file, new Date(Date.now() + i * 1000), new Date(Date.now() + i * 1000));
    assert.equal(await settlesWithin(controlled, 10_000), true, 'the heartbeat was seen by a plain waker');
    assert.ok((await sleeping) >= TIMED_OUT_MS, 'the heartbeat did not wake the renamesOnly waker');

    const woken = w.sleep(LONG_MS);
    rmSync(file);
    assert.equal(await settlesWithin(woken, 10_000), true, 'the entry leaving woke it');
  });
});
