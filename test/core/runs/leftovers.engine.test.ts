import * as assert from 'node:assert/strict';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';
import { Labels } from '../../../src/core/labels';
import { mayHaveLeft, nowNanos } from '../../../src/core/runs/leftovers';
import { withTestEnvironment } from '../../../src/core/runs/testRun';
import { TEST_IMAGE, TEST_LABEL } from '../../helpers/docker';
import { runWorldSuite } from './helpers';

/** Whether a run may have left something, from the real engine's create and destroy events. */
describe('runs: what a run may have left, from the daemon events (engine)', function () {
  this.timeout(60_000);
  const rw = runWorldSuite();
  const volumes: string[] = [];
  afterEach(async () => {
    for (const v of volumes.splice(0))
      await rw.client.api
        .getVolume(v)
        .remove({ force: true })
        .catch(() => undefined);
  });

  let made = 0;
  const container = (labels: Record<string, string>) =>
    rw.client.api.createContainer({
      name: `${rw.world.prefix}${made++}`,
      Image: TEST_IMAGE,
      Cmd: ['true'],
      Labels: labels,
      HostConfig: { NetworkMode: 'none' },
    });
  const volume = async (): Promise<string> => {
    const name = `${rw.world.prefix}v${made++}`;
    volumes.push(name);
    await rw.client.api.createVolume({ Name: name, Labels: { [TEST_LABEL]: '1' } });
    return name;
  };
  /** `mayHaveLeft` over the window in which `fn` ran. */
  const judged = async (runId: string, fn: () => Promise<void>): Promise<boolean> => {
    const from = nowNanos();
    await fn();
    return mayHaveLeft(rw.client, runId, from, nowNanos());
  };

  it("is no for the run's containers that were created and removed again, yes for one that stayed", async () => {
    const id = rw.world.id;
    assert.equal(
      await judged(id, async () => {
        const c = await container({ [Labels.runId]: id });
        await c.remove({ force: true });
      }),
      false,
    );
    assert.equal(
      await judged(id, async () => {
        await container({ [Labels.runId]: id });
      }),
      true,
    );
  });

  it("ignores containers that are not the run's (another run's, unlabelled): its cleanup would not remove them", async () => {
    assert.equal(
      await judged(rw.world.id, async () => {
        await container({ [Labels.runId]: `${rw.world.id}-other` });
        await container({});
      }),
      false,
    );
  });

  it('counts a volume that stayed, whoever made it (volume events carry no labels), and not one removed again', async () => {
    assert.equal(
      await judged(rw.world.id, async () => {
        const v = await volume();
        await rw.client.api.getVolume(v).remove();
      }),
      false,
    );
    assert.equal(
      await judged(rw.world.id, async () => {
        await volume();
      }),
      true,
    );
  });

  it('says yes when the daemon cannot answer', async () => {
    const dead = new DockerClient(parseHost(`unix:///tmp/dstab-no-daemon-${rw.world.id}.sock`, 'test'));
    const from = nowNanos();
    assert.equal(await mayHaveLeft(dead, rw.world.id, from, nowNanos()), true);
  });

  it('a run that removes what it created is not followed by a cleanup pass; one that leaves a container is', async () => {
    const clean = await withTestEnvironment(rw.world.runOptions('tidy', rw.client), async (env) => {
      const own = new DockerClient(parseHost(env.env.DOCKER_HOST as string, 'test'));
      const c = await own.api.createContainer({
        name: `${rw.world.prefix}tidy`,
        Image: TEST_IMAGE,
        Cmd: ['true'],
        HostConfig: { NetworkMode: 'none' },
      });
      await c.remove({ force: true });
    });
    assert.equal(clean.report.cleanup, undefined, 'no cleanup pass after a tidy run');
    const messy = await withTestEnvironment(rw.world.runOptions('messy', rw.client), async (env) => {
      const own = new DockerClient(parseHost(env.env.DOCKER_HOST as string, 'test'));
      await own.api.createContainer({
        name: `${rw.world.prefix}messy`,
        Image: TEST_IMAGE,
        Cmd: ['true'],
        HostConfig: { NetworkMode: 'none' },
      });
    });
    assert.equal(messy.report.cleanup?.removed.filter((e) => e.type === 'container').length, 1);
    assert.deepEqual(await rw.world.containers(rw.client.api), []);
  });
});
