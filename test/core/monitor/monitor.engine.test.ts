import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceMonitor } from '../../../src/core/monitor/monitor';
import type { MonitorState, Sample } from '../../../src/core/monitor/types';
import { DockerFixture } from '../../helpers/docker';
import { sleep, waitFor } from '../../helpers/run';
import { BURN_CMD } from './helpers';

describe('ResourceMonitor against the real engine', function () {
  this.timeout(30_000);
  const fx = new DockerFixture();
  const dir = mkdtempSync(join(tmpdir(), 'dstab-monitor-'));
  const monitors: ResourceMonitor[] = [];
  const make = (
    ...args: ConstructorParameters<typeof ResourceMonitor> extends [unknown, ...infer R] ? R : never
  ): ResourceMonitor => {
    const m = new ResourceMonitor(fx.client, ...args);
    monitors.push(m);
    return m;
  };
  after(async () => {
    await Promise.all(monitors.map((m) => m.dispose()));
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the first sample already has CPU (a running burner reads above zero), read from cgroup files', async () => {
    await fx.container({ cmd: BURN_CMD });
    await sleep(200);
    const s = await make({ statsPath: 'auto' }).sampleNow();
    assert.equal(s.endpoint, fx.client.endpoint.host);
    // without priming the first sample would read exactly 0 (no previous counters)
    assert.ok(s.resources.cpu.used > 0, `cpu ${s.resources.cpu.used}% with a burner running`);
    assert.ok(s.running >= 1);
    assert.equal(s.source.api, 0, 'a local engine is read through cgroup files');
    // containers may stop between listing and reading (other suites): those count as failed
    assert.equal(s.source.cgroup + s.source.failed, s.running);
    assert.equal(s.resources.cpu.capacity % 100, 0, 'CPU capacity is NCPU x 100');
  });

  it('concurrent sampleNow() calls share the sample in flight', async () => {
    const m = make({ statsPath: 'cgroup' });
    await m.sampleNow();
    const [a, b, c] = await Promise.all([m.sampleNow(), m.sampleNow(), m.sampleNow()]);
    assert.equal(a, b);
    assert.equal(b, c);
    const d = await m.sampleNow();
    assert.notEqual(d, a, 'a call after it settled takes a new sample');
    assert.equal(m.history.size, 3, 'one history entry per sample taken, not per caller');
  });

  it('delivers every sample to subscribers in order at the interval, and pauses and resumes', async () => {
    const m = make({ intervalMs: 250, statsPath: 'cgroup' });
    const got: Sample[] = [];
    const states: MonitorState['status'][] = [];
    const offSample = m.onSample((s) => got.push(s));
    m.onState((s) => states.push(s.status));
    m.start();
    await waitFor('four samples', () => (got.length >= 4 ? true : undefined), 10_000);
    const times = got.map((s) => Date.parse(s.sampledAt));
    assert.deepEqual(
      times,
      [...times].sort((x, y) => x - y),
      'in order',
    );
    assert.deepEqual(
      got,
      m.history.toArray().slice(-got.length),
      'subscribers saw exactly what history kept',
    );
    assert.equal(states[0], 'up');

    m.pause();
    assert.equal(m.state.status, 'paused');
    await sleep(100); // a sample already in flight may still land
    const atPause = got.length;
    await sleep(700);
    assert.equal(got.length, atPause, 'no samples while paused');

    m.resume();
    await waitFor('a sample after resuming', () => (got.length > atPause ? true : undefined), 5000);
    offSample();
    const atOff = got.length;
    await sleep(600);
    assert.equal(got.length, atOff, 'an unsubscribed listener gets nothing more');
  });

  it('a throwing subscriber does not stop the others', async () => {
    const m = make({ statsPath: 'cgroup' });
    const got: number[] = [];
    m.onSample(() => {
      throw new Error('listener bug');
    });
    m.onSample(() => got.push(1));
    await m.sampleNow();
    assert.deepEqual(got, [1]);
  });

  it('updateSettings applies good values live and names bad ones, keeping the values in force', async () => {
    const m = make({ statsPath: 'cgroup', intervalMs: 3000 });
    const problems = m.updateSettings({ historySize: 10, intervalMs: 1 });
    assert.deepEqual(problems, ['intervalMs must be a number from 250 to 3600000 (got 1); using 3000']);
    assert.equal(m.currentSettings.intervalMs, 3000);
    assert.equal(m.currentSettings.historySize, 10);
    for (let i = 0; i < 12; i++) await m.sampleNow();
    assert.equal(m.history.size, 10, 'the history ring took the new size');
    m.updateSettings({ capacities: { containers: 1, networks: 31, volumes: 200 } });
    const s = await m.sampleNow();
    assert.equal(s.resources.containers.capacity, 1);
  });

  it('updateSettings switches the stats path live', async () => {
    await fx.container();
    const m = make({ statsPath: 'cgroup' });
    const before = await m.sampleNow();
    assert.ok(before.source.cgroup >= 1 && before.source.api === 0, JSON.stringify(before.source));
    m.updateSettings({ statsPath: 'api' });
    const after = await m.sampleNow();
    assert.ok(after.source.api >= 1 && after.source.cgroup === 0, JSON.stringify(after.source));
  });

  it('dispose() stops sampling, rejects new samples and persists history that a new monitor loads', async () => {
    const historyFile = join(dir, 'history.jsonl');
    const m = make({ intervalMs: 250, statsPath: 'cgroup' }, { historyFile });
    const got: Sample[] = [];
    m.onSample((s) => got.push(s));
    m.start();
    await waitFor('three samples', () => (got.length >= 3 ? true : undefined), 10_000);
    await m.dispose();
    assert.equal(m.state.status, 'disposed');
    const atDispose = got.length;
    await sleep(600);
    assert.equal(got.length, atDispose, 'no samples after dispose');
    await assert.rejects(m.sampleNow(), /monitor is disposed/);

    const reloaded = make({ statsPath: 'cgroup' }, { historyFile });
    reloaded.start();
    await waitFor(
      'the reloaded monitor to sample',
      () => (reloaded.history.size > atDispose ? true : undefined),
      10_000,
    );
    assert.deepEqual(
      reloaded.history
        .toArray()
        .slice(0, atDispose)
        .map((s) => s.sampledAt),
      m.history.toArray().map((s) => s.sampledAt),
      'the history survived the reload, newer samples appended after it',
    );
  });
});
