import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { readAgentPresence } from '../../../src/core/agent/presence';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';
import { SharedMonitor } from '../../../src/core/monitor/shared';
import type { Sample } from '../../../src/core/monitor/types';
import { defaultHistoryFile } from '../../../src/core/paths';
import { renderStatus } from '../../../src/extension/statusText';
import { waitFor } from '../../helpers/run';
import { AgentWorld } from './helpers';

const ENDPOINT = 'unix:///var/run/docker.sock';

describe('a window and the agent (real engine)', function () {
  this.timeout(120_000);
  const world = new AgentWorld();
  after(() => world.dispose());

  it('a leading window hands sampling over to an agent that starts, follows it, and leads again when it stops', async () => {
    // The window as the extension builds it: defer while an agent runs for the endpoint.
    const window = new SharedMonitor(
      new DockerClient(parseHost(ENDPOINT, 'test')),
      { intervalMs: 500 },
      {
        historyFile: defaultHistoryFile(ENDPOINT, world.env),
        leaderDir: join(world.home, 'leaders'),
        defer: async () => (await readAgentPresence(ENDPOINT, world.env)).running,
      },
    );
    const seen: Sample[] = [];
    window.onSample((s) => seen.push(s));
    window.start();
    try {
      await waitFor('the window leads', () => (window.role === 'leader' ? true : undefined), 15_000, 100);
      const agent = world.start([
        '--interval',
        '1',
        '--label',
        'docker-stability.test-fixture=handover-none',
        '--no-scheduled-cleanup',
        '--no-auto-cleanup',
      ]);
      await agent.waitFor('started', 20_000);
      await waitFor('the window follows', () => (window.role === 'follower' ? true : undefined), 15_000, 100);
      await agent.waitFor('role', 20_000, (l) => l.role === 'leader');
      const from = seen.length;
      await waitFor(
        "the agent's samples reach the window",
        () => (seen.length >= from + 2 ? true : undefined),
        15_000,
        100,
      );
      assert.notEqual(window.state.status, 'paused', 'a window that handed over is not paused');

      assert.equal(await agent.terminate(), 0, agent.stderr);
      await waitFor(
        'the window leads again',
        () => (window.role === 'leader' ? true : undefined),
        30_000,
        100,
      );
    } finally {
      await window.dispose();
    }
  });

  it('the status bar tooltip says the window follows the agent', () => {
    const v = renderStatus({
      locks: [],
      following: true,
      agent: { pid: 42, since: '2026-12-01T20:00:00.000Z' },
    });
    assert.match(
      v.tooltip,
      /Following the docker-stability \*\*agent\*\* on this host \(pid 42, since 2026-12-01T20:00:00\.000Z\)/,
    );
    assert.doesNotMatch(v.tooltip, /another window/);
    assert.match(
      renderStatus({ locks: [], following: true }).tooltip,
      /Following the sampler of another window/,
    );
  });
});
