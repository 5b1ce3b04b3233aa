// A docker-stability agent on the same host and state folder: the window stops sampling and
// follows it, the tooltip says "agent", and the window samples again once the agent stops.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { api, waitFor } from './extensionApi';

const CLI = resolve(__dirname, '../../../dist/cli.js');

describe('a running agent', function () {
  this.timeout(90_000);
  let agent: ChildProcess | undefined;

  afterEach(() => {
    if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  });

  it('is followed by the window (tooltip "agent"), which samples again when it stops', async () => {
    const a = await api();
    await waitFor('a first sample', () => a.model.latest);
    // The extension host's environment: its scratch DOCKER_STABILITY_HOME, so the same state folder.
    agent = spawn(
      process.execPath,
      [
        CLI,
        'agent',
        '--interval',
        '1',
        '--no-scheduled-cleanup',
        '--no-auto-cleanup',
        '--label',
        'docker-stability.test-fixture=ext-agent-none',
      ],
      {
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: 'ignore',
      },
    );
    const pid = agent.pid;
    await waitFor('the window to see the agent', () => a.model.agent?.pid === pid, 30_000);
    await waitFor('the window to follow', () => a.services.monitor?.role === 'follower', 30_000);
    assert.match(
      a.statusBar().tooltip,
      new RegExp(`Following the docker-stability \\*\\*agent\\*\\* on this host \\(pid ${pid},`),
    );
    const before = a.model.sampleCount;
    await waitFor("the agent's samples in the window", () => a.model.sampleCount > before + 1, 30_000);

    const exited = new Promise((done) => agent?.once('exit', done));
    agent.kill('SIGTERM');
    await exited;
    await waitFor('the window to notice the agent stopped', () => a.model.agent === undefined, 30_000);
    await waitFor('the window to sample again', () => a.services.monitor?.role === 'leader', 30_000);
    assert.doesNotMatch(a.statusBar().tooltip, /\*\*agent\*\*/);
  });
});
