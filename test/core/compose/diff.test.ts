import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unifiedDiff } from '../../../src/core/compose/diff';

/** Applies a diff with GNU patch: the diff is only right if a standard tool reproduces `after`. */
function patched(before: string, diff: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dstab-diff-'));
  try {
    const file = join(dir, 'f.yml');
    writeFileSync(file, before);
    writeFileSync(join(dir, 'd.patch'), diff);
    execFileSync('patch', ['--quiet', '--force', file, join(dir, 'd.patch')]);
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('unified diff', () => {
  it('is empty for equal texts', () => {
    assert.equal(unifiedDiff('a\n', 'a\n', 'x', 'x'), '');
  });

  it('shows a new file as all additions from /dev/null', () => {
    assert.equal(unifiedDiff('', 'a\nb\n', 'f', 'f'), '--- /dev/null\n+++ f\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  });

  it('keeps 3 lines of context and merges nearby changes into one hunk', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
    const after = before.replace('l5\n', 'l5\nnew\n').replace('l8\n', 'L8\n');
    const d = unifiedDiff(before, after, 'a', 'b');
    assert.equal(d.split('\n').filter((l) => l.startsWith('@@')).length, 1);
    assert.match(d, /^@@ -4,9 \+4,10 @@$/m);
  });

  it('is applied exactly by GNU patch: insertions, removals, replacements, far apart', () => {
    const before = Array.from({ length: 60 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const after = before
      .replace('line 2\n', '')
      .replace('line 30\n', 'line 30\n  added: 1\n')
      .replace('line 58\n', 'changed\n');
    const d = unifiedDiff(before, after, 'f.yml', 'f.yml');
    assert.equal(d.split('\n').filter((l) => l.startsWith('@@')).length, 3);
    assert.equal(patched(before, d), after);
  });

  it('is applied exactly by GNU patch when the whole file changes', () => {
    assert.equal(patched('a\nb\n', unifiedDiff('a\nb\n', 'c\n', 'f', 'f')), 'c\n');
  });
});
