// OOM-kill notifications: a real OOM kill of a container a docker-stability run owns shows one
// notification and counts in the tooltip; the rate limit and the owner rule are checked directly.
import * as assert from 'node:assert/strict';
import type { Incident } from '../../src/core/incidents/types';
import { Labels } from '../../src/core/labels';
import { OomNotifier } from '../../src/extension/oomNotifier';
import type { Owner } from '../../src/shared/monitor';
import { DockerFixture } from '../helpers/docker';
import { api, resetSettings, setSetting, waitFor } from './extensionApi';

const MiB = 1024 * 1024;

function oom(at: number, id: string, owner: Owner): Incident {
  return {
    at: new Date(at).toISOString(),
    kind: 'oom',
    endpoint: 'unix:///x',
    container: { id, name: `c-${id}`, owner },
  };
}

describe('OOM-kill notifications', function () {
  this.timeout(90_000);
  const fx = new DockerFixture();
  after(async () => {
    await resetSettings(['notifications.oomKills']);
    await fx.cleanup();
  });

  it('notifies once for a real OOM kill of a run-owned container, and the tooltip counts it', async () => {
    const a = await api();
    await waitFor('the monitor up', () => a.model.state.status === 'up', 30_000);
    const before = a.oomNotifier.shown.length;
    const c = await fx.api.createContainer({
      Image: 'docker-stability-test/busybox:1',
      Cmd: ['sh', '-c', 'dd if=/dev/zero of=/hold/big bs=1M count=64; sleep 3600'],
      name: fx.name('oom'),
      Labels: { ...fx.labels, [Labels.runId]: `ext-${fx.id}` },
      HostConfig: {
        NetworkMode: 'none',
        Init: true,
        Memory: 32 * MiB,
        MemorySwap: 32 * MiB,
        Tmpfs: { '/hold': 'size=128m' },
      },
      StopTimeout: 1,
    });
    await c.start();
    const name = fx.name('oom');
    const shown = await waitFor(
      'an OOM notification',
      () => {
        const mine = a.oomNotifier.shown.slice(before).filter((m) => m.includes(name));
        return mine.length > 0 && mine;
      },
      30_000,
    );
    assert.equal(shown.length, 1);
    assert.match(shown[0]!, new RegExp(`Container ${name} \\(run ext-${fx.id}\\) was killed: out of memory`));
    // a second squeeze of the same container (or its die event) within 10 minutes shows nothing more
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(a.oomNotifier.shown.slice(before).filter((m) => m.includes(name)).length, 1);
    await waitFor(
      'the tooltip to count the OOM kill',
      () => /incidents?\*\* in the last hour: .*OOM kill/.test(a.statusBar().tooltip) || undefined,
      30_000,
    );
  });

  it('turns off with dockerStability.notifications.oomKills', async () => {
    const a = await api();
    await setSetting('notifications.oomKills', false);
    await waitFor('the setting applied', () => a.config().notifications.oomKills === false);
    await setSetting('notifications.oomKills', undefined);
    await waitFor('the default back', () => a.config().notifications.oomKills === true);
  });

  it('limits itself: one per container per 10 minutes, three a minute, only owned containers', () => {
    let now = Date.parse('2026-12-02T00:00:00Z');
    const shown: string[] = [];
    const suppressed: string[] = [];
    const n = new OomNotifier({
      enabled: () => true,
      workspaceProjects: () => ['shop'],
      show: (m) => shown.push(m),
      suppressed: (m) => suppressed.push(m),
      now: () => now,
    });
    n.consider([oom(now, 'a', { kind: 'run', id: 'r1' }), oom(now + 1, 'a', { kind: 'run', id: 'r1' })]);
    assert.equal(shown.length, 1, 'the same container twice: once');
    n.consider([
      oom(now + 2, 'x', { kind: 'other', id: '' }),
      oom(now + 3, 'y', { kind: 'compose', id: 'theirs' }),
    ]);
    assert.equal(shown.length, 1, 'containers the user does not own: never');
    n.consider([
      oom(now + 4, 'b', { kind: 'compose', id: 'shop' }),
      oom(now + 5, 'c', { kind: 'testcontainers', id: 's1' }),
      oom(now + 6, 'd', { kind: 'run', id: 'r2' }),
    ]);
    assert.equal(shown.length, 3, 'three a minute in all');
    assert.equal(suppressed.length, 2);
    now += 61_000;
    n.consider([oom(now, 'e', { kind: 'run', id: 'r3' }), oom(now + 1, 'a', { kind: 'run', id: 'r1' })]);
    assert.equal(shown.length, 4, 'a new minute: e shows, a is still within its 10 minutes');
    n.consider([oom(Date.parse('2026-12-01T00:00:00Z'), 'old', { kind: 'run', id: 'r0' })]);
    assert.equal(shown.length, 4, 'an incident from before the window started is history');
  });
});
