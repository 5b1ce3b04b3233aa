import * as assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRunsFile, emptyAmounts, RunStore, type RunRecord } from '../../../src/core/runs/records';

function record(i: number, category = 'it'): RunRecord {
  return {
    id: `r${i}`,
    category,
    env: 'test',
    command: ['true'],
    startedAt: new Date(i * 1000).toISOString(),
    endedAt: new Date(i * 1000 + 500).toISOString(),
    durationMs: 500,
    exitCode: 0,
    baseline: emptyAmounts(),
    peak: { ...emptyAmounts(), containers: i },
    added: { ...emptyAmounts(), containers: i },
    samples: 1,
  };
}

describe('runs: RunStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-runs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lives at <DOCKER_STABILITY_HOME>/runs.jsonl', () => {
    assert.equal(defaultRunsFile({ DOCKER_STABILITY_HOME: dir }), join(dir, 'runs.jsonl'));
  });

  it('returns appended records in order, filtered by category', async () => {
    const store = new RunStore(join(dir, 'sub', 'runs.jsonl'));
    assert.deepEqual(await store.list(), []);
    await store.append(record(1));
    await store.append(record(2, 'e2e'));
    await store.append(record(3));
    assert.deepEqual(
      (await store.list()).map((r) => r.id),
      ['r1', 'r2', 'r3'],
    );
    assert.deepEqual(
      (await store.list({ category: 'it' })).map((r) => r.id),
      ['r1', 'r3'],
    );
  });

  it('skips corrupt lines with a warning and keeps the good ones', async () => {
    const file = join(dir, 'runs.jsonl');
    const warnings: string[] = [];
    const store = new RunStore(file, {
      logger: { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} },
    });
    await store.append(record(1));
    appendFileSync(file, '{"id": "half a line\n');
    appendFileSync(file, JSON.stringify({ ...record(2), added: { containers: -1 } }) + '\n');
    await store.append(record(3));
    assert.deepEqual(
      (await store.list()).map((r) => r.id),
      ['r1', 'r3'],
    );
    assert.ok(
      warnings.some((w) => /skipped 2 corrupt record/.test(w)),
      warnings.join('\n'),
    );
  });

  it('compacts to the newest `keep` records once the file grows past half again as many', async () => {
    const file = join(dir, 'runs.jsonl');
    const store = new RunStore(file, { keep: 4 });
    for (let i = 1; i <= 7; i++) await store.append(record(i));
    assert.deepEqual(
      (await store.list()).map((r) => r.id),
      ['r4', 'r5', 'r6', 'r7'],
    );
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 4);
  });

  it('keeps start records apart from finished runs: states say who started a run and whether it ended; compaction keeps open starts only', async () => {
    const file = join(dir, 'runs.jsonl');
    const warnings: string[] = [];
    const store = new RunStore(file, {
      keep: 2,
      logger: { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} },
    });
    const start = (id: string, pid: number) => ({
      kind: 'start' as const,
      id,
      category: 'it',
      env: 'test',
      command: ['npm'],
      startedAt: new Date(0).toISOString(),
      pid,
      hostId: 'h/b/1',
    });
    await store.appendStart(start('killed', 4242));
    for (let i = 1; i <= 4; i++) {
      await store.appendStart(start(`r${i}`, 100 + i));
      await store.append({ ...record(i), pid: 100 + i, hostId: 'h/b/1' });
    }
    assert.deepEqual(
      (await store.list()).map((r) => r.id),
      ['r3', 'r4'],
    );
    const states = await store.states();
    assert.deepEqual(states.get('killed'), { pid: 4242, hostId: 'h/b/1' });
    assert.equal(states.get('r3')?.endedAt, record(3).endedAt);
    assert.equal(states.get('r3')?.pid, 103);
    // Compacted at the fourth record: the killed run's start stays, the finished runs' starts go.
    const kinds = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind?: string; id: string });
    assert.ok(kinds.some((k) => k.kind === 'start' && k.id === 'killed'));
    assert.ok(!kinds.some((k) => k.kind === 'start' && k.id === 'r1'));
    assert.deepEqual(warnings, [], 'start records are not corrupt records');
  });
});
