import { strict as assert } from 'node:assert';
import { InvalidLockNameError, lockPaths, validateLockName } from '../../../src/core/lock';
import { lockNameOfEntry } from '../../../src/core/lock/names';

describe('lock names', () => {
  it('accepts letters, digits, dot, dash and underscore up to 64 characters', () => {
    for (const name of ['test', 'dev', 'ci', 'env-1', 'my_env.2', 'A', 'x'.repeat(64)])
      assert.equal(validateLockName(name), name);
  });

  it('rejects empty, too long, path-like, hidden, trailing-dot and Windows device names with a clear error', () => {
    const bad = [
      '',
      'x'.repeat(65),
      '../etc',
      'a/b',
      'a\\b',
      '.hidden',
      'env.',
      'con',
      'NUL.txt',
      'com1',
      'with space',
      'é',
    ];
    for (const name of bad) {
      assert.throws(
        () => validateLockName(name),
        (err: unknown) => {
          assert.ok(err instanceof InvalidLockNameError, `${name}: ${String(err)}`);
          assert.match(err.message, /^invalid lock name /);
          return true;
        },
      );
    }
  });

  it('keeps the metadata and events as siblings of the lock directory, never inside it', () => {
    const p = lockPaths('/locks', 'test');
    assert.deepEqual(p, {
      target: '/locks/test',
      lockDir: '/locks/test.lock',
      metadata: '/locks/test.json',
      events: '/locks/test.events.jsonl',
      shared: '/locks/test.shared',
      queue: '/locks/test.queue',
    });
  });

  it('maps folder entries back to lock names and ignores temp files, gates and event logs', () => {
    assert.equal(lockNameOfEntry('test.lock'), 'test');
    assert.equal(lockNameOfEntry('dev.json'), 'dev');
    assert.equal(lockNameOfEntry('a.b.lock'), 'a.b');
    assert.equal(lockNameOfEntry('ci.queue'), 'ci');
    for (const e of ['.test.json.123.ab.tmp', 'test.reclaim', 'test.events.jsonl', 'notes.txt', '.lock']) {
      assert.equal(lockNameOfEntry(e), undefined, e);
    }
  });
});
