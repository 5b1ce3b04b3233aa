import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockManager } from '../../../src/core/lock';
import {
  ownerFile,
  readGeneration,
  removeGeneration,
  removeUnowned,
} from '../../../src/core/lock/generation';
import { STALE_MS, tempDir } from './helpers';

describe('lock generations (fencing tokens)', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('a reclaimer that judged generation X and stalled removes nothing once Y holds the lock, however long it stalled', async () => {
    const m = new LockManager({ dir, staleMs: STALE_MS });
    const x = await m.acquire('test');
    const lockDir = join(dir, 'test.lock');
    const judged = await readGeneration(lockDir);
    assert.equal(judged.state === 'held' && judged.token, x.token);
    // X goes, Y comes, while the reclaimer is "stalled" between its check and its removal.
    await x.release();
    const y = await m.acquire('test');
    assert.equal(await removeGeneration(lockDir, x.token), false);
    const now = await readGeneration(lockDir);
    assert.equal(now.state === 'held' && now.token, y.token);
    await y.release();
  });

  it('two reclaimers removing the same generation: exactly one does it', async () => {
    const lockDir = join(dir, 'test.lock');
    mkdirSync(lockDir);
    writeFileSync(ownerFile(lockDir, 'x'), '');
    const results = await Promise.all([
      removeGeneration(lockDir, 'x'),
      removeGeneration(lockDir, 'x'),
      removeGeneration(lockDir, 'x'),
    ]);
    assert.deepEqual(results.filter(Boolean).length, 1);
    assert.equal(existsSync(lockDir), false);
  });

  it('a directory a new owner already entered is left in place by the one that removed the old generation', async () => {
    const lockDir = join(dir, 'test.lock');
    mkdirSync(lockDir);
    writeFileSync(ownerFile(lockDir, 'x'), '');
    writeFileSync(ownerFile(lockDir, 'y'), '');
    assert.equal(await removeGeneration(lockDir, 'x'), true);
    assert.deepEqual(readdirSync(lockDir), ['owner-y']);
  });

  it('a symlink planted at the lock path is never listed through or emptied: it is unowned, and removing it removes only the link', async () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'owner-bait'), '');
    writeFileSync(join(elsewhere, 'precious'), '');
    const lockDir = join(dir, 'test.lock');
    symlinkSync(elsewhere, lockDir);
    const gen = await readGeneration(lockDir);
    assert.equal(gen.state, 'unowned');
    if (gen.state === 'unowned') await removeUnowned(lockDir, gen);
    assert.equal(existsSync(lockDir), false);
    assert.deepEqual(readdirSync(elsewhere).sort(), ['owner-bait', 'precious']);
  });
});
