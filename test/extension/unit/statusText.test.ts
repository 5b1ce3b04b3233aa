import * as assert from 'node:assert/strict';
import { rate, type Level, type ResourceKind } from '../../../src/core/levels';
import type { Forecast } from '../../../src/core/monitor/forecast';
import type { Sample } from '../../../src/core/monitor/types';
import { escapeMd, renderStatus } from '../../../src/extension/statusText';
import type { LockView } from '../../../src/shared/protocol';
import { RISING_FORECASTS } from '../../helpers/forecasts';

function sample(percents: Partial<Record<ResourceKind, number>>): Sample {
  const fig = (p: number) => ({ used: p, capacity: 100, percent: p, level: rate(p) });
  const resources = {
    memory: fig(percents.memory ?? 10),
    cpu: fig(percents.cpu ?? 10),
    containers: fig(percents.containers ?? 10),
    networks: fig(percents.networks ?? 10),
    volumes: fig(percents.volumes ?? 10),
  };
  const order: Level[] = ['SAFE', 'WARNING', 'CRITICAL', 'EMERGENCY'];
  const level = Object.values(resources).reduce<Level>(
    (w, f) => (order.indexOf(f.level) > order.indexOf(w) ? f.level : w),
    'SAFE',
  );
  return {
    endpoint: 'unix:///var/run/docker.sock',
    sampledAt: '2026-11-27T17:00:00.000Z',
    level,
    resources,
    running: 1,
    source: { cgroup: 1, api: 0, failed: 0 },
    durationMs: 12,
  };
}

/** Lock "test", held (not stale, not ours) by `holder`. */
function heldBy(holder: NonNullable<LockView['holder']>): LockView {
  return { name: 'test', held: true, stale: false, mine: false, holder };
}

describe('status bar text', () => {
  it('shows the overall level and the figure that drives it', () => {
    const v = renderStatus({
      sample: sample({ memory: 62, cpu: 40 }),
      locks: [],
      state: { status: 'up', endpoint: 'e', since: 'x' },
    });
    assert.equal(v.text, '$(pulse) WARNING memory 62%');
    assert.equal(v.level, 'WARNING');
    assert.equal(v.background, undefined);
  });

  it('uses the warning background at CRITICAL and the error background at EMERGENCY only', () => {
    assert.equal(renderStatus({ sample: sample({ cpu: 80 }), locks: [] }).background, 'warning');
    assert.equal(renderStatus({ sample: sample({ networks: 95 }), locks: [] }).background, 'error');
    assert.match(
      renderStatus({ sample: sample({ networks: 95 }), locks: [] }).text,
      /EMERGENCY networks 95%/,
    );
    assert.equal(renderStatus({ sample: sample({}), locks: [] }).background, undefined);
  });

  it('names the three heaviest containers and their owners in the tooltip, escaped', () => {
    const MiB = 1024 * 1024;
    const s: Sample = {
      ...sample({ memory: 80 }),
      consumers: [
        {
          id: 'a'.repeat(12),
          name: 'db_1',
          owner: { kind: 'compose', id: 'shop-test' },
          memoryBytes: 300 * MiB,
          cpuPercent: 12.5,
        },
        {
          id: 'b'.repeat(12),
          name: 'worker',
          owner: { kind: 'run', id: 'r1', category: 'unit' },
          memoryBytes: 100 * MiB,
          cpuPercent: 1,
        },
        {
          id: 'c'.repeat(12),
          name: 'tc',
          owner: { kind: 'testcontainers', id: '9b1e0f2a-x' },
          memoryBytes: 50 * MiB,
          cpuPercent: 0,
        },
        {
          id: 'd'.repeat(12),
          name: 'fourth',
          owner: { kind: 'other', id: '' },
          memoryBytes: 10 * MiB,
          cpuPercent: 0,
        },
      ],
    };
    const tip = renderStatus({ sample: s, locks: [] }).tooltip;
    assert.match(tip, /Top 3 by memory/);
    assert.match(tip, /\| db\\_1 \| compose shop-test \| 300 MiB \| 12\.5% \|/);
    assert.match(tip, /\| worker \| run r1 \\\(unit\\\) \| 100 MiB/);
    assert.doesNotMatch(tip, /fourth/, 'only three');
    assert.doesNotMatch(
      renderStatus({ sample: sample({}), locks: [] }).tooltip,
      /by memory/,
      'no table without figures',
    );
  });

  it('counts the last hour of incidents by kind in the tooltip and names the latest', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    const owner = { kind: 'compose' as const, id: 'shop_test' };
    const incidents = [
      { at: '2026-12-01T08:00:00.000Z', kind: 'oom' as const, endpoint: 'e' },
      {
        at: '2026-12-01T09:30:00.000Z',
        kind: 'unhealthy' as const,
        endpoint: 'e',
        container: { id: 'a', name: 'web', owner },
      },
      {
        at: '2026-12-01T09:55:00.000Z',
        kind: 'oom' as const,
        endpoint: 'e',
        container: { id: 'b', name: 'db*', owner },
      },
    ];
    const tip = renderStatus({ sample: sample({}), locks: [], incidents, now }).tooltip;
    assert.match(
      tip,
      /\*\*2 incidents\*\* in the last hour: 1 OOM kill, 1 unhealthy\. Last: OOM kill of db\\\* \(compose shop\\_test\), 5m 00s ago\./,
    );
    assert.doesNotMatch(
      renderStatus({ sample: sample({}), locks: [], incidents: incidents.slice(0, 1), now }).tooltip,
      /incident/,
      'older ones are not counted',
    );
  });

  it('says when the trend reaches the next level, soonest first, or honestly that it does not or cannot tell', () => {
    const tip = (forecasts: Forecast[]) => renderStatus({ sample: sample({}), locks: [], forecasts }).tooltip;
    const rising = tip([...RISING_FORECASTS, { kind: 'volumes', trend: 'steady', perMinute: 0, percent: 3 }]);
    assert.match(
      rising,
      /\*\*memory WARNING\*\* in about 4m 00s at this rate \(\+1\.5 points a minute\)\.\s+\n\*\*CPU CRITICAL\*\* in about 10m 00s/,
    );
    assert.match(
      tip([{ kind: 'memory', trend: 'steady', perMinute: 0, percent: 3 }]),
      /Trend: no level change within 30m 00s at this rate/,
    );
    assert.match(
      tip([{ kind: 'memory', trend: 'too-little-data', samples: 2 }]),
      /Trend: too little data yet/,
    );
  });

  it('says Docker unreachable with the reason in the tooltip', () => {
    const v = renderStatus({
      locks: [],
      state: {
        status: 'down',
        endpoint: 'unix:///nope.sock',
        since: 'now',
        reason: 'socket not found',
        retryInMs: 4000,
      },
    });
    assert.equal(v.level, 'UNREACHABLE');
    assert.match(v.text, /Docker unreachable/);
    assert.match(v.tooltip, /socket not found/);
    assert.match(v.tooltip, /unix:\/\/\/nope\.sock/);
  });

  it('adds a lock icon and the holder while a lock is held, and lists it in the tooltip with command links', () => {
    const v = renderStatus({
      sample: sample({}),
      locks: [heldBy({ user: 'alice', host: 'ci', pid: 7, why: 'e2e *run*', acquiredAt: 'x' })],
    });
    assert.match(v.text, /\$\(lock\) alice$/);
    assert.match(v.tooltip, /alice@ci \(pid 7\)/);
    assert.match(v.tooltip, /e2e \\\*run\\\*/, 'holder text is escaped');
    assert.match(v.tooltip, /command:dockerStability\.openDashboard/);
    assert.match(v.tooltip, /command:dockerStability\.cleanUpNow/);
    for (const kind of ['memory', 'CPU', 'containers', 'networks', 'volumes'])
      assert.match(v.tooltip, new RegExp(`\\| ${kind} \\|`));
  });

  it('escapes markdown and html from outside text', () => {
    assert.equal(escapeMd('[x](command:evil) <b>'), '\\[x\\]\\(command:evil\\) \\<b\\>');
  });

  it('drops control characters from lock holders (the lock folder may be shared) in the status text and the tooltip', () => {
    const hostile = '\x1b]0;pwned\x07mallory\x1b[2J\n| forged |';
    const v = renderStatus({
      sample: sample({}),
      locks: [heldBy({ user: hostile, host: `ci${'\x9b'}31m`, pid: 7, why: `why\x1b[31m`, acquiredAt: 'x' })],
    });
    assert.match(v.text, /\$\(lock\) mallory\| forged \|$/);
    for (const text of [v.text, v.tooltip])
      // eslint-disable-next-line no-control-regex -- the test looks for control characters
      assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, JSON.stringify(text));
    assert.match(v.tooltip, /mallory\\\| forged \\\|@ci \(pid 7\) — why/);
  });
  it('lists the waiters queued for a lock in the tooltip (three, then a count), escaped', () => {
    const w = (position: number) => ({
      position,
      mode: 'shared' as const,
      who: { user: `u${position}`, host: 'ci', pid: 10 + position, why: 'run *tests*' },
      since: '2026-12-02T12:00:00.000Z',
      waitingFor: 'exclusive holder alice@ci (pid 7)',
      blocked: position === 2,
      reserved: false,
    });
    const v = renderStatus({
      sample: sample({}),
      locks: [
        {
          name: 'test',
          held: true,
          stale: false,
          mine: false,
          holder: { user: 'alice', host: 'ci', pid: 7, why: 'e2e', acquiredAt: 'x' },
          queue: [1, 2, 3, 4].map(w),
          queueLength: 6,
        },
      ],
    });
    assert.match(v.tooltip, /\*\*test\*\*: 6 waiting/);
    assert.match(
      v.tooltip,
      /#1 shared: u1@ci \(pid 11\) — run \\\*tests\\\*, waits for exclusive holder alice@ci \\\(pid 7\\\)/,
    );
    assert.match(v.tooltip, /#2 shared, no room yet: u2@ci/);
    assert.match(v.tooltip, /u3@ci/);
    assert.doesNotMatch(v.tooltip, /u4@ci/);
    assert.match(v.tooltip, /and 3 more/);
    assert.doesNotMatch(renderStatus({ sample: sample({}), locks: [] }).tooltip, /waiting/);
  });

  it('names disk in the text and the tooltip when its figure drives the level', () => {
    const GiB = 1024 ** 3;
    const base = sample({ memory: 80 });
    const s: Sample = {
      ...base,
      disk: {
        used: 88 * GiB,
        capacity: 100 * GiB,
        percent: 88,
        level: 'CRITICAL',
        source: 'statfs',
        measuredAt: '2026-11-27T16:55:00.000Z',
      },
    };
    const v = renderStatus({ sample: s, locks: [] });
    assert.equal(v.text, '$(warning) CRITICAL disk 88%');
    assert.match(v.tooltip, /\| disk \| 88\.0 GiB \| 100 GiB \| 88% \| CRITICAL \|/);
    // without a disk figure the tooltip has no disk row and memory drives
    const without = renderStatus({ sample: base, locks: [] });
    assert.equal(without.text, '$(warning) CRITICAL memory 80%');
    assert.doesNotMatch(without.tooltip, /\| disk \|/);
  });
  it('says in the tooltip how often the stats budget lets it read the containers, escaped', () => {
    const s: Sample = {
      ...sample({}),
      budget: {
        statsEveryMs: 6000,
        limitPercent: 5,
        costPercent: 14.2,
        measure: 'estimate',
        statsAt: '2026-11-27T16:59:58.000Z',
        reason: 'sampling containers every 6 s to stay under 5% CPU',
      },
    };
    assert.match(
      renderStatus({ sample: s, locks: [] }).tooltip,
      /\nSampling containers every 6 s to stay under 5% CPU\./,
    );
    assert.doesNotMatch(renderStatus({ sample: sample({}), locks: [] }).tooltip, /ampling containers/);
  });
});
