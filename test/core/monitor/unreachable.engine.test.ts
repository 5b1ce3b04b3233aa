import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient, DockerUnreachableError } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import type { MonitorState } from '../../../src/core/monitor/types';
import { waitFor } from '../../helpers/run';

const DAEMON_SOCKET = '/var/run/docker.sock';

/**
 * A unix socket that accepts connections and never answers (a hung daemon), until told to
 * proxy to the real daemon (the daemon came back).
 */
class FlakyDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), 'dstab-hung-'));
  readonly path = join(this.dir, 'docker.sock');
  private readonly held = new Set<Socket>();
  private readonly all = new Set<Socket>();
  private proxying = false;
  private readonly server: Server = createServer((client) => {
    this.all.add(client);
    client.on('close', () => this.all.delete(client));
    if (!this.proxying) {
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
      client.on('error', () => undefined);
      return;
    }
    const upstream = connect(DAEMON_SOCKET);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  /** From now on connections reach the real daemon; the hung ones are dropped. */
  recover(): void {
    this.proxying = true;
    for (const s of this.held) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.all) s.destroy();
    await new Promise((r) => this.server.close(r));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function recordStates(monitor: ResourceMonitor): MonitorState[] {
  const states: MonitorState[] = [];
  monitor.onState((s) => states.push(s));
  return states;
}

describe('an unreachable daemon', function () {
  this.timeout(20_000);

  it('a socket that does not exist fails fast with "socket not found", and the monitor goes down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstab-nosock-'));
    const host = `unix://${join(dir, 'docker.sock')}`;
    const client = new DockerClient(parseHost(host, 'test'), { timeoutMs: 500 });
    const t0 = Date.now();
    await assert.rejects(client.ping(), (err: unknown) => {
      assert.ok(err instanceof DockerUnreachableError);
      assert.equal(err.message, `Docker is not reachable at ${host}: socket not found`);
      return true;
    });
    assert.ok(Date.now() - t0 < 500, 'no waiting for the timeout on a missing socket');

    const monitor = new ResourceMonitor(client, { intervalMs: 250 });
    const states = recordStates(monitor);
    try {
      monitor.start();
      const down = await waitFor('the down state', () => states.find((s) => s.status === 'down'), 1000, 10);
      assert.deepEqual(
        { ...down, since: '', retryInMs: 0 },
        { status: 'down', endpoint: host, since: '', reason: 'socket not found', retryInMs: 0 },
      );
      await assert.rejects(monitor.sampleNow(), DockerUnreachableError);
    } finally {
      await monitor.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('backs off exponentially while down, up to the maximum', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstab-nosock-'));
    const client = new DockerClient(parseHost(`unix://${join(dir, 'docker.sock')}`, 'test'), {
      timeoutMs: 500,
    });
    const monitor = new ResourceMonitor(client, { intervalMs: 250 }, { maxBackoffMs: 1000 });
    const states = recordStates(monitor);
    try {
      monitor.start();
      await new Promise((r) => setTimeout(r, 2700));
      const retries = states.flatMap((s) => (s.status === 'down' ? [s.retryInMs] : []));
      const distinct = retries.filter((v, i) => v !== retries[i - 1]);
      assert.deepEqual(distinct, [250, 500, 1000], `retry delays ${retries.join(', ')}`);
      assert.ok(
        retries.filter((v) => v === 1000).length >= 2,
        `capped at the maximum: ${retries.join(', ')}`,
      );
    } finally {
      await monitor.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('a hung endpoint (accepts, never answers)', () => {
    let daemon: FlakyDaemon;
    beforeEach(async () => {
      daemon = new FlakyDaemon();
      await daemon.listen();
    });
    afterEach(() => daemon.close());

    it('times out within about a second with a 500 ms call timeout', async () => {
      const client = new DockerClient(parseHost(`unix://${daemon.path}`, 'test'), { timeoutMs: 500 });
      const t0 = Date.now();
      await assert.rejects(client.ping(), (err: unknown) => {
        assert.ok(err instanceof DockerUnreachableError, String(err));
        assert.equal(
          err.message,
          `Docker is not reachable at unix://${daemon.path}: ping timed out after 500 ms`,
        );
        return true;
      });
      const took = Date.now() - t0;
      assert.ok(took >= 450 && took < 1000, `took ${took} ms`);
    });

    it('turns the monitor down with the reason, then back up by itself when the daemon answers', async () => {
      const host = `unix://${daemon.path}`;
      const client = new DockerClient(parseHost(host, 'test'), { timeoutMs: 500 });
      const monitor = new ResourceMonitor(
        client,
        { intervalMs: 250, statsPath: 'cgroup' },
        { maxBackoffMs: 500 },
      );
      const states = recordStates(monitor);
      const samples: string[] = [];
      monitor.onSample((s) => samples.push(s.sampledAt));
      try {
        const t0 = Date.now();
        monitor.start();
        const down = await waitFor('the down state', () => states.find((s) => s.status === 'down'), 2000, 10);
        assert.ok(Date.now() - t0 < 1500, `down after ${Date.now() - t0} ms`);
        assert.equal(down.status, 'down');
        assert.equal(down.endpoint, host);
        assert.match(down.status === 'down' ? down.reason : '', /timed out after 500 ms/);
        assert.equal(samples.length, 0);

        // retries back off but keep going while down
        await new Promise((r) => setTimeout(r, 1200));
        assert.equal(monitor.state.status, 'down');

        daemon.recover();
        const up = await waitFor(
          'the monitor to recover',
          () => (monitor.state.status === 'up' ? monitor.state : undefined),
          5000,
          20,
        );
        assert.equal(up.endpoint, host);
        await waitFor('a sample after recovery', () => (samples.length > 0 ? true : undefined), 3000);
        const order = states.map((s) => s.status);
        assert.deepEqual(order.slice(order.lastIndexOf('down')), ['down', 'up'], order.join(' > '));

        // Back up, counts come from /events again rather than a relist on every sample.
        const calls = (): number => Object.values(monitor.inventoryListCalls).reduce((a, b) => a + b, 0);
        await waitFor('two more samples', () => (samples.length >= 3 ? true : undefined), 5000);
        const [calls0, samples0] = [calls(), samples.length];
        await waitFor(
          'eight more samples',
          () => (samples.length >= samples0 + 8 ? true : undefined),
          10_000,
        );
        assert.ok(
          calls() - calls0 < 8,
          `${calls() - calls0} list calls over ${samples.length - samples0} samples after recovery`,
        );
      } finally {
        await monitor.dispose();
      }
      assert.equal(monitor.state.status, 'disposed');
    });
  });
});
