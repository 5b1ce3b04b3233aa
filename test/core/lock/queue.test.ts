import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { hostId, LockManager, type LockHandle, type LockHolder } from '../../../src/core/lock';
// The lock suites' helpers (they move beside this file with the test tree: then `./helpers`).
import { Child, STALE_MS, cli, criticalRun, sectionSuite, sleep, until } from './helpers';
import { exclusiveOverlaps, sections } from './overlap';

describe('the lock queue: fair order across processes, visible, and robust', function () {
  this.timeout(120_000);
  const t = sectionSuite();
  const locks = (): string => join(t.dir, 'locks');
  const manager = (): LockManager => new LockManager({ dir: locks(), staleMs: STALE_MS });

  /** `lock run` of a critical section labelled X... (exclusive) or S... (shared). */
  const run = (label: string, ms: number): Child => {
    const c = criticalRun(locks(), t.log, label, ms, ['--why', label]);
    t.children.push(c);
    return c;
  };
  const queued = async (): Promise<string[]> =>
    ((await manager().status('test'))[0]?.queue ?? []).map((w) => w.holder.why);
  /** Starts the waiters one after another, each once the one before is in the queue: a known order. */
  const startInOrder = async (labels: Array<[string, number]>): Promise<Child[]> => {
    const children: Child[] = [];
    for (const [label, ms] of labels) {
      children.push(run(label, ms));
      const want = children.length;
      const deadline = Date.now() + 30_000;
      while ((await queued()).length < want) {
        if (Date.now() > deadline)
          throw new Error(`${label} did not queue: ${children.map((c) => c.output).join('\n')}`);
        await sleep(50);
      }
    }
    return children;
  };
  const started = (label: string): boolean => sections(t.log).some((s) => s.label === label);
  const noOverlap = (): void =>
    assert.deepEqual(
      exclusiveOverlaps(sections(t.log)),
      [],
      existsSync(t.log) ? readFileSync(t.log, 'utf8') : '',
    );

  it('waiters get the lock in the order they queued, shared ones never passing an exclusive one (measured by the commands)', async () => {
    const m = manager();
    const holder = await m.acquire('test', { why: 'holder' });
    const waiters = await startInOrder([
      ['X1', 150],
      ['S2', 400],
      ['X3', 150],
      ['X4', 150],
      ['S5', 150],
      ['S6', 150],
    ]);
    assert.deepEqual(await queued(), ['X1', 'S2', 'X3', 'X4', 'S5', 'S6']);
    await holder.release();
    const exits = await Promise.all(waiters.map((c) => c.exited));
    assert.deepEqual(
      exits.map((e) => e.code),
      [0, 0, 0, 0, 0, 0],
      waiters.map((c) => c.output).join('\n'),
    );
    const list = sections(t.log);
    // S5 and S6 are admitted one after the other but then hold the lock together (both shared):
    // which of their commands writes its start first is up to the scheduler, not the queue.
    assert.deepEqual(
      list.slice(0, 4).map((s) => s.label),
      ['X1', 'S2', 'X3', 'X4'],
    );
    assert.deepEqual(
      list
        .slice(4)
        .map((s) => s.label)
        .sort(),
      ['S5', 'S6'],
    );
    // S5 and S6 came after X3 and X4: they waited for them although S2 was running when they queued (writer preference).
    const x4 = list.find((s) => s.label === 'X4');
    for (const label of ['S5', 'S6']) {
      const s = list.find((x) => x.label === label);
      assert.ok(s && x4 && s.start > x4.end, `${label} started after X4 ended`);
    }
    noOverlap();
    assert.deepEqual(readdirSync(join(locks(), 'test.queue')), [], 'every waiter left the queue');
  });

  it('kill -9 of a queued waiter: its ticket is recovered at once and the next waiter goes', async () => {
    const m = manager();
    const holder = await m.acquire('test', { why: 'holder' });
    const [w1, w2] = await startInOrder([
      ['X1', 100],
      ['X2', 100],
    ]);
    (w1 as Child).kill('SIGKILL');
    await (w1 as Child).exited;
    assert.deepEqual(await queued(), ['X2'], 'a dead waiter is not listed');
    await holder.release();
    assert.equal((await (w2 as Child).exited).code, 0, (w2 as Child).output);
    assert.equal(started('X1'), false);
    noOverlap();
  });

  it('SIGSTOP of a queued waiter: it keeps its place for the stale period, then the queue goes on without it; resumed, it queues again', async () => {
    const m = manager();
    const holder = await m.acquire('test', { why: 'holder' });
    const [w1, w2] = await startInOrder([
      ['X1', 100],
      ['X2', 100],
    ]);
    (w1 as Child).kill('SIGSTOP');
    const stoppedAt = Date.now();
    await holder.release();
    assert.equal((await (w2 as Child).exited).code, 0, (w2 as Child).output);
    const x2 = sections(t.log).find((s) => s.label === 'X2');
    // Its place was kept until its heartbeat went stale (at most half a stale period went before the
    // stop; a late heartbeat timer on a loaded machine makes it less): never passed over at once.
    assert.ok(x2 && x2.start - stoppedAt >= 200, `X2 went ${x2 && x2.start - stoppedAt} ms after the stop`);
    (w1 as Child).kill('SIGCONT');
    assert.equal((await (w1 as Child).exited).code, 0, (w1 as Child).output);
    noOverlap();
  });

  it('hostile entries in the queue folder (symlinks, a FIFO, a folder, garbage, a huge file, a dead waiter) are ignored without a hang', async () => {
    const q = join(locks(), 'test.queue');
    mkdirSync(q, { recursive: true });
    symlinkSync('/dev/zero', join(q, '000000000001-zero.json'));
    execFileSync('mkfifo', [join(q, '000000000002-fifo.json')]);
    mkdirSync(join(q, '000000000003-dir.json'));
    writeFileSync(join(q, '000000000004-bad.json'), '{ not json');
    writeFileSync(join(q, '000000000005-huge.json'), Buffer.alloc(1 << 20, 0x20));
    const dead: LockHolder = {
      user: 'ghost',
      host: 'here',
      pid: 2 ** 22 - 3,
      why: 'dead waiter',
      acquiredAt: new Date().toISOString(),
      heartbeatAt: new Date().toISOString(),
      token: 'dead',
      hostId: hostId(),
    };
    writeFileSync(
      join(q, '000000000006-dead.json'),
      JSON.stringify({
        version: 1,
        name: 'test',
        lockId: 'dead',
        staleMs: STALE_MS,
        holder: dead,
        queue: { seq: 6, mode: 'exclusive', waitingFor: 'its turn' },
      }),
    );
    const m = manager();
    const started = Date.now();
    const first = await m.acquire('test', { timeoutMs: 5_000 });
    assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
    await first.release();
    const [st] = await m.status('test');
    assert.equal(st?.queue, undefined);
    assert.equal(existsSync(join(q, '000000000006-dead.json')), false, "a dead waiter's ticket is removed");
    // The queue folder itself replaced by a symlink: removed (never followed), made again.
    const elsewhere = join(t.dir, 'elsewhere');
    mkdirSync(elsewhere);
    rmSync(q, { recursive: true, force: true });
    symlinkSync(elsewhere, q);
    const h = await m.acquire('test', { timeoutMs: 5_000 });
    await h.release();
    assert.deepEqual(readdirSync(elsewhere), []);
  });

  it('status lists the queued waiters with position, mode, who, since and what each waits for (core, CLI text, --json)', async () => {
    const m = manager();
    const holder = await m.acquire('test', { why: 'the holder' });
    const first = m.acquire('test', { why: 'first waiter', mode: 'shared', timeoutMs: 30_000 });
    const second = m.acquire('test', { why: 'second waiter', timeoutMs: 30_000 });
    // A wording is written with the next heartbeat (half a stale period) at the latest.
    const deadline = Date.now() + 10_000;
    let st = (await m.status('test'))[0];
    while (
      (st?.queue?.length !== 2 || st.queue.some((w) => w.waitingFor === 'its turn')) &&
      Date.now() < deadline
    ) {
      await sleep(50);
      st = (await m.status('test'))[0];
    }
    const q = st?.queue ?? [];
    assert.deepEqual(
      q.map((w) => [w.position, w.mode, w.holder.why, w.holder.pid]),
      [
        [1, 'shared', 'first waiter', process.pid],
        [2, 'exclusive', 'second waiter', process.pid],
      ],
    );
    assert.ok(Date.parse(q[0]?.holder.acquiredAt ?? '') <= Date.now());
    assert.match(q[0]?.waitingFor ?? '', /^exclusive holder .*"the holder"/);
    assert.match(
      q[1]?.waitingFor ?? '',
      /^its turn behind 1 earlier waiter \(first .*"first waiter"\), shared/,
    );
    const text = await cli(['lock', 'status', '--dir', locks(), '--stale', `${STALE_MS}ms`]);
    assert.match(
      text.stdout,
      /\n {2}queued 1: shared, \S+@\S+ pid \d+ for \d+m?s: first waiter; waiting for exclusive holder /,
    );
    assert.match(
      text.stdout,
      /\n {2}queued 2: exclusive, \S+@\S+ pid \d+ for \d+m?s: second waiter; waiting for its turn behind 1/,
    );
    const json = JSON.parse((await cli(['lock', 'status', '--json', '--dir', locks()])).stdout) as Array<{
      queue?: Array<{ position: number; mode: string; why: string; since: string; waitingFor: string }>;
    }>;
    assert.deepEqual(
      json[0]?.queue?.map((w) => [w.position, w.mode, w.why, typeof w.since, typeof w.waitingFor]),
      [
        [1, 'shared', 'first waiter', 'string', 'string'],
        [2, 'exclusive', 'second waiter', 'string', 'string'],
      ],
    );
    await holder.release();
    await (await first).release();
    await (await second).release();
    assert.equal((await m.status('test'))[0]?.queue, undefined);
  });

  it('a shared waiter passes earlier ones only while they are refused for room; one that would fit but for those is reserved', async () => {
    const m = manager();
    const budget = 100;
    const joined: string[] = [];
    const admit =
      (need: number) =>
      (holders: LockHolder[]): string | undefined => {
        const used = holders.reduce((sum, h) => sum + (h.needs?.memory ?? 0), 0);
        return used + need > budget ? `needs ${need} of ${budget - used} left` : undefined;
      };
    const shared = (why: string, need: number): Promise<LockHandle> =>
      m
        .acquire('test', {
          why,
          mode: 'shared',
          needs: { memory: need },
          admit: admit(need),
          timeoutMs: 30_000,
        })
        .then((h) => {
          joined.push(why);
          return h;
        });
    const a = await shared('A', 50);
    const e = shared('E', 60);
    const blocked = async (why: string): Promise<boolean> =>
      !!(await m.status('test'))[0]?.queue?.find((w) => w.holder.why === why)?.blocked;
    const deadline = Date.now() + 10_000;
    while (!(await blocked('E')) && Date.now() < deadline) await sleep(20);
    assert.ok(await blocked('E'), 'E is refused for room');
    // W (40) fits beside A and passes E; W2 (10) too.
    const w = await shared('W', 40);
    const w2 = await shared('W2', 10);
    assert.deepEqual(joined, ['A', 'W', 'W2']);
    // A leaves: E (60) still does not fit beside W and W2 (50), but would without them: reserved.
    await a.release();
    while (!(await m.status('test'))[0]?.queue?.find((x) => x.holder.why === 'E')?.reserved) {
      if (Date.now() > deadline + 10_000) assert.fail('E was never reserved');
      await sleep(20);
    }
    // W3 (5) would fit, but may not pass a reserved waiter.
    const w3 = shared('W3', 5);
    await sleep(500);
    assert.deepEqual(joined, ['A', 'W', 'W2']);
    await w.release();
    const he = await e;
    const h3 = await w3;
    assert.deepEqual(joined, ['A', 'W', 'W2', 'E', 'W3']);
    await Promise.all([he.release(), h3.release(), w2.release()]);
  });

  it('zero overlap between an exclusive run and any other, with queued waiters killed and stopped meanwhile', async () => {
    const labels: Array<[string, number]> = [
      ['S1', 600],
      ['X2', 200],
      ['S3', 300],
      ['S4', 300],
      ['X5', 200],
      ['S6', 200],
      ['X7', 200],
    ];
    const children = labels.map(([l, ms]) => run(l, ms));
    await until(() => started('S1') || started('X2'), 30_000, 'a first run');
    const killed = children[4] as Child;
    const stopped = children[5] as Child;
    killed.kill('SIGKILL');
    stopped.kill('SIGSTOP');
    await sleep(STALE_MS + 500);
    stopped.kill('SIGCONT');
    const exits = await Promise.all(children.map((c) => c.exited));
    exits.forEach((e, i) => {
      if (i !== 4) assert.equal(e.code, 0, (children[i] as Child).output);
    });
    noOverlap();
  });
});
