import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpuSeconds } from '../../helpers/proc';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';
import { SharedMonitor } from '../../../src/core/monitor/shared';
import type { Sample } from '../../../src/core/monitor/types';
import { defaultHistoryFile } from '../../../src/core/paths';
import { waitFor } from '../../helpers/run';
import { AgentWorld, CLI, freePort, httpGet, PROMETHEUS_ACCEPT, seriesValue } from './helpers';

const SOCKET = '/var/run/docker.sock';
const ENDPOINT = `unix://${SOCKET}`;
/** Scope for every cleanup these agents could run: a label nothing on the daemon carries. */
const NOTHING = [
  '--label',
  'docker-stability.test-fixture=agent-lifecycle-none',
  '--no-scheduled-cleanup',
  '--no-auto-cleanup',
];

/** A unix socket that forwards to the real daemon and can go away and come back: a daemon restart, without restarting the shared daemon. */
class DaemonProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(readonly path: string) {}

  up(): Promise<void> {
    rmSync(this.path, { force: true });
    const server = createServer((client) => {
      const daemon = connect(SOCKET);
      for (const s of [client, daemon]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(daemon).pipe(client);
    });
    this.server = server;
    return new Promise((done) => server.listen(this.path, done));
  }

  down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    return new Promise((done) => (server ? server.close(() => done()) : done()));
  }
}

describe('docker-stability agent (real engine)', function () {
  this.timeout(120_000);
  const world = new AgentWorld();
  after(() => world.dispose());

  before(() => assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`));

  it('leads the shared history (a window follows it), shows in agent status, and on SIGTERM flushes, releases and exits 0', async () => {
    const port = await freePort();
    const agent = world.start(['--interval', '1', '--metrics', `127.0.0.1:${port}`, ...NOTHING]);
    const started = await agent.waitFor('started', 20_000);
    assert.equal(started.endpoint, ENDPOINT);
    assert.equal(started.metricsUrl, `http://127.0.0.1:${port}/metrics`);
    await agent.waitFor('role', 20_000, (l) => l.role === 'leader');

    const status = await world.cli(['agent', 'status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const p = JSON.parse(status.stdout) as Record<string, unknown>;
    assert.equal(p.running, true);
    assert.equal(p.pid, agent.child.pid);
    assert.equal(p.metricsUrl, started.metricsUrl);
    assert.ok(
      Math.abs(Date.parse(p.since as string) - Date.parse(started.time)) < 5000,
      `since ${String(p.since)}`,
    );

    // A window on this host: same history file and leader folder. It must follow, not sample.
    const client = new DockerClient(parseHost(ENDPOINT, 'test'));
    const window = new SharedMonitor(
      client,
      { intervalMs: 500 },
      {
        historyFile: defaultHistoryFile(ENDPOINT, world.env),
        leaderDir: join(world.home, 'leaders'),
      },
    );
    const seen: Sample[] = [];
    window.onSample((s) => seen.push(s));
    window.start();
    try {
      await waitFor(
        'two samples followed from the agent',
        () => (seen.length >= 2 ? true : undefined),
        15_000,
      );
      assert.equal(window.role, 'follower');
    } finally {
      await window.dispose();
    }

    const second = await world.cli(['agent', ...NOTHING], 20_000);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /an agent already runs for unix:\/\/\/var\/run\/docker\.sock \(pid \d+/);

    // OpenMetrics when the scraper asks for it as Prometheus does, the classic text otherwise;
    // the classic text keeps its counter names after an OpenMetrics render
    const om = await httpGet(`http://127.0.0.1:${port}/metrics`, 5000, { accept: PROMETHEUS_ACCEPT });
    assert.equal(om.status, 200);
    assert.equal(om.contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.match(om.body, /^# TYPE docker_stability_samples counter$/m);
    assert.ok((seriesValue(om.body, 'docker_stability_samples_total') ?? 0) >= 2, 'samples counted');
    assert.ok(om.body.endsWith('\n# EOF\n'), 'OpenMetrics ends with # EOF');
    const metrics = await httpGet(`http://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.equal(metrics.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(metrics.body, /^# TYPE docker_stability_samples_total counter$/m);
    assert.ok((seriesValue(metrics.body, 'docker_stability_samples_total') ?? 0) >= 2, 'samples counted');
    assert.ok(!metrics.body.includes('# EOF'), 'the classic text has no # EOF');
    assert.equal((await httpGet(`http://127.0.0.1:${port}/`)).status, 404);

    assert.equal(await agent.terminate(), 0, agent.stderr);
    assert.ok(agent.events('stopping').length === 1 && agent.events('stopped').length === 1, agent.dump());
    const history = readFileSync(defaultHistoryFile(ENDPOINT, world.env), 'utf8').trim().split('\n');
    assert.ok(history.length >= 2, 'history flushed to the shared file');
    const after = await world.cli(['agent', 'status', '--json']);
    assert.equal(after.code, 1);
    assert.equal((JSON.parse(after.stdout) as { running: boolean }).running, false);
  });

  it('after a crash (SIGKILL) status says it is gone, and a restarted agent takes over at once', async () => {
    const first = world.start(['--interval', '1', ...NOTHING]);
    await first.waitFor('role', 20_000, (l) => l.role === 'leader');
    first.child.kill('SIGKILL');
    await first.exited;
    const gone = await world.cli(['agent', 'status', '--json']);
    assert.equal(gone.code, 1);
    assert.match(
      (JSON.parse(gone.stdout) as { staleReason: string }).staleReason,
      new RegExp(`holder pid ${first.child.pid} is no longer running`),
    );
    const second = world.start(['--interval', '1', ...NOTHING]);
    await second.waitFor('started', 20_000);
    const leader = await second.waitFor('role', 20_000, (l) => l.role === 'leader');
    assert.ok(
      Date.parse(leader.time) - Date.parse(second.lines[0]?.time ?? '') < 5000,
      "the dead agent's locks did not hold the new one back",
    );
    assert.equal(await second.terminate(), 0, second.stderr);
  });

  it('backs off while the daemon is gone (no busy loop), then recovers when it is back', async () => {
    const proxy = new DaemonProxy(join(world.home, 'docker.sock'));
    await proxy.up();
    const port = await freePort();
    const agent = world.start([
      '--host',
      `unix://${proxy.path}`,
      '--interval',
      '0.5',
      '--call-timeout',
      '1000',
      '--metrics',
      String(port),
      ...NOTHING,
    ]);
    try {
      await agent.waitFor('daemon-up', 20_000);
      await proxy.down();
      const from = agent.lines.length;
      await agent.waitFor('daemon-down', 15_000, () => true, from);
      const pid = agent.child.pid as number;
      const cpu0 = cpuSeconds(pid);
      await new Promise((r) => setTimeout(r, 6000));
      const cpu = cpuSeconds(pid) - cpu0;
      assert.ok(cpu < 0.6, `agent used ${cpu.toFixed(2)} s of CPU in 6 s while the daemon was down`);
      const retries = agent
        .events('daemon-down')
        .slice(-3)
        .map((l) => l.retryInMs as number);
      assert.ok(
        retries.length >= 2 && (retries[retries.length - 1] as number) > (retries[0] as number),
        `back-off grows: ${retries.join(', ')}`,
      );
      const down = await httpGet(`http://127.0.0.1:${port}/metrics`);
      assert.equal(seriesValue(down.body, 'docker_stability_daemon_reachable'), 0);

      const back = agent.lines.length;
      await proxy.up();
      await agent.waitFor('daemon-up', 40_000, () => true, back);
      const samples =
        seriesValue(
          (await httpGet(`http://127.0.0.1:${port}/metrics`)).body,
          'docker_stability_samples_total',
        ) ?? 0;
      await waitFor(
        'samples again',
        async () =>
          (seriesValue(
            (await httpGet(`http://127.0.0.1:${port}/metrics`)).body,
            'docker_stability_samples_total',
          ) ?? 0) > samples
            ? true
            : undefined,
        10_000,
        200,
      );
      assert.equal(
        seriesValue(
          (await httpGet(`http://127.0.0.1:${port}/metrics`)).body,
          'docker_stability_daemon_reachable',
        ),
        1,
      );
      assert.equal(await agent.terminate(), 0, agent.stderr);
    } finally {
      await agent.kill();
      await proxy.down();
    }
  });

  it('refuses bad flags and a bad agent config with one line and exit 64, before claiming anything', async () => {
    const cases: [string[], RegExp][] = [
      [['--metrics', '127.0.0.1:99999'], /not a listen address/],
      [['--auto-cleanup-level', 'LOUD'], /unknown level "LOUD"/],
      [['--cleanup-every', '10ms'], /--cleanup-every must be at least 1s/],
      [
        ['--config', world.config({ agent: { scheduledCleanupMinutes: 5 } })],
        /agent\.scheduledCleanupMinutes is not a setting/,
      ],
      [
        ['--config', world.config({ agent: { autoCleanup: { level: 'LOUD' } } })],
        /agent\.autoCleanup\.level must be one of SAFE/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await world.cli(['agent', ...args]);
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n')[0]?.startsWith('docker-stability: '), true, r.stderr);
    }
    assert.equal((await world.cli(['agent', 'status'])).code, 1, 'no agent was left running');
  });

  it('--print-systemd-unit prints the unit shipped in contrib/', async () => {
    const r = await world.cli(['agent', '--print-systemd-unit']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      readFileSync(join(__dirname, '../../../../contrib/systemd/docker-stability-agent@.service'), 'utf8'),
    );
    assert.match(
      r.stdout,
      /^ExecStart=\/usr\/bin\/env docker-stability agent \$DOCKER_STABILITY_AGENT_ARGS$/m,
    );
  });
});
