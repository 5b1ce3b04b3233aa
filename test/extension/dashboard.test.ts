// The dashboard webview loads its bundle under the CSP, receives the snapshot and then live
// samples (it reports what it rendered back to the host), and the monitoring commands work.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, waitFor } from './extensionApi';

describe('dashboard webview', function () {
  this.timeout(90_000);
  after(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  it('renders the snapshot and then the samples that arrive after it', async () => {
    const a = await api();
    await waitFor('a first sample', () => a.model.latest);
    await vscode.commands.executeCommand('dockerStability.openDashboard');
    assert.ok(a.dashboard.isOpen);
    const first = await waitFor(
      'the webview to render samples',
      () => a.dashboard.rendered.samples > 0 && { ...a.dashboard.rendered },
      60_000,
    );
    assert.ok(first.latest, 'the webview names the newest sample it rendered');
    // The opening, measured: the host's marks and then the webview's, in the order they happen.
    const opening = await waitFor('the opening measured', () => a.dashboard.lastOpening, 30_000);
    const { host, webview: w } = opening;
    const order = [
      host.command,
      host.panel,
      host.html,
      w.page,
      w.bundle,
      w.script,
      w.ready,
      host.ready,
      host.posted,
      w.snapshot,
      w.charts,
      w.frame,
    ];
    for (const [i, t] of order.entries()) {
      assert.equal(typeof t, 'number', `mark ${i} of the opening is missing`);
      // the webview's clock and the host's are one here (code-server and the browser share a
      // machine); a millisecond of rounding between them
      if (i > 0)
        assert.ok(t! >= order[i - 1]! - 1, `mark ${i} comes before mark ${i - 1}: ${order.join(', ')}`);
    }
    assert.ok((host.samples ?? 0) > 0, 'the snapshot carried the history');
    const next = await waitFor(
      'a newer sample rendered',
      () =>
        a.dashboard.rendered.latest !== first.latest &&
        a.dashboard.rendered.latest! > first.latest! && { ...a.dashboard.rendered },
      30_000,
    );
    assert.ok(
      a.model.snapshot().samples.some((x) => x.sampledAt === next.latest),
      'the webview rendered a sample the host sent',
    );
    assert.deepEqual(a.dashboard.rejected, [], 'the webview sent nothing the host refused');
  });
});

describe('dashboard: who uses what, disk, incidents', function () {
  this.timeout(90_000);
  after(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  it('shows the top-consumer table, the disk chart and an incident marker from what the host posts', async () => {
    const a = await api();
    const last = await waitFor('a first sample', () => a.model.latest);
    await vscode.commands.executeCommand('dockerStability.openDashboard');
    await waitFor('the webview to render', () => a.dashboard.rendered.samples > 0, 60_000);
    // The same path the monitor's samples take (model.addSample), with what the core's disk
    // and consumer work put in a sample; then an incident, as the monitor records it.
    const at = new Date(Date.parse(last.sampledAt) + 1).toISOString();
    const owner = { kind: 'run' as const, id: 'ext-dash' };
    a.model.addSample({
      ...last,
      sampledAt: at,
      consumers: [
        {
          id: 'aaaaaaaaaaaa',
          name: '<b>not markup</b>',
          owner,
          memoryBytes: 300 * 2 ** 20,
          cpuPercent: 12.5,
        },
        {
          id: 'bbbbbbbbbbbb',
          name: 'small',
          owner: { kind: 'other', id: '' },
          memoryBytes: 2 ** 20,
          cpuPercent: 0,
        },
      ],
      owners: [{ owner, containers: 1, memoryBytes: 300 * 2 ** 20, cpuPercent: 12.5 }],
      disk: {
        used: 40 * 2 ** 30,
        capacity: 100 * 2 ** 30,
        percent: 40,
        level: 'SAFE',
        source: 'statfs',
        measuredAt: at,
        dataRoot: '/var/lib/docker',
        breakdown: { images: 2 ** 30, buildCache: 0, volumes: 2 ** 29, containers: 2 ** 20, logs: 2 ** 20 },
      },
    });
    a.model.setIncidents([
      ...a.model.incidents,
      { at, kind: 'oom', endpoint: last.endpoint, container: { id: 'aaaaaaaaaaaa', name: 'x', owner } },
    ]);
    const drawn = await waitFor(
      'the consumers, the disk and the incident drawn',
      () => {
        const d = a.dashboard.rendered.drawn;
        return d && d.consumers >= 2 && d.diskPoints >= 1 && d.incidents >= 1 && d;
      },
      30_000,
    );
    assert.ok(drawn.consumers >= 2, 'a row per consumer');
    assert.deepEqual(a.dashboard.rejected, [], 'the webview sent nothing the host refused');
  });
});

describe('commands: pause and resume monitoring, show log', function () {
  this.timeout(60_000);

  it('pauses sampling (status bar says so) and resumes it', async () => {
    const a = await api();
    await waitFor('a first sample', () => a.model.latest);
    await vscode.commands.executeCommand('dockerStability.pauseMonitoring');
    let before: number;
    try {
      const paused = await waitFor('paused', () => a.statusBar().level === 'PAUSED' && a.statusBar());
      assert.match(paused.text, /paused/);
      // A sample already in flight when the pause came may still land: count from after it.
      await new Promise((r) => setTimeout(r, 1500));
      before = a.model.sampleCount;
      await new Promise((r) => setTimeout(r, a.config().monitor.intervalMs * 2 + 500));
      assert.equal(a.model.sampleCount, before, 'no samples while paused');
    } finally {
      await vscode.commands.executeCommand('dockerStability.resumeMonitoring');
    }
    await waitFor(
      'sampling again',
      () => a.model.sampleCount > before && a.statusBar().level !== 'PAUSED',
      30_000,
    );
  });

  it('shows the log channel', async () => {
    await vscode.commands.executeCommand('dockerStability.showLog');
  });
});
