import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/log';
import type { LockContext } from '../../../src/core/lock/common';
import { lockPaths, type LockPaths } from '../../../src/core/lock/names';
import { currentIdentity, processStartTime } from '../../../src/core/lock/process';
import { readQueue, type QueuedTicket, type TicketMetadata } from '../../../src/core/lock/queue';
import { writeFileAtomic } from '../../../src/core/util/fs';
import { STALE_MS, tempDir } from './helpers';
import { within } from '../../helpers/run';

/** A ticket as queue.ts writes it, of a waiter that is this (live) process. */
function ticket(seq: number, token: string, waitingFor: string): TicketMetadata {
  const now = new Date().toISOString();
  const pidStart = processStartTime(process.pid);
  return {
    version: 1,
    name: 'test',
    lockId: token,
    staleMs: STALE_MS,
    holder: {
      ...currentIdentity(),
      why: 'a waiter',
      acquiredAt: now,
      heartbeatAt: now,
      token,
      ...(pidStart !== undefined ? { pidStart } : {}),
    },
    queue: { seq, mode: 'shared', waitingFor },
  };
}

/** `<12-digit seq>-<token>.json`, as queue.ts names tickets. */
const ticketName = (seq: number, token: string): string => `${String(seq).padStart(12, '0')}-${token}.json`;

describe('readQueue: tickets read again whenever they change', function () {
  this.timeout(30_000);
  let dir = '';
  let cleanup = (): void => undefined;
  let paths: LockPaths;
  let ctx: LockContext;
  const file = (seq: number, token: string): string => join(paths.queue, ticketName(seq, token));
  const write = (seq: number, token: string, waitingFor: string): Promise<void> =>
    writeFileAtomic(file(seq, token), JSON.stringify(ticket(seq, token, waitingFor)) + '\n');
  const read = (reclaim = false): Promise<QueuedTicket[]> =>
    within(readQueue(ctx, paths, reclaim), 10_000, 'readQueue');
  const waitingFor = async (): Promise<string[]> => (await read()).map((t) => t.meta.queue.waitingFor);

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    paths = lockPaths(dir, 'test');
    // Reads reused at once (not only once a ticket is 2.5 s old), so that every test here goes
    // through the cache; the test on coarse timestamps below keeps the default.
    ctx = { dir, staleMs: STALE_MS, logger: silentLogger, maxRetryMs: 1_000, ticketCacheAfterMs: 0 };
    mkdirSync(paths.queue, { recursive: true });
  });
  afterEach(() => cleanup());

  it('a ticket rewritten by writeFileAtomic (a rename) is read again, same size or not', async () => {
    await write(1, 'aaa', 'waiting-1');
    assert.deepEqual(await waitingFor(), ['waiting-1']);
    await write(1, 'aaa', 'waiting-2');
    assert.deepEqual(await waitingFor(), ['waiting-2'], 'same size, new content');
    await write(1, 'aaa', 'waiting for much longer now');
    assert.deepEqual(await waitingFor(), ['waiting for much longer now']);
    await write(1, 'aaa', 'waiting-3');
    assert.deepEqual(await waitingFor(), ['waiting-3']);
  });

  it('a heartbeat (utimes) alone keeps the ticket as it was', async () => {
    await write(1, 'aaa', 'its turn');
    const [first] = await read();
    const later = new Date(Date.now() + 1_000);
    utimesSync(file(1, 'aaa'), later, later);
    const [again] = await read();
    assert.equal(again?.meta.queue.waitingFor, 'its turn');
    assert.ok(Math.abs((again?.heartbeatMs ?? 0) - later.getTime()) < 1, 'the heartbeat is the new mtime');
    assert.notEqual(again?.heartbeatMs, first?.heartbeatMs);
  });

  it('a ticket rewritten in place (the same file) with new content is read again', async () => {
    await write(1, 'aaa', 'first');
    assert.deepEqual(await waitingFor(), ['first']);
    writeFileSync(file(1, 'aaa'), JSON.stringify(ticket(1, 'aaa', 'second, in place')) + '\n');
    assert.deepEqual(await waitingFor(), ['second, in place']);
  });

  for (const kind of ['a symlink to a valid ticket', 'a FIFO', 'a folder'] as const) {
    it(`a ticket replaced by ${kind} is ignored (never followed, never blocking), and a valid ticket there is read again`, async () => {
      await write(1, 'aaa', 'its turn');
      await write(2, 'bbb', 'behind');
      assert.deepEqual(await waitingFor(), ['its turn', 'behind']);
      const target = file(1, 'aaa');
      if (kind === 'a symlink to a valid ticket') {
        // A valid ticket under the very name, outside the queue: followed, it would be listed.
        const elsewhere = join(dir, 'elsewhere.json');
        writeFileSync(elsewhere, JSON.stringify(ticket(1, 'aaa', 'through a symlink')) + '\n');
        symlinkSync(elsewhere, join(paths.queue, 'link'));
        renameSync(join(paths.queue, 'link'), target);
      } else {
        rmSync(target);
        if (kind === 'a FIFO') execFileSync('mkfifo', [target]);
        else mkdirSync(target);
      }
      assert.deepEqual(await waitingFor(), ['behind']);
      assert.deepEqual(
        (await read(true)).map((t) => t.token),
        ['bbb'],
        'reclaiming does not block or follow either',
      );
      rmSync(target, { recursive: true, force: true });
      await write(1, 'aaa', 'back again');
      assert.deepEqual(await waitingFor(), ['back again', 'behind']);
    });
  }

  it('a ticket replaced by a corrupt or mismatching file is no longer listed', async () => {
    const target = file(1, 'aaa');
    const replacements: Array<[string, () => Promise<void> | void]> = [
      ['not JSON, by rename', () => writeFileAtomic(target, '{ not json')],
      ['not JSON, in place', () => writeFileSync(target, '{ not json either, and longer')],
      ['empty, in place', () => writeFileSync(target, '')],
      ['another token inside', () => writeFileAtomic(target, JSON.stringify(ticket(1, 'zzz', 'its turn')))],
      ['another seq inside', () => writeFileAtomic(target, JSON.stringify(ticket(7, 'aaa', 'its turn')))],
      [
        'bad queue fields',
        () =>
          writeFileAtomic(
            target,
            JSON.stringify({ ...ticket(1, 'aaa', 'x'), queue: { seq: 1, mode: 'either' } }),
          ),
      ],
    ];
    for (const [what, replace] of replacements) {
      await write(1, 'aaa', 'its turn');
      assert.deepEqual(await waitingFor(), ['its turn'], `valid before: ${what}`);
      await replace();
      assert.deepEqual(await waitingFor(), [], what);
    }
  });

  it('queues of two locks with tickets of the same name are told apart', async () => {
    const other = lockPaths(dir, 'other');
    mkdirSync(other.queue, { recursive: true });
    await write(1, 'aaa', 'in test');
    await writeFileAtomic(
      join(other.queue, ticketName(1, 'aaa')),
      JSON.stringify(ticket(1, 'aaa', 'in other')),
    );
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await waitingFor(), ['in test']);
      assert.deepEqual(
        (await readQueue(ctx, other, false)).map((t) => t.meta.queue.waitingFor),
        ['in other'],
      );
    }
  });

  it('on ext4 with 1 s timestamps and reused inode numbers, a ticket rewritten twice within a second is read again (and would not be, were fresh reads reused)', async function () {
    if (process.getuid?.() !== 0) return this.skip();
    const mnt = mkdtempSync(join(tmpdir(), 'ds-qcache-'));
    const image = `${mnt}.img`;
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${image}`, 'bs=1M', 'count=32'], { stdio: 'ignore' });
      execFileSync('mkfs.ext4', ['-q', '-I', '128', '-F', image], { stdio: 'ignore' });
      execFileSync('mount', ['-o', 'loop', image, mnt]);
      /** Old contents read back after two same-size rewrites, in `rounds` tries. */
      const staleReads = async (cacheAfterMs: number | undefined, rounds: number): Promise<number> => {
        const p = lockPaths(join(mnt, `locks-${cacheAfterMs ?? 'default'}`), 'test');
        mkdirSync(p.queue, { recursive: true });
        const c: LockContext = {
          dir: join(mnt, 'locks'),
          staleMs: STALE_MS,
          logger: silentLogger,
          maxRetryMs: 1_000,
          ...(cacheAfterMs !== undefined ? { ticketCacheAfterMs: cacheAfterMs } : {}),
        };
        const f = join(p.queue, ticketName(1, 'aaa'));
        const put = (w: string): Promise<void> => writeFileAtomic(f, JSON.stringify(ticket(1, 'aaa', w)));
        let stale = 0;
        for (let i = 0; i < rounds; i++) {
          await put(`r${i % 10}`);
          await readQueue(c, p, false);
          await put(`a${i % 10}`);
          await put(`b${i % 10}`);
          if ((await readQueue(c, p, false))[0]?.meta.queue.waitingFor !== `b${i % 10}`) stale++;
        }
        return stale;
      };
      assert.equal(await staleReads(undefined, 100), 0, 'the default: no old ticket read back');
      assert.ok((await staleReads(0, 100)) > 0, 'control: reusing fresh reads does read old tickets here');
    } finally {
      execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
      rmSync(mnt, { recursive: true, force: true });
      rmSync(image, { force: true });
    }
  });
});
