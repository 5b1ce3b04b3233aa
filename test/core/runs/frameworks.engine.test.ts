import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DockerClient } from '../../../src/core/docker/client';
import { resolveEndpoint } from '../../../src/core/docker/endpoint';
import { LockManager } from '../../../src/core/lock';
import { createGlobalSetup, jestGlobalSetup, jestGlobalTeardown } from '../../../src/core/runs/frameworks';
import { RunStore } from '../../../src/core/runs/records';
import { TEST_IMAGE } from '../../helpers/docker';
import { runWorldSuite, type Finished } from './helpers';

describe('runs: test framework global setup (engine)', function () {
  this.timeout(60_000);
  const rw = runWorldSuite();

  const options = (category: string) => rw.world.runOptions(category, rw.client);
  const lockHeld = async (): Promise<boolean> =>
    !!(await new LockManager({ dir: rw.world.lockDir }).status('test'))[0]?.held;

  it('holds the lock from setup to teardown, exports the run’s variables meanwhile, and cleans up at teardown', async () => {
    const before = process.env.DOCKER_STABILITY_RUN_ID;
    const hostBefore = process.env.DOCKER_HOST;
    const g = createGlobalSetup(options('global'));
    const env = await g.setup();
    try {
      assert.equal(process.env.DOCKER_STABILITY_RUN_ID, env.runId);
      assert.equal(process.env.DOCKER_STABILITY_RUN_LABEL, `docker-stability.run-id=${env.runId}`);
      assert.equal(g.active?.runId, env.runId);
      assert.equal(await lockHeld(), true);
      // A rw.client the tests make after the setup finds the run's own endpoint in DOCKER_HOST.
      assert.equal(process.env.DOCKER_HOST, env.env.DOCKER_HOST);
      const tests = new DockerClient(resolveEndpoint());
      assert.match(tests.endpoint.host, /dstab-proxy-/);
      await tests.api.createContainer({
        name: `${rw.world.prefix}left`,
        Image: TEST_IMAGE,
        Cmd: ['true'],
        HostConfig: { NetworkMode: 'none' },
      });
    } finally {
      const report = await g.teardown();
      assert.equal(report?.runId, env.runId);
      assert.equal(report?.record.exitCode, null, 'a global teardown does not know the tests’ result');
    }
    assert.equal(process.env.DOCKER_STABILITY_RUN_ID, before);
    assert.equal(process.env.DOCKER_HOST, hostBefore);
    assert.equal(g.active, undefined);
    assert.equal(await lockHeld(), false);
    assert.deepEqual(await rw.world.containers(rw.client.api), []);
    assert.equal(await g.teardown(), undefined, 'a second teardown has nothing to end');
  });

  it('refuses a second setup of the same environment in one process instead of queueing for its own lock', async () => {
    const a = createGlobalSetup(options('twice'));
    const b = createGlobalSetup(options('twice'));
    const first = a.setup();
    await assert.rejects(b.setup(), /already holds the "test" environment in this process/);
    await first;
    assert.equal(await b.teardown(), undefined);
    assert.ok(await a.teardown());
    assert.equal(await lockHeld(), false);
  });

  it('jest: globalTeardown ends the run globalSetup began, though they are separate functions', async () => {
    await jestGlobalSetup(options('jest'))();
    assert.equal(await lockHeld(), true);
    const runId = process.env.DOCKER_STABILITY_RUN_ID;
    await jestGlobalTeardown()();
    assert.equal(await lockHeld(), false);
    const records = await new RunStore(join(rw.world.home, 'runs.jsonl')).list({ category: 'jest' });
    assert.deepEqual(
      records.map((r) => r.id),
      [runId],
    );
  });

  it('rejects options without a category', () => {
    assert.throws(() => createGlobalSetup({} as never), /needs a category/);
  });

  it('mocha: a real mocha session with mochaGlobalFixtures runs under the lock and its leftovers are removed', async () => {
    const out = join(rw.world.home, 'run-id');
    const fixtures = resolve(__dirname, 'fixtures');
    const r = await new Promise<Finished>((res, rej) => {
      const child = spawn(
        process.execPath,
        [
          require.resolve('mocha/bin/mocha.js'),
          '--require',
          join(fixtures, 'mochaSetup.js'),
          join(fixtures, 'inner.spec.js'),
        ],
        {
          env: rw.world.env({
            FIXTURE_CATEGORY: 'mocha',
            FIXTURE_PREFIX: rw.world.prefix,
            FIXTURE_IMAGE: TEST_IMAGE,
            FIXTURE_OUT: out,
          }),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', rej);
      child.once('close', (code, signal) => res({ code, signal, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const runId = readFileSync(out, 'utf8');
    const records = await new RunStore(join(rw.world.home, 'runs.jsonl')).list({ category: 'mocha' });
    assert.deepEqual(
      records.map((x) => x.id),
      [runId],
    );
    assert.equal(records[0]?.cleanup?.removed, 1);
    assert.deepEqual(await rw.world.containers(rw.client.api), []);
    assert.equal(await lockHeld(), false);
  });
});
