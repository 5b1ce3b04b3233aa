import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';
import type { Incident } from '../../../src/core/incidents/types';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import { waitFor } from '../../helpers/run';

/** A unix socket in front of the real daemon that can be taken away and put back: the daemon's socket paused. */
class PausableSocket {
  readonly dir = mkdtempSync(join(tmpdir(), 'dstab-pause-'));
  readonly path = join(this.dir, 'docker.sock');
  private readonly conns = new Set<Socket>();
  private server: Server | undefined;

  listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect('/var/run/docker.sock');
      this.conns.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.conns.delete(client);
        this.conns.delete(upstream);
      };
      for (const s of [client, upstream]) s.on('error', drop).on('close', drop);
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.path, resolve));
  }

  /** The socket goes away and every open connection (the events stream too) is cut. */
  async pause(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.conns) s.destroy();
    if (server) await new Promise((r) => server.close(r));
  }

  async close(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A fast-retrying monitor of the daemon at `socket`, and the incidents it has seen. */
function watching(socket: string): { monitor: ResourceMonitor; seen: Incident[] } {
  const client = new DockerClient(parseHost(`unix://${socket}`, 'test'), { timeoutMs: 1000 });
  const monitor = new ResourceMonitor(
    client,
    { intervalMs: 250, statsPath: 'cgroup' },
    { maxBackoffMs: 500 },
  );
  const seen: Incident[] = [];
  monitor.onIncident((i) => seen.push(i));
  return { monitor, seen };
}

/**
 * A dockerd of the test's own: its own data root, exec root (and so its own containerd),
 * pidfile, socket and an empty config file, no bridge and no iptables, so that stopping and
 * starting it touches nothing of the shared daemon.
 */
class OwnDockerd {
  readonly dir = mkdtempSync(join(tmpdir(), 'dstab-dockerd-'));
  readonly socket = join(this.dir, 'd.sock');
  private child: ChildProcess | undefined;

  async start(): Promise<void> {
    writeFileSync(join(this.dir, 'daemon.json'), '{}');
    // argument array, never a shell; its own process group so a failed test cannot orphan it
    const child = spawn(
      'dockerd',
      [
        '--config-file',
        join(this.dir, 'daemon.json'),
        '--data-root',
        join(this.dir, 'data'),
        '--exec-root',
        join(this.dir, 'exec'),
        '--pidfile',
        join(this.dir, 'docker.pid'),
        '-H',
        `unix://${this.socket}`,
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
        '--storage-driver',
        'vfs',
        '--log-level',
        'error',
      ],
      { stdio: 'ignore', detached: true },
    );
    this.child = child;
    const client = new DockerClient(parseHost(`unix://${this.socket}`, 'test'), { timeoutMs: 1000 });
    await waitFor(
      'the own dockerd',
      () =>
        client.ping().then(
          () => true,
          () => undefined,
        ),
      20_000,
      100,
    );
  }

  /** SIGTERM, and waits until it (and the containerd it started) has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killed);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('daemon incidents (a dockerd of our own, stopped and started again)', function () {
  this.timeout(60_000);

  it('a restarted daemon yields unreachable, recovered and restarted incidents with the start times from /proc', async () => {
    const d = new OwnDockerd();
    await d.start();
    const { monitor, seen } = watching(d.socket);
    try {
      monitor.start();
      await waitFor('the monitor up', () => (monitor.state.status === 'up' ? true : undefined), 15_000);
      await d.stop();
      await waitFor('the monitor down', () => (monitor.state.status === 'down' ? true : undefined), 10_000);
      await d.start();
      await waitFor(
        'the restart told',
        () => (seen.some((i) => i.kind === 'daemon-restarted') ? true : undefined),
        15_000,
      );
      assert.deepEqual(
        seen.map((i) => i.kind),
        ['daemon-unreachable', 'daemon-recovered', 'daemon-restarted'],
        JSON.stringify(seen),
      );
      const r = seen[2] as Incident;
      assert.ok(Date.parse(r.startedAt ?? '') > Date.parse(r.previousStartedAt ?? ''), JSON.stringify(r));
      assert.ok(
        Math.abs(Date.parse(r.startedAt ?? '') - Date.now()) < 30_000,
        'the new start is now, not boot time',
      );
    } finally {
      await monitor.dispose();
      await d.close();
    }
  });
});

describe('daemon incidents (the daemon socket paused and back)', function () {
  this.timeout(30_000);

  it('a daemon that goes away and comes back yields one unreachable and one recovered incident', async () => {
    const sock = new PausableSocket();
    await sock.listen();
    const { monitor, seen } = watching(sock.path);
    try {
      monitor.start();
      await waitFor('the monitor up', () => (monitor.state.status === 'up' ? true : undefined), 10_000);
      await sock.pause();
      await waitFor('the monitor down', () => (monitor.state.status === 'down' ? true : undefined), 10_000);
      await new Promise((r) => setTimeout(r, 800)); // several failed retries: still one incident
      await sock.listen();
      await waitFor('the monitor up again', () => (monitor.state.status === 'up' ? true : undefined), 10_000);
      // the socket's holder is this test, not a dockerd: no start time is known, so no restart is claimed
      assert.deepEqual(
        seen.map((i) => i.kind),
        ['daemon-unreachable', 'daemon-recovered'],
        JSON.stringify(seen),
      );
      assert.equal(seen[0]?.reason, 'socket not found');
      assert.ok(seen[0]?.figures, 'with the figures of the last sample before it');
      assert.ok((seen[1]?.downMs ?? 0) >= 800, `down for ${seen[1]?.downMs} ms`);
      assert.deepEqual(monitor.incidents.toArray(), seen, 'kept in the log');
    } finally {
      await monitor.dispose();
      await sock.close();
    }
  });
});
