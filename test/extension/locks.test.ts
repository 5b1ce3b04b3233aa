// Environment locks from VS Code, on a scratch lock folder set through the setting: acquire and
// release from this window, force-release of a stale lock whose holder was SIGKILLed, and a
// `lock run` waiting behind a holder, seen in the lock view and the tooltip.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { ForceReleaseResult } from '../../src/extension/commands/locks';
import { api, resetSettings, setSetting, unattended, waitFor } from './extensionApi';

const lockModule = resolve(__dirname, '../../src/core/lock/index.js');
const CLI = resolve(__dirname, '../../../dist/cli.js');

/** A child process that takes the lock, says so, and waits to be killed. */
function holdInChild(dir: string, name: string): Promise<{ pid: number; kill: () => void }> {
  const script = `
    const { LockManager } = require(process.argv[1]);
    new LockManager({ dir: process.argv[2], staleMs: 2000 })
      .acquire(process.argv[3], { why: 'held by a test child', timeoutMs: 5000, onCompromised() {} })
      .then(() => process.stdout.write('acquired\\n'), (e) => { process.stderr.write(String(e)); process.exit(1); });
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script, lockModule, dir, name], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  return new Promise((ok, fail) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on(
      'data',
      (d: Buffer) =>
        d.toString().includes('acquired') &&
        ok({ pid: child.pid as number, kill: () => child.kill('SIGKILL') }),
    );
    child.on('exit', (code) => fail(new Error(`lock child exited (${code}): ${err}`)));
  });
}

/** `docker-stability lock run` of `true` on the lock: it queues while the lock is held. */
function queueInChild(dir: string, name: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      CLI,
      'lock',
      'run',
      '--dir',
      dir,
      '--name',
      name,
      '--why',
      'queued by a test',
      '--timeout',
      '30s',
      '--',
      'true',
    ],
    { stdio: 'ignore', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
  );
}

describe('commands: environment locks', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dstab-ext-locks-'));
    const a = await api();
    await setSetting('lock.folder', dir);
    await setSetting('lock.staleSeconds', 2);
    await waitFor(
      'the new lock folder',
      () => a.services.locks.dir === dir && a.services.locks.staleMs === 2000,
    );
  });

  after(async () => {
    await resetSettings(['lock.folder', 'lock.staleSeconds']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('acquires a lock for this window, shows it in the status bar, and releases it', async () => {
    const a = await api();
    const got = (await vscode.commands.executeCommand('dockerStability.acquireLock', {
      name: 'ext-acquire',
      why: 'extension test',
      timeoutMs: 5000,
    })) as { name: string };
    assert.equal(got.name, 'ext-acquire');
    const [held] = await a.services.locks.status('ext-acquire');
    assert.equal(held?.held, true);
    assert.equal(held?.holder?.why, 'extension test');
    const view = await waitFor(
      'the lock icon',
      () => a.model.locks.some((l) => l.name === 'ext-acquire' && l.mine) && a.statusBar(),
    );
    assert.match(view.text, /\$\(lock\)/);
    assert.match(view.tooltip, /ext-acquire/);

    // A live lock is not force-released without `force`.
    const refused = (await unattended().forceReleaseLocks({
      names: ['ext-acquire'],
      confirm: false,
    })) as ForceReleaseResult[];
    assert.equal(refused[0]?.released, false);
    assert.match(refused[0]?.reason ?? '', /not stale/);

    const released = await vscode.commands.executeCommand('dockerStability.releaseLock', {
      name: 'ext-acquire',
    });
    assert.deepEqual(released, ['ext-acquire']);
    const [after] = await a.services.locks.status('ext-acquire');
    assert.equal(after?.held ?? false, false);
    await waitFor('the lock icon to go', () => !/\$\(lock\)/.test(a.statusBar().text));
  });

  it('force-releases a stale lock left by a SIGKILLed process', async () => {
    const a = await api();
    const child = await holdInChild(dir, 'ext-stale');
    const [live] = await a.services.locks.status('ext-stale');
    assert.equal(live?.held, true);
    assert.equal(live?.holder?.pid, child.pid);
    child.kill();
    const stale = await waitFor('the lock to turn stale', async () => {
      const [s] = await a.services.locks.status('ext-stale');
      return s?.stale ? s : undefined;
    });
    assert.equal(stale.held, true);

    const results = (await unattended().forceReleaseLocks({
      names: ['ext-stale'],
      confirm: false,
    })) as ForceReleaseResult[];
    assert.deepEqual(
      results.map((r) => [r.name, r.released]),
      [['ext-stale', true]],
    );
    const [gone] = await a.services.locks.status('ext-stale');
    assert.equal(gone?.held ?? false, false);
    // Free for the next taker at once.
    const again = (await vscode.commands.executeCommand('dockerStability.acquireLock', {
      name: 'ext-stale',
      timeoutMs: 0,
    })) as { name: string };
    assert.equal(again.name, 'ext-stale');
    await vscode.commands.executeCommand('dockerStability.releaseLock', { name: 'ext-stale' });
  });

  it('shows a `lock run` queued behind a holder in the lock view and the tooltip, and drops it once it ran', async () => {
    const a = await api();
    const holder = await holdInChild(dir, 'ext-queue');
    const waiter = queueInChild(dir, 'ext-queue');
    const exited = new Promise<number | null>((done) => waiter.once('exit', done));
    try {
      const view = await waitFor('the waiter in the lock view', async () => {
        await a.services.refreshLocks();
        const l = a.model.locks.find((x) => x.name === 'ext-queue');
        return l?.queue?.some((w) => w.who.pid === waiter.pid) ? l : undefined;
      });
      assert.equal(view.holder?.pid, holder.pid);
      const [w] = view.queue ?? [];
      assert.equal(w?.position, 1);
      assert.equal(w?.mode, 'exclusive');
      assert.equal(w?.who.why, 'queued by a test');
      assert.match(w?.waitingFor ?? '', new RegExp(`pid ${holder.pid}`));
      assert.ok(Number.isFinite(Date.parse(w?.since ?? '')));
      const tip = await waitFor('the waiter in the tooltip', () =>
        /\*\*ext-queue\*\*: 1 waiting/.test(a.statusBar().tooltip) ? a.statusBar().tooltip : undefined,
      );
      assert.match(tip, new RegExp(`#1 exclusive: .*\\(pid ${waiter.pid}\\) — queued by a test`));
    } finally {
      holder.kill();
    }
    // The holder gone, the waiter takes the lock (a dead holder on this host is reclaimed at once), runs `true`, leaves.
    assert.equal(await exited, 0);
    await waitFor('the queue to leave the view', async () => {
      await a.services.refreshLocks();
      const l = a.model.locks.find((x) => x.name === 'ext-queue');
      return !l?.queue;
    });
  });
});
