import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  holderKey,
  LockManager,
  type LockHandle,
  type LockHolder,
  type LockStatus,
} from '../../../src/core/lock';
import { STALE_MS, sleep, tempDir } from './helpers';
import { within } from '../../helpers/run';

/** Polls an async condition until it holds, failing after timeoutMs with what was awaited. */
async function eventually(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(20);
  }
}

describe('holderKey: a shared holder as admission judged it', () => {
  it('is the token alone for a holder that declared no needs', () => {
    assert.equal(holderKey({ token: 'abc' }), 'abc');
  });

  it('is the same for the same needs in any key order, and ignores needs of zero', () => {
    const key = holderKey({ token: 'abc', needs: { memory: 60, cpu: 2 } });
    assert.equal(holderKey({ token: 'abc', needs: { cpu: 2, memory: 60 } }), key);
    assert.equal(holderKey({ token: 'abc', needs: { disk: 0, cpu: 2, memory: 60 } }), key);
    assert.equal(holderKey({ token: 'abc', needs: { memory: 0 } }), holderKey({ token: 'abc', needs: {} }));
  });

  it('changes when the needs change, and differs between holders with the same needs', () => {
    const before = holderKey({ token: 'abc', needs: { memory: 60 } });
    assert.notEqual(holderKey({ token: 'abc', needs: { memory: 70 } }), before);
    assert.notEqual(holderKey({ token: 'abc', needs: {} }), before);
    assert.notEqual(holderKey({ token: 'abc', needs: { memory: 60, cpu: 1 } }), before);
    assert.notEqual(holderKey({ token: 'def', needs: { memory: 60 } }), before);
    // Declaring none ({}) is a change from having declared nothing.
    assert.notEqual(holderKey({ token: 'abc', needs: {} }), holderKey({ token: 'abc' }));
  });
});

describe('LockHandle.setNeeds: a shared holder declares what it still needs', function () {
  this.timeout(60_000);
  let dir = '';
  let cleanup = (): void => undefined;
  const handles: LockHandle[] = [];
  const locks = (): string => join(dir, 'locks');
  const manager = (): LockManager => new LockManager({ dir: locks(), staleMs: STALE_MS });
  const status = async (m: LockManager): Promise<LockStatus | undefined> => (await m.status('test'))[0];
  const sharedNeeds = async (m: LockManager, token: string): Promise<Record<string, number> | undefined> =>
    (await status(m))?.shared?.find((s) => s.holder?.token === token)?.holder?.needs;
  /** The blockedBy of the only ticket in the queue, as written on disk. */
  const blockedBy = (): string[] | undefined => {
    const q = join(locks(), 'test.queue');
    const tickets = readdirSync(q).filter((e) => e.endsWith('.json'));
    assert.equal(tickets.length, 1, `one ticket in ${tickets.join(', ')}`);
    const meta = JSON.parse(readFileSync(join(q, tickets[0] as string), 'utf8')) as {
      queue: { blockedBy?: string[] };
    };
    return meta.queue.blockedBy;
  };
  const budget = 100;
  /** Admission by a memory budget; `seen` records the holders each question was asked beside. */
  const admit =
    (need: number, seen: LockHolder[][] = []) =>
    (holders: LockHolder[]): string | undefined => {
      seen.push(holders);
      const used = holders.reduce((sum, h) => sum + (h.needs?.memory ?? 0), 0);
      return used + need > budget ? `needs ${need} of ${budget - used} left` : undefined;
    };
  const shared = async (m: LockManager, memory: number, why: string): Promise<LockHandle> => {
    const h = await m.acquire('test', { mode: 'shared', needs: { memory }, admit: admit(memory), why });
    handles.push(h);
    return h;
  };

  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.release()));
    cleanup();
  });

  it('a waiter refused beside a holder is judged again when its needs change, and joins once they leave room, while that holder still holds', async () => {
    const m = manager();
    const a = await shared(m, 60, 'A');
    const seen: LockHolder[][] = [];
    const waiting = m
      .acquire('test', {
        mode: 'shared',
        needs: { memory: 60 },
        admit: admit(60, seen),
        why: 'B',
        timeoutMs: 30_000,
      })
      .then((h) => (handles.push(h), h));
    // Keeps a failure of the wait from going unhandled before it is awaited.
    waiting.catch(() => undefined);
    await eventually(async () => (await status(m))?.queue?.[0]?.blocked === true, 10_000, 'B to be refused');
    assert.deepEqual(blockedBy(), [`${a.token}:memory=60`], 'refused beside A with its needs');

    // Still no room: B is judged again beside A's new needs, and says so in its ticket.
    await a.setNeeds({ memory: 70 });
    assert.deepEqual(await sharedNeeds(m, a.token), { memory: 70 });
    await eventually(
      async () => blockedBy()?.[0] === `${a.token}:memory=70`,
      10_000,
      "B's refusal beside A's new needs",
    );
    assert.deepEqual(blockedBy(), [`${a.token}:memory=70`]);

    await a.setNeeds({});
    assert.deepEqual(await sharedNeeds(m, a.token), {}, 'status shows the new needs');
    const b = await within(waiting, 20_000, 'B to join after A declared no needs');
    const st = await status(m);
    assert.deepEqual(
      st?.shared?.map((s) => s.holder?.token).sort(),
      [a.token, b.token].sort(),
      'A still held when B joined',
    );
    assert.equal(a.compromised, false);
    const last = seen.at(-1)?.find((h) => h.token === a.token);
    assert.deepEqual(last?.needs, {}, "B's admission was asked beside A's new needs");
  });

  it('rejects needs that are not finite numbers with a RangeError, leaving the recorded needs as they were', async () => {
    const m = manager();
    const a = await shared(m, 60, 'A');
    await assert.rejects(a.setNeeds({ memory: NaN }), RangeError);
    await assert.rejects(a.setNeeds({ memory: Infinity }), RangeError);
    await assert.rejects(a.setNeeds({ memory: '5' as unknown as number }), RangeError);
    assert.deepEqual(await sharedNeeds(m, a.token), { memory: 60 });
  });

  it('does nothing for an exclusive holder', async () => {
    const m = manager();
    const x = await m.acquire('test', { why: 'X' });
    handles.push(x);
    const metadata = join(locks(), 'test.json');
    const before = readFileSync(metadata, 'utf8');
    await x.setNeeds({ memory: 5 });
    assert.equal(readFileSync(metadata, 'utf8'), before, 'its metadata was not rewritten');
    const st = await status(m);
    assert.equal(st?.holder?.token, x.token);
    assert.equal(st?.holder?.needs, undefined);
  });

  it('does nothing after release: no metadata is written again', async () => {
    const m = manager();
    const a = await shared(m, 60, 'A');
    const member = join(locks(), 'test.shared', `${a.token}.json`);
    assert.equal(existsSync(member), true);
    await a.release();
    assert.equal(existsSync(member), false);
    await a.setNeeds({ memory: 1 });
    assert.equal(existsSync(member), false, 'a released holder left no metadata behind');
    assert.equal((await status(m))?.shared, undefined);
  });
});
