import { strict as assert } from 'node:assert';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  InvalidLockNameError,
  LockDirError,
  LockManager,
  LockTimeoutError,
  type LockHandle,
} from '../../../src/core/lock';
import { STALE_MS, sleep, tempDir } from './helpers';

describe('LockManager (in process)', function () {
  this.timeout(20_000);
  let dir: string;
  let cleanup: () => void;
  let manager: LockManager;
  const handles: LockHandle[] = [];

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    manager = new LockManager({ dir, staleMs: STALE_MS });
  });
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.release()));
    cleanup();
  });

  const acquire = async (
    name = 'test',
    opts: Parameters<LockManager['acquire']>[1] = {},
  ): Promise<LockHandle> => {
    const h = await manager.acquire(name, opts);
    handles.push(h);
    return h;
  };

  /** Lock metadata as another process on another host writes it, for lock "test". */
  const foreignMetadata = (
    lockId: string,
    holder: { user: string; host: string; pid: number; why: string; token: string },
    staleMs = STALE_MS,
  ): string =>
    JSON.stringify({
      version: 1,
      name: 'test',
      lockId,
      staleMs,
      holder: { ...holder, acquiredAt: new Date().toISOString(), heartbeatAt: '' },
    });

  /**
   * A lock left by a holder that crashed: the directory with its generation's owner file, whose
   * mtime (the heartbeat) is old. The token is the metadata's, when it has one.
   */
  const crashedLock = (name: string, ageMs: number, metadata?: string): string => {
    let token = `crashed${Math.random().toString(16).slice(2)}`;
    try {
      token = (JSON.parse(metadata ?? '') as { holder: { token: string } }).holder.token ?? token;
    } catch {
      // no metadata, or corrupt: a token of our own
    }
    mkdirSync(join(dir, `${name}.lock`));
    const owner = join(dir, `${name}.lock`, `owner-${token}`);
    writeFileSync(owner, '');
    const t = new Date(Date.now() - ageMs);
    utimesSync(owner, t, t);
    if (metadata !== undefined) writeFileSync(join(dir, `${name}.json`), metadata);
    return owner;
  };

  it('acquires, writes holder metadata as a sibling JSON (the lock directory holds only its owner file), and release removes both', async () => {
    const h = await acquire('test', { why: 'unit test' });
    assert.deepEqual(readdirSync(join(dir, 'test.lock')), [`owner-${h.token}`]);
    const meta = JSON.parse(readFileSync(join(dir, 'test.json'), 'utf8'));
    assert.equal(meta.holder.token, h.token);
    assert.equal(meta.holder.pid, process.pid);
    assert.equal(meta.holder.why, 'unit test');
    const [s] = await manager.status('test');
    assert.ok(s?.held && !s.stale);
    assert.equal(s.holder?.token, h.token);
    for (const k of ['user', 'host', 'pid', 'why', 'acquiredAt', 'heartbeatAt'] as const)
      assert.ok(s.holder?.[k] !== undefined, k);
    await h.release();
    await h.release();
    assert.equal(existsSync(join(dir, 'test.lock')), false);
    assert.equal(existsSync(join(dir, 'test.json')), false);
    assert.deepEqual(await manager.status(), []);
  });

  it('creates a lock folder that does not exist yet, nested', async () => {
    const nested = new LockManager({ dir: join(dir, 'a', 'b', 'locks'), staleMs: STALE_MS });
    const h = await nested.acquire('test');
    assert.ok(existsSync(join(dir, 'a', 'b', 'locks', 'test.lock')));
    await h.release();
  });

  it('with timeout 0 fails at once with LockTimeoutError naming the holder and how long it held', async () => {
    await acquire('test', { why: 'first holder' });
    const other = new LockManager({ dir, staleMs: STALE_MS });
    await sleep(50);
    const started = Date.now();
    await assert.rejects(other.acquire('test', { timeoutMs: 0 }), (err: unknown) => {
      assert.ok(err instanceof LockTimeoutError);
      assert.equal(err.holder?.pid, process.pid);
      assert.equal(err.holder?.why, 'first holder');
      assert.ok((err.heldForMs ?? 0) >= 50, `heldForMs ${err.heldForMs}`);
      assert.match(
        err.message,
        /lock "test" is held by .*@.* \(pid \d+, "first holder"\) for \d+ms; (tried once|gave up)/,
      );
      return true;
    });
    assert.ok(Date.now() - started < 3_000, 'no waiting');
  });

  it('queues concurrent callers in one process first come, first served, without overlap', async () => {
    const order: number[] = [];
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        manager.withLock('test', `caller ${i}`, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          order.push(i);
          await sleep(20);
          inside--;
        }),
      ),
    );
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(maxInside, 1);
  });

  it('withLock releases the lock when fn throws, and rethrows', async () => {
    await assert.rejects(
      manager.withLock('test', 'will throw', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    const [s] = await manager.status('test');
    assert.equal(s?.held, false);
    const h = await acquire('test', { timeoutMs: 0 });
    assert.ok(h.token);
  });

  it('times out a queued in-process caller and cancels a wait through an AbortSignal', async () => {
    await acquire('test');
    await assert.rejects(manager.acquire('test', { timeoutMs: 200 }), LockTimeoutError);
    const ac = new AbortController();
    const waiting = manager.acquire('test', { timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user cancelled')), 100);
    const started = Date.now();
    await assert.rejects(waiting, /user cancelled/);
    assert.ok(Date.now() - started < 3_000, 'no waiting');
  });

  it('rejects invalid names and a too short stale period with clear errors', async () => {
    await assert.rejects(manager.acquire('../x'), InvalidLockNameError);
    await assert.rejects(manager.status('a b'), InvalidLockNameError);
    await assert.rejects(manager.forceRelease(''), InvalidLockNameError);
    assert.throws(() => new LockManager({ dir, staleMs: 500 }), /staleMs must be from 2000/);
  });

  it('reports a lock folder below a regular file as not creatable (LockDirError), and status as empty', async () => {
    // We run as root, so chmod cannot make a folder unwritable; a path under a regular file can
    // never be created by anyone (ENOTDIR). The non-root EACCES case is in processes.test.ts.
    writeFileSync(join(dir, 'file'), 'x');
    const bad = new LockManager({ dir: join(dir, 'file', 'locks'), staleMs: STALE_MS });
    await assert.rejects(bad.acquire('test', { timeoutMs: 0 }), (err: unknown) => {
      assert.ok(err instanceof LockDirError);
      assert.match(err.message, /cannot create lock folder .*file\/locks: ENOTDIR/);
      return true;
    });
    await assert.rejects(
      new LockManager({ dir: join(dir, 'file') }).status(),
      /cannot read lock folder .*: ENOTDIR/,
    );
  });

  it('takes over a lock whose heartbeat stopped, and records the takeover with the previous holder', async () => {
    const previous = foreignMetadata('gone', {
      user: 'ann',
      host: 'elsewhere',
      pid: 4242,
      why: 'previous',
      token: 'old',
    });
    crashedLock('test', STALE_MS + 1_000, previous);
    const h = await acquire('test', { timeoutMs: 0 });
    const [s] = await manager.status('test');
    assert.equal(s?.holder?.token, h.token);
    assert.match(s?.holder?.takeover?.reason ?? '', /heartbeat stopped \d+s ago \(stale after 2s\)/);
    assert.deepEqual(
      {
        host: s?.holder?.takeover?.previous?.host,
        pid: s?.holder?.takeover?.previous?.pid,
        why: s?.holder?.takeover?.previous?.why,
      },
      { host: 'elsewhere', pid: 4242, why: 'previous' },
    );
    const events = readFileSync(join(dir, 'test.events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(events.at(-1).type, 'takeover');
    assert.equal(events.at(-1).previous.user, 'ann');
  });

  it('never lets corrupt metadata make a lock unrecoverable: reported in status, taken over once stale', async () => {
    const owner = crashedLock('test', 0, '{ this is not json');
    const [s] = await manager.status('test');
    assert.ok(s?.held);
    assert.equal(s.holder, undefined);
    assert.match(s.metadataProblem ?? '', /metadata unreadable: not JSON/);
    await assert.rejects(
      manager.acquire('test', { timeoutMs: 0 }),
      /held by an unknown holder \(no readable metadata\)/,
    );
    const lastBeat = statSync(owner).mtimeMs;
    const h = await acquire('test', { timeoutMs: 10_000 });
    const late = Date.now() - (lastBeat + STALE_MS);
    assert.ok(late <= manager.maxRetryMs + 500, `acquired ${late}ms after the lock went stale`);
    const [after] = await manager.status('test');
    assert.equal(after?.holder?.token, h.token);
    assert.match(after?.holder?.takeover?.reason ?? '', /heartbeat stopped/);
  });

  it('never lets missing metadata make a lock unrecoverable: holder unknown, taken over once stale', async () => {
    crashedLock('test', STALE_MS + 500);
    const [s] = await manager.status('test');
    assert.ok(s?.held && s.stale);
    assert.equal(s.metadataProblem, 'no metadata: holder unknown');
    const h = await acquire('test', { timeoutMs: 0 });
    assert.ok(h.token);
  });

  it('reclaims a stale lock directory even when something was left inside it', async () => {
    mkdirSync(join(dir, 'test.lock'));
    writeFileSync(join(dir, 'test.lock', 'junk'), 'x');
    const t = new Date(Date.now() - STALE_MS - 500);
    utimesSync(join(dir, 'test.lock'), t, t);
    const h = await acquire('test', { timeoutMs: 0 });
    assert.deepEqual(readdirSync(join(dir, 'test.lock')), [`owner-${h.token}`]);
  });

  it("respects a holder's longer stale period over the acquirer's shorter one", async () => {
    const meta = foreignMetadata(
      'x',
      { user: 'u', host: 'elsewhere', pid: 1, why: 'slow heartbeat', token: 't' },
      60_000,
    );
    crashedLock('test', STALE_MS + 1_000, meta);
    await assert.rejects(manager.acquire('test', { timeoutMs: 0 }), LockTimeoutError);
    const [s] = await manager.status('test');
    assert.equal(s?.stale, false);
  });

  it('force release refuses a live lock by default; insisting removes it, tells the holder, and records who and why', async () => {
    const h = await acquire('test', { why: 'victim' });
    const compromised: Error[] = [];
    h.onCompromised((err) => compromised.push(err));
    const other = new LockManager({ dir, staleMs: STALE_MS });
    const refused = await other.forceRelease('test');
    assert.equal(refused.released, false);
    assert.match(refused.reason, /is held by .* and is not stale/);
    const forced = await other.forceRelease('test', { staleOnly: false, why: 'stuck CI job' });
    assert.equal(forced.released, true);
    assert.equal(forced.previous?.token, h.token);
    // proper-lockfile notices at its next heartbeat (every staleMs/2).
    const deadline = Date.now() + STALE_MS + 1_000;
    while (compromised.length === 0 && Date.now() < deadline) await sleep(50);
    assert.equal(compromised.length, 1);
    assert.equal(h.compromised, true);
    // Someone else (another process) holds it now; the old holder's release must leave theirs alone.
    const theirs = foreignMetadata('x', { user: 'u', host: 'h', pid: 1, why: 'next', token: 'theirs' });
    crashedLock('test', 0, theirs);
    await h.release();
    const [s] = await manager.status('test');
    assert.equal(s?.holder?.token, 'theirs');
    assert.equal(s?.lastForcedRelease?.reason, 'stuck CI job');
    assert.equal(s?.lastForcedRelease?.previous?.why, 'victim');
  });

  it('force release of a free lock says so and clears leftover metadata', async () => {
    writeFileSync(join(dir, 'test.json'), 'garbage');
    const r = await manager.forceRelease('test');
    assert.equal(r.released, false);
    assert.match(r.reason, /not held \(removed leftover metadata\)/);
    assert.equal(existsSync(join(dir, 'test.json')), false);
  });
});
