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
