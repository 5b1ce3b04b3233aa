import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile } from '../../../src/core/util/fs';
import { within } from '../../helpers/run';

const hasCode = (code: string) => (err: NodeJS.ErrnoException) => err.code === code;

describe('readRegularFile: exact content of small regular files, nothing else', function () {
  this.timeout(20_000);
  const maxBytes = 64;
  let dir = '';

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ds-read-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fileOf = (name: string, content: string | Buffer): string => {
    const f = join(dir, name);
    writeFileSync(f, content);
    return f;
  };

  for (const size of [0, 1, maxBytes - 1, maxBytes]) {
    it(`returns the exact content of a file of ${size} bytes (cap ${maxBytes})`, async () => {
      // Not all one letter: a wrong offset or length shows.
      const content = Array.from({ length: size }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
      assert.equal(await readRegularFile(fileOf('f', content), maxBytes), content);
    });
  }

  it('counts the cap in bytes: multi-byte text of exactly maxBytes is read whole, one byte more is refused', async () => {
    const exact = 'é'.repeat(maxBytes / 2);
    assert.equal(Buffer.byteLength(exact), maxBytes);
    assert.equal(await readRegularFile(fileOf('exact', exact), maxBytes), exact);
    await assert.rejects(readRegularFile(fileOf('over', exact + 'x'), maxBytes), hasCode('EFBIG'));
  });

  it('refuses a file of maxBytes + 1 bytes (EFBIG), and a far larger one', async () => {
    await assert.rejects(
      readRegularFile(fileOf('over', 'x'.repeat(maxBytes + 1)), maxBytes),
      hasCode('EFBIG'),
    );
    await assert.rejects(
      readRegularFile(fileOf('huge', Buffer.alloc(1 << 20, 0x20)), maxBytes),
      hasCode('EFBIG'),
    );
  });

  it('a cap of 0 reads an empty file and refuses one byte', async () => {
    assert.equal(await readRegularFile(fileOf('empty', ''), 0), '');
    await assert.rejects(readRegularFile(fileOf('one', 'x'), 0), hasCode('EFBIG'));
  });

  it('reads a file whose size fstat does not tell (/proc), up to the cap', async function () {
    if (process.platform !== 'linux') this.skip(); // /proc files report size 0
    const f = '/proc/self/cmdline';
    const content = readFileSync(f, 'utf8');
    assert.ok(content.length > 10, 'the command line is not empty');
    assert.equal(await readRegularFile(f, 1 << 16), content);
    await assert.rejects(readRegularFile(f, 4), hasCode('EFBIG'));
  });

  it('undefined for a missing file', async () => {
    assert.equal(await readRegularFile(join(dir, 'missing'), maxBytes), undefined);
  });

  it('never follows a symlink (ELOOP), even to a regular file', async () => {
    const target = fileOf('target', 'secret');
    symlinkSync(target, join(dir, 'link'));
    await assert.rejects(readRegularFile(join(dir, 'link'), maxBytes), hasCode('ELOOP'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    await assert.rejects(readRegularFile(join(dir, 'dangling'), maxBytes), hasCode('ELOOP'));
  });

  it('refuses a FIFO without blocking on it, nor on a folder or a device', async function () {
    if (process.platform === 'win32') this.skip(); // no mkfifo
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await within(assert.rejects(readRegularFile(fifo, maxBytes), hasCode('EFTYPE')), 5_000, 'reading a FIFO');
    mkdirSync(join(dir, 'folder'));
    await assert.rejects(readRegularFile(join(dir, 'folder'), maxBytes), hasCode('EFTYPE'));
    await within(
      assert.rejects(readRegularFile('/dev/zero', maxBytes), hasCode('EFTYPE')),
      5_000,
      'reading /dev/zero',
    );
  });
});
