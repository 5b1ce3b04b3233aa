// The status bar follows the settings live: thresholds that the current load crosses change
// the level, text and background at once; a dead endpoint shows "Docker unreachable" and the
// item comes back when the endpoint does.
import * as assert from 'node:assert/strict';
import { api, resetSettings, setSetting, waitFor } from './extensionApi';

const keys = ['thresholds.warning', 'thresholds.critical', 'thresholds.emergency', 'endpoint'];

describe('status bar', function () {
  this.timeout(60_000);
  afterEach(() => resetSettings(keys));

  it('shows a level and its driving figure once the first sample arrives', async () => {
    const a = await api();
    const view = await waitFor('a first sample', () => a.model.latest && a.statusBar());
    assert.match(view.text, /^\$\([a-z-]+\) (SAFE|WARNING|CRITICAL|EMERGENCY) (memory|CPU|containers|networks|volumes) \d+%/);
    assert.match(view.tooltip, /\| memory \|/);
    assert.match(view.tooltip, /command:dockerStability\.openDashboard/);
  });

  it('turns EMERGENCY with the error background when the thresholds drop below the current load, and back', async () => {
    const a = await api();
    await waitFor('a first sample', () => a.model.latest);
    // Every daemon has at least the bridge, host and none networks: 3 of 31 is about 10%.
    await setSetting('thresholds.warning', 0);
    await setSetting('thresholds.critical', 0.001);
    await setSetting('thresholds.emergency', 0.002);
    const hot = await waitFor('EMERGENCY', () => a.statusBar().level === 'EMERGENCY' && a.statusBar()).catch((err: Error) => {
      const m = a.services.monitor;
      throw new Error(`${err.message}: status ${JSON.stringify(a.statusBar().text)} ${a.statusBar().level}, state ${a.model.state.status}, model samples ${a.model.sampleCount}, history ${m?.history.size}, role ${m?.role}`);
    });
    assert.equal(hot.background, 'error');
    assert.match(hot.text, /EMERGENCY/);

    await setSetting('thresholds.emergency', 100);
    const warm = await waitFor('CRITICAL', () => a.statusBar().level === 'CRITICAL' && a.statusBar());
    assert.equal(warm.background, 'warning');

    await resetSettings(keys);
    const normal = await waitFor('defaults again', () => a.config().monitor.thresholds.warning === 50 && a.statusBar().level !== 'CRITICAL' && a.statusBar().level !== 'EMERGENCY' && a.statusBar());
    assert.notEqual(normal.background, 'error');
  });

  it('says "Docker unreachable" with the reason for a dead endpoint and recovers when the setting is cleared', async () => {
    const a = await api();
    await setSetting('endpoint', 'unix:///nonexistent/docker-stability-test.sock');
    const down = await waitFor('unreachable', () => a.statusBar().level === 'UNREACHABLE' && a.statusBar());
    assert.match(down.text, /Docker unreachable/);
    assert.match(down.tooltip, /nonexistent\/docker-stability-test\.sock/);
    assert.match(down.tooltip, /Reason: /);
    await setSetting('endpoint', undefined);
    await waitFor('a level again', () => a.model.latest && !['UNREACHABLE', 'STARTING'].includes(a.statusBar().level) && a.statusBar());
  });
});
