import { strict as assert } from 'node:assert';
import type { DockerEvent } from '../../../src/core/docker/client';
import { healthDeadlineMs, IncidentDetector } from '../../../src/core/incidents/detector';
import { countByKind, incidentsSince, isIncident, type Incident } from '../../../src/core/incidents/types';
import { buildSample } from '../../../src/core/monitor/formulas';
import { sampleInputs } from '../monitor/sampleInputs';

const ID = 'abcdef0123456789'.repeat(4);
const T0 = Date.parse('2026-12-01T10:00:00Z');

function ev(action: string, atMs: number, attrs: Record<string, string> = {}, id = ID): DockerEvent {
  return {
    Type: 'container',
    Action: action,
    Actor: { ID: id, Attributes: { name: 'db', 'com.docker.compose.project': 'shop-test', ...attrs } },
    time: Math.floor(atMs / 1000),
    timeNano: atMs * 1e6,
  };
}

async function feed(d: IncidentDetector, events: DockerEvent[]): Promise<Incident[]> {
  const out: Incident[] = [];
  for (const e of events) out.push(...(await d.onEvent(e)));
  return out;
}

describe('incident detector', () => {
  it('makes one OOM incident of an oom event and the die it causes, with the owner and the last figures', async () => {
    const d = new IncidentDetector({
      endpoint: 'e',
      inspectOomKilled: () => Promise.reject(new Error('not asked')),
    });
    d.observeSample(buildSample(sampleInputs()));
    const found = await feed(d, [
      ev('oom', T0),
      ev('oom', T0 + 200),
      ev('die', T0 + 300, { exitCode: '137' }),
    ]);
    assert.equal(found.length, 1);
    const i = found[0] as Incident;
    assert.equal(i.kind, 'oom');
    assert.equal(i.at, '2026-12-01T10:00:00.000Z');
    assert.deepEqual(i.container, {
      id: ID.slice(0, 12),
      name: 'db',
      owner: { kind: 'compose', id: 'shop-test' },
    });
    assert.equal(i.mainProcessKilled, false);
    assert.deepEqual(i.figures, {
      sampledAt: '2026-01-02T03:04:05.000Z',
      level: 'SAFE',
      memoryPercent: 12.5,
      cpuPercent: 10,
    });
    assert.ok(isIncident(JSON.parse(JSON.stringify(i))), 'survives a round trip through the file');
  });

  it('asks the daemon about a die with 137 and no oom event: OOMKilled is an incident, a plain SIGKILL is not', async () => {
    const asked: string[] = [];
    let killed = true;
    const d = new IncidentDetector({
      endpoint: 'e',
      inspectOomKilled: (id) => (asked.push(id), Promise.resolve(killed)),
    });
    assert.equal((await feed(d, [ev('die', T0, { exitCode: '137' })]))[0]?.mainProcessKilled, true);
    killed = false;
    assert.deepEqual(
      await feed(d, [ev('die', T0 + 60_000, { exitCode: '137' }), ev('die', T0 + 70_000, { exitCode: '1' })]),
      [],
    );
    assert.equal(asked.length, 2, 'only for exit code 137');
  });

  it('reports a restart loop once per window after N die/start pairs, not a container started once', async () => {
    const d = new IncidentDetector({ endpoint: 'e', restartLoopCount: 3, restartLoopWindowMs: 60_000 });
    const cycle = (t: number) => [ev('die', t, { exitCode: '1' }), ev('start', t + 100)];
    assert.deepEqual(await feed(d, [ev('start', T0 - 1000), ...cycle(T0), ...cycle(T0 + 1000)]), []);
    const third = await feed(d, cycle(T0 + 2000));
    assert.equal(third.length, 1);
    assert.equal(third[0]?.kind, 'restart-loop');
    assert.equal(third[0]?.restarts, 3);
    assert.deepEqual(await feed(d, [...cycle(T0 + 3000), ...cycle(T0 + 4000)]), [], 'once per window');
    const later = await feed(d, [...cycle(T0 + 200_000), ...cycle(T0 + 201_000), ...cycle(T0 + 202_000)]);
    assert.equal(later.length, 1, 'a loop still going a window later is reported again');
  });

  it('reports the transition to unhealthy once, and again after the container was healthy', async () => {
    const d = new IncidentDetector({ endpoint: 'e' });
    const found = await feed(d, [
      ev('health_status: unhealthy', T0),
      ev('health_status: unhealthy', T0 + 1000),
      ev('health_status: healthy', T0 + 2000),
      ev('health_status: unhealthy', T0 + 3000),
    ]);
    assert.deepEqual(
      found.map((i) => i.kind),
      ['unhealthy', 'unhealthy'],
    );
  });

  it('reports a daemon that was up going unreachable (with the reason) and recovering (with the downtime), once each', () => {
    let now = T0;
    const d = new IncidentDetector({ endpoint: 'e', now: () => now });
    const down = {
      status: 'down' as const,
      endpoint: 'e',
      since: 'x',
      reason: 'connection refused',
      retryInMs: 1000,
    };
    assert.deepEqual(d.onState(down), [], 'never up: not an incident of its own');
    assert.deepEqual(d.onState({ status: 'up', endpoint: 'e', since: 'x' }), []);
    const lost = d.onState(down);
    assert.equal(lost[0]?.kind, 'daemon-unreachable');
    assert.equal(lost[0]?.reason, 'connection refused');
    now += 5000;
    assert.deepEqual(d.onState({ ...down, retryInMs: 2000 }), [], 'still down');
    const back = d.onState({ status: 'up', endpoint: 'e', since: 'y' });
    assert.equal(back[0]?.kind, 'daemon-recovered');
    assert.equal(back[0]?.downMs, 5000);
  });

  it('ignores other event types and actions, and filters and counts incidents', async () => {
    const d = new IncidentDetector({ endpoint: 'e' });
    assert.deepEqual(
      await feed(d, [
        { Type: 'network', Action: 'create', Actor: { ID: 'n' } },
        ev('exec_start: sh', T0),
        ev('create', T0),
      ]),
      [],
    );
    const all: Incident[] = [
      { at: '2026-12-01T09:00:00.000Z', kind: 'oom', endpoint: 'e' },
      { at: '2026-12-01T10:00:00.000Z', kind: 'unhealthy', endpoint: 'e' },
    ];
    assert.deepEqual(
      incidentsSince(all, T0).map((i) => i.kind),
      ['unhealthy'],
    );
    assert.equal(countByKind(all).oom, 1);
    assert.equal(countByKind(all)['restart-loop'], 0);
    assert.equal(isIncident({ at: 'never', kind: 'oom', endpoint: 'e' }), false);
    assert.equal(isIncident({ at: all[0]?.at, kind: 'meltdown', endpoint: 'e' }), false);
  });

  it('reports a container still starting its healthcheck past its bound once, and not one that decided', async () => {
    let now = T0;
    const d = new IncidentDetector({ endpoint: 'e', now: () => now });
    const db = { id: ID.slice(0, 12), name: 'db', owner: { kind: 'compose' as const, id: 'shop-test' } };
    const other = 'fedcba9876543210'.repeat(4);
    d.timeHealth(ID, db, T0, 30_000);
    d.timeHealth(other, { ...db, id: other.slice(0, 12) }, T0, 30_000);
    now = T0 + 29_000;
    assert.deepEqual(d.checkHealthDeadlines(), []);
    await feed(d, [ev('health_status: healthy', T0 + 29_500, {}, other)]);
    now = T0 + 31_000;
    const found = d.checkHealthDeadlines();
    assert.equal(found.length, 1);
    assert.equal(found[0]?.kind, 'never-healthy');
    assert.deepEqual(found[0]?.container, db);
    assert.equal(found[0]?.startingMs, 31_000);
    assert.equal(found[0]?.boundMs, 30_000);
    now = T0 + 60_000;
    assert.deepEqual(d.checkHealthDeadlines(), [], 'once');
    assert.equal(isIncident(found[0]), true);
  });

  it("bounds starting by the container's healthcheck: start period + (retries + 1) x interval + timeout", () => {
    const s = 1e9;
    assert.equal(
      healthDeadlineMs({ Interval: 2 * s, Timeout: 1 * s, Retries: 3, StartPeriod: 10 * s }),
      10_000 + 8000 + 1000,
    );
    assert.equal(healthDeadlineMs(undefined), 4 * 30_000 + 30_000, "Docker's defaults");
  });

  it('reports a daemon restart when its start time changes, not on the first reading or a tick of rounding', () => {
    const d = new IncidentDetector({ endpoint: 'e', now: () => T0 });
    assert.deepEqual(d.observeDaemonStart(T0 - 60_000), []);
    assert.deepEqual(d.observeDaemonStart(T0 - 59_990), []);
    const found = d.observeDaemonStart(T0 - 1000);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.kind, 'daemon-restarted');
    assert.equal(found[0]?.startedAt, new Date(T0 - 1000).toISOString());
    assert.equal(found[0]?.previousStartedAt, new Date(T0 - 59_990).toISOString());
    assert.deepEqual(d.observeDaemonStart(T0 - 1000), []);
  });
});
