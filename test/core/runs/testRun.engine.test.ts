import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';
import { hostId } from '../../../src/core/lock/process';
import { LockManager } from '../../../src/core/lock';
import { RunStore } from '../../../src/core/runs/records';
import {
  beginTestRun,
  RunRefusedError,
  withTestEnvironment,
  type RunReport,
} from '../../../src/core/runs/testRun';
import { runEnvironment } from '../../../src/core/runs/environment';
import { TEST_IMAGE } from '../../helpers/docker';
import { runWorldSuite, waitUntil } from './helpers';

/** The library flow on the real engine, in-process (no CLI). */
describe('runs: withTestEnvironment and beginTestRun (engine)', function () {
  this.timeout(60_000);
  const rw = runWorldSuite();

  const options = (category: string) => rw.world.runOptions(category, rw.client);

  let made = 0;
  function fixtureContainer(labels: Record<string, string>, api: Docker = rw.client.api) {
    return api.createContainer({
      name: `${rw.world.prefix}${made++}`,
      Image: TEST_IMAGE,
      Cmd: ['true'],
      Labels: labels,
      HostConfig: { NetworkMode: 'none' },
    });
  }

  it('holds the lock while fn runs, hands it its own DOCKER_HOST, then records the run and removes what was created through it or with its label, and nothing created unlabelled on the real socket', async () => {
    const lock = new LockManager({ dir: rw.world.lockDir });
    let colleague: string | undefined;
    const { result, report } = await withTestEnvironment({ ...options('lib'), lock }, async (env) => {
      const [status] = await lock.status('test');
      assert.equal(status?.held, true);
      assert.equal(env.env.DOCKER_STABILITY_RUN_ID, env.runId);
      assert.equal(env.env.DOCKER_STABILITY_RUN_LABEL, `docker-stability.run-id=${env.runId}`);
      assert.match(env.env.DOCKER_HOST ?? '', /^unix:\/\/.*dstab-proxy-/);
      const own = new DockerClient(parseHost(env.env.DOCKER_HOST as string, 'test'));
      await fixtureContainer({}, own.api);
      await fixtureContainer(env.labels);
      // Created on the real socket during the run, without the label: someone else's.
      colleague = (await fixtureContainer({})).id;
      return 'done';
    });
    assert.equal(result, 'done');
    assert.equal(report.record.exitCode, 0);
    assert.deepEqual(
      report.record.daemon,
      { id: (await rw.client.identity()).id, endpoint: rw.client.endpoint.host },
      'the record names the daemon by its own ID',
    );
    assert.equal(report.cleanup?.removed.filter((e) => e.type === 'container').length, 2);
    assert.deepEqual(
      (await rw.world.containers(rw.client.api)).map((c) => c.Id),
      [colleague],
    );
    assert.equal((await lock.status('test'))[0]?.held, false);
    assert.equal((await new RunStore(join(rw.world.home, 'runs.jsonl')).list()).length, 1);
  });

  it('passes fn’s error through with the report attached, after cleaning up and releasing the lock', async () => {
    const lock = new LockManager({ dir: rw.world.lockDir });
    const err = await withTestEnvironment({ ...options('lib-fail'), lock }, async (env) => {
      await fixtureContainer(env.labels);
      throw new Error('tests failed');
    }).then(
      () => assert.fail('should have thrown'),
      (e: Error & { report?: RunReport }) => e,
    );
    assert.equal(err.message, 'tests failed');
    assert.equal(err.report?.record.exitCode, 1);
    assert.deepEqual(await rw.world.containers(rw.client.api), []);
    assert.equal((await lock.status('test'))[0]?.held, false);
  });

  it('beginTestRun keeps the lock until end(); end() twice returns the same report', async () => {
    const lock = new LockManager({ dir: rw.world.lockDir });
    const active = await beginTestRun({ ...options('steps'), lock });
    const other = new LockManager({ dir: rw.world.lockDir });
    await assert.rejects(other.acquire('test', { timeoutMs: 0 }), /held|timed out|lock/i);
    const first = await active.end({ exitCode: 2, command: ['make', 'test'] });
    const second = await active.end();
    assert.equal(first, second);
    assert.equal(first.record.exitCode, 2);
    assert.deepEqual(first.record.command, ['make'], 'only the command name is recorded by default');
    const h = await other.acquire('test', { timeoutMs: 0 });
    await h.release();
  });

  it('records the argv only when asked to; start and end records carry the pid and host identity', async () => {
    const store = new RunStore(join(rw.world.home, 'runs.jsonl'));
    const secret = ['deploy', '--token', 's3cr3t'];
    const quiet = await beginTestRun({ ...options('argv'), store, command: secret });
    await quiet.end({ exitCode: 0, command: secret });
    const loud = await beginTestRun({ ...options('argv'), store, command: secret, recordArgv: true });
    await loud.end({ exitCode: 0, command: secret });
    const lines = readFileSync(store.file, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { kind?: string; id: string; command: string[]; pid: number; hostId: string },
      );
    assert.deepEqual(
      lines.map((l) => [l.kind ?? 'end', l.id, l.command]),
      [
        ['start', quiet.runId, ['deploy']],
        ['end', quiet.runId, ['deploy']],
        ['start', loud.runId, secret],
        ['end', loud.runId, secret],
      ],
    );
    for (const l of lines) {
      assert.equal(l.pid, process.pid);
      assert.equal(l.hostId, hostId());
    }
    assert.equal((await store.list()).length, 2, 'start records are not finished runs');
    assert.equal((await store.states()).get(quiet.runId)?.endedAt !== undefined, true);
  });

  it('checks the prediction again once it holds the lock: the holder filled the daemon meanwhile, so the run refuses and lets go', async () => {
    const category = `refill-${rw.world.id}`;
    // One container predicted. Capacity leaves `room` more than that: under EMERGENCY (90%)
    // before, exactly full once the holder has created `room` containers.
    const before = (await rw.client.api.listContainers({ all: true })).length;
    const room = Math.ceil((before + 1) / 9) + 2;
    const holder = await new LockManager({ dir: rw.world.lockDir }).acquire('test', {
      why: 'filling the daemon',
    });
    const progress: string[] = [];
    const started = beginTestRun({
      ...options(category),
      monitor: { capacities: { containers: before + 1 + room, networks: 1000, volumes: 100_000 } },
      prediction: { defaults: { [category]: { containers: 1 } } },
      timeoutMs: 2000,
      recheckMs: 500,
      cleanup: { olderThanMs: 10 * 365 * 24 * 3600_000 }, // the orphan pass leaves other tests' containers alone
      onProgress: (m) => progress.push(m),
    });
    const refused = assert.rejects(started, (err: Error) => {
      assert.ok(err instanceof RunRefusedError, String(err));
      assert.match(
        err.message,
        new RegExp(
          `refusing to start "${category}": predicted level EMERGENCY \\(limit EMERGENCY\\): containers`,
        ),
      );
      return true;
    });
    await waitUntil(
      () => progress.some((m) => m.startsWith('waiting for the "test" lock')),
      20_000,
      'the run to wait for the lock',
    );
    assert.ok(
      !progress.some((m) => /Cleaning up orphans/.test(m)),
      `refused before the lock wait:\n${progress.join('\n')}`,
    );
    await Promise.all(Array.from({ length: room }, () => fixtureContainer({})));
    await holder.release();
    await refused;
    assert.ok(
      progress.some((m) => /^the daemon filled up while this run waited .* for the "test" lock/.test(m)),
      progress.join('\n'),
    );
    // The refused run let go of the lock.
    const after = await new LockManager({ dir: rw.world.lockDir }).acquire('test', { timeoutMs: 0 });
    await after.release();
  });

  it('exports a compose project name from the category and the run id (unique per run) unless the caller set one', () => {
    assert.equal(runEnvironment('abc', 'it', 'test', {}).COMPOSE_PROJECT_NAME, 'dstab-it-abc');
    // As compose accepts a project name: lowercase letters, digits, - and _.
    assert.equal(
      runEnvironment('abc', 'E2E Suite/Fast!', 'test', {}).COMPOSE_PROJECT_NAME,
      'dstab-e2e-suite-fast-abc',
    );
    assert.equal(
      runEnvironment('abc', 'it', 'test', { COMPOSE_PROJECT_NAME: 'mine' }).COMPOSE_PROJECT_NAME,
      'mine',
    );
    assert.deepEqual(runEnvironment('abc', 'it', 'test', {}, 'unix:///tmp/p/docker.sock'), {
      ...runEnvironment('abc', 'it', 'test', {}),
      DOCKER_HOST: 'unix:///tmp/p/docker.sock',
      DOCKER_CONTEXT: '',
      DOCKER_TLS_VERIFY: '',
      DOCKER_CERT_PATH: '',
    });
    assert.deepEqual(Object.keys(runEnvironment('abc', 'it', 'test', {})).sort(), [
      'COMPOSE_PROJECT_NAME',
      'DOCKER_STABILITY_CATEGORY',
      'DOCKER_STABILITY_ENV',
      'DOCKER_STABILITY_RUN_ID',
      'DOCKER_STABILITY_RUN_LABEL',
    ]);
  });
});
