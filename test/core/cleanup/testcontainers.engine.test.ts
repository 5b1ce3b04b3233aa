import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Labels } from '../../../src/core/labels';
import { TEST_IMAGE, TEST_LABEL, testClient } from '../../helpers/docker';
import { CLI, RunWorld, startCli, waitUntil } from '../runs/helpers';

const SESSION = resolve(__dirname, 'fixtures', 'tcSession.js');

/**
 * A real testcontainers-node session (10.28, Ryuk disabled, local image, no network) that dies
 * mid-suite. Its process is killed with SIGKILL, leaving its containers running: the session's
 * reaper is not there to remove them, and nothing in the containers says their owner died. Run
 * under `docker-stability run`, they carry the run's labels (testcontainers follows DOCKER_HOST),
 * so cleanup knows the run is gone and removes them, and nothing else.
 */
describe('cleanup after a real testcontainers session killed mid-suite (real engine)', function () {
  this.timeout(180_000);
  const client = testClient(30_000);
  const world = new RunWorld();
  const scope = { [TEST_LABEL]: world.id };
  const children: ChildProcess[] = [];

  /** Starts a session in its own process group; resolves with the ids of its containers once they run. */
  async function session(name: string, underRun: boolean): Promise<{ child: ChildProcess; ids: string[] }> {
    const ready = join(world.home, `ready-${name}`);
    const program = [process.execPath, SESSION];
    const args = underRun
      ? [CLI, 'run', '--dir', world.lockDir, '--env', `tc-${name}`, '--category', 'tc', '--', ...program]
      : [SESSION];
    const child = spawn(process.execPath, args, {
      env: world.env({
        TESTCONTAINERS_RYUK_DISABLED: 'true',
        TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
        TC_IMAGE: TEST_IMAGE,
        TC_SCOPE_KEY: TEST_LABEL,
        TC_SCOPE_VALUE: world.id,
        TC_READY: ready,
      }),
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitUntil(
      () => existsSync(ready) || child.exitCode !== null,
      90_000,
      `testcontainers session ${name}`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${stderr}`);
    });
    assert.ok(existsSync(ready), `session ${name} failed:\n${stderr}`);
    return { child, ids: readFileSync(ready, 'utf8').split('\n') };
  }

  const killGroup = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
  };

  after(async () => {
    for (const c of children) await killGroup(c).catch(() => undefined);
    const filters = { label: [`${TEST_LABEL}=${world.id}`] };
    for (const c of await client.api.listContainers({ all: true, filters }))
      await client.api
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    await world.dispose(client.api);
  });

  it('removes the killed session’s running containers, keeps a live session’s and everyone else’s; the dry run said so', async () => {
    const [killed, live] = await Promise.all([session('killed', true), session('live', true)]);
    const bare = await session('bare', false);
    const other = await client.api.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['true'],
      Labels: scope,
      HostConfig: { NetworkMode: 'none' },
    });

    for (const id of killed.ids) {
      const info = await client.api.getContainer(id).inspect();
      assert.equal(info.State.Status, 'running');
      assert.match(info.Config.Labels['org.testcontainers.session-id'] ?? '', /\S/);
      assert.match(
        info.Config.Labels[Labels.runId] ?? '',
        /\S/,
        'testcontainers went through the run’s own DOCKER_HOST',
      );
    }
    await killGroup(killed.child);

    const cleanup = async (...extra: string[]) => {
      const r = await startCli(world, [
        'cleanup',
        '--json',
        '--older-than',
        '0',
        '--label',
        `${TEST_LABEL}=${world.id}`,
        '--lock-dir',
        world.lockDir,
        ...extra,
      ]).done;
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as {
        removed: { id: string; type: string; reason: string }[];
        kept: { id: string; reason: string }[];
      };
    };
    const dry = await cleanup('--dry-run');
    assert.deepEqual(dry.removed.map((e) => e.id).sort(), [...killed.ids].sort());
    for (const e of dry.removed)
      assert.match(e.reason, /^running container of run \S+ \(its own run label\), whose process is gone/);
    const done = await cleanup();
    assert.deepEqual(
      done.removed.map((e) => e.id).sort(),
      dry.removed.map((e) => e.id).sort(),
      'actual == dry run',
    );

    const left = new Map(
      (await client.api.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${world.id}`] } })).map(
        (c) => [c.Id, c.State],
      ),
    );
    for (const id of killed.ids) assert.equal(left.has(id), false);
    for (const id of [...live.ids, ...bare.ids])
      assert.equal(left.get(id), 'running', 'a live session is never touched');
    assert.equal(left.get(other.id), 'created');
    // A session outside any run has no owner process to judge: running, it stays.
    for (const id of bare.ids) assert.equal(done.kept.find((e) => e.id === id)?.reason, 'running');
  });
});
