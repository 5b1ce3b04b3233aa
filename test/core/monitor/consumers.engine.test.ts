import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import { ownerKey } from '../../../src/core/monitor/owners';
import type { Sample } from '../../../src/core/monitor/types';
import { DockerFixture, TEST_IMAGE } from '../../helpers/docker';
import { MiB, run, waitFor } from '../../helpers/run';

const CLI = resolve(__dirname, '../../../../dist/cli.js');
const HELD_MIB = 300;

describe('who uses what, against the real engine', function () {
  this.timeout(60_000);
  const fx = new DockerFixture();
  const project = `${fx.id}-test`;
  const dir = mkdtempSync(join(tmpdir(), 'dstab-consumers-'));
  let heavy: Docker.Container;
  let light: Docker.Container;

  before(async () => {
    // 300 MiB written into a tmpfs inside the container: shmem pages the working set counts
    // (never reclaimable page cache), charged to the container's memory cgroup.
    heavy = await fx.api.createContainer({
      Image: TEST_IMAGE,
      name: fx.name('heavy'),
      Cmd: [
        'sh',
        '-c',
        `dd if=/dev/zero of=/hold/held bs=1M count=${HELD_MIB} 2>/dev/null; while true; do sleep 3600; done`,
      ],
      Labels: { ...fx.labels, 'com.docker.compose.project': project, 'com.docker.compose.service': 'heavy' },
      HostConfig: {
        NetworkMode: 'none',
        Init: true,
        Memory: 512 * MiB,
        Tmpfs: { '/hold': `size=${HELD_MIB + 64}m` },
      },
      StopTimeout: 1,
    });
    await heavy.start();
    light = await fx.container({ name: fx.name('light'), labels: { 'docker-stability.run-id': fx.id } });
  });
  after(async () => {
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the container holding 300 MiB among the top consumers, under its compose project, with no extra daemon call', async () => {
    const monitor = new ResourceMonitor(fx.client, { statsPath: 'cgroup', topConsumers: 10 });
    try {
      const sample = await waitFor(
        'the heavy container to hold its 300 MiB',
        async () => {
          const s: Sample = await monitor.sampleNow();
          const c = s.consumers?.find((x) => x.id === heavy.id.slice(0, 12));
          return c && c.memoryBytes >= HELD_MIB * MiB ? s : undefined;
        },
        20_000,
        200,
      );
      const consumers = sample.consumers ?? [];
      const mine = consumers.find((x) => x.id === heavy.id.slice(0, 12));
      assert.ok(mine, 'the heavy container is listed');
      assert.equal(mine.name, fx.name('heavy'));
      assert.deepEqual(mine.owner, { kind: 'compose', id: project });
      assert.ok(
        mine.memoryBytes < (HELD_MIB + 16) * MiB,
        `about 300 MiB, not more: ${mine.memoryBytes / MiB} MiB`,
      );
      for (let i = 1; i < consumers.length; i++) {
        assert.ok((consumers[i - 1]?.memoryBytes ?? 0) >= (consumers[i]?.memoryBytes ?? 0), 'heaviest first');
      }
      const lighter = consumers.filter((x) => x.memoryBytes < mine.memoryBytes).length;
      assert.ok(
        consumers.indexOf(mine) === consumers.length - lighter - 1,
        'ranked above every lighter container',
      );

      const groups = sample.owners ?? [];
      const compose = groups.find((g) => ownerKey(g.owner) === `compose:${project}`);
      assert.equal(compose?.containers, 1);
      assert.equal(compose?.memoryBytes, mine.memoryBytes);
      const runGroup = groups.find((g) => ownerKey(g.owner) === `run:${fx.id}`);
      assert.equal(runGroup?.containers, 1, 'the run-labelled container is its run');
      assert.ok(light.id, 'the light container exists');
      assert.equal(
        groups.reduce((n, g) => n + g.containers, 0),
        sample.running - sample.source.failed,
        'every running container read is in exactly one group',
      );

      // The breakdown comes from the container list and cgroup files the sample reads anyway.
      const listsBefore = monitor.inventoryListCalls.containers ?? 0;
      await monitor.sampleNow();
      assert.ok(
        (monitor.inventoryListCalls.containers ?? 0) - listsBefore <= 1,
        'no list call beyond the usual one',
      );
    } finally {
      await monitor.dispose();
    }
  });

  it('status --top 3 prints the heavy container with its owner; --json carries consumers and owners', async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
    const env = { PATH: process.env.PATH, HOME: dir, DOCKER_STABILITY_HOME: dir };
    const text = await run('node', [CLI, 'status', '--top', '3'], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /top \d by memory/);
    const line = text.stdout.split('\n').find((l) => l.includes(fx.name('heavy')));
    assert.ok(line, `the heavy container is in the table:\n${text.stdout}`);
    assert.match(line, new RegExp(`compose ${project}\\s+3\\d\\d(\\.\\d)? MiB`));
    assert.match(text.stdout, /by owner:/);

    const json = await run('node', [CLI, 'status', '--json', '--top', '2'], { env });
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(json.stdout) as Sample;
    assert.ok((s.consumers?.length ?? 0) <= 2, '--top bounds the list');
    assert.ok(
      s.consumers?.some((c) => c.name === fx.name('heavy')),
      'the heavy container is in the JSON',
    );
    assert.ok(s.owners?.some((g) => ownerKey(g.owner) === `compose:${project}`));

    const bad = await run('node', [CLI, 'status', '--top', 'lots'], { env });
    assert.equal(bad.code, 64, 'a usage error');
    assert.match(bad.stderr, /--top must be a number/);
  });
});
