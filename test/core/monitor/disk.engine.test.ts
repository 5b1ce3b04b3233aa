import { strict as assert } from 'node:assert';
import type Docker from 'dockerode';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import { DockerFixture, TEST_IMAGE } from '../../helpers/docker';
import { MiB, run, waitFor } from '../../helpers/run';

/** `df -B1 --output=size,used,avail <path>`: the figures a user would compare with. */
async function df(path: string): Promise<{ size: number; used: number; avail: number }> {
  const r = await run('df', ['-B1', '--output=size,used,avail', path]);
  assert.equal(r.code, 0, r.stderr);
  const [size = NaN, used = NaN, avail = NaN] = (r.stdout.trim().split('\n')[1] ?? '')
    .trim()
    .split(/\s+/)
    .map(Number);
  return { size, used, avail };
}

describe('disk against the real engine', function () {
  this.timeout(60_000);
  const fx = new DockerFixture();
  after(() => fx.cleanup());

  it('the disk figure agrees with df of the data root within 1%, and its level joins the sample', async () => {
    const monitor = new ResourceMonitor(fx.client, { statsPath: 'cgroup' });
    try {
      const s = await monitor.sampleNow();
      const root = (await fx.client.info()).DockerRootDir as string;
      const d = await df(root);
      assert.ok(s.disk, 'a disk figure');
      assert.equal(s.disk.source, 'statfs');
      assert.equal(s.disk.dataRoot, root);
      // df's Use% divides used by used + available (a root reserve is neither)
      const within = (a: number, b: number): boolean => Math.abs(a - b) <= 0.01 * b;
      assert.ok(within(s.disk.used, d.used), `used ${s.disk.used} against df's ${d.used}`);
      assert.ok(
        within(s.disk.capacity, d.used + d.avail),
        `capacity ${s.disk.capacity} against ${d.used + d.avail}`,
      );
      assert.ok(Math.abs(s.disk.percent - (d.used / (d.used + d.avail)) * 100) < 1);
      // thresholds for disk alone: with warning at 0.1% it rates WARNING or worse, and so does the sample
      monitor.updateSettings({
        thresholds: { warning: 50, critical: 75, emergency: 90, perResource: { disk: { warning: 0.1 } } },
      });
      const rated = await monitor.sampleNow();
      assert.notEqual(rated.disk?.level, 'SAFE');
      assert.notEqual(rated.level, 'SAFE');
    } finally {
      await monitor.dispose();
    }
  });

  it("names a compose service's log over the bound with no rotation, not a rotated one, and sizes the logs", async () => {
    const line = 'x'.repeat(1000);
    // about 1.5 MB written once: 1500 lines of 1 KB, each a JSON record in the json-file log
    const cmd = ['sh', '-c', `yes ${line} | head -n 1500; while true; do sleep 3600; done`];
    const make = async (
      suffix: string,
      logConfig: Docker.HostConfig['LogConfig'],
    ): Promise<Docker.Container> => {
      const c = await fx.api.createContainer({
        Image: TEST_IMAGE,
        name: fx.name(suffix),
        Cmd: cmd,
        Labels: {
          ...fx.labels,
          'com.docker.compose.project': `${fx.id}-shop`,
          'com.docker.compose.service': suffix,
        },
        HostConfig: { NetworkMode: 'none', Init: true, LogConfig: logConfig },
        StopTimeout: 1,
      });
      await c.start();
      return c;
    };
    const chatty = await make('chatty', { Type: 'json-file', Config: {} });
    const rotated = await make('rotated', { Type: 'json-file', Config: { 'max-size': '10m' } });
    const root = (await fx.client.info()).DockerRootDir as string;
    await waitFor(
      'both logs written',
      async () => {
        const sizes = await Promise.all(
          [chatty, rotated].map(async (c) =>
            (await run('stat', ['-c', '%s', `${root}/containers/${c.id}/${c.id}-json.log`])).stdout.trim(),
          ),
        );
        return sizes.every((x) => Number(x) > 1.5 * MiB) ? true : undefined;
      },
      20_000,
    );
    const monitor = new ResourceMonitor(fx.client, { statsPath: 'cgroup', logSizeBytes: 1 * MiB });
    try {
      const disk = await monitor.refreshDisk();
      assert.ok(disk?.breakdown, 'a breakdown from /system/df');
      assert.ok((disk.breakdown.logs ?? 0) >= 3 * MiB, `logs ${disk.breakdown.logs}`);
      assert.ok(disk.breakdown.images > 0, 'the test image counts');
      const mine = (disk.unrotatedLogs ?? []).filter(
        (l) => l.owner.kind === 'compose' && l.owner.id === `${fx.id}-shop`,
      );
      assert.deepEqual(
        mine.map((l) => [l.id, l.service]),
        [[chatty.id.slice(0, 12), 'chatty']],
      );
      assert.ok((mine[0]?.bytes ?? 0) > 1.5 * MiB);
      const s = await monitor.sampleNow();
      assert.deepEqual(s.disk?.breakdown, disk.breakdown, 'later samples carry the breakdown');
    } finally {
      await monitor.dispose();
    }
  });
});
