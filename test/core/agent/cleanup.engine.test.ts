import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { agentFile } from '../../../src/core/agent';
import { DockerFixture, TEST_LABEL, testClient } from '../../helpers/docker';
import { sleep } from '../../helpers/run';
import { AgentWorld } from './helpers';

const ENDPOINT = 'unix:///var/run/docker.sock';

describe('agent cleanup: scheduled, automatic, interrupted (real engine)', function () {
  this.timeout(120_000);
  const world = new AgentWorld();
  const f = new DockerFixture(testClient(60_000));
  const run = { 'docker-stability.run-id': `run-${f.id}` };
  // Every pass of these agents is scoped to this fixture: other suites share the daemon.
  const scope = ['--label', `${TEST_LABEL}=${f.id}`, '--older-than', '0'];

  after(async () => {
    await f.cleanup();
    await world.dispose();
  });

  async function ids(): Promise<Set<string>> {
    const cs = await f.client.listContainers({ label: [`${TEST_LABEL}=${f.id}`] });
    return new Set(cs.map((c) => c.Id));
  }

  /**
   * Orphans (owned by a run, never started) and what must survive in the same scope: a running
   * container of the run, an unowned stopped one, a protected stopped one of the run. Created a
   * second before the pass, since creation times have a one-second resolution.
   */
  async function fixture(orphans = 1): Promise<{ orphans: string[]; keep: string[] }> {
    const made = await Promise.all(
      Array.from({ length: orphans }, () => f.container({ labels: run, start: false })),
    );
    const keep = await Promise.all([
      f.container({ labels: run }),
      f.container({ start: false }),
      f.container({ labels: { ...run, 'docker-stability.protect': 'true' }, start: false }),
    ]);
    await sleep(1100);
    return { orphans: made.map((c) => c.id), keep: keep.map((c) => c.id) };
  }

  async function assertOutcome(fx: { orphans: string[]; keep: string[] }): Promise<void> {
    const now = await ids();
    for (const id of fx.orphans) assert.ok(!now.has(id), `orphan ${id.slice(0, 12)} removed`);
    for (const id of fx.keep) assert.ok(now.has(id), `${id.slice(0, 12)} kept`);
  }

  it('a scheduled pass removes the labelled orphan on time and nothing outside the rules', async () => {
    const fx = await fixture();
    const agent = world.start([
      '--cleanup-every',
      '3s',
      '--no-auto-cleanup',
      '--orphan-scan-every',
      '1s',
      '--interval',
      '1',
      ...scope,
    ]);
    try {
      const started = await agent.waitFor('started', 20_000);
      await agent.waitFor('orphans', 10_000, (l) => l.count === 1);
      const done = await agent.waitFor('cleanup-done', 20_000, (l) => l.trigger === 'scheduled');
      const after = Date.parse(done.time) - Date.parse(started.time);
      assert.ok(
        after >= 2500 && after < 12_000,
        `the first scheduled pass ran ${after} ms after start (every 3 s)`,
      );
      assert.equal(done.removed, 1, agent.dump());
      assert.equal(done.failed, 0);
      await assertOutcome(fx);
      await agent.waitFor('orphans', 10_000, (l) => l.count === 0);
      assert.equal(
        agent.events('cleanup-started').filter((l) => l.trigger === 'auto').length,
        0,
        'no automatic pass',
      );
    } finally {
      assert.equal(await agent.terminate(), 0, agent.stderr);
    }
  });

  it('an automatic pass runs once when the level reaches CRITICAL, then waits for the cooldown', async () => {
    const fx = await fixture();
    // One container counts as 100%: the level is EMERGENCY from the first sample on.
    const config = world.config({
      monitor: { capacities: { containers: 1 } },
      agent: { autoCleanup: { level: 'CRITICAL', cooldownMs: 600_000 } },
    });
    const agent = world.start(['--config', config, '--no-scheduled-cleanup', '--interval', '0.5', ...scope]);
    try {
      const started = await agent.waitFor('cleanup-started', 20_000);
      assert.equal(started.trigger, 'auto');
      assert.equal(started.level, 'EMERGENCY');
      const done = await agent.waitFor('cleanup-done', 20_000);
      assert.equal(done.removed, 1, agent.dump());
      await assertOutcome(fx);
      await sleep(3000); // six more samples, all EMERGENCY
      assert.equal(agent.events('cleanup-started').length, 1, `one pass within the cooldown:${agent.dump()}`);
    } finally {
      assert.equal(await agent.terminate(), 0, agent.stderr);
    }
  });

  it('SIGTERM during a pass lets it finish before exiting; a journal left by a killed agent is completed at the next start', async () => {
    const fx = await fixture(24);
    const agent = world.start(['--cleanup-every', '1s', '--no-auto-cleanup', '--interval', '1', ...scope]);
    await agent.waitFor('cleanup-started', 20_000);
    assert.equal(await agent.terminate(), 0, agent.stderr);
    const order = agent.lines
      .map((l) => l.event)
      .filter((e) => ['stopping', 'cleanup-done', 'stopped'].includes(e));
    assert.deepEqual(
      order,
      ['stopping', 'cleanup-done', 'stopped'],
      `the signal came during the pass, which finished first:${agent.dump()}`,
    );
    assert.equal(agent.events('cleanup-done')[0]?.removed, 24, agent.dump());
    await assertOutcome(fx);
    const journal = agentFile(ENDPOINT, 'cleanup', world.env);
    assert.ok(!existsSync(journal), 'no journal after a finished pass');

    // What a SIGKILL mid-pass leaves: the journal, and orphans not yet removed.
    const left = await fixture();
    mkdirSync(dirname(journal), { recursive: true });
    writeFileSync(
      journal,
      JSON.stringify({ trigger: 'scheduled', startedAt: '2026-01-01T00:00:00.000Z', pid: 1 }),
    );
    const next = world.start(['--no-scheduled-cleanup', '--no-auto-cleanup', '--interval', '1', ...scope]);
    try {
      const interrupted = await next.waitFor('cleanup-interrupted', 20_000);
      assert.equal(interrupted.startedAt, '2026-01-01T00:00:00.000Z');
      const done = await next.waitFor('cleanup-done', 20_000);
      assert.equal(done.trigger, 'resume');
      assert.equal(done.removed, 1, next.dump());
      await assertOutcome(left);
      assert.ok(!existsSync(journal), 'journal removed once the pass is complete');
    } finally {
      assert.equal(await next.terminate(), 0, next.stderr);
    }
  });
});
