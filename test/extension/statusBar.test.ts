// The status bar follows the settings live: thresholds that the current load crosses change
// the level, text and background at once; a dead endpoint shows "Docker unreachable" and the
// item comes back when the endpoint does.
import * as assert from 'node:assert/strict';
import { rate } from '../../src/core/levels';
import { DockerFixture } from '../helpers/docker';
import { api, resetSettings, setSetting, waitFor } from './extensionApi';

// Reset in this order so that every intermediate state keeps warning < critical < emergency.
const keys = [
  'thresholds.emergency',
  'thresholds.critical',
  'thresholds.warning',
  'capacity.containers',
  'capacity.networks',
  'capacity.volumes',
  'endpoint',
];

describe('status bar', function () {
  this.timeout(60_000);
  const fx = new DockerFixture();
  afterEach(() => resetSettings(keys));
  after(() => fx.cleanup());

  it('shows a level and its driving figure once the first sample arrives', async () => {
    const a = await api();
    const view = await waitFor('a first sample', () => a.model.latest && a.statusBar());
    assert.match(
      view.text,
      /^\$\([a-z-]+\) (SAFE|WARNING|CRITICAL|EMERGENCY) (memory|CPU|containers|networks|volumes|disk) \d+%/,
    );
    assert.match(view.tooltip, /\| memory \|/);
    assert.match(view.tooltip, /command:dockerStability\.openDashboard/);
  });

  it('turns EMERGENCY with the error background, then CRITICAL with the warning background, as thresholds cross the current load', async () => {
    const a = await api();
    // Other tests share the daemon: huge count capacities keep containers, networks and volumes
    // far below 100% whatever they create, and this test's own network keeps networks above 0.
    await fx.network();
    await waitFor('a sample counting the network', () => (a.model.latest?.resources.networks.used ?? 0) > 0);
    await setSetting('capacity.containers', 100000);
    await setSetting('capacity.networks', 10000);
    await setSetting('capacity.volumes', 100000);
    await setSetting('thresholds.warning', 0);
    await setSetting('thresholds.critical', 0.0001);
    await setSetting('thresholds.emergency', 0.0002);
    const hot = await waitFor('EMERGENCY', () => a.statusBar().level === 'EMERGENCY' && a.statusBar());
    assert.equal(hot.background, 'error');
    assert.match(hot.text, /EMERGENCY/);

    await setSetting('thresholds.emergency', 100);
    const warm = await waitFor('CRITICAL', () => a.statusBar().level === 'CRITICAL' && a.statusBar());
    assert.equal(warm.background, 'warning');

    await resetSettings(keys);
    await waitFor(
      'the defaults again',
      () => a.config().monitor.thresholds.warning === 50 && a.config().monitor.capacities.networks === 31,
    );
    const latest = await waitFor(
      'a sample judged by the defaults',
      () => a.model.latest?.resources.networks.capacity === 31 && a.model.latest,
    );
    assert.equal(latest.resources.networks.level, rate(latest.resources.networks.percent));
    if (a.model.state.status !== 'down') assert.equal(a.statusBar().level, latest.level);
  });

  it('says "Docker unreachable" with the reason for a dead endpoint and recovers when the setting is cleared', async () => {
    const a = await api();
    await setSetting('endpoint', 'unix:///nonexistent/docker-stability-test.sock');
    const down = await waitFor('unreachable', () => a.statusBar().level === 'UNREACHABLE' && a.statusBar());
    assert.match(down.text, /Docker unreachable/);
    assert.match(down.tooltip, /nonexistent\/docker-stability-test\.sock/);
    assert.match(down.tooltip, /Reason: /);
    await setSetting('endpoint', undefined);
    // A daemon loaded by other tests may time out a sample now and then: allow for a retry.
    await waitFor(
      'a level again',
      () => a.model.latest && !['UNREACHABLE', 'STARTING'].includes(a.statusBar().level) && a.statusBar(),
      45_000,
    );
  });
});
