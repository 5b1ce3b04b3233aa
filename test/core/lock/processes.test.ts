import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockManager, LockTimeoutError } from '../../../src/core/lock';
import {
  CLI,
  Child,
  STALE_MS,
  cli,
  holder,
  killGroups,
  lockArgs,
  lockCli,
  runProcess,
  sleep,
  tempDir,
} from './helpers';

/**
 * Rounds per process in the stress test. The issue asks for 10; every `lock run` is a whole CLI
 * process (~0.4 s of CPU here), so on a shared 2-core machine 200 rounds take minutes and the
 * default is 2 (40 rounds, still 20 contending processes). LOCK_STRESS_ROUNDS=10 runs the full one.
 */
const STRESS_ROUNDS = Number(process.env.LOCK_STRESS_ROUNDS ?? 2);
const STRESS_PROCESSES = 20;

/**
 * A critical section that detects overlap: it creates a marker file exclusively (noclobber is
 * O_EXCL), holds it briefly, removes it. A second process inside at the same time fails the create.
 */
const CRITICAL =
  'if ( set -C; echo $$ > "$MARK" ) 2>/dev/null; then sleep 0.02; rm -f "$MARK"; echo ok >> "$DONE"; else echo overlap >> "$OVERLAP"; fi';

function countLines(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

/** Runs STRESS_PROCESSES shell loops, each doing `rounds` rounds of `round` (a shell command line). */
async function stress(
  dir: string,
  rounds: number,
  round: string,
): Promise<{ done: number; overlaps: number; failures: string[] }> {
  const env = {
    MARK: join(dir, 'marker'),
    DONE: join(dir, 'done'),
    OVERLAP: join(dir, 'overlap'),
    FAIL: join(dir, 'fail'),
    CRITICAL,
    CLI,
    LOCKS: join(dir, 'locks'),
    NODE: process.execPath,
  };
  const loop = `i=0; while [ $i -lt ${rounds} ]; do ${round} || echo "round failed: exit $?" >> "$FAIL"; i=$((i+1)); done`;
  const procs = Array.from({ length: STRESS_PROCESSES }, () =>
    runProcess('sh', ['-c', loop], { env, group: true }),
  );
  const results = await Promise.all(procs);
  const failures = results.filter((r) => r.code !== 0).map((r) => r.stderr);
  if (existsSync(env.FAIL)) failures.push(readFileSync(env.FAIL, 'utf8'));
  return { done: countLines(env.DONE), overlaps: countLines(env.OVERLAP), failures };
}

describe('environment lock across real processes', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  const children: Child[] = [];

  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    killGroups();
    cleanup();
  });

  const spawnHolder = (mode: string, ...rest: string[]): Child => {
    const c = holder(mode, dir, 'test', ...rest);
    children.push(c);
    return c;
  };

  it('the overlap detector does detect overlap when nothing locks (control for the stress test)', async () => {
    const r = await stress(dir, 3, 'sh -c "$CRITICAL"');
    assert.ok(r.overlaps > 0, `expected overlaps without a lock, got ${JSON.stringify(r)}`);
  });

  it(`${STRESS_PROCESSES} processes x ${STRESS_ROUNDS} \`lock run\` rounds: zero overlaps, every round completes`, async function () {
    this.timeout(120_000 * STRESS_ROUNDS);
    const started = Date.now();
    const r = await stress(
      dir,
      STRESS_ROUNDS,
      '"$NODE" "$CLI" lock run --dir "$LOCKS" --name stress --timeout 600 -- sh -c "$CRITICAL"',
    );
    assert.deepEqual(r.failures, []);
    assert.equal(r.overlaps, 0);
    assert.equal(r.done, STRESS_PROCESSES * STRESS_ROUNDS);
    const [s] = await new LockManager({ dir: join(dir, 'locks') }).status('stress');
    assert.equal(s?.held, false);
    process.stdout.write(`      (${r.done} rounds in ${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
  });

  it('two or more processes racing for one stale lock never both win (proper-lockfile #121)', async function () {
    this.timeout(180_000);
    for (let round = 0; round < 3; round++) {
      const name = `race${round}`;
      mkdirSync(join(dir, `${name}.lock`));
      // A stale period long enough that a winner's heartbeat cannot lapse on a loaded machine
      // while the others race: a second winner then can only come from the #121 race itself.
      const stale = 5_000;
      const old = new Date(Date.now() - stale - 1_000);
      utimesSync(join(dir, `${name}.lock`), old, old);
      const startAt = String(Date.now() + 2_500);
      const releaseFile = join(dir, `${name}.release`);
      const racers = Array.from({ length: 8 }, () => {
        const c = new Child(process.execPath, [
          join(__dirname, 'fixtures/holder.js'),
          'race',
          dir,
          name,
          String(stale),
          startAt,
          releaseFile,
        ]);
        children.push(c);
        return c;
      });
      await Promise.all(racers.map((c) => c.waitFor(/^(won|lost \w+)$/m, 30_000)));
      writeFileSync(releaseFile, '');
      await Promise.all(racers.map((c) => c.exited));
      const winners = racers.filter((c) => /^won$/m.test(c.output)).length;
      const losers = racers.filter((c) => /^lost LockTimeoutError$/m.test(c.output)).length;
      assert.equal(winners, 1, racers.map((c) => c.output).join('|'));
      assert.equal(losers, 7);
    }
  });

  it('kill -9 of a holder: the next acquirer gets the lock within the stale period plus one retry interval, and status shows the takeover', async () => {
    const h = spawnHolder('hold');
    await h.waitFor(/^acquired /m);
    const pid = h.proc.pid as number;
    h.kill('SIGKILL');
    await h.exited;
    const manager = new LockManager({ dir, staleMs: STALE_MS });
    const started = Date.now();
    const mine = await manager.acquire('test', { why: 'after kill -9', timeoutMs: 10_000 });
    const waited = Date.now() - started;
    assert.ok(waited <= STALE_MS + manager.maxRetryMs, `waited ${waited}ms`);
    const st = await cli(['lock', 'status', '--dir', dir, '--json']);
    const [s] = JSON.parse(st.stdout);
    assert.equal(s.holder.pid, process.pid);
    assert.match(s.holder.takeover.reason, new RegExp(`holder pid ${pid} is no longer running`));
    assert.equal(s.holder.takeover.previous.pid, pid);
    await mine.release();
  });

  it('a paused holder (SIGSTOP) on this host keeps the lock past its stale period: status says it is stopped; after SIGCONT it still holds it', async () => {
    const h = spawnHolder('hold');
    const [, token] = (await h.waitFor(/^acquired (\S+)/m)) as RegExpMatchArray;
    h.kill('SIGSTOP');
    const manager = new LockManager({ dir, staleMs: STALE_MS });
    // Paused, it cannot be running its critical section, but on resume it would, unaware: a
    // takeover now would overlap it. On its own host its process says it is alive.
    await assert.rejects(manager.acquire('test', { timeoutMs: STALE_MS + 1_500 }), LockTimeoutError);
    const [s] = await manager.status('test');
    assert.equal(s?.stale, false);
    assert.equal(s?.holderStopped, true);
    assert.match(
      (await cli(['lock', 'status', '--dir', dir])).stdout,
      /held \(holder process stopped: resume or end it\)/,
    );
    h.kill('SIGCONT');
    await sleep(STALE_MS);
    assert.doesNotMatch(h.output, /compromised/);
    const [after] = await manager.status('test');
    assert.equal(after?.holder?.token, token);
  });

  it('force release while held: refused unless insisted; then the holder is told it was compromised and does not crash', async () => {
    const h = spawnHolder('hold');
    await h.waitFor(/^acquired /m);
    const refused = await lockCli('force-release', dir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not stale .*pass --force/);
    const forced = await lockCli('force-release', dir, ['--force', '--why', 'stuck job']);
    assert.equal(forced.code, 0, forced.stderr);
    await h.waitFor(/^compromised /m, STALE_MS + 1_000);
    await sleep(300);
    assert.equal(h.proc.exitCode, null, 'the holder must not crash');
    const st = JSON.parse((await lockCli('status', dir, ['--json'])).stdout);
    assert.equal(st[0].held, false);
    assert.equal(st[0].lastForcedRelease.reason, 'stuck job');
    assert.equal(st[0].lastForcedRelease.previous.pid, h.proc.pid);
  });

  it('withLock releases and then dies of the signal on SIGTERM, leaving no lock behind', async () => {
    const h = spawnHolder('withlock');
    await h.waitFor(/^locked$/m);
    h.kill('SIGTERM');
    const exit = await h.exited;
    assert.equal(exit.signal, 'SIGTERM');
    assert.equal(existsSync(join(dir, 'test.lock')), false);
    assert.equal(existsSync(join(dir, 'test.json')), false);
  });

  it("lock run exits with the command's code, 128+signal when it is killed, 127 when it cannot start; the lock is released each time", async () => {
    const seven = await lockCli('run', dir, ['--', 'sh', '-c', 'exit 7']);
    assert.equal(seven.code, 7);
    const killed = await lockCli('run', dir, ['--', 'sh', '-c', 'kill -9 $$']);
    assert.equal(killed.code, 137);
    const missing = await lockCli('run', dir, ['--', 'no-such-command-xyz']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /cannot run no-such-command-xyz: ENOENT/);
    const [s] = await new LockManager({ dir }).status('test');
    assert.equal(s?.held, false);
  });

  it('lock run forwards SIGTERM to the command and releases', async () => {
    const run = new Child(process.execPath, [
      CLI,
      ...lockArgs(
        'run',
        dir,
        '--',
        'sh',
        '-c',
        'trap "echo got-term; exit 5" TERM; echo started; while :; do sleep 0.05; done',
      ),
    ]);
    children.push(run);
    await run.waitFor(/^started$/m);
    run.kill('SIGTERM');
    const exit = await run.exited;
    assert.match(run.output, /got-term/);
    assert.equal(exit.code, 5);
    assert.equal(existsSync(join(dir, 'test.lock')), false);
  });

  it('lock run times out with exit code 3 naming the holder and how long it held', async () => {
    const h = spawnHolder('hold');
    await h.waitFor(/^acquired /m);
    const r = await lockCli('run', dir, ['--timeout', '1', '--', 'true']);
    assert.equal(r.code, 3);
    assert.match(
      r.stderr,
      new RegExp(
        `^docker-stability: lock "test" is held by .*\\(pid ${h.proc.pid}, "fixture pid \\d+"\\) for \\d+(ms|s); gave up after 1s`,
      ),
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('lock acquire leaves a keeper holding the lock; lock release lets go; a killed keeper leaves a stale lock the next run takes over', async () => {
    const a = await lockCli('acquire', dir, ['--why', 'shell step']);
    assert.equal(a.code, 0, a.stderr);
    const token = a.stdout.trim();
    assert.match(token, /^[0-9a-f-]{36}$/);
    let [s] = JSON.parse((await cli(['lock', 'status', '--dir', dir, '--json'])).stdout);
    assert.equal(s.held, true);
    assert.equal(s.holder.keeper, true);
    assert.equal(s.holder.why, 'shell step');
    const busy = await lockCli('run', dir, ['--timeout', '0', '--', 'true']);
    assert.equal(busy.code, 3);
    const wrong = await lockCli('release', dir, ['--token', 'nope']);
    assert.equal(wrong.code, 1);
    const rel = await lockCli('release', dir, ['--token', token]);
    assert.equal(rel.code, 0, rel.stderr);
    [s] = JSON.parse((await lockCli('status', dir, ['--json'])).stdout);
    assert.equal(s.held, false);

    assert.equal((await lockCli('acquire', dir)).code, 0);
    [s] = JSON.parse((await cli(['lock', 'status', '--dir', dir, '--json'])).stdout);
    process.kill(s.holder.pid, 'SIGKILL');
    await sleep(200);
    [s] = JSON.parse((await cli(['lock', 'status', '--dir', dir, '--json'])).stdout);
    assert.equal(s.stale, true);
    assert.match(s.staleReason, /is no longer running/);
    const next = await lockCli('run', dir, ['--timeout', '0', '--', 'true']);
    assert.equal(next.code, 0, next.stderr);
  });

  it('status --json has name, held, stale and holder {user, host, pid, why, acquiredAt, heartbeatAt}; --dir falls back to DOCKER_STABILITY_LOCK_DIR', async () => {
    const h = spawnHolder('hold');
    await h.waitFor(/^acquired /m);
    const r = await cli(['lock', 'status', '--json'], { DOCKER_STABILITY_LOCK_DIR: dir });
    const [s] = JSON.parse(r.stdout);
    assert.deepEqual(
      { name: s.name, held: s.held, stale: s.stale, holderKeys: Object.keys(s.holder).sort() },
      {
        name: 'test',
        held: true,
        stale: false,
        holderKeys: ['acquiredAt', 'heartbeatAt', 'host', 'pid', 'user', 'why'],
      },
    );
    assert.ok(Date.parse(s.holder.acquiredAt) <= Date.parse(s.holder.heartbeatAt) + 1_000);
    const human = await cli(['lock', 'status', '--dir', dir]);
    assert.match(
      human.stdout,
      new RegExp(`^test: held by .* pid ${h.proc.pid} for \\d+(ms|s), heartbeat \\d+(ms|s) ago: fixture pid`),
    );
  });

  it('bad input gets a one-line error and an exit code: bad name (64), corrupt metadata (reported, recoverable), missing command (64)', async () => {
    const bad = await cli(['lock', 'run', '--dir', dir, '--name', '../x', '--', 'true']);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /^docker-stability: invalid lock name "..\/x": /);
    const noCmd = await cli(['lock', 'run', '--dir', dir, '--name', 'x']);
    assert.equal(noCmd.code, 64);
    mkdirSync(join(dir, 'test.lock'));
    writeFileSync(join(dir, 'test.lock', 'owner-x'), '');
    writeFileSync(join(dir, 'test.json'), '{"version": 1, "holder": 3');
    const st = await cli(['lock', 'status', '--dir', dir]);
    assert.equal(st.code, 0);
    assert.match(st.stdout, /^test: held by an unknown holder \(metadata unreadable: not JSON/);
    const refused = await lockCli('force-release', dir);
    assert.equal(refused.code, 1);
    const forced = await lockCli('force-release', dir, ['--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await lockCli('run', dir, ['--timeout', '0', '--', 'true'])).code, 0);
  });

  it('a lock folder the user cannot write or read gives a clear error (run as an unprivileged user via setpriv)', async function () {
    // chmod does not stop root, so the CLI runs as `nobody` against a root-owned folder.
    let setpriv = true;
    try {
      execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    } catch {
      setpriv = false;
    }
    if (process.getuid?.() !== 0 || !setpriv) this.skip();
    chmodSync(dir, 0o755);
    const asNobody = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
      runProcess(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args],
        { env: { HOME: '/tmp' } },
      );
    const run = await asNobody(lockArgs('run', dir, '--timeout', '0', '--', 'true'));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^docker-stability: lock folder .* is not writable: EACCES\n$/);
    chmodSync(dir, 0o700);
    const status = await asNobody(['lock', 'status', '--dir', dir]);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /^docker-stability: cannot read lock folder .*: EACCES\n$/);
  });
});
