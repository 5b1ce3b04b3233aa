import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DockerFixture } from '../../helpers/docker';
import { sleep, waitFor } from '../../helpers/run';
import { AgentWorld, freePort, httpGet, seriesValue } from './helpers';

const CONTRIB = resolve(__dirname, '../../../../contrib');
const LEVELS = ['SAFE', 'WARNING', 'CRITICAL', 'EMERGENCY'];
const MiB = 1024 * 1024;

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd]).status === 0;
}

interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

/** Debian's prometheus, on loopback, scraping the agent every second with the shipped alert rules. */
class Prometheus {
  private child: ChildProcess | undefined;
  private log = '';
  url = '';

  async start(dir: string, target: string): Promise<void> {
    const port = await freePort();
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(join(CONTRIB, 'prometheus/alerts.yml'))}]`,
        'scrape_configs:',
        '  - job_name: docker-stability',
        `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
        '',
      ].join('\n'),
    );
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    await waitFor(
      `prometheus ready at ${this.url}${this.tail()}`,
      async () =>
        (await httpGet(`${this.url}/-/ready`, 1000).catch(() => undefined))?.status === 200
          ? true
          : undefined,
      30_000,
      200,
    );
  }

  tail(): string {
    return `\n${this.log.split('\n').slice(-15).join('\n')}`;
  }

  async query(expr: string): Promise<QueryResult[]> {
    const r = await httpGet(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = JSON.parse(r.body) as { status: string; error?: string; data?: { result: QueryResult[] } };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? r.body}`);
    return body.data?.result ?? [];
  }

  /** The single value of an instant query, or undefined while it has none. */
  async value(expr: string): Promise<number | undefined> {
    const [first] = await this.query(expr);
    return first ? Number(first.value[1]) : undefined;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((done) => c.once('exit', done));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Every PromQL expression of the shipped Grafana dashboard, with its variable set to match all. */
function dashboardExprs(): string[] {
  const dash = JSON.parse(readFileSync(join(CONTRIB, 'grafana/docker-stability.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
  };
  return dash.panels.flatMap((p) => p.targets.map((t) => t.expr.replace(/\$instance/g, '.*')));
}

describe('agent metrics in a real Prometheus', function () {
  this.timeout(180_000);
  const world = new AgentWorld();
  const fx = new DockerFixture();
  const prom = new Prometheus();

  before(function () {
    for (const cmd of ['prometheus', 'promtool']) {
      assert.ok(
        onPath(cmd),
        `${cmd} is missing: bash scripts/setup-docker.sh installs Debian's prometheus package`,
      );
    }
  });
  after(async () => {
    await prom.stop();
    await fx.cleanup();
    await world.dispose();
  });

  it('shipped alert rules pass promtool check rules and their unit tests', () => {
    for (const args of [
      ['check', 'rules', 'alerts.yml'],
      ['test', 'rules', 'alerts.test.yml'],
    ]) {
      const r = spawnSync('promtool', args, {
        cwd: join(CONTRIB, 'prometheus'),
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
    }
  });

  it('Prometheus scrapes the agent; its series agree with status --json, count a run, pass promtool check metrics; dashboard and rules evaluate', async () => {
    await fx.container({ start: false }); // at least one container on the daemon
    const port = await freePort();
    const agent = world.start([
      '--interval',
      '1',
      '--metrics',
      `127.0.0.1:${port}`,
      '--label',
      `docker-stability.test-fixture=${fx.id}-none`,
      '--no-scheduled-cleanup',
      '--no-auto-cleanup',
    ]);
    try {
      await agent.waitFor('daemon-up', 30_000);
      await prom.start(world.home, `127.0.0.1:${port}`);
      await waitFor(
        `the agent scraped${prom.tail()}`,
        async () => ((await prom.value('up{job="docker-stability"}')) === 1 ? true : undefined),
        30_000,
        500,
      );
      assert.equal(
        await prom.value('docker_stability_runs_total{category="agent-prom"}'),
        undefined,
        'no run yet',
      );

      const ran = await world.cli(['run', '--category', 'agent-prom', '--', 'true'], 120_000);
      assert.equal(ran.code, 0, ran.stderr);
      await waitFor(
        'the run counted in Prometheus',
        async () =>
          (await prom.value('sum(docker_stability_runs_total{category="agent-prom",outcome="success"})')) ===
          1
            ? true
            : undefined,
        30_000,
        500,
      );
      assert.equal(
        await prom.value('sum(docker_stability_run_duration_seconds_count{category="agent-prom"})'),
        1,
      );

      // Other suites share the daemon: compare until one status and one scrape see the same daemon.
      let last = '';
      await waitFor(
        'Prometheus and status --json agree',
        async () => {
          const st = await world.cli(['status', '--json']);
          assert.equal(st.code, 0, st.stderr);
          const s = JSON.parse(st.stdout) as { level: string; resources: Record<string, { used: number }> };
          const containers = await prom.value('docker_stability_resource_used{resource="containers"}');
          const memory = await prom.value('docker_stability_resource_used{resource="memory"}');
          const level = await prom.value('docker_stability_level');
          const want = s.resources;
          last = `status: ${want.containers?.used} containers, ${want.memory?.used} B, ${s.level}; prometheus: ${containers}, ${memory}, ${level}`;
          const memOk =
            memory !== undefined &&
            Math.abs(memory - (want.memory?.used ?? 0)) <= Math.max(64 * MiB, 0.1 * (want.memory?.used ?? 0));
          return containers === want.containers?.used && LEVELS[level ?? -1] === s.level && memOk
            ? true
            : undefined;
        },
        45_000,
        1000,
      ).catch((err: Error) => assert.fail(`${err.message}: ${last}`));
      assert.ok(((await prom.value('docker_stability_resource_used{resource="containers"}')) ?? 0) >= 1);

      const scraped = await httpGet(`http://127.0.0.1:${port}/metrics`);
      assert.ok(seriesValue(scraped.body, 'process_resident_memory_bytes') !== undefined, 'process metrics');
      const lint = spawnSync('promtool', ['check', 'metrics'], {
        input: scraped.body,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);

      for (const expr of dashboardExprs()) await prom.query(expr); // throws on a PromQL error
      await sleep(2000); // two rule evaluations
      const rules = JSON.parse((await httpGet(`${prom.url}/api/v1/rules`)).body) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      };
      const all = rules.data.groups.flatMap((g) => g.rules);
      assert.equal(all.length, 10, 'every shipped rule loaded');
      for (const r of all) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError ?? r.health}`);
    } finally {
      assert.equal(await agent.terminate(), 0, agent.stderr);
    }
  });
});
