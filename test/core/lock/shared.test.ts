import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LockManager, LockTimeoutError, type LockHandle } from '../../../src/core/lock';
import { Child, STALE_MS, criticalRun, sectionSuite, sleep, until } from './helpers';
import { exclusiveOverlaps, sections, sharedRanTogether } from './overlap';

describe('shared and exclusive holders (a reader/writer lock across processes)', function () {
  this.timeout(90_000);
  const t = sectionSuite();

  const run = (label: string, ms: number, extra: string[] = []): Child => {
    const c = criticalRun(join(t.dir, 'locks'), t.log, label, ms, extra);
    t.children.push(c);
    return c;
  };
  const started = (label: string): boolean => sections(t.log).some((s) => s.label === label);
  const check = (): void =>
    assert.deepEqual(
      exclusiveOverlaps(sections(t.log)),
      [],
      existsSync(t.log) ? readFileSync(t.log, 'utf8') : '',
    );

  it('shared runs run together; an exclusive one waits for them and, while it waits, lets no new shared run in', async () => {
    const first = [run('S1', 1_500), run('S2', 1_500), run('S3', 1_500)];
    await until(() => started('S1') && started('S2') && started('S3'), 20_000, 'the shared runs to start');
    const x = run('X1', 300);
    await sleep(300);
    const late = run('S4', 200);
    const exits = await Promise.all([...first, x, late].map((c) => c.exited));
    assert.deepEqual(
      exits.map((e) => e.code),
      [0, 0, 0, 0, 0],
      t.children.map((c) => c.output).join('\n'),
    );
    const list = sections(t.log);
    assert.ok(sharedRanTogether(list), 'shared runs must overlap each other');
    const x1 = list.find((s) => s.label === 'X1');
    const s4 = list.find((s) => s.label === 'S4');
    assert.ok(
      x1 && s4 && s4.start > x1.end,
      'a shared run that came after the waiting exclusive one runs after it (writer preference)',
    );
    check();
  });

  it("kill -9 of a shared run's wrapper: its command still counts; the exclusive run waits for it", async () => {
    const s = run('S1', 2_000);
    await until(() => started('S1'), 20_000, 'S1');
    s.kill('SIGKILL');
    const x = run('X1', 100);
    assert.equal((await x.exited).code, 0, x.output);
    check();
  });

  it("SIGSTOP of a shared run's wrapper while its command runs: the exclusive run waits, then goes", async () => {
    const s = run('S1', 1_500);
    await until(() => started('S1'), 20_000, 'S1');
    s.kill('SIGSTOP');
    const x = run('X1', 100);
    await sleep(STALE_MS * 2);
    assert.equal(started('X1'), false);
    s.kill('SIGCONT');
    assert.equal((await x.exited).code, 0, x.output);
    check();
  });

  it('a dead shared holder (process and command gone) is taken over by the exclusive one and the takeover recorded', async () => {
    const m = new LockManager({ dir: join(t.dir, 'locks'), staleMs: STALE_MS });
    const holder = new Child(process.execPath, [
      resolve(__dirname, 'fixtures/holder.js'),
      'hold-shared',
      join(t.dir, 'locks'),
      'test',
      String(STALE_MS),
    ]);
    t.children.push(holder);
    await holder.waitFor(/^acquired /m);
    holder.kill('SIGKILL');
    await holder.exited;
    const h = await m.acquire('test', { timeoutMs: 10_000 });
    const events = readFileSync(join(t.dir, 'locks', 'test.events.jsonl'), 'utf8');
    assert.match(events, /"type":"takeover".*shared holder: holder pid \d+ is no longer running/);
    await h.release();
  });

  it('kill -9 of an exclusive run waiting for shared ones: shared runs go on afterwards', async () => {
    const s = run('S1', 1_500);
    await until(() => started('S1'), 20_000, 'S1');
    const x = run('X1', 100);
    await sleep(300);
    x.kill('SIGKILL');
    const s2 = run('S2', 100);
    assert.equal((await s2.exited).code, 0, s2.output);
    assert.equal((await s.exited).code, 0);
    check();
  });

  it('admission: a shared holder that does not fit waits until one leaves, then joins; status lists the shared holders', async () => {
    const m = new LockManager({ dir: join(t.dir, 'locks'), staleMs: STALE_MS });
    const budget = 100;
    const admit =
      (need: number) =>
      (holders: { needs?: Record<string, number> }[]): string | undefined => {
        const used = holders.reduce((sum, h) => sum + (h.needs?.memory ?? 0), 0);
        return used + need > budget ? `needs ${need} of ${budget - used} left` : undefined;
      };
    const a: LockHandle = await m.acquire('test', {
      mode: 'shared',
      needs: { memory: 60 },
      admit: admit(60),
    });
    await assert.rejects(
      m.acquire('test', { mode: 'shared', needs: { memory: 60 }, admit: admit(60), timeoutMs: 0 }),
      (err: Error) =>
        err instanceof LockTimeoutError &&
        /no room for another shared holder \(needs 60 of 40 left\)/.test(err.message),
    );
    const small = await m.acquire('test', {
      mode: 'shared',
      needs: { memory: 30 },
      admit: admit(30),
      timeoutMs: 0,
    });
    const [st] = await m.status('test');
    assert.equal(st?.held, false);
    assert.equal(st?.shared?.length, 2);
    const waiting = m.acquire('test', {
      mode: 'shared',
      needs: { memory: 60 },
      admit: admit(60),
      timeoutMs: 10_000,
    });
    await sleep(300);
    await a.release();
    const b = await waiting;
    await Promise.all([b.release(), small.release()]);
    assert.equal((await m.status('test'))[0]?.shared, undefined);
  });
});
