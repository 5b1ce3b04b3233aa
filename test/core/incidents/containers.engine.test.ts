import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import type { Incident } from '../../../src/core/incidents/types';
import { incidentsFileFor, ResourceMonitor } from '../../../src/core/monitor/monitor';
import { DockerFixture, TEST_IMAGE } from '../../helpers/docker';
import { MiB, run, sleep, waitFor } from '../../helpers/run';

const CLI = resolve(__dirname, '../../../../dist/cli.js');

describe('incidents against the real engine', function () {
  this.timeout(60_000);
  const fx = new DockerFixture();
  const dir = mkdtempSync(join(tmpdir(), 'dstab-incidents-'));
  const historyFile = join(dir, 'history.jsonl');
  let monitor: ResourceMonitor;

  /** A labelled container with no network; the caller gives what else it needs. */
  async function container(
    suffix: string,
    cmd: string[],
    host: Docker.HostConfig = {},
    extra: Partial<Docker.ContainerCreateOptions> = {},
  ): Promise<Docker.Container> {
    const c = await fx.api.createContainer({
      Image: TEST_IMAGE,
      name: fx.name(suffix),
      Cmd: cmd,
      Labels: { ...fx.labels, 'docker-stability.run-id': `${fx.id}-${suffix}` },
      HostConfig: { NetworkMode: 'none', Init: true, ...host },
      StopTimeout: 1,
      ...extra,
    });
    await c.start();
    return c;
  }

  function mine(kind: Incident['kind'], c: Docker.Container): Incident[] {
    return monitor.incidents
      .toArray()
      .filter((i) => i.kind === kind && i.container?.id === c.id.slice(0, 12));
  }

  before(async () => {
    monitor = new ResourceMonitor(fx.client, { intervalMs: 500 }, { historyFile });
    monitor.start();
    // incidents come from the events stream: wait until it is connected
    await waitFor('the events stream', () => (monitor.state.status === 'up' ? true : undefined), 15_000);
    await sleep(200);
  });
  after(async () => {
    await monitor.dispose();
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a --memory 32m container writing 64 MB into a tmpfs gives one OOM incident with its owner, persisted', async () => {
    const c = await container(
      'oom',
      ['sh', '-c', 'dd if=/dev/zero of=/hold/big bs=1M count=64; sleep 3600'],
      {
        Memory: 32 * MiB,
        MemorySwap: 32 * MiB,
        Tmpfs: { '/hold': 'size=128m' },
      },
    );
    const found = await waitFor(
      'an OOM incident',
      () => (mine('oom', c).length > 0 ? mine('oom', c) : undefined),
      15_000,
      100,
    );
    await sleep(1500); // an oom event's die (or a second oom of the same squeeze) must not add one
    assert.equal(mine('oom', c).length, 1, JSON.stringify(monitor.incidents.toArray()));
    const i = found[0] as Incident;
    assert.equal(i.container?.name, fx.name('oom'));
    assert.deepEqual(i.container?.owner, { kind: 'run', id: `${fx.id}-oom` });
    assert.ok(Math.abs(Date.parse(i.at) - Date.now()) < 20_000, 'at the daemon event time');
    assert.ok(i.figures, 'with the figures of the last sample');
    await monitor.incidents.flush();
    const persisted = readFileSync(incidentsFileFor(historyFile), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Incident);
    assert.ok(
      persisted.some((p) => p.kind === 'oom' && p.container?.id === c.id.slice(0, 12)),
      'written next to the history',
    );

    // the CLI reads the same file
    const env = { PATH: process.env.PATH, HOME: dir, DOCKER_STABILITY_HOME: dir };
    const file = incidentsFileFor(historyFile);
    const json = await run('node', [CLI, 'incidents', '--json', '--since', '10m', '--file', file], { env });
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as Incident[];
    assert.equal(listed.filter((p) => p.kind === 'oom' && p.container?.name === fx.name('oom')).length, 1);
    const text = await run('node', [CLI, 'incidents', '--file', file], { env });
    assert.match(text.stdout, new RegExp(`OOM kill\\s+${fx.name('oom')} \\(run ${fx.id}-oom\\)`));
    const old = await run('node', [CLI, 'incidents', '--json', '--since', '1ms', '--file', file], { env });
    assert.deepEqual(JSON.parse(old.stdout), [], '--since leaves older incidents out');
  });

  it('a failing healthcheck gives one unhealthy incident', async () => {
    const c = await container(
      'sick',
      ['sleep', '3600'],
      {},
      {
        Healthcheck: {
          Test: ['CMD', 'false'],
          Interval: 300_000_000,
          Timeout: 1_000_000_000,
          Retries: 1,
          StartPeriod: 0,
        },
      },
    );
    await waitFor(
      'an unhealthy incident',
      () => (mine('unhealthy', c).length > 0 ? true : undefined),
      15_000,
      100,
    );
    await sleep(1000); // further failing checks keep it unhealthy: no new incident
    assert.equal(mine('unhealthy', c).length, 1);
    assert.equal(mine('unhealthy', c)[0]?.container?.name, fx.name('sick'));
  });

  it('a container still starting its healthcheck past the bound gives one never-healthy incident; a healthy one none', async () => {
    const own = new ResourceMonitor(fx.client, {
      intervalMs: 250,
      statsPath: 'cgroup',
      healthyWithinMs: 2000,
    });
    const seen: Incident[] = [];
    own.onIncident((i) => seen.push(i));
    try {
      own.start();
      await waitFor('the monitor up', () => (own.state.status === 'up' ? true : undefined), 15_000);
      // failures inside the start period do not count: it stays `starting` for a minute
      const stuck = await container(
        'stuck',
        ['sleep', '3600'],
        {},
        {
          Healthcheck: {
            Test: ['CMD', 'false'],
            Interval: 500_000_000,
            Timeout: 500_000_000,
            Retries: 1,
            StartPeriod: 60_000_000_000,
          },
        },
      );
      const fine = await container(
        'fine',
        ['sleep', '3600'],
        {},
        {
          Healthcheck: {
            Test: ['CMD', 'true'],
            Interval: 500_000_000,
            Timeout: 500_000_000,
            Retries: 1,
            StartPeriod: 0,
          },
        },
      );
      const of = (c: Docker.Container): Incident[] =>
        seen.filter((i) => i.kind === 'never-healthy' && i.container?.id === c.id.slice(0, 12));
      const found = await waitFor('a never-healthy incident', () => of(stuck)[0], 15_000, 100);
      assert.equal(found.container?.name, fx.name('stuck'));
      assert.deepEqual(found.container?.owner, { kind: 'run', id: `${fx.id}-stuck` });
      assert.equal(found.boundMs, 2000);
      assert.ok((found.startingMs ?? 0) >= 2000, `starting for ${found.startingMs} ms`);
      await sleep(1000);
      assert.equal(of(stuck).length, 1, 'once');
      assert.deepEqual(of(fine), [], 'the healthy one is not reported');
      assert.equal((await fine.inspect()).State.Health?.Status, 'healthy');
    } finally {
      await own.dispose();
    }
  });

  it('a container that keeps exiting under a restart policy is detected as a restart loop', async () => {
    const c = await container('flap', ['sh', '-c', 'exit 3'], { RestartPolicy: { Name: 'always' } });
    const loop = await waitFor('a restart-loop incident', () => mine('restart-loop', c)[0], 20_000, 100);
    assert.ok((loop.restarts ?? 0) >= 3, `restarts ${loop.restarts}`);
    assert.deepEqual(loop.container?.owner, { kind: 'run', id: `${fx.id}-flap` });
    // stop the loop now: the daemon would keep restarting it until the fixture removes it
    await c.update({ RestartPolicy: { Name: 'no' } }).catch(() => undefined);
  });
});
