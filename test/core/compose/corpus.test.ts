// The corpus: every compose fixture of the project (test/fixtures/compose, including the
// synthetic ones written for issue 14's patterns: merge keys, extends, interpolation, legacy
// format). For each file: no internal error, every finding's position matches its offsets, and
// where compose accepts the file, apply + `compose config` keeps every value the user set.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  checkCompose,
  planApply,
  readComposeText,
  runCompose,
  validateWithCompose,
  writeApply,
} from '../../../src/core/compose/index';
import { at, FIXTURES, fixtureNames, leaves } from './fixtures';

/** 1-based line and column of an offset, counted here independently of the parser. */
function position(text: string, offset: number): [number, number] {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return [line, offset - (before.lastIndexOf('\n') + 1) + 1];
}

describe('compose corpus (every fixture)', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dstab-compose-corpus-'));
    cpSync(FIXTURES, dir, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('no internal error, and every finding sits where its offsets say', () => {
    for (const name of fixtureNames()) {
      const text = readFileSync(join(FIXTURES, name), 'utf8');
      for (const f of checkCompose(text, join(dir, name), { readFile: (p) => readComposeText(p) })) {
        assert.doesNotMatch(f.message, /internal error/, `${name}: ${f.message}`);
        assert.deepEqual([f.line, f.column], position(text, f.offset), `${name} ${f.rule} start`);
        assert.deepEqual([f.endLine, f.endColumn], position(text, f.endOffset), `${name} ${f.rule} end`);
      }
    }
  });

  it('apply + compose config succeeds on every file compose accepts, keeping every value the user set', async () => {
    const applied: string[] = [];
    for (const name of fixtureNames()) {
      const file = join(dir, name);
      if (!(await validateWithCompose([file])).ok) continue;
      let plan;
      try {
        plan = await planApply(file, { env: {} });
      } catch (err) {
        // The refusals are their own tests (legacy format, several documents, ...): they must say why.
        assert.match(
          (err as Error).message,
          /legacy version 1 format|YAML documents|not a mapping|services/,
          name,
        );
        continue;
      }
      await writeApply(plan);
      const config = async (files: string[]): Promise<Record<string, unknown>> => {
        const r = await runCompose(files, ['config']);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        return (parse(r.stdout) as { services: Record<string, unknown> }).services;
      };
      const user = await config(plan.files.filter((f) => f !== plan.targetFile));
      const merged = await config(plan.files);
      for (const [svc, value] of Object.entries(user)) {
        for (const [path, v] of leaves(value))
          assert.deepEqual(at(merged[svc], path), v, `${name}: ${svc}.${path} kept`);
      }
      applied.push(name);
    }
    assert.ok(applied.length >= 8, `apply ran on ${applied.join(', ')}`);
  });
});
