import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { planApply, STANDARD, writeApply } from '../../../src/core/compose/index';
import { parseComposeBytes } from '../../../src/core/compose/units';
import { testClient, TEST_IMAGE, TEST_LABEL } from '../../helpers/docker';

const run = promisify(execFile);
const CLI = resolve(__dirname, '../../../../dist/cli.js');

/**
 * Whatever a failed assertion left of a compose project: `down -v`, then its containers and
 * networks, selected by the project's label only.
 */
async function removeProject(api: Docker, project: string, file: string, dir: string): Promise<void> {
  await run('docker-compose', ['-p', project, '-f', file, 'down', '-v', '-t', '1'], { cwd: dir }).catch(
    () => undefined,
  );
  const filters = { label: [`com.docker.compose.project=${project}`] };
  for (const c of await api.listContainers({ all: true, filters }))
    await api.getContainer(c.Id).remove({ force: true, v: true });
  for (const n of await api.listNetworks({ filters })) await api.getNetwork(n.Id).remove();
}

describe('compose apply + up on the real engine', function () {
  this.timeout(240_000);
  // Unique per run, and never ending in -test/_test: a parallel cleanup test must never consider it.
  const project = `dstab-compose-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const filter = { label: [`com.docker.compose.project=${project}`] };
  const client = testClient(20_000);
  const api: Docker = client.api;
  let dir: string;
  let file: string;

  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    dir = mkdtempSync(join(tmpdir(), 'dstab-compose-engine-'));
    file = join(dir, 'docker-compose.yml');
    writeFileSync(
      file,
      [
        '# A user file: no limits, no logging options, a healthcheck probe without timings.',
        'services:',
        '  app:',
        `    image: ${TEST_IMAGE}`,
        '    command: ["sleep", "3600"]',
        '    network_mode: none',
        '    healthcheck:',
        '      test: ["CMD", "true"]',
        '    volumes:',
        '      - data:/data',
        '  worker:',
        `    image: ${TEST_IMAGE}`,
        '    command: ["sleep", "3600"]',
        '    network_mode: none',
        '    mem_limit: 128m  # set by the user: kept',
        'volumes:',
        '  data:',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await removeProject(api, project, file, dir);
    for (const v of (await api.listVolumes({ filters: filter })).Volumes ?? [])
      await api.getVolume(v.Name).remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after apply, containers run with the standard limits, reservation, CPUs, healthcheck, logs, init and restart', async () => {
    const plan = await planApply(file, { variant: 'test' });
    await writeApply(plan);
    const up = await run(process.execPath, [CLI, 'compose', 'up', file, '--project-name', project], {
      cwd: dir,
    });
    assert.doesNotMatch(up.stderr, /no override/);
    const containers = await api.listContainers({ all: true, filters: filter });
    assert.equal(containers.length, 2);
    const byService = new Map<string, Docker.ContainerInspectInfo>();
    for (const c of containers) {
      const info = await api.getContainer(c.Id).inspect();
      byService.set(info.Config.Labels['com.docker.compose.service'] as string, info);
    }
    const app = byService.get('app') as Docker.ContainerInspectInfo;
    assert.equal(app.State.Running, true);
    assert.equal(app.HostConfig.Memory, 512 * 1024 ** 2);
    assert.equal(app.HostConfig.Memory, parseComposeBytes(STANDARD.resources.limits.memory));
    assert.equal(app.HostConfig.MemoryReservation, 256 * 1024 ** 2);
    assert.equal(app.HostConfig.NanoCpus, 250_000_000);
    assert.equal(app.HostConfig.Init, true);
    assert.equal(app.HostConfig.RestartPolicy?.Name, 'no');
    assert.deepEqual(app.HostConfig.LogConfig, {
      Type: 'json-file',
      Config: { 'max-size': '10m', 'max-file': '3' },
    });
    const hc = app.Config.Healthcheck as {
      Test: string[];
      Interval: number;
      Timeout: number;
      Retries: number;
      StartPeriod: number;
    };
    assert.deepEqual(hc, {
      Test: ['CMD', 'true'],
      Interval: 10e9,
      Timeout: 5e9,
      Retries: 5,
      StartPeriod: 30e9,
    });
    assert.ok(app.State.Health, 'the engine runs the healthcheck');

    const worker = byService.get('worker') as Docker.ContainerInspectInfo;
    assert.equal(worker.HostConfig.Memory, 128 * 1024 ** 2, "the user's limit wins");
    assert.equal(
      worker.HostConfig.MemoryReservation,
      128 * 1024 ** 2,
      'reservation capped at the user limit',
    );
    assert.equal(worker.HostConfig.NanoCpus, 250_000_000);
    assert.equal(worker.Config.Healthcheck, undefined, 'no probe invented for an unknown image');
  });

  it('compose down --volumes (with the override) leaves no container, network or volume of the project', async () => {
    const t0 = Date.now();
    await run(process.execPath, [CLI, 'compose', 'down', file, '--volumes', '--project-name', project], {
      cwd: dir,
    });
    const seconds = (Date.now() - t0) / 1000;
    assert.deepEqual(await api.listContainers({ all: true, filters: filter }), []);
    assert.deepEqual(await api.listNetworks({ filters: filter }), []);
    assert.deepEqual((await api.listVolumes({ filters: filter })).Volumes ?? [], []);
    // init: true lets busybox's sleep stop on SIGTERM: no 10 s stop timeout per container.
    assert.ok(seconds < 20, `down took ${seconds} s`);
  });
});

describe('compose apply keeps a working stack working (real engine)', function () {
  this.timeout(240_000);
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const project = `dstab-stack-${id}`;
  const filter = { label: [`com.docker.compose.project=${project}`] };
  // Images named like PostgreSQL tools, built here from the local test image with its own CMD,
  // labelled, and removed at the end: apply must neither probe them with pg_isready nor replace their program.
  const lookalikes = [`postgrest/postgrest:dstab-${id}`, `prometheuscommunity/postgres-exporter:dstab-${id}`];
  const api: Docker = testClient(20_000).api;
  let dir: string;
  let file: string;

  before(async function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    for (const tag of lookalikes) {
      await new Promise<void>((done, fail) => {
        const child = execFile('docker', ['build', '-q', '-t', tag, '-'], (err) =>
          err ? fail(err) : done(),
        );
        child.stdin?.end(`FROM ${TEST_IMAGE}\nLABEL ${TEST_LABEL}=${id}\nCMD ["sleep", "3600"]\n`);
      });
    }
    dir = mkdtempSync(join(tmpdir(), 'dstab-compose-stack-'));
    file = join(dir, 'docker-compose.yml');
    const svc = (extra: string[]): string[] => [
      `    image: ${TEST_IMAGE}`,
      '    command: ["sleep", "3600"]',
      '    network_mode: none',
      ...extra,
    ];
    writeFileSync(
      file,
      [
        'services:',
        '  rest:',
        `    image: ${lookalikes[0]}`,
        '    network_mode: none',
        '  exporter:',
        `    image: ${lookalikes[1]}`,
        '    network_mode: none',
        '  web:',
        ...svc(['    healthcheck:', '      test: ["CMD", "true"]']),
        '  jvm:',
        ...svc(['    environment:', '      JAVA_OPTS: "-Xms512m -Xmx1g"']),
        '  quota:',
        ...svc(['    cpu_quota: 50000']),
        '',
      ].join('\n'),
    );
    // The user's own override: compose loads it by itself; apply must keep it in the stack.
    writeFileSync(
      join(dir, 'docker-compose.override.yml'),
      'services:\n  web:\n    mem_limit: 300m\n    environment:\n      FROM_OVERRIDE: "yes"\n',
    );
  });

  after(async () => {
    await removeProject(api, project, file, dir);
    for (const tag of lookalikes)
      await api
        .getImage(tag)
        .remove()
        .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('every container runs its own command, reaches healthy where it has a probe, and the user override stays in effect', async () => {
    const plan = await planApply(file, { variant: 'test', env: {} });
    await writeApply(plan);
    const up = await run(process.execPath, [CLI, 'compose', 'up', file, '--project-name', project], {
      cwd: dir,
      env: { ...process.env, COMPOSE_FILE: '' },
    });
    assert.doesNotMatch(up.stderr, /no override/);
    const byService = new Map<string, Docker.ContainerInspectInfo>();
    for (const c of await api.listContainers({ all: true, filters: filter })) {
      const info = await api.getContainer(c.Id).inspect();
      byService.set(info.Config.Labels['com.docker.compose.service'] as string, info);
    }
    assert.deepEqual([...byService.keys()].sort(), ['exporter', 'jvm', 'quota', 'rest', 'web']);
    for (const name of ['rest', 'exporter']) {
      const c = byService.get(name) as Docker.ContainerInspectInfo;
      assert.deepEqual(c.Config.Cmd, ['sleep', '3600'], `${name} runs its image's own program`);
      assert.equal(c.Config.Healthcheck, undefined, `${name}: no probe invented (no pg_isready)`);
      assert.equal(c.State.Running, true);
    }
    const web = byService.get('web') as Docker.ContainerInspectInfo;
    assert.ok(web.Config.Env.includes('FROM_OVERRIDE=yes'), 'docker-compose.override.yml is in effect');
    assert.equal(web.HostConfig.Memory, 300 * 1024 ** 2, "the override's mem_limit is kept");
    assert.equal(byService.get('jvm')?.HostConfig.Memory, 2 * 1024 ** 3, 'the limit fits the -Xmx1g heap');
    const quota = byService.get('quota') as Docker.ContainerInspectInfo;
    assert.equal(quota.State.Running, true, 'no cpus next to cpu_quota: the daemon accepted the container');
    assert.equal(quota.HostConfig.CpuQuota, 50000);
    // The first probe runs one interval (10 s) after the start.
    const deadline = Date.now() + 60_000;
    let health = '';
    while (Date.now() < deadline) {
      health = (await api.getContainer(web.Id).inspect()).State.Health?.Status ?? '';
      if (health === 'healthy') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(health, 'healthy');
  });
});
