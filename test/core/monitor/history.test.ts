import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../../src/core/log';
import { buildSample } from '../../../src/core/monitor/formulas';
import { isSample, SampleHistory } from '../../../src/core/monitor/history';
import type { Sample } from '../../../src/core/monitor/types';
import { sampleInputs } from './sampleInputs';

/** A valid sample whose container count is `n`, so each one is recognisable. */
function sample(n: number): Sample {
  return buildSample(
    sampleInputs({
      sampledAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
      memoryBytes: 1000 + n,
      cpuPercent: n,
      containers: n,
      capacities: { containers: 1_000_000, networks: 31, volumes: 200 },
    }),
  );
}

function counts(h: SampleHistory): number[] {
  return h.toArray().map((s) => s.resources.containers.used);
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => undefined;
  return {
    warnings,
    debug: noop,
    info: noop,
    error: noop,
    warn: (m: string) => void warnings.push(m),
  } as Logger & { warnings: string[] };
}

async function lines(file: string): Promise<string[]> {
  return (await fsp.readFile(file, 'utf8')).split('\n').filter((l) => l.length > 0);
}

describe('SampleHistory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstab-history-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps only the newest N samples in order (a ring of N)', () => {
    const h = new SampleHistory(3);
    for (let i = 1; i <= 5; i++) h.push(sample(i));
    assert.deepEqual(counts(h), [3, 4, 5]);
    assert.equal(h.size, 3);
    assert.equal(h.latest()?.resources.containers.used, 5);
  });

  it('drops the oldest samples when resized smaller and rejects a non-positive size', () => {
    const h = new SampleHistory(5);
    for (let i = 1; i <= 5; i++) h.push(sample(i));
    h.resize(2);
    assert.deepEqual(counts(h), [4, 5]);
    h.push(sample(6));
    assert.deepEqual(counts(h), [5, 6]);
    assert.throws(() => h.resize(0), /history size must be a positive integer \(got 0\)/);
    assert.throws(() => new SampleHistory(2.5), /positive integer/);
  });

  it('round-trips through its JSON Lines file into a new instance (survives a reload)', async () => {
    const file = join(dir, 'nested', 'history.jsonl');
    const a = new SampleHistory(10, { file });
    for (let i = 1; i <= 4; i++) a.push(sample(i));
    await a.flush();
    assert.equal((await lines(file)).length, 4, 'one line per sample');

    const b = new SampleHistory(10, { file });
    assert.deepEqual(await b.load(), { loaded: 4, skipped: 0 });
    assert.deepEqual(b.toArray(), a.toArray());
  });

  it('loads nothing, without error, when the file does not exist', async () => {
    const h = new SampleHistory(10, { file: join(dir, 'none.jsonl') });
    assert.deepEqual(await h.load(), { loaded: 0, skipped: 0 });
    assert.equal(h.size, 0);
  });

  it('skips corrupt, partial and invalid lines with one warning and keeps every good record', async () => {
    const file = join(dir, 'history.jsonl');
    const good = [sample(1), sample(2), sample(3)];
    const badLevel = { ...sample(9), level: 'FINE' };
    const torn = JSON.stringify(sample(4)).slice(0, 40);
    const text = [
      JSON.stringify(good[0]),
      '{not json',
      JSON.stringify(good[1]),
      JSON.stringify(badLevel),
      JSON.stringify({ hello: 'world' }),
      '',
      JSON.stringify(good[2]),
      torn, // a write cut short by a crash: the last line has no end
    ].join('\n');
    await fsp.writeFile(file, text);
    const logger = recordingLogger();
    const h = new SampleHistory(10, { file, logger });
    assert.deepEqual(await h.load(), { loaded: 3, skipped: 4 });
    assert.deepEqual(counts(h), [1, 2, 3]);
    assert.equal(logger.warnings.length, 1);
    assert.match(logger.warnings[0] ?? '', /skipped 4 corrupt record\(s\), kept 3/);

    // appending after a torn line must not glue the new record onto it
    h.push(sample(5));
    await h.flush();
    const again = new SampleHistory(10, { file });
    assert.deepEqual(await again.load(), { loaded: 4, skipped: 0 }, 'the damaged file was rewritten clean');
    assert.deepEqual(counts(again), [1, 2, 3, 5]);
  });

  it('as a follower, passes over a half-written last line quietly and leaves the file to its writer', async () => {
    const file = join(dir, 'history.jsonl');
    const text = `${JSON.stringify(sample(1))}\n${JSON.stringify(sample(2))}\n${JSON.stringify(sample(3)).slice(0, 30)}`;
    await fsp.writeFile(file, text);
    const logger = recordingLogger();
    const follower = new SampleHistory(10, { file, logger });
    assert.deepEqual(await follower.load({ follower: true }), { loaded: 2, skipped: 0 });
    assert.deepEqual(logger.warnings, []);
    assert.equal(await fsp.readFile(file, 'utf8'), text, 'a follower never repairs the shared file');
  });

  it('keeps only the newest N of a longer file on load', async () => {
    const file = join(dir, 'history.jsonl');
    await fsp.writeFile(file, [1, 2, 3, 4, 5].map((n) => JSON.stringify(sample(n))).join('\n') + '\n');
    const h = new SampleHistory(2, { file });
    assert.deepEqual(await h.load(), { loaded: 2, skipped: 0 });
    assert.deepEqual(counts(h), [4, 5]);
  });

  it('compacts the file to the newest N once it grows past 1.5 N lines, atomically', async () => {
    const file = join(dir, 'history.jsonl');
    const h = new SampleHistory(10, { file });
    for (let i = 1; i <= 15; i++) h.push(sample(i));
    await h.flush();
    assert.equal((await lines(file)).length, 15, 'appends up to 1.5 N');
    h.push(sample(16));
    await h.flush();
    const after = (await lines(file)).map((l) => (JSON.parse(l) as Sample).resources.containers.used);
    assert.deepEqual(after, [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const leftovers = (await fsp.readdir(dir)).filter((f) => f !== 'history.jsonl');
    assert.deepEqual(leftovers, [], 'no temporary file is left behind');
  });

  it('flush(true) rewrites the file to exactly the buffer', async () => {
    const file = join(dir, 'history.jsonl');
    const h = new SampleHistory(3, { file });
    for (let i = 1; i <= 4; i++) h.push(sample(i));
    await h.flush(true);
    assert.deepEqual(
      (await lines(file)).map((l) => (JSON.parse(l) as Sample).resources.containers.used),
      [2, 3, 4],
    );
  });

  it('serialises writes: many pushes in one tick land whole and in order', async () => {
    const file = join(dir, 'history.jsonl');
    const h = new SampleHistory(1000, { file });
    for (let i = 1; i <= 200; i++) h.push(sample(i));
    await h.flush();
    const got = await lines(file);
    assert.equal(got.length, 200);
    assert.deepEqual(
      got.map((l) => (JSON.parse(l) as Sample).resources.containers.used),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });

  it('warns instead of throwing when the file cannot be written', async () => {
    const blocker = join(dir, 'a-file');
    await fsp.writeFile(blocker, 'x');
    const logger = recordingLogger();
    const h = new SampleHistory(10, { file: join(blocker, 'history.jsonl'), logger });
    h.push(sample(1));
    await h.flush();
    assert.equal(h.size, 1, 'the sample stays in memory');
    assert.match(logger.warnings.join('\n'), /could not be written/);
  });

  it('isSample accepts a built sample and rejects structural damage', () => {
    assert.ok(isSample(sample(1)));
    assert.ok(!isSample(null));
    assert.ok(!isSample({ ...sample(1), sampledAt: 'yesterday' }));
    const s = sample(1);
    const noCpu = { ...s, resources: { ...s.resources, cpu: undefined } };
    assert.ok(!isSample(noCpu));
    const nanPercent = {
      ...s,
      resources: { ...s.resources, memory: { ...s.resources.memory, percent: 'x' } },
    };
    assert.ok(!isSample(nanPercent));
  });
});
