import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonLines } from '../../../src/core/util/jsonLines';

interface Rec {
  n: number;
}
const isRec = (x: unknown): x is Rec =>
  typeof x === 'object' && x !== null && typeof (x as Record<string, unknown>).n === 'number';

describe('readJsonLines: a JSON Lines file others may write to', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'dstab-jsonl-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('keeps the lines that parse and pass the guard, and counts the others', async () => {
    const file = join(dir, 'a.jsonl');
    await fsp.writeFile(file, '{"n":1}\nnot json\n\n{"m":2}\n[1]\nnull\n{"n":3}\n');
    const r = await readJsonLines(file, isRec);
    assert.deepEqual(r, { records: [{ n: 1 }, { n: 3 }], skipped: 4, tornTail: false, truncated: false });
  });

  it('is undefined for a missing file', async () => {
    assert.equal(await readJsonLines(join(dir, 'none.jsonl'), isRec), undefined);
  });

  it('reports a truncated last line, and leaves it alone when asked (a writer mid-append)', async () => {
    const file = join(dir, 'torn.jsonl');
    await fsp.writeFile(file, '{"n":1}\n{"n":2');
    assert.deepEqual(await readJsonLines(file, isRec), {
      records: [{ n: 1 }],
      skipped: 1,
      tornTail: true,
      truncated: false,
    });
    assert.deepEqual(await readJsonLines(file, isRec, { dropPartialTail: true }), {
      records: [{ n: 1 }],
      skipped: 0,
      tornTail: true,
      truncated: false,
    });
  });

  it('treats a line of __proto__ as data: no prototype is touched, the guard decides', async () => {
    const file = join(dir, 'proto.jsonl');
    await fsp.writeFile(file, '{"__proto__":{"n":7,"polluted":true}}\n{"__proto__":null,"n":4}\n');
    const r = await readJsonLines(file, isRec);
    assert.equal(r?.records.length, 1);
    assert.equal(r?.records[0]?.n, 4);
    assert.equal(r?.skipped, 1, 'an inherited n is not an own record field');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('reads only the newest whole lines of a file over the bound', async () => {
    const file = join(dir, 'huge.jsonl');
    const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ n: i }));
    await fsp.writeFile(file, lines.join('\n') + '\n');
    const r = await readJsonLines(file, isRec, { maxBytes: 1000 });
    assert.ok(r);
    assert.equal(r.truncated, true);
    assert.equal(r.skipped, 0, 'the cut-off first line is not counted as damage');
    assert.ok(r.records.length > 50 && r.records.length < 120, `${r.records.length} records`);
    assert.deepEqual(r.records.at(-1), { n: 9999 });
    const first = r.records[0]?.n ?? -1;
    assert.deepEqual(
      r.records.map((x) => x.n),
      Array.from({ length: 10_000 - first }, (_, i) => first + i),
      'whole consecutive lines up to the end',
    );
  });

  it('keeps the first line when the bound falls exactly on a line start', async () => {
    const file = join(dir, 'edge.jsonl');
    await fsp.writeFile(file, '{"n":1}\n{"n":2}\n');
    const r = await readJsonLines(file, isRec, { maxBytes: 8 });
    assert.deepEqual(r?.records, [{ n: 2 }]);
    assert.equal(r?.truncated, true);
  });

  it('refuses a symbolic link instead of following it', async () => {
    const target = join(dir, 'target.jsonl');
    await fsp.writeFile(target, '{"n":1}\n');
    const link = join(dir, 'link.jsonl');
    await fsp.symlink(target, link);
    await assert.rejects(readJsonLines(link, isRec), /symbolic link/);
  });

  it('refuses a FIFO at once instead of blocking on it', async function () {
    if (process.platform === 'win32') this.skip();
    const fifo = join(dir, 'fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    await assert.rejects(readJsonLines(fifo, isRec), /not a regular file/);
    assert.ok(Date.now() - started < 2000);
  });

  it('refuses a directory', async () => {
    await assert.rejects(readJsonLines(dir, isRec), /not a regular file|EISDIR/);
  });
});
