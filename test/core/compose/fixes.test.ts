import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFix, checkCompose, validateWithCompose, type Finding } from '../../../src/core/compose/index';
import { parseCompose } from '../../../src/core/compose/model';
import { FIXTURES, fixtureNames, readFixture } from './fixtures';

const readFile = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);
/** Splits findings into groups whose fixes touch disjoint ranges (insertions at one offset count as touching: their order would matter). */
function groups(findings: Finding[]): Finding[][] {
  const out: Finding[][] = [];
  const overlaps = (a: Finding, b: Finding): boolean =>
    (a.fix?.edits ?? []).some((x) =>
      (b.fix?.edits ?? []).some((y) => x.offset <= y.offset + y.length && y.offset <= x.offset + x.length),
    );
  for (const f of findings) {
    const home = out.find((g) => g.every((o) => !overlaps(o, f)));
    if (home) home.push(f);
    else out.push([f]);
  }
  return out;
}

/** Rules whose findings mean compose refuses the file as it is (the fixtures check that claim below). */
const REJECTED_BY_COMPOSE = [
  'yaml-syntax',
  'compose-structure',
  'multi-document',
  'unknown-key',
  'interpolation-syntax',
];

const same = (a: Finding, b: Finding): boolean =>
  a.rule === b.rule && a.service === b.service && a.message === b.message;

describe('compose rule fixes', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    // A copy, so fixed files sit next to the files they extend (relative paths keep their meaning).
    dir = mkdtempSync(join(tmpdir(), 'dstab-compose-fixes-'));
    cpSync(FIXTURES, dir, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const withFixes = fixtureNames().filter((n) =>
    checkCompose(readFixture(n), join(FIXTURES, n), { readFile }).some((f) => f.fix),
  );
  for (const name of withFixes) {
    it(`${name}: each fix removes its finding, adds none, keeps the YAML valid and (when the file was valid) passes compose config`, async () => {
      const path = join(dir, name);
      const text = readFixture(name);
      const findings = checkCompose(text, path, { readFile });
      const withFix = findings.filter((f) => f.fix);
      const failures: string[] = [];
      for (const f of withFix) {
        const fixed = applyFix(text, f.fix as NonNullable<Finding['fix']>);
        const parsed = parseCompose(fixed);
        assert.deepEqual(
          parsed.documents.flatMap((d) => d.doc.errors.map((e) => e.message)),
          [],
          `${f.rule} fix keeps valid YAML`,
        );
        const after = checkCompose(fixed, path, { readFile });
        if (after.some((a) => same(a, f)))
          failures.push(`${f.rule} (${f.message}) still reported after its fix`);
        const added = after.filter((a) => !findings.some((b) => same(a, b)));
        if (added.length > 0) failures.push(`${f.rule} fix added ${added.map((a) => a.rule).join(', ')}`);
      }
      // compose itself, for files it accepts as they are: one run per group of fixes whose edits do not overlap (a compose run
      // costs seconds here), every fix in exactly one group.
      if (!findings.some((f) => REJECTED_BY_COMPOSE.includes(f.rule))) {
        for (const [i, group] of groups(withFix).entries()) {
          const candidate = join(dir, `.fixed-${i}-${name}`);
          writeFileSync(candidate, applyFix(text, { edits: group.flatMap((f) => f.fix?.edits ?? []) }));
          const v = await validateWithCompose([candidate]);
          if (!v.ok)
            failures.push(`fixes ${group.map((f) => f.rule).join(', ')} do not validate: ${v.error}`);
        }
      }
      assert.deepEqual(failures, []);
    });
  }

  it('the fixtures exercise fixes of every fixable rule', () => {
    const rules = new Set(
      fixtureNames().flatMap((n) =>
        checkCompose(readFixture(n), join(FIXTURES, n), { readFile })
          .filter((f) => f.fix)
          .map((f) => f.rule),
      ),
    );
    const fixable = [
      'unknown-key',
      'tmpfs',
      'resource-limits',
      'limits-below-reservations',
      'healthcheck',
      'log-rotation',
      'restart-in-test',
      'postgres-durability',
      'postgres-shared-buffers',
      'fixed-container-name',
      'fixed-host-port',
    ];
    assert.deepEqual(
      fixable.filter((r) => !rules.has(r)),
      [],
    );
  });

  it('compose refuses exactly the fixtures whose findings say it will', async () => {
    for (const name of fixtureNames()) {
      const findings = checkCompose(readFixture(name), join(dir, name), { readFile });
      const predicted = !findings.some((f) => REJECTED_BY_COMPOSE.includes(f.rule));
      assert.equal((await validateWithCompose([join(dir, name)])).ok, predicted, name);
    }
  });

  it('a fix inserted into a CRLF file uses CRLF line endings', () => {
    const text = 'services:\r\n  web:\r\n    image: redis:7\r\n';
    const hc = checkCompose(text, 'docker-compose.yml').find((f) => f.rule === 'healthcheck');
    const fixed = applyFix(text, hc?.fix as NonNullable<Finding['fix']>);
    assert.ok(!/[^\r]\n/.test(fixed), fixed);
    assert.ok(fixed.includes('      test:\r\n'));
  });

  it('a fix keeps comments and every untouched byte', () => {
    const text = readFixture('wordpress.yml');
    const f = checkCompose(text, 'wordpress.yml').find(
      (x) => x.rule === 'resource-limits' && x.service === 'db',
    ) as Finding;
    const fixed = applyFix(text, f.fix as NonNullable<Finding['fix']>);
    const edit = f.fix?.edits[0];
    assert.ok(edit && edit.length === 0);
    assert.equal(fixed.slice(0, edit.offset) + fixed.slice(edit.offset + edit.newText.length), text);
  });

  it('applyFix refuses overlapping edits', () => {
    assert.throws(
      () =>
        applyFix('abcdef', {
          edits: [
            { offset: 1, length: 3, newText: 'x' },
            { offset: 2, length: 1, newText: 'y' },
          ],
        }),
      /overlapping/,
    );
  });
});
