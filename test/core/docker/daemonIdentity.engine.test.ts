import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupLockName, planCleanup, runCleanup } from '../../../src/core/cleanup';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';
import { LockManager, LockTimeoutError } from '../../../src/core/lock';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import { FakeDaemon } from '../../helpers/fakeDaemon';
import { TEST_LABEL, testClient } from '../../helpers/docker';

/** A second name for the real daemon: a unix socket that forwards every connection to it. */
class SocketAlias {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((client) => {
    const upstream = connect('/var/run/docker.sock');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => (client.destroy(), upstream.destroy()));
    }
    client.pipe(upstream).pipe(client);
  });
  constructor(readonly path: string) {}
  listen(): Promise<void> {
    return new Promise((r) => this.server.listen(this.path, r));
  }
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('daemon identity: the daemon by its own ID, not by the name it was reached at', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'dstab-identity-'));
  const locks = new LockManager({ dir: join(dir, 'locks') });
  // Nothing carries this label: the passes plan and remove nothing on the real daemon.
  const scope = { [TEST_LABEL]: `identity-${process.pid}-none` };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('two names for one daemon: the same ID in identity, plans and samples, and one cleanup lock', async () => {
    const alias = new SocketAlias(join(dir, 'alias.sock'));
    await alias.listen();
    try {
      const direct = testClient();
      const viaAlias = new DockerClient(parseHost(`unix://${alias.path}`, 'test'), { timeoutMs: 10_000 });
      const [a, b] = await Promise.all([direct.identity(), viaAlias.identity()]);
      assert.notEqual(a.endpoint, b.endpoint);
      assert.equal(a.id, b.id);
      assert.ok(a.id.length > 0 && !a.id.startsWith('endpoint:'), a.id);

      const plan = await planCleanup(viaAlias, { scope });
      assert.deepEqual(plan.daemon, b);
      const monitor = new ResourceMonitor(viaAlias, { intervalMs: 60_000, statsPath: 'api' });
      try {
        assert.equal((await monitor.sampleNow()).daemonId, a.id);
      } finally {
        await monitor.dispose();
      }

      // A cleanup through one name waits for the cleanup that holds the daemon through the other.
      const held = await locks.acquire(cleanupLockName(a.id), { why: 'cleanup through the direct socket' });
      try {
        await assert.rejects(
          runCleanup(viaAlias, { scope, olderThanMs: 0, lock: { manager: locks, timeoutMs: 300 } }),
          LockTimeoutError,
        );
      } finally {
        await held.release();
      }
      const report = await runCleanup(viaAlias, {
        scope,
        olderThanMs: 0,
        lock: { manager: locks, timeoutMs: 5000 },
      });
      assert.deepEqual([report.daemon.id, report.removed], [a.id, []]);
    } finally {
      await alias.close();
    }
  });

  it('one name for two daemons: the plan names each, and one daemon’s cleanup lock does not hold the other', async () => {
    const path = join(dir, 'reused.sock');
    const host = `unix://${path}`;
    const first = new FakeDaemon('DAEMON-A');
    await first.listen(path);
    const client = new DockerClient(parseHost(host, 'test'), { timeoutMs: 5000 });
    let planA;
    try {
      planA = await planCleanup(client, { scope });
    } finally {
      await first.close();
      rmSync(path, { force: true });
    }
    const second = new FakeDaemon('DAEMON-B');
    await second.listen(path);
    const held = await locks.acquire(cleanupLockName('DAEMON-A'), { why: 'cleanup of the first daemon' });
    try {
      const report = await runCleanup(client, {
        scope,
        olderThanMs: 0,
        lock: { manager: locks, timeoutMs: 300 },
      });
      assert.deepEqual([planA.endpoint, planA.daemon.id], [host, 'DAEMON-A']);
      assert.deepEqual([report.daemon.endpoint, report.daemon.id], [host, 'DAEMON-B']);
      assert.notEqual(cleanupLockName('DAEMON-A'), cleanupLockName('DAEMON-B'));
    } finally {
      await held.release();
      await second.close();
    }
  });
});
